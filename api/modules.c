/*
 * modules.c - /v1/modules and /v1/programs/{id}/modules: a program's
 * modules, their order and their prerequisites.
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

#define MODULE_COLS "m.id, m.program_id, m.title, m.summary, m.position, " \
	"coalesce((SELECT json_agg(mp.prerequisite_id ORDER BY mp.prerequisite_id) " \
	"FROM module_prerequisites mp WHERE mp.tenant_id = m.tenant_id AND " \
	"mp.module_id = m.id), '[]') AS prerequisites, " \
	"(coalesce((SELECT sum(l.estimated_minutes) FROM lessons l WHERE " \
	"l.tenant_id = m.tenant_id AND l.module_id = m.id), 0) + " \
	"coalesce((SELECT sum(a.estimated_minutes) FROM assessments a WHERE " \
	"a.tenant_id = m.tenant_id AND a.module_id = m.id), 0))::int AS " \
	"estimated_minutes, rfc3339(m.created_at) AS created_at, " \
	"rfc3339(m.updated_at) AS updated_at, m.version AS _version"

static const struct db_stmt module_stmts[] = {
	{ "module_insert", "INSERT INTO modules AS m (tenant_id, program_id, "
	  "title, summary, position) SELECT current_tenant(), $1, $2, "
	  "coalesce($3, ''), coalesce(max(x.position), 0) + 1 FROM programs p "
	  "LEFT JOIN modules x ON x.tenant_id = p.tenant_id AND x.program_id = "
	  "p.id WHERE p.tenant_id = current_tenant() AND p.id = $1 "
	  "GROUP BY p.id RETURNING " MODULE_COLS },
	{ "module_get", "SELECT " MODULE_COLS " FROM modules m WHERE "
	  "m.tenant_id = current_tenant() AND m.id = $3 AND "
	  VISIBLE("m.program_id") },
	{ "module_list", "SELECT " MODULE_COLS " FROM modules m JOIN programs p "
	  "ON p.tenant_id = m.tenant_id AND p.id = m.program_id WHERE "
	  "m.tenant_id = current_tenant() AND m.program_id = $3 AND "
	  VISIBLE("p.id") " ORDER BY m.position, m.id" },
	{ "module_lock", "SELECT version, program_id FROM modules WHERE "
	  "tenant_id = current_tenant() AND id = $1 FOR UPDATE" },
	{ "module_update", "UPDATE modules m SET title = coalesce($2, title), "
	  "summary = coalesce($3, summary), updated_at = clock_timestamp(), "
	  "version = version + 1 WHERE m.tenant_id = current_tenant() AND "
	  "m.id = $1 RETURNING " MODULE_COLS },
	{ "module_delete", "DELETE FROM modules WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND NOT EXISTS (SELECT 1 FROM "
	  "submissions s JOIN assessments a ON a.tenant_id = s.tenant_id AND "
	  "a.id = s.assessment_id WHERE s.tenant_id = current_tenant() AND "
	  "a.module_id = $1) RETURNING id" },
	{ "module_prereq_clear", "DELETE FROM module_prerequisites WHERE "
	  "tenant_id = current_tenant() AND module_id = $1" },
	/* Only modules of the same program count; the caller checks the count. */
	{ "module_prereq_set", "INSERT INTO module_prerequisites (tenant_id, "
	  "module_id, prerequisite_id) SELECT current_tenant(), $1, x.id FROM "
	  "modules x JOIN modules m ON m.tenant_id = x.tenant_id AND "
	  "m.program_id = x.program_id WHERE m.tenant_id = current_tenant() AND "
	  "m.id = $1 AND x.id = ANY($2::uuid[]) AND x.id <> $1 RETURNING 1" },
	/* UNION, not UNION ALL: a cycle ends the recursion instead of it. */
	{ "module_prereq_cycle", "WITH RECURSIVE r(id) AS (SELECT "
	  "prerequisite_id FROM module_prerequisites WHERE tenant_id = "
	  "current_tenant() AND module_id = $1 UNION SELECT mp.prerequisite_id "
	  "FROM module_prerequisites mp JOIN r ON mp.module_id = r.id WHERE "
	  "mp.tenant_id = current_tenant()) SELECT EXISTS (SELECT 1 FROM r "
	  "WHERE id = $1)" },
	{ "module_order_check", "SELECT count(*) FILTER (WHERE id = ANY("
	  "$2::uuid[])), count(*) FROM modules WHERE tenant_id = "
	  "current_tenant() AND program_id = $1" },
	{ "module_order_set", "UPDATE modules m SET position = o.ord, "
	  "updated_at = clock_timestamp(), version = version + 1 FROM unnest("
	  "$2::uuid[]) WITH ORDINALITY AS o(id, ord) WHERE m.tenant_id = "
	  "current_tenant() AND m.program_id = $1 AND m.id = o.id" },

};

void
api_modules_init(void)
{
	db_register(module_stmts, sizeof(module_stmts) /
	    sizeof(*module_stmts));
}

int
api_module_insert(struct db_conn *c, const char *program_id,
    const char *title, const char *summary, char *id)
{
	const char *p[3] = { program_id, title, summary };

	return api_exec_first(c, "module_insert", 3, p, id, 40);
}

int
api_module_prereq_set(struct db_conn *c, const char *module_id,
    const char *ids)
{
	const char *p[2] = { module_id, ids };

	return api_exec_first(c, "module_prereq_set", 2, p, NULL, 0);
}

int
api_module_visible(struct http_req *r, const char *id)
{
	const char *p[3] = { api_role(r), api_user(r), id };

	return api_exec_exists(r->db, "module_get", 3, p);
}

/*
 * Replace a module's prerequisites with the ids in arr: all must be other
 * modules of the same program, and no cycle may result.  0 done,
 * API_ANSWERED (422), <0 error.
 */
static int
module_set_prereqs(struct http_req *r, const char *module_id, json_t *arr)
{
	const char *p[2] = { module_id, NULL };
	char *list = NULL;
	size_t n = json_array_size(arr);
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if ((res = db_exec(r->db, "module_prereq_clear", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	if (n == 0)
		return 0;
	if ((list = api_uuid_array(arr)) == NULL)
		return CD_ERR_NOMEM;
	p[1] = list;
	if ((res = db_exec(r->db, "module_prereq_set", 2, p)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if ((size_t)PQntuples(res) != n) {
		PQclear(res);
		rc = API_ANSWERED;
		http_problem_ext(r, 422, "validation", "Unprocessable Content",
		    "the request has invalid fields; see errors",
		    json_pack("{s:[{s:s, s:s}]}", "errors", "pointer",
		    "/prerequisites", "detail", "each must be another module of "
		    "the same program"));
		goto out;
	}
	PQclear(res);
	if ((res = db_exec(r->db, "module_prereq_cycle", 1, p)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (PQgetvalue(res, 0, 0)[0] == 't') {
		rc = API_ANSWERED;
		http_problem_ext(r, 422, "validation", "Unprocessable Content",
		    "the request has invalid fields; see errors",
		    json_pack("{s:[{s:s, s:s}]}", "errors", "pointer",
		    "/prerequisites", "detail", "these prerequisites would make "
		    "a cycle"));
	} else
		rc = 0;
	PQclear(res);
 out:
	free(list);
	return rc;
}

/* Validate "prerequisites": an array of distinct ids. */
static json_t *
v_prereqs(struct api_v *v, json_t *body)
{
	json_t *arr = json_object_get(body, "prerequisites"), *e;
	size_t i;

	if (arr == NULL)
		return NULL;
	if (!json_is_array(arr) || json_array_size(arr) > 100) {
		v_error(v, "/prerequisites", "must be an array of module ids");
		return NULL;
	}
	json_array_foreach(arr, i, e)
		if (!json_is_string(e) || !api_uuid_ok(json_string_value(e))) {
			v_error(v, "/prerequisites", "must be an array of module "
			    "ids");
			return NULL;
		}
	return arr;
}

int
api_module_create(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary",
		"prerequisites", NULL };
	struct api_v v;
	json_t *body, *prereqs = NULL;
	const char *title = NULL, *summary = NULL;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((body = v_begin(&v, r, allowed)) != NULL) {
		title = v_str(&v, body, "", "title", 1, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		prereqs = v_prereqs(&v, body);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	{
		const char *p[3] = { r->params[0], title, summary };

		if ((res = db_exec(r->db, "module_insert", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (PQntuples(res) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	if (prereqs != NULL) {
		char id[40];

		snprintf(id, sizeof(id), "%s", api_col(res, 0, "id"));
		if ((rc = module_set_prereqs(r, id, prereqs)) != 0)
			goto out;
		PQclear(res);
		{
			const char *p[3] = { api_role(r), api_user(r), id };

			if ((res = db_exec(r->db, "module_get", 3, p)) == NULL) {
				rc = CD_ERR_DATABASE;
				goto out;
			}
		}
	}
	api_audited(r, "module", api_col(res, 0, "id"));
	rc = api_render_one(r, res, 201, "/v1/modules/");
 out:
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_module_list(struct http_req *r)
{
	return api_child_list(r, api_program_visible, "module_list");
}

int
api_module_get(struct http_req *r)
{
	return api_visible_get(r, "module_get");
}

int
api_module_update(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary",
		"prerequisites", NULL };
	struct api_v v;
	json_t *body, *prereqs = NULL;
	const char *title = NULL, *summary = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		title = v_str(&v, body, "", "title", 0, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		prereqs = v_prereqs(&v, body);
	}
	if ((rc = v_failed(&v, r)) != 0 || (rc = api_lock(r, "module_lock",
	    r->params[0])) != 0)
		goto out;
	if (prereqs != NULL && (rc = module_set_prereqs(r, r->params[0],
	    prereqs)) != 0)
		goto out;
	{
		const char *p[3] = { r->params[0], title, summary };

		api_audited(r, "module", r->params[0]);
		rc = api_exec_one(r, "module_update", 3, p, 200);
	}
 out:
	v_free(&v);
	return api_result(rc);
}

int
api_module_delete(struct http_req *r)
{
	return api_delete_by(r, "module_lock", "module_delete", "module",
	    "the module's assessments have submissions; it is kept");
}

int
api_module_order(struct http_req *r)
{
	json_t *arr = r->json, *e;
	char *list;
	size_t i, n;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if (arr != NULL && json_is_object(arr))
		arr = json_object_get(arr, "module_ids");
	if (arr == NULL || !json_is_array(arr) || json_array_size(arr) > 1000)
		return http_problem(r, 422, "validation", "Unprocessable Content",
		    "send the program's module ids in their new order");
	n = json_array_size(arr);
	json_array_foreach(arr, i, e)
		if (!json_is_string(e) || !api_uuid_ok(json_string_value(e)))
			return http_problem(r, 422, "validation",
			    "Unprocessable Content", "item %zu is not an id", i);
	if ((list = api_uuid_array(arr)) == NULL)
		return CD_ERR_NOMEM;
	{
		const char *p[2] = { r->params[0], list };
		const char *pv[3] = { api_role(r), api_user(r), r->params[0] };

		if ((rc = api_program_visible(r, r->params[0])) != 0)
			goto out;
		if ((res = db_exec(r->db, "module_order_check", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		/* Every module exactly once: as many matches as modules, as
		 * many modules as ids. */
		if ((size_t)atol(PQgetvalue(res, 0, 0)) != n ||
		    (size_t)atol(PQgetvalue(res, 0, 1)) != n) {
			PQclear(res);
			rc = http_problem(r, 422, "validation",
			    "Unprocessable Content", "the list must hold every "
			    "module of the program exactly once");
			goto out;
		}
		PQclear(res);
		if ((res = db_exec(r->db, "module_order_set", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
		if ((res = db_exec(r->db, "module_list", 3, pv)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	api_audited(r, "program", r->params[0]);
	rc = api_render_list(r, res);
	PQclear(res);
 out:
	free(list);
	return api_result(rc);
}
