"""orphans.py - kill -9 of cohortd under grading load, three rounds: every
grader (and its boxes) and the embedded PostgreSQL go with it, and after
the restart no grading job is held by a process that is gone.  SIGTERM to
a busy grader: it exits at once and its job is requeued at once.  Cases
run alone by name: python3 tests/integration/orphans.py sigterm"""
import os
import subprocess
import tempfile
import time
import types

from cases import case, fixture, run
from harness import PW, Cohortd


def proc_table():
    """{pid: (ppid, starttime, state)} of every process."""
    table = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % p) as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(p)] = (int(rest[1]), rest[19], rest[0])
    return table


def descendants(root):
    """(pid, starttime) of every live descendant of root."""
    table = proc_table()
    found, todo = [], [root]
    while todo:
        parent = todo.pop()
        for pid, (ppid, start, state) in table.items():
            if ppid == parent and state != "Z":
                found.append((pid, start))
                todo.append(pid)
    return found


def alive(procs):
    table = proc_table()
    return [pid for pid, start in procs
            if pid in table and table[pid][1] == start and
            table[pid][2] != "Z"]


def is_grader(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return b"--role=grader" in f.read().split(b"\0")
    except OSError:
        return False


def psql(state, sql):
    sock = os.path.join(state, "pg", "run")
    return subprocess.run(["psql", "-X", "-At", "-h", sock, "-U", "cohortd",
                           "-d", "cohortd", "-c", sql], capture_output=True,
                          text=True, timeout=60).stdout.strip()


def running_workers(state):
    out = psql(state, "SELECT worker FROM grade_jobs WHERE state = 'running'")
    return [w for w in out.splitlines() if w]


@fixture
def world():
    """The daemon (embedded cluster, two graders, a 600 s lease), tenant
    acme and its admin's token; the login's response is kept (login).
    The daemon a case restarts replaces d here."""
    w = types.SimpleNamespace()
    w.state = state = tempfile.mkdtemp(prefix="cohortd-orph-")
    os.chmod(state, 0o755)
    # A long lease: only the restart's reclaim frees a dead grader's job.
    w.env = {"COHORTD_WORKERS": "2", "COHORTD_GRADE_LEASE": "600"}
    w.d = d = Cohortd(state_dir=state, env=w.env)
    a = d.admin()
    a.post("/v1/tenants", {"slug": "acme", "name": "Acme",
                           "admin": {"email": "admin@acme.test",
                                     "name": "Admin", "password": PW}})
    w.login = r = d.client().post("/v1/auth/login", {
        "tenant": "acme", "email": "admin@acme.test", "password": PW})
    w.token = r.json["token"]
    w.slugs = [x["slug"] for x in
               d.client(w.token).get("/v1/catalog/exercises").json["items"]]
    return w


@case
def login(t):
    r = world().login
    t.ok(r.status == 200, "tenant admin logs in", r)


@case
def kill_rounds(t):
    # Kills the daemon three times; the one it restarts last stays in
    # world().d for the cases after.
    o = world()
    state, env, token, slugs = o.state, o.env, o.token, o.slugs
    d = o.d
    for rnd in range(3):
        adm = d.client(token)
        # Load: two verifications per round (each a grading job).
        for slug in slugs[2 * rnd:2 * rnd + 2]:
            adm.post("/v1/exercises/import", {"catalog": slug})
        deadline = time.time() + 120
        while not running_workers(state) and time.time() < deadline:
            time.sleep(0.2)
        held = running_workers(state)
        t.ok(held, "round %d: graders hold jobs" % rnd, held)
        procs = descendants(d.proc.pid)
        graders = [p for p, _ in procs if is_grader(p)]
        t.ok(len(graders) >= 1 and len(procs) > len(graders),
             "round %d: graders and postgres run under cohortd" % rnd,
             (graders, len(procs)))

        t0 = time.time()
        d.proc.kill()
        d.proc.wait()
        deadline = time.time() + 15
        while alive(procs) and time.time() < deadline:
            time.sleep(0.02)
        left = alive(procs)
        t.ok(not left, "round %d: kill -9 leaves no grader, box or postgres "
             "process (gone in %.2f s)" % (rnd, time.time() - t0), left)
        t.diag("round %d: %d processes gone in %.2f s" %
               (rnd, len(procs), time.time() - t0))

        d = o.d = Cohortd(state_dir=state, env=env)
        dead = set(graders)
        stale = [w for w in running_workers(state)
                 if int(w.rsplit(":", 1)[1]) in dead or
                 not is_grader(int(w.rsplit(":", 1)[1]))]
        t.ok(not stale, "round %d: after restart no job is held by a dead "
             "grader" % rnd, stale)
        t.ok(d.wait_for(lambda o: "requeued" in o.get("msg", ""), 5),
             "round %d: the restart requeued the dead graders' jobs at once"
             % rnd, d.log_text())
        t.ok(d.client().get("/healthz").status == 200,
             "round %d: restarted and serving" % rnd)


@case
def sigterm(t):
    # Last: it stops the daemon.
    w = world()
    state, token, slugs, d = w.state, w.token, w.slugs, w.d
    # SIGTERM to a busy grader: it abandons its job at once, whatever it
    # waits on, and the supervisor requeues the job when it reaps it.
    adm = d.client(token)
    for slug in slugs[6:8]:
        adm.post("/v1/exercises/import", {"catalog": slug})
    deadline = time.time() + 120
    while not running_workers(state) and time.time() < deadline:
        time.sleep(0.2)
    held = running_workers(state)
    pid = int(held[0].rsplit(":", 1)[1]) if held else 0
    t.ok(pid and is_grader(pid), "a grader holds a job", held)
    if pid:
        t0 = time.time()
        os.kill(pid, 15)
        while is_grader(pid) and time.time() - t0 < 10:
            time.sleep(0.02)
        took = time.time() - t0
        t.ok(not is_grader(pid), "SIGTERM: the busy grader exits promptly "
             "(%.2f s)" % took)
        deadline = time.time() + 15
        while held[0] in running_workers(state) and time.time() < deadline:
            time.sleep(0.1)
        t.ok(held[0] not in running_workers(state),
             "its job is requeued at once, not at its lease's end (600 s)")
    d.stop()


run()
