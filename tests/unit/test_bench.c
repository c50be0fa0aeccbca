/*
 * test_bench.c - the benchmark's arithmetic (grader/bench.c): each kind's
 * time, the speedups and points, and when more rounds are needed.  The
 * rounds are figures seen on busy hosts (docs/GRADING.md).
 */
#include <math.h>
#include <string.h>

#include "../../grader/grade-int.h"
#include "unit.h"

#define WEIGHT	30.0
#define FLOOR	1.2

/* n rounds from per-kind times; cpus: the parallel runs' CPUs. */
static void
rounds(struct round *rd, unsigned n, const unsigned *ref1,
    const unsigned *refn, const unsigned *ln, const unsigned *l1,
    double cpus_n)
{
	memset(rd, 0, n * sizeof(*rd));
	for (unsigned i = 0; i < n; i++) {
		rd[i].ms[RUN_REF1] = ref1[i];
		rd[i].ms[RUN_REFN] = refn[i];
		rd[i].ms[RUN_LN] = ln[i];
		rd[i].ms[RUN_L1] = l1[i];
		rd[i].cpus[RUN_REF1] = rd[i].cpus[RUN_L1] = 1;
		rd[i].cpus[RUN_REFN] = 1.9;
		rd[i].cpus[RUN_LN] = cpus_n;
		for (int k = 0; k < RUN_COUNT; k++)
			rd[i].ok[k] = true;
		rd[i].clean = true;
	}
}

START_TEST(fastest_needs_a_twin_and_a_clean_run)
{
	static const unsigned t[] = { 150, 137, 120, 169, 140 };
	struct round rd[5];
	double tmp[5];

	rounds(rd, 5, t, t, t, t, 1.9);
	/* 120 alone is luck; 137 has 140 within 10%. */
	ck_assert(fabs(bench_fastest(rd, 5, RUN_REF1, tmp) - 137) < 1e-9);
	/* A dirty run's time is not used. */
	rd[1].ok[RUN_REF1] = false;
	ck_assert(fabs(bench_fastest(rd, 5, RUN_REF1, tmp) - 140) < 1e-9);
	for (int i = 0; i < 5; i++)
		rd[i].ok[RUN_REF1] = false;
	ck_assert(bench_fastest(rd, 5, RUN_REF1, tmp) == 0);
}
END_TEST

START_TEST(points_start_at_the_floor_and_end_at_the_goal)
{
	ck_assert(bench_points(WEIGHT, 1.05, 1.5) == 0);
	ck_assert(fabs(bench_points(WEIGHT, 1.25, 1.5) - 15) < 1e-9);
	ck_assert(bench_points(WEIGHT, 1.5, 1.5) == WEIGHT);
	ck_assert(bench_points(WEIGHT, 3.0, 1.5) == WEIGHT);
	ck_assert(bench_points(WEIGHT, 3.0, 1.0) == 0);
}
END_TEST

START_TEST(a_steady_host_settles_in_the_first_rounds)
{
	static const unsigned r1[] = { 225, 230, 224, 240, 226 };
	static const unsigned rn[] = { 118, 121, 117, 125, 119 };
	static const unsigned ln[] = { 120, 117, 119, 126, 118 };
	static const unsigned l1[] = { 228, 226, 231, 236, 229 };
	struct round rd[5];
	struct figures g, best;
	double tmp[5], spread;

	rounds(rd, 5, r1, rn, ln, l1, 1.9);
	ck_assert(bench_settled(rd, 5, FLOOR, WEIGHT, tmp, &g, &best,
	    &spread));
	ck_assert(fabs(g.f[RUN_LN] - 117) < 1e-9);
	ck_assert(bench_points(WEIGHT, g.med, g.goal) == WEIGHT);
}
END_TEST

/*
 * CI, beside four busy processes and a second grader: the learner's
 * parallel run (the reference's own algorithm) once at 116 ms, then
 * 160 to 177.  Five rounds graded it 22.7 of 30; they must not settle.
 */
START_TEST(a_swinging_host_is_not_settled)
{
	static const unsigned r1[] = { 224, 226, 224, 225, 229 };
	static const unsigned rn[] = { 117, 119, 120, 117, 118 };
	static const unsigned ln[] = { 116, 160, 162, 165, 177 };
	static const unsigned l1[] = { 313, 320, 330, 315, 340 };
	struct round rd[8];
	struct figures g, best;
	double tmp[8], spread;

	rounds(rd, 5, r1, rn, ln, l1, 1.84);
	ck_assert(!bench_settled(rd, 5, FLOOR, WEIGHT, tmp, &g, &best,
	    &spread));
	ck_assert(bench_points(WEIGHT, g.med, g.goal) < WEIGHT * 0.8);
	ck_assert(spread > WEIGHT * BENCH_SETTLE_PCT / 100);
	/* Another round confirms the fast one: settled, full credit. */
	rounds(&rd[5], 1, (unsigned[]){ 224 }, (unsigned[]){ 118 },
	    (unsigned[]){ 121 }, (unsigned[]){ 230 }, 1.84);
	ck_assert(bench_settled(rd, 6, FLOOR, WEIGHT, tmp, &g, &best,
	    &spread));
	ck_assert(bench_points(WEIGHT, g.med, g.goal) == WEIGHT);
}
END_TEST

/*
 * A lone fast run stays the learner's best however many rounds follow:
 * such a grading never settles by itself.  bench_stage() makes it
 * provisional the first time and lets a rebench's measurement stand.
 */
START_TEST(a_lone_fast_run_keeps_it_unsettled)
{
	struct round rd[20];
	struct figures g, best;
	double tmp[20], spread;

	for (unsigned i = 0; i < 20; i++)
		rounds(&rd[i], 1, (unsigned[]){ 224 + i % 3 },
		    (unsigned[]){ 117 + i % 2 },
		    (unsigned[]){ i == 0 ? 116 : 160 + (i * 7) % 18 },
		    (unsigned[]){ 313 + i % 5 }, 1.84);
	ck_assert(!bench_settled(rd, 20, FLOOR, WEIGHT, tmp, &g, &best,
	    &spread));
	ck_assert(fabs(best.f[RUN_LN] - 116) < 1e-9);
}
END_TEST

/*
 * A serial program's lucky parallel run is no reason for more rounds:
 * it kept one CPU busy, and no speedup is credited beyond that.
 */
START_TEST(a_serial_program_settles_at_no_credit)
{
	static const unsigned r1[] = { 244, 250, 246, 260, 244 };
	static const unsigned rn[] = { 116, 120, 118, 125, 117 };
	static const unsigned ln[] = { 190, 226, 240, 228, 233 };
	static const unsigned l1[] = { 230, 236, 229, 241, 232 };
	struct round rd[5];
	struct figures g, best;
	double tmp[5], spread;

	rounds(rd, 5, r1, rn, ln, l1, 1.0);
	ck_assert(bench_settled(rd, 5, FLOOR, WEIGHT, tmp, &g, &best,
	    &spread));
	ck_assert(bench_points(WEIGHT, g.med, g.goal) == 0);
	ck_assert(bench_points(WEIGHT, best.med, best.goal) == 0);
}
END_TEST

START_TEST(fewest_clean_names_the_short_kind)
{
	static const unsigned t[] = { 100, 100, 100 };
	struct round rd[3];
	int kind = -1;

	rounds(rd, 3, t, t, t, t, 1.9);
	rd[0].ok[RUN_L1] = rd[2].ok[RUN_L1] = false;
	rd[1].ok[RUN_REFN] = false;
	ck_assert_uint_eq(bench_fewest_clean(rd, 3, &kind), 1);
	ck_assert_int_eq(kind, RUN_L1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("bench");

	tcase_add_test(tc, fastest_needs_a_twin_and_a_clean_run);
	tcase_add_test(tc, points_start_at_the_floor_and_end_at_the_goal);
	tcase_add_test(tc, a_steady_host_settles_in_the_first_rounds);
	tcase_add_test(tc, a_swinging_host_is_not_settled);
	tcase_add_test(tc, a_lone_fast_run_keeps_it_unsettled);
	tcase_add_test(tc, a_serial_program_settles_at_no_credit);
	tcase_add_test(tc, fewest_clean_names_the_short_kind);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
