"""batch_slices.py - a big batch enrollment does not hold its cohort.

A 6,000-row CSV batch runs; meanwhile the cohort's row, which every
request on the cohort takes, is had again and again within a request's
lock timeout (the batch commits a slice at a time) instead of waiting for
the whole batch.  Everything is enrolled at the end, and a second send of
the batch answers every row "existing".  Cases run alone by name:
python3 tests/integration/batch_slices.py resend"""
import http.client
import json
import threading
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, setup_tenant

ROWS = 6000


@fixture
def batched():
    """The daemon, a cohort, and the CSV batch of ROWS rows sent to it
    while the cohort's row is taken again and again: the batch's
    response (box) and the probes are kept for the cases to check."""
    pg = Postgres()
    db = pg.new_database()
    d = Cohortd(pg.url(db), env={"COHORTD_WORKERS": "0",
                                 "COHORTD_PUBLIC_URL": "https://x.test"})
    adm = setup_tenant(d, "acme")
    prog = adm.post("/v1/programs", {"title": "P", "status":
                                     "published"}).json
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json
    csv = ("email,name\n" + "".join("b%d@acme.test,B %d\n" % (i, i)
                                    for i in range(ROWS))).encode()
    box = {}

    def batch():
        c = http.client.HTTPConnection("127.0.0.1", d.port, timeout=600)
        t0 = time.time()
        c.request("POST", "/v1/cohorts/%s/enrollments/batch" % coh["id"],
                  body=csv, headers={"Content-Type": "text/csv",
                                     "Authorization": "Bearer " + adm.token})
        r = c.getresponse()
        box["status"], box["body"] = r.status, r.read()
        box["secs"] = time.time() - t0

    th = threading.Thread(target=batch)
    th.start()
    time.sleep(0.5)
    # What another request on the cohort needs: its row, which the batch
    # holds for a slice at a time.  Taken from the database directly, with
    # a request's lock timeout, so that only the lock is measured.
    probes = []
    t0 = time.time()
    while th.is_alive() and len(probes) < 5:
        t1 = time.time()
        got = pg.psql("BEGIN; SET LOCAL lock_timeout = '5s'; SELECT 1 FROM "
                      "cohorts WHERE id = '%s' FOR UPDATE; COMMIT"
                      % coh["id"], db, check=False)
        probes.append((got is not None, box.get("status"),
                       round(t1 - t0, 1), round(time.time() - t1, 1)))
        time.sleep(0.3)
    th.join(600)
    return types.SimpleNamespace(pg=pg, db=db, d=d, adm=adm, coh=coh,
                                 csv=csv, box=box, probes=probes)


@case
def batch(t):
    x = batched()
    box, probes = x.box, x.probes
    during = [ok for ok, b, _, _ in probes if b is None]
    t.ok(box.get("status") == 200, "the %d-row batch is enrolled (%.1f s)"
         % (ROWS, box.get("secs", 0)), box.get("body", b"")[:300])
    t.ok(during and all(during),
         "while it runs, the cohort's row is had within a request's lock "
         "timeout, again and again", probes)


@case
def after(t):
    b = batched()
    pg, db, adm, coh = b.pg, b.db, b.adm, b.coh
    for i in range(3):
        r = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                     {"email": "s%d@acme.test" % i, "name": "S"})
        t.eq(r.status, 201, "a single enrollment after it")
    n = pg.psql("SELECT count(*) FROM enrollments WHERE cohort_id = '%s' "
                "AND state = 'active'" % coh["id"], db)
    t.eq(n, str(ROWS + 3), "every one of them is enrolled")


@case
def resend(t):
    # Last: it stops the daemon.
    b = batched()
    adm, coh, csv = b.adm, b.coh, b.csv
    r = adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % coh["id"],
                    raw=csv, ctype="text/csv")
    s = (r.json or {}).get("summary", {})
    t.ok(r.status == 200 and s.get("existing") == ROWS,
         "sent again, every row answers existing", s)
    b.d.stop()


run()
