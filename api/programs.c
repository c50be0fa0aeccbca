/*
 * programs.c - the curriculum: /v1/programs, /v1/modules, /v1/lessons,
 * /v1/assessments (with their quiz questions).
 *
 * Admins and instructors author; learners read only published programs
 * they are enrolled in, and never see answer keys.  Every query carries
 * the caller's role and id so that visibility is decided in one place,
 * the SQL, by learner_sees_program().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"

/* $1 role, $2 user: who may see a row of program p. */
#define VISIBLE(p) "($1 <> 'learner' OR learner_sees_program(" p ", $2::uuid))"

#define PROGRAM_COLS "p.id, p.title, p.summary, p.status, " \
	"rfc3339(p.created_at) AS created_at, rfc3339(p.updated_at) AS " \
	"updated_at, p.version AS _version"
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
#define LESSON_COLS "l.id, l.module_id, l.title, l.body, l.estimated_minutes, " \
	"l.position, to_json(l.concepts) AS concepts, " \
	"rfc3339(l.created_at) AS created_at, " \
	"rfc3339(l.updated_at) AS updated_at, l.version AS _version"
/* Questions: answer keys only when $1 (role) is not 'learner'. */
#define ASSESSMENT_COLS "a.id, a.module_id, a.title, a.kind, a.exercise_id, a.weight, " \
	"a.max_attempts, a.pass_score, a.due_days, a.estimated_minutes, " \
	"a.position, (SELECT coalesce(json_agg(CASE WHEN $1 = 'learner' THEN " \
	"jsonb_build_object('id', q.id, 'kind', q.kind, 'prompt', q.prompt, " \
	"'options', q.options, 'points', q.points, 'concepts', " \
	"to_jsonb(q.concepts)) ELSE jsonb_build_object(" \
	"'id', q.id, 'kind', q.kind, 'prompt', q.prompt, 'options', q.options, " \
	"'points', q.points, 'answer', q.answer, 'tolerance', q.tolerance, " \
	"'concepts', to_jsonb(q.concepts), 'explanation', q.explanation) END " \
	"ORDER BY q.position), '[]') FROM quiz_questions q WHERE q.tenant_id = " \
	"a.tenant_id AND q.assessment_id = a.id) AS questions, " \
	"rfc3339(a.created_at) AS created_at, rfc3339(a.updated_at) AS " \
	"updated_at, a.version AS _version"

static const struct db_stmt program_stmts[] = {
	/* programs */
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

	/* modules */
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

	/* lessons */
	{ "lesson_insert", "INSERT INTO lessons AS l (tenant_id, module_id, "
	  "title, body, estimated_minutes, position, concepts) SELECT "
	  "current_tenant(), $1, $2, coalesce($3, ''), $4::int, coalesce("
	  "$5::int, coalesce(max(x.position), 0) + 1), coalesce($6::text[], "
	  "'{}') FROM modules m LEFT JOIN lessons x ON "
	  "x.tenant_id = m.tenant_id AND x.module_id = m.id WHERE m.tenant_id = "
	  "current_tenant() AND m.id = $1 GROUP BY m.id RETURNING " LESSON_COLS },
	{ "lesson_get", "SELECT " LESSON_COLS " FROM lessons l JOIN modules m ON "
	  "m.tenant_id = l.tenant_id AND m.id = l.module_id WHERE l.tenant_id = "
	  "current_tenant() AND l.id = $3 AND " VISIBLE("m.program_id") },
	{ "lesson_list", "SELECT " LESSON_COLS " FROM lessons l JOIN modules m ON "
	  "m.tenant_id = l.tenant_id AND m.id = l.module_id WHERE l.tenant_id = "
	  "current_tenant() AND l.module_id = $3 AND " VISIBLE("m.program_id")
	  " ORDER BY l.position, l.id" },
	{ "lesson_lock", "SELECT version FROM lessons WHERE tenant_id = "
	  "current_tenant() AND id = $1 FOR UPDATE" },
	{ "lesson_update", "UPDATE lessons l SET title = coalesce($2, title), "
	  "body = coalesce($3, body), estimated_minutes = coalesce($4::int, "
	  "estimated_minutes), position = coalesce($5::int, position), "
	  "concepts = coalesce($6::text[], concepts), "
	  "updated_at = clock_timestamp(), version = version + 1 WHERE "
	  "l.tenant_id = current_tenant() AND l.id = $1 RETURNING " LESSON_COLS },
	{ "lesson_delete", "DELETE FROM lessons WHERE tenant_id = "
	  "current_tenant() AND id = $1 RETURNING id" },

	/* assessments */
	{ "assessment_insert", "INSERT INTO assessments AS a (tenant_id, "
	  "module_id, title, kind, weight, max_attempts, pass_score, due_days, "
	  "estimated_minutes, position, exercise_id) SELECT current_tenant(), $1, "
	  "$2, $3, coalesce($4::numeric, 1), $5::int, coalesce($6::numeric, 70), "
	  "$7::int, coalesce($8::int, 5), coalesce(max(x.position), 0) + 1, "
	  "(SELECT e.id FROM exercises e WHERE e.tenant_id = current_tenant() "
	  "AND e.id = $9::uuid) FROM "
	  "modules m LEFT JOIN assessments x ON x.tenant_id = m.tenant_id AND "
	  "x.module_id = m.id WHERE m.tenant_id = current_tenant() AND m.id = $1 "
	  "GROUP BY m.id RETURNING a.id" },
	{ "assessment_get", "SELECT " ASSESSMENT_COLS " FROM assessments a JOIN "
	  "modules m ON m.tenant_id = a.tenant_id AND m.id = a.module_id WHERE "
	  "a.tenant_id = current_tenant() AND a.id = $3 AND "
	  VISIBLE("m.program_id") },
	{ "assessment_list", "SELECT " ASSESSMENT_COLS " FROM assessments a JOIN "
	  "modules m ON m.tenant_id = a.tenant_id AND m.id = a.module_id WHERE "
	  "a.tenant_id = current_tenant() AND a.module_id = $3 AND "
	  VISIBLE("m.program_id") " ORDER BY a.position, a.id" },
	{ "assessment_lock", "SELECT version, kind FROM assessments WHERE "
	  "tenant_id = current_tenant() AND id = $1 FOR UPDATE" },
	/* Nullable settings: $9 and $10 say "set it to null". */
	{ "assessment_update", "UPDATE assessments SET title = coalesce($2, "
	  "title), weight = coalesce($3::numeric, weight), max_attempts = CASE "
	  "WHEN $9::bool THEN NULL ELSE coalesce($4::int, max_attempts) END, "
	  "pass_score = coalesce($5::numeric, pass_score), due_days = CASE WHEN "
	  "$10::bool THEN NULL ELSE coalesce($6::int, due_days) END, "
	  "estimated_minutes = coalesce($7::int, estimated_minutes), "
	  "position = coalesce($8::int, position), updated_at = "
	  "clock_timestamp(), version = version + 1 WHERE tenant_id = "
	  "current_tenant() AND id = $1 RETURNING id" },
	{ "assessment_delete", "DELETE FROM assessments WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND NOT EXISTS (SELECT 1 FROM "
	  "submissions s WHERE s.tenant_id = current_tenant() AND "
	  "s.assessment_id = $1) RETURNING id" },
	{ "question_clear", "DELETE FROM quiz_questions WHERE tenant_id = "
	  "current_tenant() AND assessment_id = $1" },
	{ "question_insert", "INSERT INTO quiz_questions (tenant_id, "
	  "assessment_id, position, kind, prompt, options, points, answer, "
	  "tolerance, concepts, explanation) VALUES (current_tenant(), $1, "
	  "$2::int, $3, $4, $5::jsonb, $6::numeric, $7::jsonb, coalesce("
	  "$8::numeric, 0), coalesce($9::text[], '{}'), $10)" },
};

void
api_programs_init(void)
{
	db_register(program_stmts, sizeof(program_stmts) /
	    sizeof(*program_stmts));
}

static const char *const program_statuses[] = { "draft", "published",
	"archived", NULL };

/* One curriculum object the caller may see ($1 role, $2 user, $3 id). */
static int
visible_get(struct http_req *r, const char *stmt)
{
	const char *p[3] = { api_role(r), api_user(r), r->params[0] };

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return api_exec_one(r, stmt, 3, p, 200);
}

/*
 * The children of a parent the caller may see, in order, unpaged (a
 * program has tens of modules, a module a handful of items): 404 when
 * the parent is not visible, even if it has no children.
 */
static int
child_list(struct http_req *r, const char *parent_stmt, const char *list_stmt)
{
	const char *p[3] = { api_role(r), api_user(r), r->params[0] };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, parent_stmt, 3, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return CD_ERR_NOT_FOUND;
	}
	PQclear(res);
	if ((res = db_exec(r->db, list_stmt, 3, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_list(r, res);
	PQclear(res);
	return rc;
}

/* ---- programs --------------------------------------------------------- */

int
api_program_create(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary", "status",
		NULL };
	struct api_v v;
	json_t *body;
	const char *title = NULL, *summary = NULL, *status = NULL;
	PGresult *res;
	int rc = 0;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		title = v_str(&v, body, "", "title", 1, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		status = v_enum(&v, body, "", "status", 0, program_statuses);
	}
	if (!v_failed(&v, r)) {
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
	return rc;
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
	return rc;
}

int
api_program_get(struct http_req *r)
{
	return visible_get(r, "program_get");
}

int
api_program_update(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary", "status",
		NULL };
	struct api_v v;
	json_t *body;
	const char *title = NULL, *summary = NULL, *status = NULL;
	int rc = 0;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		title = v_str(&v, body, "", "title", 0, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		status = v_enum(&v, body, "", "status", 0, program_statuses);
	}
	if (!v_failed(&v, r) && (rc = api_lock(r, "program_lock",
	    r->params[0])) == 0) {
		const char *p[4] = { r->params[0], title, summary, status };

		api_audited(r, "program", r->params[0]);
		rc = api_exec_one(r, "program_update", 4, p, 200);
	}
	v_free(&v);
	return rc > 0 ? 0 : rc;
}

int
api_program_delete(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc, gone;

	if ((rc = api_lock(r, "program_lock", r->params[0])) != 0)
		return rc > 0 ? 0 : rc;
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

/* ---- modules ---------------------------------------------------------- */

/*
 * Replace a module's prerequisites with the ids in arr: all must be other
 * modules of the same program, and no cycle may result.  0 done, 1
 * answered (422), <0 error.
 */
static int
module_set_prereqs(struct http_req *r, const char *module_id, json_t *arr)
{
	const char *p[2] = { module_id, NULL };
	char *list = NULL;
	size_t n = json_array_size(arr);
	PGresult *res;
	int rc = 0;

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
		rc = 1;
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
		rc = 1;
		http_problem_ext(r, 422, "validation", "Unprocessable Content",
		    "the request has invalid fields; see errors",
		    json_pack("{s:[{s:s, s:s}]}", "errors", "pointer",
		    "/prerequisites", "detail", "these prerequisites would make "
		    "a cycle"));
	}
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
	int rc = 0;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		title = v_str(&v, body, "", "title", 1, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		prereqs = v_prereqs(&v, body);
	}
	if (v_failed(&v, r))
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
	return rc > 0 ? 0 : rc;
}

int
api_module_list(struct http_req *r)
{
	return child_list(r, "program_get", "module_list");
}

int
api_module_get(struct http_req *r)
{
	return visible_get(r, "module_get");
}

int
api_module_update(struct http_req *r)
{
	static const char *const allowed[] = { "title", "summary",
		"prerequisites", NULL };
	struct api_v v;
	json_t *body, *prereqs = NULL;
	const char *title = NULL, *summary = NULL;
	int rc = 0;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		title = v_str(&v, body, "", "title", 0, 1, 200);
		summary = v_str(&v, body, "", "summary", 0, 0, 4000);
		prereqs = v_prereqs(&v, body);
	}
	if (v_failed(&v, r) || (rc = api_lock(r, "module_lock",
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
	return rc > 0 ? 0 : rc;
}

static int
api_delete_by(struct http_req *r, const char *lock, const char *del,
    const char *type, const char *busy)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc, gone;

	if ((rc = api_lock(r, lock, r->params[0])) != 0)
		return rc > 0 ? 0 : rc;
	if ((res = db_exec(r->db, del, 1, p)) == NULL)
		return CD_ERR_DATABASE;
	gone = PQntuples(res) == 1;
	PQclear(res);
	if (!gone)
		return http_problem(r, 409, "conflict", "Conflict", "%s", busy);
	api_audited(r, type, r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
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
	int rc = 0;

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

		if ((res = db_exec(r->db, "program_get", 3, pv)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		if (PQntuples(res) == 0)
			rc = CD_ERR_NOT_FOUND;
		PQclear(res);
		if (rc != 0)
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
	return rc;
}

/* ---- lessons ---------------------------------------------------------- */

static int
lesson_fields(struct api_v *v, json_t *body, int creating, const char **title,
    const char **text, char *minutes, char *position, char **concepts)
{
	static const char *const allowed[] = { "title", "body",
		"estimated_minutes", "position", "concepts", NULL };
	long m, pos;

	v_only(v, body, "", allowed);
	api_concepts_field(v, body, "", concepts);
	*title = v_str(v, body, "", "title", creating, 1, 200);
	*text = v_str(v, body, "", "body", 0, 0, 65536);
	minutes[0] = position[0] = '\0';
	if (v_int(v, body, "", "estimated_minutes", creating, 1, 60, &m))
		snprintf(minutes, 16, "%ld", m);
	if (v_int(v, body, "", "position", 0, 1, 100000, &pos))
		snprintf(position, 16, "%ld", pos);
	return 0;
}

int
api_lesson_create(struct http_req *r)
{
	struct api_v v;
	json_t *body;
	const char *title = NULL, *text = NULL;
	char minutes[16] = "", position[16] = "", *concepts = NULL;
	PGresult *res;
	int rc = 0;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	v_init(&v);
	if ((body = v_body(&v, r)) != NULL)
		lesson_fields(&v, body, 1, &title, &text, minutes, position,
		    &concepts);
	if (!v_failed(&v, r)) {
		const char *p[6] = { r->params[0], title, text, minutes,
		    position[0] ? position : NULL, concepts };

		if ((res = db_exec(r->db, "lesson_insert", 6, p)) == NULL)
			rc = CD_ERR_DATABASE;
		else {
			if (PQntuples(res) == 1)
				api_audited(r, "lesson", api_col(res, 0, "id"));
			rc = api_render_one(r, res, 201, "/v1/lessons/");
			PQclear(res);
		}
	}
	free(concepts);
	v_free(&v);
	return rc;
}

int
api_lesson_list(struct http_req *r)
{
	return child_list(r, "module_get", "lesson_list");
}

int
api_lesson_get(struct http_req *r)
{
	return visible_get(r, "lesson_get");
}

int
api_lesson_update(struct http_req *r)
{
	struct api_v v;
	json_t *body;
	const char *title = NULL, *text = NULL;
	char minutes[16] = "", position[16] = "", *concepts = NULL;
	int rc = 0;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL)
		lesson_fields(&v, body, 0, &title, &text, minutes, position,
		    &concepts);
	if (!v_failed(&v, r) && (rc = api_lock(r, "lesson_lock",
	    r->params[0])) == 0) {
		const char *p[6] = { r->params[0], title, text,
		    minutes[0] ? minutes : NULL, position[0] ? position : NULL,
		    concepts };

		api_audited(r, "lesson", r->params[0]);
		rc = api_exec_one(r, "lesson_update", 6, p, 200);
	}
	free(concepts);
	v_free(&v);
	return rc > 0 ? 0 : rc;
}

int
api_lesson_delete(struct http_req *r)
{
	return api_delete_by(r, "lesson_lock", "lesson_delete", "lesson",
	    "the lesson cannot be deleted");
}

/* ---- assessments and quiz questions ----------------------------------- */

/*
 * Validate one question at pointer base; on success fill the SQL
 * parameters (options and answer as JSON text, owned by the caller).
 */
static void
question_check(struct api_v *v, json_t *q, const char *base)
{
	static const char *const allowed[] = { "kind", "prompt", "options",
		"points", "answer", "tolerance", "concepts", "explanation",
		NULL };
	static const char *const kinds[] = { "single_choice", "multiple_choice",
		"true_false", "numeric", NULL };
	json_t *opts, *ans, *e;
	const char *kind;
	char ptr[128];
	double pts, tol;
	size_t i, nopt = 0;

	if (!json_is_object(q)) {
		v_error(v, base, "must be an object");
		return;
	}
	v_only(v, q, base, allowed);
	kind = v_enum(v, q, base, "kind", 1, kinds);
	v_str(v, q, base, "prompt", 1, 1, 4000);
	v_str(v, q, base, "explanation", 0, 1, 4000);
	{
		char *c = NULL;

		api_concepts_field(v, q, base, &c);
		free(c);
	}
	v_num(v, q, base, "points", 0, 0.01, 1000, &pts);
	opts = json_object_get(q, "options");
	ans = json_object_get(q, "answer");
	snprintf(ptr, sizeof(ptr), "%s/answer", base);
	if (ans == NULL) {
		v_error(v, ptr, "is required");
		return;
	}
	if (kind == NULL)
		return;
	if (strcmp(kind, "single_choice") == 0 ||
	    strcmp(kind, "multiple_choice") == 0) {
		char optr[128];

		snprintf(optr, sizeof(optr), "%s/options", base);
		if (!json_is_array(opts) || json_array_size(opts) < 2 ||
		    json_array_size(opts) > 20) {
			v_error(v, optr, "must be 2 to 20 strings");
			return;
		}
		json_array_foreach(opts, i, e)
			if (!json_is_string(e) || json_string_length(e) == 0) {
				v_error(v, optr, "must be 2 to 20 strings");
				return;
			}
		nopt = json_array_size(opts);
	} else if (opts != NULL && !(json_is_array(opts) &&
	    json_array_size(opts) == 0)) {
		snprintf(ptr, sizeof(ptr), "%s/options", base);
		v_error(v, ptr, "only choice questions have options");
	}
	if (strcmp(kind, "single_choice") == 0) {
		if (!json_is_integer(ans) || json_integer_value(ans) < 0 ||
		    (size_t)json_integer_value(ans) >= nopt)
			v_error(v, ptr, "must be the index of an option");
	} else if (strcmp(kind, "multiple_choice") == 0) {
		long last = -1;

		if (!json_is_array(ans) || json_array_size(ans) == 0) {
			v_error(v, ptr, "must be a sorted array of option "
			    "indexes");
			return;
		}
		json_array_foreach(ans, i, e)
			if (!json_is_integer(e) || json_integer_value(e) <= last ||
			    (size_t)json_integer_value(e) >= nopt) {
				v_error(v, ptr, "must be a sorted array of "
				    "distinct option indexes");
				return;
			} else
				last = (long)json_integer_value(e);
	} else if (strcmp(kind, "true_false") == 0) {
		if (!json_is_boolean(ans))
			v_error(v, ptr, "must be true or false");
	} else {
		if (!json_is_number(ans))
			v_error(v, ptr, "must be a number");
		v_num(v, q, base, "tolerance", 0, 0, 1e12, &tol);
	}
}

/* Replace the assessment's questions with arr (already validated). */
static int
questions_store(struct http_req *r, const char *assessment_id, json_t *arr)
{
	const char *p[1] = { assessment_id };
	PGresult *res;
	json_t *q;
	size_t i;
	int rc = 0;

	if ((res = db_exec(r->db, "question_clear", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	json_array_foreach(arr, i, q) {
		char pos[24], pts[32], tol[32];
		char *opts, *ans, *concepts = NULL;
		struct api_v cv;
		json_t *o = json_object_get(q, "options");
		json_t *pj = json_object_get(q, "points");
		json_t *tj = json_object_get(q, "tolerance");

		snprintf(pos, sizeof(pos), "%zu", i + 1);
		snprintf(pts, sizeof(pts), "%.17g", pj ? json_number_value(pj) :
		    1.0);
		snprintf(tol, sizeof(tol), "%.17g", tj ? json_number_value(tj) :
		    0.0);
		opts = o ? json_dumps(o, JSON_COMPACT) : strdup("[]");
		ans = json_dumps(json_object_get(q, "answer"), JSON_COMPACT |
		    JSON_ENCODE_ANY);
		/* Validated by question_check already. */
		v_init(&cv);
		api_concepts_field(&cv, q, "", &concepts);
		v_free(&cv);
		{
			const char *qp[10] = { assessment_id, pos,
			    json_string_value(json_object_get(q, "kind")),
			    json_string_value(json_object_get(q, "prompt")),
			    opts, pts, ans, tol, concepts, json_string_value(
			    json_object_get(q, "explanation")) };

			if ((res = db_exec(r->db, "question_insert", 10, qp))
			    == NULL)
				rc = CD_ERR_DATABASE;
			PQclear(res);
		}
		free(opts);
		free(ans);
		free(concepts);
		if (rc != 0)
			break;
	}
	return rc;
}

struct assessment_in {
	const char	*title, *kind, *exercise_id;
	char		 weight[32], max_attempts[16], pass_score[32];
	char		 due_days[16], minutes[16], position[16];
	int		 max_null, due_null;
	json_t		*questions;
};

static void
assessment_fields(struct api_v *v, json_t *body, int creating,
    struct assessment_in *in)
{
	static const char *const allowed[] = { "title", "kind", "weight",
		"max_attempts", "pass_score", "due_days", "estimated_minutes",
		"position", "questions", "exercise_id", NULL };
	static const char *const kinds[] = { "quiz", "exercise", NULL };
	double d;
	long l;
	json_t *e;
	size_t i;

	memset(in, 0, sizeof(*in));
	v_only(v, body, "", allowed);
	in->title = v_str(v, body, "", "title", creating, 1, 200);
	if (creating)
		in->kind = v_enum(v, body, "", "kind", 1, kinds);
	else if (json_object_get(body, "kind") != NULL)
		v_error(v, "/kind", "cannot be changed");
	in->exercise_id = v_uuid(v, body, "", "exercise_id", 0);
	if (in->kind != NULL && strcmp(in->kind, "exercise") == 0 &&
	    in->exercise_id == NULL && json_object_get(body, "exercise_id") ==
	    NULL)
		v_error(v, "/exercise_id", "an exercise assessment names its "
		    "exercise");
	if (in->exercise_id != NULL && (!creating || in->kind == NULL ||
	    strcmp(in->kind, "exercise") != 0))
		v_error(v, "/exercise_id", "only exercise assessments have one, "
		    "set at creation");
	if (v_num(v, body, "", "weight", 0, 0, 1000, &d))
		snprintf(in->weight, sizeof(in->weight), "%.17g", d);
	if (v_int_null(v, body, "max_attempts", 1, 1000, &l, &in->max_null) &&
	    !in->max_null)
		snprintf(in->max_attempts, sizeof(in->max_attempts), "%ld", l);
	if (v_num(v, body, "", "pass_score", 0, 0, 100, &d))
		snprintf(in->pass_score, sizeof(in->pass_score), "%.17g", d);
	if (v_int_null(v, body, "due_days", 0, 3650, &l, &in->due_null) &&
	    !in->due_null)
		snprintf(in->due_days, sizeof(in->due_days), "%ld", l);
	if (v_int(v, body, "", "estimated_minutes", 0, 1, 240, &l))
		snprintf(in->minutes, sizeof(in->minutes), "%ld", l);
	if (v_int(v, body, "", "position", 0, 1, 100000, &l))
		snprintf(in->position, sizeof(in->position), "%ld", l);
	in->questions = json_object_get(body, "questions");
	if (in->questions != NULL) {
		if (!json_is_array(in->questions) ||
		    json_array_size(in->questions) > 200)
			v_error(v, "/questions", "must be an array of up to 200 "
			    "questions");
		else
			json_array_foreach(in->questions, i, e) {
				char base[32];

				snprintf(base, sizeof(base), "/questions/%zu", i);
				question_check(v, e, base);
			}
	} else if (creating && in->kind != NULL && strcmp(in->kind, "quiz") == 0)
		v_error(v, "/questions", "a quiz needs its questions");
	if (in->questions != NULL && in->kind != NULL &&
	    strcmp(in->kind, "exercise") == 0)
		v_error(v, "/questions", "exercises have no questions");
}

#define NUL_IF_EMPTY(s)	((s)[0] ? (s) : NULL)

int
api_assessment_create(struct http_req *r)
{
	struct assessment_in in;
	struct api_v v;
	json_t *body;
	PGresult *res = NULL;
	char id[40];
	int rc = 0;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	v_init(&v);
	if ((body = v_body(&v, r)) != NULL)
		assessment_fields(&v, body, 1, &in);
	if (v_failed(&v, r))
		goto out;
	{
		const char *p[9] = { r->params[0], in.title, in.kind,
		    NUL_IF_EMPTY(in.weight), NUL_IF_EMPTY(in.max_attempts),
		    NUL_IF_EMPTY(in.pass_score), NUL_IF_EMPTY(in.due_days),
		    NUL_IF_EMPTY(in.minutes), in.exercise_id };

		if ((res = db_exec(r->db, "assessment_insert", 9, p)) == NULL) {
			/* The check ties kind to a real exercise. */
			if (strcmp(db_error_sqlstate(r->db), "23514") == 0)
				rc = http_problem_ext(r, 422, "validation",
				    "Unprocessable Content", "the request has "
				    "invalid fields; see errors", json_pack(
				    "{s:[{s:s, s:s}]}", "errors", "pointer",
				    "/exercise_id", "detail", "no such exercise"));
			else
				rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (PQntuples(res) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (in.questions != NULL &&
	    (rc = questions_store(r, id, in.questions)) != 0)
		goto out;
	api_audited(r, "assessment", id);
	{
		const char *p[3] = { api_role(r), api_user(r), id };

		if ((res = db_exec(r->db, "assessment_get", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		rc = api_render_one(r, res, 201, "/v1/assessments/");
	}
 out:
	PQclear(res);
	v_free(&v);
	return rc;
}

int
api_assessment_list(struct http_req *r)
{
	return child_list(r, "module_get", "assessment_list");
}

int
api_assessment_get(struct http_req *r)
{
	return visible_get(r, "assessment_get");
}

int
api_assessment_update(struct http_req *r)
{
	struct assessment_in in;
	struct api_v v;
	json_t *body;
	PGresult *res;
	int rc = 0;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL)
		assessment_fields(&v, body, 0, &in);
	if (v_failed(&v, r) || (rc = api_lock(r, "assessment_lock",
	    r->params[0])) != 0)
		goto out;
	{
		const char *p[10] = { r->params[0], in.title,
		    NUL_IF_EMPTY(in.weight), NUL_IF_EMPTY(in.max_attempts),
		    NUL_IF_EMPTY(in.pass_score), NUL_IF_EMPTY(in.due_days),
		    NUL_IF_EMPTY(in.minutes), NUL_IF_EMPTY(in.position),
		    in.max_null ? "true" : "false",
		    in.due_null ? "true" : "false" };

		if ((res = db_exec(r->db, "assessment_update", 10, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
	}
	if (in.questions != NULL && (rc = questions_store(r, r->params[0],
	    in.questions)) != 0)
		goto out;
	api_audited(r, "assessment", r->params[0]);
	{
		const char *p[3] = { api_role(r), api_user(r), r->params[0] };

		rc = api_exec_one(r, "assessment_get", 3, p, 200);
	}
 out:
	v_free(&v);
	return rc > 0 ? 0 : rc;
}

int
api_assessment_delete(struct http_req *r)
{
	return api_delete_by(r, "assessment_lock", "assessment_delete",
	    "assessment", "the assessment has submissions and is kept");
}
