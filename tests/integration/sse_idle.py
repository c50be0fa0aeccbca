"""sse_idle.py - open event streams cost the database nothing while
nothing changes.

A submission waits in the queue (no graders run).  1,000 clients follow its
events; over five quiet seconds the database commits no more transactions
than over five seconds with no stream open (streams are woken by NOTIFY,
not by polling).  Then a status change reaches every stream."""
import http.client
import threading
import time
import types

import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, enrolled_learner, setup_tenant

STREAMS = 1000
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


@fixture
def queued():
    """A daemon with no graders, and a learner's submission waiting in
    the queue (the response kept for the case that checks it)."""
    w = types.SimpleNamespace()
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    w.d = d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "0",
                                       "COHORTD_MAX_CONNECTIONS_PER_ADDRESS":
                                       "0", "COHORTD_HTTP_THREADS": "4"})
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
    w.lc = enrolled_learner(d, adm, prog["id"], "lee@acme.test", "L")
    w.submitted = w.lc.post("/v1/assessments/%s/submissions" % asm["id"],
                            {"source": "int x;\n"})
    w.sid = w.submitted.json["id"]
    return w


@fixture
def streams():
    """The database's quiet work with no stream open, then STREAMS
    streams on the submission, each past its first look."""
    w = queued()
    s = types.SimpleNamespace()
    s.base = quiet_work(w.pg, w.db)
    s.streams = [Stream(w.d.port, w.lc.token, w.sid) for _ in range(STREAMS)]
    # Each looks once when it opens, and sends what it found: wait for all
    # of them (on a busy host that takes longer than any fixed time), then
    # a second for the statistics of those looks to be flushed.
    deadline = time.time() + 60
    while time.time() < deadline and not all(x.seen for x in s.streams):
        time.sleep(0.1)
    time.sleep(1)
    return s


@case
def queued_submission(t):
    r = queued().submitted
    t.ok(r.status == 202, "a submission waits in the queue", r)


@case
def idle_streams(t):
    w, s = queued(), streams()
    ok = all(x.resp.status == 200 for x in s.streams)
    t.ok(ok, "%d event streams open" % STREAMS)
    busy = quiet_work(w.pg, w.db)
    base = s.base
    t.ok(busy <= base + 10, "with %d streams open and nothing changing the "
         "database does no more work than without (%d transactions in %d s "
         "against %d)" % (STREAMS, busy, QUIET_S, base), (busy, base))


@case
def change_reaches_every_stream(t):
    # Last: it closes the streams and stops the daemon.
    w, s = queued(), streams()
    w.pg.psql("INSERT INTO submission_events (tenant_id, submission_id, "
              "kind, data) SELECT tenant_id, id, 'status', '{\"status\": "
              "\"compiling\"}' FROM submissions WHERE id = '%s'" % w.sid,
              w.db)
    deadline = time.time() + 30
    while time.time() < deadline and not all(
            "status" in x.seen[1:] or x.seen.count("status") >= 2
            for x in s.streams):
        time.sleep(0.2)
    n = sum(1 for x in s.streams if x.seen.count("status") >= 2)
    t.ok(n == STREAMS, "a status change reaches every stream (%d of %d)"
         % (n, STREAMS), [x.seen for x in s.streams[:3]])
    for x in s.streams:
        x.close()
    w.d.stop()


run()
