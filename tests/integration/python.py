"""python.py - Python exercises through the API: the catalog's Python
exercises import and verify; a learner sees a Python starter; solutions to
async-fetch and bank-threads are graded with the verdicts the grader gives
in tests/grader/python.sh (accepted, blocking_call, data_race), and every
response is checked against the OpenAPI document by the harness."""
import os
import time

from harness import SRCDIR, Cohortd, Postgres, main, login, PW

FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions")


def fixture(ex, name):
    with open(os.path.join(FIX, ex, name + ".py")) as f:
        return f.read()


def until(get, done, timeout):
    deadline = time.time() + timeout
    x = get()
    while not done(x) and time.time() < deadline:
        time.sleep(1)
        x = get()
    return x


def test(t):
    pg = Postgres()
    db = pg.new_database()
    d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "2"})
    d.admin().post("/v1/tenants", {"slug": "acme", "name": "Acme",
                                   "admin": {"email": "admin@acme.test",
                                             "name": "Admin", "password": PW}})
    adm = login(d, "acme", "admin@acme.test")

    cat = adm.get("/v1/catalog/exercises").json["items"]
    slugs = {x["slug"] for x in cat}
    t.ok({"async-fetch", "prime-pool", "bank-threads"} <= slugs,
         "the catalog lists the Python exercises", sorted(slugs))

    ids = {}
    for slug in ("async-fetch", "bank-threads", "prime-pool"):
        r = adm.post("/v1/exercises/import", {"catalog": slug})
        t.ok(r.status == 201, "%s imports" % slug, r)
        ids[slug] = r.json["id"] if r.status == 201 else None
    ready = {s: until(lambda: adm.get("/v1/exercises/" + i).json,
                      lambda x: x["status"] != "verifying", 300)
             for s, i in ids.items() if i}
    t.ok(all(x["status"] == "ready" for x in ready.values()),
         "and verifies by grading its Python reference",
         {s: (x["status"], x.get("reason")) for s, x in ready.items()})

    prog = adm.post("/v1/programs", {"title": "Python", "status":
                                     "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"],
                   {"title": "asyncio and threads"}).json
    asm = {}
    for slug, eid in ids.items():
        asm[slug] = adm.post("/v1/modules/%s/assessments" % mod["id"],
                             {"title": slug, "kind": "exercise",
                              "exercise_id": eid, "max_attempts": 9}).json
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    u = adm.post("/v1/users", {"email": "py@acme.test", "name": "P",
                               "role": "learner", "password": PW}).json
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
    lc = login(d, "acme", "py@acme.test")

    st = lc.get("/v1/exercises/%s/starter" % ids["async-fetch"])
    t.ok(st.status == 200 and st.json.get("language") == "python" and
         "async def fetch_all" in (st.json.get("starter_py") or "") and
         st.json.get("exercise_h") is None,
         "a learner gets the Python starter", st)

    # Every verdict the Python grader gives, through the API; speedup
    # credit is checked where it is final (a busy host may leave it
    # provisional, which is right too).
    cases = [("async-fetch", "correct", ("accepted",)),
             ("async-fetch", "blocking", ("blocking_call",)),
             ("async-fetch", "sequential", ("wrong_answer",)),
             ("async-fetch", "unbounded", ("wrong_answer",)),
             ("bank-threads", "racy", ("data_race", "wrong_answer")),
             ("bank-threads", "deadlock", ("deadlock",)),
             ("prime-pool", "correct", ("accepted",)),
             ("prime-pool", "threadpool", ("accepted",)),
             ("prime-pool", "wrong", ("wrong_answer",))]
    subs = {}
    for slug, name, _ in cases:
        r = lc.post("/v1/assessments/%s/submissions" % asm[slug]["id"],
                    {"source": fixture(slug, name)})
        t.ok(r.status == 202, "%s/%s.py is taken" % (slug, name), r)
        subs[slug, name] = r.json.get("id")
    got = {}
    for slug, name, verdicts in cases:
        g = until(lambda: lc.get("/v1/submissions/" +
                                 subs[slug, name]).json,
                  lambda x: x["status"] in ("graded", "failed"), 300)
        got[slug, name] = g
        t.ok(g.get("verdict") in verdicts, "%s/%s.py: %s" %
             (slug, name, "|".join(verdicts)),
             {k: g.get(k) for k in ("status", "verdict", "score", "compile",
                                  "tests")})
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
    dl = got["bank-threads", "deadlock"]
    msgs = " ".join(x.get("message") or "" for x in dl.get("tests") or [])
    t.ok("Thread 0x" in msgs or "Thread 0x" in str(dl.get("race")),
         "a deadlock shows the threads' stacks", msgs[:2000])
    d.stop()


main(test)
