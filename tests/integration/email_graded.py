"""email_graded.py - the "graded" email: real graders grade a learner's
exercise and the learner gets an email with the verdict and the score,
written in the transaction that records the grade, through a real SMTP
server (aiosmtpd) in this process."""
import os
import time
import types

from cases import case, fixture, run
from smtpbox import Inbox, parts, smtp_start
from harness import (SRCDIR, Cohortd, Postgres, enrolled_learner,
                     free_port, login, PW)

FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions", "parallel-sum")


def solution(name):
    with open(os.path.join(FIX, name + ".c")) as f:
        return f.read()


@fixture
def world():
    """A real SMTP server here, a daemon with one grader sending through
    it, tenant acme, and parallel-sum imported and verified (the last
    state of the exercise kept)."""
    w = types.SimpleNamespace()
    w.inbox = Inbox()
    port = free_port()
    w.smtp = smtp_start(w.inbox, port)
    pg = Postgres()
    db = pg.new_database()
    w.d = d = Cohortd(pg.url(db), env={
        "COHORTD_WORKERS": "1",
        "COHORTD_SMTP_URL": "smtp://127.0.0.1:%d" % port,
        "COHORTD_SMTP_FROM": "noreply@cohortd.test"})
    r = d.admin().post("/v1/tenants", {
        "slug": "acme", "name": "Acme",
        "admin": {"email": "admin@acme.test", "name": "Admin",
                  "password": PW}})
    assert r.status == 201, r
    w.adm = adm = login(d, "acme", "admin@acme.test")
    r = adm.post("/v1/exercises/import", {"catalog": "parallel-sum"})
    assert r.status == 201, r
    w.eid = eid = r.json["id"]
    deadline = time.time() + 300
    while time.time() < deadline:
        ex = adm.get("/v1/exercises/" + eid).json
        if ex["status"] != "verifying" or "quiet" in str(ex.get("reason")):
            break
        time.sleep(0.5)
    w.ex = ex
    return w


@fixture
def learner():
    """Sum it, an exercise assessment of a published program, and Lee
    enrolled in its cohort, logged in."""
    w = world()
    adm = w.adm
    prog = adm.post("/v1/programs", {"title": "P", "status": "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"], {"title": "M"}).json
    r = adm.post("/v1/modules/%s/assessments" % mod["id"],
                 {"title": "Sum it", "kind": "exercise", "exercise_id": w.eid})
    assert r.status == 201, r
    w.assessment = r.json
    w.lc = enrolled_learner(w.d, adm, prog["id"], "lee@acme.test", "Lee")
    return w


@case
def verified(t):
    ex = world().ex
    t.ok(ex["status"] == "ready", "the exercise is verified",
         {k: ex.get(k) for k in ("status", "reason")})


@case
def enrolled_email(t):
    w = learner()
    t.ok(w.inbox.wait("lee@acme.test", 60, subject="enrolled") is not None,
         "the learner's enrollment email arrives")


@case
def graded_email(t):
    w = learner()
    lc, inbox = w.lc, w.inbox
    r = lc.post("/v1/assessments/%s/submissions" % w.assessment["id"],
                {"source": solution("wrong")})
    t.ok(r.status == 202, "a wrong solution is submitted", r)
    sid = r.json["id"]
    deadline = time.time() + 300
    g = {}
    while time.time() < deadline:
        g = lc.get("/v1/submissions/" + sid).json
        if g.get("status") in ("graded", "failed"):
            break
        time.sleep(0.5)
    t.ok(g.get("status") == "graded", "it is graded",
         {k: g.get(k) for k in ("status", "verdict", "score")})
    got = inbox.wait("lee@acme.test", 60, subject="Graded")
    t.ok(got is not None and "Sum it" in str(got[2]["Subject"]),
         "the graded email arrives, naming the assessment",
         got and got[2]["Subject"])
    if got is not None:
        text = parts(got[2]).get("text/plain", "")
        t.ok(("Verdict: %s" % g.get("verdict")) in text and "Score:" in text,
             "it gives the verdict and the score", text)
        t.ok("provisional" not in text or g.get("provisional") is True,
             "a provisional note only for a provisional grade", text)
    r = w.adm.get("/v1/outbox?state=sent")
    t.ok(r.status == 200 and
         [m["event"] for m in r.json["items"]].count("graded") == 1,
         "the outbox lists one graded email", r)
    # Last: the daemon and the mail server stop.
    w.d.stop()
    w.smtp.stop()


run()
