# harness.py - rate-limiter: many tasks share one RateLimiter and call
# acquire() before each simulated request; the harness records when each
# acquire returned, checks that no window of `per` seconds saw more than
# `rate` of them, that the whole was not much slower than the rate allows,
# and prints how many requests each task made.
import argparse
import asyncio
import random

import cohort

p = argparse.ArgumentParser()
p.add_argument("--tasks", type=int, required=True)
p.add_argument("--requests", type=int, required=True)
p.add_argument("--rate", type=int, required=True)
p.add_argument("--per-ms", type=int, required=True)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

rng = random.Random(a.seed)
per = a.per_ms / 1000.0
# Requests spread over the tasks unevenly, drawn per grading.
share = [0] * a.tasks
for _ in range(a.requests):
    share[rng.randrange(a.tasks)] += 1
clock = cohort.clock
sleep = asyncio.sleep
stamps = []
done = [0] * a.tasks

sol = cohort.load()


async def main():
    lim = sol.RateLimiter(a.rate, per)

    async def task(k):
        for _ in range(share[k]):
            await lim.acquire()
            stamps.append(clock())
            done[k] += 1
            await sleep(0.001)	# the request itself

    await asyncio.gather(*(task(k) for k in range(a.tasks)))

t0, w0 = clock(), cohort.waited()
try:
    cohort.run_async(main, deadline=3 * (a.requests / a.rate + 1) * per + 1)
except TimeoutError:
    cohort.fail("%d requests at %d per %d ms did not finish in time: "
                "acquire() must let a caller through as soon as the window "
                "allows" % (a.requests, a.rate, a.per_ms))
# What a busy host took from the loop is not the solution's doing.
took = clock() - t0 - (cohort.waited() - w0)
stamps.sort()
# Grace for when each task got to note its stamp after acquire() let it
# through: on a busy host the loop runs late, by some ms, and unevenly.
# A tenth of the window still catches a limiter that lets bursts through
# (a fixed window passes twice the rate within a few ms).
grace = max(0.002, per / 10)
for i in range(a.rate, len(stamps)):
    if stamps[i] - stamps[i - a.rate] < per - grace:
        cohort.fail("%d requests passed within %.0f ms, more than the "
                    "rate of %d per %d ms" % (a.rate + 1,
                                              (stamps[i] - stamps[i - a.rate])
                                              * 1000, a.rate, a.per_ms))
need = max(0, (a.requests - 1) // a.rate) * per
if took > 1.6 * need + 0.25:
    cohort.fail("%d requests took %.2f s where the rate allows %.2f s: "
                "callers waited longer than the limit requires" % (
                    a.requests, took, need))
cohort.emit("".join("task %d: %d\n" % (k, d) for k, d in enumerate(done)))
