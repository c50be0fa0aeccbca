#!/usr/bin/env python3
"""tests/unit/stmt_owner.py - every SQL statement is run only by the file that registers it.

Parses the C sources of api/ and daemon/: the names in each file's
struct db_stmt tables are that file's; any other file that names one of
them in a string literal uses another file's SQL (a function of the
owner should be called instead).  TAP output.
"""
import os
import re
import sys

SRC = os.environ.get("COHORTD_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
DIRS = ["api", "daemon"]

TABLE = re.compile(r"struct\s+db_stmt\s+\w+\s*\[\s*\]\s*=\s*\{")
ENTRY = re.compile(r"\{\s*\"([A-Za-z0-9_]+)\"\s*,")
STRING = re.compile(r"\"((?:[^\"\\\n]|\\.)*)\"")


def strip_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: re.sub(r"[^\n]", " ",
                  m.group(0)), text, flags=re.S)


def table_spans(text):
    """(start, end) of every struct db_stmt initializer in text."""
    spans = []
    for m in TABLE.finditer(text):
        depth, i = 1, m.end()
        while depth and i < len(text):
            ch = text[i]
            if ch == '"':
                i += 1
                while text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            i += 1
        spans.append((m.start(), i))
    return spans


def main():
    files = {}
    for d in DIRS:
        for name in sorted(os.listdir(os.path.join(SRC, d))):
            if name.endswith(".c") and not name.startswith("embedded-"):
                path = os.path.join(d, name)
                with open(os.path.join(SRC, path)) as f:
                    files[path] = strip_comments(f.read())
    owner = {}
    dup = []
    spans = {}
    for path, text in files.items():
        spans[path] = table_spans(text)
        for a, b in spans[path]:
            for m in ENTRY.finditer(text, a, b):
                if m.group(1) in owner and owner[m.group(1)] != path:
                    dup.append((m.group(1), owner[m.group(1)], path))
                owner[m.group(1)] = path
    tests = []
    tests.append(("statements found in struct db_stmt tables (%d)" %
                  len(owner), len(owner) > 100, []))
    tests.append(("no statement name registered by two files",
                  not dup, ["%s: %s and %s" % d for d in dup]))
    foreign = []
    for path, text in files.items():
        inside = spans[path]
        for m in STRING.finditer(text):
            if any(a <= m.start() < b for a, b in inside):
                continue
            name = m.group(1)
            if name in owner and owner[name] != path:
                line = text.count("\n", 0, m.start()) + 1
                foreign.append("%s:%d runs %s, registered in %s" %
                               (path, line, name, owner[name]))
    tests.append(("no file names a statement registered in another",
                  not foreign, foreign))
    print("1..%d" % len(tests))
    for i, (desc, ok, detail) in enumerate(tests, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        for d in detail:
            print("# " + d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
