/*
 * exercise.h - prime-count: the function learners implement, and the
 * primality test the harness provides.
 */
#ifndef EXERCISE_PRIME_COUNT_H
#define EXERCISE_PRIME_COUNT_H

#include <stdint.h>

struct prime_stats {
	uint64_t count;	/* how many primes p with lo <= p < hi */
	uint64_t sum;	/* their sum, modulo 2^64 (plain unsigned overflow) */
};

/*
 * Provided by the harness: nonzero if x is prime.  It tests divisors up to
 * the square root of x, so it costs more for larger x (and much more for
 * primes than for most composites).  It is thread-safe.
 */
int is_prime(uint64_t x);

/*
 * Count and add up the primes p with lo <= p < hi, calling is_prime() for
 * the candidates, using up to `threads` threads.
 *
 * - lo may be equal to or greater than hi: the range is then empty.
 * - hi is at most 2^40.
 * - threads is between 1 and 64; it may be larger than the range.
 * - Every thread you create must be joined before the function returns.
 */
struct prime_stats count_primes(uint64_t lo, uint64_t hi, int threads);

#endif
