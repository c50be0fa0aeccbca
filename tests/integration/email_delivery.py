"""email_delivery.py - the outbox's emails, end to end: a real SMTP server (aiosmtpd)
in this process, the real daemon sending to it.  Enrolling a learner sends
a well-formed email; a server that is down delays it, never loses it, not
even across kill -9 of the daemon; a password reset's link is made as its
email is sent, never stored, and nothing goes where there is no account;
GET /v1/outbox lists messages and never a link.  Cases run alone by name:
python3 tests/integration/email_delivery.py promoted"""
import email
import email.policy
import email.utils
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, free_port, login, PW
from smtpbox import Inbox, link_in, parts, smtp_start, wait_until

TENANT_NAME = "École \"Été\" des Chats"
FROM = "noreply@cohortd.test"
PUBLIC = "https://learn.ecole.test"


def outbox(adm, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    r = adm.get("/v1/outbox" + ("?" + qs if qs else ""))
    assert r.status == 200, r
    return r.json["items"]

@fixture
def world():
    """The SMTP server here; the daemon sending to it; tenant ecole, its
    admin, a program and cohort Spring <2026> (one seat, a waitlist)."""
    inbox = Inbox()
    port = free_port()
    smtp = smtp_start(inbox, port)
    pg = Postgres()
    db = pg.new_database()
    env = {"COHORTD_ROLE": "api",
           "COHORTD_SMTP_URL": "smtp://127.0.0.1:%d" % port,
           "COHORTD_SMTP_FROM": FROM, "COHORTD_PUBLIC_URL": PUBLIC}
    d = Cohortd(pg.url(db), env=env)

    r = d.admin().post("/v1/tenants", {
        "slug": "ecole", "name": TENANT_NAME,
        "admin": {"email": "admin@ecole.test", "name": "Admin",
                  "password": PW}})
    assert r.status == 201, r
    adm = login(d, "ecole", "admin@ecole.test")
    r = adm.post("/v1/programs", {"title": "Concurrency", "summary": "C"})
    prog = r.json
    r = adm.post("/v1/cohorts", {"program_id": prog["id"],
                                 "name": "Spring <2026>",
                                 "starts_at": "2026-03-01T09:00:00Z",
                                 "ends_at": "2026-06-01T09:00:00Z",
                                 "capacity": 1, "waitlist": True})
    assert r.status == 201, r
    spring = r.json
    return types.SimpleNamespace(**locals())


@fixture
def lea():
    """Léa, a learner, enrolled in Spring, her email delivered (given a
    minute); the two responses are kept for the enrolled case."""
    w = world()
    e = types.SimpleNamespace()
    e.created = w.adm.post("/v1/users", {"email": "lea@ecole.test",
                                         "name": "Léa", "role": "learner"})
    e.lea = e.created.json
    e.enrolled = w.adm.post("/v1/cohorts/%s/enrollments" % w.spring["id"],
                            {"user_id": e.lea["id"]})
    e.lea_enr = e.enrolled.json
    w.inbox.wait("lea@ecole.test", 60, subject="enrolled")
    return e


@fixture
def open_cohort():
    """Cohort Open: no seat limit."""
    w = world()
    r = w.adm.post("/v1/cohorts", {"program_id": w.prog["id"], "name": "Open",
                                   "starts_at": "2026-03-01T09:00:00Z",
                                   "ends_at": "2026-06-01T09:00:00Z"})
    return r.json


@case
def enrolled(t):
    w = world()
    d, inbox = w.d, w.inbox
    e = lea()
    # ---- enrolled: the email and its headers ------------------------------
    r = e.created
    t.ok(r.status == 201, "a learner is created", r)
    r = e.enrolled
    t.ok(r.status == 201 and r.json["state"] == "active",
         "the learner is enrolled", r)
    got = inbox.wait("lea@ecole.test", 60, subject="enrolled")
    t.ok(got is not None, "the enrollment email arrives",
         d.log_text())
    if got is not None:
        mail_from, rcpt, msg, raw = got
        t.eq(mail_from, FROM, "envelope sender is COHORTD_SMTP_FROM")
        name, addr = email.utils.parseaddr(str(msg["From"]))
        t.eq((name, addr), (TENANT_NAME, FROM),
             "From: the tenant's name as display name, encoded")
        t.eq(email.utils.parseaddr(str(msg["To"]))[1], "lea@ecole.test",
             "To: the learner")
        t.ok("Spring <2026>" in str(msg["Subject"]),
             "Subject names the cohort", msg["Subject"])
        t.ok(msg["Date"] is not None and
             email.utils.parsedate_to_datetime(str(msg["Date"])) is not None,
             "Date: an RFC 5322 date", msg["Date"])
        t.ok(str(msg["Message-ID"]).startswith("<") and
             str(msg["Message-ID"]).endswith("@cohortd.test>"),
             "Message-ID: unique, in the sender's domain", msg["Message-ID"])
        t.eq(msg.get_content_type(), "multipart/alternative",
             "multipart/alternative")
        p = parts(msg)
        t.ok("text/plain" in p and "Léa" in p["text/plain"] and
             "Spring <2026>" in p["text/plain"],
             "a text/plain part naming the learner and the cohort", p)
        t.ok("text/html" in p and "Spring &lt;2026&gt;" in p["text/html"],
             "a text/html part, values escaped", p)
        t.ok(all(len(line) <= 998 for line in raw.split(b"\r\n")),
             "no line longer than RFC 5322 allows")


@case
def outbox_list(t):
    w = world()
    d, adm = w.d, w.adm
    lea()
    # ---- the list ------------------------------------------------------------
    # (The invitation, sent first, is listed too: wait for this one.)
    items = wait_until(lambda: [m for m in outbox(adm)
                                if m["recipient"] == "lea@ecole.test" and
                                m["event"] == "enrolled" and
                                m["state"] == "sent"], 30)
    t.ok(items and items[0]["event"] == "enrolled" and
         items[0]["channel"] == "email" and items[0]["attempts"] == 1 and
         items[0]["sent_at"] is not None and items[0]["last_error"] is None,
         "GET /v1/outbox: the email, sent on its first attempt", items)
    for q, name in (("state=bogus", "an unknown state"),
                    ("limit=0", "limit 0"), ("cursor=%%%", "a bad cursor"),
                    ("colour=red", "an unknown parameter")):
        r = adm.get("/v1/outbox?" + q)
        t.ok(400 <= r.status < 500 and r.is_problem(r.status),
             "GET /v1/outbox: %s is a 4xx problem" % name, r)
    r = adm.post("/v1/users", {"email": "ivy@ecole.test", "name": "Ivy",
                               "role": "instructor", "password": PW})
    ivy = login(d, "ecole", "ivy@ecole.test")
    r = ivy.get("/v1/outbox")
    t.ok(r.is_problem(403), "an instructor may not read the outbox", r)


@case
def one_time_links(t):
    w = world()
    d, adm, inbox, pg, db = w.d, w.adm, w.inbox, w.pg, w.db
    # ---- one-time links: made as the email is sent, never stored -----------
    r = adm.post("/v1/users", {"email": "Max@ecole.test", "name": "Max",
                               "role": "learner", "password": PW})
    max_id = r.json["id"]
    anon = d.client()
    r = anon.post("/v1/auth/password-reset",
                  {"tenant": "ecole", "email": "MAX@ecole.test"})
    t.ok(r.status == 202, "a password reset is asked for", r)
    got = inbox.wait("Max@ecole.test", 60, subject="Reset")
    t.ok(got is not None, "its email arrives, at the account's address")
    link = link_in(got[2], "reset-password") if got else None
    t.ok(link is not None and link.startswith(PUBLIC + "/reset-password?") and
         "&amp;" in parts(got[2]).get("text/html", ""),
         "with its link in both parts (escaped in HTML)",
         parts(got[2]) if got else None)
    token = link.split("token=")[-1] if link else ""
    rows = wait_until(lambda: [m for m in outbox(adm, state="sent")
                               if m["event"] == "password_reset"], 30)
    t.ok(rows and "{link}" in rows[0]["body_text"] and rows[0]["has_link"]
         and token and token not in str(outbox(adm)),
         "GET /v1/outbox shows {link}, never the link", rows)
    t.eq(pg.psql("SELECT count(*) FROM outbox WHERE position('%s' IN "
                 "coalesce(body_text, '') || coalesce(body_html, '') || "
                 "coalesce(mint::text, '')) > 0" % token, db), "0",
         "the token is nowhere in the outbox")
    r = anon.post("/v1/auth/password-reset/confirm",
                  {"token": token, "password": "a much better passphrase"})
    t.ok(r.status == 200 and r.json["user"]["id"] == max_id,
         "the emailed link resets the password", r)
    r = anon.post("/v1/auth/password-reset",
                  {"tenant": "ecole", "email": "nobody@ecole.test"})
    t.ok(r.status == 202, "a reset for no account answers the same", r)
    gone = wait_until(lambda: [m for m in outbox(adm, state="failed")
                               if m["recipient"] == "nobody@ecole.test"], 30)
    t.ok(gone and "no active account" in (gone[0]["last_error"] or "") and
         not inbox.to("nobody@ecole.test"),
         "and the dispatcher, finding no account, sends nothing", gone)


@case
def promoted(t):
    w = world()
    adm, inbox, spring = w.adm, w.inbox, w.spring
    lea_enr = lea().lea_enr
    # ---- promoted from the waitlist -----------------------------------------
    r = adm.post("/v1/cohorts/%s/enrollments" % spring["id"],
                 {"email": "wes@ecole.test", "name": "Wes"})
    t.ok(r.status == 201 and r.json["state"] == "waitlisted",
         "a second learner waits for a seat", r)
    r = adm.post("/v1/enrollments/%s/withdraw" % lea_enr["id"])
    t.ok(r.status == 200, "the first withdraws", r)
    got = inbox.wait("wes@ecole.test", 60, subject="seat")
    t.ok(got is not None and "seat" in str(got[2]["Subject"]) and
         "waitlist" in parts(got[2]).get("text/plain", ""),
         "the one who moved up gets the promoted email",
         got and got[2]["Subject"])
    t.eq([m["event"] for m in outbox(adm)
          if m["recipient"] == "wes@ecole.test" and
          m["event"] in ("enrolled", "promoted")], ["promoted"],
         "no email while waitlisted, one when promoted")


@case
def batch(t):
    w = world()
    adm, inbox = w.adm, w.inbox
    open_c = open_cohort()
    # ---- batch --------------------------------------------------------------
    r = adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % open_c["id"],
                    raw=b"email,name\nb1@ecole.test,B1\nb2@ecole.test,B2\n",
                    ctype="text/csv")
    t.ok(r.status == 200, "a batch enrollment", r)
    t.ok(inbox.wait("b1@ecole.test", 60, subject="enrolled") is not None and
         inbox.wait("b2@ecole.test", 60, subject="enrolled") is not None,
         "each learner of a batch gets an email")


@case
def server_down(t):
    """Restarts the mail server and the daemon (kill -9)."""
    w = world()
    d, adm, inbox, smtp, pg, db, env, port = (w.d, w.adm, w.inbox, w.smtp,
                                              w.pg, w.db, w.env, w.port)
    lea()
    open_c = open_cohort()
    # ---- the server down: kept, retried, and not lost to kill -9 ----------
    smtp.stop()
    r = adm.post("/v1/cohorts/%s/enrollments" % open_c["id"],
                 {"email": "dan@ecole.test", "name": "Dan"})
    t.ok(r.status == 201, "enrolled while the mail server is down", r)
    rows = wait_until(lambda: [m for m in outbox(adm)
                               if m["recipient"] == "dan@ecole.test" and
                               m["event"] == "enrolled" and
                               m["attempts"] >= 1 and m["last_error"]], 60)
    t.ok(rows and rows[0]["state"] == "unsent" and rows[0]["next_at"],
         "a failed try leaves it unsent, with the error and the next try",
         rows)
    d.proc.kill()
    d.wait(30)
    d.stop()
    smtp = smtp_start(inbox, port)
    d = Cohortd(pg.url(db), state_dir=d.state_dir, env=env)
    adm = login(d, "ecole", "admin@ecole.test")
    got = inbox.wait("dan@ecole.test", 120, subject="enrolled")
    t.ok(got is not None, "after kill -9 and a restart the email arrives",
         d.log_text())
    rows = wait_until(lambda: [m for m in outbox(adm, state="sent")
                               if m["recipient"] == "dan@ecole.test" and
                               m["event"] == "enrolled"], 30)
    t.ok(rows and rows[0]["attempts"] >= 2, "listed as sent, after retries",
         rows)
    time.sleep(3)
    t.eq(len(inbox.to("dan@ecole.test", "enrolled")), 1,
         "and it arrived exactly once")
    t.eq(len(inbox.to("lea@ecole.test", "enrolled")), 1,
         "nothing sent before is sent again")
    w.d, w.adm, w.smtp = d, adm, smtp


@case
def no_mail_server(t):
    """Last: the daemon is restarted without a mail server."""
    w = world()
    d, smtp, pg, db = w.d, w.smtp, w.pg, w.db
    open_c = open_cohort()
    # ---- without a mail server configured: kept unsent, not failed -------
    d.stop()
    d = Cohortd(pg.url(db), state_dir=d.state_dir, env={"COHORTD_ROLE": "api"})
    adm = login(d, "ecole", "admin@ecole.test")
    r = adm.post("/v1/cohorts/%s/enrollments" % open_c["id"],
                 {"email": "noe@ecole.test", "name": "Noé"})
    t.ok(r.status == 201, "enrolled with no mail server configured", r)
    time.sleep(3)
    rows = [m for m in outbox(adm) if m["recipient"] == "noe@ecole.test" and
            m["event"] == "enrolled"]
    t.ok(len(rows) == 1 and rows[0]["state"] == "unsent" and
         rows[0]["attempts"] == 0, "the email is kept unsent and listed", rows)
    d.stop()
    smtp.stop()


if __name__ == "__main__":
    run()
