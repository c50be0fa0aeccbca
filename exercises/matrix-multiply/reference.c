/*
 * reference.c - matrix-multiply: instructor's solution.
 *
 * Rows of C are independent, so each thread computes a contiguous band of
 * rows and nothing is shared but read-only A and B.  Inside a band the
 * loops run i-k-j: the innermost loop walks a row of B and a row of C
 * with stride 1, which the cache and the vectoriser both like, where the
 * textbook i-j-k order walks a column of B.  The k loop is cut into
 * blocks of KB rows of B (under 1 MB for the benchmark's size) so that a
 * block stays in the core's own cache while every row of the band uses
 * it; without that, each row streams all of B from memory and two cores
 * end up sharing the memory bandwidth instead of computing.
 */
#include <pthread.h>
#include <stdlib.h>

#include "exercise.h"

#define KB 128

struct band {
	const double *A, *B;
	double *C;
	size_t n, lo, hi;
};

static void *multiply_band(void *arg)
{
	const struct band *b = arg;
	size_t n = b->n;

	for (size_t i = b->lo; i < b->hi; i++)
		for (size_t j = 0; j < n; j++)
			b->C[i * n + j] = 0.0;
	for (size_t k0 = 0; k0 < n; k0 += KB) {
		size_t k1 = n - k0 > KB ? k0 + KB : n;
		for (size_t i = b->lo; i < b->hi; i++) {
			double *restrict c = b->C + i * n;
			for (size_t k = k0; k < k1; k++) {
				const double a = b->A[i * n + k];
				const double *restrict brow = b->B + k * n;
				for (size_t j = 0; j < n; j++)
					c[j] += a * brow[j];
			}
		}
	}
	return NULL;
}

void matmul(const double *A, const double *B, double *C, size_t n, int threads)
{
	if (threads < 1)
		threads = 1;
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;

	struct band *bands = calloc((size_t)threads, sizeof *bands);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!bands || !tid) {
		free(bands);
		free(tid);
		struct band all = { A, B, C, n, 0, n };
		multiply_band(&all);
		return;
	}
	for (int t = 0; t < threads; t++) {
		bands[t] = (struct band){ A, B, C, n,
			n * (size_t)t / (size_t)threads,
			n * (size_t)(t + 1) / (size_t)threads };
	}
	int started = 1;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, multiply_band, &bands[t]) != 0)
			break;
		started++;
	}
	multiply_band(&bands[0]);
	for (int t = started; t < threads; t++)
		multiply_band(&bands[t]);	/* could not start a thread: do it here */
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	free(bands);
	free(tid);
}
