/*
 * programs.c - /v1/programs: the curriculum's top level.
 *
 * Admins and instructors author; learners read only published programs
 * they are enrolled in.  Every query carries the caller's role and id so
 * that visibility is decided in one place, the SQL, by
 * learner_sees_program() (VISIBLE, curriculum.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"
#include "curriculum.h"

#define PROGRAM_COLS "p.id, p.title, p.summary, p.status, " \
	"rfc3339(p.created_at) AS created_at, rfc3339(p.updated_at) AS " \
	"updated_at, p.version AS _version"

static const struct db_stmt program_stmts[] = {
	{ "program_insert", "INSERT INTO programs AS p (tenant_id, title, "
	  "summary, status) VALUES (current_tenant(), $1, coalesce($2, ''), "
	  "coalesce($3, 'draft')) RETURNING " PROGRAM_COLS },
	{ "program_get", "SELECT " PROGRAM_COLS " FROM programs p WHERE "
	  "p.tenant_id = current_tenant() AND p.id = $3 AND " VISIBLE("p.id") },
	{ "program_list", "SELECT " PROGRAM_COLS ", p.created_at::text AS _k_ts, "
	  "p.id AS _k_id FROM programs p WHERE p.tenant_id = current_tenant() "
	  "AND " VISIBLE("p.id") " AND ($6::text IS NULL OR p.status = $6) "
	  "AND (p.created_at, p.id) > ($3::timestamptz, $4::uuid) "
	  "ORDER BY p.created_at, p.id LIMIT $5" },
	{ "program_lock", "SELECT version FROM programs WHERE tenant_id = "
	  "current_tenant() AND id = $1 FOR UPDATE" },
	{ "program_update", "UPDATE programs p SET title = coalesce($2, title), "
	  "summary = coalesce($3, summary), status = coalesce($4, status), "
	  "updated_at = clock_timestamp(), version = version + 1 WHERE "
	  "p.tenant_id = current_tenant() AND p.id = $1 RETURNING "
	  PROGRAM_COLS },
	{ "program_delete", "DELETE FROM programs WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND NOT EXISTS (SELECT 1 FROM cohorts c "
	  "WHERE c.tenant_id = current_tenant() AND c.program_id = $1) "
	  "RETURNING id" },

};

void
api_programs_init(void)
{
	db_register(program_stmts, sizeof(program_stmts) /
	    sizeof(*program_stmts));
}

int
api_program_insert(struct db_conn *c, const char *title, const char *summary,
    const char *status, char *id)
{
	const char *p[3] = { title, summary, status };

	return api_exec_first(c, "program_insert", 3, p, id, 40);
}

static const char *const program_statuses[] = { "draft", "published",
	"archived", NULL };

int
api_program_visible(struct http_req *r, const char *id)
{
	const char *p[3] = { api_role(r), api_user(r), id };

	return api_exec_exists(r->db, "program_get", 3, p);
}

int
api_program_create(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary", "status",
		NULL };
	struct api_v v;
	json_t *body;
	const char *title = NULL, *summary = NULL, *status = NULL;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		title = v_str(&v, body, "", "title", 1, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		status = v_enum(&v, body, "", "status", 0, program_statuses);
	}
	if ((rc = v_failed(&v, r)) == 0) {
		const char *p[3] = { title, summary, status };

		if ((res = db_exec(r->db, "program_insert", 3, p)) == NULL)
			rc = CD_ERR_DATABASE;
		else {
			api_audited(r, "program", api_col(res, 0, "id"));
			rc = api_render_one(r, res, 201, "/v1/programs/");
			PQclear(res);
		}
	}
	v_free(&v);
	return api_result(rc);
}

int
api_program_list(struct http_req *r)
{
	const char *status = http_query(r, "status");
	struct api_page pg;
	PGresult *res;
	int rc;

	if (api_page_parse(r, &pg) != 0)
		return 0;
	{
		const char *p[6] = { api_role(r), api_user(r), pg.after_ts,
		    pg.after_id, pg.limit_plus_one, status };

		if ((res = db_exec(r->db, "program_list", 6, p)) == NULL)
			return api_page_failed(r);
	}
	rc = api_page_render(r, &pg, res);
	PQclear(res);
	return api_result(rc);
}

int
api_program_get(struct http_req *r)
{
	return api_visible_get(r, "program_get");
}

int
api_program_update(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary", "status",
		NULL };
	struct api_v v;
	json_t *body;
	const char *title = NULL, *summary = NULL, *status = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		title = v_str(&v, body, "", "title", 0, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		status = v_enum(&v, body, "", "status", 0, program_statuses);
	}
	if ((rc = v_failed(&v, r)) == 0 && (rc = api_lock(r, "program_lock",
	    r->params[0])) == 0) {
		const char *p[4] = { r->params[0], title, summary, status };

		api_audited(r, "program", r->params[0]);
		rc = api_exec_one(r, "program_update", 4, p, 200);
	}
	v_free(&v);
	return api_result(rc);
}

int
api_program_delete(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc, gone;

	if ((rc = api_lock(r, "program_lock", r->params[0])) != 0)
		return api_result(rc);
	if ((res = db_exec(r->db, "program_delete", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	gone = PQntuples(res) == 1;
	PQclear(res);
	if (!gone)
		return http_problem(r, 409, "conflict", "Conflict", "the program "
		    "has cohorts; archive it instead");
	api_audited(r, "program", r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}
