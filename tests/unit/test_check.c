/*
 * test_check.c - the grader's judgements on text (grader/check.c): the
 * output checkers, the sanitizer screen and trimming for display.
 */
#include <string.h>

#include "../../grader/grade-int.h"
#include "unit.h"

static bool
agree(enum grade_checker c, const char *got, const char *want, char *why)
{
	why[0] = '\0';
	return grade_outputs_agree(c, got, strlen(got), want, strlen(want),
	    why, 256);
}

START_TEST(exact_ignores_only_a_final_newline)
{
	char why[256];

	ck_assert(agree(GRADE_CHECK_EXACT, "sum 10\n", "sum 10", why));
	ck_assert(agree(GRADE_CHECK_EXACT, "sum 10", "sum 10\n", why));
	ck_assert(!agree(GRADE_CHECK_EXACT, "sum 10 ", "sum 10", why));
	ck_assert(!agree(GRADE_CHECK_EXACT, "a\nb\nc\n", "a\nb\nSECRET\n",
	    why));
	/* The reason names the line, never the expected text. */
	ck_assert_ptr_nonnull(strstr(why, "line 3"));
	ck_assert_ptr_null(strstr(why, "SECRET"));
}
END_TEST

START_TEST(numeric_tolerates_rounding_not_lost_elements)
{
	char why[256];

	ck_assert(agree(GRADE_CHECK_NUMERIC, "x 0.30000000000000004",
	    "x 0.3", why));
	ck_assert(agree(GRADE_CHECK_NUMERIC, "1e9  2", "1000000000.0000001 2",
	    why));
	/* Integers compare exactly: a sum that lost one element is wrong. */
	ck_assert(!agree(GRADE_CHECK_NUMERIC, "sum 100000000001",
	    "sum 100000000000", why));
	ck_assert(!agree(GRADE_CHECK_NUMERIC, "1.5", "1.6", why));
	ck_assert_ptr_nonnull(strstr(why, "token 1"));
	ck_assert(!agree(GRADE_CHECK_NUMERIC, "1 2", "1 2 3", why));
	ck_assert_ptr_nonnull(strstr(why, "2 tokens where 3"));
	ck_assert(!agree(GRADE_CHECK_NUMERIC, "inf", "1e308", why));
}
END_TEST

START_TEST(sorted_lines_ignore_order_not_content)
{
	char why[256];

	ck_assert(agree(GRADE_CHECK_SORTED_LINES, "b 2\na 1\n", "a 1\nb 2\n",
	    why));
	ck_assert(!agree(GRADE_CHECK_SORTED_LINES, "a 1\na 1\n", "a 1\nb 2\n",
	    why));
	ck_assert(!agree(GRADE_CHECK_SORTED_LINES, "a 1\n", "a 1\nb 2\n", why));
	ck_assert_ptr_nonnull(strstr(why, "1 lines where 2"));
	/* A prefix is not the line. */
	ck_assert(!agree(GRADE_CHECK_SORTED_LINES, "a\n", "ab\n", why));
}
END_TEST

START_TEST(screen_refuses_sanitizer_hooks_and_attributes)
{
	static const char *const bad[] = {
		"const char *__tsan_default_options(void) { return \"\"; }",
		"void f(void) __attribute__((no_sanitize(\"thread\")));",
		"extern void __sanitizer_set_report_path(const char *);",
		"int x __asm__(\"__tsan_on_report\");",
	};
	char why[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		why[0] = '\0';
		ck_assert_msg(grade_screen_source(bad[i], strlen(bad[i]), why,
		    sizeof(why)), "not refused: %s", bad[i]);
		ck_assert_ptr_nonnull(strstr(why, "sanitizer"));
	}
	why[0] = '\0';
	ck_assert(!grade_screen_source("int tsan = 1;", 13, why, sizeof(why)));
	ck_assert_str_eq(why, "");
}
END_TEST

START_TEST(trim_keeps_short_text_and_notes_the_cut)
{
	char big[400], *t;

	t = grade_trim("short\n", 6, 100);
	ck_assert_str_eq(t, "short\n");
	free(t);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = i % 40 == 39 ? '\n' : 'x';
	t = grade_trim(big, sizeof(big), 100);
	/* Cut at a line end, then the count of what was left out. */
	ck_assert_int_eq(strspn(t, "x\n"), 80);
	ck_assert_ptr_nonnull(strstr(t, "[... 320 more bytes]"));
	free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");

	tcase_add_test(tc, exact_ignores_only_a_final_newline);
	tcase_add_test(tc, numeric_tolerates_rounding_not_lost_elements);
	tcase_add_test(tc, sorted_lines_ignore_order_not_content);
	tcase_add_test(tc, screen_refuses_sanitizer_hooks_and_attributes);
	tcase_add_test(tc, trim_keeps_short_text_and_notes_the_cut);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
