/*
 * submissions.c - a learner's work and its grade: POST
 * /v1/assessments/{id}/submissions, GET /v1/submissions/{id}, its event
 * stream, and regrades.
 *
 * Theory of operation.  api_submission_create() finds the learner's
 * enrollment (learning.c: prerequisites unlock modules), counts attempts
 * and fixes the late penalty as the work comes in.  A quiz is graded here
 * at once (quiz_grade) and written with its final score and pass, 201.
 * An exercise is written 'queued' with a grading job in the same
 * transaction (exercise_submit, jobq_add_grading), 202; a grader process
 * claims the job, renews its lease while it works and writes the grade
 * with the job's completion (daemon/worker.c, the queue's rules in
 * daemon/jobq.c).  Quizzes and exercises share one scoring rule: the
 * SQL functions score_late_penalty, score_final and score_passed
 * (migrations/0019_score.sql).  The grader writes each step to
 * submission_events, whose trigger wakes the event stream here.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "../daemon/jobq.h"
#include "api.h"
#include "util.h"

static const struct db_stmt submission_stmts[] = {
	/* Everything grading needs about the assessment for this enrollment:
	 * attempts used and allowed, the due time (an extension wins), days
	 * late now, the cohort's late policy and the penalty it makes. */
	{ "submission_assessment", "SELECT t.*, score_late_penalty(t.days_late, "
	  "t.per_day, t.floor) FROM (SELECT a.kind, a.max_attempts + coalesce("
	  "x.extra_attempts, 0), a.pass_score, (SELECT count(*) FROM "
	  "submissions s WHERE s.tenant_id = a.tenant_id AND s.assessment_id = "
	  "a.id AND s.enrollment_id = $2), CASE WHEN coalesce(x.due_at, "
	  "c.starts_at + a.due_days * interval '1 day') < now() THEN ceil("
	  "extract(epoch FROM now() - coalesce(x.due_at, c.starts_at + "
	  "a.due_days * interval '1 day')) / 86400)::int ELSE 0 END AS "
	  "days_late, c.late_percent_per_day AS per_day, c.late_floor AS floor, "
	  "a.module_id FROM assessments a "
	  "JOIN enrollments e ON e.tenant_id = a.tenant_id AND e.id = $2 JOIN "
	  "cohorts c ON c.tenant_id = e.tenant_id AND c.id = e.cohort_id LEFT "
	  "JOIN extensions x ON x.tenant_id = a.tenant_id AND x.assessment_id = "
	  "a.id AND x.enrollment_id = e.id WHERE a.tenant_id = current_tenant() "
	  "AND a.id = $1) t" },
	{ "submission_questions", "SELECT id, kind, points, answer::text, "
	  "tolerance, jsonb_array_length(options) FROM quiz_questions WHERE "
	  "tenant_id = current_tenant() AND assessment_id = $1 ORDER BY "
	  "position" },
	/* A quiz, graded: the final score and the pass by the one rule
	 * (migrations/0019_score.sql); $10 is the pass_score. */
	{ "submission_quiz_insert", "INSERT INTO submissions (tenant_id, "
	  "assessment_id, enrollment_id, user_id, attempt, answers, score, late, "
	  "days_late, penalty, final_score, passed, detail) VALUES "
	  "(current_tenant(), $1, $2, $3, $4::int, $5::jsonb, $6::numeric, "
	  "$7::bool, $8::int, $9::numeric, score_final($6::numeric, "
	  "$9::numeric), score_passed(score_final($6::numeric, $9::numeric), "
	  "$10::numeric), $11::jsonb) "
	  "RETURNING id, attempt, rfc3339(submitted_at) AS submitted_at, "
	  "round(score, 2)::float8 AS score, late, days_late, "
	  "round(penalty, 2)::float8 AS penalty, round(final_score, 2)::float8 "
	  "AS final_score, passed, detail" },
	/* Exercise submissions: the assessment's exercise, its ready version. */
	{ "submission_exercise_version", "SELECT v.version, v.status FROM "
	  "assessments a JOIN exercises e ON e.tenant_id = a.tenant_id AND e.id = "
	  "a.exercise_id JOIN exercise_versions v ON v.tenant_id = e.tenant_id "
	  "AND v.exercise_id = e.id AND v.version = e.current_version WHERE "
	  "a.tenant_id = current_tenant() AND a.id = $1" },
	{ "submission_exercise_insert", "INSERT INTO submissions (tenant_id, "
	  "assessment_id, enrollment_id, user_id, attempt, status, source, "
	  "exercise_id, exercise_version, late, days_late, penalty) SELECT "
	  "current_tenant(), $1, $2, $3, $4::int, 'queued', $5, a.exercise_id, "
	  "$6::int, $7::bool, $8::int, $9::numeric FROM assessments a WHERE "
	  "a.tenant_id = current_tenant() AND a.id = $1 RETURNING id, "
	  "rfc3339(submitted_at)" },
	/* Learners see their own; staff those of cohorts they may see. */
	{ "submission_get", "SELECT s.id, s.assessment_id, s.enrollment_id, "
	  "s.user_id, s.attempt, s.status, s.verdict, round(s.score, 2)::float8 "
	  "AS score, round(s.final_score, 2)::float8 AS final_score, "
	  "round(s.penalty, 2)::float8 AS penalty, s.late, s.days_late, "
	  "s.passed, s.provisional, s.exercise_id, s.exercise_version, "
	  "rfc3339(s.submitted_at) "
	  "AS submitted_at, rfc3339(s.graded_at) AS graded_at, s.detail, "
	  "s.result AS _result FROM submissions s JOIN enrollments en ON "
	  "en.tenant_id = s.tenant_id AND en.id = s.enrollment_id WHERE "
	  "s.tenant_id = current_tenant() AND s.id = $1 AND CASE WHEN $2 = "
	  "'learner' THEN s.user_id = $3::uuid ELSE cohort_visible(en.cohort_id, "
	  "$2, $3::uuid) END" },
	/* A regrade: each enrollment's latest attempt (jobq_regrade
	 * queues those not queued already). */
	{ "regrade_latest", "SELECT coalesce(array_agg(id), '{}')::text FROM "
	  "(SELECT DISTINCT ON (s.enrollment_id) s.id FROM submissions s JOIN "
	  "enrollments en ON en.tenant_id = s.tenant_id AND en.id = "
	  "s.enrollment_id WHERE s.tenant_id = current_tenant() AND "
	  "s.assessment_id = $1 AND s.source IS NOT NULL AND "
	  "cohort_visible(en.cohort_id, $2, $3::uuid) ORDER BY "
	  "s.enrollment_id, s.attempt DESC) l" },
	{ "regrade_mark", "UPDATE submissions SET status = 'queued', "
	  "updated_at = clock_timestamp() WHERE tenant_id = current_tenant() "
	  "AND id = ANY($1::uuid[])" },
	{ "submission_status", "SELECT json_build_object('id', id, 'status', "
	  "status, 'verdict', verdict, 'score', round(score, 2)::float8, "
	  "'final_score', round(final_score, 2)::float8, 'provisional', "
	  "provisional)::text, status FROM submissions WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
	/* The stream's events after the last one the client has. */
	{ "submission_events_since", "SELECT id, kind, data::text FROM "
	  "submission_events WHERE tenant_id = current_tenant() AND "
	  "submission_id = $1 AND id > $2::bigint ORDER BY id LIMIT 200" },
	{ "regrade_assessment", "SELECT kind FROM assessments WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
};

static int grade_queue_limit;

void
api_submissions_init(const struct cfg *conf)
{
	grade_queue_limit = conf->grade_queue_limit;
	db_register(submission_stmts, sizeof(submission_stmts) /
	    sizeof(*submission_stmts));
	jobq_init();
}

/* ---- quizzes: graded at once ------------------------------------------ */

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

/* ---- exercises: queued for a grader ----------------------------------- */

/*
 * Queue an exercise submission, with its grading job in the same
 * transaction (the learner's enrollment and attempts are checked by the
 * caller, which passes what it found: days late and the penalty, as
 * text).  Answers 202.
 */
static int
exercise_submit(struct http_req *r, const char *enrollment, int attempt,
    const char *days, const char *pen)
{
	static const char *const allowed[] = { "source", "cohort_id", NULL };
	const char *p1[1] = { r->params[0] };
	struct api_v v;
	const char *source = NULL;
	PGresult *res = NULL;
	char att[16], loc[96], id[40];
	int rc = CD_ERR_INTERNAL;

	v_init(&v);
	v_only(&v, r->json, "", allowed);
	source = v_str(&v, r->json, "", "source", 1, 1, 65536);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if ((res = db_exec(r->db, "submission_exercise_version", 1, p1))
	    == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "ready")) {
		rc = http_problem(r, 409, "exercise-not-ready", "Conflict",
		    "the exercise is %s; submissions open once it is verified",
		    PQntuples(res) ? PQgetvalue(res, 0, 1) : "missing");
		goto out;
	}
	{
		char ver[16];
		long depth;

		snprintf(ver, sizeof(ver), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
		/* A bounded queue: past it, ask the learner to come back. */
		if ((rc = jobq_depth(r->db, &depth)) != 0)
			goto out;
		if (depth >= grade_queue_limit) {
			http_add_header(r, "Retry-After", "30");
			rc = http_problem(r, 503, "queue-full",
			    "Service Unavailable", "the grading queue is full; "
			    "try again shortly");
			goto out;
		}
		snprintf(att, sizeof(att), "%d", attempt);
		{
			const char *p[9] = { r->params[0], enrollment,
			    api_user(r), att, source, ver, atoi(days) > 0 ?
			    "true" : "false", days, pen };

			if ((res = db_exec(r->db, "submission_exercise_insert", 9,
			    p)) == NULL || PQntuples(res) != 1) {
				/* Two attempts racing for one number: one wins. */
				rc = res == NULL && strcmp(db_error_sqlstate(r->db),
				    "23505") == 0 ? http_problem(r, 409, "conflict",
				    "Conflict", "another attempt was submitted at the "
				    "same time") : CD_ERR_DATABASE;
				goto out;
			}
		}
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	if ((rc = jobq_add_grading(r->db, id)) != 0)
		goto out;
	snprintf(loc, sizeof(loc), "/v1/submissions/%s", id);
	http_add_header(r, "Location", loc);
	api_audited(r, "submission", id);
	rc = http_json(r, 202, json_pack("{s:s, s:s, s:i, s:s, s:b}", "id", id,
	    "status", "queued", "attempt", attempt, "submitted_at",
	    PQgetvalue(res, 0, 1), "provisional", 0));
 out:
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

/* ---- the resource ---------------------------------------------------- */

int
api_submission_create(struct http_req *r)
{
	static const char *const allowed[] = { "answers", "cohort_id", NULL };
	char module[40], enrollment[40], state[16];
	char attempt[16], score_s[32];
	json_t *answers, *detail = NULL, *out;
	PGresult *a = NULL, *q = NULL, *s = NULL;
	struct api_v v;
	char *ans_text = NULL, *det_text = NULL;
	const char *days_s, *pen_s;
	int rc = CD_ERR_INTERNAL, used, allowed_n;

	v_init(&v);
	if ((rc = api_learning_assessment_module(r, module)) != 0)
		goto out;
	if (v_body(&v, r) == NULL && (rc = v_failed(&v, r)) != 0)
		goto out;
	if ((rc = api_learning_enrollment(r, module, enrollment)) != 0) {
		rc = api_result(rc);
		goto out;
	}
	{
		const char *p[2] = { r->params[0], enrollment };

		if ((a = db_exec(r->db, "submission_assessment", 2, p)) == NULL ||
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
	/* The late penalty is fixed now, as the work comes in. */
	days_s = PQgetvalue(a, 0, 4);
	pen_s = PQgetvalue(a, 0, 8);
	if (strcmp(PQgetvalue(a, 0, 0), "exercise") == 0) {
		rc = exercise_submit(r, enrollment, used + 1, days_s, pen_s);
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

		if ((q = db_exec(r->db, "submission_questions", 1, p)) == NULL) {
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
	snprintf(attempt, sizeof(attempt), "%d", used + 1);
	snprintf(score_s, sizeof(score_s), "%.6f", quiz_grade(q, answers,
	    detail));
	ans_text = json_dumps(answers, JSON_COMPACT);
	det_text = json_dumps(detail, JSON_COMPACT);
	{
		const char *p[11] = { r->params[0], enrollment, api_user(r),
		    attempt, ans_text, score_s, atoi(days_s) > 0 ? "true" :
		    "false", days_s, pen_s, PQgetvalue(a, 0, 2), det_text };

		if ((s = db_exec(r->db, "submission_quiz_insert", 11, p))
		    == NULL) {
			/* Two attempts racing for the same number: one wins. */
			rc = strcmp(db_error_sqlstate(r->db), "23505") == 0 ?
			    http_problem(r, 409, "conflict", "Conflict",
			    "another attempt was submitted at the same time") :
			    CD_ERR_DATABASE;
			goto out;
		}
	}
	if ((rc = api_learning_refresh(r, enrollment, state, sizeof(state)))
	    != 0)
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
api_submission_get(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };
	PGresult *res;
	json_t *o, *result;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = api_exec_last(r, "submission_get", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return CD_ERR_NOT_FOUND;
	}
	o = api_row(res, 0);
	/* The grader's findings, at the top level: compile, tests, race,
	 * speedup, score_breakdown. */
	if (!PQgetisnull(res, 0, PQfnumber(res, "_result")) && (result =
	    json_loads(api_col(res, 0, "_result"), 0, NULL)) != NULL) {
		const char *k;
		json_t *val;

		json_object_foreach(result, k, val)
			if (json_object_get(o, k) == NULL ||
			    strcmp(k, "verdict") == 0)
				json_object_set(o, k, val);
		json_decref(result);
	}
	PQclear(res);
	rc = http_json(r, 200, o);
	return api_result(rc);
}

struct submission_watch {
	char		 tenant[40];
	char		 id[40];
	long long	 last;		/* the last event id sent */
	int		 polled;	/* polled before */
};

/* An event buffer for http_sse_poll. */
struct sse_out {
	char	**buf;
	size_t	 *len;
	size_t	  cap;
};

/* Append one event; id may be NULL.  0, or CD_ERR_NOMEM. */
static int
submission_event(struct sse_out *o, const char *id, const char *kind,
    const char *data)
{
	char *ev;
	int n, rc;

	n = asprintf(&ev, "%s%s%sevent: %s\ndata: %s\n\n", id ? "id: " : "",
	    id ? id : "", id ? "\n" : "", kind, data);
	if (n < 0)
		return CD_ERR_NOMEM;
	rc = api_buf_put(o->buf, o->len, &o->cap, ev, (size_t)n);
	free(ev);
	return rc;
}

/* The last word: why the stream ends (graded or failed), the outcome. */
static int
submission_end(struct sse_out *o, const char *status_json, const char *status)
{
	json_t *end = json_loads(status_json, 0, NULL);
	char *data = NULL;
	int rc = CD_ERR_NOMEM;

	if (end != NULL && json_object_set_new(end, "reason",
	    json_string(status)) == 0 && (data = json_dumps(end,
	    JSON_COMPACT)) != NULL)
		rc = submission_event(o, NULL, "end", data);
	free(data);
	json_decref(end);
	return rc;
}

/*
 * http_sse_poll: the submission's events after the last one sent (status
 * changes and benchmark rounds, with their ids from submission_events),
 * a page at a time until none is left; then, once it is graded or
 * failed, an "end" event carrying its status.
 */
static int
submission_poll(void *arg, struct db_conn *c, char **buf, size_t *len)
{
	struct submission_watch *w = arg;
	struct sse_out o = { buf, len, 0 };
	char last[32];
	const char *p[2] = { w->id, last };
	PGresult *ev = NULL, *st = NULL;
	int rc = 0, n, first = !w->polled;	/* see http_sse_poll */

	w->polled = 1;
	if (db_begin(c, w->tenant) != 0)
		return 0;
	do {
		PQclear(ev);
		snprintf(last, sizeof(last), "%lld", w->last);
		if ((ev = db_exec(c, "submission_events_since", 2, p)) == NULL)
			goto out;
		n = PQntuples(ev);
		for (int i = 0; i < n && rc == 0; i++) {
			rc = submission_event(&o, PQgetvalue(ev, i, 0),
			    PQgetvalue(ev, i, 1), PQgetvalue(ev, i, 2));
			w->last = strtoll(PQgetvalue(ev, i, 0), NULL, 10);
		}
	} while (rc == 0 && n == 200);
	if (rc != 0 || (st = db_exec(c, "submission_status", 1, p)) == NULL)
		goto out;
	if (PQntuples(st) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	/* Older submissions have no events: their status, without an id. */
	if (first && w->last == 0)
		rc = submission_event(&o, NULL, "status", PQgetvalue(st, 0, 0));
	if (rc == 0 && (strcmp(PQgetvalue(st, 0, 1), "graded") == 0 ||
	    strcmp(PQgetvalue(st, 0, 1), "failed") == 0) &&
	    (rc = submission_end(&o, PQgetvalue(st, 0, 0),
	    PQgetvalue(st, 0, 1))) == 0)
		rc = 1;
 out:
	PQclear(ev);
	PQclear(st);
	db_commit(c);
	return rc;
}
int
api_submission_events(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };
	const char *resume = http_header(r, "Last-Event-ID");
	struct submission_watch *w;
	PGresult *res;
	int visible;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	/* The same visibility as GET /v1/submissions/{id}. */
	if ((res = db_exec(r->db, "submission_get", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	visible = PQntuples(res) == 1;
	PQclear(res);
	if (!visible)
		return CD_ERR_NOT_FOUND;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return CD_ERR_NOMEM;
	snprintf(w->tenant, sizeof(w->tenant), "%s", r->who.tenant_id);
	snprintf(w->id, sizeof(w->id), "%s", r->params[0]);
	/* A reconnecting client resumes after the last event it saw. */
	if (resume != NULL && strtoll(resume, NULL, 10) > 0) {
		w->last = strtoll(resume, NULL, 10);
		w->polled = 1;
	}
	return http_sse(r, w->id, submission_poll, w, free);
}

int
api_regrade(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };
	PGresult *res, *q = NULL, *m = NULL;
	json_t *ids = NULL;
	char *list = NULL;
	size_t len = 3;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, "regrade_assessment", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return CD_ERR_NOT_FOUND;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "exercise") != 0) {
		PQclear(res);
		return http_problem(r, 422, "validation", "Unprocessable Content",
		    "only exercise assessments are regraded");
	}
	PQclear(res);
	if ((res = db_exec(r->db, "regrade_latest", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	if ((rc = jobq_regrade(r->db, PQgetvalue(res, 0, 0), &q)) != 0)
		goto out;
	/* The ids queued, as a uuid[] literal and as the answer. */
	for (int i = 0; i < PQntuples(q); i++)
		len += strlen(PQgetvalue(q, i, 0)) + 1;
	if ((ids = json_array()) == NULL || (list = malloc(len)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	strcpy(list, "{");
	for (int i = 0; i < PQntuples(q); i++) {
		if (i > 0)
			strcat(list, ",");
		strcat(list, PQgetvalue(q, i, 0));
		json_array_append_new(ids, json_string(PQgetvalue(q, i, 0)));
	}
	strcat(list, "}");
	{
		const char *mp[1] = { list };

		if ((m = db_exec(r->db, "regrade_mark", 1, mp)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	api_audited(r, "assessment", r->params[0]);
	rc = http_json(r, 202, json_pack("{s:I, s:O}", "queued",
	    (json_int_t)json_array_size(ids), "submissions", ids));
 out:
	json_decref(ids);
	free(list);
	PQclear(m);
	PQclear(q);
	PQclear(res);
	return api_result(rc);
}
