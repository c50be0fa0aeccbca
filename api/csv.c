/*
 * csv.c - CSV by RFC 4180: a reader for uploads, a field writer for
 * exports.  See csv.h for what each accepts and produces.
 *
 * The reader is one pass over the bytes with the text already checked to
 * be UTF-8, so a field never holds half a character and every error can
 * name its line.  Line breaks inside a quoted field are kept as they are
 * and counted, so a record's line is the one a text editor shows.  A lone
 * CR ends a line too: the "CSV (Macintosh)" dialect saves those.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/utf8.h"
#include "csv.h"
#include "util.h"

struct csv_in {
	const char	*p, *end;
	long		 line;
	char		 delim;
	struct csv_err	*err;
	/* the field being read */
	char		*fbuf;
	size_t		 flen, fcap;
};

static int
csv_fail(struct csv_in *in, long line, const char *why)
{
	in->err->line = line;
	snprintf(in->err->why, sizeof(in->err->why), "%s", why);
	return CD_ERR_INVALID;
}

/* Fail with the line of the first byte that is not UTF-8 text. */
static int
csv_check_utf8(struct csv_in *in)
{
	const unsigned char *p = (const unsigned char *)in->p;
	const unsigned char *end = (const unsigned char *)in->end;
	long line = 1;

	while (p < end) {
		size_t n = *p == 0 ? 0 : utf8_len(p, (size_t)(end - p), NULL);

		if (n == 0)
			return csv_fail(in, line, *p == 0 ? "a NUL byte; "
			    "send text" : "not UTF-8 text; save the file as "
			    "\"CSV UTF-8\"");
		if (*p == '\n' || (*p == '\r' && (p + 1 == end ||
		    p[1] != '\n')))
			line++;
		p += n;
	}
	return 0;
}

/*
 * The delimiter: whichever of ',' and ';' the first record holds more of
 * outside quotes (',' when neither).  A header names its columns, so
 * its separators are the file's.
 */
static char
csv_detect(const char *p, const char *end)
{
	size_t commas = 0, semis = 0;
	int quoted = 0;

	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '\n' || *p == '\r'))
			break;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

/* Consume a line break at in->p, if there is one; 1 if there was. */
static int
csv_eat_eol(struct csv_in *in)
{
	if (in->p < in->end && *in->p == '\r') {
		in->p++;
		if (in->p < in->end && *in->p == '\n')
			in->p++;
	} else if (in->p < in->end && *in->p == '\n')
		in->p++;
	else
		return 0;
	in->line++;
	return 1;
}

/* Read one field into in->fbuf; in->p is left on what ends it. */
static int
csv_field(struct csv_in *in)
{
	long opened = in->line;

	in->flen = 0;
	if (api_buf_reserve(&in->fbuf, &in->flen, &in->fcap, 0) != 0)
		return CD_ERR_NOMEM;
	in->fbuf[0] = '\0';
	if (in->p < in->end && *in->p == '"') {
		in->p++;
		for (;;) {
			const char *s = in->p;
			size_t n = 1;

			if (in->p >= in->end)
				return csv_fail(in, opened, "a quoted field "
				    "starts here and is never closed");
			if (*in->p == '"') {
				if (in->p + 1 >= in->end || in->p[1] != '"') {
					in->p++;
					break;
				}
				in->p += 2;	/* a doubled quote: one of them */
			} else if (*in->p == '\r' || *in->p == '\n') {
				/* Keep the break as sent, count one line. */
				csv_eat_eol(in);
				n = (size_t)(in->p - s);
			} else
				in->p++;
			if (api_buf_put(&in->fbuf, &in->flen, &in->fcap, s,
			    n) != 0)
				return CD_ERR_NOMEM;
		}
		if (in->p < in->end && *in->p != in->delim &&
		    *in->p != '\r' && *in->p != '\n')
			return csv_fail(in, in->line, "text after the "
			    "closing quote of a field (a quote inside a "
			    "quoted field is written twice)");
		return 0;
	}
	{
		const char *s = in->p;

		while (in->p < in->end && *in->p != in->delim &&
		    *in->p != '\r' && *in->p != '\n') {
			if (*in->p == '"')
				return csv_fail(in, in->line, "a quote inside "
				    "a field that does not start with one "
				    "(quote the whole field and write the "
				    "quote twice)");
			in->p++;
		}
		return api_buf_put(&in->fbuf, &in->flen, &in->fcap, s,
		    (size_t)(in->p - s));
	}
}

static void
csv_record_clear(struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++)
		free(rec->fields[i]);
	free(rec->fields);
	rec->fields = NULL;
	rec->nfields = 0;
}

/* Read one record into rec (empty on entry). */
static int
csv_record(struct csv_in *in, struct csv_record *rec)
{
	size_t cap = 0;
	int rc;

	rec->line = in->line;
	for (;;) {
		if (rec->nfields == cap) {
			size_t ncap = cap ? 2 * cap : 8;
			char **f;

			if (ncap > CSV_MAX_FIELDS) {
				char why[64];

				snprintf(why, sizeof(why), "more than %d "
				    "fields", CSV_MAX_FIELDS);
				return csv_fail(in, rec->line, why);
			}
			if ((f = realloc(rec->fields, ncap * sizeof(*f))) ==
			    NULL)
				return CD_ERR_NOMEM;
			rec->fields = f;
			cap = ncap;
		}
		if ((rc = csv_field(in)) != 0)
			return rc;
		if ((rec->fields[rec->nfields] = strdup(in->fbuf)) == NULL)
			return CD_ERR_NOMEM;
		rec->nfields++;
		if (in->p < in->end && *in->p == in->delim) {
			in->p++;
			continue;
		}
		csv_eat_eol(in);
		return 0;
	}
}

static int
csv_record_empty(const struct csv_record *rec)
{
	for (size_t i = 0; i < rec->nfields; i++)
		if (rec->fields[i][0] != '\0')
			return 0;
	return 1;
}

int
csv_read(const char *text, size_t len, size_t max_records,
    struct csv_doc **out, struct csv_err *err)
{
	struct csv_in in;
	struct csv_doc *doc = NULL;
	struct csv_record rec;
	size_t cap = 0;
	int rc;

	*out = NULL;
	memset(&in, 0, sizeof(in));
	memset(&rec, 0, sizeof(rec));
	in.p = text;
	in.end = text + len;
	in.line = 1;
	in.err = err;
	memset(err, 0, sizeof(*err));
	/* Excel's "CSV UTF-8" starts with a byte order mark. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		in.p += 3;
	if ((rc = csv_check_utf8(&in)) != 0)
		goto out;
	in.delim = csv_detect(in.p, in.end);
	if ((doc = calloc(1, sizeof(*doc))) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	doc->delim = in.delim;
	while (in.p < in.end) {
		long first = in.line;

		if ((rc = csv_record(&in, &rec)) != 0)
			goto out;
		if (csv_record_empty(&rec)) {
			csv_record_clear(&rec);
			continue;
		}
		if (max_records != 0 && doc->nrecords == max_records) {
			/* Stop before the memory grows with the upload. */
			err->line = first;
			snprintf(err->why, sizeof(err->why), "more than %zu "
			    "records", max_records);
			rc = CD_ERR_INVALID;
			goto out;
		}
		if (doc->nrecords == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct csv_record *r = realloc(doc->records,
			    ncap * sizeof(*r));

			if (r == NULL) {
				rc = CD_ERR_NOMEM;
				goto out;
			}
			doc->records = r;
			cap = ncap;
		}
		doc->records[doc->nrecords++] = rec;
		memset(&rec, 0, sizeof(rec));
	}
	*out = doc;
	doc = NULL;
	rc = 0;
 out:
	csv_record_clear(&rec);
	csv_doc_free(doc);
	free(in.fbuf);
	return rc;
}

void
csv_doc_free(struct csv_doc *doc)
{
	if (doc == NULL)
		return;
	for (size_t i = 0; i < doc->nrecords; i++)
		csv_record_clear(&doc->records[i]);
	free(doc->records);
	free(doc);
}

/* ---- writing ------------------------------------------------------------ */

static int
csv_put(char **buf, size_t *len, size_t *cap, const char *s, int first,
    int neutralise)
{
	int quote = strpbrk(s, ",\";\r\n") != NULL;
	int guard = neutralise && s[0] != '\0' && strchr("=+-@\t\r", s[0]);
	char *b;

	if (api_buf_reserve(buf, len, cap, 2 * strlen(s) + 4) != 0)
		return CD_ERR_NOMEM;
	b = *buf;
	if (!first)
		b[(*len)++] = ',';
	if (quote)
		b[(*len)++] = '"';
	if (guard)
		b[(*len)++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '"')
			b[(*len)++] = '"';
		b[(*len)++] = *s;
	}
	if (quote)
		b[(*len)++] = '"';
	b[*len] = '\0';
	return 0;
}

int
csv_put_text(char **buf, size_t *len, size_t *cap, const char *s, int first)
{
	return csv_put(buf, len, cap, s, first, 1);
}

int
csv_put_number(char **buf, size_t *len, size_t *cap, const char *s,
    int first)
{
	return csv_put(buf, len, cap, s, first, 0);
}

int
csv_put_eol(char **buf, size_t *len, size_t *cap)
{
	return api_buf_put(buf, len, cap, "\r\n", 2);
}
