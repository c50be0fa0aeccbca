# harness.py - prime-pool: places the range by the seed, marks the end of
# its setup for timed runs, calls count_primes once and prints the count.
import argparse

import cohort

p = argparse.ArgumentParser()
p.add_argument("--lo", type=int, required=True)
p.add_argument("--span", type=int, required=True)
p.add_argument("--shift", type=int, default=0)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

# Hidden inputs: the range moves by up to 100,000 per grading.
lo = a.lo + a.shift % 100000 if a.lo >= 0 else a.lo
hi = lo + a.span

sol = cohort.load()
cohort.work_starts()
n = sol.count_primes(lo, hi, a.threads)
if not isinstance(n, int) or isinstance(n, bool):
    cohort.fail("count_primes must return an int, not %s" % type(n).__name__)
cohort.emit("%d\n" % n)
