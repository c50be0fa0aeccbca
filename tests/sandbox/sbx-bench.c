/*
 * sbx-bench.c - per-run overhead of the sandbox: times, interleaved, a
 * bare fork+exec of PROG and "cohort-sandbox run -- PROG", and prints the
 * medians, their difference and their ratio.
 *
 *   sbx-bench RUNS COHORT-SANDBOX PROG
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall time of one fork+exec+wait of argv, in ms; exits on failure. */
static double
timed(char **argv)
{
	double t0 = now_ms();
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid == -1 || waitpid(pid, &status, 0) != pid || status != 0) {
		fprintf(stderr, "sbx-bench: %s failed\n", argv[0]);
		exit(1);
	}
	return now_ms() - t0;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	int runs = argc == 4 ? atoi(argv[1]) : 0;
	char *bare[] = { argc == 4 ? argv[3] : NULL, NULL };
	char *boxed[] = { argc == 4 ? argv[2] : NULL, "run", "--",
	    argc == 4 ? argv[3] : NULL, NULL };
	double *tb, *ts, mb, ms;

	if (runs < 1) {
		fprintf(stderr, "usage: sbx-bench RUNS COHORT-SANDBOX PROG\n");
		return 2;
	}
	tb = calloc((size_t)runs, sizeof(double));
	ts = calloc((size_t)runs, sizeof(double));
	if (tb == NULL || ts == NULL)
		return 1;
	/* Warm up caches and the slot's pooled network namespace. */
	timed(boxed);
	for (int i = 0; i < runs; i++) {
		tb[i] = timed(bare);
		ts[i] = timed(boxed);
	}
	mb = median(tb, runs);
	ms = median(ts, runs);
	printf("runs:               %d interleaved pairs\n", runs);
	printf("bare fork+exec:     %.3f ms median (%s)\n", mb, argv[3]);
	printf("cohort-sandbox run: %.3f ms median\n", ms);
	printf("overhead:           %.3f ms per run\n", ms - mb);
	printf("ratio:              %.1fx\n", ms / mb);
	return 0;
}
