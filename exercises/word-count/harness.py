# harness.py - word-count: builds documents from the seed, marks the end of
# its setup for timed runs, calls word_count once and prints the counts of
# every word, sorted.
import argparse
import random

import cohort

p = argparse.ArgumentParser()
p.add_argument("--docs", type=int, required=True)
p.add_argument("--words", type=int, required=True)
p.add_argument("--vocab", type=int, default=2000)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--threads", type=int, default=1)
a = p.parse_args()

rng = random.Random(a.seed)
syll = ["ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "vu"]
vocab = ["".join(rng.choice(syll) for _ in range(rng.randrange(1, 5)))
         for _ in range(a.vocab)]
marks = ["", "", "", ",", ".", "!", "?", ";"]
docs = []
for _ in range(a.docs):
    ws = []
    for _ in range(a.words):
        w = vocab[int(rng.paretovariate(1.2)) % a.vocab]
        if rng.random() < 0.2:
            w = w.capitalize()
        ws.append(w + rng.choice(marks))
    docs.append(" ".join(ws))

sol = cohort.load()
cohort.work_starts()
counts = sol.word_count(docs, a.threads)
if not isinstance(counts, dict):
    cohort.fail("word_count must return a dict, not %s" %
                type(counts).__name__)
cohort.emit("".join("%s %d\n" % (w, counts[w]) for w in sorted(counts)))
