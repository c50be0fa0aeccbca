"""throttle.py - login throttling that cannot lock out the innocent: an
account past its limit is refused whoever asks; an address past its limit
gets 429 for wrong guesses only, never for a correct password of an
account that is not throttled; X-Forwarded-For names the client only when
the peer is one of COHORTD_TRUSTED_PROXIES (rightmost untrusted entry).
Cases run alone by name: python3 tests/integration/throttle.py proxy"""
import types

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, login_response


def login(d, email, pw=PW, xff=None):
    h = {"X-Forwarded-For": xff} if xff else None
    return login_response(d.client(), "acme", email, pw, headers=h)


def spray(d, n, xff=None, tag="s"):
    """n failed logins on n different (unknown) accounts."""
    return [login(d, "%s%d@acme.test" % (tag, i), "nope-nope-nope",
                  xff).status for i in range(n)]


@fixture
def world():
    """The daemon, tenant acme (its creation response kept) and learners
    ann, bob and cy."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.db = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.db))
    w.tenant_created = w.d.admin().post("/v1/tenants", {
        "slug": "acme", "name": "Acme", "admin": {
            "email": "admin@acme.test", "name": "Admin", "password": PW}})
    adm = w.d.client(login(w.d, "admin@acme.test").json["token"])
    for who in ("ann", "bob", "cy"):
        r = adm.post("/v1/users", {"email": who + "@acme.test", "name": who,
                                   "role": "learner", "password": PW})
        assert r.status == 201, r
    return w


@fixture
def ann_throttled():
    """Five failed logins on ann's account, from this address, and her
    right password after them: the statuses and the response."""
    d = world().d
    a = types.SimpleNamespace()
    a.st = [login(d, "ann@acme.test", "wrong-%d-xxxxxx" % i).status
            for i in range(5)]
    a.r = login(d, "ann@acme.test")
    return a


@case
def tenant(t):
    r = world().tenant_created
    t.ok(r.status == 201, "tenant created", r)


@case
def account(t):
    # The per-account limit stays: 5 failures, then even the right
    # password waits, from anywhere.
    a = ann_throttled()
    st, r = a.st, a.r
    t.ok(st == [401] * 5 and r.is_problem(429) and
         int(r.header("retry-after") or 0) > 0,
         "an account past its limit is refused, right password included",
         (st, r))


@case
def address(t):
    # No proxies trusted: X-Forwarded-For is the client's own word.
    d = world().d
    ann_throttled()     # ann's 5 failures count for this address too
    st = spray(d, 45, xff="203.0.113.1")
    t.eq(st, [401] * 45, "45 more failures from one address (50 with "
         "ann's): each a 401")
    r = login(d, "bob@acme.test", "wrong-password-x", xff="198.51.100.7")
    t.ok(r.is_problem(429) and int(r.header("retry-after") or 0) > 0,
         "the address past its limit: a wrong guess gets 429 with "
         "Retry-After (a forged X-Forwarded-For changes nothing)", r)
    r = login(d, "bob@acme.test")
    t.ok(r.status == 200, "the address past its limit: a correct password "
         "of an account that is not throttled still logs in", r)
    r = login(d, "cy@acme.test")
    t.ok(r.status == 200, "and so does everyone else behind that address", r)
    r = login(d, "ann@acme.test")
    t.ok(r.is_problem(429), "a throttled account stays throttled", r)


@case
def proxy(t):
    # Last: it stops the file's daemon, clears the throttle and starts
    # another that trusts a proxy.
    # Behind a trusted proxy (here: loopback), the client is the
    # rightmost X-Forwarded-For entry the proxy did not add.
    w = world()
    pg, db = w.pg, w.db
    w.d.stop()
    pg.psql("DELETE FROM login_throttle", db)
    d = Cohortd(pg.url(db), env={"COHORTD_TRUSTED_PROXIES": "127.0.0.1"})
    st = spray(d, 50, xff="203.0.113.1", tag="p")
    t.eq(st, [401] * 50, "through the proxy: 50 failures from one client")
    r = login(d, "bob@acme.test", "wrong-password-x", xff="203.0.113.1")
    t.ok(r.is_problem(429), "that client's wrong guess: 429", r)
    r = login(d, "bob@acme.test", "wrong-password-x",
              xff="198.51.100.50, 203.0.113.1")
    t.ok(r.is_problem(429), "what the client prepends to the header does "
         "not change who it is (the rightmost entry counts)", r)
    r = login(d, "cy@acme.test", "wrong-password-x", xff="203.0.113.2")
    t.ok(r.status == 401, "another client behind the same proxy is not "
         "throttled: 401", r)
    r = login(d, "bob@acme.test", xff="203.0.113.1")
    t.ok(r.status == 200, "the throttled client's correct password of an "
         "unthrottled account logs in", r)
    r = login(d, "cy@acme.test")
    t.ok(r.status == 200, "without the header the proxy itself is the "
         "client, and it is not throttled", r)
    d.stop()


run()
