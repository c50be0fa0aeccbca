"""fuzz.py - a bounded, seeded fuzzer over every operation the OpenAPI
document (GET /v1/openapi.json) describes: random and malformed bodies,
query values and path ids.  No answer may be a 5xx, and every 4xx must be
an RFC 7807 problem document (application/problem+json with type, title,
status and detail).

COHORTD_FUZZ_SEED picks the seed (default 15) and COHORTD_FUZZ_SECONDS
the time budget (default 35); the failing request is printed with the
seed so that a run can be repeated.  Cases run alone by name: python3
tests/integration/fuzz.py operations"""
import json
import os
import random
import re
import time
import types
import uuid

from cases import case, fixture, run
from harness import PW, Cohortd, Postgres, token_for

SEED = int(os.environ.get("COHORTD_FUZZ_SEED", "15"))
BUDGET = float(os.environ.get("COHORTD_FUZZ_SECONDS", "35"))
ROUNDS = 60

JUNK_STRINGS = ["", " ", "x", "%ff", "\u00ff", "\u0000", "\ud7ff", "..",
                "../../etc/passwd", "'; DROP TABLE users; --", "a/b~c",
                "2026-13-45T00:00:00Z", "-1", "0", "1e309", "NaN", "null",
                "true", "00000000-0000-0000-0000-000000000000",
                "ffffffff-ffff-ffff-ffff-ffffffffffff", "x" * 300,
                "\u202e\u0301", "=HYPERLINK(\"x\")", "\t\r\n"]
RAW_QUERY = ["%ff", "%00", "%c3%28", "%e2%82", "%ed%a0%80", "%f4%90%80%80",
             "%", "%zz", "+", "%2F", "a%00b"]
RAW_PATH = ["%ff", "%00", "x", "1", "-1", "%c3%28", "%2e%2e", "a" * 200,
            "00000000-0000-0000-0000-00000000000g", "%20"]


def setup(d):
    """A tenant with an admin, an instructor and a learner, and a few
    objects, so that some path ids are real.  Returns tokens and ids."""
    a = d.admin()
    r = a.post("/v1/tenants", {"slug": "fuzz", "name": "Fuzz",
                               "admin": {"email": "admin@fuzz.test",
                                         "name": "Admin", "password": PW}})
    assert r.status == 201, r
    tenant = r.json["id"]

    def login(email):
        return token_for(d, "fuzz", email)
    tok = {"platform": d.token, "admin": login("admin@fuzz.test")}
    adm = d.client(tok["admin"])
    ids = {"tenants": [tenant]}
    for role in ("instructor", "learner"):
        r = adm.post("/v1/users", {"email": "%s@fuzz.test" % role,
                                   "name": role, "role": role, "password": PW})
        assert r.status == 201, r
        ids.setdefault("users", []).append(r.json["id"])
        tok[role] = login("%s@fuzz.test" % role)
    r = adm.post("/v1/programs", {"title": "Fuzzed"})
    ids["programs"] = [r.json["id"]]
    r = adm.post("/v1/programs/%s/modules" % ids["programs"][0],
                 {"title": "M"})
    ids["modules"] = [r.json["id"]]
    r = adm.post("/v1/modules/%s/lessons" % ids["modules"][0],
                 {"title": "L", "body": "text", "estimated_minutes": 5})
    ids["lessons"] = [r.json["id"]]
    r = adm.post("/v1/cohorts", {"program_id": ids["programs"][0],
                                 "name": "C", "starts_at":
                                 "2026-01-05T09:00:00Z", "ends_at":
                                 "2026-03-05T09:00:00Z"})
    ids["cohorts"] = [r.json["id"]]
    return tok, ids


def resolve(doc, obj):
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 20:
        node = doc
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        obj = node
        seen += 1
    return obj if isinstance(obj, dict) else {}


def value_for(doc, schema, rnd, depth=0):
    """A value that may or may not suit schema: mostly plausible, often
    of the wrong type, sometimes hostile."""
    schema = resolve(doc, schema)
    roll = rnd.random()
    if roll < 0.25 or depth > 2:
        return rnd.choice([None, True, -1, 2 ** 63, 1.5, [], {},
                           rnd.choice(JUNK_STRINGS), [rnd.choice(JUNK_STRINGS)],
                           {"a/b~c": 1}])
    t = schema.get("type")
    if "enum" in schema and roll < 0.6:
        return rnd.choice(schema["enum"])
    if t == "string":
        fmt = schema.get("format")
        if fmt == "uuid" and roll < 0.6:
            return str(uuid.uuid4())
        if fmt == "date-time" and roll < 0.6:
            return rnd.choice(["2026-02-29T00:00:00Z", "2026-01-01T00:00:00Z",
                               "2026-01-01T25:00:00Z", "0000-01-01T00:00:00Z",
                               "9999-12-31T23:59:60+23:59"])
        return rnd.choice(JUNK_STRINGS + ["ok", "admin", "quiz", "c"])
    if t == "integer":
        return rnd.choice([0, 1, -1, 7, 100, 2 ** 31, -(2 ** 63), 10 ** 30])
    if t == "number":
        return rnd.choice([0, 0.5, -1e308, 1e308, 3])
    if t == "boolean":
        return rnd.choice([True, False])
    if t == "array":
        return [value_for(doc, schema.get("items", {}), rnd, depth + 1)
                for _ in range(rnd.randint(0, 3))]
    props = schema.get("properties")
    if t == "object" or props:
        return body_for(doc, schema, rnd, depth + 1)
    return rnd.choice(JUNK_STRINGS)


def body_for(doc, schema, rnd, depth=0):
    schema = resolve(doc, schema)
    props = schema.get("properties") or {}
    out = {}
    for k, s in props.items():
        if rnd.random() < 0.6:
            out[k] = value_for(doc, s, rnd, depth)
    if rnd.random() < 0.15:
        out[rnd.choice(["a/b~c", "", "~", "\u00e9", "x" * 100])] = 1
    return out


def raw_body(doc, op, rnd):
    """(bytes, content type) for a request body, often malformed."""
    schema = {}
    content = resolve(doc, op.get("requestBody", {})).get("content", {})
    if "application/json" in content:
        schema = content["application/json"].get("schema", {})
    roll = rnd.random()
    if roll < 0.55:
        return json.dumps(body_for(doc, schema, rnd)).encode(), \
            "application/json"
    return rnd.choice([
        (b"", "application/json"),
        (b"{", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b'{"a":"\xed\xa0\x80"}', "application/json"),
        (b"[1,2,3]", "application/json"),
        (b"null", "application/json"),
        (b'{"a":1,"a":2}', "application/json"),
        (b"\x00" * 16, "application/json"),
        (b"[" * 5000 + b"]" * 5000, "application/json"),
        (b"email,name\n", "text/csv"),
        (b"a=b", "application/x-www-form-urlencoded"),
        (json.dumps(value_for(doc, schema, rnd)).encode(), "application/json"),
        (b"{}", None),
    ])


def path_for(template, ids, rnd):
    def sub(m):
        if rnd.random() < 0.3:
            return rnd.choice(RAW_PATH)
        kind = template.strip("/").split("/")
        kind = kind[1] if len(kind) > 1 and kind[0] == "v1" else kind[0]
        if kind == "reports":
            kind = template.strip("/").split("/")[2]
        if kind in ids and rnd.random() < 0.6:
            return rnd.choice(ids[kind])
        return str(uuid.uuid4())
    return re.sub(r"\{[^}]+\}", sub, template)


def query_for(doc, params, rnd):
    parts = []
    for p in params:
        p = resolve(doc, p)
        if p.get("in") != "query" or rnd.random() < 0.4:
            continue
        roll = rnd.random()
        if roll < 0.3:
            v = rnd.choice(RAW_QUERY)
        else:
            val = value_for(doc, p.get("schema", {}), rnd)
            if isinstance(val, bool):
                val = "true" if val else "false"
            v = "" if val is None else str(val)
            v = "".join(c if (c.isascii() and c.isalnum()) or c in "-._~"
                        else
                        "".join("%%%02X" % b for b in c.encode("utf-8",
                                                                "surrogatepass"))
                        for c in v)
        parts.append("%s=%s" % (p["name"], v))
    if rnd.random() < 0.1:
        parts.append(rnd.choice(["bogus=1", "%ff=1", "=", "&&", "a"]))
    return ("?" + "&".join(parts)) if parts else ""


def check(r):
    """Why r breaks the rules, or None."""
    if r.status >= 500:
        return "a %d" % r.status
    if 400 <= r.status < 500:
        ct = r.header("content-type")
        if ct != "application/problem+json":
            return "a %d as %s" % (r.status, ct)
        try:
            j = json.loads(r.body)
        except ValueError:
            return "a %d whose body is not JSON" % r.status
        if not (isinstance(j, dict) and j.get("status") == r.status and
                isinstance(j.get("type"), str) and
                isinstance(j.get("title"), str) and
                isinstance(j.get("detail"), str)):
            return "a %d without the RFC 7807 members" % r.status
    return None


@fixture
def world():
    """The daemon, the fuzz tenant's tokens and ids (setup), and the
    OpenAPI document it serves."""
    w = types.SimpleNamespace()
    w.pg = Postgres()
    w.dbname = w.pg.new_database()
    w.d = Cohortd(w.pg.url(w.dbname), env={"COHORTD_WORKERS": "1",
                                           "COHORTD_BODY_LIMIT": "256K"})
    w.tok, w.ids = setup(w.d)
    w.doc = w.d.client().get("/v1/openapi.json").json
    return w


@case
def operations(t):
    # One case: the fuzzing is one seeded sequence of requests, and the
    # daemon's being up is checked after all of them.
    w = world()
    d, tok, ids, doc = w.d, w.tok, w.ids, w.doc
    rnd = random.Random(SEED)
    t.diag("seed %d, budget %.0f s" % (SEED, BUDGET))
    clients = {role: d.client(v) for role, v in tok.items()}
    clients["anon"] = d.client()
    ops = []
    for path, item in sorted(doc["paths"].items()):
        for method, op in sorted(item.items()):
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append((path, method, op, item.get("parameters", [])))
    ops = [o for o in ops if o[0] != "/v1/auth/logout"]  # ends sessions
    start = time.time()
    total, bad, rounds = 0, [], 0
    # Round-robin, so that a slow host still reaches every operation.
    while rounds < ROUNDS and time.time() - start < BUDGET:
        for path, method, op, shared in ops:
            roles = [x for x in op.get("x-roles", ["admin"]) if x in clients]
            p = path_for(path, ids, rnd)
            if path.endswith("/events"):
                p = path.replace("{id}", str(uuid.uuid4()))  # a stream
            q = query_for(doc, list(shared) + op.get("parameters", []), rnd)
            who = rnd.choice(roles) if roles and rnd.random() < 0.85 \
                else "anon"
            c = clients[who]
            body = ctype = None
            if method in ("post", "put", "patch"):
                body, ctype = raw_body(doc, op, rnd)
            try:
                r = c.request(method.upper(), p + q, raw=body, ctype=ctype)
            except Exception as e:  # noqa: BLE001 - a dropped connection
                bad.append("%s %s%s as %s: %r" % (method.upper(), p, q, who, e))
                c.close()
                continue
            total += 1
            why = check(r)
            if why:
                bad.append("%s %s%s as %s body %r: %s: %r" % (
                    method.upper(), p, q, who, (body or b"")[:120], why, r))
        rounds += 1
    took = time.time() - start
    t.ok(rounds >= 5, "each of %d operations fuzzed %d times in %.1f s"
         % (len(ops), rounds, took))
    t.ok(not bad, "%d requests: no 5xx, every 4xx a problem document"
         % total, "seed %d\n" % SEED + "\n".join(bad[:20]))
    r = d.client().get("/healthz")
    t.ok(r.status == 200, "the daemon is still up", r)


run()
