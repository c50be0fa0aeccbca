"""remembered.py - a principal remembered by one API process never
outlives a change made through another.

Each process remembers what a bearer token resolved to, so that a GET
sends auth_confirm ahead of its own statement in one round trip instead of
waiting for the lookup (daemon/auth.c, migrations/0021).  Two processes on
one database: a token is used on B until B remembers it, then revoked,
demoted or deactivated through A, and B's very next request sees it.
Cases run alone by name: python3 tests/integration/remembered.py logout"""
import time
import types

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, login, setup_tenant


@fixture
def world():
    """Daemon A (all roles, no graders) and daemon B (API only) on one
    database, counting PL/pgSQL calls; tenant acme and its admin on A."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.db = w.pg.new_database()
    w.pg.psql("ALTER DATABASE %s SET track_functions = 'pl'" % w.db)
    w.a = Cohortd(w.pg.url(w.db), env={"COHORTD_WORKERS": "0"})
    w.b = Cohortd(w.pg.url(w.db), env={"COHORTD_ROLE": "api"})
    w.admin = setup_tenant(w.a, "acme")
    return w


def user(w, email, role):
    r = w.admin.post("/v1/users", {"email": email, "name": email,
                                   "role": role, "password": PW})
    assert r.status == 201, r
    return r.json["id"]


def warm(w, token, path):
    """Requests on B until it remembers token: the first is looked up,
    the rest are confirmed.  The last response."""
    c = w.b.client(token)
    for _ in range(3):
        r = c.get(path)
    return r


def confirms(w, least=0):
    """auth_confirm's calls as the statistics say, once they say least
    (backends report their counts within a few seconds), or after 20 s."""
    deadline = time.time() + 20
    while True:
        n = int(w.pg.psql("SELECT coalesce(sum(calls), 0) FROM "
                          "pg_stat_user_functions WHERE funcname = "
                          "'auth_confirm'", w.db) or 0)
        if n >= least or time.time() > deadline:
            return n
        time.sleep(0.5)


@case
def remembered_reads(t):
    w = world()
    uid = user(w, "rita@acme.test", "learner")
    tok = login(w.a, "acme", "rita@acme.test").token
    r = warm(w, tok, "/v1/users/" + uid)
    t.ok(r.status == 403, "a learner reading a user on B: 403", r)
    r = warm(w, tok, "/v1/me")
    t.ok(r.status == 200 and r.json["id"] == uid, "her /v1/me on B", r)
    for _ in range(5):
        r = w.b.client(tok).get("/v1/me")
    n = confirms(w, 5)
    t.ok(r.status == 200 and n >= 5,
         "B confirms the remembered principal in each request's own "
         "transaction (auth_confirm ran %d times)" % n, n)
    # API keys (no user) and the platform token (no tenant, no user) are
    # remembered too: their NULLs round-trip through auth_confirm.
    key = w.admin.post("/v1/api-keys", {"name": "k", "role": "admin"})
    r = warm(w, key.json["key"], "/v1/users?limit=1")
    n2 = confirms(w, n + 2)
    t.ok(r.status == 200 and n2 >= n + 2,
         "an API key is confirmed the same way (%d more)" % (n2 - n), r)
    r = warm(w, w.b.token, "/v1/tenants?limit=1")
    n3 = confirms(w, n2 + 2)
    t.ok(r.status == 200 and n3 >= n2 + 2,
         "so is the platform token (%d more)" % (n3 - n2), r)


@case
def logout(t):
    w = world()
    user(w, "lou@acme.test", "learner")
    tok = login(w.a, "acme", "lou@acme.test").token
    t.ok(warm(w, tok, "/v1/me").status == 200, "lou's session works on B")
    r = w.a.client(tok).post("/v1/auth/logout")
    t.ok(r.status == 204, "lou logs out through A", r)
    r = w.b.client(tok).get("/v1/me")
    t.ok(r.is_problem(401), "B refuses the session at once", r)
    r = w.b.client(tok).get("/v1/me")
    t.ok(r.is_problem(401), "and again (it forgot it)", r)


def key_deleted_after(t, path, what):
    """An admin key used on B for path until remembered, deleted through
    A: B's next request on path is 401."""
    w = world()
    made = w.admin.post("/v1/api-keys", {"name": what, "role": "admin"})
    key = made.json["key"]
    r = warm(w, key, path)
    t.ok(r.status == 200, "the admin key: %s on B" % what, r)
    r = w.admin.delete("/v1/api-keys/" + made.json["id"])
    t.ok(r.status in (200, 204), "the key is deleted through A", r)
    r = w.b.client(key).get(path)
    t.ok(r.is_problem(401), "B refuses the deleted key at once: %s" % what,
         r)


@case
def key_deleted(t):
    key_deleted_after(t, "/v1/users?limit=1", "list users")


@case
def stream_after_revocation(t):
    # A streamed report starts only under a principal that still holds.
    key_deleted_after(t, "/v1/reports/seats?format=csv",
                      "stream the seats report as CSV")


@case
def demoted(t):
    # A key acts with no more than its creator may now (keys.py): the
    # creator made an instructor, the key B remembers as an admin's
    # reads as an instructor's on B's next request.
    w = world()
    uid = user(w, "dee@acme.test", "admin")
    dee = login(w.a, "acme", "dee@acme.test")
    key = dee.post("/v1/api-keys", {"name": "dee's", "role": "admin"})
    key = key.json["key"]
    t.ok(warm(w, key, "/v1/users?limit=1").status == 200,
         "dee's admin key lists users on B")
    r = w.admin.patch("/v1/users/" + uid, {"role": "instructor"})
    t.ok(r.status == 200 and r.json["role"] == "instructor",
         "dee is made an instructor through A", r)
    r = w.b.client(key).get("/v1/users?limit=1")
    t.ok(r.is_problem(403), "B refuses her key the admin's list at once", r)
    r = w.b.client(key).get("/v1/me")
    t.ok(r.status == 200 and r.json["role"] == "instructor",
         "B says the key now acts as an instructor", r)


@case
def deactivated(t):
    w = world()
    uid = user(w, "max@acme.test", "instructor")
    tok = login(w.a, "acme", "max@acme.test").token
    t.ok(warm(w, tok, "/v1/me").status == 200, "max's session works on B")
    r = w.admin.patch("/v1/users/" + uid, {"active": False})
    t.ok(r.status == 200, "max is deactivated through A", r)
    r = w.b.client(tok).get("/v1/me")
    t.ok(r.is_problem(401), "B refuses him at once", r)


run()
