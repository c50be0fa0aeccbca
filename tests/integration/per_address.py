"""per_address.py - one client address cannot take the listener.

One address (127.0.0.2) opens twice the connection limit and trickles
request heads on them: beyond COHORTD_MAX_CONNECTIONS_PER_ADDRESS each is
answered 429 (problem+json, Retry-After) at once, and another address's
requests are answered meanwhile.  Closing them gives the address its
places back.  A burst of whole heads on kept-alive connections is capped
alike.  A trusted proxy (127.0.0.3) carries many clients and is not
capped.  Cases run alone by name: python3 tests/integration/per_address.py
burst"""
import socket
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres

LIMIT = 128             # COHORTD_MAX_CONNECTIONS
CAP = 16                # COHORTD_MAX_CONNECTIONS_PER_ADDRESS


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def answer(s, timeout=10):
    """The first bytes the server sends (b"" if it closed silently)."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def status(data):
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def refused_now(s):
    """Answered 429 without having sent anything."""
    return status(answer(s, 5)) == 429


def get(port, src, path):
    s = connect(port, src)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        return status(answer(s))
    finally:
        s.close()


def served_again(port, src, timeout=30):
    """The status of /healthz from src once it is 200, or the time is up."""
    deadline = time.time() + timeout
    code = None
    while time.time() < deadline:
        code = get(port, src, "/healthz")
        if code == 200:
            break
        time.sleep(0.2)
    return code


@fixture
def daemon():
    pg = Postgres()
    db = pg.new_database()
    return Cohortd(pg.url(db), env={
        "COHORTD_MAX_CONNECTIONS": str(LIMIT),
        "COHORTD_MAX_CONNECTIONS_PER_ADDRESS": str(CAP),
        "COHORTD_HEADER_TIMEOUT": "60",
        "COHORTD_TRUSTED_PROXIES": "127.0.0.3"})


@fixture
def crowd():
    """Twice the limit from one address, each with half a head: the
    connections (held, left open) and how many were answered 429 at once
    (refused)."""
    port = daemon().port
    held, refused = [], 0
    for i in range(2 * LIMIT):
        s = connect(port, "127.0.0.2")
        held.append(s)
        if i >= CAP:
            refused += refused_now(s)
        else:
            s.sendall(b"GET /healthz HTTP/1.1\r\nX-Slow: ")
    return types.SimpleNamespace(held=held, refused=refused)


@case
def capped(t):
    # Twice the limit from one address, each with half a head.
    port = daemon().port
    refused = crowd().refused
    t.eq(refused, 2 * LIMIT - CAP, "past %d connections from one address, "
         "each new one is answered 429 at once" % CAP)
    s = connect(port, "127.0.0.2")
    data = answer(s, 5)
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    t.ok(status(data) == 429 and b"application/problem+json" in head and
         b"Retry-After" in head, "as a problem document with Retry-After",
         data[:300])


@case
def others_served(t):
    # Meanwhile another address is served.
    port = daemon().port
    crowd()
    t0 = time.time()
    codes = [get(port, "127.0.0.1", "/healthz") for _ in range(20)]
    t.ok(codes == [200] * 20, "another address's requests are answered "
         "while the first holds its connections", (codes, time.time() - t0))


@case
def places_back(t):
    # After capped and others_served: it closes the crowd's connections.
    # Its places back once it closes them.
    port = daemon().port
    for s in crowd().held:
        s.close()
    code = served_again(port, "127.0.0.2")
    t.eq(code, 200, "closing them gives the address its places back")


@case
def burst(t):
    # A burst of whole heads on kept-alive connections is counted too:
    # each is libmicrohttpd's before it says so.
    port = daemon().port
    burst = []
    for _ in range(CAP * 4):
        s = connect(port, "127.0.0.2")
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        burst.append(s)
    codes = [status(answer(s)) for s in burst]
    served = codes.count(200)
    t.ok(served <= CAP and codes.count(429) >= len(burst) - CAP,
         "a burst of %d kept-alive requests from one address: at most %d "
         "served, the rest 429" % (len(burst), CAP),
         (served, codes.count(429), codes))
    for s in burst:
        s.close()
    code = served_again(port, "127.0.0.2")
    t.eq(code, 200, "and once they close, the address is served again")


@case
def proxy(t):
    # Last: it stops the daemon.
    # A trusted proxy is not capped.
    d = daemon()
    port = d.port
    proxied = [connect(port, "127.0.0.3") for _ in range(CAP * 2)]
    for s in proxied:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
    codes = [status(answer(s)) for s in proxied]
    for s in proxied:
        s.close()
    t.ok(codes == [200] * len(proxied), "a trusted proxy's %d connections "
         "are all served" % len(proxied), codes)
    d.stop()


run()
