# harness.py - bank-threads: many threads call Bank.transfer at once.
# Phase 1: transfers that can all succeed in any order (every account holds
# at least what it sends), so the final balances are known exactly.
# Phase 2: threads race to draw on one account funded for exactly K
# transfers; exactly K may succeed.  Optional audits call total() during
# phase 1.  Prints the final balances' digest, the totals and K.
import argparse
import random
import threading
import zlib

import cohort

p = argparse.ArgumentParser()
p.add_argument("--accounts", type=int, required=True)
p.add_argument("--transfers", type=int, required=True)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--audits", type=int, default=0)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

rng = random.Random(a.seed)
n, T = a.accounts, a.threads
plans = [[] for _ in range(T)]
out = [0] * n
for i in range(a.transfers):
    s = rng.randrange(n)
    d = rng.randrange(n - 1)
    d += d >= s
    amt = rng.randrange(1, 100)
    plans[i % T].append((s, d, amt))
    out[s] += amt
start = [out[i] + rng.randrange(0, 50) for i in range(n)]
total0 = sum(start)
funded = rng.randrange(5, 40)		# phase 2: transfers that may succeed
Thread = threading.Thread
Barrier = threading.Barrier

sol = cohort.load()
bank = sol.Bank(list(start))
problems = []
go = Barrier(T + (1 if a.audits else 0))


def worker(plan):
    go.wait()
    for s, d, amt in plan:
        if bank.transfer(s, d, amt) is not True:
            problems.append("transfer(%d, %d, %d) did not return True "
                            "although the account held enough" % (s, d, amt))
            return


def auditor():
    go.wait()
    for _ in range(a.audits):
        t = bank.total()
        if t != total0:
            problems.append("total() returned %r while transfers ran; the "
                            "money in the bank is %d at every moment" %
                            (t, total0))
            return


ts = [Thread(target=worker, args=(plans[k],)) for k in range(T)]
if a.audits:
    ts.append(Thread(target=auditor))
for t in ts:
    t.start()
for t in ts:
    t.join()
if problems:
    cohort.fail(problems[0])
after1 = bank.total()

# The exact balances, read through the interface: each account in turn
# must send exactly what it should hold to the next, and not one more.
exp = list(start)
for plan in plans:
    for s, d, amt in plan:
        exp[s] -= amt
        exp[d] += amt
right = 0
for i in range(n - 1):
    ok = exp[i] == 0 or bank.transfer(i, i + 1, exp[i]) is True
    ok = bank.transfer(i, i + 1, 1) is False and ok
    right += ok
    exp[i + 1] += exp[i]
    if not ok:
        break		# the chain's later balances are unknown now

# Phase 2: everything sits in the last account; fund account 0 for exactly
# `funded` transfers of 7 and let every thread try to send 7 that often.
wins = [0] * T
if n >= 2 and right == n - 1:
    if bank.transfer(n - 1, 0, 7 * funded) is not True:
        cohort.fail("transfer(%d, 0, %d) returned False although account "
                    "%d held enough" % (n - 1, 7 * funded, n - 1))
    go2 = Barrier(T)

    def drain(k):
        go2.wait()
        for _ in range(funded):
            if bank.transfer(0, 1 + k % (n - 1), 7):
                wins[k] += 1

    ts = [Thread(target=drain, args=(k,)) for k in range(T)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if bank.transfer(0, 1, 1) is not False:
        cohort.fail("transfer from an empty account must return False")
cohort.emit("total %d\nbalances right %d of %d\nfunded transfers that "
            "succeeded %d of %d\ntotal after %d\n" % (
                after1, right, n - 1, sum(wins), funded, bank.total()))
