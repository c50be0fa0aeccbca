/*
 * render.c - rows rendered as JSON (render.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

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

PGresult *
api_exec_last(struct http_req *r, const char *stmt, int n,
    const char *const *params)
{
	/* A read's COMMIT rides with its last statement (db_exec_last):
	 * a round trip fewer.  A change keeps its transaction open for the
	 * dispatcher's audit and idempotency record. */
	if (r->method == HTTP_GET)
		return db_exec_last(r->db, stmt, n, params);
	return db_exec(r->db, stmt, n, params);
}

int
api_exec_one(struct http_req *r, const char *stmt, int n,
    const char *const *params, int status)
{
	PGresult *res;
	int rc;

	if ((res = api_exec_last(r, stmt, n, params)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_one(r, res, status, NULL);
	PQclear(res);
	return rc;
}

int
api_exec_first(struct db_conn *c, const char *stmt, int n,
    const char *const *p, char *out, size_t outlen)
{
	PGresult *r = db_exec(c, stmt, n, p);
	int rc = CD_ERR_INTERNAL;

	if (r == NULL)
		return CD_ERR_DATABASE;
	if (out == NULL)
		rc = 0;
	else if (PQntuples(r) >= 1) {
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
		rc = 0;
	}
	PQclear(r);
	return rc;
}

int
api_exec_exists(struct db_conn *c, const char *stmt, int n,
    const char *const *p)
{
	PGresult *r = db_exec(c, stmt, n, p);
	int rc = CD_ERR_DATABASE;

	if (r == NULL)
		return rc;
	rc = PQntuples(r) == 0 ? CD_ERR_NOT_FOUND : 0;
	PQclear(r);
	return rc;
}

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
