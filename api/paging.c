/*
 * paging.c - keyset pagination (paging.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

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
			return API_ANSWERED;
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
	return API_ANSWERED;
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
