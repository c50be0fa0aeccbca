"""webhook_crash.py - a webhook event committed but not yet delivered
survives kill -9 of the daemon: the receiver refuses the first attempt,
the daemon is killed, and after a restart the event arrives, signed, with
the webhook-id of the first attempt (receivers deduplicate on it), and
once only; an event committed just before kill -9 arrives too (at least
once: a kill in the middle of a send may repeat it, under the same id).
Cases run alone by name: python3 tests/integration/webhook_crash.py
once_only.  Each kill -9 is a fixture (the second stands on the first),
and the cases check what they kept."""
import json
import time
import types

from cases import case, fixture, run
from harness import Cohortd, Postgres, login, setup_tenant
from hookbox import Receiver
from smtpbox import wait_until


@fixture
def world():
    """The receiver, the daemon (API role), tenant acme, a webhook on
    enrollment.created (its creation response kept) and a cohort."""
    w = types.SimpleNamespace()
    w.rx = rx = Receiver()
    url = "http://127.0.0.1:%d/hook" % rx.port
    w.pg = pg = Postgres()
    w.db = db = pg.new_database()
    w.env = {"COHORTD_ROLE": "api", "COHORTD_WEBHOOK_ALLOW": "127.0.0.1"}
    w.d = Cohortd(pg.url(db), env=w.env)
    w.adm = adm = setup_tenant(w.d, "acme")
    w.hook_created = adm.post("/v1/webhooks", {
        "url": url, "events": ["enrollment.created"]})
    w.hook = w.hook_created.json
    rx.secret = w.hook["secret"]
    prog = adm.post("/v1/programs", {"title": "P"}).json
    w.coh = adm.post("/v1/cohorts", {"program_id": prog["id"], "name": "C",
                                     "starts_at": "2026-01-01T00:00:00Z",
                                     "ends_at": "2099-01-01T00:00:00Z"}).json
    return w


def attempts(rx, eid):
    with rx.cond:
        return [g for g in rx.got
                if json.loads(g["body"])["data"].get("enrollment_id")
                == eid]


@fixture
def first_kill():
    """Committed, refused once, then kill -9 and a restart: the
    enrollment's response (a_created), whether its event was tried
    (tried), the delivery rows that record the refusal (rows), whether it
    arrived after the restart (arrived), and the restarted daemon."""
    w = world()
    rx, adm, hook, coh = w.rx, w.adm, w.hook, w.coh
    k = types.SimpleNamespace()
    with rx.cond:
        rx.status = 503
    k.a_created = adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                           {"email": "a@acme.test", "name": "A"})
    a = k.a = k.a_created.json
    k.tried = rx.wait(lambda r: attempts(rx, a["id"]), 60)

    def refused():
        r = adm.get("/v1/webhooks/%s/deliveries" % hook["id"])
        return [m for m in r.json["items"]
                if m["payload"]["data"].get("enrollment_id") == a["id"] and
                m["attempts"] >= 1 and m["last_error"]]
    k.rows = wait_until(refused, 60)
    d = w.d
    d.proc.kill()
    d.wait(30)
    d.stop()
    with rx.cond:
        rx.status = 200
    k.d = d = Cohortd(w.pg.url(w.db), state_dir=d.state_dir, env=w.env)
    k.adm = login(d, "acme", "admin@acme.test")
    k.arrived = rx.wait(lambda r: any(g["answered"] == 200
                                      for g in attempts(rx, a["id"])), 60)
    k.log_after = d.log_text()
    return k


@fixture
def second_kill():
    """After the first: committed, and kill -9 at once, then a restart:
    the enrollment's response (b), whether its event arrived (arrived),
    and the daemon restarted again."""
    w = world()
    rx, coh = w.rx, w.coh
    first = first_kill()
    k = types.SimpleNamespace()
    d = first.d
    k.b = first.adm.post("/v1/cohorts/%s/enrollments" % coh["id"],
                         {"email": "b@acme.test", "name": "B"})
    d.proc.kill()
    d.wait(30)
    d.stop()
    k.d = d = Cohortd(w.pg.url(w.db), state_dir=d.state_dir, env=w.env)
    k.adm = login(d, "acme", "admin@acme.test")
    # A kill in the middle of a send leaves the event leased: it is sent
    # again when the lease ends (at least once, same webhook-id).
    k.arrived = rx.wait(lambda r: any(
        g["answered"] == 200 for g in attempts(rx, k.b.json["id"])), 150)
    k.log_after = d.log_text()
    return k


@case
def endpoint(t):
    r = world().hook_created
    t.ok(r.status == 201, "an endpoint", r)


@case
def refused_then_killed(t):
    # ---- committed, refused once, then kill -9 ---------------------------
    w = world()
    rx = w.rx
    k = first_kill()
    a = k.a_created
    t.ok(a.status == 201, "an enrollment while the receiver refuses", a)
    a = a.json
    t.ok(k.tried, "the event is tried and refused")
    rows = k.rows
    t.ok(rows and rows[0]["state"] == "unsent",
         "the refusal is recorded, the event kept for a retry", rows)
    t.ok(k.arrived,
         "after kill -9 and a restart the event arrives", k.log_after)
    got = attempts(rx, a["id"])
    t.ok(len({g["id"] for g in got}) == 1,
         "with the webhook-id of the first attempt", got)
    t.ok(all(rx.verified(g) for g in got), "signed, before and after")


@case
def killed_at_once(t):
    # ---- committed, and kill -9 at once ------------------------------------
    k = second_kill()
    b = k.b
    t.ok(b.status == 201, "an enrollment answered just before kill -9", b)
    t.ok(k.arrived, "its event arrives", k.log_after)


@case
def once_only(t):
    # ---- once only --------------------------------------------------------
    # Last: it stops the daemon.
    w = world()
    rx, hook = w.rx, w.hook
    a = first_kill().a
    k = second_kill()
    b, adm, d = k.b, k.adm, k.d
    time.sleep(3)
    t.eq(len([g for g in attempts(rx, a["id"]) if g["answered"] == 200]), 1,
         "an event answered 2xx is not sent again")
    t.eq(len({g["id"] for g in attempts(rx, b.json["id"])}), 1,
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


run()
