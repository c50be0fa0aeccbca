"""sse_idle.py - open event streams cost the database nothing while
nothing changes.

A submission waits in the queue (no graders run).  200 clients follow its
events; over five quiet seconds the database commits no more transactions
than over five seconds with no stream open (streams are woken by NOTIFY,
not by polling).  Then a status change reaches every stream."""
import http.client
import threading
import time

from harness import Cohortd, Postgres, login, main, setup_tenant, PW

STREAMS = 200
QUIET_S = 5


def commits(pg, db):
    return int(pg.psql("SELECT xact_commit + xact_rollback FROM "
                       "pg_stat_database WHERE datname = current_database()",
                       db))


def quiet_work(pg, db):
    """Transactions over QUIET_S seconds, the statistics flushed."""
    pg.psql("SELECT pg_stat_clear_snapshot()", db)
    a = commits(pg, db)
    time.sleep(QUIET_S)
    time.sleep(1.2)     # backends flush their counts at most once a second
    return commits(pg, db) - a - 1      # less our own query


class Stream:
    def __init__(self, port, token, sid):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.conn.request("GET", "/v1/submissions/%s/events" % sid,
                          headers={"Authorization": "Bearer " + token,
                                   "Accept": "text/event-stream"})
        self.resp = self.conn.getresponse()
        self.seen = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        try:
            for line in self.resp:
                if line.startswith(b"event:"):
                    self.seen.append(line[6:].strip().decode())
        except (OSError, ValueError):
            pass

    def close(self):
        self.conn.close()


def test(t):
    pg = Postgres()
    db = pg.new_database()
    d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "0",
                                 "COHORTD_MAX_CONNECTIONS_PER_ADDRESS": "0",
                                 "COHORTD_HTTP_THREADS": "4"})
    adm = setup_tenant(d, "acme")
    ex = adm.post("/v1/exercises/import", {"catalog": "parallel-sum"}).json
    # No graders: the operator marks it verified, as a verification would.
    pg.psql("UPDATE exercise_versions SET status = 'ready' WHERE "
            "exercise_id = '%s'" % ex["id"], db)
    prog = adm.post("/v1/programs", {"title": "P", "status": "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"], {"title": "M"}).json
    asm = adm.post("/v1/modules/%s/assessments" % mod["id"],
                   {"title": "Sum", "kind": "exercise",
                    "exercise_id": ex["id"]}).json
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    u = adm.post("/v1/users", {"email": "lee@acme.test", "name": "L",
                               "role": "learner", "password": PW}).json
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
    lc = login(d, "acme", "lee@acme.test")
    r = lc.post("/v1/assessments/%s/submissions" % asm["id"],
                {"source": "int x;\n"})
    t.ok(r.status == 202, "a submission waits in the queue", r)
    sid = r.json["id"]

    base = quiet_work(pg, db)
    streams = [Stream(d.port, lc.token, sid) for _ in range(STREAMS)]
    ok = all(s.resp.status == 200 for s in streams)
    t.ok(ok, "%d event streams open" % STREAMS)
    # Each looks once when it opens, and sends what it found: wait for all
    # of them (on a busy host that takes longer than any fixed time), then
    # a second for the statistics of those looks to be flushed.
    deadline = time.time() + 60
    while time.time() < deadline and not all(s.seen for s in streams):
        time.sleep(0.1)
    time.sleep(1)
    busy = quiet_work(pg, db)
    t.ok(busy <= base + 10, "with %d streams open and nothing changing the "
         "database does no more work than without (%d transactions in %d s "
         "against %d)" % (STREAMS, busy, QUIET_S, base), (busy, base))

    # A change reaches every stream.
    pg.psql("INSERT INTO submission_events (tenant_id, submission_id, kind, "
            "data) SELECT tenant_id, id, 'status', '{\"status\": "
            "\"compiling\"}' FROM submissions WHERE id = '%s'" % sid, db)
    deadline = time.time() + 30
    while time.time() < deadline and not all(
            "status" in s.seen[1:] or s.seen.count("status") >= 2
            for s in streams):
        time.sleep(0.2)
    n = sum(1 for s in streams if s.seen.count("status") >= 2)
    t.ok(n == STREAMS, "a status change reaches every stream (%d of %d)"
         % (n, STREAMS), [s.seen for s in streams[:3]])
    for s in streams:
        s.close()
    d.stop()


main(test)
