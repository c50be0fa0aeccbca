/*
 * precond.c - preconditions (precond.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "util.h"

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
		return API_ANSWERED;
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
	return API_ANSWERED;
}

int
api_lock(struct http_req *r, const char *stmt, const char *id)
{
	const char *p[1] = { id };

	return api_lock_p(r, stmt, 1, p);
}

int
api_lock_p(struct http_req *r, const char *stmt, int n,
    const char *const *p)
{
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(p[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, stmt, n, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else
		rc = api_if_match_fails(r, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
