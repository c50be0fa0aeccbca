"""grading.py - exercises and automated grading end to end: the real API,
real grader processes, the real sandbox, the fixtures of
tests/fixtures/solutions/parallel-sum with their expected verdicts; kill -9
of a grader and of the daemon with jobs in flight; two API and two worker
processes on one database; verification accepting a good exercise and
rejecting a wrong or slow reference."""
import http.client
import json
import os
import signal
import time

from harness import SRCDIR, Cohortd, Postgres, main

PW = "correct horse battery"
FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions", "parallel-sum")


def fixture(name):
    with open(os.path.join(FIX, name + ".c")) as f:
        return f.read()


def login(d, slug, email):
    r = d.client().post("/v1/auth/login", {"tenant": slug, "email": email,
                                           "password": PW})
    assert r.status == 200, r
    return d.client(r.json["token"])


def wait_exercise(c, eid, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get("/v1/exercises/" + eid)
        if r.status == 200 and r.json["status"] != "verifying":
            return r.json
        time.sleep(0.5)
    return c.get("/v1/exercises/" + eid).json


def wait_graded(c, sid, timeout=240):
    deadline = time.time() + timeout
    seen = set()
    while time.time() < deadline:
        r = c.get("/v1/submissions/" + sid)
        if r.status == 200:
            seen.add(r.json["status"])
            if r.json["status"] in ("graded", "failed"):
                r.json["_seen"] = seen
                return r.json
        time.sleep(0.3)
    return {"status": "timeout", "_seen": seen}


def setup(d, a):
    a.post("/v1/tenants", {"slug": "acme", "name": "Acme",
                           "admin": {"email": "admin@acme.test",
                                     "name": "Admin", "password": PW}})
    adm = login(d, "acme", "admin@acme.test")
    return adm


def course(adm, eid):
    prog = adm.post("/v1/programs", {"title": "P", "status": "published"}).json
    mod = adm.post("/v1/programs/%s/modules" % prog["id"], {"title": "M"}).json
    r = adm.post("/v1/modules/%s/assessments" % mod["id"],
                 {"title": "Sum it", "kind": "exercise", "exercise_id": eid,
                  "max_attempts": 50})
    assert r.status == 201, r
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    return r.json, coh


def learner(d, adm, coh, email):
    u = adm.post("/v1/users", {"email": email, "name": "L",
                               "role": "learner", "password": PW}).json
    adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
    return login(d, "acme", email)


def test(t):
    pg = Postgres()
    db = pg.new_database()
    env = {"COHORTD_WORKERS": "2", "COHORTD_GRADE_LEASE": "4"}
    d = Cohortd(pg.url(db), env=env)
    adm = setup(d, d.admin())

    r = adm.get("/v1/catalog/exercises")
    slugs = [x["slug"] for x in r.json["items"]] if r.status == 200 else []
    t.ok(len(slugs) >= 8 and "parallel-sum" in slugs and "histogram" in slugs,
         "the built-in catalog lists at least eight exercises", slugs)
    r = adm.post("/v1/exercises/import", {"catalog": "parallel-sum"})
    t.ok(r.status == 201 and r.json["status"] == "verifying",
         "importing from the catalog starts verification", r)
    ex = wait_exercise(adm, r.json["id"])
    t.ok(ex.get("status") == "ready", "the system verifies its own reference: "
         "ready", {k: ex.get(k) for k in ("status", "reason")})

    assessment, coh = course(adm, ex["id"])
    lc = learner(d, adm, coh, "lee@acme.test")
    r = lc.get("/v1/exercises/%s/starter" % ex["id"])
    t.ok(r.status == 200 and "sum_array" in r.json["exercise_h"] and
         r.json["starter_c"] and "reference" not in r.json and
         "files" not in r.json, "the learner's view: statement, header, "
         "starter, never the reference", list((r.json or {}).keys()))

    def submit(name, client=lc):
        r = client.post("/v1/assessments/%s/submissions" % assessment["id"],
                        {"source": fixture(name)})
        return r

    r = submit("parallel")
    t.ok(r.status == 202 and r.json["status"] == "queued" and
         r.header("location") == "/v1/submissions/" + r.json["id"],
         "a submission is accepted for grading: 202 queued", r)
    par = wait_graded(lc, r.json["id"])
    t.ok(par.get("verdict") == "accepted" and par.get("score", 0) >= 99 and
         par["speedup"]["median"] >= 1.4,
         "a correct parallel solution: accepted, full score",
         {k: par.get(k) for k in ("status", "verdict", "score", "speedup",
                                  "score_breakdown")})
    t.ok({"queued", "graded"} <= par["_seen"] or "graded" in par["_seen"],
         "status moves through the pipeline", par["_seen"])
    t.ok(all(x["passed"] for x in par.get("tests", [])) and
         par.get("race", {}).get("checked") is True and
         par.get("compile", {}).get("ok") is True,
         "tests, race check and compile are reported", par.get("race"))

    # Server-sent events follow one submission until it is graded.
    sid = submit("wrong").json["id"]
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=180)
    conn.request("GET", "/v1/submissions/%s/events" % sid,
                 headers={"Authorization": "Bearer " + lc.token})
    resp = conn.getresponse()
    others_ok = lc.get("/v1/me").status == 200
    stream = resp.read().decode()   # until the server ends the stream
    conn.close()
    events = [json.loads(ln[6:]) for ln in stream.splitlines()
              if ln.startswith("data: ")]
    t.ok(resp.status == 200 and
         resp.getheader("content-type") == "text/event-stream" and
         len(events) >= 2 and events[-1]["status"] == "graded" and
         events[-1]["verdict"] == "wrong_answer" and
         len({e["status"] for e in events}) == len(events),
         "GET .../events streams each status change until graded",
         (resp.status, events))
    t.ok(others_ok, "other requests are served while a stream is open")

    expect = {"serial": ("accepted",), "racy": ("data_race",),
              "wrong": ("wrong_answer",), "deadlock": ("deadlock",),
              "nocompile": ("compile_error",),
              "forkbomb": ("runtime_error", "time_limit", "memory_limit",
                           "wrong_answer"),
              "readfiles": ("wrong_answer", "runtime_error",
                            "security_violation"),
              "flood": ("output_limit",),
              "sanitizer_hook": ("compile_error",)}
    ids = {name: submit(name).json["id"] for name in expect}
    results = {name: wait_graded(lc, sid) for name, sid in ids.items()}
    for name, verdicts in expect.items():
        g = results[name]
        t.ok(g.get("verdict") in verdicts, "%s: %s" % (name, "|".join(verdicts)),
             {k: g.get(k) for k in ("status", "verdict", "score")})
    s = results["serial"]
    t.ok(s.get("verdict") == "accepted" and
         s.get("score_breakdown", {}).get("speedup", 1) == 0 and
         60 <= s.get("score", 0) <= 75,
         "a correct serial solution: correctness credit, no speedup credit",
         {k: s.get(k) for k in ("score", "score_breakdown", "speedup")})
    t.eq(results["racy"].get("score"), 0, "a racy solution scores 0 even when "
         "it prints the right sum")
    rr = results["racy"].get("race", {})
    t.ok(rr.get("detected") is True and "learner.c" in
         str(rr.get("report", "")), "the race report points at the learner's "
         "file", rr)
    shadow = open("/etc/shadow").read() if os.geteuid() == 0 else ""
    leaked = [ln for ln in shadow.splitlines() if ln.strip() and
              ln in str(results["readfiles"])]
    t.ok(not leaked, "nothing of the host's /etc/shadow reaches the result")
    t.ok(pg.psql("SELECT count(*) FROM grade_history", db) ==
         str(len(expect) + 2), "each grading is in the history once")

    # Regrade: the latest submission of each learner is graded again; the
    # history keeps both results.
    lc_b = learner(d, adm, coh, "bea@acme.test")
    first_b = lc_b.post("/v1/assessments/%s/submissions" % assessment["id"],
                        {"source": fixture("wrong")}).json["id"]
    wait_graded(lc_b, first_b)
    r = adm.post("/v1/assessments/%s/regrade" % assessment["id"])
    t.ok(r.status == 202 and r.json["queued"] == 2 and
         first_b in r.json["submissions"],
         "regrade queues the latest submission of every learner", r)
    again = wait_graded(lc_b, first_b)
    hist = pg.psql("SELECT count(*) FROM grade_history WHERE submission_id = "
                   "'%s'" % first_b, db)
    t.ok(again.get("verdict") == "wrong_answer" and hist == "2",
         "the regraded result is recorded and the history keeps both",
         (again.get("verdict"), hist))
    for sid in r.json["submissions"]:
        wait_graded(adm, sid)

    # A change makes a new version, verified again; submissions keep theirs.
    r = adm.patch("/v1/exercises/" + ex["id"], {"statement": "Sum it, fast."})
    t.ok(r.status == 200 and r.json["version"] == 2 and
         r.json["status"] == "verifying", "PATCH makes version 2, verifying", r)
    v2 = wait_exercise(adm, ex["id"])
    t.ok(v2.get("status") == "ready" and v2.get("version") == 2,
         "version 2 is verified", {k: v2.get(k) for k in ("status", "version")})
    t.eq(lc.get("/v1/submissions/" + par["id"]).json.get("exercise_version"), 1,
         "earlier submissions keep the version they were graded against")

    # kill -9 of a grader with jobs in flight: nothing lost, one result each.
    graders = [int(x) for x in os.popen("pgrep -f -- '--role=grader'")
               .read().split() if int(x) != os.getpid()]
    batch = [submit(n).json["id"] for n in ("wrong", "serial", "parallel")]
    time.sleep(1.5)
    for pid in graders[:1]:
        os.kill(pid, signal.SIGKILL)
    done = [wait_graded(lc, sid, 300) for sid in batch]
    t.ok(all(x.get("status") == "graded" for x in done),
         "kill -9 of a grader: every queued submission is still graded",
         [x.get("status") for x in done])
    dup = pg.psql("SELECT count(*) FROM (SELECT submission_id FROM grade_history "
                  "WHERE submission_id = ANY('{%s}') GROUP BY 1 "
                  "HAVING count(*) > 1) x" % ",".join(batch), db)
    t.eq(dup, "0", "and no submission has two results")

    # kill -9 of the whole daemon (and its graders) with jobs in flight.
    batch = [submit(n).json["id"] for n in ("wrong", "nocompile", "serial")]
    time.sleep(1.0)
    os.system("pkill -9 -f -- '--role=grader'")
    d.proc.kill()
    d.proc.wait()
    d2 = Cohortd(pg.url(db), env=env, state_dir=d.state_dir)
    lc2 = d2.client(lc.token)
    done = [wait_graded(lc2, sid, 300) for sid in batch]
    t.ok(all(x.get("status") == "graded" for x in done),
         "kill -9 of the daemon: after restart everything queued is graded",
         [x.get("status") for x in done])
    t.eq(pg.psql("SELECT count(*) FROM submissions WHERE status NOT IN "
                 "('graded', 'failed')", db), "0", "nothing is left behind")
    d2.stop()

    # A bounded queue: past the limit, 503 with Retry-After.
    qd = Cohortd(pg.url(db), env={"COHORTD_ROLE": "api",
                                  "COHORTD_GRADE_QUEUE_LIMIT": "1"})
    qc = qd.client(lc.token)
    first = qc.post("/v1/assessments/%s/submissions" % assessment["id"],
                    {"source": fixture("wrong")})
    second = qc.post("/v1/assessments/%s/submissions" % assessment["id"],
                     {"source": fixture("wrong")})
    t.ok(first.status == 202 and second.is_problem(503) and
         int(second.header("retry-after") or 0) > 0,
         "a full grading queue answers 503 with Retry-After", (first, second))
    qd.stop()

    # Two API processes and two worker processes on one database.
    apis = [Cohortd(pg.url(db), env={"COHORTD_ROLE": "api"}) for _ in range(2)]
    workers = [Cohortd(pg.url(db), env={"COHORTD_ROLE": "worker",
                                        "COHORTD_WORKERS": "1"}, wait=False)
               for _ in range(2)]
    sids = []
    for i in range(6):
        c = apis[i % 2].client(lc.token)
        sids.append(c.post("/v1/assessments/%s/submissions" % assessment["id"],
                           {"source": fixture(["wrong", "nocompile"][i % 2])}
                           ).json["id"])
    done = [wait_graded(apis[0].client(lc.token), s, 300) for s in sids]
    t.ok(all(x.get("status") == "graded" for x in done),
         "two API and two worker processes: all graded", [x.get("status")
                                                          for x in done])
    once = pg.psql("SELECT count(DISTINCT submission_id) = count(*) FROM "
                   "grade_history WHERE submission_id = ANY('{%s}')"
                   % ",".join(sids), db)
    t.eq(once, "t", "every job graded exactly once")
    for w in workers + apis:
        w.stop()

    # Verification rejects an exercise whose reference is wrong.
    d3 = Cohortd(pg.url(db), env=env, state_dir=d.state_dir)
    adm3 = d3.client(adm.token)
    cur = adm3.get("/v1/exercises/" + ex["id"]).json
    files = dict(cur["files"])
    # Off by one on every multi-threaded sum: the outputs differ with the
    # thread count, so the reference contradicts itself.
    files["reference.c"] = files["reference.c"].replace(
        "\treturn total;", "\treturn total + 1;")
    assert "return total + 1;" in files["reference.c"]
    spec = {k: v for k, v in cur["spec"].items() if k not in ("slug", "title")}
    r = adm3.post("/v1/exercises", dict(spec, slug="broken-sum",
                                        title="Broken", files=files))
    t.ok(r.status == 201, "an exercise with a wrong reference is taken", r)
    bad = wait_exercise(adm3, r.json["id"])
    t.ok(bad.get("status") == "rejected" and bad.get("reason"),
         "and rejected by verification, with the reason",
         {k: bad.get(k) for k in ("status", "reason")})
    files = dict(cur["files"])
    files["reference.c"] = fixture("serial")
    r = adm3.post("/v1/exercises", dict(spec, slug="slow-sum",
                                        title="Slow", files=files))
    slow = wait_exercise(adm3, r.json["id"])
    t.ok(slow.get("status") == "rejected" and "speedup" in
         str(slow.get("reason", "")).lower(),
         "a reference below the target speedup is rejected",
         {k: slow.get(k) for k in ("status", "reason")})
    r = adm3.post("/v1/modules/%s/assessments" % assessment["module_id"],
                  {"title": "x", "kind": "exercise",
                   "exercise_id": bad["id"]})
    ar = r.json
    lc3 = d3.client(lc.token)
    r = lc3.post("/v1/assessments/%s/submissions" % ar["id"],
                 {"source": fixture("parallel")})
    t.ok(r.is_problem(409), "a rejected exercise takes no submissions", r)
    d3.stop()


main(test)
