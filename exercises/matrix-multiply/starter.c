/*
 * starter.c - matrix-multiply: your starting point.
 *
 * This version is correct but uses one thread.  Make it use `threads`
 * threads (see statement.md).
 */
#include <pthread.h>

#include "exercise.h"

void matmul(const double *A, const double *B, double *C, size_t n, int threads)
{
	(void)threads;	/* TODO: give each thread a share of the rows of C */

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			double sum = 0.0;
			for (size_t k = 0; k < n; k++)
				sum += A[i * n + k] * B[k * n + j];
			C[i * n + j] = sum;
		}
	}
}
