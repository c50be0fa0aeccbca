"""readiness.py - /readyz answers in bounded time whatever the database
does (a paused server: 503 naming the cause), is 503 when this process
runs graders and the sandbox cannot run, and shutdown with an event stream
open ends within the documented budget (COHORTD_SHUTDOWN_GRACE + 5 s).
Cases run alone by name: python3 tests/integration/readiness.py not_root"""
import http.client
import os
import signal
import subprocess
import tempfile
import threading
import time

import harness
from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, _demote

# The budget is 2 s; a busy test host may add a little on the client side.
READY_BOUND_S = 2.5


def timed_get(c, path):
    t0 = time.time()
    r = c.get(path)
    return r, time.time() - t0


def cluster_pids(pg):
    """The test cluster's postmaster and its children."""
    pids = [pg.proc.pid]
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == pg.proc.pid:
            pids.append(int(p))
    return pids


def psql(state, sql):
    sock = os.path.join(state, "pg", "run")
    return subprocess.run(["psql", "-X", "-At", "-h", sock, "-U", "cohortd",
                           "-d", "cohortd", "-c", sql], capture_output=True,
                          text=True, timeout=60).stdout.strip()


@fixture
def cluster():
    """The test cluster paused_database pauses and resumes, and not_root
    makes its databases in."""
    return Postgres()


@case
def paused_database(t):
    pg = cluster()
    d = Cohortd(pg.url(pg.new_database()))
    c = d.client()
    r, took = timed_get(c, "/readyz")
    t.ok(r.status == 200, "ready with its database", r)
    pids = cluster_pids(pg)
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        seen, slowest = None, 0.0
        deadline = time.time() + 20
        while time.time() < deadline:
            r, took = timed_get(c, "/readyz")
            slowest = max(slowest, took)
            if r.status == 503:
                seen = r
                break
            time.sleep(0.2)
        t.ok(seen is not None and seen.is_problem(503) and
             seen.json["detail"].startswith("database:"),
             "database paused: readyz is 503 naming the database", seen)
        times = []
        for _ in range(3):
            r, took = timed_get(c, "/readyz")
            times.append(took)
            slowest = max(slowest, took)
        t.ok(slowest < READY_BOUND_S and r.status == 503,
             "database paused: every readyz answers within 2 s "
             "(slowest %.2f s)" % slowest, times)
        r, took = timed_get(c, "/healthz")
        t.ok(r.status == 200 and took < READY_BOUND_S,
             "database paused: healthz stays 200", r)
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    deadline = time.time() + 20
    while c.get("/readyz").status != 200 and time.time() < deadline:
        time.sleep(0.2)
    t.ok(c.get("/readyz").status == 200,
         "database resumed: readyz is 200 again")
    d.stop()


@case
def not_root(t):
    pg = cluster()
    if os.geteuid() != 0:
        t.diag("not root: the sandbox case is covered by running as we are")
    state = tempfile.mkdtemp(prefix="cohortd-nr-")
    os.chmod(state, 0o777)
    real = subprocess.Popen

    def popen(*a, **kw):
        kw["preexec_fn"] = _demote("nobody")
        return real(*a, **kw)

    harness.subprocess.Popen = popen
    try:
        d = Cohortd(pg.url(pg.new_database()), state_dir=state,
                    env={"COHORTD_WORKERS": "1"})
        api = Cohortd(pg.url(pg.new_database()), env={"COHORTD_ROLE": "api"},
                      state_dir=tempfile.mkdtemp(prefix="cohortd-nr-"))
    finally:
        harness.subprocess.Popen = real
    r, took = timed_get(d.client(), "/readyz")
    t.ok(r.is_problem(503) and r.json["detail"].startswith("sandbox:") and
         "root" in r.json["detail"],
         "not root, role all: readyz is 503, graders cannot run", r)
    t.ok(d.client().get("/healthz").status == 200,
         "not root, role all: healthz is 200")
    r = api.client().get("/readyz")
    t.ok(r.status == 200 and r.json["sandbox"]["ready"] is False,
         "not root, role api: ready (it runs no graders), sandbox reported",
         r)
    d.stop()
    api.stop()


@case
def shutdown_budget(t):
    # Its own daemon (embedded cluster), which it stops with SIGTERM.
    state = tempfile.mkdtemp(prefix="cohortd-sd-")
    os.chmod(state, 0o755)
    # An API process (no graders): the submission stays queued and its
    # event stream stays open until the shutdown ends it.
    d = Cohortd(state_dir=state, env={"COHORTD_ROLE": "api"})
    a = d.admin()
    a.post("/v1/tenants", {"slug": "acme", "name": "Acme",
                           "admin": {"email": "admin@acme.test",
                                     "name": "Admin", "password": PW}})
    adm = d.client(d.client().post("/v1/auth/login", {
        "tenant": "acme", "email": "admin@acme.test",
        "password": PW}).json["token"])
    ex = adm.post("/v1/exercises/import", {"catalog": "parallel-sum"}).json
    psql(state, "UPDATE exercise_versions SET status = 'ready' WHERE "
         "exercise_id = '%s'" % ex["id"])
    prog = adm.post("/v1/programs", {"title": "P",
                                     "status": "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"],
                   {"title": "M"}).json
    asm = adm.post("/v1/modules/%s/assessments" % mod["id"],
                   {"title": "Sum", "kind": "exercise",
                    "exercise_id": ex["id"], "max_attempts": 5}).json
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    u = adm.post("/v1/users", {"email": "l@acme.test", "name": "L",
                               "role": "learner", "password": PW}).json
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
    tok = d.client().post("/v1/auth/login", {
        "tenant": "acme", "email": "l@acme.test",
        "password": PW}).json["token"]
    r = d.client(tok).post("/v1/assessments/%s/submissions" % asm["id"],
                           {"source": "int main(void) { return 0; }\n"})
    t.ok(r.status == 202, "a submission waits in the queue", r)
    box = {}

    def stream():
        conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
        conn.request("GET", "/v1/submissions/%s/events" % r.json["id"],
                     headers={"Authorization": "Bearer " + tok})
        resp = conn.getresponse()
        box["status"] = resp.status
        box["body"] = resp.read().decode()
        box["at"] = time.time()
        conn.close()

    th = threading.Thread(target=stream, daemon=True)
    th.start()
    time.sleep(1.0)
    t.ok(box.get("status") == 200 and "body" not in box,
         "the event stream is open", box)
    t0 = time.time()
    d.signal(signal.SIGTERM)
    rc = d.wait(30)
    took = time.time() - t0
    th.join(10)
    t.ok(rc == 0 and took < 10.0,
         "SIGTERM with a stream open: exits 0 within the 10 s budget "
         "(took %.2f s)" % took, (rc, d.log_text()))
    t.ok(box.get("status") == 200 and "event: end" in box.get("body", "") and
         box.get("at", t0 + 99) - t0 < 5,
         "the open stream is ended promptly with an end event",
         (box.get("body", "")[-300:], box.get("at", 0) - t0))


run()
