"""webhooks.py - webhook endpoints and their deliveries, end to end: a real
HTTP receiver in this process checks every signature (Standard Webhooks:
HMAC-SHA256 of id.timestamp.body); events of enrollments arrive, also
after the receiver was down for a while; loopback and private URLs are
refused unless COHORTD_WEBHOOK_ALLOW names them.  Cases run alone by name:
python3 tests/integration/webhooks.py receiver_down"""
import base64
import json
import time
import types

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, login, setup_tenant
from hookbox import Receiver


@fixture
def world():
    """A receiver here; the daemon, allowed to deliver to loopback; acme."""
    w = types.SimpleNamespace()
    w.rx = Receiver()
    w.url = "http://127.0.0.1:%d/hook" % w.rx.port
    w.pg = Postgres()
    w.db = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.db), env={"COHORTD_ROLE": "api",
                                       "COHORTD_WEBHOOK_ALLOW": "127.0.0.1"})
    w.adm = setup_tenant(w.d, "acme")
    return w


@fixture
def endpoint():
    """An endpoint for the receiver, for enrollments' events: the response
    that created it; the receiver checks signatures with its secret."""
    w = world()
    r = w.adm.post("/v1/webhooks", {"url": w.url, "description": "tests",
                                    "events": ["enrollment.created",
                                               "enrollment.promoted",
                                               "enrollment.withdrawn"]})
    w.rx.secret = (r.json or {}).get("secret")
    return r


@fixture
def cohort():
    """Cohort C of a program: one seat and a waitlist."""
    adm = world().adm
    prog = adm.post("/v1/programs", {"title": "P"}).json
    return adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                    "starts_at": "2026-01-01T00:00:00Z",
                                    "ends_at": "2099-01-01T00:00:00Z",
                                    "capacity": 1, "waitlist": True}).json


@case
def url_rules(t):
    w = world()
    adm, rx = w.adm, w.rx
    # ---- the URL rules --------------------------------------------------
    for bad, why in (("http://localhost:%d/hook" % rx.port, "localhost"),
                     ("https://10.0.0.1/hook", "a private address"),
                     ("https://[::1]/hook", "IPv6 loopback"),
                     ("https://169.254.169.254/latest", "link-local"),
                     ("http://example.com/hook", "plain http"),
                     ("ftp://example.com/x", "another scheme")):
        r = adm.post("/v1/webhooks", {"url": bad,
                                      "events": ["enrollment.created"]})
        t.ok(r.is_problem(422), "refused: %s" % why, r)
    r = adm.post("/v1/webhooks", {"url": "https://hooks.example.com/x",
                                  "events": ["no.such.event"]})
    t.ok(r.is_problem(422), "an unknown event type is refused", r)


@case
def an_endpoint(t):
    w = world()
    adm = w.adm
    # ---- an endpoint ---------------------------------------------------
    r = endpoint()
    t.ok(r.status == 201 and r.json["secret"].startswith("whsec_") and
         len(base64.b64decode(r.json["secret"][6:])) >= 24,
         "an allowed loopback endpoint is created, its secret shown once", r)
    hook = r.json
    r = adm.get("/v1/webhooks")
    t.ok(r.status == 200 and len(r.json["items"]) == 1 and
         "secret" not in r.json["items"][0], "listed, without its secret", r)
    r = adm.get("/v1/webhooks/" + hook["id"])
    t.ok(r.status == 200 and "secret" not in r.json and
         r.json["failing"] is False, "read one, without its secret", r)
    r = adm.patch("/v1/webhooks/" + hook["id"], {"description": "renamed"})
    t.ok(r.status == 200 and r.json["description"] == "renamed",
         "an endpoint is changed", r)


@case
def enrollment_events(t):
    w = world()
    adm, rx = w.adm, w.rx
    hook = endpoint().json
    coh = cohort()
    # ---- events -----------------------------------------------------------
    a = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"email": "a@acme.test", "name": "A"}).json
    b = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"email": "b@acme.test", "name": "B"}).json
    adm.post("/v1/enrollments/%s/withdraw" % a["id"])
    want = [("enrollment.created", a["id"]), ("enrollment.created", b["id"]),
            ("enrollment.withdrawn", a["id"]),
            ("enrollment.promoted", b["id"])]

    def seen(r):
        return sorted((ty, dt.get("enrollment_id"))
                      for ty, dt in r.delivered())
    t.ok(rx.wait(lambda r: seen(r) == sorted(want)),
         "created, withdrawn and promoted events arrive", seen(rx))
    t.ok(rx.got and all(rx.verified(g) for g in rx.got),
         "every delivery's signature checks out",
         [g["sig"] for g in rx.got])
    t.ok(all(abs(int(g["ts"]) - time.time()) < 600 for g in rx.got),
         "webhook-timestamp is the time of sending")
    t.ok(len({g["id"] for g in rx.got}) == len(rx.got),
         "each delivery has its own webhook-id")
    body = json.loads(rx.got[0]["body"])
    t.ok(set(body) == {"type", "timestamp", "data"},
         "the body is {type, timestamp, data}", body)

    r = adm.post("/v1/webhooks/%s/test" % hook["id"])
    t.ok(r.status == 202, "a test event is queued", r)
    t.ok(rx.wait(lambda r: any(ty == "webhook.test"
                               for ty, _ in r.delivered())),
         "the test event arrives")


@case
def other_events(t):
    w = world()
    d, adm, rx, url = w.d, w.adm, w.rx, w.url
    endpoint()
    # ---- the other events: a completed program, a quiz, a report job ------
    r = adm.post("/v1/webhooks", {"url": url, "events": [
        "enrollment.completed", "quiz.submitted", "report_job.done"]})
    t.ok(r.status == 201, "an endpoint for the other events", r)
    rx2 = r.json
    qprog = adm.post("/v1/programs", {"title": "Q", "status":
                                      "published"}).json
    qmod = adm.post("/v1/programs/%s/modules" % qprog["id"],
                    {"title": "M"}).json
    quiz = adm.post("/v1/modules/%s/assessments" % qmod["id"], {
        "title": "Quiz", "kind": "quiz", "pass_score": 50, "questions": [
            {"kind": "single_choice", "prompt": "2 + 2?",
             "options": ["4", "5"], "answer": 0}]}).json
    qcoh = adm.post("/v1/cohorts", {"program_id": qprog["id"], "name": "QC",
                                    "starts_at": "2026-01-01T00:00:00Z",
                                    "ends_at": "2099-01-01T00:00:00Z"}).json
    adm.post("/v1/users", {"email": "q@acme.test", "name": "Q",
                           "role": "learner", "password": PW})
    qe = adm.post("/v1/cohorts/%s/enrollments" % qcoh["id"],
                  {"email": "q@acme.test", "name": "Q"}).json
    learner = login(d, "acme", "q@acme.test")
    r = learner.post("/v1/assessments/%s/submissions" % quiz["id"],
                     {"answers": [0]})
    t.ok(r.status in (200, 201), "the learner answers the quiz", r)
    r = adm.post("/v1/reports/jobs", {"report": "gradebook",
                                      "cohort_id": qcoh["id"]})
    t.ok(r.status == 202, "a report job is asked for", r)
    job = r.json.get("id")

    def other(r):
        return {ty: dt for ty, dt in r.delivered()
                if ty in ("enrollment.completed", "quiz.submitted",
                          "report_job.done")}
    got = rx.wait(lambda r: len(other(r)) == 3, 90) and other(rx)
    t.ok(got and got["quiz.submitted"].get("assessment_id") == quiz["id"] and
         got["enrollment.completed"].get("enrollment_id") == qe["id"] and
         got["report_job.done"].get("report_job_id") == job,
         "enrollment.completed, quiz.submitted and report_job.done arrive",
         other(rx))
    # Signed with that endpoint's own secret; then set aside, so that the
    # checks below see the first endpoint's deliveries alone.
    mine = ("enrollment.completed", "quiz.submitted", "report_job.done")
    with rx.cond:
        ours = [g for g in rx.got
                if json.loads(g["body"])["type"] in mine]
        first = rx.secret
        rx.secret = rx2["secret"]
        signed = all(rx.verified(g) for g in ours)
        rx.secret = first
        rx.got = [g for g in rx.got if g not in ours]
    t.ok(ours and signed, "signed with their endpoint's own secret")
    adm.delete("/v1/webhooks/" + rx2["id"])


@case
def receiver_down(t):
    w = world()
    adm, rx = w.adm, w.rx
    hook = endpoint().json
    coh = cohort()
    # ---- the receiver down for a while -----------------------------------
    with rx.cond:
        rx.status = 500
    c = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"email": "c@acme.test", "name": "C"}).json

    def failed_once():
        r = adm.get("/v1/webhooks/%s/deliveries" % hook["id"])
        return [m for m in r.json["items"]
                if m["payload"]["data"].get("enrollment_id") == c["id"] and
                m["attempts"] >= 1 and m["last_error"]]
    rows = None
    deadline = time.time() + 60
    while not rows and time.time() < deadline:
        rows = failed_once()
        time.sleep(0.3)
    t.ok(rows and rows[0]["state"] == "unsent" and "500" in
         rows[0]["last_error"], "a 500 leaves the delivery for a retry",
         rows)
    t.ok(adm.get("/v1/webhooks/" + hook["id"]).json["failing"] is True,
         "the endpoint shows it is failing")
    with rx.cond:
        rx.status = 200
    t.ok(rx.wait(lambda r: ("enrollment.created", c["id"]) in
                 [(ty, dt.get("enrollment_id")) for ty, dt in
                  r.delivered()], 90),
         "once the receiver is back, the event arrives")
    t.ok(all(rx.verified(g) for g in rx.got), "signed, retries too")
    ok = False
    deadline = time.time() + 30
    while not ok and time.time() < deadline:
        ok = adm.get("/v1/webhooks/" + hook["id"]).json["failing"] is False
        time.sleep(0.3)
    t.ok(ok, "and the endpoint is no longer failing")


@case
def not_allowed(t):
    """Last: the daemon is restarted without COHORTD_WEBHOOK_ALLOW."""
    w = world()
    d, pg, db, rx = w.d, w.pg, w.db, w.rx
    hook = endpoint().json
    # ---- the same loopback endpoint, not allowed: never reached ---------
    d.stop()
    d = Cohortd(pg.url(db), state_dir=d.state_dir,
                env={"COHORTD_ROLE": "api"})
    adm = login(d, "acme", "admin@acme.test")
    n = len(rx.got)
    r = adm.post("/v1/webhooks/%s/test" % hook["id"])
    tid = r.json["id"]

    def gave_up():
        r = adm.get("/v1/webhooks/%s/deliveries" % hook["id"])
        return [m for m in r.json["items"] if m["id"] == tid and
                m["state"] == "failed"]
    rows = None
    deadline = time.time() + 60
    while not rows and time.time() < deadline:
        rows = gave_up()
        time.sleep(0.3)
    t.ok(rows and len(rx.got) == n,
         "without COHORTD_WEBHOOK_ALLOW a loopback endpoint is not "
         "reached: the delivery fails", rows)
    r = adm.get("/v1/outbox?channel=webhook")
    t.ok(r.status == 200 and r.json["items"] and
         all(m["channel"] == "webhook" for m in r.json["items"]),
         "GET /v1/outbox lists webhook deliveries too", r)

    r = adm.delete("/v1/webhooks/" + hook["id"])
    t.ok(r.status == 204, "an endpoint is deleted", r)
    r = adm.get("/v1/webhooks/" + hook["id"])
    t.ok(r.is_problem(404), "and is gone", r)
    d.stop()


run()
