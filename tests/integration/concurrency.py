"""concurrency.py - a request waiting on the database starves no one.

One request is held by a row lock taken through psql (its lock timeout is
long, so only the test ends the wait); meanwhile other callers, each on a
connection of its own, ask for other resources, for health and for
readiness.  The daemon has one HTTP thread configured (with a pool of
polling threads, every connection on the blocked thread waited too).
Every other request is answered while the held one still waits; then the
lock is let go and the held one is answered too.  Only the order is
asserted, never a duration.  Cases run alone by name: python3
tests/integration/concurrency.py held"""
import os
import subprocess
import threading
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, setup_tenant

OTHERS = 8


@fixture
def world():
    """The daemon (one HTTP thread), tenant acme and three learners: the
    responses that created them are kept (created), their ids (users)."""
    w = types.SimpleNamespace()
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    w.d = d = Cohortd(pg.url(db), env={
        "COHORTD_WORKERS": "0", "COHORTD_HTTP_THREADS": "1",
        "COHORTD_DB_POOL_SIZE": "4", "COHORTD_REQUEST_LOCK_TIMEOUT": "60000"})
    w.adm = adm = setup_tenant(d, "acme")
    w.created = []
    w.users = []
    for i in range(3):
        r = adm.post("/v1/users", {"email": "u%d@acme.test" % i,
                                   "name": "U%d" % i, "role": "learner"})
        w.created.append(r)
        w.users.append(r.json["id"])
    return w


@case
def users(t):
    for i, r in enumerate(world().created):
        t.eq(r.status, 201, "user %d is created" % i)


@case
def held(t):
    # Last: it stops the daemon.
    w = world()
    pg, db, d, adm, users = w.pg, w.db, w.d, w.adm, w.users
    held = users[0]

    # The lock: psql keeps a transaction open holding the user's row.
    lock = subprocess.Popen([os.path.join(pg.bindir, "psql"), "-X", "-q",
                             "-At", "-v", "ON_ERROR_STOP=1", "-d",
                             pg.url(db)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lock.stdin.write("BEGIN;\nSELECT 1 FROM users WHERE id = '%s' "
                     "FOR UPDATE;\n\\echo locked\n" % held)
    lock.stdin.flush()
    t.eq(lock.stdout.readline().strip(), "1", "psql holds the user's row")
    t.eq(lock.stdout.readline().strip(), "locked", "and keeps it")

    done = []               # (name, status) in the order answered
    mu = threading.Lock()

    def call(name, client, method, path, body=None):
        r = client.request(method, path, body)
        with mu:
            done.append((name, r.status))
        client.close()

    slow = threading.Thread(target=call, args=(
        "held", d.client(adm.token), "PATCH", "/v1/users/" + held,
        {"name": "Renamed"}))
    slow.start()
    waiting = "0"
    for _ in range(600):
        waiting = pg.psql("SELECT count(*) FROM pg_locks WHERE NOT granted",
                          db)
        if waiting != "0" or not slow.is_alive():
            break
        time.sleep(0.1)
    t.ok(waiting != "0" and slow.is_alive(),
         "the PATCH waits on the row lock", waiting)

    others = []
    for i in range(OTHERS):
        if i % 4 == 0:
            args = ("healthz", d.client(), "GET", "/healthz")
        elif i % 4 == 1:
            args = ("readyz", d.client(), "GET", "/readyz")
        else:
            args = ("user", d.client(adm.token), "GET",
                    "/v1/users/" + users[1 + i % 2])
        others.append(threading.Thread(target=call, args=args))
    for th in others:
        th.start()
    for th in others:
        th.join(120)
    with mu:
        before = list(done)
    still = pg.psql("SELECT count(*) FROM pg_locks WHERE NOT granted", db)
    t.eq(len(before), OTHERS,
         "all %d other requests are answered while the PATCH waits"
         % OTHERS)
    t.ok(all(s == 200 for _, s in before) and
         "held" not in [n for n, _ in before],
         "each of them 200, none after the held one", before)
    t.ok(slow.is_alive() and still != "0",
         "the held PATCH is still waiting on the lock", still)
    t.ok({"healthz", "readyz", "user"} <= {n for n, _ in before},
         "health, readiness and another user among them", before)

    lock.stdin.write("COMMIT;\n\\q\n")
    lock.stdin.flush()
    lock.wait(30)
    slow.join(120)
    with mu:
        after = list(done)
    t.ok(len(after) == OTHERS + 1 and after[-1] == ("held", 200),
         "once the lock is let go, the PATCH is answered 200, last", after)
    r = adm.get("/v1/users/" + held)
    t.ok(r.status == 200 and r.json["name"] == "Renamed",
         "and its change is there", r)
    d.stop()


run()
