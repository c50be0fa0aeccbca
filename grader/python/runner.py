# runner.py - the trusted side of every Python run: started by the grader
# as the script, it arms the watchdogs, then runs the exercise's harness.py,
# which imports the learner's solution.py through the module "cohort".
#
#   python3 -I -S -B runner.py MODE WALL_MS ALLOWED harness.py [ARG]...
#
# MODE is "test", "race" (a tiny GIL switch interval) or "bench"; WALL_MS
# the run's wall limit, a little before which every thread's stack is
# dumped (a deadlock then shows where each thread waits); ALLOWED the
# comma-separated modules the solution may import (grader/python.c).
#
# What the solution may not touch is screened before it runs (screen.py).
# Here, everything the harness relies on is captured before the solution is
# imported and checked to be unchanged before a result is written; the
# result goes to a duplicate of stdout saved before the import, and the
# solution's own prints go to stderr.  Exit codes the grader reads:
# 68 the solution changed what the harness relies on, 69 it blocked the
# event loop, 70 the harness's own check failed (cohort.fail).
import sys
import os
import fcntl
import time
import builtins
import faulthandler
import threading
import linecache
import logging
import traceback
import asyncio
import types
import importlib.util
import importlib.abc

EXIT_TAMPER = 68
EXIT_BLOCKING = 69
EXIT_FAIL = 70
SOLUTION = "/box/solution.py"

# The functions the trusted side calls, held before any solution code runs.
_write = os.write
_exit = os._exit
_dup = os.dup
_dup2 = os.dup2
_perf = time.perf_counter
_sleep = time.sleep
_current_frames = sys._current_frames
_getframe = sys._getframe
_setswitch = sys.setswitchinterval
_getswitch = sys.getswitchinterval

mode, wall_ms, allowed_imports, harness = sys.argv[1:5]
wall = int(wall_ms) / 1000.0
sys.argv = [harness] + sys.argv[5:]

# The result travels on a private duplicate of stdout; fd 1 becomes stderr,
# so whatever the solution prints is seen as diagnostics, never as output.
# Above fd 3, which is the timed run's mark (closed in other runs, where a
# plain dup would land there and take the mark into the result).
_out_fd = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
_dup2(2, 1)

# A little before the sandbox's wall limit, every thread's stack, then exit:
# a deadlocked program shows where each thread waits.
faulthandler.dump_traceback_later(max(0.2, wall * 0.85 - 0.1), exit=True,
                                  file=sys.stderr)

_switch = _getswitch()
if mode == "race":
    # CPython switches threads only where it checks for a pending switch
    # (calls, loop back-edges), so "x += 1" alone is never interrupted and
    # races hide.  Tracing every opcode of solution.py runs a Python-level
    # call between any two of its opcodes, where a switch then may happen;
    # with a 1 microsecond interval one is always pending.  Harness and
    # library code run untraced.
    import random as _random
    _rng = _random.Random()
    _settrace = sys.settrace

    def _trace_op(frame, event, arg):
        if event == "opcode" and _rng.random() < 0.02:
            _sleep(0)
        return _trace_op

    def _trace(frame, event, arg):
        if frame.f_code.co_filename != SOLUTION:
            return None
        frame.f_trace_opcodes = True
        return _trace_op

    _setswitch(1e-6)
    _switch = _getswitch()
    _settrace(_trace)
    threading.settrace(_trace)

# Modules a solution may import (the grader gives the screen the same list).
ALLOWED = {m for m in allowed_imports.split(",") if m}


class _ImportPolicy(importlib.abc.MetaPathFinder):
    """Refuses, at run time, a module the solution's own code imports when
    the exercise does not allow it (the screen refuses it first)."""

    def find_spec(self, name, path=None, target=None):
        f = _getframe(1)
        while f is not None and f.f_code.co_filename.startswith("<frozen"):
            f = f.f_back
        if (f is not None and f.f_code.co_filename == SOLUTION and
                name.split(".")[0] not in ALLOWED):
            raise ImportError("solution.py may not import %s in this "
                              "exercise" % name)
        return None


sys.meta_path.insert(0, _ImportPolicy())

# What the harness relies on, by identity: changing any of it from the
# solution (which the screen already refuses) voids the run.
_GUARDED = [
    (sys, "setswitchinterval"), (sys, "getswitchinterval"),
    (time, "perf_counter"), (time, "monotonic"), (time, "sleep"),
    (time, "time"), (os, "write"), (builtins, "print"), (builtins, "len"),
    (builtins, "sorted"), (builtins, "sum"), (builtins, "isinstance"),
    (asyncio, "sleep"), (asyncio, "new_event_loop"), (asyncio, "gather"),
    (asyncio, "wait_for"), (threading, "Thread"), (threading, "Lock"),
    (logging, "getLogger"),
]
_saved = [(o, n, getattr(o, n)) for o, n in _GUARDED]


def _tampered():
    for o, n, v in _saved:
        if getattr(o, n, None) is not v:
            return "%s.%s" % (o.__name__, n)
    if _getswitch() != _switch:
        return "the thread switch interval"
    return None


def _die(code, message):
    _write(2, ("\ncohort: %s\n" % message).encode("utf-8", "replace"))
    _exit(code)


def _check_intact():
    what = _tampered()
    if what is not None:
        _die(EXIT_TAMPER, "the solution changed %s, which the harness "
             "relies on" % what)


def _solution_trace(exc):
    """The traceback, the solution's frames and the error line only."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename == SOLUTION]
    lines = ["  solution.py, line %d, in %s: %s" % (f.lineno, f.name,
             (f.line or "").strip()) for f in frames[-6:]]
    head = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return head + ("\n" + "\n".join(lines) if lines else "")


class _Cohort(types.ModuleType):
    """What a harness sees as "import cohort"."""

    def __init__(self):
        super().__init__("cohort")
        self.mode = mode
        self.race = mode == "race"
        self.bench = mode == "bench"
        self.solution = None
        self._emitted = False

    def load(self):
        """Import solution.py as the module "solution" and return it."""
        spec = importlib.util.spec_from_file_location("solution", SOLUTION)
        mod = importlib.util.module_from_spec(spec)
        sys.modules["solution"] = mod
        try:
            spec.loader.exec_module(mod)
        except BaseException as e:
            _die(1, "importing solution.py failed: " +
                 _solution_trace(e).replace("\n", " |"))
        _check_intact()
        self.solution = mod
        return mod

    def work_starts(self):
        """Mark the end of the setup for a timed run (fd 3), once."""
        try:
            _write(3, b"w")
        except OSError:
            pass

    def emit(self, text):
        """Write the run's result (the only thing compared)."""
        _check_intact()
        data = text.encode("utf-8")
        while data:
            n = _write(_out_fd, data)
            data = data[n:]
        self._emitted = True

    def fail(self, message):
        """The harness's own check failed: a wrong answer with message."""
        _check_intact()
        _die(EXIT_FAIL, message)

    def clock(self):
        return _perf()

    def waited(self):
        """Seconds the calling thread has waited for a CPU so far (0 where
        the kernel does not say): a harness bounding wall time subtracts
        what a busy host, not the solution, cost."""
        return _cpu_wait(threading.get_native_id()) or 0.0

    def run_async(self, factory, slow=0.1, deadline=None):
        """Run the coroutine factory() on a new event loop in debug mode.
        A callback that holds the loop longer than slow seconds ends the
        run (blocking_call), naming the solution's line that held it.
        After deadline seconds (if given) the coroutine is cancelled and
        TimeoutError raised: the harness says what was too slow."""
        return _run_async(factory, slow, deadline)


def _solution_line(frame):
    """The innermost frame of solution.py in frame's stack, as text."""
    while frame is not None:
        if frame.f_code.co_filename == SOLUTION:
            n = frame.f_lineno
            return "solution.py, line %d, in %s: %s" % (
                n, frame.f_code.co_name,
                linecache.getline(SOLUTION, n).strip())
        frame = frame.f_back
    return None


def _cpu_wait(ntid):
    """Seconds thread ntid has waited for a CPU so far (schedstat's
    run-queue time), or None where the kernel does not say."""
    try:
        with open("/proc/self/task/%d/schedstat" % ntid) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _run_async(factory, slow, deadline):
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = slow
    slow_log = []
    tid = threading.get_ident()
    ntid = threading.get_native_id()
    state = {"beat": _perf(), "wait": _cpu_wait(ntid), "where": None,
             "held": 0.0}
    stop = threading.Event()

    class Slow(logging.Handler):
        def emit(self, rec):
            msg = rec.getMessage()
            if msg.startswith("Executing ") and " took " in msg:
                slow_log.append(msg)

    log = logging.getLogger("asyncio")
    log.addHandler(Slow())
    log.setLevel(logging.WARNING)
    log.propagate = False

    def beat():
        state["beat"], state["wait"] = _perf(), _cpu_wait(ntid)
        loop.call_later(slow / 5, beat)

    def watch():
        # How long the loop's thread has held the loop since its last
        # beat, less the time it waited for a CPU (a busy host delays a
        # callback; only the callback's own doing counts), and the
        # solution's line that holds it.
        while not stop.is_set():
            _sleep(slow / 5)
            held = _perf() - state["beat"]
            w0, w1 = state["wait"], _cpu_wait(ntid)
            if w0 is not None and w1 is not None:
                held -= max(0.0, w1 - w0)
            if held > slow * 0.8 and held > state["held"]:
                state["held"] = held
                where = _solution_line(_current_frames().get(tid))
                if where is not None:
                    state["where"] = where

    w = threading.Thread(target=watch, name="cohort-loop-watch", daemon=True)
    w.start()
    loop.call_soon(beat)
    timed_out = False
    try:
        result = loop.run_until_complete(asyncio.wait_for(factory(),
                                                          deadline))
    except asyncio.TimeoutError:
        timed_out = True
    finally:
        stop.set()
    # The debug log times each callback by the wall clock; it counts only
    # where the watcher saw the loop held that long net of CPU waiting.
    if slow_log and state["held"] > slow * 0.8:
        took = slow_log[0] if slow_log else ""
        secs = took.rsplit(" took ", 1)[-1] if took else "%.3f seconds" % (
            state["held"])
        where = state["where"]
        if where is None and "running at " + SOLUTION in took:
            where = "solution.py, line " + took.split(
                "running at " + SOLUTION + ":", 1)[1].split(">")[0]
        _die(EXIT_BLOCKING, "the event loop was blocked for %s (more than "
             "%.3f s) at %s. A coroutine must not call blocking functions "
             "(time.sleep, CPU-heavy loops, blocking I/O): await "
             "asyncio.sleep or the awaitable versions, or move blocking work "
             "to loop.run_in_executor" % (secs.rstrip("."), slow,
                                           where or "an unknown line"))
    if timed_out:
        raise TimeoutError
    return result


cohort = _Cohort()
sys.modules["cohort"] = cohort

try:
    import runpy
    runpy.run_path(harness, run_name="__main__")
except SystemExit as e:
    if e.code not in (None, 0):
        sys.stderr.flush()
        _exit(e.code if isinstance(e.code, int) else 1)
except BaseException as e:
    sys.stderr.flush()
    _die(1, "an exception: " + _solution_trace(e).replace("\n", " |"))
_check_intact()
if not cohort._emitted:
    _die(1, "the harness wrote no result")
sys.stderr.flush()
# Threads the solution left running must not hold the result back.
_exit(0)
