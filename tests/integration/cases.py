"""cases.py - an integration test file as named cases.

A test file declares its cases, in the order they run, with @case, and
what several cases stand on (a cluster, a daemon, tenants and users made
over HTTP) with @fixture; run() at its end runs them:

    @fixture
    def daemon():                 # built once per file, on first use
        pg = Postgres()
        return Cohortd(pg.url(pg.new_database()))

    @case
    def tenants(t):               # t is the file's TAP writer
        r = daemon().admin().get("/v1/tenants")
        t.ok(r.status == 200, "the platform admin lists tenants", r)

    run()

    python3 tests/integration/x.py            every case, in file order
    python3 tests/integration/x.py a b        cases a and b only (in file
                                              order), and the fixtures
                                              they use
    python3 tests/integration/x.py --list     the names of the cases

A case that raises is one failed assertion, "CASE: unexpected exception",
with its traceback as diagnostics, and the next case still runs.  A
fixture is built by the first case that calls it; if building it raises,
every case that uses it fails the same way.  A case needing state that
another case builds takes it from a fixture, never from having run after
that case, so each runs alone by name; a case that consumes shared state
(revokes the admin token, deactivates a fixture's user) says so and comes
after the cases that use it.  Output is TAP for automake's tap-driver,
from harness.TAP: the plan at the end, a "# case NAME" line before each.
"""
import functools
import sys
import traceback

from harness import TAP, Contract, Process

_cases = []


def case(fn):
    """Declare fn(t) a case of this file, named after the function."""
    _cases.append(fn)
    return fn


def fixture(fn):
    """fn() built once, on first call, and shared by every case after: the
    value it returns, or the exception it raised, again each time."""
    memo = []

    @functools.wraps(fn)
    def get():
        if not memo:
            try:
                memo.append((fn(), None))
            except Exception as e:  # noqa: BLE001 - each user reports it
                memo.append((None, e))
        value, err = memo[0]
        if err is not None:
            raise RuntimeError("fixture %s failed: %r" % (fn.__name__, err)) \
                from err
        return value
    return get


def run(argv=None):
    """Run the cases named in argv (sys.argv[1:]; none: all) as TAP."""
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--list"]:
        for fn in _cases:
            print(fn.__name__)
        return
    tap = TAP()
    Contract.tap = tap
    known = {fn.__name__ for fn in _cases}
    for name in argv:
        tap.ok(name in known, "a case named %s" % name,
               "cases: " + " ".join(fn.__name__ for fn in _cases))
    chosen = [fn for fn in _cases if not argv or fn.__name__ in argv]
    try:
        for fn in chosen:
            tap.diag("case " + fn.__name__)
            try:
                fn(tap)
            except Exception as e:  # noqa: BLE001 - report, go on
                tap.ok(False, "%s: unexpected exception: %r"
                       % (fn.__name__, e), traceback.format_exc())
    finally:
        Process.stop_all()
    tap.done()
