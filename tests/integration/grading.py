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
import subprocess
import threading
import time

import harness
from harness import SRCDIR, Cohortd, Postgres, main, login, PW

FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions", "parallel-sum")


def fixture(name):
    with open(os.path.join(FIX, name + ".c")) as f:
        return f.read()


def waiting(ex):
    """A verification waiting for a quiet host: still verifying, saying so."""
    return ex.get("status") == "verifying" and "quiet" in str(ex.get("reason"))


def wait_exercise(c, eid, timeout=240, quiet_ok=True):
    """Until verified, or (quiet_ok) waiting for a quieter host."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get("/v1/exercises/" + eid)
        if r.status == 200 and (r.json["status"] != "verifying" or
                                (quiet_ok and waiting(r.json))):
            return r.json
        time.sleep(0.5)
    return c.get("/v1/exercises/" + eid).json


def speedup_ok(g, full):
    """The host may be busy: a provisional grade (correctness only, the
    speedup not measured, saying why), or a final one that is right."""
    sp = g.get("speedup") or {}
    br = g.get("score_breakdown") or {}
    if g.get("verdict") != "accepted":
        return False
    if g.get("provisional") is True:
        return (sp.get("measured") is False and br.get("speedup") == 0 and
                bool(sp.get("reason")))
    if g.get("provisional") is not False or sp.get("measured") is not True:
        return False
    if full:
        return g.get("score", 0) >= 99 and sp.get("median", 0) >= 1.4
    return br.get("speedup", 1) == 0 and 60 <= g.get("score", 0) <= 75


def sse(d, token, sid, last=None, timeout=180):
    """Read a submission's event stream until the server ends it: a list
    of (id, event, data)."""
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=timeout)
    h = {"Authorization": "Bearer " + token}
    if last is not None:
        h["Last-Event-ID"] = str(last)
    conn.request("GET", "/v1/submissions/%s/events" % sid, headers=h)
    resp = conn.getresponse()
    raw = resp.read()
    text = raw.decode()
    conn.close()
    harness.Contract.check("GET", "/v1/submissions/%s/events" % sid,
                           resp.status, resp.getheaders(), raw)
    events = []
    for block in text.split("\n\n"):
        ev = {"id": None, "event": "message", "data": None}
        for ln in block.splitlines():
            if ln.startswith("id: "):
                ev["id"] = int(ln[4:])
            elif ln.startswith("event: "):
                ev["event"] = ln[7:]
            elif ln.startswith("data: "):
                ev["data"] = json.loads(ln[6:])
        if ev["data"] is not None:
            events.append(ev)
    return resp, events


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


def wait_final(c, sid, timeout=300):
    """Graded, and not provisional (or the time is up)."""
    deadline = time.time() + timeout
    g = {}
    while time.time() < deadline:
        g = wait_graded(c, sid, timeout)
        if g.get("status") != "graded" or g.get("provisional") is False:
            return g
        time.sleep(1)
    return g


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
    t.ok(speedup_ok(par, True),
         "a correct parallel solution: accepted, full score (or provisional)",
         {k: par.get(k) for k in ("status", "verdict", "score", "speedup",
                                  "score_breakdown", "provisional")})
    t.ok({"queued", "graded"} <= par["_seen"] or "graded" in par["_seen"],
         "status moves through the pipeline", par["_seen"])
    t.ok(all(x["passed"] for x in par.get("tests", [])) and
         par.get("race", {}).get("checked") is True and
         par.get("compile", {}).get("ok") is True,
         "tests, race check and compile are reported", par.get("race"))

    # Server-sent events follow one submission until it is graded.
    sid = submit("wrong").json["id"]
    box = {}
    reader = threading.Thread(target=lambda: box.update(
        zip(("resp", "events"), sse(d, lc.token, sid))))
    reader.start()
    time.sleep(0.5)
    others_ok = lc.get("/v1/me").status == 200
    reader.join(200)
    resp, events = box.get("resp"), box.get("events", [])
    st = [e for e in events if e["event"] == "status"]
    t.ok(resp is not None and resp.status == 200 and
         resp.getheader("content-type") == "text/event-stream" and
         len(st) >= 2 and st[-1]["data"]["status"] == "graded" and
         all(e["id"] for e in st) and
         [e["id"] for e in st] == sorted({e["id"] for e in st}) and
         events[-1]["event"] == "end" and
         events[-1]["data"]["reason"] == "graded" and
         events[-1]["data"]["verdict"] == "wrong_answer" and
         events[-1]["data"]["provisional"] is False,
         "GET .../events streams each status change, with ids, then an end "
         "event with the outcome", events)
    t.ok(others_ok, "other requests are served while a stream is open")
    _, again = sse(d, lc.token, sid, last=st[0]["id"] if st else 0)
    t.ok(again and again[0]["id"] == (st[1]["id"] if len(st) > 1 else None)
         and again[-1]["event"] == "end",
         "a reconnect with Last-Event-ID resumes after that event",
         (st, again))
    # The benchmark's rounds, replayed: each says whether it was kept.
    _, pev = sse(d, lc.token, par["id"])
    rounds = [e["data"] for e in pev if e["event"] == "round"]
    t.ok(rounds and all({"round", "of", "kept", "clean", "needed",
                         "cpu_wait_pct"} <= set(x) for x in rounds) and
         rounds[-1]["round"] == len(rounds),
         "an event per benchmark round", pev)
    m = d.client().get("/metrics").body.decode()
    t.ok('cohortd_gradings_total{kind="submission",verdict="accepted"} ' in m
         and "cohortd_grading_duration_seconds_count " in m and
         'cohortd_grading_duration_seconds_bucket{le="+Inf"} ' in m and
         "cohortd_bench_rounds_discarded_total " in m and
         "cohortd_provisional_grades_pending " in m and
         "cohortd_verifications_waiting_for_quiet " in m and
         "# TYPE cohortd_grade_queue_jobs gauge" in m,
         "/metrics counts gradings by verdict, their duration, discarded "
         "rounds, provisional grades and waiting verifications", m[-3000:])

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
    t.ok(speedup_ok(s, False) and 60 <= s.get("score", 0) <= 75,
         "a correct serial solution: correctness credit, no speedup credit",
         {k: s.get(k) for k in ("score", "score_breakdown", "speedup",
                                "provisional")})
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

    # A provisional grade is measured again by a rebench job, which makes
    # it final.  Written here by hand: this host gets clean samples even
    # when busy, so a grader rarely makes one.
    lc_p = learner(d, adm, coh, "pia@acme.test")
    pid = lc_p.post("/v1/assessments/%s/submissions" % assessment["id"],
                    {"source": fixture("parallel")}).json["id"]
    pia = wait_final(lc_p, pid)
    pg.psql("UPDATE submissions SET provisional = true, score = c, "
            "final_score = c * (100 - penalty) / 100, result = jsonb_set("
            "jsonb_set(jsonb_set(jsonb_set(jsonb_set(result, '{provisional}',"
            " 'true'), '{speedup,measured}', 'false'), '{speedup,reason}', "
            "'\"the host was busy: in 12 rounds the reference''s serial run was clean 1 time, 3 needed\"'), "
            "'{score_breakdown,speedup}', '0'), '{score}', to_jsonb(c)) FROM "
            "(SELECT (result->'score_breakdown'->>'correctness')::numeric AS c "
            "FROM submissions WHERE id = '%s') x WHERE id = '%s'"
            % (pid, pid), db)
    pg.psql("INSERT INTO grade_jobs (tenant_id, kind, submission_id, "
            "not_before, waiting_since, tries) SELECT tenant_id, 'rebench', "
            "id, now() + interval '1 hour', now(), 1 FROM submissions WHERE "
            "id = '%s'" % pid, db)
    g = lc_p.get("/v1/submissions/" + pid).json
    t.ok(g["provisional"] is True and g["score"] < 80,
         "a provisional grade shows as such: correctness only",
         {k: g.get(k) for k in ("provisional", "score", "score_breakdown")})
    gb = adm.get("/v1/reports/cohorts/%s/gradebook?limit=100" % coh["id"]).json
    row = [x for x in gb["items"] if x["email"] == "pia@acme.test"]
    csv = adm.get("/v1/reports/cohorts/%s/gradebook?format=csv"
                  % coh["id"]).body.decode().splitlines()
    prow = [x for x in csv if x.startswith("pia@acme.test,")]
    t.ok(row and row[0]["provisional"] is True and
         row[0]["assessments"][assessment["id"]]["provisional"] is True and
         csv[0].endswith(",final_grade,provisional") and prow and
         prow[0].endswith(",true"),
         "the gradebook marks it provisional, in JSON and CSV", (row, csv[:1],
                                                                 prow))
    rep = adm.get("/v1/reports/exercises/" + ex["id"]).json
    t.ok(rep.get("provisional") == 1, "exercise analytics count it", rep)
    m = d.client().get("/metrics").body.decode()
    t.ok("cohortd_provisional_grades_pending 1" in m and
         'cohortd_grade_queue_jobs{kind="rebench",state="waiting"} 1' in m,
         "and /metrics shows it pending", m[-1500:])
    pg.psql("UPDATE grade_jobs SET not_before = NULL WHERE submission_id = "
            "'%s' AND kind = 'rebench'" % pid, db)
    fin = wait_final(lc_p, pid, 400)
    hist = pg.psql("SELECT count(*) FROM grade_history WHERE submission_id = "
                   "'%s'" % pid, db)
    t.ok(fin.get("provisional") is False and speedup_ok(fin, True) and
         hist == "2", "the rebench job measures it again: final and right, "
         "one more grade in the history",
         ({k: fin.get(k) for k in ("provisional", "score", "speedup")}, hist))

    # A change makes a new version, verified again; submissions keep theirs.
    r = adm.patch("/v1/exercises/" + ex["id"], {"statement": "Sum it, fast."})
    t.ok(r.status == 200 and r.json["version"] == 2 and
         r.json["status"] == "verifying", "PATCH makes version 2, verifying", r)
    v2 = wait_exercise(adm, ex["id"])
    t.ok(v2.get("status") == "ready" and v2.get("version") == 2,
         "version 2 is verified", {k: v2.get(k) for k in ("status", "version")})
    t.eq(lc.get("/v1/submissions/" + par["id"]).json.get("exercise_version"), 1,
         "earlier submissions keep the version they were graded against")

    # POST .../verify: again, at once for one waiting for a quiet host,
    # 409 while a grader runs one.
    r = adm.post("/v1/exercises/%s/verify" % ex["id"])
    t.ok(r.status == 202 and r.json["status"] == "verifying",
         "POST .../verify verifies the current version again: 202", r)
    v = wait_exercise(adm, ex["id"], quiet_ok=False)
    t.eq(v.get("status"), "ready", "and it is ready again")
    pg.psql("UPDATE exercise_versions SET status = 'verifying', reason = "
            "'waiting for a quiet window to measure the reference''s speedup "
            "(the host was busy)' WHERE exercise_id = '%s' AND version = 2"
            % ex["id"], db)
    pg.psql("INSERT INTO grade_jobs (tenant_id, kind, exercise_id, "
            "exercise_version, not_before, waiting_since, tries) SELECT "
            "tenant_id, 'verify', id, 2, now() + interval '1 hour', now() - "
            "interval '2 hours', 7 FROM exercises WHERE id = '%s'" % ex["id"],
            db)
    m = d.client().get("/metrics").body.decode()
    r = lc.post("/v1/assessments/%s/submissions" % assessment["id"],
                {"source": fixture("parallel")})
    t.ok(waiting(adm.get("/v1/exercises/" + ex["id"]).json) and
         r.is_problem(409) and
         "cohortd_verifications_waiting_for_quiet 1" in m,
         "a verification waiting for a quiet host: verifying, saying why; no "
         "submissions; counted in /metrics", (r, m[-800:]))
    r = adm.post("/v1/exercises/%s/verify" % ex["id"])
    v = wait_exercise(adm, ex["id"], 120, quiet_ok=False)
    t.ok(r.status == 202 and v.get("status") == "ready",
         "POST .../verify runs a waiting verification at once", (r, v))
    pg.psql("INSERT INTO grade_jobs (tenant_id, kind, exercise_id, "
            "exercise_version, state, lease_until, lease_token) SELECT "
            "tenant_id, 'verify', id, 2, 'running', now() + interval '1 hour', "
            "gen_random_uuid() FROM exercises WHERE id = '%s'" % ex["id"], db)
    r = adm.post("/v1/exercises/%s/verify" % ex["id"])
    t.ok(r.is_problem(409), "409 while a grader is verifying it", r)
    pg.psql("DELETE FROM grade_jobs WHERE exercise_id = '%s' AND state = "
            "'running'" % ex["id"], db)
    r = lc.post("/v1/exercises/%s/verify" % ex["id"])
    t.ok(r.status == 403, "learners may not", r)

    # kill -9 of a grader with jobs in flight: nothing lost, one result each.
    # This daemon's graders only: other daemons may grade on this host.
    graders = [int(x) for x in os.popen("pgrep -P %d -f -- '--role=grader'"
                                        % d.proc.pid).read().split()]
    t.ok(graders, "this daemon's graders are found", graders)
    batch = [submit(n).json["id"] for n in ("wrong", "serial", "parallel")]
    time.sleep(1.5)
    for pid in graders[:1]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
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
    # Its graders first (only this daemon's): a grader that outlived it
    # was once seen holding the benchmark lane (see the closing note).
    subprocess.run(["pkill", "-9", "-P", str(d.proc.pid), "-f", "--",
                    "--role=grader"])
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
    # No graders here: a stream on the queued submission stays quiet but
    # for keep-alive comments, and ends with an event on shutdown.
    conn = http.client.HTTPConnection("127.0.0.1", qd.port, timeout=30)
    conn.request("GET", "/v1/submissions/%s/events" % first.json["id"],
                 headers={"Authorization": "Bearer " + lc.token})
    raw, t0 = b"", time.time()
    resp = conn.getresponse()
    while b": keep-alive" not in raw and time.time() - t0 < 16:
        raw += resp.fp.readline()
    t.ok(b": keep-alive" in raw and time.time() - t0 < 16,
         "a quiet stream gets a keep-alive comment within 15 s", raw)
    stopper = threading.Thread(target=qd.stop)
    stopper.start()
    while b"shutdown" not in raw:
        ln = resp.fp.readline()
        if not ln:
            break
        raw += ln
    stopper.join()
    conn.close()
    t.ok(b"event: end" in raw and b'"reason":"shutdown"' in raw,
         "on shutdown a stream ends with an end event saying so", raw)

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
    t.ok((slow.get("status") == "rejected" and "speedup" in
          str(slow.get("reason", "")).lower()) or waiting(slow),
         "a reference below the target speedup is rejected (or waits for a "
         "quiet host to tell)", {k: slow.get(k) for k in ("status", "reason")})
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
