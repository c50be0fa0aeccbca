"""python.py - Python exercises through the API: the catalog's Python
exercises import and verify; a learner sees a Python starter; solutions to
async-fetch and bank-threads are graded with the verdicts the grader gives
in tests/grader/python.sh (accepted, blocking_call, data_race), and every
response is checked against the OpenAPI document by the harness."""
import os
import time
import types

from cases import case, fixture, run
from harness import SRCDIR, Cohortd, Postgres, enrolled_learner, login, PW

FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions")


def solution(ex, name):
    with open(os.path.join(FIX, ex, name + ".py")) as f:
        return f.read()


def until(get, done, timeout):
    deadline = time.time() + timeout
    x = get()
    while not done(x) and time.time() < deadline:
        time.sleep(1)
        x = get()
    return x


# Every verdict the Python grader gives, through the API; speedup credit
# is checked where it is final (a busy host may leave it provisional,
# which is right too).
CASES = [("async-fetch", "correct", ("accepted",)),
         ("async-fetch", "blocking", ("blocking_call",)),
         ("async-fetch", "sequential", ("wrong_answer",)),
         ("async-fetch", "unbounded", ("wrong_answer",)),
         ("bank-threads", "racy", ("data_race", "wrong_answer")),
         ("bank-threads", "deadlock", ("deadlock",)),
         ("prime-pool", "correct", ("accepted",)),
         ("prime-pool", "threadpool", ("accepted",)),
         ("prime-pool", "wrong", ("wrong_answer",))]


@fixture
def world():
    """The daemon with two graders, tenant acme, and the three Python
    exercises imported and verified (responses kept)."""
    w = types.SimpleNamespace()
    pg = Postgres()
    db = pg.new_database()
    w.d = d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "2"})
    d.admin().post("/v1/tenants", {"slug": "acme", "name": "Acme",
                                   "admin": {"email": "admin@acme.test",
                                             "name": "Admin", "password": PW}})
    w.adm = adm = login(d, "acme", "admin@acme.test")
    w.imports, w.ids = {}, {}
    for slug in ("async-fetch", "bank-threads", "prime-pool"):
        r = adm.post("/v1/exercises/import", {"catalog": slug})
        w.imports[slug] = r
        w.ids[slug] = r.json["id"] if r.status == 201 else None
    w.ready = {s: until(lambda: adm.get("/v1/exercises/" + i).json,
                        lambda x: x["status"] != "verifying", 300)
               for s, i in w.ids.items() if i}
    return w


@fixture
def learner():
    """A published program with an assessment per exercise, and a learner
    enrolled in its cohort, logged in."""
    w = world()
    adm = w.adm
    prog = adm.post("/v1/programs", {"title": "Python", "status":
                                     "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"],
                   {"title": "asyncio and threads"}).json
    w.asm = {}
    for slug, eid in w.ids.items():
        w.asm[slug] = adm.post("/v1/modules/%s/assessments" % mod["id"],
                               {"title": slug, "kind": "exercise",
                                "exercise_id": eid, "max_attempts": 9}).json
    w.lc = enrolled_learner(w.d, adm, prog["id"], "py@acme.test", "P")
    return w


@fixture
def graded():
    """Each fixture solution of CASES submitted, then graded: the
    submissions' responses and their final state."""
    w = learner()
    lc = w.lc
    w.taken, w.got = {}, {}
    for slug, name, _ in CASES:
        w.taken[slug, name] = lc.post(
            "/v1/assessments/%s/submissions" % w.asm[slug]["id"],
            {"source": solution(slug, name)})
    for slug, name, _ in CASES:
        sid = w.taken[slug, name].json.get("id")
        w.got[slug, name] = until(lambda: lc.get("/v1/submissions/" +
                                                  sid).json,
                                  lambda x: x["status"] in ("graded",
                                                            "failed"), 300)
    return w


@case
def catalog(t):
    adm = world().adm
    cat = adm.get("/v1/catalog/exercises").json["items"]
    slugs = {x["slug"] for x in cat}
    t.ok({"async-fetch", "prime-pool", "bank-threads"} <= slugs,
         "the catalog lists the Python exercises", sorted(slugs))


@case
def import_and_verify(t):
    w = world()
    for slug, r in w.imports.items():
        t.ok(r.status == 201, "%s imports" % slug, r)
    t.ok(all(x["status"] == "ready" for x in w.ready.values()),
         "and verifies by grading its Python reference",
         {s: (x["status"], x.get("reason")) for s, x in w.ready.items()})


@case
def starter(t):
    w = learner()
    st = w.lc.get("/v1/exercises/%s/starter" % w.ids["async-fetch"])
    t.ok(st.status == 200 and st.json.get("language") == "python" and
         "async def fetch_all" in (st.json.get("starter_py") or "") and
         st.json.get("exercise_h") is None,
         "a learner gets the Python starter", st)


@case
def verdicts(t):
    w = graded()
    for slug, name, _ in CASES:
        r = w.taken[slug, name]
        t.ok(r.status == 202, "%s/%s.py is taken" % (slug, name), r)
    for slug, name, verdicts in CASES:
        g = w.got[slug, name]
        t.ok(g.get("verdict") in verdicts, "%s/%s.py: %s" %
             (slug, name, "|".join(verdicts)),
             {k: g.get(k) for k in ("status", "verdict", "score", "compile",
                                  "tests")})


@case
def speedup(t):
    got = graded().got
    pp, tp = got["prime-pool", "correct"], got["prime-pool", "threadpool"]
    sp, tsp = pp.get("speedup") or {}, tp.get("speedup") or {}
    t.ok(pp.get("provisional") or (sp.get("measured") and
                                   pp["score_breakdown"]["speedup"] >= 20),
         "a process pool earns speedup credit (or waits for a quiet host)",
         {k: pp.get(k) for k in ("score", "provisional", "speedup")})
    t.ok(tp.get("provisional") or (tsp.get("measured") and
                                   tp["score_breakdown"]["speedup"] < 8 and
                                   "GIL" in (tsp.get("feedback") or "")),
         "a thread pool for CPU work earns none, and is told of the GIL",
         {k: tp.get(k) for k in ("score", "provisional", "speedup")})


@case
def deadlock_stacks(t):
    # Last: the daemon stops.
    w = graded()
    dl = w.got["bank-threads", "deadlock"]
    msgs = " ".join(x.get("message") or "" for x in dl.get("tests") or [])
    t.ok("Thread 0x" in msgs or "Thread 0x" in str(dl.get("race")),
         "a deadlock shows the threads' stacks", msgs[:2000])
    w.d.stop()


run()
