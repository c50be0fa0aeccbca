/*
 * curriculum.c - what programs, modules, lessons and assessments share:
 * reading one object or a parent's children as the caller may see them,
 * deleting under If-Match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"
#include "curriculum.h"

int
api_visible_get(struct http_req *r, const char *stmt)
{
	const char *p[3] = { api_role(r), api_user(r), r->params[0] };

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return api_exec_one(r, stmt, 3, p, 200);
}

int
api_child_list(struct http_req *r, int (*parent_visible)(struct http_req *,
    const char *), const char *list_stmt)
{
	const char *p[3] = { api_role(r), api_user(r), r->params[0] };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((rc = parent_visible(r, r->params[0])) != 0)
		return rc;
	if ((res = api_exec_last(r, list_stmt, 3, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_list(r, res);
	PQclear(res);
	return rc;
}

int
api_delete_by(struct http_req *r, const char *lock, const char *del,
    const char *type, const char *busy)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc, gone;

	if ((rc = api_lock(r, lock, r->params[0])) != 0)
		return api_result(rc);
	if ((res = db_exec(r->db, del, 1, p)) == NULL)
		return CD_ERR_DATABASE;
	gone = PQntuples(res) == 1;
	PQclear(res);
	if (!gone)
		return http_problem(r, 409, "conflict", "Conflict", "%s", busy);
	api_audited(r, type, r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}
