/*
 * validate.c - request validation (validate.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

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

json_t *
v_begin(struct api_v *v, struct http_req *r, const char *const *allowed)
{
	json_t *body;

	v_init(v);
	if ((body = v_body(v, r)) != NULL && allowed != NULL)
		v_only(v, body, "", allowed);
	return body;
}

/* Member key of obj (NULL: absent, an error when required); ptr (len
 * bytes) receives its JSON pointer for the caller's errors. */
static json_t *
v_member(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, char *ptr, size_t len)
{
	json_t *val = obj ? json_object_get(obj, key) : NULL;

	v_pointer(ptr, len, base, key);
	if (val == NULL && required)
		v_error(v, ptr, "is required");
	return val;
}

const char *
v_str(struct api_v *v, json_t *obj, const char *base, const char *key,
    int required, size_t minlen, size_t maxlen)
{
	char ptr[256];
	json_t *val = v_member(v, obj, base, key, required, ptr, sizeof(ptr));
	const char *s;
	size_t n;

	if (val == NULL)
		return NULL;
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
	char ptr[256];
	json_t *val = v_member(v, obj, base, key, required, ptr, sizeof(ptr));

	if (val == NULL)
		return 0;
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
	char ptr[256];
	json_t *val = v_member(v, obj, base, key, required, ptr, sizeof(ptr));

	if (val == NULL)
		return 0;
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
	char ptr[256];
	json_t *val = v_member(v, obj, "", key, required, ptr, sizeof(ptr));

	if (val == NULL)
		return 0;
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
	return API_ANSWERED;
}

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

char *
api_uuid_array(json_t *arr)
{
	return api_text_array(arr);
}

char *
api_text_array(json_t *arr)
{
	size_t i, len = 3;
	json_t *e;
	char *out;

	json_array_foreach(arr, i, e)
		len += strlen(json_string_value(e)) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	strcpy(out, "{");
	json_array_foreach(arr, i, e) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, json_string_value(e));
	}
	strcat(out, "}");
	return out;
}
