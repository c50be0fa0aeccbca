"""email_delivery.py - the outbox's emails, end to end: a real SMTP server (aiosmtpd)
in this process, the real daemon sending to it.  Enrolling a learner sends
a well-formed email; a server that is down delays it, never loses it, not
even across kill -9 of the daemon; GET /v1/outbox lists messages and never
the secret link."""
import email
import email.policy
import email.utils
import sys
import threading
import time

try:
    from aiosmtpd.controller import Controller
except ImportError:  # Debian's python3-aiosmtpd beside another python3
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller

from harness import Cohortd, Postgres, free_port, login, main, PW

TENANT_NAME = "École \"Été\" des Chats"
FROM = "noreply@cohortd.test"


class Inbox:
    """What the SMTP server received: (envelope to, parsed message)."""

    def __init__(self):
        self.got = []
        self.cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content,
                                       policy=email.policy.default)
        with self.cond:
            self.got.append((envelope.mail_from, list(envelope.rcpt_tos),
                             msg, envelope.content))
            self.cond.notify_all()
        return "250 OK"

    def _find(self, addr, subject):
        return [g for g in self.got if addr in g[1] and
                (subject is None or subject in str(g[2]["Subject"]))]

    def to(self, addr, subject=None):
        """Messages to addr (whose Subject holds subject)."""
        with self.cond:
            return self._find(addr, subject)

    def wait(self, addr, timeout=60, n=1, subject=None):
        """The n-th message to addr (whose Subject holds subject), or
        None after timeout.  Other emails (an invitation to a user made
        without a password) may go to the same address."""
        deadline = time.time() + timeout
        with self.cond:
            while len(self._find(addr, subject)) < n:
                left = deadline - time.time()
                if left <= 0:
                    break
                self.cond.wait(left)
            found = self._find(addr, subject)
        return found[n - 1] if len(found) >= n else None


def smtp_start(inbox, port):
    c = Controller(inbox, hostname="127.0.0.1", port=port)
    c.start()
    return c


def wait_until(pred, timeout=60, step=0.3):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def outbox(adm, **q):
    qs = "&".join("%s=%s" % kv for kv in q.items())
    r = adm.get("/v1/outbox" + ("?" + qs if qs else ""))
    assert r.status == 200, r
    return r.json["items"]


def parts(msg):
    return {p.get_content_type(): p.get_content() for p in msg.walk()
            if not p.is_multipart()}


def test(t):
    inbox = Inbox()
    port = free_port()
    smtp = smtp_start(inbox, port)
    pg = Postgres()
    db = pg.new_database()
    env = {"COHORTD_ROLE": "api",
           "COHORTD_SMTP_URL": "smtp://127.0.0.1:%d" % port,
           "COHORTD_SMTP_FROM": FROM}
    d = Cohortd(pg.url(db), env=env)

    r = d.admin().post("/v1/tenants", {
        "slug": "ecole", "name": TENANT_NAME,
        "admin": {"email": "admin@ecole.test", "name": "Admin",
                  "password": PW}})
    assert r.status == 201, r
    tenant_id = r.json["id"]
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

    # ---- enrolled: the email and its headers ------------------------------
    r = adm.post("/v1/users", {"email": "lea@ecole.test", "name": "Léa",
                               "role": "learner"})
    t.ok(r.status == 201, "a learner is created", r)
    lea = r.json
    r = adm.post("/v1/cohorts/%s/enrollments" % spring["id"],
                 {"user_id": lea["id"]})
    t.ok(r.status == 201 and r.json["state"] == "active",
         "the learner is enrolled", r)
    lea_enr = r.json
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

    # ---- a secret link: put in at send time, never listed -------------------
    link = "https://ecole.test/reset?token=s3cr3t-&-tok"
    pg.psql("INSERT INTO outbox (tenant_id, channel, event, recipient, "
            "subject, body_text, body_html, secret_link) VALUES ('%s', "
            "'email', 'password_reset', 'max@ecole.test', 'Reset', "
            "'Go to {link} now', '<a href=\"{link}\">reset</a>', '%s')"
            % (tenant_id, link), db)
    got = inbox.wait("max@ecole.test", 60)
    t.ok(got is not None, "an email with a secret link arrives")
    if got is not None:
        p = parts(got[2])
        t.ok(p.get("text/plain", "").strip() == "Go to %s now" % link,
             "the text part has the link", p)
        t.ok("s3cr3t-&amp;-tok" in p.get("text/html", ""),
             "the HTML part has the link, escaped", p)
    rows = wait_until(lambda: [m for m in outbox(adm, state="sent")
                               if m["recipient"] == "max@ecole.test"], 30)
    t.ok(rows and rows[0]["body_text"] == "Go to {link} now" and
         "s3cr3t" not in str(outbox(adm)) and "secret_link" not in rows[0],
         "GET /v1/outbox shows {link}, never the link", rows)
    t.eq(pg.psql("SELECT count(*) FROM outbox WHERE secret_link IS NOT NULL",
                 db), "0", "the link is dropped once sent")

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

    # ---- batch --------------------------------------------------------------
    r = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "Open",
                                 "starts_at": "2026-03-01T09:00:00Z",
                                 "ends_at": "2026-06-01T09:00:00Z"})
    open_c = r.json
    r = adm.request("POST", "/v1/cohorts/%s/enrollments/batch" % open_c["id"],
                    raw=b"email,name\nb1@ecole.test,B1\nb2@ecole.test,B2\n",
                    ctype="text/csv")
    t.ok(r.status == 200, "a batch enrollment", r)
    t.ok(inbox.wait("b1@ecole.test", 60, subject="enrolled") is not None and
         inbox.wait("b2@ecole.test", 60, subject="enrolled") is not None,
         "each learner of a batch gets an email")

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
    main(test)
