"""demo.py - cohortctl seed-demo loads "Concurrency for Leaders" into a demo
tenant that works through the API, once.  Cases run alone by name:
python3 tests/integration/demo.py instructor"""
import os
import stat
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, run_ctl


def contains_key(obj, key):
    if isinstance(obj, dict):
        return key in obj or any(contains_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(contains_key(v, key) for v in obj)
    return False


def ic_admin(d, pw):
    """The demo tenant's instructor (exercises are staff business)."""
    r = d.client().post("/v1/auth/login", {"tenant": "demo",
                                           "email": "ivan@demo.test",
                                           "password": pw})
    return d.client(r.json["token"])


@fixture
def seeded():
    """The daemon and the demo seeded once: seed-demo's result (seed) and
    the password it printed (pw)."""
    w = types.SimpleNamespace()
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    # API only: verifying the demo's exercises is the graders' business,
    # tested in grading.py.
    w.d = d = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"})
    w.env = {"COHORTD_DATABASE_URL": pg.url(db),
             "COHORTD_STATE_DIR": d.state_dir}
    w.seed = run_ctl(["seed-demo"], w.env)
    w.pw = w.seed.stdout.split('"password":"')[1].split('"')[0]
    return w


@case
def seed(t):
    w = seeded()
    pg, db, d, env, pw = w.pg, w.db, w.d, w.env, w.pw
    r = w.seed
    t.ok(r.returncode == 0 and "7 modules" in r.stdout, "seed-demo loads the "
         "program", r.stdout + r.stderr)
    cred = os.path.join(d.state_dir, "demo-credentials")
    t.ok(os.path.exists(cred) and
         stat.S_IMODE(os.stat(cred).st_mode) == 0o600 and pw in open(cred).read(),
         "the demo logins are kept in <state>/demo-credentials, mode 0600")
    r = run_ctl(["seed-demo"], env)
    t.ok(r.returncode == 0 and "nothing to do" in r.stdout,
         "seeding twice changes nothing", r.stdout)
    t.eq(pg.psql("SELECT count(*) FROM programs", db), "1", "one program")


@case
def learner(t):
    w = seeded()
    pg, db, d, pw = w.pg, w.db, w.d, w.pw

    r = d.client().post("/v1/auth/login", {"tenant": "demo",
                                           "email": "learner1@demo.test",
                                           "password": pw})
    t.ok(r.status == 200, "a demo learner logs in with the printed password", r)
    lc = d.client(r.json["token"])
    r = lc.get("/v1/programs")
    progs = r.json["items"] if r.status == 200 else []
    t.ok(len(progs) == 1 and progs[0]["title"] == "Concurrency for Leaders" and
         progs[0]["status"] == "published",
         "the learner sees the published demo program", r)
    mods = lc.get("/v1/programs/%s/modules" % progs[0]["id"]).json["items"]
    t.ok(len(mods) >= 6, "at least six modules", len(mods))
    lessons, quizzes, minutes_ok, bodies_ok, exercises = 0, 0, True, True, 0
    keys = False
    for m in mods:
        ls = lc.get("/v1/modules/%s/lessons" % m["id"]).json["items"]
        lessons += len(ls)
        minutes_ok &= all(1 <= x["estimated_minutes"] <= 60 for x in ls)
        bodies_ok &= all(len(x["body"]) > 1000 for x in ls)
        qs = lc.get("/v1/modules/%s/assessments" % m["id"]).json["items"]
        quizzes += len([q for q in qs if q["kind"] == "quiz" and
                        len(q["questions"]) >= 4])
        exercises += len([q for q in qs if q["kind"] == "exercise" and
                          q["exercise_id"]])
        keys |= contains_key(qs, "answer")
    t.ok(lessons >= 3 * len(mods) and minutes_ok and bodies_ok,
         "microlearning lessons of substance in every module",
         (lessons, minutes_ok, bodies_ok))
    t.eq(quizzes, len(mods), "a quiz per module")
    t.eq(exercises, len(mods), "a hands-on exercise per module")
    n = pg.psql("SELECT count(*) FROM grade_jobs WHERE kind = 'verify'", db)
    t.eq(n, str(len(mods)), "each demo exercise is queued for verification")
    m = d.client().get("/metrics").body.decode()
    t.ok('cohortd_grade_queue_jobs{kind="verify",state="queued"} %d'
         % len(mods) in m and "cohortd_provisional_grades_pending 0" in m,
         "/metrics counts the queue: the verifications, nothing provisional",
         [ln for ln in m.splitlines() if "grade" in ln])
    r = ic_admin(d, pw).get("/v1/exercises")
    exs = r.json["items"] if r.status == 200 else []
    t.ok(exs and all(x["status"] == "verifying" for x in exs),
         "with no grader running the demo's exercises wait, verifying", r)
    t.ok(not keys, "the learner sees no answer keys")
    t.ok(any(m["prerequisites"] for m in mods),
         "modules carry prerequisites")
    r = lc.get("/v1/me/enrollments")
    t.ok(r.status == 200 and r.json["items"] and
         r.json["items"][0]["state"] == "active" and
         r.json["items"][0]["source"] == "demo",
         "the learner is enrolled in the demo cohort", r)


@case
def instructor(t):
    w = seeded()
    d, pw = w.d, w.pw
    r = d.client().post("/v1/auth/login", {"tenant": "demo",
                                           "email": "ivan@demo.test",
                                           "password": pw})
    ic = d.client(r.json["token"])
    r = ic.get("/v1/cohorts")
    cid = r.json["items"][0]["id"] if r.status == 200 and r.json["items"] else ""
    r = ic.get("/v1/cohorts/%s/progress" % cid)
    t.ok(r.status == 200 and len(r.json["items"]) == 5,
         "the instructor follows the five demo learners", r)


run()
