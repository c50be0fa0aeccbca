# starter.py - thread-pipeline: right, one item at a time.  Use `workers`
# threads fed by a queue.


def process_all(items, work, workers):
    return [work(item) for item in items]
