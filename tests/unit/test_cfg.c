/* test_cfg.c - the configuration table: defaults, precedence, bounds. */
#include <string.h>

#include "daemon/cfg.h"
#include "common/err.h"
#include "common/log.h"
#include "unit.h"

static char err[512];

static int
load(char **argv, int argc, char **envp, int *argi)
{
	err[0] = '\0';
	return cfg_load(argc, argv, envp, argi, err, sizeof(err));
}

START_TEST(defaults)
{
	char *argv[] = { "cohortd", NULL };
	char *envp[] = { "PATH=/bin", NULL };
	int argi;

	ck_assert_int_eq(load(argv, 1, envp, &argi), 0);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8080");
	ck_assert_str_eq(cfg.database_url, "");
	ck_assert_str_eq(cfg.state_dir, "./var");
	ck_assert_int_eq(cfg.body_limit, 1024 * 1024);
	ck_assert_int_eq(cfg.log_level, LOG_LVL_INFO);
	ck_assert_int_gt(cfg_http_threads(), 0);
	ck_assert_int_eq(cfg.report_runners, 1);
	ck_assert_int_eq(cfg_db_pool_size(), cfg_http_threads() + 2 +
	    2 * cfg.report_runners);
	ck_assert_int_eq(argi, 1);
}
END_TEST

START_TEST(precedence)
{
	char *argv[] = { "cohortd", "--listen=0.0.0.0:9", "--http-threads", "3",
	    "rest", NULL };
	char *envp[] = { "COHORTD_LISTEN=1.2.3.4:5", "COHORTD_HTTP_THREADS=7",
	    "COHORTD_LOG_LEVEL=debug", "COHORTD_BODY_LIMIT=64K", NULL };
	int argi;

	ck_assert_int_eq(load(argv, 5, envp, &argi), 0);
	ck_assert_str_eq(cfg.listen, "0.0.0.0:9");
	ck_assert_int_eq(cfg.http_threads, 3);
	ck_assert_int_eq(cfg.log_level, LOG_LVL_DEBUG);
	ck_assert_int_eq(cfg.body_limit, 64 * 1024);
	ck_assert_int_eq(argi, 4);
}
END_TEST

START_TEST(rejects)
{
	char *argv[] = { "cohortd", NULL };
	char *bad_flag[] = { "cohortd", "--bogus=1", NULL };
	char *no_value[] = { "cohortd", "--listen", NULL };
	char *unknown[] = { "COHORTD_LISTN=x", NULL };
	char *range[] = { "COHORTD_MAX_CONNECTIONS=0", NULL };
	char *level[] = { "COHORTD_LOG_LEVEL=verbose", NULL };
	char *size[] = { "COHORTD_BODY_LIMIT=12Q", NULL };
	int argi;

	ck_assert_int_eq(load(argv, 1, unknown, &argi), CD_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "COHORTD_LISTN"));
	ck_assert_int_eq(load(argv, 1, range, &argi), CD_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "COHORTD_MAX_CONNECTIONS"));
	ck_assert_ptr_nonnull(strstr(err, "out of range"));
	ck_assert_int_eq(load(argv, 1, level, &argi), CD_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "COHORTD_LOG_LEVEL"));
	ck_assert_int_eq(load(argv, 1, size, &argi), CD_ERR_CONFIG);
	ck_assert_int_eq(load(bad_flag, 2, NULL, &argi), CD_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "--bogus"));
	ck_assert_int_eq(load(no_value, 2, NULL, &argi), CD_ERR_CONFIG);
}
END_TEST

/* Benchmark CPUs: a kernel-style CPU list, or empty for any. */
START_TEST(bench_cpus)
{
	char *argv[] = { "cohortd", NULL };
	char *ok[] = { "cohortd", "--bench-cpus=0,2-3", NULL };
	char *good[] = { "COHORTD_BENCH_CPUS=1", NULL };
	const char *bad[] = { "a", "3-1", "1-", "1,", "-2", "1 2", "99999" };
	int argi;

	ck_assert_int_eq(load(argv, 1, NULL, &argi), 0);
	ck_assert_str_eq(cfg.bench_cpus, "");
	ck_assert_int_eq(load(argv, 1, good, &argi), 0);
	ck_assert_str_eq(cfg.bench_cpus, "1");
	ck_assert_int_eq(load(ok, 2, good, &argi), 0);
	ck_assert_str_eq(cfg.bench_cpus, "0,2-3");
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char env[64], *envp[2] = { env, NULL };

		snprintf(env, sizeof(env), "COHORTD_BENCH_CPUS=%s", bad[i]);
		ck_assert_int_eq(load(argv, 1, envp, &argi), CD_ERR_CONFIG);
		ck_assert_ptr_nonnull(strstr(err, "COHORTD_BENCH_CPUS"));
	}
}
END_TEST

START_TEST(dashdash)
{
	char *argv[] = { "cohortctl", "--workers=2", "--", "--not-a-flag", NULL };
	int argi;

	ck_assert_int_eq(load(argv, 4, NULL, &argi), 0);
	ck_assert_int_eq(cfg.workers, 2);
	ck_assert_int_eq(argi, 3);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, precedence);
	tcase_add_test(tc, rejects);
	tcase_add_test(tc, bench_cpus);
	tcase_add_test(tc, dashdash);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
