/*
 * reference.c - prime-count: instructor's solution.
 *
 * Dynamic load balancing: the range is cut into small chunks and every
 * thread repeatedly claims the next unclaimed chunk with one atomic
 * fetch-and-add until none is left.  Candidates near the top of the range
 * cost more than those near the bottom, so cutting the range into
 * `threads` equal slices would leave the low slices' threads idle while
 * the top slice is still working.  Each thread accumulates privately and
 * the caller adds the results after joining.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "exercise.h"

#define CHUNK 4096	/* candidates per claim: small enough to balance, large enough that the counter is not contended */

struct shared {
	uint64_t lo, hi;
	atomic_uint_fast64_t next;	/* first candidate not yet claimed */
};

struct worker {
	struct shared *sh;
	struct prime_stats st;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	uint64_t count = 0, sum = 0;

	for (;;) {
		uint64_t start = atomic_fetch_add_explicit(&sh->next, CHUNK, memory_order_relaxed);
		if (start >= sh->hi)
			break;
		uint64_t end = sh->hi - start > CHUNK ? start + CHUNK : sh->hi;
		for (uint64_t x = start; x < end; x++) {
			if (is_prime(x)) {
				count++;
				sum += x;
			}
		}
	}
	w->st.count = count;
	w->st.sum = sum;
	return NULL;
}

struct prime_stats count_primes(uint64_t lo, uint64_t hi, int threads)
{
	struct prime_stats total = { 0, 0 };
	if (lo >= hi)
		return total;
	if (threads < 1)
		threads = 1;

	struct shared sh = { .lo = lo, .hi = hi };
	atomic_init(&sh.next, lo);
	struct worker *w = calloc((size_t)threads, sizeof *w);
	pthread_t *tid = calloc((size_t)threads, sizeof *tid);
	if (!w || !tid) {
		free(w);
		free(tid);
		struct worker one = { .sh = &sh };
		work(&one);
		return one.st;
	}
	int started = 1;
	for (int t = 0; t < threads; t++)
		w[t].sh = &sh;
	for (int t = 1; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, work, &w[t]) != 0)
			break;
		started++;
	}
	work(&w[0]);	/* the caller works too; it also picks up what unstarted threads would have done */
	for (int t = 1; t < started; t++)
		pthread_join(tid[t], NULL);
	for (int t = 0; t < started; t++) {
		total.count += w[t].st.count;
		total.sum += w[t].st.sum;
	}
	free(w);
	free(tid);
	return total;
}
