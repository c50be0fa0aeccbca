/*
 * exercise.h - histogram: the function learners implement.
 */
#ifndef EXERCISE_HISTOGRAM_H
#define EXERCISE_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Count how often each byte value occurs in data[0..n-1], using up to
 * `threads` threads: on return bins[v] is the number of i with data[i] == v.
 *
 * - bins is all zeros on entry.
 * - n may be 0 (then data may be NULL).
 * - threads is between 1 and 64; it may be larger than n.
 * - Every thread you create must be joined before the function returns.
 */
void histogram(const uint8_t *data, size_t n, uint64_t bins[256], int threads);

#endif
