/*
 * harness.c - trusted driver for parallel-sum.
 *
 * Usage: prog --n N --seed S [--repeat R] --threads T
 * Builds n pseudo-random int32 values from the seed, calls sum_array() R
 * times and prints each sum; before each further call 64 elements drawn
 * from the seed change.  Repeating the call lets the benchmark spend its
 * time in the learner's code rather than in building the input; the
 * changes make each call's answer new.
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

/* Cheap integer hash: building the input must cost little next to summing it. */
static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

static void usage(void)
{
	fprintf(stderr, "usage: prog --n N --seed S [--repeat R] --threads T\n");
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

int main(int argc, char **argv)
{
	uint64_t n = 0, seed = 1, repeat = 1, threads = 0;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--n"))
			n = parse_u64(argv[i + 1], 1ULL << 28);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse_u64(argv[i + 1], UINT64_MAX);
		else if (!strcmp(argv[i], "--repeat"))
			repeat = parse_u64(argv[i + 1], 10000);
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_u64(argv[i + 1], 64);
		else
			usage();
	}
	if (threads < 1 || repeat < 1)
		usage();

	int32_t *a = NULL;
	if (n > 0) {
		a = malloc(n * sizeof *a);
		if (!a) {
			perror("malloc");
			return 3;
		}
		uint64_t s = seed;
		uint32_t k = (uint32_t)splitmix64(&s);
		for (uint64_t i = 0; i < n; i++)
			a[i] = (int32_t)mix32((uint32_t)i * 0x9e3779b1u + k);
	}

	work_starts();
	int64_t first = sum_array(a, n, (int)threads);
	printf("n %" PRIu64 "\nsum %" PRId64 "\n", n, first);
	/* Before each further call, 64 elements anywhere in the array get
	   new values: knowing which changed takes reading all of it, so an
	   answer remembered from an earlier call saves nothing. */
	uint64_t s = seed ^ 0x5bd1e995u;
	for (uint64_t r = 1; r < repeat; r++) {
		for (int k = 0; k < 64 && n > 0; k++)
			a[splitmix64(&s) % n] = (int32_t)splitmix64(&s);
		int64_t again = sum_array(a, n, (int)threads);
		printf("call %" PRIu64 " sum %" PRId64 "\n", r + 1, again);
	}
	free(a);
	return 0;
}
