"""webhook_crash.py - a webhook event committed but not yet delivered
survives kill -9 of the daemon: the receiver refuses the first attempt,
the daemon is killed, and after a restart the event arrives, signed, with
the webhook-id of the first attempt (receivers deduplicate on it), and
once only; an event committed just before kill -9 arrives too (at least
once: a kill in the middle of a send may repeat it, under the same id)."""
import json
import time

from harness import Cohortd, Postgres, login, main, setup_tenant
from hookbox import Receiver
from smtpbox import wait_until


def test(t):
    rx = Receiver()
    url = "http://127.0.0.1:%d/hook" % rx.port
    pg = Postgres()
    db = pg.new_database()
    env = {"COHORTD_ROLE": "api", "COHORTD_WEBHOOK_ALLOW": "127.0.0.1"}
    d = Cohortd(pg.url(db), env=env)
    adm = setup_tenant(d, "acme")
    r = adm.post("/v1/webhooks", {"url": url,
                                  "events": ["enrollment.created"]})
    t.ok(r.status == 201, "an endpoint", r)
    hook = r.json
    rx.secret = hook["secret"]
    prog = adm.post("/v1/programs", {"title": "P"}).json
    coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                   "starts_at": "2026-01-01T00:00:00Z",
                                   "ends_at": "2099-01-01T00:00:00Z"}).json

    def attempts(eid):
        with rx.cond:
            return [g for g in rx.got
                    if json.loads(g["body"])["data"].get("enrollment_id")
                    == eid]

    # ---- committed, refused once, then kill -9 ---------------------------
    with rx.cond:
        rx.status = 503
    a = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"email": "a@acme.test", "name": "A"})
    t.ok(a.status == 201, "an enrollment while the receiver refuses", a)
    a = a.json
    t.ok(rx.wait(lambda r: attempts(a["id"]), 60),
         "the event is tried and refused")

    def refused():
        r = adm.get("/v1/webhooks/%s/deliveries" % hook["id"])
        return [m for m in r.json["items"]
                if m["payload"]["data"].get("enrollment_id") == a["id"] and
                m["attempts"] >= 1 and m["last_error"]]
    rows = wait_until(refused, 60)
    t.ok(rows and rows[0]["state"] == "unsent",
         "the refusal is recorded, the event kept for a retry", rows)
    d.proc.kill()
    d.wait(30)
    d.stop()
    with rx.cond:
        rx.status = 200
    d = Cohortd(pg.url(db), state_dir=d.state_dir, env=env)
    adm = login(d, "acme", "admin@acme.test")
    t.ok(rx.wait(lambda r: any(g["answered"] == 200
                               for g in attempts(a["id"])), 60),
         "after kill -9 and a restart the event arrives", d.log_text())
    got = attempts(a["id"])
    t.ok(len({g["id"] for g in got}) == 1,
         "with the webhook-id of the first attempt", got)
    t.ok(all(rx.verified(g) for g in got), "signed, before and after")

    # ---- committed, and kill -9 at once ------------------------------------
    b = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                 {"email": "b@acme.test", "name": "B"})
    d.proc.kill()
    d.wait(30)
    d.stop()
    t.ok(b.status == 201, "an enrollment answered just before kill -9", b)
    d = Cohortd(pg.url(db), state_dir=d.state_dir, env=env)
    adm = login(d, "acme", "admin@acme.test")
    # A kill in the middle of a send leaves the event leased: it is sent
    # again when the lease ends (at least once, same webhook-id).
    t.ok(rx.wait(lambda r: any(g["answered"] == 200
                               for g in attempts(b.json["id"])), 150),
         "its event arrives", d.log_text())

    # ---- once only --------------------------------------------------------
    time.sleep(3)
    t.eq(len([g for g in attempts(a["id"]) if g["answered"] == 200]), 1,
         "an event answered 2xx is not sent again")
    t.eq(len({g["id"] for g in attempts(b.json["id"])}), 1,
         "every attempt of an event carries the same webhook-id")
    # Sent before the kill but not yet marked: marked when the lease ends.
    rows = wait_until(lambda: len([m for m in adm.get(
        "/v1/webhooks/%s/deliveries" % hook["id"]).json["items"]
        if m["state"] == "sent"]) == 2 and [m for m in adm.get(
            "/v1/webhooks/%s/deliveries" % hook["id"]).json["items"]
            if m["state"] == "sent"], 150)
    t.ok(len(rows) == 2 and all(m["attempts"] >= 1 for m in rows),
         "both listed as sent", rows)
    d.stop()


main(test)
