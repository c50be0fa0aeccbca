"""tenancy.py - the cross-tenant probe: for every route with an id in the
OpenAPI document (which a unit test holds equal to the route table), a
caller from tenant B addressing tenant A's object gets 404, exactly as for
an id that does not exist, and A's object is unchanged.  A route added
without an entry here makes this test fail.  Cases run alone by name:
python3 tests/integration/tenancy.py listings"""
import time
import types
import uuid

from cases import case, fixture, run
from harness import Cohortd, Postgres, login, setup_tenant, PW


def world(d, slug):
    """A tenant with one of everything; returns clients and ids."""
    adm = setup_tenant(d, slug)
    w = {"admin": adm}
    w["user"] = adm.post("/v1/users", {"email": "lee@%s.test" % slug,
                                       "name": "Lee", "role": "learner",
                                       "password": PW}).json["id"]
    w["instructor"] = adm.post("/v1/users", {"email": "ida@%s.test" % slug,
                                             "name": "Ida",
                                             "role": "instructor",
                                             "password": PW}).json["id"]
    w["api_key"] = adm.post("/v1/api-keys", {"name": "k",
                                             "role": "admin"}).json["id"]
    w["program"] = adm.post("/v1/programs", {"title": "P",
                                             "status": "published"}).json["id"]
    w["module"] = adm.post("/v1/programs/%s/modules" % w["program"],
                           {"title": "M"}).json["id"]
    w["lesson"] = adm.post("/v1/modules/%s/lessons" % w["module"],
                           {"title": "L", "estimated_minutes": 3}).json["id"]
    w["assessment"] = adm.post(
        "/v1/modules/%s/assessments" % w["module"],
        {"title": "Q", "kind": "quiz", "questions": [
            {"kind": "true_false", "prompt": "?", "answer": True}]}).json["id"]
    w["cohort"] = adm.post("/v1/cohorts", {
        "program_id": w["program"], "name": "C",
        "starts_at": "2026-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z",
        "instructors": [w["instructor"]]}).json["id"]
    w["enrollment"] = adm.post("/v1/cohorts/%s/enrollments" % w["cohort"],
                               {"user_id": w["user"]}).json["id"]
    w["tenant"] = None
    w["question"] = adm.get("/v1/assessments/" + w["assessment"]).json[
        "questions"][0]["id"]
    w["learner_c"] = login(d, slug, "lee@%s.test" % slug)
    w["exercise"] = adm.post("/v1/exercises/import",
                             {"catalog": "parallel-sum"}).json["id"]
    w["submission"] = w["learner_c"].post(
        "/v1/assessments/%s/submissions" % w["assessment"],
        {"answers": [True]}).json["id"]
    w["instructor_c"] = login(d, slug, "ida@%s.test" % slug)
    # An event that never comes here (no graders verify): nothing is
    # delivered, so nothing of A's changes behind the probe's back.
    w["webhook"] = adm.post("/v1/webhooks", {
        "url": "http://127.0.0.1:9/%s" % slug,
        "events": ["exercise.rejected"]}).json["id"]
    w["report_job"] = adm.post("/v1/reports/jobs", {
        "report": "roster", "cohort_id": w["cohort"]}).json["id"]
    # Done before the probe starts: its runner writes A's rows.
    for _ in range(300):
        if adm.get("/v1/reports/jobs/" + w["report_job"]).json.get(
                "state") == "done":
            break
        time.sleep(0.05)
    return w


# Route pattern -> which of A's objects its {id} names.  Routes of the
# platform administrator only (no tenant caller may use them) map to None.
PROBE = {
    "/v1/tenants/{id}": None,
    "/v1/users/{id}": "user",
    "/v1/users/{id}/invitation": "user",
    "/v1/api-keys/{id}": "api_key",
    "/v1/programs/{id}": "program",
    "/v1/programs/{id}/modules": "program",
    "/v1/programs/{id}/modules/order": "program",
    "/v1/modules/{id}": "module",
    "/v1/modules/{id}/lessons": "module",
    "/v1/modules/{id}/assessments": "module",
    "/v1/lessons/{id}": "lesson",
    "/v1/lessons/{id}/completion": "lesson",
    "/v1/assessments/{id}": "assessment",
    "/v1/assessments/{id}/submissions": "assessment",
    "/v1/assessments/{id}/extensions": "assessment",
    "/v1/cohorts/{id}": "cohort",
    "/v1/cohorts/{id}/late-policy": "cohort",
    "/v1/cohorts/{id}/enrollments": "cohort",
    "/v1/cohorts/{id}/enrollments/batch": "cohort",
    "/v1/cohorts/{id}/progress": "cohort",
    "/v1/enrollments/{id}/withdraw": "enrollment",
    "/v1/exercises/{id}": "exercise",
    "/v1/exercises/{id}/starter": "exercise",
    "/v1/exercises/{id}/verify": "exercise",
    "/v1/submissions/{id}": "submission",
    "/v1/submissions/{id}/events": "submission",
    "/v1/reports/cohorts/{id}/roster": "cohort",
    "/v1/reports/cohorts/{id}/gradebook": "cohort",
    "/v1/reports/cohorts/{id}/completion": "cohort",
    "/v1/reports/cohorts/{id}/engagement": "cohort",
    "/v1/reports/cohorts/{id}/missing": "cohort",
    "/v1/reports/exercises/{id}": "exercise",
    "/v1/reports/assessments/{id}/items": "assessment",
    "/v1/assessments/{id}/regrade": "assessment",
    "/v1/reports/jobs/{id}": "report_job",
    "/v1/reports/jobs/{id}/result": "report_job",
    "/v1/reviews/{id}/answer": "question",
    "/v1/webhooks/{id}": "webhook",
    "/v1/webhooks/{id}/deliveries": "webhook",
    "/v1/webhooks/{id}/test": "webhook",
}

# A plausible body per route, so that only the tenant boundary can refuse.
BODIES = {
    "/v1/reviews/{id}/answer": {"answer": True},
    "/v1/users/{id}": {"name": "hijacked"},
    "/v1/programs/{id}": {"title": "hijacked"},
    "/v1/programs/{id}/modules": {"title": "hijacked"},
    "/v1/modules/{id}": {"title": "hijacked"},
    "/v1/modules/{id}/lessons": {"title": "x", "estimated_minutes": 1},
    "/v1/modules/{id}/assessments": {"title": "x", "kind": "quiz",
                                     "questions": []},
    "/v1/lessons/{id}": {"title": "hijacked"},
    "/v1/assessments/{id}": {"title": "hijacked"},
    "/v1/assessments/{id}/submissions": {"answers": [True]},
    "/v1/cohorts/{id}": {"name": "hijacked"},
    "/v1/cohorts/{id}/late-policy": {"percent_per_day": 50, "floor": 0},
    "/v1/cohorts/{id}/enrollments": {"email": "x@b.test", "name": "X"},
    "/v1/cohorts/{id}/enrollments/batch": [{"email": "x@b.test",
                                            "name": "X"}],
    "/v1/exercises/{id}": {"title": "hijacked"},
    "/v1/webhooks/{id}": {"description": "hijacked"},
}


def snapshot(pg, db):
    """Every tenant-owned row of tenant A, as text."""
    tables = pg.psql("SELECT c.relname FROM pg_class c JOIN pg_attribute a "
                     "ON a.attrelid = c.oid WHERE c.relkind = 'r' AND "
                     "a.attname = 'tenant_id' AND c.relnamespace = "
                     "'public'::regnamespace AND c.relname NOT IN "
                     "('audit_events', 'credentials') ORDER BY 1", db)
    out = {}
    for tbl in tables.split():
        out[tbl] = pg.psql("SELECT md5(coalesce(string_agg(x::text, ',' "
                           "ORDER BY x::text), '')) FROM %s x WHERE "
                           "tenant_id = (SELECT id FROM tenants WHERE "
                           "slug = 'alpha')" % tbl, db)
    return out


@fixture
def tenants():
    """The daemon, tenants alpha (A) and beta (B) with one of everything,
    and the OpenAPI document it serves (doc)."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.db = w.pg.new_database()
    # API only: no graders needed to probe the boundary.
    # Endpoints on loopback (never reached: nothing listens there).
    w.d = d = Cohortd(w.pg.url(w.db), env={
        "COHORTD_ROLE": "api", "COHORTD_WEBHOOK_ALLOW": "127.0.0.1"})
    w.A = world(d, "alpha")
    w.B = world(d, "beta")
    w.doc = d.client().get("/v1/openapi.json").json
    return w


@case
def coverage(t):
    doc = tenants().doc
    missing = [p for p in doc["paths"] if "{id}" in p and p not in PROBE]
    t.ok(not missing, "the probe covers every route with an id", missing)


@case
def probe(t):
    w = tenants()
    pg, db, A, B, doc = w.pg, w.db, w.A, w.B, w.doc
    before = snapshot(pg, db)
    callers = {"admin": B["admin"], "instructor": B["instructor_c"],
               "learner": B["learner_c"]}
    for path in sorted(PROBE):
        kind = PROBE[path]
        if kind is None or path not in doc["paths"]:
            continue
        for method, op in sorted(doc["paths"][path].items()):
            roles = [x for x in op["x-roles"] if x in callers]
            body = BODIES.get(path) if method != "get" else None
            if method in ("put",) and path.endswith("/order"):
                body = [A["module"]]
            if path.endswith("/extensions"):
                body = {"user_id": A["user"], "cohort_id": A["cohort"],
                        "extra_attempts": 1}
            for role in roles:
                url = path.replace("{id}", A[kind])
                r = callers[role].request(method.upper(), url, body=body)
                fake = callers[role].request(
                    method.upper(), path.replace("{id}", str(uuid.uuid4())),
                    body=body)
                t.ok(r.is_problem(404) and fake.status == 404 and
                     r.json["title"] == fake.json["title"],
                     "%s %s as B's %s: 404, as for a missing id"
                     % (method.upper(), path, role), (r, fake))
    t.eq(snapshot(pg, db), before, "tenant A's rows are all unchanged")


@case
def report_jobs(t):
    w = tenants()
    A, B = w.A, w.B
    # A report job names its subject in the body: A's cohort is as unknown
    # to B as a made-up one.
    for ident in (A["cohort"], str(uuid.uuid4())):
        r = B["admin"].post("/v1/reports/jobs", {"report": "gradebook",
                                                 "cohort_id": ident})
        t.ok(r.is_problem(422) and r.json["errors"][0]["pointer"] ==
             "/cohort_id", "B cannot ask for a report on %s cohort" %
             ("A's" if ident == A["cohort"] else "a made-up"), r)


@case
def listings(t):
    w = tenants()
    A, B = w.A, w.B
    # And listings never leak: B's lists hold none of A's ids.
    a_ids = {v for k, v in A.items() if isinstance(v, str)}
    for path in ("/v1/users", "/v1/api-keys", "/v1/programs", "/v1/cohorts",
                 "/v1/exercises", "/v1/reports/jobs",
                 "/v1/audit-events", "/v1/cohorts/%s/enrollments" % B["cohort"]):
        r = B["admin"].get(path + ("&" if "?" in path else "?") + "limit=500")
        t.ok(r.status == 200 and not (a_ids & {x.get("id") for x in
                                               r.json["items"]}),
             "GET %s as B shows nothing of A" % path.split("/")[2], r)


run()
