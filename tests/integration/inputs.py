"""inputs.py - hostile and malformed input never gets a 500, and every error
is a problem document: query parameters checked by the route table, dates
parsed one way, RFC 6901 pointers, idempotent replays, and the protocol
errors libmicrohttpd meets before a request reaches a handler.  Cases run
alone by name: python3 tests/integration/inputs.py dates"""
import gzip
import re
import socket
import subprocess
import time
import uuid

from cases import case, fixture, run
from harness import (COHORTD, PW, Cohortd, Postgres, daemon_env, raw_http,
                     setup_tenant, status_of)


def param_problem(r, name):
    """422 problem+json whose errors name the query parameter."""
    return (r.is_problem(422) and
            any(e.get("parameter") == name for e in r.json.get("errors", [])))


def pointers(r):
    """The pointers of a 422's errors ([] when it has none)."""
    try:
        return [e.get("pointer") for e in r.json.get("errors", [])]
    except (ValueError, AttributeError):
        return []


def raw_problem(raw, status):
    """A raw answer: this status, problem+json, the RFC 7807 members."""
    import json
    head, _, body = raw.partition(b"\r\n\r\n")
    if status_of(raw) != status:
        return False
    if b"content-type: application/problem+json" not in head.lower():
        return False
    try:
        j = json.loads(body)
    except ValueError:
        return False
    return j.get("status") == status and "title" in j and "type" in j


@fixture
def daemon():
    """The daemon (a 2 s header timeout, two CORS origins) and tenant
    acme's admin."""
    pg = Postgres()
    dbname = pg.new_database()
    d = Cohortd(pg.url(dbname), env={
        "COHORTD_CONNECTION_TIMEOUT": "30", "COHORTD_HEADER_TIMEOUT": "2",
        "COHORTD_CORS_ORIGINS": "https://app.example.com, "
                                "http://localhost:3000"})
    d.database_url = pg.url(dbname)
    return d, setup_tenant(d, "acme")


@case
def query(t):
    d, adm = daemon()
    a = d.admin()
    for path, name in (("/v1/programs?status=%ff", "status"),
                       ("/v1/users?email=%ff", "email"),
                       ("/v1/audit-events?object_type=%ff", "object_type"),
                       ("/v1/audit-events?object_id=%ff", "object_id"),
                       ("/v1/programs?status=%c3%28", "status"),
                       ("/v1/programs?st%ffatus=draft", None)):
        r = adm.get(path)
        t.ok(r.is_problem(422) and (name is None or param_problem(r, name)),
             "invalid UTF-8 in %s: 422 naming the parameter" % path, r)
    r = adm.get("/v1/programs?bogus=1")
    t.ok(param_problem(r, "bogus"), "an unknown parameter: 422", r)
    r = adm.get("/v1/programs?status=nope")
    t.ok(param_problem(r, "status") and "draft" in r.body.decode(),
         "a bad enum value: 422 listing the choices", r)
    r = adm.get("/v1/programs?status=draft&status=published")
    t.ok(param_problem(r, "status"), "a parameter given twice: 422", r)
    r = adm.get("/v1/programs?status=draft")
    t.ok(r.status == 200, "a good enum value passes", r)
    r = adm.get("/v1/users?role=wizard")
    t.ok(param_problem(r, "role"), "a bad role: 422", r)
    r = adm.get("/v1/users?limit=abc")
    t.ok(param_problem(r, "limit"), "a limit that is no number: 422", r)
    r = adm.get("/v1/users?limit=501")
    t.ok(param_problem(r, "limit"), "a limit over 500: 422", r)
    r = adm.get("/v1/users?limit=2&email=adm")
    t.ok(r.status == 200, "known parameters pass", r)
    r = adm.get("/v1/cohorts?program_id=nope")
    t.ok(param_problem(r, "program_id"), "an id that is no id: 422", r)
    r = adm.get("/healthz?x=1")
    t.ok(param_problem(r, "x"), "a route without parameters refuses one", r)
    for f in ("xlsx", "%ff", ""):
        r = adm.get("/v1/reports/seats?format=" + f)
        t.ok(param_problem(r, "format"), "report ?format=%s: 422" % f, r)
    r = adm.get("/v1/reports/seats?format=csv")
    t.ok(r.status == 200 and r.header("content-type").startswith("text/csv"),
         "report ?format=csv still works", r)
    r = adm.get("/v1/reports/seats?format=json")
    t.ok(r.status == 200, "report ?format=json still works", r)


@case
def dates(t):
    adm = daemon()[1]
    r = adm.post("/v1/programs", {"title": "Dates"})
    prog = r.json["id"]
    good = {"program_id": prog, "name": "C1",
            "starts_at": "2026-01-05T09:00:00Z",
            "ends_at": "2026-03-05T09:00:00+01:00"}
    r = adm.post("/v1/cohorts", good)
    t.ok(r.status == 201, "a cohort with good dates", r)
    cid = r.json["id"]
    for field in ("starts_at", "ends_at"):
        for bad in ("2026-13-45T00:00:00Z", "2026-02-30T00:00:00Z",
                    "2026-01-01T24:00:00Z", "2026-01-01T10:61:00Z",
                    "2026-01-01T10:00:00+25:00", "2026-01-01T10:00:00",
                    "2025-02-29T10:00:00Z", "20260-01-01T00:00:00Z"):
            r = adm.patch("/v1/cohorts/" + cid, {field: bad})
            t.ok(r.is_problem(422) and pointers(r) == ["/" + field], "PATCH %s %s: 422 at /%s" % (field, bad, field),
                 r)
            body = dict(good)
            body[field] = bad
            r = adm.post("/v1/cohorts", body)
            t.ok(r.is_problem(422) and pointers(r) == ["/" + field], "POST %s %s: 422 at /%s" % (field, bad, field),
                 r)
    r = adm.patch("/v1/cohorts/" + cid, {"starts_at": "2024-02-29T10:00:00.5Z"})
    t.ok(r.status == 200, "a leap day with a fraction is a date", r)
    r = adm.post("/v1/assessments/%s/extensions" % uuid.uuid4(),
                 {"user_id": str(uuid.uuid4()), "cohort_id": cid,
                  "due_at": "2026-13-45T00:00:00Z"})
    t.ok(r.is_problem(422) and pointers(r) == ["/due_at"],
         "an extension's impossible due_at: 422", r)


@case
def bodies(t):
    adm = daemon()[1]
    r = adm.post("/v1/programs", {"title": "P", "a/b~c": 1})
    t.ok(r.is_problem(422) and pointers(r) == ["/a~1b~0c"],
         "pointers are escaped as RFC 6901 says", r)
    key = {"Idempotency-Key": "inputs-replay-1"}
    r1 = adm.post("/v1/programs", {"title": "Once"}, headers=key)
    r2 = adm.post("/v1/programs", {"title": "Once"}, headers=key)
    t.ok(r1.status == 201 and r1.header("etag"), "the original has an ETag",
         r1.headers)
    t.ok(r2.status == 201 and r2.header("idempotent-replayed") == "true" and
         r2.header("etag") == r1.header("etag") and
         r2.header("location") == r1.header("location") and
         r2.body == r1.body, "a replay has the original's ETag and Location",
         (r1.headers, r2.headers))


@case
def protocol(t):
    d = daemon()[0]
    port = d.port
    cases = [
        (b"GARBAGE\r\n\r\n", 400, "a request line with no URI"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400,
         "a header line without a colon"),
        (b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0 text"),
        (b"GET /healthz HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host"),
        (b"GET /healthz?" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         414, "a 20 KB URI"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         414, "a 9 KB path"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
         b"\r\n", 413, "an announced body over the limit"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(40)) +
         b"\r\n", 431, "40 KB of headers"),
    ]
    cases += [
        (b"GET /healthz?" + b"a" * 300000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         414, "a 300 KB URI (past libmicrohttpd's own limit)"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 300000 +
         b"\r\n\r\n", 431, "a 300 KB header (past libmicrohttpd's own limit)"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400,
         "an obsolete folded header line"),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400,
         "a control character in a header value"),
        (b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n", 400,
         "a space in a header name"),
        (b"GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400,
         "two spaces in the request line"),
        (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "bare LF line ends"),
        (b"GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n", 505, "HTTP/3.0"),
        (b"GET /healthz FTP/1.1\r\nHost: x\r\n\r\n", 400, "not HTTP"),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
         400, "a TLS ClientHello"),
    ]
    for data, status, name in cases:
        raw = raw_http(port, data, timeout=5)
        t.ok(raw_problem(raw, status), "%s: %d problem+json" % (name, status),
             raw[:400])
    # A head in pieces is waited for; two pipelined requests both answered.
    s = raw_http(port, b"GET /healthz HT", read=False)
    time.sleep(0.3)
    s.sendall(b"TP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n"
              b"Host: x\r\nConnection: close\r\n\r\n")
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    t.eq(out.count(b'{"status":"ok"}'), 2,
         "a head sent in pieces, then a pipelined one: both answered")
    # A head cut short by the client's half-close: answered at once.
    s = raw_http(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", read=False)
    s.shutdown(socket.SHUT_WR)
    start = time.time()
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    t.ok(raw_problem(out, 400) and time.time() - start < 1.5,
         "a head cut short by a half-close: 400 at once", out[:300])
    # NUL bytes: an answer or a closed connection, well before the timeout.
    s = socket.create_connection(("127.0.0.1", port), timeout=8)
    start = time.time()
    out = b""
    try:
        s.sendall(b"\0" * 64)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    s.close()
    took = time.time() - start
    t.ok(took < 4 and (out == b"" or raw_problem(out, 400)),
         "a request of NUL bytes is answered 400 or closed at once",
         "%.1f s: %r" % (took, out[:200]))
    r = d.client().get("/healthz")
    t.ok(r.status == 200, "the daemon still answers", r)


@case
def headers(t):
    """RateLimit on the throttled route; CORS for configured origins."""
    d = daemon()[0]
    c = d.client()
    r = c.post("/v1/auth/login", {"tenant": "acme", "email":
                                  "admin@acme.test", "password": "wrong"})
    t.ok(r.is_problem(401) and r.header("ratelimit-policy") ==
         '"account";q=5;w=900, "address";q=50;w=900' and
         re.match(r'^"account";r=4;t=\d+$', r.header("ratelimit") or ""),
         "a failed login says how many tries are left", r.headers)
    r = c.post("/v1/auth/login", {"tenant": "acme", "email":
                                  "admin@acme.test", "password": PW})
    t.ok(r.status == 200 and re.match(r'^"account";r=5;t=900$',
                                      r.header("ratelimit") or ""),
         "a good login starts the account afresh", r.headers)
    app = "https://app.example.com"
    r = c.get("/healthz", headers={"Origin": app})
    t.ok(r.header("access-control-allow-origin") == app and
         "Origin" in (r.header("vary") or "") and
         "ETag" in (r.header("access-control-expose-headers") or ""),
         "a configured origin is allowed", r.headers)
    r = c.get("/healthz", headers={"Origin": "https://evil.example"})
    t.ok(r.header("access-control-allow-origin") is None and
         "Origin" in (r.header("vary") or ""),
         "another origin is not", r.headers)
    r = c.request("OPTIONS", "/v1/programs", headers={
        "Origin": app, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    t.ok(r.status == 204 and r.header("access-control-allow-origin") == app
         and "PATCH" in (r.header("access-control-allow-methods") or "") and
         "Idempotency-Key" in (r.header("access-control-allow-headers") or "")
         and r.header("allow") == "GET, HEAD, POST",
         "a preflight is answered 204 with the methods and headers", r.headers)
    r = c.request("OPTIONS", "/v1/no-such-thing", headers={"Origin": app})
    t.ok(r.is_problem(404), "OPTIONS on no route: 404", r)
    plain = c.get("/v1/openapi.json")
    r = c.get("/v1/openapi.json", headers={"Accept-Encoding": "br, gzip"})
    t.ok(r.status == 200 and r.header("content-encoding") == "gzip" and
         "Accept-Encoding" in (r.header("vary") or "") and
         gzip.decompress(r.body) == plain.body and
         len(r.body) < len(plain.body) / 3,
         "large JSON is gzipped when asked for", r.headers)
    r = c.get("/v1/openapi.json", headers={"Accept-Encoding": "gzip;q=0"})
    t.ok(r.header("content-encoding") is None and r.body == plain.body,
         "gzip;q=0 is respected", r.headers)
    r = c.get("/healthz", headers={"Accept-Encoding": "gzip"})
    t.ok(r.header("content-encoding") is None, "small bodies are left alone",
         r.headers)
    e = daemon_env({"COHORTD_CORS_ORIGINS": "app.example.com/x",
                    "COHORTD_LISTEN": "127.0.0.1:0",
                    "COHORTD_STATE_DIR": d.state_dir,
                    "COHORTD_DATABASE_URL": d.database_url})
    p = subprocess.run([COHORTD], env=e, capture_output=True, text=True,
                       timeout=60)
    t.ok(p.returncode != 0 and "COHORTD_CORS_ORIGINS" in p.stderr,
         "an origin that is not one stops startup", p.stderr[-300:])


@case
def no_5xx(t):
    """Of every request the cases before it sent."""
    d = daemon()[0]
    t.ok(not any(o.get("status", 0) >= 500 for o in d.lines
                 if o.get("msg") == "request"), "no request answered 5xx",
         [o for o in d.lines if o.get("status", 0) >= 500][:5])


if __name__ == "__main__":
    run()
