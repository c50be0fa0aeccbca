# reference.py - thread-pipeline: a bounded queue of (index, item) fed by
# this thread, `workers` threads taking from it until each finds a stop
# marker, results written to their own slots (no two threads share one).
import queue
import threading

STOP = object()


def process_all(items, work, workers):
    tasks = queue.Queue(maxsize=2 * workers)
    results = [None] * len(items)

    def worker():
        while True:
            job = tasks.get()
            if job is STOP:
                return
            i, item = job
            results[i] = work(item)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for job in enumerate(items):
        tasks.put(job)
    for _ in threads:
        tasks.put(STOP)
    for t in threads:
        t.join()
    return results
