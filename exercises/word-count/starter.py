# starter.py - word-count: right, in one process.  Map over `workers`
# processes, then reduce.
from collections import Counter

STRIP = ".,;:!?\"'()"


def word_count(docs, workers):
    c = Counter()
    for doc in docs:
        for w in doc.split():
            w = w.strip(STRIP).lower()
            if w:
                c[w] += 1
    return dict(c)
