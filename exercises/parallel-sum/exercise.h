/*
 * exercise.h - parallel-sum: the function learners implement.
 */
#ifndef EXERCISE_PARALLEL_SUM_H
#define EXERCISE_PARALLEL_SUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Return a[0] + a[1] + ... + a[n-1], computed with up to `threads` threads.
 *
 * - n may be 0 (then a may be NULL and the result is 0).
 * - threads is between 1 and 64; it may be larger than n.
 * - The array is read-only; the sum always fits in an int64_t.
 * - Every thread you create must be joined before the function returns.
 */
int64_t sum_array(const int32_t *a, size_t n, int threads);

#endif
