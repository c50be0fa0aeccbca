"""today.py - the microlearning rhythm (issue #18): concepts, preferences,
today's plan, SM-2 spaced review, what the grader found, streaks and pace.

Days pass by writing history at past timestamps with psql (answers,
completions, graded submissions), never by waiting.  The daemon runs as
--role=api: grading is not under test here, so a graded submission with a
verdict is written directly, as a grader would record it.  Cases run alone
by name: python3 tests/integration/today.py pace
"""
import datetime
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, login, setup_tenant, PW


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def pointers(r):
    return sorted(e["pointer"] for e in (r.json or {}).get("errors", []))


def learner(adm, d, slug, name, cohort):
    email = "%s@%s.test" % (name, slug)
    r = adm.post("/v1/users", {"email": email, "name": name,
                               "role": "learner", "password": PW})
    assert r.status == 201, r
    uid = r.json["id"]
    r = adm.post("/v1/cohorts/%s/enrollments" % cohort, {"user_id": uid})
    assert r.status in (200, 201), r
    return uid, r.json["id"], login(d, slug, email)


def fits(today):
    items = today["items"]
    total = sum(i["estimated_minutes"] for i in items)
    return total <= today["minutes_budget"] or len(items) == 1



@fixture
def course():
    """Program Concurrency, published: module Locks (lessons l1, l2 and a
    quiz of questions qa, qb) and module Races, which requires it
    (lessons l3, l4 and the catalog exercise bank-transfers, its concepts
    changed to deadlock); cohort Long, started three days ago.  The
    responses the concepts case checks are kept."""
    c = types.SimpleNamespace()
    c.pg = Postgres()
    c.db = c.pg.new_database()
    c.d = Cohortd(c.pg.url(c.db), args=["--role=api"])
    adm = c.adm = setup_tenant(c.d, "acme")
    r = adm.post("/v1/programs", {"title": "Concurrency"})
    c.prog = prog = r.json["id"]
    m1 = adm.post("/v1/programs/%s/modules" % prog, {"title": "Locks"}).json
    m2 = adm.post("/v1/programs/%s/modules" % prog, {"title": "Races"}).json
    c.m1, c.m2 = m1, m2
    adm.patch("/v1/modules/" + m2["id"], {"prerequisites": [m1["id"]]})
    c.lesson_made = adm.post("/v1/modules/%s/lessons" % m1["id"],
                             {"title": "Mutexes", "estimated_minutes": 5,
                              "concepts": ["mutual-exclusion"]})
    c.l1 = c.lesson_made.json["id"]
    c.l2 = adm.post("/v1/modules/%s/lessons" % m1["id"],
                    {"title": "Condition variables",
                     "estimated_minutes": 4}).json["id"]
    c.l2_patched = adm.patch("/v1/lessons/" + c.l2,
                             {"concepts": ["lock-ordering"]})
    c.quiz_made = adm.post("/v1/modules/%s/assessments" % m1["id"], {
        "title": "Check: locks", "kind": "quiz", "estimated_minutes": 5,
        "questions": [
            {"kind": "true_false", "prompt": "A mutex orders all memory?",
             "answer": False, "points": 1, "concepts": ["mutual-exclusion"],
             "explanation": "It orders what happens under the lock only."},
            {"kind": "single_choice", "prompt": "counter++ from two threads",
             "options": ["is safe", "is a data race"], "answer": 1,
             "points": 4, "concepts": ["data-race"]}]})
    c.quiz = c.quiz_made.json["id"]
    c.qa, c.qb = [q["id"] for q in c.quiz_made.json["questions"]]
    c.l3 = adm.post("/v1/modules/%s/lessons" % m2["id"],
                    {"title": "The lost update", "estimated_minutes": 3,
                     "concepts": ["data-race"]}).json["id"]
    c.l4 = adm.post("/v1/modules/%s/lessons" % m2["id"],
                    {"title": "Finding races", "estimated_minutes": 6,
                     "concepts": ["data-race", "mutual-exclusion"]}).json["id"]
    c.imported = adm.post("/v1/exercises/import", {"catalog": "bank-transfers"})
    c.ex = ex = c.imported.json["id"]
    r = adm.post("/v1/modules/%s/assessments" % m2["id"], {
        "title": "Bank transfers", "kind": "exercise", "exercise_id": ex,
        "estimated_minutes": 30})
    c.bank = r.json["id"]
    c.ex_patched = adm.patch("/v1/exercises/" + ex, {"concepts": ["deadlock"]})
    adm.patch("/v1/programs/" + prog, {"status": "published"})
    c.now = now = time.time()
    r = adm.post("/v1/cohorts", {"program_id": prog, "name": "Long",
                                 "starts_at": iso(now - 3 * 86400),
                                 "ends_at": iso(now + 60 * 86400),
                                 "timezone": "America/New_York"})
    c.long_c = r.json["id"]
    return c


@case
def concepts(t):
    # ---- concepts on content ---------------------------------------------
    c = course()
    adm, pg, db, m1, ex = c.adm, c.pg, c.db, c.m1, c.ex
    r = c.lesson_made
    t.ok(r.status == 201 and r.json["concepts"] == ["mutual-exclusion"],
         "a lesson is created with its concepts", r)
    r = adm.post("/v1/modules/%s/lessons" % m1["id"],
                 {"title": "Bad", "estimated_minutes": 4,
                  "concepts": ["Data Race", "ok"]})
    t.ok(r.is_problem(422) and pointers(r) == ["/concepts/0"],
         "a concept that is not a slug is refused with its pointer", r)
    r = c.l2_patched
    t.ok(r.status == 200 and r.json["concepts"] == ["lock-ordering"],
         "a lesson's concepts are updated", r)
    r = c.quiz_made
    t.ok(r.status == 201 and r.json["questions"][1]["concepts"] ==
         ["data-race"] and "explanation" in r.json["questions"][0],
         "quiz questions carry concepts and an explanation", r)
    r = c.imported
    t.ok(r.status == 201 and "data-race" in r.json.get("concepts", []),
         "a catalog exercise brings its concepts", r)
    r = adm.get("/v1/catalog/exercises")
    t.ok(r.status == 200 and all("concepts" in x for x in r.json["items"])
         and all(x["concepts"] for x in r.json["items"]),
         "every catalog exercise is tagged with concepts", r)
    r = adm.patch("/v1/exercises/" + ex, {"concepts": ["deadlock", "BAD"]})
    t.ok(r.is_problem(422) and pointers(r) == ["/concepts/1"],
         "an exercise's concepts are validated", r)
    r = c.ex_patched
    t.ok(r.status == 200 and r.json["concepts"] == ["deadlock"],
         "an exercise's concepts are updated with a new version", r)
    got = pg.psql(
        "SELECT string_agg(coalesce(verdict_concept(v, r::jsonb), '-'), ' ' "
        "ORDER BY n) FROM (VALUES (1, 'data_race', NULL), (2, 'deadlock', "
        "NULL), (3, 'blocking_call', NULL), (4, 'accepted', "
        "'{\"speedup\": {\"value\": 1.0}, \"score_breakdown\": "
        "{\"speedup\": 0}}'), (5, 'accepted', '{\"speedup\": {\"value\": "
        "2.0}, \"score_breakdown\": {\"speedup\": 30}}'), (6, 'accepted', "
        "'{\"speedup\": null}'), (7, 'wrong_output', NULL)) x(n, v, r)", db)
    t.eq(got, "data-race deadlock event-loop-blocking amdahl - - -",
         "verdicts map to concepts in verdict_concept()")


@case
def rhythm(t):
    """One learner's days: preferences, the plan, spaced review, what the
    grader found; another's streaks; the engagement report of both."""
    c = course()
    d, adm, pg, db = c.d, c.adm, c.pg, c.db
    l1, l2, l3, quiz, qa, qb = c.l1, c.l2, c.l3, c.quiz, c.qa, c.qb
    bank, ex, long_c = c.bank, c.ex, c.long_c
    ann_id, ann_enr, ann = learner(adm, d, "acme", "ann", long_c)

    # ---- preferences -------------------------------------------------------
    r = ann.get("/v1/assessments/" + quiz)
    t.ok(r.status == 200 and r.json["questions"][0]["concepts"] ==
         ["mutual-exclusion"] and
         all("explanation" not in q for q in r.json["questions"]),
         "learners see a question's concepts, not its explanation", r)
    r = ann.get("/v1/me/preferences")
    t.ok(r.status == 200 and r.json == {
        "daily_minutes": 10, "timezone": "America/New_York",
        "reminder_time": None, "study_days": ["mon", "tue", "wed", "thu",
                                              "fri", "sat", "sun"],
        "nudges": {"daily_reminder": True, "re_engagement": True}},
         "preferences default to 10 minutes, the cohort's zone, every day, "
         "both nudges on", r)
    r = ann.put("/v1/me/preferences", {
        "daily_minutes": 0, "timezone": "Mars/Olympus_Mons",
        "reminder_time": "25:00", "study_days": ["mon", "funday", "mon"]})
    t.ok(r.is_problem(422) and pointers(r) == [
        "/daily_minutes", "/reminder_time", "/study_days/1", "/study_days/2",
        "/timezone"], "invalid preferences: 422 with a pointer each", r)
    r = ann.put("/v1/me/preferences", {"daily_minutes": 241})
    t.ok(r.is_problem(422) and pointers(r) == ["/daily_minutes"],
         "more than 240 minutes a day is refused", r)
    r = ann.put("/v1/me/preferences", {"colour": "blue"})
    t.ok(r.is_problem(422) and pointers(r) == ["/colour"],
         "an unknown member is refused", r)
    r = ann.put("/v1/me/preferences", {"daily_minutes": 10,
                                       "timezone": "Europe/Paris",
                                       "reminder_time": "07:30",
                                       "study_days": ["sun", "mon"]})
    t.ok(r.status == 200 and r.json["timezone"] == "Europe/Paris" and
         r.json["reminder_time"] == "07:30" and
         r.json["study_days"] == ["mon", "sun"], "preferences are saved", r)
    ann.put("/v1/me/preferences", {"daily_minutes": 10,
                                   "timezone": "Europe/Paris"})
    r = adm.get("/v1/me/today")
    t.ok(r.is_problem(403), "today's plan is a learner's", r)

    # ---- the plan: budget and module order ---------------------------------
    r = ann.get("/v1/me/today")
    ids = [i["id"] for i in r.json["items"]] if r.status == 200 else None
    t.ok(r.status == 200 and ids == [l1, l2] and fits(r.json) and
         all(i["reason"] for i in r.json["items"]),
         "a 10-minute plan: the first lessons in order, within budget", r)
    t.ok(r.status == 200 and r.json["minutes_budget"] == 10 and
         r.json["pace"] is not None and r.json["pace"]["remaining_minutes"]
         == 5 + 4 + 5 + 3 + 6 + 30, "pace counts every minute left", r)
    ann.post("/v1/lessons/%s/completion" % l1)
    ann.post("/v1/lessons/%s/completion" % l2)
    r = ann.get("/v1/me/today")
    t.ok(r.status == 200 and [i["id"] for i in r.json["items"]] == [quiz],
         "then the module's quiz; the next module stays locked", r)

    # ---- spaced review -------------------------------------------------------
    r = ann.post("/v1/assessments/%s/submissions" % quiz,
                 {"answers": [True, 1]})
    t.ok(r.status == 201 and r.json["passed"],
         "the quiz passes with the first question wrong", r)
    r1 = ann.post("/v1/reviews/%s/answer" % qa, {"answer": True})
    r2 = ann.post("/v1/reviews/%s/answer" % qb, {"answer": 1})
    t.ok(r1.status == 200 and r1.json["correct"] is False and
         r1.json["explanation"].startswith("It orders") and
         r2.status == 200 and r2.json["correct"] is True and
         r2.json["explanation"] == "The right answer is: is a data race",
         "review answers are graded and explained", (r1, r2))
    if r1.status == 200 and r2.status == 200:
        wrong = parse(r1.json["next_due_at"])
        right = parse(r2.json["next_due_at"])
        soon = datetime.datetime.now(datetime.timezone.utc)
        t.ok(wrong < right and
             datetime.timedelta(hours=23) < wrong - soon <
             datetime.timedelta(hours=25) and
             right - soon > datetime.timedelta(days=5),
             "a wrong answer is due the next day, a right one days later",
             (r1.json, r2.json))
    r = ann.post("/v1/reviews/%s/answer" % qa, {})
    t.ok(r.is_problem(422) and pointers(r) == ["/answer"],
         "a review answer needs its answer", r)
    r = ann.post("/v1/reviews/not-an-id/answer", {"answer": 1})
    t.ok(r.is_problem(404), "an unknown review is 404", r)
    # A day passes for the wrong answer: it is due again.
    pg.psql("UPDATE review_cards SET due_at = now() - interval '1 hour', "
            "last_answered_at = now() - interval '25 hours' "
            "WHERE question_id = '%s'" % qa, db)
    r = ann.get("/v1/me/today")
    items = r.json["items"] if r.status == 200 else []
    t.ok(items and items[0]["kind"] == "review" and items[0]["id"] == qa and
         "wrong" in items[0]["reason"] and
         qb not in [i["id"] for i in items] and fits(r.json),
         "the wrong answer comes back first, the right one not yet", r)
    t.ok(items and [i["id"] for i in items if i["kind"] == "lesson"][:1] ==
         [l3], "then the next module's first lesson, now unlocked", r)

    # SM-2 from a clean card: right, right, right, wrong, right.
    got = pg.psql(
        "SELECT string_agg(extract(day FROM review_apply(u.tenant_id, u.id, "
        "'%s', c, t) - t)::int::text, ' ' ORDER BY t) FROM users u, (VALUES "
        "(true, now() - interval '60 days'), (true, now() - interval "
        "'50 days'), (true, now() - interval '40 days'), (false, now() - "
        "interval '20 days'), (true, now() - interval '10 days')) v(c, t) "
        "WHERE u.email = 'admin@acme.test'" % qb, db)
    t.eq(got, "1 6 15 1 1", "SM-2 intervals: 1, 6, 15 days; a miss starts over")
    pg.psql("DELETE FROM review_cards WHERE user_id = (SELECT id FROM users "
            "WHERE email = 'admin@acme.test')", db)

    # ---- what the grader found ------------------------------------------------
    pg.psql("INSERT INTO submissions (tenant_id, assessment_id, enrollment_id, "
            "user_id, attempt, status, source, exercise_id, exercise_version, "
            "verdict, score, final_score, passed, graded_at) SELECT "
            "tenant_id, '%s', '%s', '%s', 1, 'graded', 'int main;', '%s', 1, "
            "'data_race', 0, 0, false, clock_timestamp() FROM enrollments "
            "WHERE id = '%s'" % (bank, ann_enr, ann_id, ex, ann_enr), db)
    r = ann.get("/v1/me/today")
    items = r.json["items"] if r.status == 200 else []
    t.ok(len(items) >= 2 and items[0]["id"] == l3 and
         items[0]["kind"] == "lesson" and
         "Bank transfers" in items[0]["reason"] and
         "data race" in items[0]["reason"] and
         items[1]["kind"] == "review" and items[1]["id"] == qb and
         fits(r.json),
         "a data race puts the shortest data-race lesson and its questions "
         "first, with the reason", r)
    t.diag(items[0]["reason"] if items else r)
    ann.post("/v1/lessons/%s/completion" % l3)
    ann.post("/v1/reviews/%s/answer" % qb, {"answer": 1})
    r = ann.get("/v1/me/today")
    t.ok(r.status == 200 and not any("Bank transfers" in i["reason"]
                                     for i in r.json["items"]),
         "once the lesson is reviewed, the verdict asks for nothing more", r)
    # A lesson done before is reviewed by completing it again.
    pg.psql("INSERT INTO submissions (tenant_id, assessment_id, enrollment_id, "
            "user_id, attempt, status, source, exercise_id, exercise_version, "
            "verdict, score, final_score, passed, graded_at) SELECT "
            "tenant_id, '%s', '%s', '%s', 2, 'graded', 'int main;', '%s', 1, "
            "'data_race', 0, 0, false, clock_timestamp() FROM enrollments "
            "WHERE id = '%s'" % (bank, ann_enr, ann_id, ex, ann_enr), db)
    r = ann.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["items"] and
         r.json["items"][0]["id"] == l3, "a second data race: the lesson "
         "again", r)
    r = ann.post("/v1/lessons/%s/completion" % l3)
    r = ann.get("/v1/me/today")
    t.ok(r.status == 200 and not any(i["id"] == l3 for i in r.json["items"]),
         "completing a lesson again counts as its review", r)

    # ---- streaks across a timezone's midnight ----------------------------------
    bo_id, bo_enr, bo = learner(adm, d, "acme", "bo", long_c)
    bo.put("/v1/me/preferences", {"timezone": "Asia/Tokyo"})
    # 23:30 and 00:30 Tokyo time, two and one days ago: an hour apart, on
    # two days in Tokyo and on one day in UTC.
    pg.psql("INSERT INTO review_answers (tenant_id, user_id, question_id, "
            "answered_at, correct) SELECT u.tenant_id, u.id, '%s', "
            "(date_trunc('day', now() AT TIME ZONE 'Asia/Tokyo') + x) "
            "AT TIME ZONE 'Asia/Tokyo', true FROM users u, (VALUES "
            "(interval '-1 day -30 minutes'), (interval '-1 day 30 minutes'))"
            " v(x) WHERE u.id = '%s'" % (qa, bo_id), db)
    r = bo.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["streak"] == {"current": 2, "best": 2},
         "two days in a row in Tokyo: a streak of 2", r)
    bo.put("/v1/me/preferences", {"timezone": "UTC"})
    r = bo.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["streak"]["best"] == 1,
         "the same hour in UTC is one day", r)
    # Study days only: a day off between two study days breaks nothing.
    pg.psql("DELETE FROM review_answers WHERE user_id = '%s'; "
            "INSERT INTO review_answers (tenant_id, user_id, question_id, "
            "answered_at, correct) SELECT u.tenant_id, u.id, '%s', "
            "now() - x, true FROM users u, (VALUES (interval '2 days'), "
            "(interval '4 days')) v(x) WHERE u.id = '%s'" % (bo_id, qa, bo_id),
            db)
    dow = lambda days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][
        (datetime.datetime.now(datetime.timezone.utc) -
         datetime.timedelta(days=days)).weekday()]
    study = sorted({dow(0), dow(2), dow(4)},
                   key=["mon", "tue", "wed", "thu", "fri", "sat",
                        "sun"].index)
    bo.put("/v1/me/preferences", {"timezone": "UTC", "study_days": study})
    r = bo.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["streak"] == {"current": 2, "best": 2},
         "days that are not study days do not break a streak", r)
    bo.put("/v1/me/preferences", {"timezone": "UTC"})
    r = bo.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["streak"] == {"current": 0, "best": 1},
         "on every day, the missed days break it", r)

    # ---- the engagement report shows the rhythm -----------------------------
    pg.psql("UPDATE review_cards SET due_at = now() - interval '1 minute' "
            "WHERE user_id = '%s' AND question_id = '%s'" % (ann_id, qa), db)
    r = adm.get("/v1/reports/cohorts/%s/engagement" % long_c)
    eng = {x["user_id"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.ok(eng.get(bo_id, {}).get("streak_best") == 1 and
         eng[bo_id]["streak_current"] == 0 and eng[bo_id]["reviews_due"] == 0
         and eng.get(ann_id, {}).get("streak_current") == 1 and
         eng[ann_id]["reviews_due"] == 1,
         "the engagement report gains streaks and reviews due", r)
    c = adm.get("/v1/reports/cohorts/%s/engagement?format=csv" % long_c)
    head = c.body.decode().splitlines()[0] if c.status == 200 else ""
    t.ok("streak_current" in head and "reviews_due" in head,
         "and so does its CSV", c.body[:300])


@case
def pace(t):
    c = course()
    d, adm, prog, now, l1, quiz = c.d, c.adm, c.prog, c.now, c.l1, c.quiz
    # ---- pace ---------------------------------------------------------------
    r = adm.post("/v1/cohorts", {"program_id": prog, "name": "Short",
                                 "starts_at": iso(now - 86400),
                                 "ends_at": iso(now + 2 * 86400)})
    short_c = r.json["id"]
    cy_id, cy_enr, cy = learner(adm, d, "acme", "cy", short_c)
    r = cy.get("/v1/me/today")
    p = r.json.get("pace") if r.status == 200 else None
    t.ok(p is not None and p["on_track"] is False and
         p["remaining_minutes"] == 53 and
         parse(p["cohort_ends_at"]) == parse(iso(now + 2 * 86400)),
         "53 minutes at 10 a day in two days: off track", r)
    r = adm.get("/v1/reports/cohorts/%s/engagement" % short_c)
    eng = {x["user_id"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.ok("off_pace" in eng.get(cy_id, {}).get("at_risk_reasons", []),
         "the engagement report puts a learner off pace at risk", r)
    cy.put("/v1/me/preferences", {"daily_minutes": 60})
    r = cy.get("/v1/me/today")
    p = r.json.get("pace") if r.status == 200 else None
    t.ok(p is not None and p["on_track"] is True and
         p["planned_finish"] == r.json["date"],
         "at 60 minutes a day: on track, done today", r)
    re_ = adm.get("/v1/reports/cohorts/%s/engagement" % short_c)
    eng = {x["user_id"]: x for x in re_.json["items"]} \
        if re_.status == 200 else {}
    t.ok(cy_id in eng and "off_pace" not in eng[cy_id]["at_risk_reasons"],
         "and not once back on track", re_)
    t.ok(r.status == 200 and r.json["items"][0]["id"] == l1 and fits(r.json),
         "a larger budget holds more items, still in order", r)
    r = cy.put("/v1/me/preferences", {"daily_minutes": 1})
    r = cy.get("/v1/me/today")
    t.ok(r.status == 200 and len(r.json["items"]) == 1 and
         r.json["items"][0]["estimated_minutes"] == 5,
         "a budget smaller than the first item still gets it", r)
    # Work past due comes first, even from a locked-free module's end.
    adm.patch("/v1/assessments/" + quiz, {"due_days": 0})
    cy.put("/v1/me/preferences", {"daily_minutes": 12})
    r = cy.get("/v1/me/today")
    items = r.json["items"] if r.status == 200 else []
    t.ok(items and items[0]["id"] == quiz and items[0]["due_at"] and
         "was due on" in items[0]["reason"] and
         [i["id"] for i in items[1:]] == [l1] and fits(r.json),
         "work past due comes first, then the lessons in order", r)


@case
def other_tenant(t):
    c = course()
    d, pg, db, qa = c.d, c.pg, c.db, c.qa
    # ---- another tenant ----------------------------------------------------
    oadm = setup_tenant(d, "other")
    r = oadm.post("/v1/users", {"email": "ola@other.test", "name": "Ola",
                                "role": "learner", "password": PW})
    ola = login(d, "other", "ola@other.test")
    r = ola.get("/v1/me/today")
    t.ok(r.status == 200 and r.json["items"] == [] and
         r.json["pace"] is None and r.json["streak"] == {"current": 0,
                                                         "best": 0},
         "another tenant's learner sees nothing of acme", r)
    r = ola.post("/v1/reviews/%s/answer" % qa, {"answer": True})
    t.ok(r.is_problem(404), "nor can answer acme's questions", r)
    r = ola.get("/v1/me/preferences")
    t.ok(r.status == 200 and r.json["timezone"] == "UTC",
         "a learner without a cohort defaults to UTC", r)
    n = pg.psql("SET ROLE cohortd_app; SELECT set_config('cohortd.tenant_id', "
                "(SELECT id::text FROM tenants WHERE slug = 'other'), false); "
                "SELECT count(*) FROM review_cards; "
                "SELECT count(*) FROM learner_preferences", db)
    t.ok(n.splitlines()[-2:] == ["0", "0"],
         "row-level security hides acme's cards and preferences", n)


run()
