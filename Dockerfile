# Dockerfile - cohortd in two stages on Debian bookworm.
#
# The runtime image carries gcc and python3 (grading compiles and runs
# learners' code inside the sandbox) and the PostgreSQL server binaries, so
# the embedded-database default works in the container too;
# docker-compose.yml shows the external-database setup instead.
#
# cohortd runs as root in the container: the graders' sandbox makes user,
# PID, mount and network namespaces, its own cgroups and real-time runs.
# Run the container privileged (docker run --privileged --cgroupns=private)
# or with SYS_ADMIN and unconfined seccomp and AppArmor; the README says
# more.  An API-only container (COHORTD_ROLE=api) needs none of it.

FROM debian:bookworm AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends build-essential autoconf automake pkg-config \
        libmicrohttpd-dev libpq-dev libsodium-dev libseccomp-dev \
        libjansson-dev zlib1g-dev libcurl4-openssl-dev check ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi && ./configure --prefix=/usr --enable-werror \
    && make -j"$(nproc)" && make install DESTDIR=/out

FROM debian:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends libmicrohttpd12 libpq5 libsodium23 \
        libseccomp2 libjansson4 zlib1g libcurl4 gcc libc6-dev python3 postgresql-15 curl \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/cohortd && chmod 0755 /var/lib/cohortd
COPY --from=build /out/usr/ /usr/
ENV COHORTD_LISTEN=0.0.0.0:8080 \
    COHORTD_STATE_DIR=/var/lib/cohortd/state \
    COHORTD_PG_BINDIR=/usr/lib/postgresql/15/bin
VOLUME /var/lib/cohortd
EXPOSE 8080
# Ready: the database answers and, with graders here, the sandbox can run.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
    CMD curl -fsS http://127.0.0.1:8080/readyz || exit 1
# The whole shutdown takes at most COHORTD_SHUTDOWN_GRACE (5 s) + 5 s:
# give it more than docker stop's default 10 s (docker stop -t 15).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/cohortd"]
