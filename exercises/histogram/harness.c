/*
 * harness.c - trusted driver for histogram.
 *
 * Usage: prog --n N --seed S [--repeat R] --threads T
 * Builds n bytes with a skewed distribution from the seed, calls
 * histogram() R times on the same data (the benchmark repeats so that its
 * time is spent in the learner's code) and prints the 256 counts.  Every
 * call must produce the same counts.
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

/* Cheap hash: building the input must cost little next to counting it. */
static uint64_t mix64(uint64_t x)
{
	x *= 0x9e3779b97f4a7c15ULL;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ULL;
	x ^= x >> 32;
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
			n = parse_u64(argv[i + 1], 1ULL << 30);
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

	uint8_t *data = NULL;
	if (n > 0) {
		data = malloc(n);
		if (!data) {
			perror("malloc");
			return 3;
		}
		uint64_t s = seed;
		uint64_t k = splitmix64(&s);
		/*
		 * Eight bytes per hash.  AND-ing the hash with a rotation of
		 * itself sets each bit with probability 1/4, so small values
		 * are common and the histogram is far from flat: a solution
		 * that mixes up bins shows.
		 */
		for (uint64_t i = 0; i < n; i += 8) {
			uint64_t v = mix64((i >> 3) + k);
			v &= (v << 29) | (v >> 35);
			if (n - i >= 8) {
				memcpy(data + i, &v, 8);
			} else {
				for (uint64_t j = 0; i + j < n; j++)
					data[i + j] = (uint8_t)(v >> (8 * j));
			}
		}
	}

	work_starts();
	static uint64_t first[256], again[256];
	histogram(data, n, first, (int)threads);
	uint64_t total = 0;
	for (int v = 0; v < 256; v++)
		total += first[v];
	printf("n %" PRIu64 "\ntotal %" PRIu64 "\n", n, total);
	for (int v = 0; v < 256; v++)
		printf("%d %" PRIu64 "\n", v, first[v]);
	/* Before each further call, 64 bytes anywhere in the data get new
	   values: knowing which changed takes reading all of it, so counts
	   remembered from an earlier call save nothing. */
	uint64_t s = seed ^ 0x5bd1e995u;
	for (uint64_t r = 1; r < repeat; r++) {
		uint64_t d = 1469598103934665603ULL;
		for (int k = 0; k < 64 && n > 0; k++)
			data[splitmix64(&s) % n] = (uint8_t)splitmix64(&s);
		memset(again, 0, sizeof again);
		histogram(data, n, again, (int)threads);
		for (int v = 0; v < 256; v++)
			d = (d ^ again[v]) * 1099511628211ULL;
		printf("call %" PRIu64 " digest %016" PRIx64 "\n", r + 1, d);
	}
	free(data);
	return 0;
}
