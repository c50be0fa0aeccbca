/*
 * reference.c - merge-sort: instructor's solution.
 *
 * Fork-join merge sort.  The top of the recursion hands one half to a new
 * thread while the current thread sorts the other half, until the thread
 * budget is spent; below that, plain serial merge sort with insertion sort
 * for short runs.  The merges near the top are long and would be a serial
 * bottleneck, so they are parallel too: the output is cut where the first
 * half of the left run lands (found by binary search in the right run) and
 * each side merges its part in a different thread.  Threads only ever
 * write disjoint ranges of the array and the scratch buffer, and each
 * thread is joined before its output is read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

#define INSERTION_MAX 32
#define PAR_MERGE_MIN 8192

static void insertion_sort(int64_t *a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int64_t v = a[i];
		size_t j = i;
		while (j > 0 && a[j - 1] > v) {
			a[j] = a[j - 1];
			j--;
		}
		a[j] = v;
	}
}

/* Merge sorted x[0..nx) and y[0..ny) into out (which overlaps neither). */
static void merge(const int64_t *x, size_t nx, const int64_t *y, size_t ny, int64_t *out)
{
	size_t i = 0, j = 0, k = 0;
	while (i < nx && j < ny)
		out[k++] = y[j] < x[i] ? y[j++] : x[i++];
	memcpy(out + k, x + i, (nx - i) * sizeof *x);
	memcpy(out + k + (nx - i), y + j, (ny - j) * sizeof *y);
}

/* First index in y[0..ny) whose value is not less than v. */
static size_t lower_bound(const int64_t *y, size_t ny, int64_t v)
{
	size_t lo = 0, hi = ny;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (y[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct merge_job {
	const int64_t *x, *y;
	size_t nx, ny;
	int64_t *out;
	int threads;
};

static void *par_merge(void *arg);

static void par_merge_run(struct merge_job *m)
{
	if (m->threads < 2 || m->nx + m->ny < PAR_MERGE_MIN || m->nx == 0) {
		merge(m->x, m->nx, m->y, m->ny, m->out);
		return;
	}
	/* Split x at its middle, y where x's middle value would go. */
	size_t xm = m->nx / 2;
	size_t ym = lower_bound(m->y, m->ny, m->x[xm]);
	int lt = m->threads / 2;
	struct merge_job left = { m->x, m->y, xm, ym, m->out, lt };
	struct merge_job right = { m->x + xm, m->y + ym, m->nx - xm, m->ny - ym,
				   m->out + xm + ym, m->threads - lt };
	pthread_t tid;
	if (pthread_create(&tid, NULL, par_merge, &left) != 0) {
		merge(m->x, m->nx, m->y, m->ny, m->out);
		return;
	}
	par_merge_run(&right);
	pthread_join(tid, NULL);
}

static void *par_merge(void *arg)
{
	par_merge_run(arg);
	return NULL;
}

/*
 * Sort a[0..n) using tmp[0..n) as scratch.  If to_tmp, the sorted result
 * ends up in tmp instead of a.  Alternating the roles of the two buffers
 * level by level saves a copy per level.
 */
struct sort_job {
	int64_t *a, *tmp;
	size_t n;
	int to_tmp;
	int threads;
};

static void *sort_thread(void *arg);

static void sort_run(struct sort_job *s)
{
	int64_t *a = s->a, *tmp = s->tmp;
	size_t n = s->n;

	if (n <= INSERTION_MAX) {
		insertion_sort(a, n);
		if (s->to_tmp)
			memcpy(tmp, a, n * sizeof *a);
		return;
	}
	size_t h = n / 2;
	int lt = s->threads / 2;
	/* The halves must end up in the buffer we are not merging into. */
	struct sort_job left = { a, tmp, h, !s->to_tmp, lt > 0 ? lt : 1 };
	struct sort_job right = { a + h, tmp + h, n - h, !s->to_tmp,
				  s->threads - lt > 0 ? s->threads - lt : 1 };
	pthread_t tid;
	int forked = s->threads >= 2 && pthread_create(&tid, NULL, sort_thread, &left) == 0;
	if (!forked)
		sort_run(&left);
	sort_run(&right);
	if (forked)
		pthread_join(tid, NULL);

	const int64_t *src = s->to_tmp ? a : tmp;
	int64_t *dst = s->to_tmp ? tmp : a;
	struct merge_job m = { src, src + h, h, n - h, dst, s->threads };
	par_merge_run(&m);
}

static void *sort_thread(void *arg)
{
	sort_run(arg);
	return NULL;
}

void parallel_sort(int64_t *a, size_t n, int threads)
{
	if (n < 2)
		return;
	if (threads < 1)
		threads = 1;
	int64_t *tmp = malloc(n * sizeof *tmp);
	if (!tmp) {
		insertion_sort(a, n);	/* slow but correct */
		return;
	}
	struct sort_job s = { a, tmp, n, 0, threads };
	sort_run(&s);
	free(tmp);
}
