/* test_csv.c - the RFC 4180 reader and the export field writer (api/csv.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/csv.h"
#include "common/err.h"
#include "unit.h"

static struct csv_err err;
static char msg[200];

/* Read a NUL-terminated text; the document or NULL (err says why). */
static struct csv_doc *
rd(const char *text, int *rc)
{
	struct csv_doc *doc = (struct csv_doc *)1;

	*rc = csv_read(text, strlen(text), 0, &doc, &err);
	snprintf(msg, sizeof(msg), "line %ld: %s", err.line, err.why);
	if (*rc != 0)
		ck_assert_ptr_null(doc);
	return doc;
}

#define FIELD(d, r, f)	((d)->records[(r)].fields[(f)])

START_TEST(plain_lf_and_crlf)
{
	const char *texts[] = { "email,name\na@x.test,Ann\nb@x.test,Bob\n",
	    "email,name\r\na@x.test,Ann\r\nb@x.test,Bob\r\n",
	    "email,name\r\na@x.test,Ann\r\nb@x.test,Bob" };

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		int rc;
		struct csv_doc *d = rd(texts[i], &rc);

		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(d->delim, ',');
		ck_assert_uint_eq(d->nrecords, 3);
		ck_assert_uint_eq(d->records[2].nfields, 2);
		ck_assert_str_eq(FIELD(d, 0, 0), "email");
		ck_assert_str_eq(FIELD(d, 2, 1), "Bob");
		ck_assert_int_eq(d->records[2].line, 3);
		csv_doc_free(d);
	}
}
END_TEST

START_TEST(doubled_quotes)
{
	int rc;
	struct csv_doc *d = rd("email,name\nc@x.test,\"Conan \"\"The Dev\"\" "
	    "O'Brien\"\n\"\"\"\",\"a,b\"\n", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->nrecords, 3);
	ck_assert_str_eq(FIELD(d, 1, 1), "Conan \"The Dev\" O'Brien");
	ck_assert_str_eq(FIELD(d, 2, 0), "\"");
	ck_assert_str_eq(FIELD(d, 2, 1), "a,b");
	csv_doc_free(d);
}
END_TEST

START_TEST(multiline_field)
{
	int rc;
	struct csv_doc *d = rd("email,name\r\na@x.test,\"Line one\r\nline "
	    "two\nthree\"\r\nb@x.test,Bob\r\n", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->nrecords, 3);
	ck_assert_str_eq(FIELD(d, 1, 1), "Line one\r\nline two\nthree");
	ck_assert_int_eq(d->records[1].line, 2);
	/* the record after it starts on the line an editor shows */
	ck_assert_int_eq(d->records[2].line, 5);
	ck_assert_str_eq(FIELD(d, 2, 0), "b@x.test");
	csv_doc_free(d);
}
END_TEST

START_TEST(bom_stripped)
{
	int rc;
	struct csv_doc *d = rd("\xef\xbb\xbf" "email,name\r\na@x.test,Ann\r\n",
	    &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(FIELD(d, 0, 0), "email");
	ck_assert_uint_eq(d->records[0].nfields, 2);
	csv_doc_free(d);
	/* only at the start: elsewhere it is text */
	d = rd("email,name\na@x.test,\xef\xbb\xbf" "Ann\n", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(FIELD(d, 1, 1), "\xef\xbb\xbf" "Ann");
	csv_doc_free(d);
}
END_TEST

START_TEST(semicolon_detected)
{
	int rc;
	struct csv_doc *d = rd("email;name;role\r\na@x.test;\"M\xc3\xbcller, "
	    "J\xc3\xbcrgen\";learner\r\n", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(d->delim, ';');
	ck_assert_uint_eq(d->records[1].nfields, 3);
	ck_assert_str_eq(FIELD(d, 1, 1), "M\xc3\xbcller, J\xc3\xbcrgen");
	csv_doc_free(d);
	/* a ';' inside a quoted header name does not count */
	d = rd("\"a;b;c\",name\nx,y\n", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(d->delim, ',');
	ck_assert_str_eq(FIELD(d, 0, 0), "a;b;c");
	csv_doc_free(d);
	/* commas in a ';' file's rows stay in their field */
	d = rd("email;name\na@x.test;Doe, Jane\n", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(FIELD(d, 1, 1), "Doe, Jane");
	csv_doc_free(d);
}
END_TEST

START_TEST(empty_fields_and_blank_lines)
{
	int rc;
	struct csv_doc *d = rd("a,b,c\n\n,,\nx,,\n\r\n;\n", &rc);

	ck_assert_int_eq(rc, 0);
	/* blank and all-empty records are left out; x,, is kept */
	ck_assert_uint_eq(d->nrecords, 3);
	ck_assert_uint_eq(d->records[1].nfields, 3);
	ck_assert_str_eq(FIELD(d, 1, 0), "x");
	ck_assert_str_eq(FIELD(d, 1, 2), "");
	ck_assert_int_eq(d->records[1].line, 4);
	ck_assert_str_eq(FIELD(d, 2, 0), ";");
	csv_doc_free(d);
	d = rd("", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->nrecords, 0);
	csv_doc_free(d);
	d = rd("a,b\nx,\"\"\n", &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(FIELD(d, 1, 1), "");
	csv_doc_free(d);
}
END_TEST

START_TEST(lone_cr_lines)
{
	int rc;
	struct csv_doc *d = rd("a,b\rx,y\rz,w", &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->nrecords, 3);
	ck_assert_str_eq(FIELD(d, 2, 1), "w");
	ck_assert_int_eq(d->records[2].line, 3);
	csv_doc_free(d);
}
END_TEST

START_TEST(malformed)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "a,b\nx,\"never closed\ny,z\n",
		  "line 2: a quoted field starts here and is never closed" },
		{ "a,b\nx,\"closed\"junk\n",
		  "line 2: text after the closing quote" },
		{ "a,b\nx,y\nx,Conan \"The Dev\"\n",
		  "line 3: a quote inside a field that does not start" },
		{ "a,b\nx,\xff\n", "line 2: not UTF-8 text" },
		{ "a,b\nx,\xc0\xaf\n", "line 2: not UTF-8 text" },
		{ "a,b\r\nx,\xed\xa0\x80\r\n", "line 2: not UTF-8 text" },
		{ "a,b\nx,y\n\"q\nq\",\xe2\x82\n", "line 4: not UTF-8 text" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int rc;

		ck_assert_ptr_null(rd(cases[i].text, &rc));
		ck_assert_int_eq(rc, CD_ERR_INVALID);
		ck_assert_msg(strncmp(msg, cases[i].err,
		    strlen(cases[i].err)) == 0, "case %zu: got \"%s\"", i, msg);
	}
}
END_TEST

START_TEST(record_limit)
{
	struct csv_doc *d = NULL;
	const char *t = "email,name\na@x,A\nb@x,B\n\nc@x,C\n";

	/* blank records do not count; the limit is met, then passed */
	ck_assert_int_eq(csv_read(t, strlen(t), 4, &d, &err), 0);
	ck_assert_uint_eq(d->nrecords, 4);
	csv_doc_free(d);
	d = (struct csv_doc *)1;
	ck_assert_int_eq(csv_read(t, strlen(t), 3, &d, &err), CD_ERR_INVALID);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(err.why, "more than 3 records");
	ck_assert_int_eq(err.line, 5);
}
END_TEST

START_TEST(nul_and_width)
{
	struct csv_doc *d = (struct csv_doc *)1;
	char wide[2 * CSV_MAX_FIELDS + 8];
	size_t n = 0;
	int rc;

	ck_assert_int_eq(csv_read("a,b\nx,\0y\n", 9, 0, &d, &err),
	    CD_ERR_INVALID);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(err.line, 2);
	ck_assert_str_eq(err.why, "a NUL byte; send text");
	/* exactly the limit is fine, one more is not */
	for (int i = 0; i < CSV_MAX_FIELDS; i++) {
		wide[n++] = 'a';
		wide[n++] = ',';
	}
	wide[n - 1] = '\0';
	d = rd(wide, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->records[0].nfields, CSV_MAX_FIELDS);
	csv_doc_free(d);
	wide[n - 1] = ',';
	wide[n++] = 'b';
	wide[n] = '\0';
	ck_assert_ptr_null(rd(wide, &rc));
	ck_assert_int_eq(rc, CD_ERR_INVALID);
	ck_assert_str_eq(msg, "line 1: more than 256 fields");
	csv_doc_free(NULL);
}
END_TEST

/* Write fields with put, one record; the text written. */
static char *
wr(int (*put)(char **, size_t *, size_t *, const char *, int),
    const char *const *fields)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;

	for (int i = 0; fields[i] != NULL; i++)
		ck_assert_int_eq(put(&buf, &len, &cap, fields[i], i == 0), 0);
	ck_assert_int_eq(csv_put_eol(&buf, &len, &cap), 0);
	ck_assert_uint_eq(strlen(buf), len);
	return buf;
}

START_TEST(writer_quotes)
{
	const char *const f[] = { "plain", "a,b", "say \"hi\"", "two\nlines",
	    "semi;colon", "", "caf\xc3\xa9", NULL };
	char *s = wr(csv_put_text, f);

	ck_assert_str_eq(s, "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\","
	    "\"semi;colon\",,caf\xc3\xa9\r\n");
	free(s);
}
END_TEST

START_TEST(writer_neutralises)
{
	const char *const f[] = { "=HYPERLINK(\"http://evil.test\",\"x\")",
	    "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "a=b", "'quoted", NULL };
	const char *const n[] = { "-2.50", "+1", "=1", NULL };
	char *s = wr(csv_put_text, f);

	ck_assert_str_eq(s, "\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"x\"\")\","
	    "'+1,'-2+3,'@SUM(A1),'\tx,\"'\rx\",a=b,'quoted\r\n");
	free(s);
	s = wr(csv_put_number, n);
	ck_assert_str_eq(s, "-2.50,+1,=1\r\n");
	free(s);
}
END_TEST

/* What the writer writes, the reader reads back (after the guard). */
START_TEST(round_trip)
{
	const char *const f[] = { "Conan \"The Dev\" O'Brien", "x\r\ny",
	    "a,b;c", "", NULL };
	char *s = wr(csv_put_text, f);
	struct csv_doc *d;
	int rc;

	d = rd(s, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d->nrecords, 1);
	ck_assert_uint_eq(d->records[0].nfields, 4);
	for (int i = 0; f[i] != NULL; i++)
		ck_assert_str_eq(FIELD(d, 0, i), f[i]);
	csv_doc_free(d);
	free(s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, plain_lf_and_crlf);
	tcase_add_test(tc, doubled_quotes);
	tcase_add_test(tc, multiline_field);
	tcase_add_test(tc, bom_stripped);
	tcase_add_test(tc, semicolon_detected);
	tcase_add_test(tc, empty_fields_and_blank_lines);
	tcase_add_test(tc, lone_cr_lines);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, record_limit);
	tcase_add_test(tc, nul_and_width);
	tcase_add_test(tc, writer_quotes);
	tcase_add_test(tc, writer_neutralises);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
