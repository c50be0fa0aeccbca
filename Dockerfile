# Dockerfile - cohortd in two stages on Debian bookworm.
#
# The runtime image carries gcc (grading compiles learners' code inside the
# sandbox) and the PostgreSQL server binaries, so the embedded-database
# default works in the container too; docker-compose.yml shows the
# external-database setup instead.

FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends build-essential autoconf automake pkg-config \
        libmicrohttpd-dev libpq-dev libsodium-dev libseccomp-dev \
        libjansson-dev zlib1g-dev check ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi && ./configure --prefix=/usr --enable-werror \
    && make -j"$(nproc)" && make install DESTDIR=/out

FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libmicrohttpd12 libpq5 libsodium23 \
        libseccomp2 libjansson4 zlib1g gcc libc6-dev postgresql-15 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/cohortd --create-home \
        --shell /usr/sbin/nologin cohortd
COPY --from=build /out/usr/ /usr/
USER cohortd
ENV COHORTD_LISTEN=0.0.0.0:8080 \
    COHORTD_STATE_DIR=/var/lib/cohortd/state \
    COHORTD_PG_BINDIR=/usr/lib/postgresql/15/bin
VOLUME /var/lib/cohortd
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/bin/cohortd"]
