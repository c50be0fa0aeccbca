# reference.py - bank-threads: one lock per account, always taken in
# account order, so two transfers never wait on each other in a cycle;
# total() holds every lock at once for a consistent view.
import threading


class Bank:
    def __init__(self, balances):
        self._bal = list(balances)
        self._locks = [threading.Lock() for _ in self._bal]

    def transfer(self, src, dst, amount):
        first, second = sorted((src, dst))
        with self._locks[first]:
            with self._locks[second]:
                if self._bal[src] < amount:
                    return False
                self._bal[src] -= amount
                self._bal[dst] += amount
                return True

    def total(self):
        for lock in self._locks:
            lock.acquire()
        try:
            return sum(self._bal)
        finally:
            for lock in self._locks:
                lock.release()
