"""keys.py - API keys follow their creator's rights: a key acts with no
more than its creator may now (demoting the creator demotes the key),
deleting the creator revokes the key, and a key minted by a key follows
the user behind it."""
from harness import PW, Cohortd, Postgres, main


def test(t):
    pg = Postgres()
    d = Cohortd(pg.url(pg.new_database()))
    r = d.admin().post("/v1/tenants", {
        "slug": "acme", "name": "Acme", "admin": {
            "email": "admin@acme.test", "name": "Admin", "password": PW}})
    t.ok(r.status == 201, "tenant created", r)

    def session(email):
        r = d.client().post("/v1/auth/login", {"tenant": "acme",
                                               "email": email,
                                               "password": PW})
        assert r.status == 200, r
        return d.client(r.json["token"])

    top = session("admin@acme.test")
    users = {}
    for who in ("bea", "cal"):
        r = top.post("/v1/users", {"email": who + "@acme.test", "name": who,
                                   "role": "admin", "password": PW})
        assert r.status == 201, r
        users[who] = r.json["id"]

    bea = session("bea@acme.test")
    r = bea.post("/v1/api-keys", {"name": "bea's sync", "role": "admin"})
    t.ok(r.status == 201, "an admin creates an admin key", r)
    k1 = d.client(r.json["key"])
    t.ok(k1.get("/v1/users").status == 200, "the key has admin power")
    r = k1.post("/v1/api-keys", {"name": "minted by a key", "role": "admin"})
    t.ok(r.status == 201, "the key mints another admin key", r)
    k2 = d.client(r.json["key"])
    r = bea.post("/v1/api-keys", {"name": "bea's reader", "role": "learner"})
    k3 = d.client(r.json["key"])

    # Demoting the creator demotes her keys, at once.
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

    # Deleting the creator revokes her keys.
    cal = session("cal@acme.test")
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

    # Deactivating (PATCH active=false) suspends the keys as well.
    r = top.patch("/v1/users/" + users["bea"], {"active": False})
    t.ok(k1.get("/v1/users").is_problem(401),
         "a deactivated admin's key authenticates nothing")
    d.stop()


main(test)
