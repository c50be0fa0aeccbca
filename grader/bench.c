/*
 * bench.c - what the benchmark's rounds say: each kind of run's time, the
 * speedups, the points they earn and whether more rounds could change
 * them.  Arithmetic only; grade.c takes the rounds (bench_round()).
 *
 * Each kind's time is its fastest clean run that a second one confirms
 * (bench_fastest()).  Interference only ever adds time, and some of it no
 * counter shows: a virtual CPU that runs at half speed for a while (its
 * host's other tenants), with no steal and no waiting to account.  The
 * same program's serial run was seen at 350 and at 600 ms in one grading;
 * a median, or a ratio taken round by round, carries that into the grade,
 * the fastest pair of five does not.  A lone fast run (120 ms where the
 * same program's others took 137 to 169) is the host's luck, not the
 * program's speed, and would leave the other side short by as much.
 *
 * Five rounds are not always enough: beside four busy processes and a
 * second grader, a learner's parallel run was seen once at 116 ms and at
 * 160 to 177 ms in the other rounds, while the reference's stayed near
 * 117, and the grade read 22.7 of 30 for a program as fast as the
 * reference.  So a grading is settled only when the learner's runs at
 * their best (bench_settled()) would not move its points by more than
 * BENCH_SETTLE_PCT of the speedup's weight; until then rounds go on, for
 * both programs alike, and a grading still unsettled at the end is
 * provisional.  docs/GRADING.md has the measurements behind these numbers.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "grade-int.h"

static double
median(double *v, size_t n)
{
	for (size_t a = 1; a < n; a++)		/* insertion sort: n is small */
		for (size_t b = a; b > 0 && v[b - 1] > v[b]; b--) {
			double t = v[b];

			v[b] = v[b - 1];
			v[b - 1] = t;
		}
	if (n == 0)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Kind k's time: its fastest clean run that another clean run came
 * within BENCH_TWIN_PCT of (a lone lucky run, the host quiet for a
 * moment, is not the program's speed); with no such pair, the median.
 * 0: no clean run.
 */
double
bench_fastest(const struct round *rd, unsigned n, int k, double *tmp)
{
	unsigned m = 0;
	double mid;

	for (unsigned i = 0; i < n; i++)
		if (rd[i].ok[k])
			tmp[m++] = rd[i].ms[k];
	mid = median(tmp, m);		/* sorts tmp */
	for (unsigned i = 0; i + 1 < m; i++)
		if (tmp[i + 1] <= tmp[i] * (100 + BENCH_TWIN_PCT) / 100)
			return tmp[i];
	return mid;
}

/* Kind k's fastest clean run alone, twin or not; 0: none. */
static double
fastest_lone(const struct round *rd, unsigned n, int k)
{
	double v = 0;

	for (unsigned i = 0; i < n; i++)
		if (rd[i].ok[k] && (v == 0 || rd[i].ms[k] < v))
			v = rd[i].ms[k];
	return v;
}

/* How many runs of kind k were clean. */
static unsigned
clean_runs(const struct round *rd, unsigned n, int k)
{
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++)
		m += rd[i].ok[k];
	return m;
}

unsigned
bench_fewest_clean(const struct round *rd, unsigned n, int *kind)
{
	unsigned least = UINT_MAX;

	for (int k = 0; k < RUN_COUNT; k++) {
		unsigned m = clean_runs(rd, n, k);

		if (m < least) {
			least = m;
			*kind = k;
		}
	}
	return least;
}

double
bench_round_speedup(const struct round *r)
{
	return fmin((double)r->ms[RUN_REF1] / r->ms[RUN_LN],
	    (double)r->ms[RUN_L1] / r->ms[RUN_LN]);
}

/* The median over clean runs of kind k of the CPUs they kept busy. */
static double
cpus_median(const struct round *rd, unsigned n, int k, double *tmp)
{
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++)
		if (rd[i].ok[k])
			tmp[m++] = rd[i].cpus[k];
	return median(tmp, m);
}

void
bench_figures(const struct round *rd, unsigned n, double floor, bool lone,
    double *tmp, struct figures *g)
{
	memset(g, 0, sizeof(*g));
	for (int k = 0; k < RUN_COUNT; k++)
		g->f[k] = lone && k >= RUN_LN ? fastest_lone(rd, n, k) :
		    bench_fastest(rd, n, k, tmp);
	for (int k = 0; k < RUN_COUNT; k++)
		if (g->f[k] <= 0)
			return;
	g->ref_par = g->f[RUN_REF1] / g->f[RUN_REFN];
	/*
	 * The learner's speedup: over the reference's serial run, or over
	 * its own where that is faster than the reference's by more than
	 * the measurement's grain (BENCH_TWIN_PCT): a fast serial algorithm
	 * earns no speedup, two measurements of the same serial speed cost
	 * nothing.
	 */
	g->own = fmin(g->f[RUN_REF1], g->f[RUN_L1] * (100 + BENCH_TWIN_PCT) /
	    100) / g->f[RUN_LN];
	g->rel = g->own / g->ref_par;
	/*
	 * Neither may exceed the CPUs its parallel runs kept busy: a serial
	 * program keeps one busy, and the ratios of its runs are noise
	 * around 1, which must earn nothing (and a serial reference must not
	 * pass for a parallel one).
	 */
	g->cpus_ln = cpus_median(rd, n, RUN_LN, tmp);
	g->cpus_rn = cpus_median(rd, n, RUN_REFN, tmp);
	g->ref_par = fmin(g->ref_par, g->cpus_rn);
	g->med = fmin(g->own, g->cpus_ln);
	g->goal = fmax(floor, g->ref_par) * CREDIT_SHARE;
}

double
bench_points(double weight, double s, double goal)
{
	if (s < GRADE_SPEEDUP_FLOOR || goal <= 1)
		return 0;
	return weight * fmax(0, fmin(1, (s - 1) / (goal - 1)));
}

bool
bench_settled(const struct round *rd, unsigned n, double floor,
    double weight, double *tmp, struct figures *g, struct figures *best,
    double *spread)
{
	bench_figures(rd, n, floor, false, tmp, g);
	bench_figures(rd, n, floor, true, tmp, best);
	*spread = bench_points(weight, best->med, g->goal) -
	    bench_points(weight, g->med, g->goal);
	return *spread <= weight * BENCH_SETTLE_PCT / 100;
}
