/*
 * util.c - validation, row rendering, pagination and preconditions shared
 * by every resource handler.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

/* ---- validation ------------------------------------------------------ */

void
v_init(struct api_v *v)
{
	v->errors = json_array();
}

void
v_free(struct api_v *v)
{
	json_decref(v->errors);
	v->errors = NULL;
}

void
v_pointer(char *out, size_t len, const char *base, const char *key)
{
	size_t n = (size_t)snprintf(out, len, "%s/", base);

	/* RFC 6901: '~' is written "~0" and '/' "~1" inside a token. */
	for (; *key != '\0' && n + 3 < len; key++) {
		if (*key == '~' || *key == '/') {
			out[n++] = '~';
			out[n++] = *key == '~' ? '0' : '1';
		} else
			out[n++] = *key;
	}
	if (n < len)
		out[n] = '\0';
}

void
v_error(struct api_v *v, const char *pointer, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(v->errors, json_pack("{s:s, s:s}", "pointer",
	    pointer, "detail", detail));
}

void
v_only(struct api_v *v, json_t *obj, const char *base,
    const char *const *allowed)
{
	const char *key;
	json_t *val;

	json_object_foreach(obj, key, val) {
		const char *const *a;
		char ptr[256];

		for (a = allowed; *a != NULL && strcmp(*a, key) != 0; a++)
			;
		if (*a == NULL) {
			v_pointer(ptr, sizeof(ptr), base, key);
			v_error(v, ptr, "unknown field");
		}
	}
}

json_t *
v_body(struct api_v *v, struct http_req *r)
{
	if (r->json == NULL || !json_is_object(r->json)) {
		v_error(v, "", "the body must be a JSON object");
		return NULL;
	}
	return r->json;
}

const char *
v_str(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, size_t minlen, size_t maxlen)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;
	char ptr[256];
	const char *s;
	size_t n;

	v_pointer(ptr, sizeof(ptr), base, key);
	if (val == NULL) {
		if (required)
			v_error(v, ptr, "is required");
		return NULL;
	}
	if (!json_is_string(val)) {
		v_error(v, ptr, "must be a string");
		return NULL;
	}
	s = json_string_value(val);
	n = strlen(s);
	if (n != json_string_length(val)) {
		v_error(v, ptr, "must not contain NUL characters");
		return NULL;
	}
	if (n < minlen || n > maxlen) {
		if (minlen == maxlen)
			v_error(v, ptr, "must be %zu characters", minlen);
		else
			v_error(v, ptr, "must be %zu to %zu characters", minlen,
			    maxlen);
		return NULL;
	}
	return s;
}

const char *
v_enum(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, const char *const *choices)
{
	const char *s = v_str(v, obj, base, key, required, 1, 64);
	char ptr[256], list[256] = "";

	if (s == NULL)
		return NULL;
	for (const char *const *c = choices; *c != NULL; c++) {
		if (strcmp(*c, s) == 0)
			return s;
		if (list[0] != '\0')
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, *c, sizeof(list) - strlen(list) - 1);
	}
	v_pointer(ptr, sizeof(ptr), base, key);
	v_error(v, ptr, "must be one of: %s", list);
	return NULL;
}

int
v_email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strchr(at + 1, '.') == NULL || at[1] == '.' ||
	    s[strlen(s) - 1] == '.')
		return 0;
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

int
v_int(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, long min, long max, long *out)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;
	char ptr[256];

	v_pointer(ptr, sizeof(ptr), base, key);
	if (val == NULL) {
		if (required)
			v_error(v, ptr, "is required");
		return 0;
	}
	if (!json_is_integer(val) || json_integer_value(val) < min ||
	    json_integer_value(val) > max) {
		v_error(v, ptr, "must be a whole number from %ld to %ld", min,
		    max);
		return 0;
	}
	*out = (long)json_integer_value(val);
	return 1;
}

int
v_int_null(struct api_v *v, json_t *obj, const char *key, long min, long max,
    long *out, int *is_null)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;

	*is_null = 0;
	if (val != NULL && json_is_null(val)) {
		*is_null = 1;
		return 1;
	}
	return v_int(v, obj, "", key, 0, min, max, out);
}

int
v_num(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, double min, double max, double *out)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;
	char ptr[256];

	v_pointer(ptr, sizeof(ptr), base, key);
	if (val == NULL) {
		if (required)
			v_error(v, ptr, "is required");
		return 0;
	}
	if (!json_is_number(val) || json_number_value(val) < min ||
	    json_number_value(val) > max) {
		v_error(v, ptr, "must be a number from %g to %g", min, max);
		return 0;
	}
	*out = json_number_value(val);
	return 1;
}

int
v_bool(struct api_v *v, json_t *obj, const char *key, int required, int *out)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;
	char ptr[256];

	v_pointer(ptr, sizeof(ptr), "", key);
	if (val == NULL) {
		if (required)
			v_error(v, ptr, "is required");
		return 0;
	}
	if (!json_is_boolean(val)) {
		v_error(v, ptr, "must be true or false");
		return 0;
	}
	*out = json_is_true(val);
	return 1;
}

const char *
v_uuid(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required)
{
	const char *s = v_str(v, obj, base, key, required, 1, 64);
	char ptr[256];

	if (s != NULL && !api_uuid_ok(s)) {
		v_pointer(ptr, sizeof(ptr), base, key);
		v_error(v, ptr, "is not an id");
		return NULL;
	}
	return s;
}

/* Digits s[0..n-1] as a number, or -1. */
static int
v_digits(const char *s, int n)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	return x;
}

int
api_time_ok(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
		30, 31 };
	int y, mo, d, h, mi, sec, leap;
	size_t i = 19;

	/* YYYY-MM-DD(T| )HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), RFC 3339 §5.6 */
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return 0;
	y = v_digits(s, 4);
	mo = v_digits(s + 5, 2);
	d = v_digits(s + 8, 2);
	h = v_digits(s + 11, 2);
	mi = v_digits(s + 14, 2);
	sec = v_digits(s + 17, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59 || sec < 0 || sec > 60)
		return 0;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (d > mdays[mo - 1] + (mo == 2 && leap))
		return 0;
	if (s[i] == '.') {
		size_t f = strspn(s + i + 1, "0123456789");

		if (f == 0 || f > 9)
			return 0;
		i += 1 + f;
	}
	if (s[i] == 'Z')
		return s[i + 1] == '\0';
	if ((s[i] != '+' && s[i] != '-') || strlen(s + i) != 6 ||
	    s[i + 3] != ':')
		return 0;
	h = v_digits(s + i + 1, 2);
	mi = v_digits(s + i + 4, 2);
	/* PostgreSQL takes offsets up to 15:59 (MAX_TZDISP_HOUR). */
	return h >= 0 && h <= 15 && mi >= 0 && mi <= 59;
}

const char *
v_time(struct api_v *v, json_t *obj, const char *key, int required)
{
	const char *s = v_str(v, obj, "", key, required, 20, 40);
	char ptr[256];

	if (s != NULL && !api_time_ok(s)) {
		v_pointer(ptr, sizeof(ptr), "", key);
		v_error(v, ptr, "must be an RFC 3339 timestamp "
		    "(2026-01-31T09:00:00Z) that exists");
		return NULL;
	}
	return s;
}

int
v_failed(struct api_v *v, struct http_req *r)
{
	json_t *ext;

	if (json_array_size(v->errors) == 0)
		return 0;
	ext = json_pack("{s:O}", "errors", v->errors);
	http_problem_ext(r, 422, "validation", "Unprocessable Content",
	    "the request has invalid fields; see errors", ext);
	return 1;
}

/* ---- rows ------------------------------------------------------------ */

#define OID_BOOL	16
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_JSON	114
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_NUMERIC	1700
#define OID_JSONB	3802

enum api_kind
api_col_kind(PGresult *res, int c)
{
	switch (PQftype(res, c)) {
	case OID_BOOL:
		return API_KIND_BOOL;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		return API_KIND_NUMBER;
	case OID_JSON:
	case OID_JSONB:
		return API_KIND_JSON;
	default:
		return API_KIND_TEXT;
	}
}

json_t *
api_row(PGresult *res, int i)
{
	json_t *o = json_object();

	for (int c = 0; o != NULL && c < PQnfields(res); c++) {
		const char *name = PQfname(res, c), *val;
		json_t *j;

		if (name[0] == '_')
			continue;
		if (PQgetisnull(res, i, c)) {
			json_object_set_new(o, name, json_null());
			continue;
		}
		val = PQgetvalue(res, i, c);
		switch (PQftype(res, c)) {
		case OID_BOOL:
			j = json_boolean(val[0] == 't');
			break;
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
			j = json_integer(strtoll(val, NULL, 10));
			break;
		case OID_FLOAT4:
		case OID_FLOAT8:
		case OID_NUMERIC:
			j = json_real(strtod(val, NULL));
			break;
		case OID_JSON:
		case OID_JSONB:
			j = json_loads(val, JSON_DECODE_ANY, NULL);
			break;
		default:
			j = json_string(val);
		}
		json_object_set_new(o, name, j ? j : json_null());
	}
	return o;
}

const char *
api_col(PGresult *res, int i, const char *name)
{
	int c = PQfnumber(res, name);

	if (c < 0 || i >= PQntuples(res) || PQgetisnull(res, i, c))
		return NULL;
	return PQgetvalue(res, i, c);
}

char *
api_uuid_array(json_t *arr)
{
	size_t i, n = json_array_size(arr), len = 1;
	json_t *e;
	char *out;

	if ((out = malloc(n * 37 + 3)) == NULL)
		return NULL;
	out[0] = '{';
	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);

		if (i > 0)
			out[len++] = ',';
		memcpy(out + len, s, 36);
		len += 36;
	}
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

/* ---- pagination ------------------------------------------------------ */

int
api_uuid_ok(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i] != '\0'; i++)
		if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Parse the page; desc: newest first, so the first page starts above all. */
static int
api_page_parse_dir(struct http_req *r, struct api_page *pg, int desc)
{
	const char *limit = http_query(r, "limit");
	const char *cursor = http_query(r, "cursor");
	unsigned char raw[128];
	size_t rawlen;
	char *end, *bar;

	pg->limit = 50;
	snprintf(pg->after_ts, sizeof(pg->after_ts), desc ? "infinity" :
	    "-infinity");
	snprintf(pg->after_id, sizeof(pg->after_id), desc ?
	    "ffffffff-ffff-ffff-ffff-ffffffffffff" :
	    "00000000-0000-0000-0000-000000000000");
	if (limit != NULL) {
		long l = strtol(limit, &end, 10);

		if (*limit == '\0' || *end != '\0' || l < 1 || l > 500) {
			http_problem(r, 422, "validation", "Unprocessable Content",
			    "limit must be a whole number from 1 to 500");
			return -1;
		}
		pg->limit = (int)l;
	}
	if (cursor != NULL) {
		/* base64url("<timestamp>|<uuid>") */
		if (sodium_base642bin(raw, sizeof(raw) - 1, cursor,
		    strlen(cursor), NULL, &rawlen, NULL,
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
			goto bad;
		raw[rawlen] = '\0';
		if ((bar = strchr((char *)raw, '|')) == NULL)
			goto bad;
		*bar = '\0';
		if (!api_uuid_ok(bar + 1) || strlen((char *)raw) < 10 ||
		    strlen((char *)raw) >= sizeof(pg->after_ts) ||
		    strspn((char *)raw, "0123456789-:. +TZ") != strlen((char *)raw))
			goto bad;
		snprintf(pg->after_ts, sizeof(pg->after_ts), "%s", (char *)raw);
		snprintf(pg->after_id, sizeof(pg->after_id), "%s", bar + 1);
	}
	snprintf(pg->limit_plus_one, sizeof(pg->limit_plus_one), "%d",
	    pg->limit + 1);
	return 0;
 bad:
	http_problem(r, 422, "validation", "Unprocessable Content",
	    "cursor is not one this server issued");
	return -1;
}

int
api_page_parse(struct http_req *r, struct api_page *pg)
{
	return api_page_parse_dir(r, pg, 0);
}

int
api_page_render(struct http_req *r, const struct api_page *pg, PGresult *res)
{
	return api_page_render_col(r, pg, res, NULL);
}

int
api_page_render_col(struct http_req *r, const struct api_page *pg,
    PGresult *res, const char *col)
{
	return http_json(r, 200, api_page_body(r, pg, res, col));
}

json_t *
api_page_body(struct http_req *r, const struct api_page *pg, PGresult *res,
    const char *col)
{
	json_t *items = json_array();
	int n = PQntuples(res), shown = n > pg->limit ? pg->limit : n;
	char cursor[256] = "";

	for (int i = 0; i < shown; i++) {
		if (col == NULL)
			json_array_append_new(items, api_row(res, i));
		else {
			json_t *row = api_row(res, i);

			json_array_append(items, json_object_get(row, col));
			json_decref(row);
		}
	}
	if (n > pg->limit) {
		char key[128], link[1024];
		const char *ts = api_col(res, shown - 1, "_k_ts");
		const char *id = api_col(res, shown - 1, "_k_id");

		snprintf(key, sizeof(key), "%s|%s", ts ? ts : "", id ? id : "");
		sodium_bin2base64(cursor, sizeof(cursor),
		    (const unsigned char *)key, strlen(key),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		http_next_link(r, "cursor", cursor, link, sizeof(link));
		http_add_header(r, "Link", link);
	}
	return json_pack("{s:o, s:o}", "items", items, "next_cursor",
	    cursor[0] ? json_string(cursor) : json_null());
}

json_t *
api_rows(PGresult *res)
{
	json_t *rows = json_array();

	for (int i = 0; rows != NULL && i < PQntuples(res); i++)
		json_array_append_new(rows, api_row(res, i));
	return rows;
}

int
api_render_list(struct http_req *r, PGresult *res)
{
	return http_json(r, 200, json_pack("{s:o, s:n}", "items",
	    api_rows(res), "next_cursor"));
}

/* ---- growing buffers ------------------------------------------------ */

int
api_buf_reserve(char **buf, size_t *len, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	char *b;

	if (*len + need + 1 <= *cap)
		return 0;
	while (ncap < *len + need + 1)
		ncap *= 2;
	if ((b = realloc(*buf, ncap)) == NULL)
		return CD_ERR_NOMEM;
	*buf = b;
	*cap = ncap;
	return 0;
}

int
api_buf_put(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (api_buf_reserve(buf, len, cap, n) != 0)
		return CD_ERR_NOMEM;
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* ---- single resources ------------------------------------------------ */

int
api_render_one(struct http_req *r, PGresult *res, int status,
    const char *location_prefix)
{
	const char *ver;

	if (PQntuples(res) == 0)
		return CD_ERR_NOT_FOUND;
	if (location_prefix != NULL && status == 201) {
		char loc[160];

		snprintf(loc, sizeof(loc), "%s%s", location_prefix,
		    api_col(res, 0, "id"));
		http_add_header(r, "Location", loc);
	}
	if ((ver = api_col(res, 0, "_version")) != NULL && api_etag(r, ver))
		return 0;
	return http_json(r, status, api_row(res, 0));
}

int
api_exec_one(struct http_req *r, const char *stmt, int n,
    const char *const *params, int status)
{
	PGresult *res;
	int rc;

	if ((res = db_exec(r->db, stmt, n, params)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_one(r, res, status, NULL);
	PQclear(res);
	return rc;
}

int
api_lock(struct http_req *r, const char *stmt, const char *id)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc = 0;

	if (!api_uuid_ok(id))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, stmt, 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else if (api_if_match_fails(r, PQgetvalue(res, 0, 0)))
		rc = 1;
	PQclear(res);
	return rc;
}

void
api_audited(struct http_req *r, const char *type, const char *id)
{
	r->audit_type = type;
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", id ? id : "");
}

const char *
api_role(const struct http_req *r)
{
	switch (r->who.role) {
	case ROLE_PLATFORM:	return "platform";
	case ROLE_ADMIN:	return "admin";
	case ROLE_INSTRUCTOR:	return "instructor";
	case ROLE_LEARNER:	return "learner";
	}
	return "anonymous";
}

const char *
api_user(const struct http_req *r)
{
	return r->who.user_id[0] ? r->who.user_id : NULL;
}

int
api_page_failed(struct http_req *r)
{
	/* Well-formed to the eye, but not a time the database takes. */
	if (http_query(r, "cursor") != NULL &&
	    strncmp(db_error_sqlstate(r->db), "22", 2) == 0)
		return http_problem(r, 422, "validation",
		    "Unprocessable Content",
		    "cursor is not one this server issued");
	return CD_ERR_DATABASE;
}

static int
api_page_exec_dir(struct http_req *r, const char *stmt, int desc, int nextra,
    const char *const *extra)
{
	struct api_page pg;
	const char *p[8];
	PGresult *res;
	int rc;

	if (nextra > 5)
		return CD_ERR_INTERNAL;
	if (api_page_parse_dir(r, &pg, desc) != 0)
		return 0;
	p[0] = pg.after_ts;
	p[1] = pg.after_id;
	p[2] = pg.limit_plus_one;
	for (int i = 0; i < nextra; i++)
		p[3 + i] = extra[i];
	if ((res = db_exec(r->db, stmt, 3 + nextra, p)) == NULL)
		return api_page_failed(r);
	rc = api_page_render(r, &pg, res);
	PQclear(res);
	return rc;
}

int
api_page_exec(struct http_req *r, const char *stmt, int nextra,
    const char *const *extra)
{
	return api_page_exec_dir(r, stmt, 0, nextra, extra);
}

int
api_page_exec_desc(struct http_req *r, const char *stmt, int nextra,
    const char *const *extra)
{
	return api_page_exec_dir(r, stmt, 1, nextra, extra);
}

/* ---- preconditions --------------------------------------------------- */

static int
api_etag_matches(const char *header, const char *etag)
{
	const char *p = header;
	size_t n = strlen(etag);

	if (strcmp(header, "*") == 0)
		return 1;
	while ((p = strstr(p, etag)) != NULL) {
		if ((p == header || p[-1] == ' ' || p[-1] == ',' ||
		    (p >= header + 2 && p[-1] == '/' && p[-2] == 'W')) &&
		    (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
			return 1;
		p += n;
	}
	return 0;
}

int
api_etag(struct http_req *r, const char *version)
{
	char etag[64];
	const char *inm = http_header(r, "If-None-Match");

	snprintf(etag, sizeof(etag), "\"%s\"", version);
	http_add_header(r, "ETag", etag);
	if (r->method == HTTP_GET && inm != NULL && api_etag_matches(inm, etag)) {
		http_body(r, 304, "application/json", NULL, 0);
		return 1;
	}
	return 0;
}

int
api_if_match_fails(struct http_req *r, const char *version)
{
	char etag[64];
	const char *im = http_header(r, "If-Match");

	if (im == NULL)
		return 0;
	snprintf(etag, sizeof(etag), "\"%s\"", version);
	if (api_etag_matches(im, etag))
		return 0;
	http_problem(r, 412, "precondition-failed", "Precondition Failed",
	    "the resource changed: its ETag is now %s", etag);
	return 1;
}
