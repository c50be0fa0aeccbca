/*
 * harness.c - trusted driver for prime-count.
 *
 * Usage: prog --lo L --hi H [--shift S] --threads T
 * Calls count_primes() once and prints the count and the sum.  The
 * primality test lives here, not in the learner's file, so every solution
 * pays the same price per candidate and the benchmark measures how well
 * the work is spread over the threads.
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

static void usage(void)
{
	fprintf(stderr, "usage: prog --lo L --hi H [--shift S] --threads T\n");
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

int is_prime(uint64_t x)
{
	if (x < 2)
		return 0;
	if (x < 4)
		return 1;
	if (x % 2 == 0 || x % 3 == 0)
		return 0;
	/* Candidates 6k-1 and 6k+1.  Below 2^40 every divisor fits in 32 bits. */
	for (uint64_t d = 5; d * d <= x; d += 6) {
		if (x % d == 0 || x % (d + 2) == 0)
			return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t lo = 0, hi = 0, threads = 0, shift = 0;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--lo"))
			lo = parse_u64(argv[i + 1], 1ULL << 40);
		else if (!strcmp(argv[i], "--hi"))
			hi = parse_u64(argv[i + 1], 1ULL << 40);
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_u64(argv[i + 1], 64);
		else if (!strcmp(argv[i], "--shift"))
			shift = parse_u64(argv[i + 1], UINT64_MAX) % 1000003;
		else
			usage();
	}
	if (threads < 1)
		usage();
	/* Graded runs move the range by a hidden amount: no answer can be
	   known in advance. */
	lo += shift;
	hi += shift;

	work_starts();
	struct prime_stats st = count_primes(lo, hi, (int)threads);
	printf("range [%" PRIu64 ", %" PRIu64 ")\n", lo, hi);
	printf("count %" PRIu64 "\n", st.count);
	printf("sum %" PRIu64 "\n", st.sum);
	return 0;
}
