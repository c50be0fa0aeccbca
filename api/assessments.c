/*
 * assessments.c - /v1/assessments and /v1/modules/{id}/assessments:
 * quizzes (with their questions) and exercises.  Learners never see
 * answer keys.
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

static const struct db_stmt assessment_stmts[] = {
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
api_assessments_init(void)
{
	db_register(assessment_stmts, sizeof(assessment_stmts) /
	    sizeof(*assessment_stmts));
}

int
api_assessment_insert(struct db_conn *c, const char *const *p, char *id)
{
	return api_exec_first(c, "assessment_insert", 9, p, id, 40);
}

int
api_question_insert(struct db_conn *c, const char *const *p)
{
	return api_exec_first(c, "question_insert", 10, p, NULL, 0);
}

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
	int failed;

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

			res = db_exec(r->db, "question_insert", 10, qp);
			failed = res == NULL;
			PQclear(res);
		}
		free(opts);
		free(ans);
		free(concepts);
		if (failed)
			return CD_ERR_DATABASE;
	}
	return 0;
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
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((body = v_begin(&v, r, NULL)) != NULL)
		assessment_fields(&v, body, 1, &in);
	if ((rc = v_failed(&v, r)) != 0)
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
	return api_result(rc);
}

int
api_assessment_list(struct http_req *r)
{
	return api_child_list(r, api_module_visible, "assessment_list");
}

int
api_assessment_get(struct http_req *r)
{
	return api_visible_get(r, "assessment_get");
}

int
api_assessment_update(struct http_req *r)
{
	struct assessment_in in;
	struct api_v v;
	json_t *body;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) != NULL)
		assessment_fields(&v, body, 0, &in);
	if ((rc = v_failed(&v, r)) != 0 || (rc = api_lock(r, "assessment_lock",
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
	return api_result(rc);
}

int
api_assessment_delete(struct http_req *r)
{
	return api_delete_by(r, "assessment_lock", "assessment_delete",
	    "assessment", "the assessment has submissions and is kept");
}
