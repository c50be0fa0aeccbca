"""reports.py - administrator reports checked against figures worked out
by hand on a small fixture; JSON and CSV agreeing; role limits."""
import csv
import io
import time

from harness import Cohortd, Postgres, main

PW = "correct horse battery"
Q2 = [{"kind": "single_choice", "prompt": "a?", "options": ["x", "y"],
       "answer": 0},
      {"kind": "single_choice", "prompt": "b?", "options": ["x", "y"],
       "answer": 1}]


def login(d, slug, email):
    r = d.client().post("/v1/auth/login", {"tenant": slug, "email": email,
                                           "password": PW})
    assert r.status == 200, r
    return d.client(r.json["token"])


def rows(resp):
    return list(csv.DictReader(io.StringIO(resp.body.decode())))


def test(t):
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

    # ---- gradebook ---------------------------------------------------------
    r = adm.get("/v1/reports/cohorts/%s/gradebook" % coh["id"])
    g = {x["email"]: x for x in r.json["learners"]} if r.status == 200 else {}
    t.eq([x["title"] for x in r.json["assessments"]], ["Q1", "Q2"],
         "gradebook: assessments in curriculum order")
    t.eq(sorted(g), ["ann@acme.test", "bob@acme.test", "cat@acme.test"],
         "gradebook: learners not withdrawn")
    a1 = g["ann@acme.test"]["assessments"]
    b1 = g["bob@acme.test"]["assessments"][q1["id"]]
    t.ok(a1[q1["id"]]["best"] == 100 and a1[q1["id"]]["late"] is True and
         a1[q2["id"]]["best"] == 50 and a1[q2["id"]]["late"] is False,
         "gradebook: best scores and the late flag (Q1 due on day 3)", a1)
    t.ok(b1["best"] == 100 and b1["latest"] == 0 and b1["attempts"] == 2,
         "gradebook: best and latest differ, attempts counted", b1)
    t.eq((g["ann@acme.test"]["final_grade"], g["bob@acme.test"]["final_grade"],
          g["cat@acme.test"]["final_grade"]), (62.5, 25.0, 0.0),
         "gradebook: weighted final grade (1x100 + 3x50) / 4 = 62.5, "
         "100 / 4 = 25, nothing = 0")
    c = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv" % coh["id"])
    cr = {x["email"]: x for x in rows(c)}
    t.ok(c.status == 200 and list(rows(c)[0].keys()) ==
         ["email", "name", "state", "Q1", "Q2", "final_grade"] and
         cr["ann@acme.test"]["Q1"] == "100.00" and
         cr["ann@acme.test"]["Q2"] == "50.00" and
         float(cr["bob@acme.test"]["final_grade"]) == 25.0 and
         cr["cat@acme.test"]["Q1"] == "",
         "gradebook CSV: a column per assessment, agreeing with JSON",
         c.body[:400])

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


    # ---- engagement, missing and late work --------------------------------
    # Q2 falls due on day 1; cat gets a seat and fails both quizzes (written
    # straight into the database: two graded failures).
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

    # ---- exercise analytics ---------------------------------------------------
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

    # ---- grade changes ---------------------------------------------------------
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
    t.ok([(g["kind"], g["old_value"], g["new_value"]) for g in gc
          if g["kind"] == "regrade"] == [("regrade", "60.00", "90.00")] and
         [(g["kind"], g["by_user"]) for g in gc if g["kind"] == "extension"]
         == [("extension", me)],
         "grade changes: a regrade's old and new score; an extension and who "
         "granted it", gc)

    # ---- role limits ---------------------------------------------------------
    adm.post("/v1/users", {"email": "ivy@acme.test", "name": "Ivy",
                           "role": "instructor", "password": PW})
    ivy = login(d, "acme", "ivy@acme.test")
    t.ok(ivy.get("/v1/reports/cohorts/%s/gradebook" % coh["id"])
         .is_problem(404), "an instructor cannot read another cohort's report")
    t.eq(ivy.get("/v1/reports/seats").json["items"], [],
         "an instructor's seats report lists only their cohorts")
    t.eq(ivy.get("/v1/reports/grade-changes").json["items"], [],
         "and their grade changes only their cohorts'")
    adm.patch("/v1/cohorts/" + coh["id"], {"instructors": [
        adm.get("/v1/users?email=ivy").json["items"][0]["id"]]})
    t.eq(ivy.get("/v1/reports/cohorts/%s/gradebook" % coh["id"]).status, 200,
         "the cohort's own instructor can")
    t.ok(all(ann.get(u).is_problem(403) for u in (
        "/v1/reports/seats", "/v1/reports/cohorts/%s/roster" % coh["id"],
        "/v1/reports/grade-changes", "/v1/reports/exercises/" + exid,
        "/v1/reports/assessments/%s/items" % q1["id"])),
         "learners read no report")


main(test)
