/*
 * reference.c - histogram: instructor's solution.
 *
 * Each thread counts its own slice into private bins, then the caller adds
 * the private bins after joining.  Sharing one bins[] array (even with
 * atomics) would make the cores fight over the same cache lines on every
 * byte; private bins touch shared memory only 256 times per thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

struct part {
	const uint8_t *data;
	size_t lo, hi;
	uint64_t bins[256];
};

static void *count_part(void *arg)
{
	struct part *p = arg;
	/*
	 * Four sub-histograms break the dependency between consecutive equal
	 * bytes (increment, store, reload the same counter), which is what
	 * limits a single-table loop.
	 */
	uint32_t c[4][256];
	uint64_t acc[256];

	memset(acc, 0, sizeof acc);
	size_t i = p->lo;
	while (i < p->hi) {
		/* uint32_t counters: flush before they could overflow. */
		size_t stop = p->hi - i > ((size_t)1 << 30) ? i + ((size_t)1 << 30) : p->hi;
		memset(c, 0, sizeof c);
		for (; i + 4 <= stop; i += 4) {
			c[0][p->data[i]]++;
			c[1][p->data[i + 1]]++;
			c[2][p->data[i + 2]]++;
			c[3][p->data[i + 3]]++;
		}
		for (; i < stop; i++)
			c[0][p->data[i]]++;
		for (int v = 0; v < 256; v++)
			acc[v] += (uint64_t)c[0][v] + c[1][v] + c[2][v] + c[3][v];
	}
	memcpy(p->bins, acc, sizeof acc);
	return NULL;
}

void histogram(const uint8_t *data, size_t n, uint64_t bins[256], int threads)
{
	if (threads < 1)
		threads = 1;
	if ((size_t)threads > n)
		threads = n ? (int)n : 1;

	struct part *parts = calloc((size_t)threads, sizeof *parts);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!parts || !tid) {
		free(parts);
		free(tid);
		threads = 1;
		struct part all = { .data = data, .lo = 0, .hi = n };
		count_part(&all);
		for (int v = 0; v < 256; v++)
			bins[v] += all.bins[v];
		return;
	}

	for (int t = 0; t < threads; t++) {
		parts[t].data = data;
		parts[t].lo = n * (size_t)t / (size_t)threads;
		parts[t].hi = n * (size_t)(t + 1) / (size_t)threads;
	}
	int started = 1;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, count_part, &parts[t]) != 0)
			break;
		started++;
	}
	count_part(&parts[0]);
	for (int t = started; t < threads; t++)
		count_part(&parts[t]);	/* could not start a thread: do it here */
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);

	for (int t = 0; t < threads; t++)
		for (int v = 0; v < 256; v++)
			bins[v] += parts[t].bins[v];
	free(parts);
	free(tid);
}
