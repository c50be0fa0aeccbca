# reference.py - prime-pool: trial division in worker processes, the range
# cut into many more chunks than workers so that none waits on another.
from concurrent.futures import ProcessPoolExecutor


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


def count_range(lo, hi):
    return sum(1 for n in range(lo, hi) if is_prime(n))


def count_primes(lo, hi, workers):
    if hi <= lo:
        return 0
    if workers <= 1:
        return count_range(lo, hi)
    pieces = workers * 8
    step = max(1, -(-(hi - lo) // pieces))
    bounds = [(a, min(a + step, hi)) for a in range(lo, hi, step)]
    with ProcessPoolExecutor(max_workers=workers) as ex:
        return sum(ex.map(count_range, *zip(*bounds)))
