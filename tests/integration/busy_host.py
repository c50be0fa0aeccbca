"""busy_host.py - grading on a busy host.  With two CPU hogs of its own
running, the whole built-in catalog is imported and nothing is rejected;
the parallel and serial parallel-sum fixtures are graded provisional or
right (the parallel one with full speedup credit, the serial one with
none).  Once the hogs stop, every exercise becomes ready and every
provisional grade final and right."""
import os
import subprocess
import time

from harness import SRCDIR, Cohortd, Postgres, main, login, PW

FIX = os.path.join(SRCDIR, "tests", "fixtures", "solutions", "parallel-sum")


def fixture(name):
    with open(os.path.join(FIX, name + ".c")) as f:
        return f.read()


def waiting(ex):
    return ex.get("status") == "verifying" and "quiet" in str(ex.get("reason"))


def settled(c, ids, quiet_ok, timeout):
    """Each exercise once verified (or, quiet_ok, waiting for quiet)."""
    deadline = time.time() + timeout
    out = {}
    while time.time() < deadline:
        out = {slug: c.get("/v1/exercises/" + eid).json
               for slug, eid in ids.items()}
        if all(x["status"] != "verifying" or (quiet_ok and waiting(x))
               for x in out.values()):
            break
        time.sleep(1)
    return out


def graded(c, sid, final, timeout):
    """Graded (final: and not provisional), or the time is up."""
    deadline = time.time() + timeout
    g = {}
    while time.time() < deadline:
        g = c.get("/v1/submissions/" + sid).json
        if g["status"] == "failed" or (g["status"] == "graded" and
                                       (not final or not g["provisional"])):
            break
        time.sleep(1)
    return g


def right(g, full):
    """Provisional (correctness only, saying why) or final and right."""
    sp, br = g.get("speedup") or {}, g.get("score_breakdown") or {}
    if g.get("verdict") != "accepted":
        return False
    if g.get("provisional"):
        return (sp.get("measured") is False and br.get("speedup") == 0 and
                bool(sp.get("reason")))
    if sp.get("measured") is not True:
        return False
    if full:
        return g.get("score", 0) >= 99
    return br.get("speedup") == 0 and 60 <= g.get("score", 0) <= 75


def show(g):
    return {k: g.get(k) for k in ("status", "verdict", "score", "provisional",
                                  "score_breakdown", "speedup")}


def test(t):
    pg = Postgres()
    db = pg.new_database()
    hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
            for _ in range(2)]
    try:
        run(t, pg, db, hogs)
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def run(t, pg, db, hogs):
    d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "2"})
    a = d.admin()
    a.post("/v1/tenants", {"slug": "acme", "name": "Acme",
                           "admin": {"email": "admin@acme.test",
                                     "name": "Admin", "password": PW}})
    adm = login(d, "acme", "admin@acme.test")
    slugs = [x["slug"] for x in adm.get("/v1/catalog/exercises").json["items"]]
    # parallel-sum first: its verification is the first claimed.
    slugs.sort(key=lambda s: s != "parallel-sum")
    ids = {}
    for slug in slugs:
        r = adm.post("/v1/exercises/import", {"catalog": slug})
        if r.status == 201:
            ids[slug] = r.json["id"]
    t.ok(len(ids) == len(slugs) >= 8, "the whole catalog is imported beside "
         "two CPU hogs", (slugs, ids))
    busy = settled(adm, ids, True, 600)
    t.ok(all(x["status"] == "ready" or waiting(x) for x in busy.values()),
         "nothing is rejected: every exercise is ready, or waits for a quiet "
         "host to measure its reference",
         {s: (x["status"], x.get("reason")) for s, x in busy.items()})

    ps = busy.get("parallel-sum", {})
    subs = {}
    if ps.get("status") == "ready":
        prog = adm.post("/v1/programs", {"title": "P",
                                         "status": "published"}).json
        mod = adm.post("/v1/programs/%s/modules" % prog["id"],
                       {"title": "M"}).json
        asm = adm.post("/v1/modules/%s/assessments" % mod["id"],
                       {"title": "Sum", "kind": "exercise",
                        "exercise_id": ps["id"], "max_attempts": 9}).json
        coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                       "starts_at": "2026-01-01T00:00:00Z",
                                       "ends_at": "2099-01-01T00:00:00Z"}).json
        u = adm.post("/v1/users", {"email": "lee@acme.test", "name": "L",
                                   "role": "learner", "password": PW}).json
        adm.post("/v1/cohorts/%s/enrollments" % coh["id"], {"user_id": u["id"]})
        lc = login(d, "acme", "lee@acme.test")
        for name in ("parallel", "serial"):
            r = lc.post("/v1/assessments/%s/submissions" % asm["id"],
                        {"source": fixture(name)})
            subs[name] = r.json["id"]
        got = {n: graded(lc, sid, False, 600) for n, sid in subs.items()}
        t.ok(right(got["parallel"], True), "under the hogs the parallel "
             "solution is provisional or has full speedup credit",
             show(got["parallel"]))
        t.ok(right(got["serial"], False), "and the serial one provisional or "
             "without speedup credit", show(got["serial"]))
    else:
        t.diag("parallel-sum waits for a quiet host: submissions after")

    for h in hogs:
        h.kill()
        h.wait()
    # A verification that waited for quiet tries again on its back-off;
    # the operator's way to hurry it is POST .../verify.
    for slug, x in busy.items():
        deadline = time.time() + 300
        while waiting(x) and time.time() < deadline:
            # 409 while a grader is trying it: once that try ends.
            if adm.post("/v1/exercises/%s/verify" % x["id"]).status == 202:
                break
            time.sleep(2)
            x = adm.get("/v1/exercises/" + x["id"]).json
    quiet = settled(adm, ids, False, 420)
    t.ok(all(x["status"] == "ready" for x in quiet.values()),
         "the hogs gone, every exercise is ready",
         {s: (x["status"], x.get("reason")) for s, x in quiet.items()})
    if subs:
        fin = {n: graded(lc, sid, True, 420) for n, sid in subs.items()}
        t.ok(right(fin["parallel"], True) and not fin["parallel"]["provisional"]
             and right(fin["serial"], False) and
             not fin["serial"]["provisional"],
             "and every provisional grade is final and right",
             (show(fin["parallel"]), show(fin["serial"])))
    left = pg.psql("SELECT count(*) FROM submissions WHERE provisional", db)
    t.eq(left, "0", "no grade is left provisional")
    d.stop()


main(test)
