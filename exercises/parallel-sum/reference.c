/*
 * reference.c - parallel-sum: instructor's solution.
 *
 * Each thread sums its own contiguous slice into a local variable and
 * writes the partial sum to its own slot; the caller adds the slots after
 * joining.  No thread writes memory another thread touches, so no locks
 * are needed.
 */
#include <pthread.h>
#include <stdlib.h>

#include "exercise.h"

struct slice {
	const int32_t *a;
	size_t lo, hi;
	int64_t sum;
};

static void *sum_slice(void *arg)
{
	struct slice *s = arg;
	int64_t acc = 0;	/* local: no sharing inside the hot loop */

	for (size_t i = s->lo; i < s->hi; i++)
		acc += s->a[i];
	s->sum = acc;
	return NULL;
}

int64_t sum_array(const int32_t *a, size_t n, int threads)
{
	if (threads < 1)
		threads = 1;
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;

	struct slice *sl = calloc((size_t)threads, sizeof *sl);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!sl || !tid) {
		free(sl);
		free(tid);
		struct slice all = { a, 0, n, 0 };
		sum_slice(&all);
		return all.sum;
	}

	for (int t = 0; t < threads; t++) {
		sl[t].a = a;
		sl[t].lo = n * (size_t)t / (size_t)threads;
		sl[t].hi = n * (size_t)(t + 1) / (size_t)threads;
	}
	/* The calling thread takes slice 0 itself. */
	int started = 1;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, sum_slice, &sl[t]) != 0)
			break;
		started++;
	}
	sum_slice(&sl[0]);
	for (int t = started; t < threads; t++)
		sum_slice(&sl[t]);	/* could not start a thread: do it here */

	int64_t total = sl[0].sum;
	for (int t = 1; t < threads; t++) {
		if (t < started)
			pthread_join(tid[t], NULL);
		total += sl[t].sum;
	}
	free(sl);
	free(tid);
	return total;
}
