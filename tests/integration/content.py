"""content.py - programs, modules, lessons, quizzes, cohorts, enrollment and
the learning flow, through the API against the real daemon and database.
Cases run alone by name: python3 tests/integration/content.py batch"""
import concurrent.futures
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, login, setup_tenant, PW


QUIZ = [
    {"kind": "single_choice", "prompt": "Pick b", "options": ["a", "b", "c"],
     "points": 1, "answer": 1},
    {"kind": "multiple_choice", "prompt": "Pick a and c",
     "options": ["a", "b", "c"], "points": 2, "answer": [0, 2]},
    {"kind": "true_false", "prompt": "True?", "points": 1, "answer": True},
    {"kind": "numeric", "prompt": "Speedup of 4 cores at 90% parallel?",
     "points": 1, "answer": 3.08, "tolerance": 0.05},
]
ALL_RIGHT = [1, [2, 0], True, 3.1]


def contains_key(obj, key):
    if isinstance(obj, dict):
        return key in obj or any(contains_key(v, key) for v in obj.values())
    if isinstance(obj, list):
        return any(contains_key(v, key) for v in obj)
    return False



@fixture
def daemon():
    """The cluster, the daemon and tenant acme's admin."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.dbname = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.dbname), env={"COHORTD_HTTP_THREADS": "8"})
    w.adm = setup_tenant(w.d, "acme")
    return w


@fixture
def program():
    """A draft program of three modules, each requiring the one before,
    with two lessons and a quiz each.  The responses that made them are
    kept for the curriculum case to check."""
    adm = daemon().adm
    p = types.SimpleNamespace()
    p.created = adm.post("/v1/programs", {"title": "Concurrency",
                                          "summary": "C"})
    p.prog = p.created.json
    p.mods = []
    for i in range(3):
        r = adm.post("/v1/programs/%s/modules" % p.prog["id"],
                     {"title": "Module %d" % (i + 1)})
        p.mods.append(r.json)
    p.prereq = adm.patch("/v1/modules/" + p.mods[1]["id"],
                         {"prerequisites": [p.mods[0]["id"]]})
    adm.patch("/v1/modules/" + p.mods[2]["id"],
              {"prerequisites": [p.mods[1]["id"]]})
    p.lessons = []
    for i, m in enumerate(p.mods):
        for j in range(2):
            r = adm.post("/v1/modules/%s/lessons" % m["id"],
                         {"title": "L%d.%d" % (i + 1, j + 1),
                          "body": "# Lesson\n\nText.", "estimated_minutes": 5})
            p.lessons.append(r.json)
    p.quizzes = []
    for i, m in enumerate(p.mods):
        r = adm.post("/v1/modules/%s/assessments" % m["id"],
                     {"title": "Quiz %d" % (i + 1), "kind": "quiz",
                      "max_attempts": 2, "pass_score": 60, "due_days": 7,
                      "estimated_minutes": 4, "questions": QUIZ})
        p.quizzes.append(r.json)
    return p


@fixture
def seats():
    """Ivy, an instructor; cohort Spring of the program (Ivy teaches it,
    20 seats and a waitlist) after 200 parallel enrollments.  The
    responses are kept for the seats case to check."""
    w, p = daemon(), program()
    adm, d = w.adm, w.d
    s = types.SimpleNamespace()
    r = adm.post("/v1/users", {"email": "ivy@acme.test", "name": "Ivy",
                               "role": "instructor", "password": PW})
    s.ivy = r.json
    s.spring_created = adm.post("/v1/cohorts", {
        "program_id": p.prog["id"], "name": "Spring",
        "starts_at": "2026-03-01T09:00:00Z",
        "ends_at": "2026-06-01T09:00:00Z", "timezone": "Europe/Paris",
        "capacity": 20, "waitlist": True, "instructors": [s.ivy["id"]]})
    s.spring = s.spring_created.json

    def enroll(i):
        c = d.client(adm.token)
        return c.post("/v1/cohorts/%s/enrollments" % s.spring["id"],
                      {"email": "p%03d@acme.test" % i, "name": "P %d" % i})
    with concurrent.futures.ThreadPoolExecutor(32) as ex:
        s.results = list(ex.map(enroll, range(200)))
    return s


@fixture
def tiny_cohort():
    """Cohort Tiny of the program: one seat, no waitlist, taken."""
    adm, prog = daemon().adm, program().prog
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "Tiny",
                                 "starts_at": "2026-03-01T09:00:00Z",
                                 "ends_at": "2026-06-01T09:00:00Z",
                                 "capacity": 1})
    adm.post("/v1/cohorts/%s/enrollments" % r.json["id"],
             {"email": "t1@acme.test", "name": "T1"})
    return r.json


@case
def curriculum(t):
    adm = daemon().adm
    p = program()
    prog, mods, lessons, quizzes = p.prog, p.mods, p.lessons, p.quizzes
    r = p.created
    t.ok(r.status == 201 and r.json["status"] == "draft" and
         r.header("location") == "/v1/programs/" + r.json["id"],
         "create a program (draft by default)", r)
    r = adm.post("/v1/programs", {"title": ""})
    t.ok(r.is_problem(422), "an empty title is refused", r)
    t.ok([m["position"] for m in mods] == [1, 2, 3],
         "modules are appended in order", [m.get("position") for m in mods])
    r = p.prereq
    t.ok(r.status == 200 and r.json["prerequisites"] == [mods[0]["id"]],
         "set a prerequisite", r)
    r = adm.patch("/v1/modules/" + mods[0]["id"],
                  {"prerequisites": [mods[2]["id"]]})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] ==
         "/prerequisites", "a prerequisite cycle is rejected with 422", r)
    r = adm.get("/v1/modules/" + mods[0]["id"])
    t.eq(r.json["prerequisites"], [], "the rejected cycle left nothing behind")
    r = adm.patch("/v1/modules/" + mods[0]["id"],
                  {"prerequisites": [mods[0]["id"]]})
    t.ok(r.is_problem(422), "a module cannot require itself", r)

    t.ok(all(x.get("id") for x in lessons), "lessons created", lessons[:1])
    r = adm.post("/v1/modules/%s/lessons" % mods[0]["id"],
                 {"title": "Too long", "estimated_minutes": 61})
    t.ok(r.is_problem(422), "estimated_minutes over 60 is refused", r)
    r = adm.post("/v1/modules/%s/lessons" % mods[0]["id"],
                 {"title": "Huge", "body": "x" * 70000, "estimated_minutes": 5})
    t.ok(r.is_problem(422), "a body over 64 KiB is refused", r)

    t.ok(quizzes[0].get("questions") and
         quizzes[0]["questions"][0]["answer"] == 1,
         "staff see quizzes with their answer keys", quizzes[0])
    r = adm.get("/v1/modules/" + mods[0]["id"])
    t.eq(r.json["estimated_minutes"], 14,
         "a module's minutes are the sum of its items")
    bad = dict(QUIZ[0], answer=7)
    r = adm.post("/v1/modules/%s/assessments" % mods[0]["id"],
                 {"title": "Bad", "kind": "quiz", "questions": [bad]})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] ==
         "/questions/0/answer", "an answer key outside the options is refused",
         r)
    r = adm.put("/v1/programs/%s/modules/order" % prog["id"],
                [mods[2]["id"], mods[0]["id"], mods[1]["id"]])
    t.ok(r.status == 200 and [m["id"] for m in r.json["items"]] ==
         [mods[2]["id"], mods[0]["id"], mods[1]["id"]],
         "PUT modules/order reorders with the full list", r)
    r = adm.put("/v1/programs/%s/modules/order" % prog["id"], [mods[0]["id"]])
    t.ok(r.is_problem(422), "an incomplete order list is refused", r)
    adm.put("/v1/programs/%s/modules/order" % prog["id"],
            [m["id"] for m in mods])


@case
def seats_and_waitlist(t):
    w, p, s = daemon(), program(), seats()
    adm, pg, dbname = w.adm, w.pg, w.dbname
    prog, ivy, spring, results = p.prog, s.ivy, s.spring, s.results
    r = s.spring_created
    t.ok(r.status == 201 and r.json["capacity"] == 20 and
         r.json["instructors"] == [ivy["id"]], "create a cohort", r)
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "X",
                                 "starts_at": "2026-03-01T09:00:00Z",
                                 "ends_at": "2026-01-01T09:00:00Z"})
    t.ok(r.is_problem(422), "ends_at before starts_at is refused", r)
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "X",
                                 "starts_at": "2026-03-01T09:00:00Z",
                                 "ends_at": "2026-04-01T09:00:00Z",
                                 "timezone": "Mars/Olympus"})
    t.ok(r.is_problem(422), "an unknown time zone is refused", r)
    states = [x.json["state"] for x in results if x.status == 201]
    t.ok(len(states) == 200 and states.count("active") == 20 and
         states.count("waitlisted") == 180,
         "200 parallel enrollments into 20 seats: 20 active, 180 waitlisted",
         (len(states), states.count("active"), states.count("waitlisted"),
          [x for x in results if x.status != 201][:3]))
    positions = sorted(x.json["waitlist_position"] for x in results
                       if x.status == 201 and x.json["state"] == "waitlisted")
    t.eq(positions, list(range(1, 181)), "waitlist positions are 1..180")
    r = adm.get("/v1/cohorts/%s/enrollments?state=waitlisted&limit=500"
                % spring["id"])
    wl = r.json["items"]
    t.ok([e["waitlist_position"] for e in wl] == list(range(1, 181)) and
         [e["enrolled_at"] for e in wl] == sorted(e["enrolled_at"] for e in wl),
         "the waitlist is first come, first served", wl[:3])
    act = pg.psql("SELECT count(*) FROM enrollments WHERE state = 'active'",
                  dbname)
    t.eq(act, "20", "the database holds exactly 20 active enrollments")
    r = adm.post("/v1/cohorts/%s/enrollments" % spring["id"],
                 {"email": "P000@acme.test", "name": "P 0"})
    t.ok(r.status == 200 and r.json["id"] == results[0].json["id"],
         "enrolling someone already enrolled returns the enrollment, 200", r)

    active = [x.json for x in results if x.json["state"] == "active"]
    first_wait = wl[0]
    r = adm.post("/v1/enrollments/%s/withdraw" % active[0]["id"])
    t.ok(r.status == 200 and r.json["state"] == "withdrawn", "withdraw", r)
    r = adm.get("/v1/cohorts/%s/enrollments?state=active&limit=500"
                % spring["id"])
    ids = [e["id"] for e in r.json["items"]]
    t.ok(len(ids) == 20 and first_wait["id"] in ids,
         "withdrawing frees the seat for the first waitlisted learner",
         (len(ids),))
    r = adm.get("/v1/cohorts/%s/enrollments?state=waitlisted&limit=500"
                % spring["id"])
    t.ok(r.json["items"][0]["id"] == wl[1]["id"] and
         r.json["items"][0]["waitlist_position"] == 1,
         "the rest of the waitlist moves up", r.json["items"][:1])
    r = adm.patch("/v1/cohorts/" + spring["id"], {"capacity": 25})
    t.ok(r.status == 200 and r.json["active"] == 25 and
         r.json["waitlisted"] == 174, "raising capacity promotes in order", r)
    r = adm.get("/v1/cohorts/%s/enrollments?state=active&limit=500"
                % spring["id"])
    ids = {e["id"] for e in r.json["items"]}
    t.ok({e["id"] for e in wl[1:6]} <= ids,
         "the promoted are the next five in line")

    tiny = tiny_cohort()
    r = adm.post("/v1/cohorts/%s/enrollments" % tiny["id"],
                 {"email": "t2@acme.test", "name": "T2"})
    t.ok(r.is_problem(409), "full cohort without waitlist: 409", r)


@case
def batch(t):
    w, s = daemon(), seats()
    adm, pg, dbname = w.adm, w.pg, w.dbname
    ivy, spring = s.ivy, s.spring
    # ---- batch -----------------------------------------------------------
    # One of the 200 still enrolled (the seats case withdrew one of them,
    # which may be any: they enrolled all at once).
    kept = pg.psql("SELECT u.email FROM enrollments e JOIN users u ON "
                   "u.tenant_id = e.tenant_id AND u.id = e.user_id WHERE "
                   "e.cohort_id = '%s' AND e.state IN ('active', "
                   "'waitlisted') AND u.email LIKE 'p%%' ORDER BY u.email "
                   "LIMIT 1" % spring["id"], dbname)
    csv = ("email,name,role\n"
           "new1@acme.test,New One,learner\n"
           + kept + ",P 1,learner\n"
           "not-an-email,Broken,learner\n"
           "new2@acme.test,New Two,\n"
           "too,few\n"
           "ivy@acme.test,Ivy,learner\n"
           "new3@acme.test,New Three,admin\n")
    r = adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % spring["id"],
                    raw=csv.encode(), ctype="text/csv")
    st = [x["status"] for x in (r.json or {}).get("results", [])]
    t.ok(r.status == 200 and st == ["waitlisted", "existing", "error",
                                    "waitlisted", "error", "error", "error"],
         "CSV batch: a result per row, good, duplicate and malformed", r)
    t.ok(r.status == 200 and [x.get("line") for x in r.json["results"]] ==
         [2, 3, 4, 5, 6, 7, 8], "each CSV result names its line")
    n = pg.psql("SELECT count(*) FROM users WHERE email IN ('new1@acme.test',"
                "'new2@acme.test')", dbname)
    t.eq(n, "2", "rows after a malformed one are still processed")
    r = adm.post("/v1/cohorts/%s/enrollments/batch" % spring["id"],
                 [{"email": "j1@acme.test", "name": "J"}, {"bogus": 1},
                  {"user_id": ivy["id"]}])
    t.ok(r.status == 200 and [x["status"] for x in r.json["results"]] ==
         ["waitlisted", "error", "error"], "JSON batch, per-row results", r)
    rows = [{"email": "bulk%05d@acme.test" % i, "name": "B"}
            for i in range(10001)]
    r = adm.post("/v1/cohorts/%s/enrollments/batch" % spring["id"], rows)
    t.ok(r.is_problem(422) or r.is_problem(413),
         "more than 10,000 rows are refused", r)


@case
def csv_import(t):
    """Bulk enrollment from the CSV files HR sends: RFC 4180 quoting, line
    breaks inside quotes, Excel's byte order mark, ';' between fields; a
    malformed file is a 422 naming its line, never a 500."""
    adm, prog = daemon().adm, program().prog
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "HR",
                                   "starts_at": "2026-03-01T09:00:00Z",
                                   "ends_at": "2026-06-01T09:00:00Z"}).json
    url = "/v1/cohorts/%s/enrollments/batch" % coh["id"]

    def send(body):
        return adm.request("POST", url, raw=body, ctype="text/csv")

    def names(r):
        """email -> (status, line, the enrolled user's name)."""
        out = {}
        for x in (r.json or {}).get("results", []) if r.status == 200 else []:
            u = adm.get("/v1/users/" + x["user_id"]).json if \
                x.get("user_id") else {}
            out[u.get("email", "row %d" % x["row"])] = (
                x["status"], x.get("line"), u.get("name"))
        return out

    r = send(b'email,name\r\nconan@acme.test,"Conan ""The Dev"" O\'Brien"'
             b'\r\n')
    t.eq(names(r), {"conan@acme.test": ("created", 2,
                                        'Conan "The Dev" O\'Brien')},
         "CSV import: doubled quotes inside a quoted name")
    r = send(b'email,name\nml@acme.test,"Ada\nLovelace"\n'
             b'after@acme.test,After\n')
    t.eq(names(r), {"ml@acme.test": ("created", 2, "Ada\nLovelace"),
                    "after@acme.test": ("created", 4, "After")},
         "CSV import: a quoted field over two lines is one record; the next "
         "record's line is the one an editor shows")
    r = send(b'\xef\xbb\xbfemail,name\r\nbom@acme.test,Bom\r\n')
    t.eq(names(r), {"bom@acme.test": ("created", 2, "Bom")},
         "CSV import: a UTF-8 byte order mark before the header")
    r = send('email;name;role\nsemi@acme.test;Doe, Jane;learner\n'.encode())
    t.eq(names(r), {"semi@acme.test": ("created", 2, "Doe, Jane")},
         "CSV import: ';' between fields, told from the header")

    # Saved by a spreadsheet: Excel's "CSV UTF-8" (comma, CRLF, BOM; quotes
    # only where needed), Excel in a German locale (the same with ';'),
    # LibreOffice with ';' on Linux (LF, every text cell quoted).
    excel = ('\ufeffemail,name,role\r\n'
             'x1@acme.test,"M\u00fcller, J\u00fcrgen",learner\r\n'
             'x2@acme.test,Zo\u00eb O\'Neil,\r\n'
             'x3@acme.test,"Chen ""CJ"" Jun",learner\r\n').encode()
    excel_de = ('\ufeffemail;name;role\r\n'
                'y1@acme.test;M\u00fcller, J\u00fcrgen;learner\r\n'
                'y2@acme.test;"Stra\u00dfe; Hof";\r\n'
                'y3@acme.test;"""Bj\u00f6rn""";learner\r\n').encode()
    libre = ('"email";"name";"role"\n'
             '"z1@acme.test";"Ana-Maria";"learner"\n'
             '"z2@acme.test";"Two\nLines";"learner"\n').encode()
    for label, body, want in (
            ("Excel CSV UTF-8 (comma, CRLF, BOM)", excel,
             {"x1@acme.test": ("created", 2, "M\u00fcller, J\u00fcrgen"),
              "x2@acme.test": ("created", 3, "Zo\u00eb O'Neil"),
              "x3@acme.test": ("created", 4, 'Chen "CJ" Jun')}),
            ("Excel CSV UTF-8, German locale (semicolon, CRLF, BOM)",
             excel_de,
             {"y1@acme.test": ("created", 2, "M\u00fcller, J\u00fcrgen"),
              "y2@acme.test": ("created", 3, "Stra\u00dfe; Hof"),
              "y3@acme.test": ("created", 4, '"Bj\u00f6rn"')}),
            ("LibreOffice (semicolon, LF, every cell quoted)", libre,
             {"z1@acme.test": ("created", 2, "Ana-Maria"),
              "z2@acme.test": ("created", 3, "Two\nLines")})):
        r = send(body)
        t.eq(names(r), want, "CSV import, a file saved by " + label)

    def refused(body, detail, line):
        r = send(body)
        e = r.json.get("errors", []) if r.is_problem(422) else []
        return (r.is_problem(422) and r.json["detail"].startswith(detail)
                and [x.get("line") for x in e] == [line], r)

    ok, r = refused(b"email,name\nq1@acme.test,Ok\nq2@acme.test,\"Open\n"
                    b"q3@acme.test,Next\n", "line 3: a quoted field starts "
                    "here and is never closed", 3)
    t.ok(ok, "CSV import: an unterminated quote is a 422 naming its line", r)
    ok, r = refused(b"email,name\nq4@acme.test,\"Ann\"x\n",
                    "line 2: text after the closing quote", 2)
    t.ok(ok, "CSV import: text after a closing quote, 422", r)
    ok, r = refused(b"email,name\nq5@acme.test,M\xfcller\n",
                    "line 2: not UTF-8 text", 2)
    t.ok(ok, "CSV import: a Latin-1 file, 422 asking for CSV UTF-8", r)
    ok, r = refused(b"email,name,department\nq6@acme.test,Q,HR\n",
                    'line 1: unknown column "department"', 1)
    t.ok(ok, "CSV import: an unknown column is reported, 422", r)
    r = send(b"email,name,role,team,Email\nq7@acme.test,Q,learner,a,b\n")
    t.ok(r.is_problem(422) and len(r.json.get("errors", [])) == 2 and
         "2 problems" in r.json["detail"] and
         all(x.get("line") == 1 for x in r.json["errors"]),
         "CSV import: every header problem at once", r)
    ok, r = refused(b"\xef\xbb\xbfname;role\r\nAnn;learner\r\n",
                    "line 1: the first line must be a header naming the "
                    "columns email and name", 1)
    t.ok(ok, "CSV import: a header without email, 422", r)
    n = adm.get("/v1/users?email=q1@acme.test").json.get("items")
    t.eq(n, [], "a refused file enrolls no one")
    r = send(b"email,name\nw1@acme.test,W,extra\nw2@acme.test,W2\n")
    res = (r.json or {}).get("results", []) if r.status == 200 else []
    t.ok([(x["status"], x.get("line")) for x in res] ==
         [("error", 2), ("created", 3)] and
         "3 fields where the header has 2" in str(res[0].get("errors")),
         "CSV import: a record with more fields than the header is that "
         "row's error", res)


@case
def learning(t):
    w, p, s = daemon(), program(), seats()
    d, adm, pg, dbname = w.d, w.adm, w.pg, w.dbname
    prog, mods, lessons, quizzes = p.prog, p.mods, p.lessons, p.quizzes
    spring, tiny = s.spring, tiny_cohort()
    # ---- learning flow ---------------------------------------------------
    adm.patch("/v1/programs/" + prog["id"], {"status": "published"})
    r = adm.post("/v1/users", {"email": "leo@acme.test", "name": "Leo",
                               "role": "learner", "password": PW})
    leo_id = r.json["id"]
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "Now",
                                 "starts_at": time.strftime(
                                     "%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 "ends_at": "2099-01-01T00:00:00Z"})
    now_c = r.json
    r = adm.post("/v1/cohorts/%s/enrollments" % now_c["id"], {"user_id": leo_id})
    leo_enr = r.json
    leo = login(d, "acme", "leo@acme.test")

    seen = [leo.get("/v1/programs/" + prog["id"]),
            leo.get("/v1/programs/%s/modules" % prog["id"]),
            leo.get("/v1/modules/%s/assessments" % mods[0]["id"]),
            leo.get("/v1/assessments/" + quizzes[0]["id"]),
            leo.get("/v1/lessons/" + lessons[0]["id"])]
    t.ok(all(x.status == 200 for x in seen), "the learner reads the program",
         seen)
    t.ok(not any(contains_key(x.json, "answer") or
                 contains_key(x.json, "tolerance") for x in seen),
         "no learner-visible response carries an answer key")

    r = leo.post("/v1/lessons/%s/completion" % lessons[2]["id"])
    t.ok(r.is_problem(409) and "Module 1" in r.json["detail"] and
         r.json["missing_module"]["id"] == mods[0]["id"],
         "a locked module's lesson: 409 naming the missing module", r)
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[1]["id"],
                 {"answers": ALL_RIGHT})
    t.ok(r.is_problem(409), "a locked module's quiz: 409", r)

    r = leo.post("/v1/lessons/%s/completion" % lessons[0]["id"])
    t.ok(r.status == 201, "complete a lesson", r)
    r = leo.post("/v1/lessons/%s/completion" % lessons[0]["id"])
    t.eq(r.status, 200, "completing it again is not an error")
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": [0, [0], False, 1.0]})
    t.ok(r.status == 201 and r.json["score"] == 0 and
         r.json["passed"] is False and r.json["attempt"] == 1,
         "a wrong quiz scores 0 and fails", r)
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": [1, [0], True, None]})
    t.ok(r.status == 201 and r.json["score"] == 40.0 and
         [q["points"] for q in r.json["detail"]] == [1, 0, 1, 0],
         "per-question points and percent: 2 of 5 points is 40", r)
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": ALL_RIGHT})
    t.ok(r.is_problem(409), "attempts beyond max_attempts: 409", r)
    r = adm.post("/v1/assessments/%s/extensions" % quizzes[0]["id"],
                 {"user_id": leo_id, "cohort_id": now_c["id"],
                  "extra_attempts": 1})
    t.ok(r.status == 201 and r.json["extra_attempts"] == 1,
         "an extension grants an extra attempt", r)
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": ALL_RIGHT})
    t.ok(r.status == 201 and r.json["score"] == 100 and r.json["passed"] and
         r.json["late"] is False, "the extra attempt passes", r)
    r = leo.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": [1]})
    t.ok(r.is_problem(409) or r.is_problem(422), "still bounded afterwards", r)
    r = leo.post("/v1/lessons/%s/completion" % lessons[1]["id"])
    r = leo.post("/v1/lessons/%s/completion" % lessons[2]["id"])
    t.eq(r.status, 201, "module 1 complete: module 2 unlocks")

    # A second extension keeps what the first granted.
    r = adm.post("/v1/assessments/%s/extensions" % quizzes[0]["id"],
                 {"user_id": leo_id, "cohort_id": now_c["id"],
                  "due_at": "2099-06-01T00:00:00Z"})
    r = adm.post("/v1/assessments/%s/extensions" % quizzes[0]["id"],
                 {"user_id": leo_id, "cohort_id": now_c["id"],
                  "extra_attempts": 3})
    t.ok(r.status == 201 and r.json["extra_attempts"] == 3 and
         r.json["due_at"] == "2099-06-01T00:00:00.000000Z",
         "a second extension grant keeps the first one's due date", r)

    # Late work: a cohort that started 10 days ago, quiz due after 7 days.
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "Late",
                                 "starts_at": time.strftime(
                                     "%Y-%m-%dT%H:%M:%SZ",
                                     time.gmtime(time.time() - 10 * 86400 +
                                                 3600)),
                                 "ends_at": "2099-01-01T00:00:00Z"})
    late_c = r.json
    r = adm.put("/v1/cohorts/%s/late-policy" % late_c["id"],
                {"percent_per_day": 10, "floor": 50})
    t.ok(r.status == 200 and r.json["late_policy"] == {"percent_per_day": 10,
                                                       "floor": 50},
         "set a late policy", r)
    r = adm.post("/v1/users", {"email": "lou@acme.test", "name": "Lou",
                               "role": "learner", "password": PW})
    lou_id = r.json["id"]
    adm.post("/v1/cohorts/%s/enrollments" % late_c["id"], {"user_id": lou_id})
    lou = login(d, "acme", "lou@acme.test")
    r = lou.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": [1, [0, 2], True, None]})
    # 3 days late (due at day 7, now day 10 minus an hour): 30% off 80.
    t.ok(r.status == 201 and r.json["late"] and r.json["days_late"] == 3 and
         r.json["penalty"] == 30 and r.json["score"] == 80 and
         abs(r.json["final_score"] - 56.0) < 1e-6 and r.json["passed"] is False,
         "late penalty: 80 three days late at 10%/day is 56, failing 60", r)
    r = adm.post("/v1/assessments/%s/extensions" % quizzes[0]["id"],
                 {"user_id": lou_id, "cohort_id": late_c["id"],
                  "due_at": "2099-01-01T00:00:00Z"})
    r = lou.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": [1, [0, 2], True, None]})
    t.ok(r.status == 201 and r.json["late"] is False and
         r.json["final_score"] == 80, "an extension's due date removes the "
         "penalty", r)
    pg.psql("UPDATE cohorts SET late_percent_per_day = 25 WHERE id = '%s'"
            % late_c["id"], dbname)
    pg.psql("DELETE FROM extensions", dbname)
    r = adm.patch("/v1/assessments/" + quizzes[0]["id"], {"max_attempts": None})
    r = lou.post("/v1/assessments/%s/submissions" % quizzes[0]["id"],
                 {"answers": ALL_RIGHT})
    t.ok(r.status == 201 and r.json["penalty"] == 50 and
         r.json["final_score"] == 50, "the penalty stops at the floor: 75% "
         "due, 50% kept", r)

    # Progress and completion.
    r = leo.get("/v1/cohorts/%s/progress" % now_c["id"])
    p = r.json["items"][0] if r.status == 200 and r.json["items"] else {}
    t.ok(p.get("enrollment_id") == leo_enr["id"] and
         p["modules"][0]["complete"] is True and
         p["modules"][1]["complete"] is False and
         p["modules"][0]["lessons_done"] == 2 and 0 < p["percent"] < 100,
         "a learner's progress: per module, overall percent", p)
    for m in range(1, 3):
        for lz in lessons[m * 2:m * 2 + 2]:
            leo.post("/v1/lessons/%s/completion" % lz["id"])
        r = leo.post("/v1/assessments/%s/submissions" % quizzes[m]["id"],
                     {"answers": ALL_RIGHT})
    t.ok(r.status == 201 and r.json["enrollment_state"] == "completed",
         "finishing every module completes the enrollment", r)
    r = leo.get("/v1/me/enrollments")
    t.ok(r.status == 200 and r.json["items"][0]["state"] == "completed",
         "GET /v1/me/enrollments shows it", r)
    ivy_c = login(d, "acme", "ivy@acme.test")
    r = ivy_c.get("/v1/cohorts/%s/progress" % spring["id"])
    t.ok(r.status == 200 and len(r.json["items"]) == 50 and
         r.json["next_cursor"], "staff see every learner's progress, paged", r)
    r = ivy_c.get("/v1/cohorts/%s/progress" % now_c["id"])
    t.ok(r.is_problem(404), "an instructor sees only their cohorts", r)
    r = ivy_c.get("/v1/cohorts")
    t.ok([c["id"] for c in r.json["items"]] == [spring["id"]],
         "an instructor lists only their cohorts", r)
    r = leo.get("/v1/cohorts")
    t.ok([c["id"] for c in r.json["items"]] == [now_c["id"]],
         "a learner lists only their cohorts", r)
    r = leo.get("/v1/cohorts/%s/enrollments" % now_c["id"])
    t.ok(r.is_problem(403), "learners cannot list enrollments", r)

    # Modules whose quizzes have submissions are kept.
    r = adm.delete("/v1/modules/" + mods[0]["id"])
    t.ok(r.is_problem(409), "a module with submissions cannot be deleted", r)

    # A cohort's ETag moves with its seat counts.
    r = adm.get("/v1/cohorts/" + tiny["id"])
    et = r.header("etag")
    adm.post("/v1/enrollments/%s/withdraw" % adm.get(
        "/v1/cohorts/%s/enrollments" % tiny["id"]).json["items"][0]["id"])
    r = adm.get("/v1/cohorts/" + tiny["id"], headers={"If-None-Match": et})
    t.ok(r.status == 200 and r.json["active"] == 0,
         "after a withdrawal the cohort's old ETag no longer matches", r)

    # A learner who completes keeps the seat: the waitlist is not passed.
    one = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "One",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z",
                                   "capacity": 1, "waitlist": True}).json
    adm.post("/v1/cohorts/%s/enrollments" % one["id"], {"user_id": leo_id})
    pg.psql("UPDATE enrollments SET state = 'completed' WHERE cohort_id = "
            "'%s'" % one["id"], dbname)
    r = adm.post("/v1/cohorts/%s/enrollments" % one["id"],
                 {"email": "late1@acme.test", "name": "Late One"})
    t.ok(r.status == 201 and r.json["state"] == "waitlisted",
         "a completed learner still holds the seat", r)

    # Learners see only published programs they are enrolled in.
    r = adm.post("/v1/programs", {"title": "Secret draft"})
    draft = r.json
    t.ok(leo.get("/v1/programs/" + draft["id"]).is_problem(404),
         "a learner cannot see a draft program")
    r = leo.get("/v1/programs")
    t.ok([p["id"] for p in r.json["items"]] == [prog["id"]],
         "a learner lists only their published programs", r)


@case
def score_at_the_pass_line(t):
    """One scoring rule, kept to six decimals: 5 of 6 right (83.333333)
    two days late at 8% a day is 70.000000, which passes 70."""
    w = daemon()
    adm, d = w.adm, w.d
    prog = adm.post("/v1/programs", {"title": "Line",
                                     "status": "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"],
                   {"title": "M"}).json
    quiz = adm.post("/v1/modules/%s/assessments" % mod["id"], {
        "title": "Six", "kind": "quiz", "pass_score": 70, "due_days": 1,
        "questions": [{"kind": "single_choice", "prompt": "Q%d" % i,
                       "options": ["right", "wrong"], "answer": 0}
                      for i in range(6)]}).json
    # Started three days ago less an hour, due a day after: 2 days late.
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "Line",
                                   "starts_at": time.strftime(
                                       "%Y-%m-%dT%H:%M:%SZ", time.gmtime(
                                           time.time() - 3 * 86400 + 3600)),
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    adm.put("/v1/cohorts/%s/late-policy" % coh["id"],
            {"percent_per_day": 8, "floor": 0})
    r = adm.post("/v1/users", {"email": "line@acme.test", "name": "Line",
                               "role": "learner", "password": PW})
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
             {"user_id": r.json["id"]})
    learner = login(d, "acme", "line@acme.test")
    r = learner.post("/v1/assessments/%s/submissions" % quiz["id"],
                     {"answers": [0, 0, 0, 0, 0, 1]})
    t.ok(r.status == 201 and r.json["days_late"] == 2 and
         r.json["penalty"] == 16 and abs(r.json["score"] - 83.33) < 0.01 and
         r.json["final_score"] == 70 and r.json["passed"] is True,
         "83.333333 less 16% is 70.000000: it passes a pass score of 70", r)


run()
