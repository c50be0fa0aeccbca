/*
 * learning.c - what learners do, and what shapes it: lesson completions,
 * quiz submissions (graded at once, late policy applied), extensions,
 * prerequisites that lock modules, and progress.
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
	/* Everything grading needs about the assessment for this enrollment:
	 * attempts used and allowed, the due time (an extension wins), days
	 * late now, and the cohort's late policy. */
	{ "learn_assessment", "SELECT a.kind, a.max_attempts + coalesce("
	  "x.extra_attempts, 0), a.pass_score, (SELECT count(*) FROM "
	  "submissions s WHERE s.tenant_id = a.tenant_id AND s.assessment_id = "
	  "a.id AND s.enrollment_id = $2), CASE WHEN coalesce(x.due_at, "
	  "c.starts_at + a.due_days * interval '1 day') < now() THEN ceil("
	  "extract(epoch FROM now() - coalesce(x.due_at, c.starts_at + "
	  "a.due_days * interval '1 day')) / 86400)::int ELSE 0 END, "
	  "c.late_percent_per_day, c.late_floor, a.module_id FROM assessments a "
	  "JOIN enrollments e ON e.tenant_id = a.tenant_id AND e.id = $2 JOIN "
	  "cohorts c ON c.tenant_id = e.tenant_id AND c.id = e.cohort_id LEFT "
	  "JOIN extensions x ON x.tenant_id = a.tenant_id AND x.assessment_id = "
	  "a.id AND x.enrollment_id = e.id WHERE a.tenant_id = current_tenant() "
	  "AND a.id = $1" },
	{ "learn_assessment_module", "SELECT module_id FROM assessments WHERE "
	  "tenant_id = current_tenant() AND id = $1" },
	{ "learn_questions", "SELECT id, kind, points, answer::text, tolerance, "
	  "jsonb_array_length(options) FROM quiz_questions WHERE tenant_id = "
	  "current_tenant() AND assessment_id = $1 ORDER BY position" },
	{ "learn_submission_insert", "INSERT INTO submissions (tenant_id, "
	  "assessment_id, enrollment_id, user_id, attempt, answers, score, late, "
	  "days_late, penalty, final_score, passed, detail) VALUES "
	  "(current_tenant(), $1, $2, $3, $4::int, $5::jsonb, $6::numeric, "
	  "$7::bool, $8::int, $9::numeric, $10::numeric, $11::bool, $12::jsonb) "
	  "RETURNING id, attempt, rfc3339(submitted_at) AS submitted_at, "
	  "round(score, 2)::float8 AS score, late, days_late, "
	  "round(penalty, 2)::float8 AS penalty, round(final_score, 2)::float8 "
	  "AS final_score, passed, detail" },
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

/* ---- quizzes ---------------------------------------------------------- */

int
api_quiz_right(const char *kind, json_t *key, double tol, json_t *a)
{
	int right = 0;

	if (a == NULL || json_is_null(a))
		right = 0;
	else if (strcmp(kind, "single_choice") == 0)
		right = json_is_integer(a) && json_is_integer(key) &&
		    json_integer_value(a) == json_integer_value(key);
	else if (strcmp(kind, "true_false") == 0)
		right = json_is_boolean(a) && json_is_boolean(key) &&
		    json_is_true(a) == json_is_true(key);
	else if (strcmp(kind, "numeric") == 0)
		right = json_is_number(a) && json_is_number(key) &&
		    fabs(json_number_value(a) - json_number_value(key))
		    <= tol + 1e-9;
	else if (strcmp(kind, "multiple_choice") == 0) {
		/* The exact set, in any order. */
		size_t n = json_array_size(key), k, j;
		json_t *e;

		right = json_is_array(a) && json_array_size(a) == n;
		json_array_foreach(a, k, e) {
			int hit = 0;

			for (j = 0; right && j < n; j++)
				hit |= json_is_integer(e) &&
				    json_integer_value(e) ==
				    json_integer_value(json_array_get(key, j));
			right = right && hit;
		}
	}
	return right;
}

/*
 * Grade answers against the questions in q: per question points earned
 * and whether it was right; returns the percent (0 when the quiz has no
 * points).
 */
static double
quiz_grade(PGresult *q, json_t *answers, json_t *detail)
{
	double total = 0, earned = 0;

	for (int i = 0; i < PQntuples(q); i++) {
		const char *kind = PQgetvalue(q, i, 1);
		double pts = strtod(PQgetvalue(q, i, 2), NULL);
		json_t *key = json_loads(PQgetvalue(q, i, 3), JSON_DECODE_ANY,
		    NULL);
		double tol = strtod(PQgetvalue(q, i, 4), NULL);
		json_t *a = json_array_get(answers, (size_t)i);
		int right = api_quiz_right(kind, key, tol, a);

		total += pts;
		if (right)
			earned += pts;
		json_array_append_new(detail, json_pack("{s:s, s:b, s:f, s:f}",
		    "question_id", PQgetvalue(q, i, 0), "correct", right,
		    "points", right ? pts : 0.0, "max_points", pts));
		json_decref(key);
	}
	return total > 0 ? 100.0 * earned / total : 0;
}

int
api_submission_create(struct http_req *r)
{
	static const char *const allowed[] = { "answers", "cohort_id", NULL };
	char module[40], enrollment[40], state[16];
	char attempt[16], score_s[32], days_s[16], pen_s[32], final_s[32];
	json_t *answers, *detail = NULL, *out;
	PGresult *a = NULL, *q = NULL, *s = NULL;
	struct api_v v;
	char *ans_text = NULL, *det_text = NULL;
	double score, penalty = 0, final_, per_day, floor_;
	int rc, days_late, used, allowed_n;

	v_init(&v);
	if ((rc = learn_module_of(r, "learn_assessment_module", module)) != 0)
		goto out;
	if (v_body(&v, r) == NULL && (rc = v_failed(&v, r)) != 0)
		goto out;
	if ((rc = learn_enrollment(r, module, enrollment)) != 0) {
		rc = api_result(rc);
		goto out;
	}
	{
		const char *p[2] = { r->params[0], enrollment };

		if ((a = db_exec(r->db, "learn_assessment", 2, p)) == NULL ||
		    PQntuples(a) != 1) {
			rc = a == NULL ? CD_ERR_DATABASE : CD_ERR_NOT_FOUND;
			goto out;
		}
	}
	used = atoi(PQgetvalue(a, 0, 3));
	allowed_n = PQgetisnull(a, 0, 1) ? -1 : atoi(PQgetvalue(a, 0, 1));
	if (allowed_n >= 0 && used >= allowed_n) {
		rc = http_problem(r, 409, "attempts-exhausted", "Conflict",
		    "all %d attempts are used", allowed_n);
		goto out;
	}
	/* Late policy: per_day percent of the score per day late, never
	 * more than (100 - floor) percent. */
	days_late = atoi(PQgetvalue(a, 0, 4));
	per_day = strtod(PQgetvalue(a, 0, 5), NULL);
	floor_ = strtod(PQgetvalue(a, 0, 6), NULL);
	if (days_late > 0)
		penalty = fmin(per_day * days_late, 100.0 - floor_);
	if (strcmp(PQgetvalue(a, 0, 0), "exercise") == 0) {
		rc = api_exercise_submit(r, enrollment, used + 1, days_late,
		    penalty);
		goto out;
	}
	v_only(&v, r->json, "", allowed);
	answers = json_object_get(r->json, "answers");
	if (answers == NULL || !json_is_array(answers) ||
	    json_array_size(answers) > 200)
		v_error(&v, "/answers", "must be an array: one answer per "
		    "question, in order (null to skip)");
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	{
		const char *p[1] = { r->params[0] };

		if ((q = db_exec(r->db, "learn_questions", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (json_array_size(answers) != (size_t)PQntuples(q)) {
		rc = http_problem(r, 422, "validation", "Unprocessable Content",
		    "the quiz has %d questions; send one answer for each "
		    "(null to skip)", PQntuples(q));
		goto out;
	}
	detail = json_array();
	score = quiz_grade(q, answers, detail);
	final_ = score * (100.0 - penalty) / 100.0;
	snprintf(attempt, sizeof(attempt), "%d", used + 1);
	snprintf(score_s, sizeof(score_s), "%.6f", score);
	snprintf(days_s, sizeof(days_s), "%d", days_late);
	snprintf(pen_s, sizeof(pen_s), "%.6f", penalty);
	snprintf(final_s, sizeof(final_s), "%.6f", final_);
	ans_text = json_dumps(answers, JSON_COMPACT);
	det_text = json_dumps(detail, JSON_COMPACT);
	{
		int passed = final_ + 1e-9 >= strtod(PQgetvalue(a, 0, 2), NULL);
		const char *p[12] = { r->params[0], enrollment, api_user(r),
		    attempt, ans_text, score_s, days_late > 0 ? "true" : "false",
		    days_s, pen_s, final_s, passed ? "true" : "false", det_text };

		if ((s = db_exec(r->db, "learn_submission_insert", 12, p))
		    == NULL) {
			/* Two attempts racing for the same number: one wins. */
			rc = strcmp(db_error_sqlstate(r->db), "23505") == 0 ?
			    http_problem(r, 409, "conflict", "Conflict",
			    "another attempt was submitted at the same time") :
			    CD_ERR_DATABASE;
			goto out;
		}
	}
	if ((rc = learn_refresh(r, enrollment, state, sizeof(state))) != 0)
		goto out;
	out = api_row(s, 0);
	json_object_set_new(out, "assessment_id", json_string(r->params[0]));
	json_object_set_new(out, "enrollment_id", json_string(enrollment));
	json_object_set_new(out, "enrollment_state", json_string(state));
	{
		char loc[96];

		snprintf(loc, sizeof(loc), "/v1/submissions/%s",
		    PQgetvalue(s, 0, 0));
		http_add_header(r, "Location", loc);
	}
	api_audited(r, "submission", PQgetvalue(s, 0, 0));
	rc = http_json(r, 201, out);
 out:
	free(ans_text);
	free(det_text);
	json_decref(detail);
	PQclear(a);
	PQclear(q);
	PQclear(s);
	v_free(&v);
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
	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
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
