"""access.py - getting in: invitations (users created without a password,
by hand, by enrollment and by CSV batch), password resets and a password
change, against the real daemon and PostgreSQL.  Each case runs alone
(python3 tests/integration/access.py reset) and a failing one does not
stop the others."""
import hashlib
import urllib.parse

from cases import case, fixture, run
from harness import (PW, Cohortd, Postgres, free_port, login_response,
                     setup_tenant)
from smtpbox import Inbox, link_in, smtp_start

PUBLIC = "https://learn.example.test/base"
NEW_PW = "a much better passphrase"


def url_params(url):
    """The tenant and token query parameters of a link."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    return q["tenant"][0], q["token"][0]


def login_status(d, slug, email, pw):
    return login_response(d.client(), slug, email, pw).status


def accept(d, token, pw=NEW_PW, **extra):
    return d.client().post("/v1/auth/invitations/accept",
                           dict({"token": token, "password": pw}, **extra))


class Ctx:
    pass


@fixture
def ctx():
    """The daemon (with SMTP to an inbox here), tenants acme and bolt, a
    cohort of acme's."""
    c = Ctx()
    c.pg = Postgres()
    c.db = c.pg.new_database()
    c.inbox = Inbox()
    port = free_port()
    c.smtp = smtp_start(c.inbox, port)
    c.d = Cohortd(c.pg.url(c.db), env={
        "COHORTD_PUBLIC_URL": PUBLIC + "/",
        "COHORTD_SMTP_URL": "smtp://127.0.0.1:%d" % port,
        "COHORTD_SMTP_FROM": "noreply@acme.test"})
    c.adm = setup_tenant(c.d, "acme")
    c.adm_b = setup_tenant(c.d, "bolt")
    r = c.adm.post("/v1/programs", {"title": "Concurrency", "summary": "C"})
    assert r.status == 201, r
    r = c.adm.post("/v1/cohorts", {"program_id": r.json["id"], "name": "Spring",
                                   "starts_at": "2026-03-01T09:00:00Z",
                                   "ends_at": "2099-06-01T09:00:00Z"})
    assert r.status == 201, r
    c.cohort = r.json["id"]
    return c


def psql(c, sql):
    return c.pg.psql(sql, c.db)


@case
def batch_csv(t):
    c = ctx()
    csv = "email,name\ncsv1@acme.test,Csv One\ncsv2@acme.test,Csv Two\n"
    r = c.adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % c.cohort,
                      raw=csv.encode(), ctype="text/csv")
    res = (r.json or {}).get("results", [])
    t.ok(r.status == 200 and len(res) == 2 and
         all(x.get("invitation_url", "").startswith(
             PUBLIC + "/accept-invitation?tenant=acme&token=") for x in res),
         "a CSV batch gives each new learner an invitation_url", r)
    t.eq(r.header("cache-control"), "no-store",
         "a response with invitation links is not cached")
    tenant, token = url_params(res[0]["invitation_url"])
    t.ok(login_status(c.d, "acme", "csv1@acme.test", PW) == 401,
         "an invited learner cannot log in before accepting")
    r = accept(c.d, token, tenant=tenant)
    t.ok(r.status == 200 and r.json["user"]["id"] == res[0]["user_id"] and
         r.json["user"]["role"] == "learner" and
         r.header("cache-control") == "no-store",
         "accepting sets the password and answers like a login", r)
    me = c.d.client(r.json["token"]).get("/v1/me")
    t.ok(me.status == 200 and me.json["email"] == "csv1@acme.test" and
         me.json["has_password"] is True, "the session works", me)
    t.ok(login_status(c.d, "acme", "csv1@acme.test", NEW_PW) == 200,
         "the learner logs in with the chosen password")
    r = accept(c.d, token, pw="yet another passphrase")
    t.ok(r.is_problem(400) and r.json["type"].endswith("invalid-token") and
         "used" in r.json["detail"], "an invitation works once", r)
    t.ok(login_status(c.d, "acme", "csv1@acme.test", NEW_PW) == 200,
         "and the used token changed nothing")

    r = c.adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % c.cohort,
                      raw=csv.encode(), ctype="text/csv")
    t.ok(r.status == 200 and not any("invitation_url" in x
                                     for x in r.json["results"]),
         "enrolling existing users again invites nobody", r)


@case
def outbox(t):
    c = ctx()
    r = c.adm.post("/v1/users", {"email": "mail@acme.test", "name": "Mal <b>",
                                 "role": "learner"})
    url = (r.json or {}).get("invitation_url", "")
    t.ok(r.status == 201 and url.startswith(PUBLIC + "/accept-invitation?")
         and r.json["has_password"] is False,
         "POST /v1/users without a password answers an invitation_url", r)
    t.eq(r.header("cache-control"), "no-store", "and is not cached")
    _, token = url_params(url)
    row = psql(c, "SELECT event, subject, body_text LIKE '%{link}%', "
               "body_html LIKE '%{link}%', mint->>'kind', "
               "position(" + quote(token) + " IN body_text || body_html || "
               "mint::text), body_text LIKE '%acme%', "
               "body_html LIKE '%Mal &lt;b&gt;%', mint->>'user_id' = "
               + quote(r.json["id"]) + " FROM outbox WHERE recipient = "
               "'mail@acme.test'")
    f = row.split("|") if row else []
    t.ok(len(f) == 9 and f[0] == "invitation" and f[2] == "t" and
         f[3] == "t" and f[4] == "invitation" and f[5] == "0" and
         f[6] == "t" and f[7] == "t" and f[8] == "t",
         "the invitation email is queued: {link} in both bodies, what link "
         "to make but no token, the tenant named, names escaped", row)
    got = c.inbox.wait("mail@acme.test", 60, subject="invitation")
    sent = link_in(got[2], "accept-invitation") if got else None
    t.ok(sent is not None and sent.startswith(PUBLIC + "/accept-invitation?")
         and url_params(sent)[1] != token,
         "the email's link is made as it is sent: a token of its own", sent)
    h = hashlib.blake2b(token.encode(), digest_size=32).hexdigest()
    n = psql(c, "SELECT count(*) FROM access_tokens WHERE token_hash = "
             "decode('%s', 'hex') AND kind = 'invitation' AND expires_at "
             "BETWEEN now() + interval '6 days' AND now() + interval '8 days'"
             % h)
    t.eq(n, "1", "only the token's BLAKE2b-256 hash is stored, for 7 days")
    r = c.adm.post("/v1/users", {"email": "pw@acme.test", "name": "Pw",
                                 "role": "learner", "password": PW})
    t.ok(r.status == 201 and "invitation_url" not in r.json and
         psql(c, "SELECT count(*) FROM outbox WHERE recipient = "
              "'pw@acme.test'") == "0",
         "a user created with a password is not invited", r)


def quote(s):
    return "'" + s.replace("'", "''") + "'"


@case
def single_enrollment(t):
    c = ctx()
    r = c.adm.post("/v1/cohorts/%s/enrollments" % c.cohort,
                   {"email": "single@acme.test", "name": "Single"})
    t.ok(r.status == 201 and r.json.get("invitation_url", "").startswith(
        PUBLIC + "/accept-invitation?"),
        "an enrollment that creates the learner carries invitation_url", r)
    ins = c.adm.post("/v1/users", {"email": "ins@acme.test", "name": "Ins",
                                   "role": "instructor", "password": PW})
    assert ins.status == 201, ins
    r = c.d.client().post("/v1/auth/login", {"tenant": "acme", "email":
                                             "ins@acme.test", "password": PW})
    ic = c.d.client(r.json["token"])
    r = c.adm.patch("/v1/cohorts/" + c.cohort,
                    {"instructors": [ins.json["id"]]})
    r = ic.post("/v1/cohorts/%s/enrollments" % c.cohort,
                {"email": "byins@acme.test", "name": "By Instructor"})
    t.ok(r.status == 201 and "invitation_url" not in r.json and
         psql(c, "SELECT count(*) FROM outbox WHERE recipient = "
              "'byins@acme.test' AND event = 'invitation'") == "1",
         "an instructor's enrollment invites by email but shows no link", r)


@case
def expiry_and_reissue(t):
    c = ctx()
    r = c.adm.post("/v1/users", {"email": "late@acme.test", "name": "Late",
                                 "role": "learner"})
    uid = r.json["id"]
    _, old = url_params(r.json["invitation_url"])
    psql(c, "UPDATE access_tokens SET expires_at = now() - interval '1 second'"
         " WHERE user_id = '%s'" % uid)
    r = accept(c.d, old)
    t.ok(r.is_problem(400) and "expired" in r.json["detail"],
         "an expired invitation is refused", r)
    r = c.adm.post("/v1/users/%s/invitation" % uid)
    t.ok(r.status == 201 and r.json["user_id"] == uid and
         r.json["invitation_url"].startswith(PUBLIC + "/accept-invitation?")
         and r.header("cache-control") == "no-store",
         "POST /v1/users/{id}/invitation issues a new link", r)
    _, mid = url_params(r.json["invitation_url"])
    r = c.adm.post("/v1/users/%s/invitation" % uid)
    _, new = url_params(r.json["invitation_url"])
    r = accept(c.d, mid)
    t.ok(r.is_problem(400) and "newer" in r.json["detail"],
         "re-issuing revokes the previous link", r)
    t.eq(psql(c, "SELECT count(*) FROM outbox WHERE recipient = "
              "'late@acme.test' AND event = 'invitation'"), "3",
         "each invitation is emailed")
    r = accept(c.d, new)
    t.ok(r.status == 200, "the newest link works", r)
    r = c.adm.post("/v1/users/%s/invitation" % uid)
    t.ok(r.is_problem(409), "a user with a password is not invited again", r)
    r = c.adm.post("/v1/users/%s/invitation" %
                   "00000000-0000-0000-0000-000000000000")
    t.ok(r.is_problem(404), "an unknown user: 404", r)
    r = c.adm.post("/v1/users/not-a-uuid/invitation")
    t.ok(r.is_problem(404), "a malformed id: 404", r)

    body = {"email": "idem-inv@acme.test", "name": "Idem", "role": "learner"}
    r1 = c.adm.post("/v1/users", body, headers={"Idempotency-Key": "inv-1"})
    r2 = c.adm.post("/v1/users", body, headers={"Idempotency-Key": "inv-1"})
    t.ok(r1.status == 201 and r2.status == 201 and
         r2.header("idempotent-replayed") == "true" and
         r2.json["id"] == r1.json["id"] and
         "invitation_url" not in r2.json and
         r1.json["invitation_url"] not in r2.body.decode() and
         psql(c, "SELECT count(*) FROM idempotency_keys WHERE body LIKE "
              "'%%accept-invitation%%'") == "0",
         "an idempotent replay answers as before without the link, which "
         "is never stored", (r1, r2))
    # A batch retried under its key gets every row's result again.
    csv = b"email,name\nretry1@acme.test,R One\nretry2@acme.test,R Two\n"
    b1, b2 = [c.adm.request("POST", "/v1/cohorts/%s/enrollments/batch"
                            % c.cohort, raw=csv, ctype="text/csv",
                            headers={"Idempotency-Key": "batch-1"})
              for _ in range(2)]
    t.ok(b1.status == 200 and b2.status == 200 and
         b2.header("idempotent-replayed") == "true" and
         [x["user_id"] for x in b2.json["results"]] ==
         [x["user_id"] for x in b1.json["results"]] and
         all("invitation_url" in x for x in b1.json["results"]) and
         not any("invitation_url" in x for x in b2.json["results"]),
         "a batch retried under its key gets every row's result, without "
         "the links", (b1, b2))
    r2 = c.adm.post("/v1/users/%s/invitation" % r1.json["id"],
                    headers={"Idempotency-Key": "inv-2"})
    r3 = c.adm.post("/v1/users/%s/invitation" % r1.json["id"],
                    headers={"Idempotency-Key": "inv-2"})
    t.ok(r2.status == 201 and r3.is_problem(409) and
         r2.json["invitation_url"] not in r3.body.decode(),
         "a re-issued link alone is not replayed: 409", (r2, r3))


@case
def email_change(t):
    c = ctx()
    r = c.adm.post("/v1/users", {"email": "typo@acme.tset", "name": "Typo",
                                 "role": "learner"})
    uid = r.json["id"]
    _, token = url_params(r.json["invitation_url"])
    r = c.adm.patch("/v1/users/" + uid, {"email": "typo@acme.test"})
    t.ok(r.status == 200, "the admin corrects the email", r)
    r = accept(c.d, token)
    t.ok(r.is_problem(400) and "newer" in r.json["detail"],
         "the link sent to the old address stops working", r)
    r = c.adm.post("/v1/users/%s/invitation" % uid)
    t.ok(r.status == 201 and psql(
        c, "SELECT count(*) FROM outbox WHERE recipient = 'typo@acme.test'")
        == "1", "a new invitation goes to the new address", r)
    r = c.adm.delete("/v1/users/" + uid)
    _, token = url_params(c.adm.post("/v1/users", {
        "email": "gone@acme.test", "name": "Gone",
        "role": "learner"}).json["invitation_url"])
    gone = psql(c, "SELECT id FROM users WHERE email = 'gone@acme.test'")
    c.adm.delete("/v1/users/" + gone)
    r = accept(c.d, token)
    t.ok(r.is_problem(400), "a deactivated user's link does not work", r)


@case
def cross_tenant(t):
    c = ctx()
    r = c.adm.post("/v1/users", {"email": "cross@acme.test", "name": "Cross",
                                 "role": "learner"})
    uid = r.json["id"]
    _, token = url_params(r.json["invitation_url"])
    r = accept(c.d, token, tenant="bolt")
    t.ok(r.is_problem(400) and r.json["type"].endswith("invalid-token"),
         "tenant B's context cannot use tenant A's token", r)
    r = c.adm_b.post("/v1/users/%s/invitation" % uid)
    t.ok(r.is_problem(404), "tenant B's admin cannot re-invite A's user", r)
    r = c.adm_b.get("/v1/users/%s" % uid)
    t.ok(r.is_problem(404), "nor see the user", r)
    bolt = psql(c, "SELECT id FROM tenants WHERE slug = 'bolt'")
    n = psql(c, "BEGIN; SET LOCAL ROLE cohortd_app; SELECT set_config("
             "'cohortd.tenant_id', '%s', true); SELECT count(*) FROM "
             "access_tokens; COMMIT" % bolt)
    t.ok(n is not None and n.split("\n")[-1] == "0",
         "row-level security hides A's tokens from B", n)
    r = accept(c.d, token, tenant="acme")
    t.ok(r.status == 200, "the token still works in its own tenant", r)


@case
def reset(t):
    c = ctx()
    r = c.adm.post("/v1/users", {"email": "rae@acme.test", "name": "Rae",
                                 "role": "learner", "password": PW})
    uid = r.json["id"]
    r = c.d.client().post("/v1/auth/login", {"tenant": "acme", "email":
                                             "rae@acme.test", "password": PW})
    old = c.d.client(r.json["token"])
    anon = c.d.client()
    known = anon.post("/v1/auth/password-reset",
                      {"tenant": "acme", "email": "RAE@acme.test"})
    unknown = anon.post("/v1/auth/password-reset",
                        {"tenant": "acme", "email": "nobody@acme.test"})
    notenant = anon.post("/v1/auth/password-reset",
                         {"tenant": "nope", "email": "rae@acme.test"})
    t.ok(known.status == 202 and unknown.status == 202 and
         notenant.status == 202 and known.body == unknown.body ==
         notenant.body,
         "a reset for an existing and an unknown account answers the same",
         (known, unknown, notenant))
    got = c.inbox.wait("rae@acme.test", 60, subject="Reset")
    link = link_in(got[2], "reset-password") if got else None
    t.ok(link is not None and link.startswith(PUBLIC + "/reset-password?"),
         "the existing account gets a reset email", got and got[2])
    t.ok(psql(c, "SELECT count(*) FROM outbox WHERE event = "
              "'password_reset' AND recipient = 'nobody@acme.test'") == "1"
         and not c.inbox.to("nobody@acme.test"),
         "an unknown account's request is queued the same, and nothing "
         "is sent to it")
    _, token = url_params(link or "x?tenant=acme&token=none")
    r = c.d.client().post("/v1/auth/invitations/accept",
                          {"token": token, "password": NEW_PW})
    t.ok(r.is_problem(400), "a reset token is not an invitation", r)
    r = c.d.client().post("/v1/auth/password-reset/confirm",
                          {"token": token, "password": "short"})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] == "/password",
         "a short password is refused", r)
    r = c.d.client().post("/v1/auth/password-reset/confirm",
                          {"token": token, "password": NEW_PW})
    t.ok(r.status == 200 and r.json["user"]["id"] == uid and
         r.header("cache-control") == "no-store",
         "confirming sets the new password and starts a session", r)
    t.ok(old.get("/v1/me").is_problem(401),
         "confirming ends the sessions from before")
    t.ok(c.d.client(r.json["token"]).get("/v1/me").status == 200,
         "the new session works")
    t.ok(login_status(c.d, "acme", "rae@acme.test", PW) == 401 and
         login_status(c.d, "acme", "rae@acme.test", NEW_PW) == 200,
         "only the new password logs in")
    r = c.d.client().post("/v1/auth/password-reset/confirm",
                          {"token": token, "password": "one more passphrase"})
    t.ok(r.is_problem(400), "a reset token works once", r)

    # The account's limit: the fourth request in the window is refused.
    for _ in range(4):
        r = anon.post("/v1/auth/password-reset",
                      {"tenant": "acme", "email": "flood@acme.test"})
    t.ok(r.is_problem(429) and r.header("retry-after"),
         "reset requests are throttled per account", r)


@case
def change_password(t):
    c = ctx()
    c.adm.post("/v1/users", {"email": "cy@acme.test", "name": "Cy",
                             "role": "learner", "password": PW})
    r = c.d.client().post("/v1/auth/login", {"tenant": "acme", "email":
                                             "cy@acme.test", "password": PW})
    s1 = c.d.client(r.json["token"])
    r = c.d.client().post("/v1/auth/login", {"tenant": "acme", "email":
                                             "cy@acme.test", "password": PW})
    s2 = c.d.client(r.json["token"])
    r = s1.put("/v1/me/password", {"current": "wrong password!", "new": NEW_PW})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] == "/current",
         "a wrong current password: 422 naming /current", r)
    r = s1.put("/v1/me/password", {"current": PW, "new": "short"})
    t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] == "/new",
         "a short new password: 422", r)
    r = s1.put("/v1/me/password", {"current": PW})
    t.ok(r.is_problem(422), "a missing field: 422", r)
    r = s1.put("/v1/me/password", {"current": 5, "new": NEW_PW})
    t.ok(r.is_problem(422), "a wrong type: 422", r)
    r = s1.put("/v1/me/password", {"current": PW, "new": NEW_PW})
    t.ok(r.status == 204, "PUT /v1/me/password changes it", r)
    t.ok(s1.get("/v1/me").status == 200, "the caller's session goes on")
    t.ok(s2.get("/v1/me").is_problem(401), "the other sessions end")
    t.ok(login_status(c.d, "acme", "cy@acme.test", NEW_PW) == 200 and
         login_status(c.d, "acme", "cy@acme.test", PW) == 401,
         "the new password logs in, the old one no longer")
    r = c.adm.post("/v1/api-keys", {"name": "k", "role": "learner"})
    r = c.d.client(r.json["key"]).put("/v1/me/password",
                                      {"current": PW, "new": NEW_PW})
    t.ok(r.is_problem(403), "an API key has no password to change", r)
    r = c.d.client().put("/v1/me/password", {"current": PW, "new": NEW_PW})
    t.ok(r.is_problem(401), "anonymous: 401", r)
    # Guessing the current password with a session in hand is throttled.
    codes = [s1.put("/v1/me/password", {"current": "guess %02d!" % i,
                                         "new": PW}).status
             for i in range(12)]
    r = s1.put("/v1/me/password", {"current": NEW_PW, "new": PW})
    first = codes.index(429) if 429 in codes else len(codes)
    t.ok(5 <= first <= 10 and set(codes[:first]) == {422} and
         set(codes[first:]) == {429} and
         r.is_problem(429) and r.header("retry-after"),
         "wrong current passwords are throttled, then even the right one "
         "waits", (codes, r))


@case
def bad_inputs(t):
    c = ctx()
    anon = c.d.client()
    for path in ("/v1/auth/invitations/accept",
                 "/v1/auth/password-reset/confirm"):
        for body, why in (({}, "no fields"),
                          ({"token": "x"}, "no password"),
                          ({"token": 7, "password": NEW_PW}, "a number token"),
                          ({"token": "x", "password": NEW_PW, "extra": 1},
                           "an unknown field"),
                          ([], "an array")):
            r = anon.post(path, body)
            t.ok(r.is_problem(422) or r.is_problem(400),
                 "%s with %s: 4xx problem" % (path, why), r)
        r = anon.post(path, {"token": "A" * 43, "password": NEW_PW})
        t.ok(r.is_problem(400) and r.json["type"].endswith("invalid-token"),
             "%s with an unknown token: 400 invalid-token" % path, r)
        r = anon.request("POST", path, raw=b"{not json")
        t.ok(r.is_problem(400), "%s with malformed JSON: 400" % path, r)
    for body in ({}, {"tenant": "acme"}, {"tenant": 1, "email": "a@b.c"}):
        r = anon.post("/v1/auth/password-reset", body)
        t.ok(r.is_problem(422), "password-reset with %r: 422" % (body,), r)


run()
