/*
 * exercises.c - /v1/exercises (C concurrency exercises and their
 * versions), /v1/catalog/exercises (the built-in catalog, compiled into
 * the binary from exercises/), and exercise submissions: queued with a
 * grading job in one transaction, answered 202, graded by a grader
 * process (daemon/worker.c).
 *
 * Creating or changing an exercise makes a new version in state
 * "verifying" with a verification job; the grader grades the version's own
 * reference and marks it ready or rejected, or leaves it verifying while
 * the host is too busy to measure the reference's speedup (the job waits
 * and tries again; POST .../verify starts it over).  Submissions are taken
 * only against a ready version and keep it.  A submission's grade may be
 * provisional (its speedup not yet measured on clean samples) until a
 * re-measurement makes it final (daemon/worker.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../daemon/embed.h"
#include "../common/err.h"
#include "../daemon/jobq.h"
#include "../grader/grade.h"
#include "api.h"
#include "util.h"

#define EXERCISE_COLS "e.id, e.slug, v.version, v.title, v.statement, " \
	"v.status, v.reason, coalesce(v.spec->'concepts', '[]') AS concepts, " \
	"rfc3339(e.created_at) AS created_at, " \
	"rfc3339(v.created_at) AS version_created_at, e.version AS _version"

static const struct db_stmt exercise_stmts[] = {
	{ "exercise_insert", "INSERT INTO exercises (tenant_id, slug) VALUES "
	  "(current_tenant(), $1) RETURNING id" },
	{ "exercise_version_insert", "INSERT INTO exercise_versions (tenant_id, "
	  "exercise_id, version, title, statement, files, spec) VALUES "
	  "(current_tenant(), $1, $2::int, $3, $4, $5::jsonb, $6::jsonb)" },
	{ "exercise_get", "SELECT " EXERCISE_COLS ", v.files AS files, v.spec AS "
	  "spec, v.verification AS verification FROM exercises e JOIN "
	  "exercise_versions v ON v.tenant_id = e.tenant_id AND v.exercise_id = "
	  "e.id AND v.version = e.current_version WHERE e.tenant_id = "
	  "current_tenant() AND e.id = $1" },
	{ "exercise_list", "SELECT " EXERCISE_COLS ", e.created_at::text AS "
	  "_k_ts, e.id AS _k_id FROM exercises e JOIN exercise_versions v ON "
	  "v.tenant_id = e.tenant_id AND v.exercise_id = e.id AND v.version = "
	  "e.current_version WHERE e.tenant_id = current_tenant() AND "
	  "(e.created_at, e.id) > ($1::timestamptz, $2::uuid) ORDER BY "
	  "e.created_at, e.id LIMIT $3" },
	{ "exercise_lock", "SELECT version, current_version FROM exercises WHERE "
	  "tenant_id = current_tenant() AND id = $1 FOR UPDATE" },
	{ "exercise_bump", "UPDATE exercises SET current_version = $2::int, "
	  "version = version + 1, updated_at = clock_timestamp() WHERE "
	  "tenant_id = current_tenant() AND id = $1" },
	/* A Python exercise is one whose harness is harness.py. */
	{ "exercise_starter", "SELECT e.id, v.version, v.title, v.statement, "
	  "coalesce(v.spec->>'language', CASE WHEN v.files ? 'harness.py' THEN "
	  "'python' ELSE 'c' END) AS language, "
	  "v.files->>'exercise.h' AS exercise_h, v.files->>'starter.c' AS "
	  "starter_c, v.files->>'starter.py' AS starter_py, v.status FROM "
	  "exercises e JOIN exercise_versions v ON "
	  "v.tenant_id = e.tenant_id AND v.exercise_id = e.id AND v.version = "
	  "e.current_version WHERE e.tenant_id = current_tenant() AND e.id = $1 "
	  "AND ($2 <> 'learner' OR EXISTS (SELECT 1 FROM assessments a JOIN "
	  "modules m ON m.tenant_id = a.tenant_id AND m.id = a.module_id WHERE "
	  "a.tenant_id = e.tenant_id AND a.exercise_id = e.id AND "
	  "learner_sees_program(m.program_id, $3::uuid)))" },
	/* Exercise submissions: the assessment's exercise, its ready version. */
	{ "exercise_ready_version", "SELECT v.version, v.status FROM assessments "
	  "a JOIN exercises e ON e.tenant_id = a.tenant_id AND e.id = "
	  "a.exercise_id JOIN exercise_versions v ON v.tenant_id = e.tenant_id "
	  "AND v.exercise_id = e.id AND v.version = e.current_version WHERE "
	  "a.tenant_id = current_tenant() AND a.id = $1" },
	{ "exercise_submission_insert", "INSERT INTO submissions (tenant_id, "
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
	{ "exercise_verify_again", "UPDATE exercise_versions SET status = "
	  "'verifying', reason = NULL WHERE tenant_id = current_tenant() AND "
	  "exercise_id = $1 AND version = $2::int" },
	{ "regrade_assessment", "SELECT kind FROM assessments WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
};

static int grade_queue_limit;

void
api_exercises_init(const struct cfg *conf)
{
	grade_queue_limit = conf->grade_queue_limit;
	db_register(exercise_stmts, sizeof(exercise_stmts) /
	    sizeof(*exercise_stmts));
	jobq_init();
}

static const char *const spec_keys[] = { "language", "imports", "tests",
	"race_tests", "benchmark",
	"limits", "checker", "scoring", "concepts", NULL };

/*
 * Check an exercise description with the grader's own loader (the same
 * code that will grade it), after the structural checks that name fields.
 * 0 fine; API_ANSWERED (422).
 */
static int
exercise_check(struct http_req *r, struct api_v *v, json_t *spec,
    json_t *files)
{
	struct grade_exercise *ex = NULL;
	char err[256];
	int rc;

	{
		char *c = NULL;

		if (spec != NULL)
			api_concepts_field(v, spec, "", &c);
		free(c);
	}
	if (json_array_size(v->errors) > 0)
		return v_failed(v, r);
	rc = grade_exercise_load(spec, files, &ex, err, sizeof(err));
	grade_exercise_free(ex);
	if (rc == 0)
		return 0;
	v_error(v, "", "%s", rc == CD_ERR_INVALID ? err : cd_strerror(rc));
	return v_failed(v, r);
}

/* Write version n of exercise id and its verification job. */
static int
exercise_store_version(struct db_conn *c, const char *id, int n,
    const char *title, const char *statement, json_t *files, json_t *spec)
{
	char ver[16], *f = json_dumps(files, JSON_COMPACT);
	char *s = json_dumps(spec, JSON_COMPACT);
	const char *p[6] = { id, ver, title, statement ? statement : "", f, s };
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	snprintf(ver, sizeof(ver), "%d", n);
	if (f == NULL || s == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((res = db_exec(c, "exercise_version_insert", 6, p)) == NULL)
		rc = CD_ERR_DATABASE;
	else
		rc = jobq_add_verify(c, id, ver);
	PQclear(res);
 out:
	free(f);
	free(s);
	return rc;
}

static int
exercise_render(struct http_req *r, const char *id, int status)
{
	const char *p[1] = { id };
	PGresult *res;
	int rc;

	if ((res = db_exec(r->db, "exercise_get", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_one(r, res, status, "/v1/exercises/");
	PQclear(res);
	return rc;
}

/*
 * Create an exercise and its first version (queued for verification) in
 * c's transaction; *id receives its id.  CD_ERR_CONFLICT: the slug is
 * taken.
 */
static int
exercise_insert(struct db_conn *c, const char *slug, const char *title,
    const char *statement, json_t *files, json_t *spec, char *id)
{
	const char *p[1] = { slug };
	PGresult *res;

	if ((res = db_exec(c, "exercise_insert", 1, p)) == NULL)
		return strcmp(db_error_sqlstate(c), "23505") == 0 ?
		    CD_ERR_CONFLICT : CD_ERR_DATABASE;
	snprintf(id, 40, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return exercise_store_version(c, id, 1, title, statement, files, spec);
}

/* Create an exercise from a description: shared by POST and import. */
static int
exercise_create(struct http_req *r, const char *slug, const char *title,
    const char *statement, json_t *files, json_t *spec)
{
	char id[40];
	int rc;

	if ((rc = exercise_insert(r->db, slug, title, statement, files, spec,
	    id)) == CD_ERR_CONFLICT)
		return http_problem(r, 409, "conflict", "Conflict",
		    "an exercise with slug \"%s\" exists", slug);
	if (rc != 0)
		return rc;
	api_audited(r, "exercise", id);
	return exercise_render(r, id, 201);
}

int
api_exercise_create(struct http_req *r)
{
	static const char *const allowed[] = { "slug", "title", "statement",
		"files", "language", "imports", "tests", "race_tests",
		"benchmark", "limits", "checker", "scoring", "concepts", NULL };
	struct api_v v;
	json_t *body, *spec = NULL, *files = NULL;
	const char *slug = NULL, *title = NULL, *statement = NULL;
	int rc = CD_ERR_INTERNAL;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		slug = v_str(&v, body, "", "slug", 1, 1, 63);
		title = v_str(&v, body, "", "title", 1, 1, 200);
		statement = v_str(&v, body, "", "statement", 0, 0, 65536);
		files = json_object_get(body, "files");
		if (!json_is_object(files))
			v_error(&v, "/files", "is required: exercise.h, harness.c, "
			    "reference.c, starter.c (C) or harness.py, "
			    "reference.py, starter.py (Python)");
		spec = json_pack("{s:s?, s:s?}", "slug", slug, "title", title);
		for (const char *const *k = spec_keys; *k != NULL; k++)
			if (json_object_get(body, *k) != NULL)
				json_object_set(spec, *k, json_object_get(body,
				    *k));
	}
	if ((rc = exercise_check(r, &v, spec, files)) == 0)
		rc = exercise_create(r, slug, title, statement, files, spec);
	json_decref(spec);
	v_free(&v);
	return api_result(rc);
}

int
api_exercise_list(struct http_req *r)
{
	return api_page_exec(r, "exercise_list", 0, NULL);
}

int
api_exercise_get(struct http_req *r)
{
	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return exercise_render(r, r->params[0], 200);
}

int
api_exercise_update(struct http_req *r)
{
	static const char *const allowed[] = { "title", "statement", "files",
		"language", "imports", "tests", "race_tests", "benchmark",
		"limits", "checker", "scoring", "concepts", NULL };
	const char *p[1] = { r->params[0] };
	struct api_v v;
	json_t *body, *spec = NULL, *files = NULL, *f;
	PGresult *cur = NULL, *lk = NULL;
	const char *title, *statement;
	int rc = CD_ERR_INTERNAL, next;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	v_init(&v);
	if ((body = v_body(&v, r)) != NULL)
		v_only(&v, body, "", allowed);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if ((lk = db_exec(r->db, "exercise_lock", 1, p)) == NULL ||
	    (cur = db_exec(r->db, "exercise_get", 1, p)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (PQntuples(lk) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	if ((rc = api_if_match_fails(r, PQgetvalue(lk, 0, 0))) != 0)
		goto out;
	/* The new version: the current one with the fields given replaced. */
	files = json_loads(api_col(cur, 0, "files"), 0, NULL);
	spec = json_loads(api_col(cur, 0, "spec"), 0, NULL);
	if ((f = json_object_get(body, "files")) != NULL) {
		if (!json_is_object(f))
			v_error(&v, "/files", "must be an object");
		else
			json_object_update(files, f);
	}
	for (const char *const *k = spec_keys; *k != NULL; k++)
		if (json_object_get(body, *k) != NULL)
			json_object_set(spec, *k, json_object_get(body, *k));
	title = v_str(&v, body, "", "title", 0, 1, 200);
	statement = v_str(&v, body, "", "statement", 0, 0, 65536);
	if (title == NULL)
		title = api_col(cur, 0, "title");
	else
		json_object_set_new(spec, "title", json_string(title));
	if (statement == NULL)
		statement = api_col(cur, 0, "statement");
	if ((rc = exercise_check(r, &v, spec, files)) != 0)
		goto out;
	next = atoi(PQgetvalue(lk, 0, 1)) + 1;
	{
		char n[16];
		const char *bp[2] = { r->params[0], n };
		PGresult *b;

		snprintf(n, sizeof(n), "%d", next);
		if ((rc = exercise_store_version(r->db, r->params[0], next, title,
		    statement, files, spec)) != 0)
			goto out;
		if ((b = db_exec(r->db, "exercise_bump", 2, bp)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(b);
	}
	api_audited(r, "exercise", r->params[0]);
	rc = exercise_render(r, r->params[0], 200);
 out:
	PQclear(lk);
	PQclear(cur);
	json_decref(files);
	json_decref(spec);
	v_free(&v);
	return api_result(rc);
}

/*
 * Verify the current version again.  A verification waiting for a quiet
 * host runs at once (and has its 24 hours of tries anew); one a grader
 * is running now is a 409; otherwise the version goes back to
 * 'verifying' with a new job.  202 with the exercise.
 */
int
api_exercise_verify(struct http_req *r)
{
	const char *p[2] = { r->params[0], NULL };
	PGresult *lk = NULL, *x = NULL;
	char job[40];
	bool held = false;
	int rc = CD_ERR_INTERNAL, pending;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	/* The exercise's lock orders this against PATCH and itself. */
	if ((lk = db_exec(r->db, "exercise_lock", 1, p)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (PQntuples(lk) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	p[1] = PQgetvalue(lk, 0, 1);	/* the current version */
	if ((pending = jobq_verify_pending(r->db, p[0], p[1], job,
	    sizeof(job), &held)) < 0) {
		rc = pending;
		goto out;
	}
	if (held) {
		rc = http_problem(r, 409, "verification-running", "Conflict",
		    "a grader is verifying this version now");
		goto out;
	}
	if (pending)
		rc = jobq_restart(r->db, job);
	else if ((x = db_exec(r->db, "exercise_verify_again", 2, p)) == NULL)
		rc = CD_ERR_DATABASE;
	else
		rc = jobq_add_verify(r->db, p[0], p[1]);
	if (rc != 0)
		goto out;
	api_audited(r, "exercise", r->params[0]);
	rc = exercise_render(r, r->params[0], 202);
 out:
	PQclear(lk);
	PQclear(x);
	return api_result(rc);
}

int
api_exercise_starter(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return api_exec_one(r, "exercise_starter", 3, p, 200);
}

/* ---- the built-in catalog ---------------------------------------------- */

static const char *
catalog_file(const char *slug, const char *name, size_t *len)
{
	char want[160];

	snprintf(want, sizeof(want), "%s/%s", slug, name);
	for (const struct embedded_file *f = embedded_catalog; f->name != NULL;
	    f++)
		if (strcmp(f->name, want) == 0) {
			if (len != NULL)
				*len = f->len;
			return f->data;
		}
	return NULL;
}

int
api_catalog_list(struct http_req *r)
{
	json_t *items = json_array();

	for (const struct embedded_file *f = embedded_catalog; f->name != NULL;
	    f++) {
		const char *slash = strchr(f->name, '/');
		json_t *desc;

		if (slash == NULL || strcmp(slash, "/exercise.json") != 0)
			continue;
		if ((desc = json_loadb(f->data, f->len, 0, NULL)) == NULL)
			continue;
		json_array_append_new(items, json_pack("{s:O, s:O, s:O*, s:O*, "
		    "s:o}", "slug", json_object_get(desc, "slug"), "title",
		    json_object_get(desc, "title"), "checker",
		    json_object_get(desc, "checker"), "benchmark",
		    json_object_get(desc, "benchmark"), "concepts",
		    json_object_get(desc, "concepts") ? json_incref(
		    json_object_get(desc, "concepts")) : json_array()));
		json_decref(desc);
	}
	return http_json(r, 200, json_pack("{s:o, s:n}", "items", items,
	    "next_cursor"));
}

/*
 * The catalog's exercise slug as a description (only the spec's fields,
 * slug and title), its files and its statement (malloc'd or NULL).
 * CD_ERR_NOT_FOUND when the catalog has no such exercise.
 */
static int
catalog_load(const char *slug, json_t **desc, json_t **files,
    char **statement)
{
	static const char *const names[] = { "exercise.h", "harness.c",
		"reference.c", "starter.c", "harness.py", "reference.py",
		"starter.py", NULL };
	const char *text;
	json_t *full;
	size_t len;

	*desc = *files = NULL;
	*statement = NULL;
	if ((text = catalog_file(slug, "exercise.json", &len)) == NULL ||
	    (full = json_loadb(text, len, 0, NULL)) == NULL)
		return CD_ERR_NOT_FOUND;
	/* The rest of exercise.json (statement_file) is packaging. */
	*desc = json_pack("{s:O?, s:O?}", "slug", json_object_get(full, "slug"),
	    "title", json_object_get(full, "title"));
	for (const char *const *k = spec_keys; *k != NULL; k++)
		if (json_object_get(full, *k) != NULL)
			json_object_set(*desc, *k, json_object_get(full, *k));
	json_decref(full);
	*files = json_object();
	for (const char *const *n = names; *n != NULL; n++)
		if ((text = catalog_file(slug, *n, &len)) != NULL)
			json_object_set_new(*files, *n, json_stringn(text, len));
	if ((text = catalog_file(slug, "statement.md", &len)) != NULL)
		*statement = strndup(text, len);
	return 0;
}

int
api_exercise_import_catalog(struct db_conn *c, const char *catalog,
    char *id)
{
	json_t *desc, *files;
	char *statement;
	int rc;

	if ((rc = catalog_load(catalog, &desc, &files, &statement)) != 0)
		return rc;
	rc = exercise_insert(c, json_string_value(json_object_get(desc,
	    "slug")), json_string_value(json_object_get(desc, "title")),
	    statement, files, desc, id);
	json_decref(desc);
	json_decref(files);
	free(statement);
	return rc;
}

int
api_exercise_import(struct http_req *r)
{
	static const char *const allowed[] = { "catalog", "slug", NULL };
	struct api_v v;
	json_t *body, *desc = NULL, *files = NULL;
	const char *slug = NULL, *as = NULL;
	char *statement = NULL;
	int rc = CD_ERR_INTERNAL;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		slug = v_str(&v, body, "", "catalog", 1, 1, 63);
		as = v_str(&v, body, "", "slug", 0, 1, 63);
	}
	if (slug != NULL && catalog_load(slug, &desc, &files, &statement) != 0)
		v_error(&v, "/catalog", "no such exercise in the catalog");
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if (as != NULL)
		json_object_set_new(desc, "slug", json_string(as));
	if ((rc = exercise_check(r, &v, desc, files)) == 0)
		rc = exercise_create(r, json_string_value(json_object_get(desc,
		    "slug")), json_string_value(json_object_get(desc, "title")),
		    statement, files, desc);
 out:
	free(statement);
	json_decref(desc);
	json_decref(files);
	v_free(&v);
	return api_result(rc);
}

/* ---- submissions ------------------------------------------------------- */

/*
 * Queue an exercise submission (the learner's enrollment and attempts are
 * checked by the caller, which passes what it found).  Answers 202.
 */
int
api_exercise_submit(struct http_req *r, const char *enrollment, int attempt,
    int days_late, double penalty)
{
	static const char *const allowed[] = { "source", "cohort_id", NULL };
	const char *p1[1] = { r->params[0] };
	struct api_v v;
	const char *source = NULL;
	PGresult *res = NULL;
	char att[16], days[16], pen[32], loc[96], id[40];
	int rc = CD_ERR_INTERNAL;

	v_init(&v);
	v_only(&v, r->json, "", allowed);
	source = v_str(&v, r->json, "", "source", 1, 1, 65536);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if ((res = db_exec(r->db, "exercise_ready_version", 1, p1)) == NULL) {
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
		snprintf(days, sizeof(days), "%d", days_late);
		snprintf(pen, sizeof(pen), "%.6f", penalty);
		{
			const char *p[9] = { r->params[0], enrollment,
			    api_user(r), att, source, ver, days_late > 0 ?
			    "true" : "false", days, pen };

			if ((res = db_exec(r->db, "exercise_submission_insert", 9,
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

int
api_submission_get(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };
	PGresult *res;
	json_t *o, *result;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, "submission_get", 3, p)) == NULL)
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
