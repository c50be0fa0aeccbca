"""keys.py - API keys follow their creator's rights: a key acts with no
more than its creator may now (demoting the creator demotes the key),
deleting the creator revokes the key, and a key minted by a key follows
the user behind it.  Cases run alone by name: python3
tests/integration/keys.py deletion"""
import types

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres


@fixture
def world():
    """The daemon, tenant acme and its admin's session (top); bea and
    cal, two more admins.  The tenant's creation response is kept."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.d = Cohortd(w.pg.url(w.pg.new_database()))
    w.tenant_created = w.d.admin().post("/v1/tenants", {
        "slug": "acme", "name": "Acme", "admin": {
            "email": "admin@acme.test", "name": "Admin", "password": PW}})
    w.top = session(w.d, "admin@acme.test")
    w.users = {}
    for who in ("bea", "cal"):
        r = w.top.post("/v1/users", {"email": who + "@acme.test",
                                     "name": who, "role": "admin",
                                     "password": PW})
        assert r.status == 201, r
        w.users[who] = r.json["id"]
    return w


def session(d, email):
    r = d.client().post("/v1/auth/login", {"tenant": "acme",
                                           "email": email,
                                           "password": PW})
    assert r.status == 200, r
    return d.client(r.json["token"])


@fixture
def bea_keys():
    """bea's admin key k1, k2 minted by k1, and her learner key k3; the
    responses that made k1 and k2 are kept."""
    w = world()
    k = types.SimpleNamespace()
    bea = session(w.d, "bea@acme.test")
    k.k1_created = bea.post("/v1/api-keys", {"name": "bea's sync",
                                             "role": "admin"})
    k.k1 = w.d.client(k.k1_created.json["key"])
    k.k2_created = k.k1.post("/v1/api-keys", {"name": "minted by a key",
                                              "role": "admin"})
    k.k2 = w.d.client(k.k2_created.json["key"])
    r = bea.post("/v1/api-keys", {"name": "bea's reader", "role": "learner"})
    k.k3 = w.d.client(r.json["key"])
    return k


@case
def tenant(t):
    w = world()
    r = w.tenant_created
    t.ok(r.status == 201, "tenant created", r)


@case
def minting(t):
    k = bea_keys()
    r = k.k1_created
    t.ok(r.status == 201, "an admin creates an admin key", r)
    t.ok(k.k1.get("/v1/users").status == 200, "the key has admin power")
    r = k.k2_created
    t.ok(r.status == 201, "the key mints another admin key", r)


@case
def demotion(t):
    # Demoting the creator demotes her keys, at once.
    w = world()
    top, users = w.top, w.users
    k = bea_keys()
    k1, k2, k3 = k.k1, k.k2, k.k3
    r = top.patch("/v1/users/" + users["bea"], {"role": "instructor"})
    t.ok(r.status == 200, "the creator is demoted to instructor", r)
    r = k1.get("/v1/users")
    t.ok(r.is_problem(403), "her admin key no longer has admin power", r)
    t.ok(k1.get("/v1/programs").status == 200,
         "it acts as an instructor now")
    t.ok(k1.post("/v1/programs", {"title": "P"}).status == 201,
         "including an instructor's writes")
    r = k2.get("/v1/users")
    t.ok(r.is_problem(403), "a key minted by her key is demoted too", r)
    r = k3.post("/v1/programs", {"title": "Q"})
    t.ok(r.is_problem(403), "a learner key stays a learner key", r)
    r = top.patch("/v1/users/" + users["bea"], {"role": "admin"})
    t.ok(k1.get("/v1/users").status == 200,
         "promoted again, the key follows her rights again")


@case
def deletion(t):
    # Deleting the creator revokes her keys.
    w = world()
    d, top, users = w.d, w.top, w.users
    cal = session(d, "cal@acme.test")
    r = cal.post("/v1/api-keys", {"name": "cal's", "role": "admin"})
    kc = d.client(r.json["key"])
    kid = r.json["id"]
    t.ok(kc.get("/v1/users").status == 200, "cal's key works")
    r = top.delete("/v1/users/" + users["cal"])
    t.ok(r.status == 204, "cal is deleted", r)
    r = kc.get("/v1/users")
    t.ok(r.is_problem(401), "a deleted admin's key authenticates nothing", r)
    r = top.get("/v1/api-keys?limit=500")
    t.ok(r.status == 200 and kid not in [k["id"] for k in r.json["items"]],
         "and is no longer listed", r)
    r = top.patch("/v1/users/" + users["cal"], {"active": True})
    t.ok(kc.get("/v1/users").is_problem(401),
         "reactivating the user does not bring a revoked key back")


@case
def deactivation(t):
    # Last: it deactivates bea, whose keys the cases above use.
    # Deactivating (PATCH active=false) suspends the keys as well.
    w = world()
    k1 = bea_keys().k1
    w.top.patch("/v1/users/" + w.users["bea"], {"active": False})
    t.ok(k1.get("/v1/users").is_problem(401),
         "a deactivated admin's key authenticates nothing")
    w.d.stop()


run()
