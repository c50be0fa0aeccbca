# starter.py - prime-pool: correct, in one process.  Spread the work over
# `workers` processes.


def is_prime(n):
    if n < 2:
        return False
    if n < 4:
        return True
    if n % 2 == 0 or n % 3 == 0:
        return False
    d = 5
    while d * d <= n:
        if n % d == 0 or n % (d + 2) == 0:
            return False
        d += 6
    return True


def count_primes(lo, hi, workers):
    return sum(1 for n in range(lo, hi) if is_prime(n))
