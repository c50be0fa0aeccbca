"""identity.py - tenants, users, login, API keys, audit, and the conventions
every resource follows (roles, tenant isolation, pagination, ETags,
idempotency, validation), against the real daemon and PostgreSQL.
Cases run alone by name: python3 tests/integration/identity.py etag audit"""
import hashlib
import json
import subprocess
import threading
import os
import time
import types
import uuid

from cases import case, fixture, run
from harness import (PW, Cohortd, Postgres, login_response, run_ctl,
                     token_for)


def make_tenant(a, slug):
    r = a.post("/v1/tenants", {"slug": slug, "name": slug.title(),
                               "admin": {"email": "admin@%s.test" % slug,
                                         "name": "Admin", "password": PW}})
    assert r.status == 201, r
    return r.json


def login(c, slug, email, pw=PW):
    return login_response(c, slug, email, pw)


@fixture
def world():
    """The cluster and daemon; tenants acme and bolt with their admins."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.dbname = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.dbname))
    w.a = w.d.admin()
    w.ta = make_tenant(w.a, "acme")
    w.tb = make_tenant(w.a, "bolt")
    w.admin_a = w.d.client(token_for(w.d, "acme", "admin@acme.test"))
    w.admin_b = w.d.client(token_for(w.d, "bolt", "admin@bolt.test"))
    return w


@fixture
def people():
    """Ivy (instructor) and Leo (learner) of acme, logged in; a Leo of
    bolt with the same email.  The creations' responses are kept for the
    users case to check."""
    w = world()
    p = types.SimpleNamespace()
    p.ivy_created = w.admin_a.post("/v1/users", {
        "email": "ivy@acme.test", "name": "Ivy", "role": "instructor",
        "password": PW})
    p.ivy = p.ivy_created.json
    r = w.admin_a.post("/v1/users", {"email": "leo@acme.test", "name": "Leo",
                                     "role": "learner", "password": PW})
    p.leo = r.json
    p.leo_b_created = w.admin_b.post("/v1/users", {
        "email": "leo@acme.test", "name": "Leo B", "role": "learner"})
    p.ivy_c = w.d.client(token_for(w.d, "acme", "ivy@acme.test"))
    p.leo_c = w.d.client(token_for(w.d, "acme", "leo@acme.test"))
    return p


@case
def tenants(t):
    # ---- tenants -----------------------------------------------------
    w = world()
    a = w.a
    ta, tb = w.ta, w.tb

    t.ok(set(ta) >= {"id", "slug", "name", "created_at", "admin"} and
         ta["admin"]["role"] == "admin" and ta["slug"] == "acme",
         "POST /v1/tenants creates the tenant and its admin", ta)
    t.ok(ta["created_at"].endswith("Z") and "T" in ta["created_at"],
         "timestamps are RFC 3339 UTC", ta["created_at"])
    r = a.post("/v1/tenants", {"slug": "acme", "name": "Again",
                               "admin": {"email": "x@y.test", "name": "X",
                                         "password": PW}})
    t.ok(r.is_problem(409), "a taken slug is 409", r)
    r = a.post("/v1/tenants", {"slug": "Bad Slug", "name": "",
                               "admin": {"email": "nope", "name": "X",
                                         "password": "short"},
                               "colour": "red"})
    ptrs = sorted(e["pointer"] for e in (r.json or {}).get("errors", []))
    t.ok(r.is_problem(422) and ptrs == ["/admin/email", "/admin/password",
                                        "/colour", "/name", "/slug"],
         "validation errors name each bad field by JSON pointer", r)
    r = a.get("/v1/tenants")
    t.ok(r.status == 200 and {x["slug"] for x in r.json["items"]} >= {"acme", "bolt"},
         "the platform admin lists tenants", r)
    r = a.patch("/v1/tenants/" + tb["id"], {"name": "Bolt Ltd"})
    t.ok(r.status == 200 and r.json["name"] == "Bolt Ltd", "PATCH renames a tenant", r)


@case
def sign_in(t):
    # ---- login -------------------------------------------------------
    w = world()
    d, pg, dbname = w.d, w.pg, w.dbname

    r = login(d.client(), "acme", "ADMIN@ACME.TEST")
    t.ok(r.status == 200 and r.json["user"]["role"] == "admin" and
         len(r.json["token"]) == 43 and r.json["expires_at"].endswith("Z"),
         "login is case-insensitive on email and returns token, expiry, user", r)

    bad = [login(d.client(), "acme", "admin@acme.test", "wrong password!"),
           login(d.client(), "acme", "nobody@acme.test", PW),
           login(d.client(), "nope", "admin@acme.test", PW)]
    t.ok(all(x.is_problem(401) for x in bad) and
         len({x.body for x in bad}) == 1,
         "wrong password, email or tenant: the same 401", bad)

    def cpu():
        """The daemon's CPU time so far (user + system, all threads,
        exited ones included), in seconds."""
        with open("/proc/%d/stat" % d.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def spent(email, pw):
        start = cpu()
        login(d.client(), "acme", email, pw)
        return cpu() - start
    # The CPU the daemon spends, not the time a login takes: the work is
    # what must not tell an unknown user from a wrong password, and CPU
    # time is the same on a busy host as on an idle one.  Interleaved,
    # three of each (more would throttle the account and skip the
    # hashing).
    wrong, ghost = [], []
    for i in range(3):
        wrong.append(spent("admin@acme.test", "wrong-pass-%d" % i))
        ghost.append(spent("ghost%d@acme.test" % i, PW))
    wrong_pw, no_user = sorted(wrong)[1], sorted(ghost)[1]
    t.ok(wrong_pw >= 0.02 and 0.5 < no_user / wrong_pw < 2.0,
         "an unknown user costs the same hashing as a wrong password",
         "median CPU: wrong password %.3fs, unknown user %.3fs"
         % (wrong_pw, no_user))
    # Clear the failures counted above so throttling tests start fresh.
    pg.psql("DELETE FROM login_throttle", dbname)


@case
def users(t):
    # ---- users ---------------------------------------------------------
    w = world()
    a = w.a
    admin_a = w.admin_a
    p = people()
    leo, leo_c = p.leo, p.leo_c

    r = p.ivy_created
    t.ok(r.status == 201 and r.json["role"] == "instructor" and
         r.header("location") == "/v1/users/" + r.json["id"] and
         "password_hash" not in r.json, "admin creates an instructor", r)
    r = admin_a.post("/v1/users", {"email": "LEO@acme.test", "name": "Leo 2",
                                   "role": "learner"})
    t.ok(r.is_problem(409), "emails are unique per tenant, any case", r)
    r = p.leo_b_created
    t.ok(r.status == 201, "the same email may exist in another tenant", r)
    r = admin_a.post("/v1/users", {"email": "sam@acme.test", "name": "Sam",
                                   "role": "learner", "password": "123456789"})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] == "/password",
         "passwords shorter than 10 characters are refused", r)
    r = admin_a.post("/v1/users", {"email": "sam@acme.test", "name": "Sam",
                                   "role": "owner"})
    t.ok(r.is_problem(422), "an unknown role is refused", r)
    r = admin_a.get("/v1/users?role=learner")
    t.ok(r.status == 200 and [u["email"] for u in r.json["items"]] ==
         ["leo@acme.test"], "users filter by role", r)
    r = admin_a.get("/v1/users?email=IV")
    t.ok(r.status == 200 and [u["email"] for u in r.json["items"]] ==
         ["ivy@acme.test"], "users search by email prefix, any case", r)
    r = admin_a.get("/v1/users?email=%25")
    t.ok(r.status == 200 and r.json["items"] == [],
         "a LIKE wildcard in the prefix is taken literally", r)
    r = leo_c.get("/v1/me")
    t.ok(r.status == 200 and r.json["id"] == leo["id"] and
         r.json["role"] == "learner", "GET /v1/me returns the caller", r)
    t.eq(a.get("/v1/me").json.get("role"), "platform",
         "GET /v1/me knows the platform admin")


@case
def roles(t):
    # ---- each role against each route ---------------------------------
    w = world()
    d, a = w.d, w.a
    admin_a = w.admin_a
    p = people()
    ivy_c, leo_c = p.ivy_c, p.leo_c

    doc = d.client().get("/v1/openapi.json").json
    callers = {"platform": a, "admin": admin_a, "instructor": ivy_c,
               "learner": leo_c}
    fake = str(uuid.uuid4())
    bad_role = []
    for path, item in sorted(doc["paths"].items()):
        for method, op in item.items():
            roles = op["x-roles"]
            if "anonymous" in roles:
                continue
            url = path.replace("{id}", fake)
            for role, c in callers.items():
                if path == "/v1/auth/logout":
                    if role == "platform":
                        c = a
                    else:   # a throwaway session: logout revokes it
                        email = {"admin": "admin@acme.test",
                                 "instructor": "ivy@acme.test",
                                 "learner": "leo@acme.test"}[role]
                        c = d.client(token_for(d, "acme", email))
                body = {} if method in ("post", "patch", "put") else None
                r = c.request(method.upper(), url, body=body)
                allowed = role in roles
                if (allowed and r.status in (401, 403)) or \
                        (not allowed and not r.is_problem(403)):
                    bad_role.append((method, path, role, r.status))
            r = d.client().request(method.upper(), url,
                                   body={} if method != "get" else None)
            if not r.is_problem(401):
                bad_role.append((method, path, "no token", r.status))
    t.ok(not bad_role, "every route: allowed roles pass, others 403, no "
         "token 401", bad_role)


@case
def isolation(t):
    # ---- tenant isolation of listings ----------------------------------
    w = world()
    admin_b = w.admin_b
    p = people()
    leo = p.leo

    # (tenancy.py probes every route with an id across tenants)
    r = admin_b.get("/v1/users")
    t.ok(leo["id"] not in [u["id"] for u in r.json["items"]],
         "B's user list holds none of A's users")


@case
def rls(t):
    # ---- row-level security without the application's filter ----------
    w = world()
    people()    # B's users: its admin and its Leo
    pg, dbname = w.pg, w.dbname
    ta, tb = w.ta, w.tb

    def as_app(sql, tenant):
        return pg.psql("BEGIN; SET LOCAL ROLE cohortd_app; "
                       "SELECT set_config('cohortd.tenant_id', '%s', true); "
                       "%s; COMMIT" % (tenant, sql), dbname, check=False)
    out = as_app("SELECT count(*) FROM users WHERE tenant_id = '%s'" % ta["id"],
                 tb["id"])
    t.eq(out and out.splitlines()[-1], "0",
         "under B's setting a raw query for A's users finds nothing")
    out = as_app("SELECT count(*) FROM users", tb["id"])
    t.eq(out and out.splitlines()[-1], "2",
         "under B's setting an unfiltered query sees only B's users")
    out = as_app("SELECT count(*) FROM users", "")
    t.eq(out and out.splitlines()[-1], "0", "with no tenant set: no rows")
    out = as_app("INSERT INTO users (tenant_id, email, name, role) VALUES "
                 "('%s', 'x@x.test', 'X', 'learner')" % ta["id"], tb["id"])
    t.ok(out is None, "writing a row into A under B's setting is refused")
    out = as_app("WITH u AS (UPDATE users SET name = 'owned' WHERE "
                 "tenant_id = '%s' RETURNING 1) SELECT count(*) FROM u"
                 % ta["id"], tb["id"])
    t.eq(out and out.splitlines()[-1], "0",
         "updating A's rows under B's setting touches none")
    rows = pg.psql(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "(SELECT a.attname FROM pg_index i JOIN pg_attribute a ON "
        " a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
        " WHERE i.indrelid = c.oid AND i.indisprimary) "
        "FROM pg_class c JOIN pg_attribute at ON at.attrelid = c.oid "
        "WHERE c.relkind = 'r' AND at.attname = 'tenant_id' "
        "AND c.relnamespace = 'public'::regnamespace ORDER BY 1", dbname)
    tables = [r.split("|") for r in rows.splitlines()]
    t.ok(len(tables) >= 4 and all(x[1] == "t" and x[2] == "t" and
                                  x[3] == "tenant_id" for x in tables),
         "every table with tenant_id: RLS enabled and forced, tenant_id "
         "leads the primary key", tables)
    super_ = pg.psql("SELECT rolsuper OR rolbypassrls FROM pg_roles "
                     "WHERE rolname = 'cohortd_app'", dbname)
    t.eq(super_, "f", "the application role cannot bypass row-level security")


@case
def pagination(t):
    # ---- pagination under concurrent inserts ---------------------------
    w = world()
    d, pg, dbname = w.d, w.pg, w.dbname
    ta, admin_a = w.ta, w.admin_a

    pg.psql("INSERT INTO users (tenant_id, email, name, role) SELECT '%s', "
            "'bulk' || g || '@acme.test', 'Bulk ' || g, 'learner' FROM "
            "generate_series(1, 1000) g" % ta["id"], dbname)
    expect = {x for x in pg.psql(
        "SELECT id FROM users WHERE tenant_id = '%s'" % ta["id"],
        dbname).splitlines()}
    stop = threading.Event()
    inserted = []

    def writer():
        w = d.client(admin_a.token)
        i = 0
        while not stop.is_set() and i < 300:
            r = w.post("/v1/users", {"email": "late%d@acme.test" % i,
                                     "name": "Late", "role": "learner"})
            if r.status == 201:
                inserted.append(r.json["id"])
            i += 1
    th = threading.Thread(target=writer)
    th.start()
    seen, url, pages, links_ok = [], '/v1/users?limit=37', 0, True
    while url and pages < 200:
        r = admin_a.get(url)
        if r.status != 200:
            break
        seen += [u["id"] for u in r.json["items"]]
        pages += 1
        nxt = r.json["next_cursor"]
        link = r.header("link")
        if nxt and not (link and 'rel="next"' in link and nxt in link):
            links_ok = False
        url = "/v1/users?limit=37&cursor=" + nxt if nxt else None
        time.sleep(0.005)
    stop.set()
    th.join()
    t.ok(len(seen) == len(set(seen)), "no user appears twice across pages",
         len(seen) - len(set(seen)))
    t.ok(expect <= set(seen), "every user present at the start is seen",
         len(expect - set(seen)))
    t.ok(inserted and pages > 27 and links_ok,
         "pages carry Link rel=next while inserts happen",
         (len(inserted), pages, links_ok))
    r = admin_a.get("/v1/users?limit=0")
    t.ok(r.is_problem(422), "limit 0 is refused", r)
    r = admin_a.get("/v1/users?limit=501")
    t.ok(r.is_problem(422), "limit over 500 is refused", r)
    r = admin_a.get("/v1/users?cursor=bm90LWEtY3Vyc29y")
    t.ok(r.is_problem(422), "a forged cursor is refused", r)
    r = admin_a.get("/v1/users")
    t.eq(len(r.json["items"]), 50, "the default page is 50")


@case
def etag(t):
    # ---- ETag and preconditions ----------------------------------------
    w = world()
    admin_a = w.admin_a
    p = people()
    ivy = p.ivy

    r = admin_a.get("/v1/users/" + ivy["id"])
    etag = r.header("etag")
    t.ok(etag and etag.startswith('"'), "single resources carry an ETag", etag)
    r = admin_a.get("/v1/users/" + ivy["id"], headers={"If-None-Match": etag})
    t.eq(r.status, 304, "If-None-Match with the current ETag: 304")
    r = admin_a.patch("/v1/users/" + ivy["id"], {"name": "Ivy R."},
                      headers={"If-Match": '"999"'})
    t.ok(r.is_problem(412), "PATCH with a stale If-Match: 412", r)
    r = admin_a.patch("/v1/users/" + ivy["id"], {"name": "Ivy R."},
                      headers={"If-Match": etag})
    t.ok(r.status == 200 and r.json["name"] == "Ivy R." and
         r.header("etag") != etag, "PATCH with the current If-Match: 200, "
         "new ETag", r)
    r = admin_a.delete("/v1/users/" + ivy["id"], headers={"If-Match": etag})
    t.ok(r.is_problem(412), "DELETE with a stale If-Match: 412", r)
    r = admin_a.patch("/v1/users/" + ivy["id"], {"nickname": "I"})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] == "/nickname",
         "unknown fields are rejected, not ignored", r)


@case
def idempotency(t):
    # ---- Idempotency-Key -----------------------------------------------
    w = world()
    d, a, pg, dbname = w.d, w.a, w.pg, w.dbname
    ta, admin_a, admin_b = w.ta, w.admin_a, w.admin_b

    # (With a password: a user without one gets an invitation link, a
    # secret that is never kept for a replay; access.py tests that.)
    body = {"email": "idem@acme.test", "name": "Idem", "role": "learner",
            "password": PW}
    r1 = admin_a.post("/v1/users", body, headers={"Idempotency-Key": "k-1"})
    r2 = admin_a.post("/v1/users", body, headers={"Idempotency-Key": "k-1"})
    t.ok(r1.status == 201 and r2.status == 201 and r1.body == r2.body and
         r2.header("idempotent-replayed") == "true" and
         r2.header("location") == r1.header("location"),
         "a replayed key returns the stored response", (r1, r2))
    t.eq(pg.psql("SELECT count(*) FROM users WHERE email = 'idem@acme.test'",
                 dbname), "1", "and the user exists once")
    r = admin_a.post("/v1/users", dict(body, name="Other"),
                     headers={"Idempotency-Key": "k-1"})
    t.ok(r.is_problem(422), "the same key with another body: 422", r)
    r = admin_a.post("/v1/users", body, headers={"Idempotency-Key": "k-1"})
    t.ok(r.status == 201 and r.header("idempotent-replayed") is not None,
         "and the key still replays its own request after that 422", r)
    r = admin_b.post("/v1/users", body, headers={"Idempotency-Key": "k-1"})
    t.ok(r.status == 201 and r.header("idempotent-replayed") is None,
         "keys are per tenant", r)
    other = d.client(token_for(d, "acme", "admin@acme.test"))
    r = other.post("/v1/users", dict(body, email="idem2@acme.test"),
                   headers={"Idempotency-Key": "k-1"})
    t.ok(r.status == 201 and r.header("idempotent-replayed") is None,
         "keys are per caller: another session's k-1 is its own", r)
    r1 = admin_a.post("/v1/api-keys", {"name": "once", "role": "learner"},
                      headers={"Idempotency-Key": "key-1"})
    r2 = admin_a.post("/v1/api-keys", {"name": "once", "role": "learner"},
                      headers={"Idempotency-Key": "key-1"})
    t.ok(r1.status == 201 and r2.is_problem(409) and
         r1.json["key"] not in r2.body.decode() and
         pg.psql("SELECT count(*) FROM idempotency_keys WHERE body LIKE "
                 "'%%%s%%'" % r1.json["key"], dbname) == "0",
         "a secret is never stored for replay, nor shown twice", (r1, r2))
    busy = {"email": "busy@acme.test", "name": "Busy", "role": "learner"}
    raw = json.dumps(busy).encode()
    h = hashlib.blake2b(b"POST\0/v1/users\0" + raw, digest_size=32).hexdigest()
    cred = pg.psql("SELECT id FROM credentials WHERE token_hash = decode('%s', "
                   "'hex')" % hashlib.blake2b(admin_a.token.encode(),
                                              digest_size=32).hexdigest(),
                   dbname)
    pg.psql("INSERT INTO idempotency_keys (tenant_id, key, request_hash) "
            "VALUES ('%s', '%s:k-busy', decode('%s', 'hex'))"
            % (ta["id"], cred, h), dbname)
    r = admin_a.post("/v1/users", raw=raw, headers={"Idempotency-Key": "k-busy"})
    t.ok(r.is_problem(409), "a key whose request is in progress: 409", r)
    r = admin_a.post("/v1/users", {"email": "bad", "name": "X", "role": "x"},
                     headers={"Idempotency-Key": "k-2"})
    r2 = admin_a.post("/v1/users", {"email": "fixed@acme.test", "name": "X",
                                    "role": "learner"},
                      headers={"Idempotency-Key": "k-2"})
    t.ok(r.status == 422 and r2.status == 201,
         "a failed request gives its key back for a retry", (r, r2))
    r = a.post("/v1/tenants", {"slug": "idem-co", "name": "I",
                               "admin": {"email": "a@i.test", "name": "A",
                                         "password": PW}},
               headers={"Idempotency-Key": "t-1"})
    r2 = a.post("/v1/tenants", {"slug": "idem-co", "name": "I",
                                "admin": {"email": "a@i.test", "name": "A",
                                          "password": PW}},
                headers={"Idempotency-Key": "t-1"})
    t.ok(r.status == 201 and r2.status == 201 and r.body == r2.body,
         "the platform admin's keys work too", (r, r2))


@case
def api_keys(t):
    # ---- API keys ------------------------------------------------------
    w = world()
    d, pg, dbname = w.d, w.pg, w.dbname
    admin_a = w.admin_a

    r = admin_a.post("/v1/api-keys", {"name": "HR sync", "role": "admin"})
    t.ok(r.status == 201 and len(r.json["key"]) == 43,
         "an API key is returned once, at creation", r)
    kc = d.client(r.json["key"])
    kid = r.json["id"]
    t.eq(kc.get("/v1/users?limit=1").status, 200, "the key authenticates")
    r = admin_a.get("/v1/api-keys")
    listed = [k for k in r.json["items"] if k["id"] == kid]
    t.ok(listed and "key" not in listed[0] and listed[0]["last_used_at"],
         "keys are listed without secrets, with last_used_at", listed)
    t.ok(pg.psql("SELECT count(*) FROM credentials WHERE encode(token_hash, "
                 "'hex') LIKE '%%' AND length(token_hash) = 32", dbname) != "0",
         "keys are stored as 32-byte hashes")
    r = admin_a.delete("/v1/api-keys/" + kid)
    t.eq(r.status, 204, "DELETE revokes the key")
    t.ok(kc.get("/v1/users").is_problem(401), "a revoked key is refused")


@case
def role_change(t):
    # ---- a role change takes effect at once --------------------------------
    w = world()
    d = w.d
    admin_a = w.admin_a

    r = admin_a.post("/v1/users", {"email": "dee@acme.test", "name": "Dee",
                                   "role": "admin", "password": PW})
    dee = d.client(token_for(d, "acme", "dee@acme.test"))
    t.eq(dee.get("/v1/users?limit=1").status, 200, "a second admin works")
    admin_a.patch("/v1/users/" + r.json["id"], {"role": "learner"})
    t.ok(dee.get("/v1/users?limit=1").status in (401, 403),
         "demoted: the old session loses admin rights at once")


@case
def revocation(t):
    # ---- revocation ------------------------------------------------------
    # Consumes people(): Leo is deactivated; the cases using him come first.
    w = world()
    d = w.d
    admin_a = w.admin_a
    p = people()
    leo = p.leo

    tok = token_for(d, "acme", "leo@acme.test")
    c = d.client(tok)
    t.eq(c.post("/v1/auth/logout").status, 204, "logout")
    t.ok(c.get("/v1/me").is_problem(401), "a logged-out token is refused")
    c = d.client(token_for(d, "acme", "leo@acme.test"))
    r = admin_a.delete("/v1/users/" + leo["id"])
    t.eq(r.status, 204, "DELETE deactivates a user")
    t.ok(c.get("/v1/me").is_problem(401), "a deactivated user's session ends")
    r = admin_a.get("/v1/users/" + leo["id"])
    t.ok(r.status == 200 and r.json["active"] is False,
         "the deactivated user is kept, inactive", r)
    t.ok(login(d.client(), "acme", "leo@acme.test").is_problem(401),
         "a deactivated user cannot log in")


@case
def throttling(t):
    # ---- login throttling ------------------------------------------------
    w = world()
    d, pg, dbname = w.d, w.pg, w.dbname

    statuses = [login(d.client(), "bolt", "admin@bolt.test", "nope-%d-xxxxx" % i
                      ).status for i in range(5)]
    r = login(d.client(), "bolt", "admin@bolt.test")
    t.ok(statuses == [401] * 5 and r.is_problem(429) and
         int(r.header("retry-after")) > 0,
         "after 5 failures the account is throttled, even with the right "
         "password, with Retry-After", (statuses, r, r.headers))
    pg.psql("DELETE FROM login_throttle", dbname)
    for i in range(50):
        login(d.client(), "acme", "spray%d@acme.test" % i, "nope-nope-nope")
    r = login(d.client(), "acme", "admin@acme.test", "wrong-again-xx")
    t.ok(r.is_problem(429), "50 failures from one address: its wrong "
         "guesses get 429", r)
    t.eq(login(d.client(), "acme", "admin@acme.test").status, 200,
         "but a correct password of an unthrottled account logs in "
         "(throttle.py has the rest)")
    pg.psql("DELETE FROM login_throttle", dbname)


@case
def audit(t):
    # ---- audit -----------------------------------------------------------
    w = world()
    admin_a, admin_b = w.admin_a, w.admin_b
    p = people()
    ivy, ivy_c = p.ivy, p.ivy_c

    admin_a.post("/v1/users", {"email": "aud@acme.test", "name": "Aud",
                               "role": "learner"},
                 headers={"X-Request-Id": "audit-probe-1"})
    r = admin_a.get("/v1/audit-events?object_type=user&limit=500")
    ev = [e for e in r.json["items"] if e["request_id"] == "audit-probe-1"]
    t.ok(len(ev) == 1 and ev[0]["action"] == "POST /v1/users" and
         ev[0]["actor_type"] == "user" and ev[0]["object_id"],
         "a mutating request leaves one audit event with actor, action, "
         "object and request id", ev)
    r = admin_a.get("/v1/audit-events?object_id=" + ivy["id"])
    t.ok(r.status == 200 and r.json["items"] and
         all(e["object_id"] == ivy["id"] for e in r.json["items"]),
         "audit events filter by object", r)
    r = admin_b.get("/v1/audit-events?limit=500")
    t.ok(all(e["object_id"] != ivy["id"] for e in r.json["items"]),
         "B's audit log shows nothing of A")
    r = admin_a.get("/v1/audit-events?limit=500")
    t.ok(any(e["action"] == "POST /v1/tenants" and
             e["actor_type"] == "platform_admin" for e in r.json["items"]),
         "the tenant's creation is in its own audit log")
    t.ok(ivy_c.get("/v1/audit-events").is_problem(403),
         "only admins read the audit log")


@case
def cohortctl(t):
    # ---- cohortctl -------------------------------------------------------
    # Consumes world(): the platform admin's token is rotated; last.
    w = world()
    d, a, pg, dbname = w.d, w.a, w.pg, w.dbname

    env = {"COHORTD_DATABASE_URL": pg.url(dbname),
           "COHORTD_STATE_DIR": d.state_dir}
    r = subprocess.run([run_ctl.__globals__["COHORTCTL"], "tenant", "create",
                        "cli-co", "CLI Co", "boss@cli.test", "Boss"],
                       input=PW + "\n", capture_output=True, text=True,
                       env=run_ctl.__globals__["daemon_env"](env))
    t.ok(r.returncode == 0 and "cli-co" in r.stdout,
         "cohortctl tenant create", r.stderr)
    t.eq(login(d.client(), "cli-co", "boss@cli.test").status, 200,
         "its admin logs in with the password given on stdin")
    r = run_ctl(["apikey", "create", "cli-co", "ops", "admin"], env)
    key = r.stdout.strip()
    t.ok(r.returncode == 0 and len(key) == 43 and
         d.client(key).get("/v1/users").status == 200,
         "cohortctl apikey create prints a working key", r.stderr)
    r = run_ctl(["admin-token", "rotate"], env)
    new = r.stdout.strip()
    t.ok(r.returncode == 0 and len(new) == 43, "cohortctl admin-token rotate",
         r.stderr)
    t.ok(a.get("/v1/tenants").is_problem(401) and
         d.client(new).get("/v1/tenants").status == 200,
         "the old admin token is refused, the new one works")


run()
