/* test_common.c - the shared library (common/): buffer, clock, options,
 * UTF-8, log lines. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/opt.h"
#include "common/utf8.h"
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

static struct {
	const char *name;
	uint32_t n;
	int flag;
	char *kvv[3];
	struct opt_kv kv;
} o;

static const struct opt table[] = {
	{ "name", "TEST_COMMON_NAME", OPT_STR, &o.name, 0, 0, "a name" },
	{ "n", NULL, OPT_UINT, &o.n, 1, 10, "a number" },
	{ "flag", NULL, OPT_FLAG, &o.flag, 0, 0, "a flag" },
	{ "env", NULL, OPT_KV, &o.kv, 0, 0, "K=V" },
};
#define NTABLE (sizeof(table) / sizeof(*table))

static int
flags(int argc, char **argv, int *next)
{
	memset(&o, 0, sizeof(o));
	o.kv = (struct opt_kv){ o.kvv, 0, 2 };
	return opt_flags("test", table, NTABLE, argc, argv, 1, next);
}

START_TEST(opt_reads_the_table)
{
	char *ok[] = { "x", "--name=a", "--n", "7", "--flag", "--env=A=1",
	    "--", "prog", NULL };
	char *kvs[] = { "x", "--env=A=1", "--env", "B=2", "--env=C=3", NULL };
	char *bad[][3] = { { "x", "--n=11", NULL }, { "x", "--n=-1", NULL },
	    { "x", "--nam=a", NULL }, { "x", "--env==1", NULL },
	    { "x", "--name", NULL } };
	int next;

	ck_assert_int_eq(flags(8, ok, &next), 0);
	ck_assert_str_eq(o.name, "a");
	ck_assert_uint_eq(o.n, 7);
	ck_assert_int_eq(o.flag, 1);
	ck_assert_int_eq(o.kv.n, 1);
	ck_assert_str_eq(o.kv.v[0], "A=1");
	ck_assert_ptr_null(o.kv.v[1]);
	ck_assert_int_eq(next, 7);
	ck_assert_str_eq(ok[next], "prog");
	/* a third K=V is over the limit of two */
	ck_assert_int_eq(flags(5, kvs, &next), -1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(flags(2, bad[i], &next) == -1, "%s", bad[i][1]);
	/* the environment first, a flag over it */
	setenv("TEST_COMMON_NAME", "from-env", 1);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(opt_env("test", table, NTABLE), 0);
	ck_assert_str_eq(o.name, "from-env");
	unsetenv("TEST_COMMON_NAME");
}
END_TEST

START_TEST(utf8_takes_well_formed_sequences_only)
{
	static const struct {
		const char *s;
		size_t len;
		uint32_t cp;
	} ok[] = { { "A", 1, 0x41 }, { "\xc3\xa9", 2, 0xe9 },
	    { "\xe2\x82\xac", 3, 0x20ac }, { "\xf0\x9f\x98\x80", 4, 0x1f600 },
	    { "\xf4\x8f\xbf\xbf", 4, 0x10ffff } };
	static const char *bad[] = { "\x80", "\xc0\xaf", "\xc1\xbf",
	    "\xe0\x80\xaf", "\xed\xa0\x80", "\xf0\x80\x80\xaf",
	    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc3", "\xe2\x82",
	    "\xc3\x41", "\xff" };
	uint32_t cp;

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		ck_assert_uint_eq(utf8_len((const unsigned char *)ok[i].s,
		    strlen(ok[i].s), &cp), ok[i].len);
		ck_assert_uint_eq(cp, ok[i].cp);
	}
	ck_assert_uint_eq(utf8_len((const unsigned char *)"", 1, &cp), 1);
	ck_assert_uint_eq(cp, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_msg(utf8_len((const unsigned char *)bad[i],
		    strlen(bad[i]), NULL) == 0, "case %zu", i);
	/* a sequence cut short by the end of the text */
	ck_assert_uint_eq(utf8_len((const unsigned char *)"\xe2\x82\xac", 2,
	    NULL), 0);
}
END_TEST

/* What one call writes to stderr, parsed as the JSON object it must be. */
static json_t *
log_capture(void (*write_line)(void))
{
	char out[65536];
	int fds[2], saved;
	ssize_t n;
	json_error_t e;
	json_t *line;

	ck_assert_int_eq(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	write_line();
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	ck_assert_int_gt(n, 1);
	out[n] = '\0';
	ck_assert_int_eq(out[n - 1], '\n');
	ck_assert_ptr_null(strchr(out, '\n') == out + n - 1 ? NULL : out);
	line = json_loads(out, 0, &e);
	ck_assert_msg(line != NULL, "not JSON: %s (%s)", out, e.text);
	return line;
}

static char log_long[5000];

static void
log_kv_line(void)
{
	const struct log_field f[] = {
		LOG_STR("path", "/a\"b\\c\n\x01\xc3\xa9\xff\xe2\x82"),
		LOG_INT("status", -404),
		LOG_NUM("whole", 3.0),
		LOG_NUM("ms", 0.1234567),
		LOG_NUM("nan", NAN),
		LOG_STR("long", log_long),
	};

	log_set_request_id("rid-1");
	log_kv(LOG_LVL_WARN, "m\"sg", f, sizeof(f) / sizeof(*f));
	log_set_request_id(NULL);
}

START_TEST(log_kv_writes_one_json_line)
{
	json_t *line;

	memset(log_long, 'x', sizeof(log_long) - 1);	/* past the stack */
	log_init("unit", LOG_LVL_INFO);
	line = log_capture(log_kv_line);
	ck_assert_str_eq(json_string_value(json_object_get(line, "level")), "warn");
	ck_assert_str_eq(json_string_value(json_object_get(line, "proc")), "unit");
	ck_assert_int_eq(json_integer_value(json_object_get(line, "pid")),
	    getpid());
	ck_assert_str_eq(json_string_value(json_object_get(line, "msg")), "m\"sg");
	ck_assert_str_eq(json_string_value(json_object_get(line, "request_id")),
	    "rid-1");
	ck_assert_str_eq(json_string_value(json_object_get(line, "path")),
	    "/a\"b\\c\n\x01\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_int_eq(json_integer_value(json_object_get(line, "status")), -404);
	ck_assert(json_is_real(json_object_get(line, "whole")));
	ck_assert_double_eq(json_real_value(json_object_get(line, "whole")), 3.0);
	ck_assert_double_eq_tol(json_real_value(json_object_get(line, "ms")),
	    0.123457, 1e-9);
	ck_assert(json_is_null(json_object_get(line, "nan")));
	ck_assert_str_eq(json_string_value(json_object_get(line, "long")),
	    log_long);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(line, "ts"))),
	    strlen("2026-12-07T23:37:12.457Z"));
	json_decref(line);
}
END_TEST

static void
log_fields_line(void)
{
	log_fields(LOG_LVL_INFO, "with fields", json_pack("{s:s, s:i}",
	    "role", "api", "port", 8080));
}

START_TEST(log_fields_joins_the_object)
{
	json_t *line;

	log_init("unit", LOG_LVL_INFO);
	line = log_capture(log_fields_line);
	ck_assert_str_eq(json_string_value(json_object_get(line, "msg")),
	    "with fields");
	ck_assert_str_eq(json_string_value(json_object_get(line, "role")), "api");
	ck_assert_int_eq(json_integer_value(json_object_get(line, "port")), 8080);
	ck_assert_ptr_null(json_object_get(line, "request_id"));
	json_decref(line);
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
	tcase_add_test(tc, opt_reads_the_table);
	tcase_add_test(tc, utf8_takes_well_formed_sequences_only);
	tcase_add_test(tc, log_kv_writes_one_json_line);
	tcase_add_test(tc, log_fields_joins_the_object);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
