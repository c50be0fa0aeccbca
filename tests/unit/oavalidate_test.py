"""oavalidate_test.py - the response validator the integration harness uses
accepts what the document allows and rejects what it does not, so a
passing suite means something.  No daemon: a small document of its own,
then the real api/openapi.json for a few known bodies."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("COHORTD_SRCDIR") or os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))

from oavalidate import Document  # noqa: E402

n = 0
failed = 0


def ok(cond, name, diag=None):
    global n, failed
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond:
        failed += 1
        if diag:
            print("# %s" % diag)


def accepts(doc, value, schema, name):
    errs = doc.validate(value, schema)
    ok(not errs, "accepts " + name, errs)


def rejects(doc, value, schema, name, words=None):
    errs = doc.validate(value, schema)
    ok(errs and (words is None or words in " ".join(errs)),
       "rejects " + name, errs or "no error")


DOC = {
    "openapi": "3.0.3",
    "paths": {
        "/v1/things/{id}": {"get": {"responses": {
            "200": {"description": "x", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}},
            "404": {"$ref": "#/components/responses/Problem"}}}},
        "/v1/things/mine": {"get": {"responses": {
            "204": {"description": "none"}}}},
        "/v1/things/{id}/events": {"get": {"responses": {
            "200": {"description": "x", "content": {"text/event-stream": {
                "schema": {"type": "string"},
                "x-events": {"tick": {"type": "object",
                                      "required": ["n"],
                                      "properties": {"n": {
                                          "type": "integer"}}}}}}}}}},
    },
    "components": {
        "responses": {"Problem": {"description": "p", "content": {
            "application/problem+json": {"schema": {
                "$ref": "#/components/schemas/Problem"}}}}},
        "schemas": {
            "Problem": {"type": "object", "required": ["status"],
                        "properties": {"status": {"type": "integer"}}},
            "Thing": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "at", "kind", "tags", "note"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "at": {"type": "string", "format": "date-time"},
                    "kind": {"type": "string", "enum": ["a", "b"]},
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "note": {"type": "string", "nullable": True},
                    "n": {"type": "integer", "minimum": 0},
                    "either": {"oneOf": [{"type": "string"},
                                         {"type": "integer"}]},
                    "any": {"anyOf": [{"type": "boolean"},
                                      {"type": "number"}]},
                    "both": {"allOf": [
                        {"type": "object", "required": ["x"]},
                        {"type": "object", "required": ["y"]}]},
                    "map": {"type": "object", "additionalProperties": {
                        "type": "number"}},
                }},
        }},
}

d = Document(DOC)
thing = "#/components/schemas/Thing"
ref = {"$ref": thing}
good = {"id": "0b7e3c55-3f7b-4bd5-9d1a-6c9c1f0c2a11",
        "at": "2026-11-29T23:00:00Z", "kind": "a", "tags": ["x"],
        "note": None, "n": 3, "either": 1, "any": True,
        "both": {"x": 1, "y": 2}, "map": {"k": 1.5}}
accepts(d, good, ref, "a body that fits")


def bad(change, name, words=None):
    v = json.loads(json.dumps(good))
    change(v)
    rejects(d, v, ref, name, words)


bad(lambda v: v.pop("id"), "a missing required property", "missing")
bad(lambda v: v.update(extra=1), "an undocumented property",
    "not documented")
bad(lambda v: v.update(kind="c"), "a value outside the enum", "not one of")
bad(lambda v: v.update(id=None), "null where not nullable", "null")
bad(lambda v: v.update(tags="x"), "a string where an array is required",
    "array")
bad(lambda v: v.update(tags=[1]), "a wrong item type", "/tags/0")
bad(lambda v: v.update(n=True), "a boolean where an integer is required",
    "integer")
bad(lambda v: v.update(n=-1), "a number below its minimum", "below")
bad(lambda v: v.update(at="yesterday"), "a malformed date-time",
    "date-time")
bad(lambda v: v.update(id="42"), "a malformed uuid", "uuid")
bad(lambda v: v.update(either=1.5), "a value no oneOf branch takes",
    "oneOf")
bad(lambda v: v.update(any="s"), "a value no anyOf branch takes", "anyOf")
bad(lambda v: v["both"].pop("y"), "a value one allOf branch refuses",
    "missing")
bad(lambda v: v["map"].update(k="s"), "a bad additionalProperties value",
    "/map/k")
rejects(d, [good], ref, "an array where an object is required")
accepts(d, 3.0, {"type": "integer"}, "3.0 as an integer")
rejects(d, {"a": 1, "b": 2}, {"type": "object", "properties": {"a": {}}},
        "an undocumented property when strict (the default)", "'b'")
accepts(Document(DOC, strict=False), {"a": 1, "b": 2},
        {"type": "object", "properties": {"a": {}}},
        "an undocumented property when not strict")
accepts(d, {"a": 1, "b": 2}, {"type": "object"},
        "any property of a schema that lists none")

# Responses: status, content type, body; $ref'd responses; SSE data.
B = json.dumps(good).encode()
ok(not d.check_response("GET", "/v1/things/x", 200, "application/json", B),
   "accepts a documented response")
ok(d.check_response("GET", "/v1/things/x", 500, "application/json", B),
   "rejects an undocumented status")
ok(d.check_response("GET", "/v1/things/x", 200, "text/html", B),
   "rejects an undeclared Content-Type")
ok(d.check_response("GET", "/v1/things/x", 200, "application/json",
                    b"<html>"), "rejects a body that is not JSON")
ok(not d.check_response("GET", "/v1/things/x", 404,
                        "application/problem+json", b'{"status":404}'),
   "accepts a problem through a $ref'd response")
ok(d.check_response("GET", "/v1/things/x", 404, "application/problem+json",
                    b'{"title":"x"}'), "rejects a problem without status")
ok(not d.check_response("GET", "/v1/things/mine", 204, None, b""),
   "a literal path wins over a template")
ok(d.check_response("GET", "/v1/things/mine", 204, None, b"{}"),
   "rejects a body where none is declared")
ok(not d.check_response("GET", "/nowhere", 404, None, b""),
   "leaves unknown paths alone")
sse = b"id: 1\nevent: tick\ndata: {\"n\": 1}\n\n: keep-alive\n\n"
ok(not d.check_response("GET", "/v1/things/x/events", 200,
                        "text/event-stream", sse), "accepts good events")
ok(d.check_response("GET", "/v1/things/x/events", 200, "text/event-stream",
                    b"event: tick\ndata: {\"n\": \"1\"}\n\n"),
   "rejects an event with bad data")
ok(d.check_response("GET", "/v1/things/x/events", 200, "text/event-stream",
                    b"event: tock\ndata: {}\n\n"),
   "rejects an undocumented event type")

# The real document: a learner's quiz read and a problem.
real = Document.load(os.path.join(SRCDIR, "api", "openapi.json"))
ok(real.check_response("GET", "/v1/tenants/x", 200, "application/json",
                       b'{"id": 5}'), "the real document rejects a bad tenant")
ok(real.check_response("GET", "/v1/tenants", 418, "application/json",
                       b'{}'), "the real document rejects status 418")
ok(not real.check_response("GET", "/v1/tenants/x", 404,
                           "application/problem+json",
                           json.dumps({"type": "about:blank",
                                       "title": "Not Found", "status": 404,
                                       "detail": "no such tenant",
                                       "instance": "/v1/tenants/x"}).encode()),
   "the real document accepts a 404 problem")

quiz = {"id": "q1", "kind": "true_false", "prompt": "Is it?", "points": 1}
accepts(real, quiz, {"$ref": "#/components/schemas/Question"},
        "a learner's question: an id, no answer key")
rejects(real, dict(quiz, secret=1), {"$ref": "#/components/schemas/Question"},
        "a question with an undocumented field", "secret")
rejects(real, {"kind": "true_false", "prompt": "Is it?"},
        {"$ref": "#/components/schemas/QuestionWrite"},
        "a question to write without its answer", "answer")

print("1..%d" % n)
sys.exit(1 if failed else 0)
