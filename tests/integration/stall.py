"""stall.py - a request blocked on the database gives its thread back.

Another session holds a cohort's row lock (as a long batch enrollment
does).  An enrollment on that cohort answers 503 with Retry-After once the
request's lock timeout runs out, naming the cause, never 500; /healthz,
asked while every HTTP thread waits, is answered within that timeout, and
another tenant's requests promptly.  With no lock timeout, the statement timeout
ends the wait the same way.  After the holder lets go, the same
enrollment succeeds.  Cases run alone by name: python3
tests/integration/stall.py statement_timeout"""
import os
import subprocess
import threading
import time
import types

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, setup_tenant

HOLD_S = 20             # the holder lets go by itself after this at most
HOLDER = "stall_holder"


def cohort(adm):
    prog = adm.post("/v1/programs", {"title": "P",
                                     "status": "published"}).json["id"]
    return adm.post("/v1/cohorts", {
        "program_id": prog, "name": "C",
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z"}).json["id"]


class Holder:
    """A psql session that holds a cohort's row lock until released."""

    def __init__(self, pg, db, cohort_id):
        self.pg = pg
        sql = ("BEGIN; SELECT 1 FROM cohorts WHERE id = '%s' FOR UPDATE; "
               "SELECT pg_sleep(%d); COMMIT;" % (cohort_id, HOLD_S))
        env = dict(os.environ, PGAPPNAME=HOLDER)
        self.proc = subprocess.Popen(
            [os.path.join(pg.bindir, "psql"), "-X", "-q", "-d", pg.url(db),
             "-c", sql], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.db = db

    def holding(self, timeout=30):
        """Wait until the lock is taken (the session is in pg_sleep)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            n = self.pg.psql("SELECT count(*) FROM pg_stat_activity WHERE "
                             "application_name = '%s' AND wait_event = "
                             "'PgSleep'" % HOLDER, db=self.db)
            if n == "1":
                return True
            time.sleep(0.1)
        return False

    def release(self):
        self.pg.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE application_name = '%s'" % HOLDER, db=self.db,
                     check=False)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def timed(fn):
    t0 = time.time()
    r = fn()
    return r, time.time() - t0


def blocked_enrollments(t, d, adm, cid, users, label, cause):
    """Both HTTP threads wait on the held lock; each gets a 503 naming
    the cause while /healthz and another tenant are answered."""
    out = {}

    def enroll(i):
        c = d.client(adm.token)
        out[i] = timed(lambda: c.post("/v1/cohorts/%s/enrollments" % cid,
                                      {"user_id": users[i]}))
        c.close()

    th = [threading.Thread(target=enroll, args=(i,)) for i in range(2)]
    for x in th:
        x.start()
    time.sleep(0.2)             # both are in, waiting on the lock
    r, s = timed(lambda: d.client().get("/healthz"))
    # A connection waits for its thread: at most the remaining timeout,
    # never the holder's 20 s.
    t.ok(r.status == 200 and s < 3.0,
         "%s: /healthz answers within the timeout though every thread "
         "was waiting (%.2f s)" % (label, s), r)
    for x in th:
        x.join(60)
    for i in range(2):
        r, s = out.get(i, (None, 0))
        t.ok(r is not None and r.is_problem(503) and
             r.header("retry-after") is not None and
             cause in r.json.get("detail", ""),
             "%s: enrollment on the locked cohort is 503 with Retry-After "
             "naming the cause" % label, r)
        t.ok(s < 6.0, "%s: ... within the timeout, not the holder's %d s "
             "(%.2f s)" % (label, HOLD_S, s), s)


@fixture
def world():
    """The daemon with a 500 ms lock timeout; tenants acme (a) and bravo
    (b), a cohort of each (cid, b_cohort), two learners of acme (users)."""
    w = types.SimpleNamespace()
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    # Two HTTP threads, as on a two-core host where the freeze was seen.
    w.d = Cohortd(pg.url(db), env={"COHORTD_HTTP_THREADS": "2",
                                   "COHORTD_REQUEST_LOCK_TIMEOUT": "500"})
    w.a = a = setup_tenant(w.d, "acme")
    w.b = b = setup_tenant(w.d, "bravo")
    w.cid = cohort(a)
    w.users = [a.post("/v1/users", {"email": "u%d@acme.test" % i,
                                    "name": "U", "role": "learner",
                                    "password": PW}).json["id"]
               for i in range(2)]
    w.b_cohort = cohort(b)
    return w


@case
def lock_timeout(t):
    w = world()
    pg, db, d, a, b = w.pg, w.db, w.d, w.a, w.b
    cid, users, b_cohort = w.cid, w.users, w.b_cohort
    h = Holder(pg, db, cid)
    try:
        t.ok(h.holding(), "a separate session holds the cohort's lock")
        blocked_enrollments(t, d, a, cid, users, "lock timeout",
                            "busy with another change")
        r, s = timed(lambda: b.get("/v1/cohorts/%s" % b_cohort))
        t.ok(r.status == 200 and s < 3.0,
             "another tenant is answered promptly (%.2f s)" % s, r)
        r, s = timed(lambda: a.get("/v1/cohorts/%s" % cid))
        t.ok(r.status == 200 and s < 3.0,
             "reading the locked cohort does not wait (%.2f s)" % s, r)
    finally:
        h.release()
    r = a.post("/v1/cohorts/%s/enrollments" % cid, {"user_id": users[0]})
    t.ok(r.status == 201, "once the lock is let go the retry succeeds", r)
    t.ok(d.wait_for(lambda o: o.get("status") == 500, 0.1) is None,
         "no request was answered 500")


@case
def statement_timeout(t):
    # Last: it stops the file's daemon and starts another on the same
    # database.
    # No lock timeout: the statement timeout ends the wait instead.
    w = world()
    pg, db, a, cid = w.pg, w.db, w.a, w.cid
    w.d.stop()
    d = Cohortd(pg.url(db), env={"COHORTD_HTTP_THREADS": "2",
                                 "COHORTD_REQUEST_LOCK_TIMEOUT": "0",
                                 "COHORTD_REQUEST_STATEMENT_TIMEOUT": "800"})
    a.port = d.port
    a.close()
    users = [a.post("/v1/users", {"email": "v%d@acme.test" % i, "name": "V",
                                  "role": "learner",
                                  "password": PW}).json["id"]
             for i in range(2)]
    h = Holder(pg, db, cid)
    try:
        t.ok(h.holding(), "the lock is held again")
        blocked_enrollments(t, d, a, cid, users, "statement timeout",
                            "statement timeout")
    finally:
        h.release()
    d.stop()


run()
