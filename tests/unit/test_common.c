/* test_common.c - the shared library: growable buffer and clock (common/). */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "unit.h"

START_TEST(buf_grows_and_stays_terminated)
{
	struct buf b = BUF_INIT;
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 50; i++)
		buf_add(&b, chunk, sizeof(chunk));
	ck_assert_uint_eq(b.len, 5000);
	ck_assert_uint_ge(b.cap, 5001);
	ck_assert_int_eq(b.p[b.len], '\0');
	ck_assert_uint_eq(strlen(b.p), 5000);
	ck_assert_int_eq(buf_error(&b), 0);
	buf_free(&b);
	ck_assert_ptr_null(b.p);
	ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(buf_formats_past_any_fixed_size)
{
	struct buf b = BUF_INIT;
	char *big = malloc(2000), *s;

	memset(big, 'a', 1999);
	big[1999] = '\0';
	buf_adds(&b, "<");
	buf_addf(&b, "%s|%d", big, 42);
	ck_assert_uint_eq(b.len, 1 + 1999 + 3);
	ck_assert_str_eq(b.p + 2000, "|42");
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.p, "");
	buf_adds(&b, "again");
	s = buf_take(&b);
	ck_assert_str_eq(s, "again");
	ck_assert_ptr_null(b.p);
	free(s);
	free(big);
}
END_TEST

START_TEST(buf_broken_stays_broken_until_reset)
{
	struct buf b = BUF_INIT;

	buf_adds(&b, "kept");
	ck_assert_int_eq(buf_reserve(&b, (size_t)-1 / 2 + 1), CD_ERR_NOMEM);
	buf_adds(&b, " lost");
	ck_assert_int_eq(buf_error(&b), CD_ERR_NOMEM);
	ck_assert_str_eq(b.p, "kept");
	buf_reset(&b);
	ck_assert_int_eq(buf_error(&b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(clock_is_monotonic_in_both_units)
{
	long long ms = clock_ms(), us = clock_us();

	ck_assert_int_ge(us / 1000, ms);
	ck_assert_int_le(us / 1000 - ms, 1000);
	ck_assert_int_ge(clock_ms(), ms);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("common");

	tcase_add_test(tc, buf_grows_and_stays_terminated);
	tcase_add_test(tc, buf_formats_past_any_fixed_size);
	tcase_add_test(tc, buf_broken_stays_broken_until_reset);
	tcase_add_test(tc, clock_is_monotonic_in_both_units);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
