# reference.py - word-count: map (each worker process counts whole
# documents), then reduce (the parent adds the partial counts).
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

STRIP = ".,;:!?\"'()"


def count_doc(docs):
    c = Counter()
    for doc in docs:
        for w in doc.split():
            w = w.strip(STRIP).lower()
            if w:
                c[w] += 1
    return c


def word_count(docs, workers):
    if workers <= 1 or len(docs) < 2:
        return dict(count_doc(docs))
    step = max(1, -(-len(docs) // (workers * 4)))
    parts = [docs[i:i + step] for i in range(0, len(docs), step)]
    total = Counter()
    with ProcessPoolExecutor(max_workers=workers) as ex:
        for c in ex.map(count_doc, parts):
            total.update(c)
    return dict(total)
