# harness.py - async-fetch: builds URLs and simulated latencies from the
# seed, calls the learner's fetch_all through a fetch that counts the calls
# in flight, checks the bound, the concurrency reached and the elapsed time
# against the simulated latency, and prints the results in order.
import argparse
import asyncio
import random
import zlib

import cohort

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, required=True)
p.add_argument("--limit", type=int, required=True)
p.add_argument("--latency-ms", type=int, default=40)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

rng = random.Random(a.seed)
urls = ["https://api.example.test/items/%d" % rng.randrange(10**9)
        for _ in range(a.n)]
delay = {}
for u in urls:
    delay[u] = a.latency_ms * rng.uniform(0.5, 1.5) / 1000.0
sleep = asyncio.sleep
clock = cohort.clock
state = {"now": 0, "peak": 0, "calls": 0}


async def fetch(url):
    state["calls"] += 1
    state["now"] += 1
    state["peak"] = max(state["peak"], state["now"])
    try:
        await sleep(delay[url])
    finally:
        state["now"] -= 1
    return "%s %08x" % (url, zlib.crc32(url.encode()))


# The best schedule needs about sum/limit; finishing the slowest one adds
# at most the largest delay.  Half as much again covers a busy host.
total = sum(delay.values())
bound = 1.5 * (total / max(1, a.limit) + max(delay.values(), default=0)) + 0.15

sol = cohort.load()
t0, w0 = clock(), cohort.waited()
try:
    res = cohort.run_async(lambda: sol.fetch_all(list(urls), fetch, a.limit),
                           deadline=2 * bound + 0.5)
except TimeoutError:
    res = None
# What a busy host took from the loop is not the solution's doing.
took = clock() - t0 - (cohort.waited() - w0)

if state["peak"] > a.limit:
    cohort.fail("%d fetches were in flight at once, more than the limit of "
                "%d: start a fetch only when fewer than limit are running "
                "(asyncio.Semaphore, or limit worker tasks)" %
                (state["peak"], a.limit))
want = min(a.limit, a.n)
if a.n and state["peak"] < want:
    cohort.fail("at most %d fetch%s ran at once where %d could: the fetches "
                "ran %s; start up to limit of them before awaiting any "
                "(asyncio.gather, tasks, a semaphore)" % (
                    state["peak"], "" if state["peak"] == 1 else "es", want,
                    "one after another" if state["peak"] == 1 else
                    "in small groups"))
if took > bound:
    cohort.fail("%d fetches took %s%.2f s with limit %d; about %.2f s is "
                "possible: keep limit fetches in flight until all are done, "
                "not in batches that wait for their slowest" % (
                    a.n, "more than " if res is None else "", took, a.limit,
                    total / max(1, a.limit)))
if state["calls"] != a.n:
    cohort.fail("fetch was called %d times for %d URLs: call it once per "
                "URL" % (state["calls"], a.n))
if not isinstance(res, list):
    cohort.fail("fetch_all must return a list, not %s" % type(res).__name__)
cohort.emit("".join("%s\n" % r for r in res) + "count %d\n" % len(res))
