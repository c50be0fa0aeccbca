/*
 * harness.c - trusted driver for merge-sort.
 *
 * Usage: prog --n N --seed S [--pattern P] --threads T
 * P is random (default), sorted, reversed, few (many duplicates) or
 * organ (ascending then descending).  Builds the array from the seed, calls
 * parallel_sort() once, then checks the result itself: ascending order, and
 * the same multiset of values as before (compared through an
 * order-independent hash).  It prints the checks and a hash of the sorted
 * array.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exercise.h"

/*
 * The input is built: what follows is the work being timed.  A timed run
 * has fd 3 open and the grader times from this byte to the exit; other
 * runs do not, and the write fails harmlessly.  Called before the first
 * call into the learner's code.
 */
static void work_starts(void)
{
	(void)!write(3, "w", 1);
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void usage(void)
{
	fprintf(stderr, "usage: prog --n N --seed S [--pattern random|sorted|reversed|few|organ] --threads T\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, uint64_t max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		usage();
	return v;
}

/*
 * Sum of a hash of every value: equal for two arrays holding the same
 * multiset.  One multiply per value: the harness's own passes over the
 * array must stay cheap next to the sort.
 */
static uint64_t multiset_hash(const int64_t *a, size_t n)
{
	uint64_t h = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = (uint64_t)a[i];
		h += (v ^ (v >> 29)) * 0xbf58476d1ce4e5b9ULL;
	}
	return h;
}

int main(int argc, char **argv)
{
	uint64_t n = 0, seed = 1, threads = 0;
	const char *pattern = "random";

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--n"))
			n = parse_u64(argv[i + 1], 1ULL << 27);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse_u64(argv[i + 1], UINT64_MAX);
		else if (!strcmp(argv[i], "--pattern"))
			pattern = argv[i + 1];
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_u64(argv[i + 1], 64);
		else
			usage();
	}
	if (threads < 1)
		usage();

	int64_t *a = NULL;
	if (n > 0 && !(a = malloc(n * sizeof *a))) {
		perror("malloc");
		return 3;
	}
	uint64_t s = seed;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = splitmix64(&s);
		if (!strcmp(pattern, "random"))
			a[i] = (int64_t)r;
		else if (!strcmp(pattern, "sorted"))
			a[i] = (int64_t)i * 3 - (int64_t)n;
		else if (!strcmp(pattern, "reversed"))
			a[i] = (int64_t)(n - i) * 3;
		else if (!strcmp(pattern, "few"))
			a[i] = (int64_t)(r % 5) - 2;
		else if (!strcmp(pattern, "organ"))
			a[i] = (int64_t)(i < n / 2 ? i : n - i);
		else
			usage();
	}
	uint64_t before = multiset_hash(a, n);

	work_starts();
	parallel_sort(a, n, (int)threads);

	uint64_t descents = 0, hash = 0xcbf29ce484222325ULL;
	for (uint64_t i = 0; i < n; i++) {
		if (i > 0 && a[i - 1] > a[i])
			descents++;
		hash = (hash ^ (uint64_t)a[i]) * 0x100000001b3ULL;
	}
	printf("n %" PRIu64 "\n", n);
	printf("ascending %s\n", descents ? "no" : "yes");
	if (descents)
		printf("positions out of order %" PRIu64 "\n", descents);
	printf("same values %s\n", multiset_hash(a, n) == before ? "yes" : "no");
	printf("hash %016" PRIx64 "\n", hash);
	if (n > 0) {
		printf("first %" PRId64 "\n", a[0]);
		printf("middle %" PRId64 "\n", a[n / 2]);
		printf("last %" PRId64 "\n", a[n - 1]);
	}
	free(a);
	return 0;
}
