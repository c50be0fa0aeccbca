# harness.py - thread-pipeline: calls the learner's process_all with a
# blocking, I/O-like work function that counts the calls in flight; checks
# the bound on worker threads, the concurrency reached and the elapsed time
# against the simulated latency, and prints the results in order.
import argparse
import random
import threading
import time
import zlib

import cohort

p = argparse.ArgumentParser()
p.add_argument("--items", type=int, required=True)
p.add_argument("--latency-ms", type=int, default=20)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

rng = random.Random(a.seed)
items = [rng.randrange(10**6) for _ in range(a.items)]
delay = [a.latency_ms * rng.uniform(0.5, 1.5) / 1000.0 for _ in items]
lag = dict(zip(items, delay))
sleep = time.sleep
clock = cohort.clock
guard = threading.Lock()
state = {"now": 0, "peak": 0, "calls": 0}


def work(item):
    """Blocking, like a request: releases the GIL while it waits."""
    with guard:
        state["calls"] += 1
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
    try:
        sleep(lag.get(item, 0.01))
    finally:
        with guard:
            state["now"] -= 1
    return "%d:%08x" % (item, zlib.crc32(str(item).encode()))


sol = cohort.load()
t0 = clock()
res = sol.process_all(list(items), work, a.threads)
took = clock() - t0
if state["peak"] > a.threads:
    cohort.fail("%d calls of work ran at once with %d workers: use exactly "
                "`workers` threads" % (state["peak"], a.threads))
want = min(a.threads, a.items)
if a.items and state["peak"] < want:
    cohort.fail("at most %d call%s of work ran at once where %d could: the "
                "worker threads did not run in parallel" % (
                    state["peak"], "" if state["peak"] == 1 else "s", want))
total = sum(delay)
bound = 1.5 * (total / max(1, a.threads) + max(delay, default=0)) + 0.2
if took > bound:
    cohort.fail("%d items took %.2f s with %d workers; about %.2f s is "
                "possible: keep every worker busy until the queue is empty" %
                (a.items, took, a.threads, total / a.threads))
if state["calls"] != a.items:
    cohort.fail("work was called %d times for %d items: once per item" %
                (state["calls"], a.items))
if not isinstance(res, list):
    cohort.fail("process_all must return a list, not %s" % type(res).__name__)
cohort.emit("".join("%s\n" % r for r in res) + "count %d\n" % len(res))
