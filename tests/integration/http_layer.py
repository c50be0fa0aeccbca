"""http_layer.py - the HTTP conventions every route gets from the layer:
problem+json for each error class, body limit, request ids, health,
readiness, metrics and the OpenAPI document.  Cases run alone by name:
python3 tests/integration/http_layer.py metrics"""
import os
import re
import subprocess
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, raw_http, status_of


@fixture
def world():
    """The cluster and a daemon with a 64K body limit; an anonymous client
    (c) and the platform admin (a)."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.dbname = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.dbname), env={"COHORTD_BODY_LIMIT": "64K"})
    w.c = w.d.client()
    w.a = w.d.admin()
    return w


@case
def health(t):
    c = world().c
    r = c.get("/healthz")
    t.ok(r.status == 200 and r.json == {"status": "ok"}, "healthz is 200", r)
    r = c.get("/readyz")
    t.ok(r.status == 200 and r.json["status"] == "ready", "readyz is 200", r)
    sb = r.json.get("sandbox") or {}
    if os.geteuid() == 0:
        t.ok(sb.get("ready") is True and sb.get("missing") == [] and
             sb.get("cgroup") in ("v1", "v2"),
             "readyz reports the sandbox's mechanisms in force", sb)
    else:
        t.ok(sb.get("ready") is False and "root" in sb.get("reason", ""),
             "readyz says why the sandbox cannot run here", sb)


@case
def problems(t):
    w = world()
    d, c = w.d, w.c
    # Every error class is an RFC 9457 problem document.
    r = c.get("/v1/no-such-thing")
    t.ok(r.is_problem(404), "unknown route: 404 problem+json", r)
    r = c.get("/healthz/")
    t.ok(r.is_problem(404), "trailing slash: 404 problem+json", r)
    r = c.post("/healthz", {})
    t.ok(r.is_problem(405) and r.header("allow") == "GET, HEAD",
         "wrong method: 405 with Allow", (r, r.headers))
    for path in ("/v1/users/%FF", "/v1/x%0Ay", "/healthz%C3"):
        r = c.get(path)
        t.ok(r.is_problem(400) and "instance" not in r.json,
             "a path that is not UTF-8 text (%s): 400 problem+json" % path, r)
    r = c.request("BREW", "/healthz")
    t.ok(r.status in (400, 501) and r.header("content-type") ==
         "application/problem+json", "unknown method: problem+json", r)

    r = c.get("/v1/tenants")
    t.ok(r.is_problem(401) and r.header("www-authenticate") == "Bearer",
         "no token: 401 with WWW-Authenticate", r)
    r = d.client("not-a-valid-token-at-all-0000").get("/v1/tenants")
    t.ok(r.is_problem(401), "wrong token: 401", r)


@case
def bodies(t):
    a = world().a
    r = a.post("/v1/tenants", raw=b'{"slug": "acme", ', ctype="application/json")
    t.ok(r.is_problem(400) and "line" in r.json["detail"],
         "malformed JSON: 400 saying where", r)
    r = a.post("/v1/tenants", raw=b'{"slug":"a","slug":"b"}')
    t.ok(r.is_problem(400), "duplicate JSON keys: 400", r)
    r = a.post("/v1/tenants", raw=b"slug=acme",
               ctype="application/x-www-form-urlencoded")
    t.ok(r.is_problem(415), "wrong content type: 415", r)
    r = a.post("/v1/tenants", raw=b'{"slug":"acme"}', ctype=None)
    t.ok(r.is_problem(415), "missing content type: 415", r)
    r = a.post("/v1/tenants", raw=b'{}',
               ctype="application/json; charset=utf-8")
    t.ok(r.status != 415, "content type parameters are accepted", r)


@case
def body_limit(t):
    w = world()
    d, a = w.d, w.a
    # Body limit: announced (Content-Length) and streamed (chunked).
    big = b'{"x":"' + b"a" * (70 * 1024) + b'"}'
    r = a.post("/v1/tenants", raw=big)
    t.ok(r.is_problem(413), "announced body over the limit: 413", r)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(big[i:i + 8192]), big[i:i + 8192])
                      for i in range(0, len(big), 8192)) + b"0\r\n\r\n"
    raw = raw_http(d.port, b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\n"
                   b"Authorization: Bearer " + d.token.encode() +
                   b"\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    t.eq(status_of(raw), 413, "chunked body over the limit: 413")
    ok_body = b'{"x":"' + b"a" * (60 * 1024) + b'"}'
    r = a.post("/v1/tenants", raw=ok_body)
    t.ok(r.status == 422, "a body under the limit reaches the handler", r)


@case
def request_ids(t):
    c = world().c
    # Request ids: echoed when sane, generated otherwise.
    r = c.get("/healthz", headers={"X-Request-Id": "abc-123.XYZ"})
    t.eq(r.header("x-request-id"), "abc-123.XYZ", "X-Request-Id is echoed")
    r = c.get("/healthz", headers={"X-Request-Id": "bad id\x7f"})
    rid = r.header("x-request-id")
    t.ok(rid and re.fullmatch(r"[0-9a-f]{24}", rid) and "bad" not in rid,
         "an unusable X-Request-Id is replaced", rid)
    r2 = c.get("/healthz")
    t.ok(r2.header("x-request-id") != rid, "generated ids differ")


@case
def request_log(t):
    w = world()
    d, c = w.d, w.c
    # One JSON log line per request, with method, route, status, duration.
    c.get("/readyz", headers={"X-Request-Id": "log-probe-1"})
    line = d.wait_for(lambda o: o.get("request_id") == "log-probe-1"
                      and o.get("msg") == "request", 5)
    t.ok(line and line["method"] == "GET" and line["route"] == "/readyz"
         and line["status"] == 200 and isinstance(line["duration_ms"], float),
         "request log line carries method, route, status, duration", line)
    # Whatever the path holds, the line is JSON that says it.
    c.get("/v1/a%22b%5Cc%09%C3%A9%FF", headers={"X-Request-Id": "log-probe-2"})
    line = d.wait_for(lambda o: o.get("request_id") == "log-probe-2"
                      and o.get("msg") == "request", 5)
    t.ok(line and line["path"] == "/v1/a\"b\\c\t\u00e9\ufffd" and
         line["status"] == 400,
         "a path of quotes, controls and bad bytes is logged as JSON", line)


@case
def keep_alive(t):
    d = world().d
    # Keep-alive: several requests over one connection.
    raw = raw_http(d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    t.eq(raw.count(b"HTTP/1.1 200"), 2, "two requests answered on one connection")


@case
def metrics(t):
    c = world().c
    # The requests the metrics below count, made here so that the
    # case stands alone.
    c.get("/healthz")
    c.get("/readyz")
    c.get("/v1/no-such-thing")
    # Metrics: requests by route and status, latency histogram, pool gauges.
    m = c.get("/metrics")
    text = m.body.decode()
    t.ok(m.status == 200 and m.header("content-type").startswith("text/plain"),
         "metrics is Prometheus text", m)
    t.ok(re.search(r'cohortd_http_requests_total\{method="GET",route="/healthz",'
                   r'status="200"\} [1-9]', text) is not None,
         "metrics count requests by route and status")
    t.ok('cohortd_http_requests_total{method="",route="unmatched",status="404"}'
         in text, "metrics count unmatched requests")
    t.ok(re.search(r'cohortd_http_request_duration_seconds_bucket\{method="GET",'
                   r'route="/readyz",le="\+Inf"\} [1-9]', text) is not None,
         "metrics carry a latency histogram")
    t.ok(re.search(r'cohortd_db_pool_connections\{state="idle"\} \d+', text)
         and re.search(r'cohortd_db_pool_connections\{state="in_use"\} \d+',
                       text), "metrics show the pool's in-use and idle")


@case
def openapi(t):
    c = world().c
    # The OpenAPI document is served and is OpenAPI 3.
    r = c.get("/v1/openapi.json")
    t.ok(r.status == 200 and r.json.get("openapi", "").startswith("3.")
         and "/readyz" in r.json["paths"], "OpenAPI 3 document served", r)


@case
def schema_behind(t):
    # After every case on the file's daemon: it puts the schema behind
    # the binary and stops the daemon.
    w = world()
    pg, dbname, d, c = w.pg, w.dbname, w.d, w.c
    # readyz goes 503 when the schema is behind the binary.  An answer is
    # reused for at most 10 ms (health.c), and a change to
    # schema_migrations notifies the check's connection so that it is not
    # reused past the change: probes sent from 50 ms after the change on
    # (10 ms plus a check's own time, with room for a busy host) are all
    # 503.  The change comes from a session already open, with probes
    # running before it and after.
    sql = subprocess.Popen([os.path.join(pg.bindir, "psql"), "-X", "-q",
                            "-At", "-d", pg.url(dbname)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
    sql.stdin.write("SELECT 'connected';\n")
    sql.stdin.flush()
    sql.stdout.readline()
    before = c.get("/readyz")
    sql.stdin.write("DELETE FROM schema_migrations WHERE version = "
                    "(SELECT max(version) FROM schema_migrations) "
                    "RETURNING 'deleted';\n")
    sql.stdin.flush()
    sql.stdout.readline()
    changed = time.monotonic()
    seen = []
    while time.monotonic() < changed + 0.3:
        sent = time.monotonic() - changed
        seen.append((round(sent * 1000, 1), c.get("/readyz")))
    sql.stdin.close()
    sql.wait()
    late = [r for ms, r in seen if ms >= 50]
    t.ok(before.status == 200 and late and
         all(r.is_problem(503) and "schema version" in r.json["detail"]
             for r in late),
         "readyz is 503 once the schema went behind (%d probes from 50 ms "
         "on)" % len(late), [(ms, r.status) for ms, r in seen[:20]])
    d.stop()


@case
def database_down(t):
    # Its own cluster and daemon; it stops the cluster.
    # readyz goes 503 when the database is gone, and back when it returns.
    pg2 = Postgres()
    d2 = Cohortd(pg2.url(pg2.new_database()))
    c2 = d2.client()
    t.ok(c2.get("/readyz").status == 200, "ready with its database")
    pg2.proc.send_signal(2)
    pg2.proc.wait(10)
    r = c2.get("/readyz")
    t.ok(r.is_problem(503), "readyz is 503 when the database is down", r)
    t.ok(c2.get("/healthz").status == 200, "healthz stays 200 meanwhile")
    d2.stop()


run()
