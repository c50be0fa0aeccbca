/*
 * exercise.h - matrix-multiply: the function learners implement.
 */
#ifndef EXERCISE_MATRIX_MULTIPLY_H
#define EXERCISE_MATRIX_MULTIPLY_H

#include <stddef.h>

/*
 * Compute C = A * B for n x n matrices stored row-major (element (i, j) of
 * A is A[i * n + j]), using up to `threads` threads.
 *
 * - A and B are read-only; C is output only (its contents on entry are
 *   meaningless).  The three arrays do not overlap.
 * - n may be 0; threads is between 1 and 64 and may be larger than n.
 * - Every thread you create must be joined before the function returns.
 */
void matmul(const double *A, const double *B, double *C, size_t n, int threads);

#endif
