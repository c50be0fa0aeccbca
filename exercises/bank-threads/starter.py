# starter.py - bank-threads: right with one thread, unsafe with several.
# Make transfer and total safe to call from many threads at once.


class Bank:
    def __init__(self, balances):
        self._bal = list(balances)

    def transfer(self, src, dst, amount):
        if self._bal[src] < amount:
            return False
        self._bal[src] -= amount
        self._bal[dst] += amount
        return True

    def total(self):
        return sum(self._bal)
