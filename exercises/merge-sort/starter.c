/*
 * starter.c - merge-sort: your starting point.
 *
 * A correct serial merge sort.  Make it use `threads` threads (see
 * statement.md).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercise.h"

/* Sort a[0..n) using tmp[0..n) as scratch space. */
static void merge_sort(int64_t *a, int64_t *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	/* TODO: the two halves are independent: sort them in parallel. */
	merge_sort(a, tmp, h);
	merge_sort(a + h, tmp + h, n - h);

	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
	while (i < h)
		tmp[k++] = a[i++];
	while (j < n)
		tmp[k++] = a[j++];
	memcpy(a, tmp, n * sizeof *a);
}

void parallel_sort(int64_t *a, size_t n, int threads)
{
	(void)threads;
	if (n < 2)
		return;
	int64_t *tmp = malloc(n * sizeof *tmp);
	if (!tmp)
		abort();
	merge_sort(a, tmp, n);
	free(tmp);
}
