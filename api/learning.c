/*
 * learning.c - what learners do, and what shapes it: lesson completions,
 * extensions, prerequisites that lock modules, and progress.  A
 * submission's path is submissions.c, which asks here for the learner's
 * enrollment.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"

static const struct db_stmt learning_stmts[] = {
	/* The learner's active enrollment in a cohort of the program that
	 * holds module $1 ($3: a cohort the learner named, or NULL). */
	{ "learn_enrollment", "SELECT e.id, e.cohort_id, count(*) OVER () FROM "
	  "modules m JOIN cohorts c ON c.tenant_id = m.tenant_id AND "
	  "c.program_id = m.program_id JOIN programs p ON p.tenant_id = "
	  "m.tenant_id AND p.id = m.program_id JOIN enrollments e ON "
	  "e.tenant_id = c.tenant_id AND e.cohort_id = c.id WHERE m.tenant_id = "
	  "current_tenant() AND m.id = $1 AND e.user_id = $2 AND e.state IN "
	  "('active', 'completed') AND p.status = 'published' AND ($3::uuid IS "
	  "NULL OR c.id = $3) ORDER BY e.enrolled_at" },
	{ "learn_lesson_module", "SELECT module_id FROM lessons WHERE "
	  "tenant_id = current_tenant() AND id = $1" },
	{ "learn_blocker", "SELECT id, title FROM module_blocker($1, $2)" },
	{ "learn_complete_lesson", "INSERT INTO lesson_completions (tenant_id, "
	  "enrollment_id, lesson_id) VALUES (current_tenant(), $1, $2) ON "
	  "CONFLICT DO NOTHING RETURNING rfc3339(completed_at)" },
	{ "learn_completion_get", "SELECT rfc3339(completed_at) FROM "
	  "lesson_completions WHERE tenant_id = current_tenant() AND "
	  "enrollment_id = $1 AND lesson_id = $2" },
	{ "learn_refresh", "SELECT enrollment_refresh($1)" },
	{ "learn_assessment_module", "SELECT module_id FROM assessments WHERE "
	  "tenant_id = current_tenant() AND id = $1" },
	/* Staff of the enrollment's cohort may grant an extension. */
	{ "learn_extension", "INSERT INTO extensions (tenant_id, assessment_id, "
	  "enrollment_id, due_at, extra_attempts, granted_by) SELECT "
	  "current_tenant(), a.id, e.id, $4::timestamptz, coalesce($5::int, 0), "
	  "$6::uuid FROM assessments a JOIN modules m ON m.tenant_id = "
	  "a.tenant_id AND m.id = a.module_id JOIN cohorts c ON c.tenant_id = "
	  "a.tenant_id AND c.program_id = m.program_id JOIN enrollments e ON "
	  "e.tenant_id = c.tenant_id AND e.cohort_id = c.id WHERE a.tenant_id = "
	  "current_tenant() AND a.id = $1 AND c.id = $2 AND e.user_id = $3 AND "
	  "cohort_visible(c.id, $7, $6::uuid) ON CONFLICT (tenant_id, "
	  "assessment_id, enrollment_id) DO UPDATE SET due_at = "
	  "coalesce(excluded.due_at, extensions.due_at), extra_attempts = CASE "
	  "WHEN $5::int IS NULL THEN extensions.extra_attempts ELSE "
	  "excluded.extra_attempts END, "
	  "granted_by = excluded.granted_by, granted_at = clock_timestamp() "
	  "RETURNING assessment_id, enrollment_id, rfc3339(due_at) AS due_at, "
	  "extra_attempts, rfc3339(granted_at) AS granted_at" },
	{ "learn_progress_one", "SELECT enrollment_progress(e.id) AS progress "
	  "FROM enrollments e WHERE e.tenant_id = current_tenant() AND "
	  "e.cohort_id = $1 AND e.user_id = $2" },
	{ "learn_progress_all", "SELECT enrollment_progress(e.id) AS progress, "
	  "e.enrolled_at::text AS _k_ts, e.id AS _k_id FROM enrollments e "
	  "WHERE e.tenant_id = current_tenant() AND e.cohort_id = $4 AND "
	  "e.state <> 'withdrawn' AND (e.enrolled_at, e.id) > ($1::timestamptz, "
	  "$2::uuid) ORDER BY e.enrolled_at, e.id LIMIT $3" },
};

void
api_learning_init(void)
{
	db_register(learning_stmts, sizeof(learning_stmts) /
	    sizeof(*learning_stmts));
}

/*
 * Find the caller's enrollment for work in module_id, and check the
 * module is unlocked.  0 with enrollment set; API_ANSWERED (409/422);
 * <0 error.
 */
static int
learn_enrollment(struct http_req *r, const char *module_id, char *enrollment)
{
	const char *cohort = NULL;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (r->json != NULL && json_is_object(r->json))
		cohort = json_string_value(json_object_get(r->json, "cohort_id"));
	if (cohort != NULL && !api_uuid_ok(cohort))
		return api_answered(http_problem(r, 422, "validation",
		    "Unprocessable Content", "cohort_id is not an id"));
	{
		const char *p[3] = { module_id, api_user(r), cohort };

		if ((res = db_exec(r->db, "learn_enrollment", 3, p)) == NULL)
			return CD_ERR_DATABASE;
	}
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else if (PQntuples(res) > 1)
		rc = api_answered(http_problem(r, 422, "validation",
		    "Unprocessable Content", "you are enrolled in several "
		    "cohorts of this program; say which with cohort_id"));
	else {
		snprintf(enrollment, 40, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	if (rc != 0)
		return rc;
	{
		const char *p[2] = { enrollment, module_id };

		if ((res = db_exec(r->db, "learn_blocker", 2, p)) == NULL)
			return CD_ERR_DATABASE;
	}
	if (PQntuples(res) == 1) {
		char d[300];

		snprintf(d, sizeof(d), "this module is locked until \"%s\" is "
		    "complete", PQgetvalue(res, 0, 1));
		rc = api_answered(http_problem_ext(r, 409, "module-locked",
		    "Conflict", d, json_pack("{s:{s:s, s:s}}", "missing_module",
		    "id", PQgetvalue(res, 0, 0), "title", PQgetvalue(res, 0,
		    1))));
	}
	PQclear(res);
	return rc;
}

static int
learn_module_of(struct http_req *r, const char *stmt, char *module)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, stmt, 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else {
		snprintf(module, 40, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
learn_refresh(struct http_req *r, const char *enrollment, char *state,
    size_t len)
{
	const char *p[1] = { enrollment };
	PGresult *res = db_exec(r->db, "learn_refresh", 1, p);

	if (res == NULL)
		return CD_ERR_DATABASE;
	snprintf(state, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int
api_learning_assessment_module(struct http_req *r, char *module)
{
	return learn_module_of(r, "learn_assessment_module", module);
}

int
api_learning_enrollment(struct http_req *r, const char *module_id,
    char *enrollment)
{
	return learn_enrollment(r, module_id, enrollment);
}

int
api_learning_refresh(struct http_req *r, const char *enrollment, char *state,
    size_t len)
{
	return learn_refresh(r, enrollment, state, len);
}

int
api_lesson_complete(struct http_req *r)
{
	char module[40], enrollment[40], state[16];
	PGresult *res;
	int rc, created;

	if ((rc = learn_module_of(r, "learn_lesson_module", module)) != 0)
		return api_result(rc);
	if (r->json != NULL && !json_is_object(r->json))
		return http_problem(r, 422, "validation", "Unprocessable Content",
		    "the body, if any, is {\"cohort_id\": ...}");
	if (r->json != NULL) {
		static const char *const allowed[] = { "cohort_id", NULL };
		struct api_v v;

		v_init(&v);
		v_only(&v, r->json, "", allowed);
		rc = v_failed(&v, r);
		v_free(&v);
		if (rc)
			return 0;
	}
	if ((rc = learn_enrollment(r, module, enrollment)) != 0)
		return api_result(rc);
	{
		const char *p[2] = { enrollment, r->params[0] };

		if ((res = db_exec(r->db, "learn_complete_lesson", 2, p)) == NULL)
			return CD_ERR_DATABASE;
		created = PQntuples(res) == 1;
		if (!created) {
			PQclear(res);
			/* Done before: this time it is a review. */
			if ((rc = api_today_lesson_reviewed(r, enrollment,
			    r->params[0])) != 0)
				return api_result(rc);
			if ((res = db_exec(r->db, "learn_completion_get", 2, p))
			    == NULL)
				return CD_ERR_DATABASE;
		}
	}
	if ((rc = learn_refresh(r, enrollment, state, sizeof(state))) != 0) {
		PQclear(res);
		return api_result(rc);
	}
	api_audited(r, "lesson", r->params[0]);
	rc = http_json(r, created ? 201 : 200, json_pack("{s:s, s:s, s:s, s:s}",
	    "lesson_id", r->params[0], "enrollment_id", enrollment,
	    "completed_at", PQgetvalue(res, 0, 0), "enrollment_state", state));
	PQclear(res);
	return api_result(rc);
}

int
api_extension_create(struct http_req *r)
{
	static const char *const allowed[] = { "user_id", "cohort_id",
		"due_at", "extra_attempts", NULL };
	struct api_v v;
	json_t *body;
	const char *user = NULL, *cohort = NULL, *due = NULL;
	char extra[16] = "";
	long x;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((body = v_begin(&v, r, allowed)) != NULL) {
		user = v_uuid(&v, body, "", "user_id", 1);
		cohort = v_uuid(&v, body, "", "cohort_id", 1);
		due = v_time(&v, body, "due_at", 0);
		if (v_int(&v, body, "", "extra_attempts", 0, 0, 100, &x))
			snprintf(extra, sizeof(extra), "%ld", x);
		if (due == NULL && extra[0] == '\0' &&
		    json_array_size(v.errors) == 0)
			v_error(&v, "", "give due_at, extra_attempts or both");
	}
	if ((rc = v_failed(&v, r)) == 0) {
		const char *p[7] = { r->params[0], cohort, user, due,
		    extra[0] ? extra : NULL, api_user(r), api_role(r) };

		if ((res = db_exec(r->db, "learn_extension", 7, p)) == NULL)
			rc = CD_ERR_DATABASE;
		else {
			if (PQntuples(res) == 1)
				api_audited(r, "extension",
				    PQgetvalue(res, 0, 1));
			rc = api_render_one(r, res, 201, NULL);
			PQclear(res);
		}
	}
	v_free(&v);
	return api_result(rc);
}

int
api_progress(struct http_req *r)
{
	PGresult *res;
	int rc;

	if ((rc = api_cohort_visible(r, r->params[0])) != 0)
		return api_result(rc);
	if (r->who.role == ROLE_LEARNER) {
		const char *p[2] = { r->params[0], api_user(r) };
		json_t *items = json_array();

		if ((res = db_exec(r->db, "learn_progress_one", 2, p)) == NULL) {
			json_decref(items);
			return CD_ERR_DATABASE;
		}
		for (int i = 0; i < PQntuples(res); i++)
			json_array_append_new(items, json_loads(PQgetvalue(res,
			    i, 0), 0, NULL));
		PQclear(res);
		return http_json(r, 200, json_pack("{s:o, s:n}", "items", items,
		    "next_cursor"));
	} else {
		struct api_page pg;

		if (api_page_parse(r, &pg) != 0)
			return 0;
		{
			const char *p[4] = { pg.after_ts, pg.after_id,
			    pg.limit_plus_one, r->params[0] };

			if ((res = db_exec(r->db, "learn_progress_all", 4, p))
			    == NULL)
				return api_page_failed(r);
		}
		rc = api_page_render_col(r, &pg, res, "progress");
		PQclear(res);
		return api_result(rc);
	}
}
