"""throttle.py - login throttling that cannot lock out the innocent: an
account past its limit is refused whoever asks; an address past its limit
gets 429 for wrong guesses only, never for a correct password of an
account that is not throttled; X-Forwarded-For names the client only when
the peer is one of COHORTD_TRUSTED_PROXIES (rightmost untrusted entry)."""
from harness import PW, Cohortd, Postgres, login_response, main


def login(d, email, pw=PW, xff=None):
    h = {"X-Forwarded-For": xff} if xff else None
    return login_response(d.client(), "acme", email, pw, headers=h)


def spray(d, n, xff=None, tag="s"):
    """n failed logins on n different (unknown) accounts."""
    return [login(d, "%s%d@acme.test" % (tag, i), "nope-nope-nope",
                  xff).status for i in range(n)]


def test(t):
    pg = Postgres()
    db = pg.new_database()
    d = Cohortd(pg.url(db))
    r = d.admin().post("/v1/tenants", {
        "slug": "acme", "name": "Acme", "admin": {
            "email": "admin@acme.test", "name": "Admin", "password": PW}})
    t.ok(r.status == 201, "tenant created", r)
    adm = d.client(login(d, "admin@acme.test").json["token"])
    for who in ("ann", "bob", "cy"):
        r = adm.post("/v1/users", {"email": who + "@acme.test", "name": who,
                                   "role": "learner", "password": PW})
        assert r.status == 201, r

    # The per-account limit stays: 5 failures, then even the right
    # password waits, from anywhere.
    st = [login(d, "ann@acme.test", "wrong-%d-xxxxxx" % i).status
          for i in range(5)]
    r = login(d, "ann@acme.test")
    t.ok(st == [401] * 5 and r.is_problem(429) and
         int(r.header("retry-after") or 0) > 0,
         "an account past its limit is refused, right password included",
         (st, r))

    # No proxies trusted: X-Forwarded-For is the client's own word.
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
    d.stop()

    # Behind a trusted proxy (here: loopback), the client is the
    # rightmost X-Forwarded-For entry the proxy did not add.
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


main(test)
