"""oavalidate.py - responses checked against the OpenAPI 3.0 document.

No third-party packages: a small validator for the subset of JSON Schema
that OpenAPI 3.0 uses in api/openapi.json (type, nullable, required,
properties, additionalProperties, items, enum, oneOf/anyOf/allOf,
minimum/maximum, minLength/maxLength, pattern, format date-time and uuid
lightly), $ref resolved within the document, and the operation lookup
that maps a method and a concrete path to its documented responses.
"""
import json
import re

_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _type_ok(v, t):
    if t == "object":
        return isinstance(v, dict)
    if t == "array":
        return isinstance(v, list)
    if t == "string":
        return isinstance(v, str)
    if t == "boolean":
        return isinstance(v, bool)
    if t == "integer":
        return (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, float) and v.is_integer())
    if t == "number":
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    return True


class Document:
    """An OpenAPI 3.0 document, loaded once.

    strict: an object schema that lists properties and says nothing of
    additionalProperties takes no others.  Responses are checked so: a
    field the server returns but the document does not name is drift,
    even though a client must tolerate new fields.
    """

    def __init__(self, doc, strict=True):
        self.doc = doc
        self.strict = strict
        self._ops = []
        for path, item in doc.get("paths", {}).items():
            parts = path.strip("/").split("/")
            rx = "^/" + "/".join(
                "[^/]+" if p.startswith("{") and p.endswith("}")
                else re.escape(p) for p in parts) + "$"
            # Literal segments win over templated ones (/v1/me/enrollments
            # against /v1/users/{id}): count templates, fewest first.
            nvar = sum(1 for p in parts if p.startswith("{"))
            for method, op in item.items():
                if method in ("get", "put", "post", "patch", "delete",
                              "head", "options"):
                    self._ops.append((nvar, re.compile(rx), method, path, op))
        self._ops.sort(key=lambda o: o[0])

    @classmethod
    def load(cls, filename, strict=True):
        with open(filename) as f:
            return cls(json.load(f), strict)

    def resolve(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("external $ref %s" % ref)
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            if seen > 50:
                raise ValueError("$ref loop at %s" % ref)
        return node

    def operation(self, method, path):
        """(template, operation) for a concrete path, or (None, None)."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        method = method.lower()
        for _, rx, m, tmpl, op in self._ops:
            if m == method and rx.match(path):
                return tmpl, op
        return None, None

    def path_known(self, path):
        path = path.split("?", 1)[0]
        return any(rx.match(path) for _, rx, _, _, _ in self._ops)

    # ---- schema validation -------------------------------------------

    def validate(self, value, schema, where="", errors=None, depth=0):
        """Append 'pointer: what' strings to errors; return errors."""
        if errors is None:
            errors = []
        if depth > 64:
            errors.append("%s: schema nests too deep" % (where or "/"))
            return errors
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or not schema:
            return errors
        at = where or "/"
        if value is None:
            if schema.get("nullable") or (
                    "enum" in schema and None in schema["enum"]):
                return errors
            if any(k in schema for k in ("oneOf", "anyOf", "allOf")) and \
                    "type" not in schema:
                pass  # let the combinators decide
            elif "type" in schema:
                errors.append("%s: null where %s is required (not nullable)"
                              % (at, schema["type"]))
                return errors
        t = schema.get("type")
        if t is not None and value is not None and not _type_ok(value, t):
            errors.append("%s: %s where %s is required"
                          % (at, type(value).__name__, t))
            return errors
        if "enum" in schema and value not in schema["enum"]:
            errors.append("%s: %r is not one of %r"
                          % (at, value, schema["enum"]))
        for sub in schema.get("allOf", []):
            self.validate(value, sub, where, errors, depth + 1)
        for key in ("oneOf", "anyOf"):
            if key in schema:
                fits = [s for s in schema[key]
                        if not self.validate(value, s, where, [], depth + 1)]
                if not fits:
                    errs = []
                    for s in schema[key]:
                        errs += self.validate(value, s, where, [], depth + 1)
                    errors.append("%s: matches none of %s (%s)"
                                  % (at, key, "; ".join(errs[:4])))
                elif key == "oneOf" and len(fits) > 1:
                    errors.append("%s: matches %d of oneOf, not one"
                                  % (at, len(fits)))
        if isinstance(value, dict):
            self._object(value, schema, where, errors, depth)
        elif isinstance(value, list):
            items = schema.get("items")
            if items is not None:
                for i, v in enumerate(value):
                    self.validate(v, items, "%s/%d" % (where, i), errors,
                                  depth + 1)
        elif isinstance(value, str):
            fmt = schema.get("format")
            if fmt == "date-time" and not _DATE_TIME.match(value):
                errors.append("%s: %r is not a date-time" % (at, value))
            if fmt == "uuid" and not _UUID.match(value):
                errors.append("%s: %r is not a uuid" % (at, value))
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errors.append("%s: %r does not match %s"
                              % (at, value, schema["pattern"]))
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                errors.append("%s: longer than %d" % (at, schema["maxLength"]))
            if "minLength" in schema and len(value) < schema["minLength"]:
                errors.append("%s: shorter than %d" % (at, schema["minLength"]))
        elif _type_ok(value, "number"):
            if "minimum" in schema and value < schema["minimum"]:
                errors.append("%s: %r below %r" % (at, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                errors.append("%s: %r above %r" % (at, value, schema["maximum"]))
        return errors

    def _object(self, value, schema, where, errors, depth):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append("%s: required property %r missing"
                              % (where or "/", name))
        extra = schema.get("additionalProperties",
                           not (self.strict and "properties" in schema))
        for name, v in value.items():
            ptr = "%s/%s" % (where, name.replace("~", "~0").replace("/", "~1"))
            if name in props:
                self.validate(v, props[name], ptr, errors, depth + 1)
            elif extra is False:
                errors.append("%s: property %r is not documented"
                              % (where or "/", name))
            elif isinstance(extra, dict):
                self.validate(v, extra, ptr, errors, depth + 1)

    # ---- responses -----------------------------------------------------

    def check_response(self, method, path, status, ctype, body):
        """Problems with one response, as a list of strings (empty: fine).

        ctype is the Content-Type header (None when absent); body the raw
        bytes.  Paths the document does not know are not checked here.
        """
        tmpl, op = self.operation(method, path)
        if op is None:
            return []
        name = "%s %s" % (method.upper(), tmpl)
        responses = op.get("responses", {})
        resp = responses.get(str(status))
        if resp is None:
            resp = responses.get("%dXX" % (status // 100))
        if resp is None:
            resp = responses.get("default")
        if resp is None:
            return ["%s: status %d is not documented (documented: %s)"
                    % (name, status, ", ".join(sorted(responses)))]
        resp = self.resolve(resp)
        content = resp.get("content")
        if not content:
            if body and status != 304:
                return ["%s %d: a body where the document declares none"
                        % (name, status)]
            return []
        mt = (ctype or "").split(";", 1)[0].strip().lower()
        if mt not in content:
            return ["%s %d: Content-Type %r, documented %s"
                    % (name, status, ctype, ", ".join(sorted(content)))]
        schema = content[mt].get("schema")
        if schema is None:
            return []
        if mt.endswith("json"):
            try:
                value = json.loads(body) if body else None
            except ValueError as e:
                return ["%s %d: body is not JSON: %s" % (name, status, e)]
        elif mt == "text/event-stream":
            return ["%s %d: %s" % (name, status, e) for e in
                    self._events(body, content[mt])]
        else:
            value = body.decode("utf-8", "replace") if isinstance(
                body, bytes) else body
        return ["%s %d: %s" % (name, status, e)
                for e in self.validate(value, schema)]

    def _events(self, body, media):
        """SSE: each event's data, as JSON, against the schema x-events
        names for its event type (an OpenAPI 3.0 extension: the standard
        has no way to describe a stream's events)."""
        kinds = media.get("x-events")
        if kinds is None:
            return []
        text = body.decode("utf-8", "replace") if isinstance(
            body, bytes) else body
        errors = []
        for n, block in enumerate(re.split(r"\r?\n\r?\n", text)):
            lines = block.splitlines()
            data = [ln[5:].lstrip(" ") for ln in lines
                    if ln.startswith("data:")]
            if not data:
                continue
            kind = "message"
            for ln in lines:
                if ln.startswith("event:"):
                    kind = ln[6:].strip()
            schema = kinds.get(kind)
            if schema is None:
                errors.append("event %d: type %r is not documented"
                              % (n, kind))
                continue
            try:
                value = json.loads("\n".join(data))
            except ValueError as e:
                errors.append("event %d: data is not JSON: %s" % (n, e))
                continue
            errors += ["event %d %s" % (n, e)
                       for e in self.validate(value, schema, "")]
        return errors
