/*
 * harness.c - trusted driver for matrix-multiply.
 *
 * Usage: prog --n N --seed S --threads T
 * Fills A and B with small integers from the seed, calls matmul() once and
 * prints a summary of C.  Small integers keep every product and every
 * partial sum exactly representable in a double, so the result does not
 * depend on the order in which a solution adds terms: any correct solution
 * prints exactly the same text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exercise.h"

#define MAX_N 2048

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
	fprintf(stderr, "usage: prog --n N --seed S --threads T\n");
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
 * An entry of a correct C is an integer of magnitude at most 64 * n; turn
 * it into one, or report that it is not (NaN, fraction, garbage).
 */
static int as_integer(double x, int64_t *out)
{
	if (!(x >= -1e15 && x <= 1e15))	/* also false for NaN */
		return 0;
	int64_t v = (int64_t)x;
	if ((double)v != x)
		return 0;
	*out = v;
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t n = 0, seed = 1, threads = 0;

	for (int i = 1; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--n"))
			n = parse_u64(argv[i + 1], MAX_N);
		else if (!strcmp(argv[i], "--seed"))
			seed = parse_u64(argv[i + 1], UINT64_MAX);
		else if (!strcmp(argv[i], "--threads"))
			threads = parse_u64(argv[i + 1], 64);
		else
			usage();
	}
	if (threads < 1)
		usage();

	size_t nn = (size_t)(n * n);
	double *A = malloc((nn ? nn : 1) * sizeof *A);
	double *B = malloc((nn ? nn : 1) * sizeof *B);
	double *C = malloc((nn ? nn : 1) * sizeof *C);
	if (!A || !B || !C) {
		perror("malloc");
		return 3;
	}
	uint64_t s = seed;
	for (size_t i = 0; i < nn; i++)
		A[i] = (double)((int)(splitmix64(&s) % 17) - 8);	/* -8..8 */
	for (size_t i = 0; i < nn; i++)
		B[i] = (double)((int)(splitmix64(&s) % 17) - 8);
	/* Poison C: a solution that leaves entries unwritten must not pass. */
	for (size_t i = 0; i < nn; i++)
		C[i] = 0.5;

	work_starts();
	matmul(A, B, C, (size_t)n, (int)threads);

	/*
	 * Summary: trace, total, a position-dependent hash of every entry and
	 * the row sums of the first and last rows.  Small matrices are
	 * printed in full.
	 */
	uint64_t hash = 0xcbf29ce484222325ULL, bad = 0;
	int64_t trace = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int64_t v;
			if (!as_integer(C[i * n + j], &v)) {
				bad++;
				v = INT64_MIN;
			} else {
				total += v;
				if (i == j)
					trace += v;
			}
			hash = (hash ^ (uint64_t)v) * 0x100000001b3ULL;
		}
	}
	printf("n %" PRIu64 "\n", n);
	printf("trace %" PRId64 "\n", trace);
	printf("total %" PRId64 "\n", total);
	printf("hash %016" PRIx64 "\n", hash);
	if (bad)
		printf("entries that are not integers: %" PRIu64 "\n", bad);
	if (n > 0 && n <= 8) {
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < n; j++)
				printf(j ? " %g" : "%g", C[i * n + j]);
			printf("\n");
		}
	}
	free(A);
	free(B);
	free(C);
	return 0;
}
