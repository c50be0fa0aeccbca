/*
 * exercises.c - /v1/exercises (C concurrency exercises and their
 * versions) and /v1/catalog/exercises (the built-in catalog, compiled
 * into the binary from exercises/).  Submissions to an exercise are
 * submissions.c's.
 *
 * Creating or changing an exercise makes a new version in state
 * "verifying" with a verification job; the grader grades the version's own
 * reference and marks it ready or rejected, or leaves it verifying while
 * the host is too busy to measure the reference's speedup (the job waits
 * and tries again; POST .../verify starts it over).  Submissions are taken
 * only against a ready version and keep it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	{ "exercise_verify_again", "UPDATE exercise_versions SET status = "
	  "'verifying', reason = NULL WHERE tenant_id = current_tenant() AND "
	  "exercise_id = $1 AND version = $2::int" },
};

void
api_exercises_init(void)
{
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

	if ((body = v_begin(&v, r, allowed)) != NULL) {
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
	body = v_begin(&v, r, allowed);
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

	if ((body = v_begin(&v, r, allowed)) != NULL) {
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
