/*
 * exercise.h - merge-sort: the function learners implement.
 */
#ifndef EXERCISE_MERGE_SORT_H
#define EXERCISE_MERGE_SORT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sort a[0..n-1] into ascending order, in place, using up to `threads`
 * threads.
 *
 * - n may be 0 (then a may be NULL).  Values may repeat.
 * - threads is between 1 and 64; it may be larger than n.
 * - You may allocate scratch memory (malloc) and must free it.
 * - Every thread you create must be joined before the function returns.
 */
void parallel_sort(int64_t *a, size_t n, int threads);

#endif
