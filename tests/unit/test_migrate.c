/* test_migrate.c - loading migrations: order, names, checksums. */
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "daemon/migrate.h"
#include "unit.h"

static char dir[64];

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
setup(void)
{
	strcpy(dir, "/tmp/cohortd-migXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

START_TEST(builtin_in_order)
{
	struct mig_set set;
	char err[256];

	ck_assert_int_eq(mig_load(NULL, &set, err, sizeof(err)), 0);
	ck_assert_uint_gt(set.n, 0);
	for (size_t i = 1; i < set.n; i++)
		ck_assert_int_lt(set.v[i - 1].version, set.v[i].version);
	ck_assert_int_eq(set.v[set.n - 1].version, mig_builtin_latest());
	ck_assert_uint_eq(strlen(set.v[0].checksum), 64);
	mig_set_free(&set);
}
END_TEST

START_TEST(dir_sorted_and_checksummed)
{
	struct mig_set set;
	char err[256];

	put("0002_b.sql", "SELECT 2;");
	put("0001_a.sql", "SELECT 1;");
	put("README", "not a migration");
	ck_assert_int_eq(mig_load(dir, &set, err, sizeof(err)), 0);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_str_eq(set.v[0].name, "0001_a.sql");
	ck_assert_str_eq(set.v[1].name, "0002_b.sql");
	/* SHA-256("SELECT 1;") */
	ck_assert_str_eq(set.v[0].checksum,
	    "17db4fd369edb9244b9f91d9aeed145c3d04ad8ba6e95d06247f07a63527d11a");
	ck_assert_str_ne(set.v[0].checksum, set.v[1].checksum);
	mig_set_free(&set);
}
END_TEST

START_TEST(bad_names_rejected)
{
	struct mig_set set;
	char err[256];

	put("1_short.sql", "SELECT 1;");
	ck_assert_int_eq(mig_load(dir, &set, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "1_short.sql"));
}
END_TEST

START_TEST(duplicate_versions_rejected)
{
	struct mig_set set;
	char err[256];

	put("0001_a.sql", "SELECT 1;");
	put("0001_b.sql", "SELECT 1;");
	ck_assert_int_eq(mig_load(dir, &set, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "share version 1"));
}
END_TEST

START_TEST(missing_dir_names_setting)
{
	struct mig_set set;
	char err[256];

	ck_assert_int_eq(mig_load("/nonexistent/x", &set, err, sizeof(err)),
	    CD_ERR_CONFIG);
	ck_assert_ptr_nonnull(strstr(err, "COHORTD_MIGRATIONS_DIR"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("migrate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, builtin_in_order);
	tcase_add_test(tc, dir_sorted_and_checksummed);
	tcase_add_test(tc, bad_names_rejected);
	tcase_add_test(tc, duplicate_versions_rejected);
	tcase_add_test(tc, missing_dir_names_setting);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
