"""nudges.py - scheduled notifications (issues #14 and #18): the "due in
24 hours" email, the daily reminder at reminder_time, re-engagement after
3, 7 and 14 study days without activity, and the learner.nudged webhook,
each made once, through a real SMTP server (aiosmtpd) and real HTTP
receivers that check every signature.

No clock is moved: due dates fall within 24 hours because the cohort
started 12 hours ago and the quiz is due a day after its start; "now" is
past a reminder_time of 00:00 (in a timezone where it is about noon);
idle days are history written at past
timestamps with psql.  Two daemons share the database and both scan every
second (COHORTD_NUDGE_INTERVAL=1), so "once" holds with scans running
concurrently.  Each learner's "no" case is set up before anything could
nudge them, so a nudge missing is a rule kept, not a scan not yet run.

Cases run alone by name (python3 tests/integration/nudges.py totals):
the timeline is kept in fixtures, each standing on the one before -
world (tenants, courses, learners), primed (preferences, the "no" cases,
then the triggers), delivered (the emails the triggers bring), comeback
(gus's new run of idle days) - and the cases check what they kept.
"""
import datetime
import json
import os
import subprocess
import time
import types

from cases import case, fixture, run
import hookbox
from smtpbox import Inbox, parts, smtp_start
from harness import PW, Cohortd, Postgres, free_port, login, setup_tenant


class Receiver(hookbox.Receiver):
    """hookbox's receiver (always answering 200), counted and read as
    the events it got."""

    def events(self):
        with self.cond:
            return [json.loads(g["body"]) for g in self.got]

    def wait(self, n, timeout=20):
        return super().wait(lambda r: len(r.got) >= n, timeout)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def pointers(r):
    return sorted(e["pointer"] for e in (r.json or {}).get("errors", []))


@fixture
def world():
    """SMTP server, receivers rx (acme) and rz (zeta), two daemons
    scanning every second, tenants acme and zeta with a learner.nudged
    endpoint each (the responses kept: hooks), their courses and
    learners."""
    w = types.SimpleNamespace()
    w.inbox = inbox = Inbox()
    port = free_port()
    w.smtp = smtp_start(inbox, port)
    w.rx, w.rz = rx, rz = Receiver(), Receiver()
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    env = {"COHORTD_ROLE": "api", "COHORTD_NUDGE_INTERVAL": "1",
           "COHORTD_WEBHOOK_ALLOW": "127.0.0.1",
           "COHORTD_SMTP_URL": "smtp://127.0.0.1:%d" % port,
           "COHORTD_SMTP_FROM": "noreply@cohortd.test"}
    w.d = d = Cohortd(pg.url(db), env=env)
    w.d2 = Cohortd(pg.url(db), env=env)
    w.adm = adm = setup_tenant(d, "acme")
    w.zad = zad = setup_tenant(d, "zeta")
    now = datetime.datetime.now(datetime.timezone.utc)
    # Learners with a reminder live where it is about noon now, so that the
    # test never spans their midnight (a new day would remind them again).
    k = 12 - now.hour
    w.tz = "UTC" if k == 0 else "Etc/GMT%+d" % -k

    w.hooks = []
    for a, r_ in ((adm, rx), (zad, rz)):
        r = a.post("/v1/webhooks", {"url": "http://127.0.0.1:%d/h" % r_.port,
                                    "events": ["learner.nudged"]})
        w.hooks.append(r)
        r_.secret = r.json["secret"] if r.status == 201 else ""

    def course(a, title, quiz):
        """A published program of one module (a 5-minute lesson and, with
        quiz, a quiz with no due date yet), and a cohort that started 12
        hours ago."""
        p = a.post("/v1/programs", {"title": title,
                                    "status": "published"}).json
        m = a.post("/v1/programs/%s/modules" % p["id"], {"title": "M"}).json
        les = a.post("/v1/modules/%s/lessons" % m["id"],
                     {"title": title + " lesson",
                      "estimated_minutes": 5}).json["id"]
        q = None
        if quiz:
            r = a.post("/v1/modules/%s/assessments" % m["id"], {
                "title": quiz, "kind": "quiz", "estimated_minutes": 5,
                "questions": [{"kind": "true_false", "prompt": "Locks?",
                               "answer": True, "points": 1}]})
            assert r.status == 201, r
            q = r.json["id"]
        c = a.post("/v1/cohorts", {
            "program_id": p["id"], "name": title + " cohort",
            "starts_at": iso(now - datetime.timedelta(hours=12)),
            "ends_at": "2099-01-01T00:00:00Z"}).json["id"]
        return c, les, q

    def learner(a, slug, name, cohort, client=True):
        """Without client, no password (hashing one costs a quarter of a
        second on a busy host): the learner then gets an invitation."""
        email = "%s@%s.test" % (name, slug)
        u = {"email": email, "name": name.title(), "role": "learner"}
        if client:
            u["password"] = PW
        r = a.post("/v1/users", u)
        assert r.status == 201, r
        uid = r.json["id"]
        r = a.post("/v1/cohorts/%s/enrollments" % cohort, {"user_id": uid})
        assert r.status in (200, 201), r
        return uid, r.json["id"], login(d, slug, email) if client else None

    def history(n, lesson, days):
        """n enrolled 30 days ago, and last active days ago: a lesson
        completed then (the enrollment's last activity, as the API
        records it with the completion)."""
        pg.psql("UPDATE enrollments SET enrolled_at = now() - interval "
                "'30 days', last_activity_at = now() - interval '%d days' "
                "WHERE id = '%s'; INSERT INTO lesson_completions (tenant_id, "
                "enrollment_id, lesson_id, completed_at) SELECT tenant_id, "
                "id, '%s', now() - interval '%d days' FROM enrollments WHERE "
                "id = '%s'" % (days, enr[n], lesson, days, enr[n]), db)
    w.history = history

    w.c1, w.l1, w.quiz = course(adm, "Locks", "Soon quiz")
    w.c2, w.l2, _ = course(adm, "Races", None)
    w.cz, _, w.zquiz = course(zad, "Zeta", "Zeta quiz")
    zmod = zad.get("/v1/assessments/" + w.zquiz).json["module_id"]
    w.zquiz2 = zad.post("/v1/modules/%s/assessments" % zmod, {
        "title": "Zeta quiz 2", "kind": "quiz", "questions": [
            {"kind": "true_false", "prompt": "Races?", "answer": True,
             "points": 1}]}).json["id"]
    w.ids = ids = {}
    w.cl = cl = {}
    w.enr = enr = {}
    for n in ("ada", "bea", "cy", "dee", "eve"):
        ids[n], enr[n], cl[n] = learner(adm, "acme", n, w.c1)
    for n in ("fay", "gus", "hal", "ivy", "jo", "kit"):
        ids[n], enr[n], cl[n] = learner(adm, "acme", n, w.c2,
                                        n in ("fay", "ivy"))
    ids["zed"], enr["zed"], cl["zed"] = learner(zad, "zeta", "zed", w.cz,
                                                False)
    return w


@fixture
def primed():
    """In the original order: ada's preferences set and refused, the "no"
    cases, then the triggers; every response kept in r, by name."""
    w = world()
    pg, db, adm, zad, cl, enr, tz = w.pg, w.db, w.adm, w.zad, w.cl, w.enr, \
        w.tz
    quiz, l1, l2 = w.quiz, w.l1, w.l2
    r = {}
    # ---- preferences: the nudges' switches ------------------------------
    r["ada_get"] = cl["ada"].get("/v1/me/preferences")
    r["ada_off"] = cl["ada"].put("/v1/me/preferences", {"nudges": "off"})
    r["ada_bad_kinds"] = cl["ada"].put("/v1/me/preferences", {
        "nudges": {"daily_reminder": "no", "sms": True}})
    r["not_object"] = []
    for c, path in ((cl["ada"], "/v1/me/preferences"),
                    (adm, "/v1/settings/nudges")):
        r["not_object"].append((path, c.request(
            "PUT", path, raw=b"[1, 2, 3]",
            headers={"Content-Type": "application/json"})))
    r["ada_true_null"] = cl["ada"].put("/v1/me/preferences", {
        "nudges": {"re_engagement": None, "daily_reminder": True}})

    # ---- the "no" cases, set before anything could nudge them ----------
    # bea passes the quiz before it has a due date.
    r["bea"] = cl["bea"].post("/v1/assessments/%s/submissions" % quiz,
                              {"answers": [True]})
    # dee's plan is done: 5 minutes a day, and a 5-minute lesson today.
    r["dee_lesson"] = cl["dee"].post("/v1/lessons/%s/completion" % l1)
    r["dee_prefs"] = cl["dee"].put("/v1/me/preferences", {
        "daily_minutes": 5, "timezone": tz, "reminder_time": "00:00"})
    # eve turned the daily reminder off in the same request.
    r["eve_off"] = cl["eve"].put("/v1/me/preferences", {
        "timezone": tz, "reminder_time": "00:00",
        "nudges": {"daily_reminder": False}})
    # A later PUT that leaves "nudges" out keeps her "no".
    r["eve_again"] = cl["eve"].put("/v1/me/preferences",
                                   {"timezone": tz, "reminder_time": "00:00"})
    # ivy turned re-engagement off before her history was written.
    r["ivy_off"] = cl["ivy"].put("/v1/me/preferences",
                                 {"nudges": {"re_engagement": False}})

    # jo's last lesson was 15 days ago, but she answered a review
    # question yesterday (review answers leave the enrollment's last
    # activity alone): not idle.  kit's enrollment is the demo's.
    qid = adm.get("/v1/assessments/" + quiz).json["questions"][0]["id"]
    pg.psql("BEGIN; UPDATE enrollments SET enrolled_at = now() - interval "
            "'30 days', last_activity_at = now() - interval '15 days' "
            "WHERE id = '%s'; INSERT INTO review_answers (tenant_id, "
            "user_id, question_id, answered_at, correct) SELECT tenant_id, "
            "user_id, '%s', now() - interval '1 day', true FROM enrollments "
            "WHERE id = '%s'; COMMIT" % (enr["jo"], qid, enr["jo"]), db)
    pg.psql("UPDATE enrollments SET source = 'demo' WHERE id = '%s'"
            % enr["kit"], db)

    # ---- now the triggers ------------------------------------------------
    # The quizzes fall due a day after the cohorts' start: in 12 hours.
    r["quiz_due"] = adm.patch("/v1/assessments/" + quiz, {"due_days": 1})
    zad.patch("/v1/assessments/" + w.zquiz, {"due_days": 1})
    r["cy_prefs"] = cl["cy"].put("/v1/me/preferences",
                                 {"timezone": tz, "reminder_time": "00:00"})
    for n, days in (("fay", 4), ("gus", 8), ("hal", 15), ("ivy", 8),
                    ("kit", 15)):
        w.history(n, l2, days)
    return types.SimpleNamespace(r=r)


@fixture
def delivered():
    """The emails the triggers bring, waited for in the original order:
    got[(name, subject)] is the message or None."""
    w = world()
    primed()
    inbox = w.inbox
    got = {}
    for n in ("ada", "cy", "dee", "eve"):
        got[(n, "Due in 24 hours")] = inbox.wait(
            "%s@acme.test" % n, 20, subject="Due in 24 hours")
    got[("zed", "Due in 24 hours")] = inbox.wait(
        "zed@zeta.test", 20, subject="Due in 24 hours")
    got[("cy", "minutes today")] = inbox.wait("cy@acme.test", 20,
                                              subject="minutes today")
    for n in ("fay", "gus", "hal"):
        got[(n, "days without")] = inbox.wait("%s@acme.test" % n, 20,
                                              subject="days without")
    return types.SimpleNamespace(got=got)


@fixture
def comeback():
    """After delivered: gus comes back 4 days ago after 8 days away, and
    his second "days without" email is waited for (again)."""
    w = world()
    delivered()
    # gus comes back 4 days ago after 8 days away: a new run of idle days.
    w.pg.psql("UPDATE enrollments SET last_activity_at = now() - interval "
              "'4 days' WHERE id = '%s'; INSERT INTO lesson_reviews "
              "(tenant_id, enrollment_id, lesson_id, reviewed_at) SELECT "
              "tenant_id, id, '%s', now() - interval '4 days' FROM "
              "enrollments WHERE id = '%s'"
              % (w.enr["gus"], w.l2, w.enr["gus"]), w.db)
    again = w.inbox.wait("gus@acme.test", 20, n=2, subject="days without")
    return types.SimpleNamespace(again=again)


@case
def endpoints(t):
    for r in world().hooks:
        t.ok(r.status == 201, "an endpoint takes learner.nudged", r)


@case
def preferences(t):
    # ---- preferences: the nudges' switches, validated -------------------
    p = primed().r
    r = p["ada_get"]
    t.ok(r.status == 200 and r.json.get("nudges") ==
         {"daily_reminder": True, "re_engagement": True},
         "preferences show both nudges on by default", r)
    r = p["ada_off"]
    t.ok(r.is_problem(422) and pointers(r) == ["/nudges"],
         "nudges that are not an object: 422 at /nudges", r)
    r = p["ada_bad_kinds"]
    t.ok(r.is_problem(422) and pointers(r) ==
         ["/nudges/daily_reminder", "/nudges/sms"],
         "a kind that is not a boolean and an unknown kind: 422, each "
         "with its pointer", r)
    for path, r in p["not_object"]:
        t.ok(r.is_problem(422), "PUT %s with a body that is not an "
             "object: 422, not 500" % path, r)
    r = p["ada_true_null"]
    t.ok(r.status == 200 and r.json["nudges"] ==
         {"daily_reminder": True, "re_engagement": True},
         "true and null (the tenant's default) are accepted", r)


@case
def no_cases(t):
    # ---- the "no" cases, set before anything could nudge them ----------
    p = primed().r
    r = p["bea"]
    t.ok(r.status == 201 and r.json["passed"], "bea passes the quiz", r)
    r = p["dee_lesson"]
    t.ok(r.status in (200, 201), "dee completes a lesson", r)
    r = p["dee_prefs"]
    t.ok(r.status == 200, "dee's reminder is at 00:00", r)
    r = p["eve_off"]
    t.ok(r.status == 200 and r.json["nudges"]["daily_reminder"] is False,
         "eve turns the daily reminder off", r)
    r = p["eve_again"]
    t.ok(r.status == 200 and r.json["nudges"]["daily_reminder"] is False,
         "a PUT without \"nudges\" keeps the reminder off", r)
    r = p["ivy_off"]
    t.ok(r.status == 200 and r.json["nudges"]["re_engagement"] is False,
         "ivy turns re-engagement off", r)


@case
def triggers(t):
    # ---- now the triggers ------------------------------------------------
    p = primed().r
    r = p["quiz_due"]
    t.ok(r.status == 200, "acme's quiz is due in 12 hours", r)
    r = p["cy_prefs"]
    t.ok(r.status == 200, "cy's reminder is at 00:00", r)


@case
def due_soon(t):
    # ---- due in 24 hours -------------------------------------------------
    g = delivered().got
    for n in ("ada", "cy", "dee", "eve"):
        got = g[(n, "Due in 24 hours")]
        t.ok(got is not None and "Soon quiz" in str(got[2]["Subject"]),
             "%s gets the due-soon email for the quiz" % n,
             got and got[2]["Subject"])
    got = g[("zed", "Due in 24 hours")]
    t.ok(got is not None and "Zeta quiz" in str(got[2]["Subject"]),
         "zeta's learner gets zeta's due-soon email", got and got[2]["Subject"])
    if got is not None:
        text = parts(got[2]).get("text/plain", "")
        t.ok("Zeta quiz" in text and "not completed" in text and
             "Soon quiz" not in text, "it names zeta's quiz only", text)


@case
def daily_reminder(t):
    # ---- the daily reminder ----------------------------------------------
    got = delivered().got[("cy", "minutes today")]
    t.ok(got is not None, "cy gets the daily reminder, past reminder_time",
         got and got[2]["Subject"])
    if got is not None:
        text = parts(got[2]).get("text/plain", "")
        t.ok("Locks lesson" in text or "Soon quiz" in text,
             "it names the first item of today's plan", text)


@case
def re_engagement(t):
    # ---- re-engagement ---------------------------------------------------
    g = delivered().got
    for n, k in (("fay", 3), ("gus", 7), ("hal", 14)):
        got = g[(n, "days without")]
        t.ok(got is not None and str(got[2]["Subject"]).startswith(
            "%d days" % k), "%s, idle since %s, gets the %d-day nudge"
             % (n, {"fay": "4 days", "gus": "8 days", "hal": "15 days"}[n],
                k), got and got[2]["Subject"])
    got = comeback().again
    t.ok(got is not None and str(got[2]["Subject"]).startswith("3 days"),
         "a new run of idle days nudges again from 3",
         got and got[2]["Subject"])


@case
def totals(t):
    # Every nudge is made and queued (gus's second came from a scan after
    # the last change).  Let each daemon scan twice more, then count.
    w = world()
    pg, db, adm, inbox = w.pg, w.db, w.adm, w.inbox
    delivered()
    comeback()
    time.sleep(2)
    want = {("due_soon", n) for n in ("ada", "cy", "dee", "eve")}
    want |= {("daily_reminder", "cy")}
    want |= {("re_engagement", n) for n in ("fay", "gus", "hal")}
    rows = pg.psql("SELECT u.email, n.kind, coalesce(n.days, 0) FROM nudges "
                   "n JOIN users u ON u.tenant_id = n.tenant_id AND u.id = "
                   "n.user_id ORDER BY 1, 2, 3", db).split("\n")
    made = [tuple(x.split("|")) for x in rows if x]
    t.eq(made, sorted([("ada@acme.test", "due_soon", "0"),
                       ("cy@acme.test", "daily_reminder", "0"),
                       ("cy@acme.test", "due_soon", "0"),
                       ("dee@acme.test", "due_soon", "0"),
                       ("eve@acme.test", "due_soon", "0"),
                       ("fay@acme.test", "re_engagement", "3"),
                       ("gus@acme.test", "re_engagement", "3"),
                       ("gus@acme.test", "re_engagement", "7"),
                       ("hal@acme.test", "re_engagement", "14"),
                       ("zed@zeta.test", "due_soon", "0")]),
         "each nudge made once, by two daemons scanning every second: "
         "none for a passed quiz, a done plan, a nudge turned off, a "
         "review answered yesterday, a demo enrollment")
    out = pg.psql("SELECT recipient || ' ' || event || ' ' || count(*) FROM "
                  "outbox WHERE channel = 'email' AND event IN ('due_soon', "
                  "'daily_reminder', 're_engagement') GROUP BY recipient, "
                  "event HAVING count(*) > (CASE WHEN recipient = "
                  "'gus@acme.test' THEN 2 ELSE 1 END)", db)
    t.eq(out, "", "and each queued one email")
    r = adm.get("/v1/outbox?channel=email&limit=100")
    t.ok(r.status == 200 and sorted(
        m["recipient"] for m in r.json["items"] if m["event"] ==
        "due_soon") == ["ada@acme.test", "cy@acme.test", "dee@acme.test",
                        "eve@acme.test"], "the admin's outbox lists acme's "
         "due-soon emails, not zeta's", r)
    for n, subj in (("bea", "Due in 24 hours"), ("dee", "minutes today"),
                    ("eve", "minutes today"), ("ivy", "days without"),
                    ("jo", "days without"), ("kit", "days without")):
        t.eq(len(inbox.to("%s@acme.test" % n, subj)), 0,
             "no %r email for %s" % (subj, n))
    for n, subj, k in (("ada", "Due in 24 hours", 1), ("cy", "minutes today",
                       1), ("hal", "days without", 1),
                       ("gus", "days without", 2)):
        t.eq(len(inbox.to("%s@acme.test" % n, subj)), k,
             "%s received %d %r email(s)" % (n, k, subj))


@case
def learner_nudged(t):
    w = world()
    rx, rz, ids, quiz = w.rx, w.rz, w.ids, w.quiz
    comeback()
    # ---- learner.nudged --------------------------------------------------
    t.ok(rx.wait(9) and rz.wait(1), "the webhooks are delivered",
         (len(rx.got), len(rz.got)))
    time.sleep(0.5)
    t.ok(all(rx.verified(g) for g in rx.got) and
         all(rz.verified(g) for g in rz.got),
         "every learner.nudged delivery is signed with its endpoint's secret")
    byid = {v: k for k, v in ids.items()}
    seen = sorted((e["data"]["kind"], byid.get(e["data"]["user_id"], "?"),
                   e["data"].get("days", 0)) for e in rx.events())
    t.eq(seen, sorted([("due_soon", "ada", 0), ("due_soon", "cy", 0),
                       ("due_soon", "dee", 0), ("due_soon", "eve", 0),
                       ("daily_reminder", "cy", 0),
                       ("re_engagement", "fay", 3),
                       ("re_engagement", "gus", 3),
                       ("re_engagement", "gus", 7),
                       ("re_engagement", "hal", 14)]),
         "acme's endpoint gets one learner.nudged per nudge, acme's only")
    t.ok(all(e["type"] == "learner.nudged" for e in rx.events()),
         "typed learner.nudged")
    ev = [e for e in rx.events() if e["data"]["kind"] == "due_soon"]
    t.ok(ev and ev[0]["data"].get("assessment_id") == quiz and
         ev[0]["data"].get("due_at"), "a due-soon event names the "
         "assessment and its due date", ev[:1])
    t.eq([(e["data"]["kind"], byid.get(e["data"]["user_id"]))
          for e in rz.events()], [("due_soon", "zed")],
         "zeta's endpoint gets zeta's nudge only")


@case
def defaults(t):
    # After the cases above: it turns re-engagement off for acme and ada
    # idle.
    w = world()
    pg, db, adm, zad, cl, ids, inbox = w.pg, w.db, w.adm, w.zad, w.cl, \
        w.ids, w.inbox
    l1, history = w.l1, w.history
    comeback()
    # ---- the tenant's defaults -------------------------------------------
    r = adm.get("/v1/settings/nudges")
    t.ok(r.status == 200 and r.json == {"daily_reminder": True,
                                        "re_engagement": True},
         "an admin reads the tenant's defaults: both on", r)
    r = adm.put("/v1/settings/nudges", {"re_engagement": 1, "sms": True})
    t.ok(r.is_problem(422) and pointers(r) == ["/re_engagement", "/sms"],
         "defaults are validated, 422 with pointers", r)
    r = adm.put("/v1/settings/nudges", {"re_engagement": False})
    t.ok(r.status == 200 and r.json == {"daily_reminder": True,
                                        "re_engagement": False},
         "an admin turns re-engagement off by default", r)
    r = cl["fay"].get("/v1/me/preferences")
    t.ok(r.status == 200 and r.json["nudges"] ==
         {"daily_reminder": True, "re_engagement": False},
         "a learner without a choice follows the default", r)
    r = cl["ada"].get("/v1/me/preferences")
    t.ok(r.status == 200 and r.json["nudges"]["daily_reminder"] is True,
         "a learner's own choice is kept", r)
    t.ok(zad.get("/v1/settings/nudges").json == {"daily_reminder": True,
                                                  "re_engagement": True},
         "another tenant's defaults are its own")
    t.ok(cl["ada"].get("/v1/settings/nudges").is_problem(403) and
         cl["ada"].put("/v1/settings/nudges", {}).is_problem(403),
         "learners cannot read or set the defaults")
    # With the default off, a learner idle 8 days is not nudged.
    history("ada", l1, 8)
    # ivy, idle 8 days with re-engagement off, turns it on herself.
    r = cl["ivy"].put("/v1/me/preferences", {"nudges": {
        "re_engagement": True}})
    t.ok(r.status == 200 and r.json["nudges"]["re_engagement"] is True,
         "ivy turns re-engagement back on", r)
    got = inbox.wait("ivy@acme.test", 20, subject="days without")
    t.ok(got is not None and str(got[2]["Subject"]).startswith("7 days"),
         "one who chose re-engagement gets it, the default off",
         got and got[2]["Subject"])
    # The scan that made ivy's also saw ada's history, written before.
    t.eq(pg.psql("SELECT count(*) FROM nudges WHERE user_id = '%s' AND "
                 "kind = 're_engagement'" % ids["ada"], db), "0",
         "one following the default (off) does not")


@case
def two_scans(t):
    # Last: it stops both daemons and the SMTP server.
    w = world()
    pg, db, zquiz2 = w.pg, w.db, w.zquiz2
    w.d2.stop()
    w.d.stop()
    # ---- two scans at once, in the open --------------------------------
    # The daemons are gone; a second quiz falls due for zed, and a first
    # session scans zeta and keeps its transaction open (and zeta's scan
    # lock): a second scan meanwhile skips zeta, and after the first
    # commits, a third finds the nudge made.
    pg.psql("UPDATE assessments SET due_days = 1 WHERE id = '%s'" % zquiz2,
            db)
    zeta = pg.psql("SELECT id FROM tenants WHERE slug = 'zeta'", db)
    first = subprocess.Popen(
        [os.path.join(pg.bindir, "psql"), "-X", "-q", "-At", "-v",
         "ON_ERROR_STOP=1", "-d", pg.url(db)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True)
    first.stdin.write("BEGIN; SET LOCAL ROLE cohortd_app; SELECT "
                      "nudge_scan_in('%s');\n" % zeta)
    first.stdin.flush()
    got = {"a": first.stdout.readline().strip()}
    got["b"] = pg.psql("SET ROLE cohortd_app; SELECT nudge_scan_in('%s')"
                       % zeta, db)
    first.stdin.write("COMMIT;\n")
    first.stdin.close()
    first.wait(30)
    got["c"] = pg.psql("SET ROLE cohortd_app; SELECT nudge_scan_in('%s')"
                       % zeta, db)
    t.eq(got, {"a": "1", "b": "0", "c": "0"}, "a scan of a tenant another "
         "is scanning skips it; the first makes the nudge, a later one none")
    t.eq(pg.psql("SELECT count(*) FROM nudges WHERE key = '%s'; SELECT "
                 "count(*) FROM outbox WHERE recipient = 'zed@zeta.test' AND "
                 "event = 'due_soon' AND subject LIKE '%%quiz 2'" % zquiz2,
                 db), "1\n1", "one record and one email")
    w.smtp.stop()


run()
