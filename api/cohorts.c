/*
 * cohorts.c - /v1/cohorts: dated runs of a program, with seats, a
 * waitlist, instructors and a late policy; and their enrollments
 * (single, batch JSON or CSV, withdraw).  Seat accounting lives in SQL
 * (enroll_rows, enrollment_withdraw, cohort_promote in 0003_content.sql),
 * under the cohort's row lock.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "../daemon/mail.h"
#include "api.h"
#include "csv.h"
#include "util.h"

/* Rows one batch enrollment takes (JSON or CSV, the header aside). */
#define BATCH_MAX_ROWS	10000
/* Rows a transaction of a batch takes (api_enroll_batch()). */
#define BATCH_SLICE	500

#define COHORT_COLS "c.id, c.program_id, c.name, rfc3339(c.starts_at) AS " \
	"starts_at, rfc3339(c.ends_at) AS ends_at, c.timezone, c.capacity, " \
	"c.waitlist, (SELECT coalesce(json_agg(ci.user_id ORDER BY ci.user_id), " \
	"'[]') FROM cohort_instructors ci WHERE ci.tenant_id = c.tenant_id AND " \
	"ci.cohort_id = c.id) AS instructors, json_build_object(" \
	"'percent_per_day', c.late_percent_per_day, 'floor', c.late_floor) AS " \
	"late_policy, (SELECT count(*) FROM enrollments e WHERE e.tenant_id = " \
	"c.tenant_id AND e.cohort_id = c.id AND e.state = 'active')::int AS " \
	"active, (SELECT count(*) FROM enrollments e WHERE e.tenant_id = " \
	"c.tenant_id AND e.cohort_id = c.id AND e.state = 'waitlisted')::int " \
	"AS waitlisted, rfc3339(c.created_at) AS created_at, " \
	"rfc3339(c.updated_at) AS updated_at, c.version AS _version"

#define ENROLLMENT_COLS "e.id, e.user_id, e.cohort_id, e.state, CASE WHEN " \
	"e.state = 'waitlisted' THEN (SELECT count(*) FROM enrollments w WHERE " \
	"w.tenant_id = e.tenant_id AND w.cohort_id = e.cohort_id AND w.state = " \
	"'waitlisted' AND w.waitlist_seq <= e.waitlist_seq)::int END AS " \
	"waitlist_position, e.source, rfc3339(e.enrolled_at) AS enrolled_at, " \
	"rfc3339(e.completed_at) AS completed_at"

static const struct db_stmt cohort_stmts[] = {
	{ "cohort_insert", "INSERT INTO cohorts (tenant_id, program_id, name, "
	  "starts_at, ends_at, timezone, capacity, waitlist) SELECT "
	  "current_tenant(), p.id, $2, $3::timestamptz, $4::timestamptz, "
	  "coalesce($5, 'UTC'), $6::int, coalesce($7::bool, false) FROM programs "
	  "p WHERE p.tenant_id = current_tenant() AND p.id = $1 RETURNING id" },
	{ "cohort_get", "SELECT " COHORT_COLS " FROM cohorts c WHERE "
	  "c.tenant_id = current_tenant() AND c.id = $1 AND "
	  "cohort_visible(c.id, $2, $3::uuid)" },
	{ "cohort_list", "SELECT " COHORT_COLS ", c.created_at::text AS _k_ts, "
	  "c.id AS _k_id FROM cohorts c WHERE c.tenant_id = current_tenant() "
	  "AND cohort_visible(c.id, $4, $5::uuid) AND ($6::uuid IS NULL OR "
	  "c.program_id = $6) AND (c.created_at, c.id) > ($1::timestamptz, "
	  "$2::uuid) ORDER BY c.created_at, c.id LIMIT $3" },
	/* The lock also says whether the caller may manage the cohort. */
	{ "cohort_lock", "SELECT c.version FROM cohorts c WHERE c.tenant_id = "
	  "current_tenant() AND c.id = $1 AND cohort_visible(c.id, $2, "
	  "$3::uuid) AND $2 <> 'learner' FOR UPDATE" },
	{ "cohort_update", "UPDATE cohorts SET name = coalesce($2, name), "
	  "starts_at = coalesce($3::timestamptz, starts_at), ends_at = "
	  "coalesce($4::timestamptz, ends_at), timezone = coalesce($5, timezone), "
	  "capacity = CASE WHEN $8::bool THEN NULL ELSE coalesce($6::int, "
	  "capacity) END, waitlist = coalesce($7::bool, waitlist), updated_at = "
	  "clock_timestamp(), version = version + 1 WHERE tenant_id = "
	  "current_tenant() AND id = $1 RETURNING id" },
	{ "cohort_late_policy", "UPDATE cohorts SET late_percent_per_day = "
	  "$2::numeric, late_floor = $3::numeric, updated_at = clock_timestamp(), "
	  "version = version + 1 WHERE tenant_id = current_tenant() AND id = $1 "
	  "RETURNING id" },
	{ "cohort_delete", "DELETE FROM cohorts WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND NOT EXISTS (SELECT 1 FROM "
	  "enrollments e WHERE e.tenant_id = current_tenant() AND e.cohort_id = "
	  "$1) RETURNING id" },
	{ "cohort_promote", "SELECT cohort_promote($1)" },
	{ "cohort_instructors_clear", "DELETE FROM cohort_instructors WHERE "
	  "tenant_id = current_tenant() AND cohort_id = $1" },
	{ "cohort_instructors_set", "INSERT INTO cohort_instructors (tenant_id, "
	  "cohort_id, user_id) SELECT current_tenant(), $1, u.id FROM users u "
	  "WHERE u.tenant_id = current_tenant() AND u.id = ANY($2::uuid[]) AND "
	  "u.role = 'instructor' AND u.active RETURNING 1" },
	{ "cohort_visible", "SELECT cohort_visible($1, $2, $3::uuid)" },
	{ "timezone_known", "SELECT 1 FROM pg_timezone_names WHERE name = $1" },

	{ "enroll_rows", "SELECT row_no, outcome, enrollment_id, user_id, "
	  "message FROM enroll_rows($1, $2::jsonb, $3)" },
	{ "enrollment_get", "SELECT " ENROLLMENT_COLS " FROM enrollments e "
	  "WHERE e.tenant_id = current_tenant() AND e.id = $1" },
	{ "enrollment_list", "SELECT " ENROLLMENT_COLS ", e.enrolled_at::text "
	  "AS _k_ts, e.id AS _k_id FROM enrollments e WHERE e.tenant_id = "
	  "current_tenant() AND e.cohort_id = $4 AND ($5::text IS NULL OR "
	  "e.state = $5) AND (e.enrolled_at, e.id) > ($1::timestamptz, "
	  "$2::uuid) ORDER BY e.enrolled_at, e.id LIMIT $3" },
	{ "enrollment_mine", "SELECT " ENROLLMENT_COLS ", e.enrolled_at::text "
	  "AS _k_ts, e.id AS _k_id FROM enrollments e WHERE e.tenant_id = "
	  "current_tenant() AND e.user_id = $4 AND (e.enrolled_at, e.id) > "
	  "($1::timestamptz, $2::uuid) ORDER BY e.enrolled_at, e.id LIMIT $3" },
	/* Who may withdraw: staff of the cohort, or the learner enrolled. */
	{ "enrollment_access", "SELECT e.cohort_id FROM enrollments e WHERE "
	  "e.tenant_id = current_tenant() AND e.id = $1 AND (cohort_visible("
	  "e.cohort_id, $2, $3::uuid) AND ($2 <> 'learner' OR e.user_id = "
	  "$3::uuid))" },
	{ "enrollment_withdraw", "SELECT enrollment_withdraw($1)" },
};

void
api_cohorts_init(void)
{
	db_register(cohort_stmts, sizeof(cohort_stmts) / sizeof(*cohort_stmts));
}

int
api_cohort_visible(struct http_req *r, const char *id)
{
	return api_cohort_visible_to(r->db, id, api_role(r), api_user(r));
}

int
api_cohort_visible_to(struct db_conn *c, const char *id, const char *role,
    const char *user)
{
	const char *p[3] = { id, role, user };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(id))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(c, "cohort_visible", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = PQgetvalue(res, 0, 0)[0] == 't' ? 0 : CD_ERR_NOT_FOUND;
	PQclear(res);
	return rc;
}

int
api_cohort_insert(struct db_conn *c, const char *const *p, char *id)
{
	return api_exec_first(c, "cohort_insert", 7, p, id, 40);
}

int
api_cohort_instructors_set(struct db_conn *c, const char *cohort_id,
    const char *user_ids)
{
	const char *p[2] = { cohort_id, user_ids };

	return api_exec_first(c, "cohort_instructors_set", 2, p, NULL, 0);
}

int
api_enroll_rows(struct db_conn *c, const char *cohort_id, const char *rows,
    const char *source)
{
	const char *p[3] = { cohort_id, rows, source };

	return api_exec_first(c, "enroll_rows", 3, p, NULL, 0);
}

/* Render the cohort with id as the caller sees it. */
static int
cohort_render(struct http_req *r, const char *id, int status)
{
	const char *p[3] = { id, api_role(r), api_user(r) };
	PGresult *res;
	int rc;

	if ((res = db_exec(r->db, "cohort_get", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = api_render_one(r, res, status, "/v1/cohorts/");
	PQclear(res);
	return rc;
}

/* Is tz a time zone PostgreSQL knows? */
static int
timezone_ok(struct http_req *r, const char *tz)
{
	const char *p[1] = { tz };
	PGresult *res = db_exec(r->db, "timezone_known", 1, p);
	int ok = res != NULL && PQntuples(res) == 1;

	PQclear(res);
	return ok;
}

/* Replace the instructors: every id must be an active instructor. */
static int
cohort_set_instructors(struct http_req *r, const char *id, json_t *arr)
{
	const char *p[2] = { id, NULL };
	PGresult *res;
	char *list;
	int rc = CD_ERR_INTERNAL;

	if ((res = db_exec(r->db, "cohort_instructors_clear", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	if (json_array_size(arr) == 0)
		return 0;
	if ((list = api_uuid_array(arr)) == NULL)
		return CD_ERR_NOMEM;
	p[1] = list;
	if ((res = db_exec(r->db, "cohort_instructors_set", 2, p)) == NULL)
		rc = CD_ERR_DATABASE;
	else if ((size_t)PQntuples(res) != json_array_size(arr))
		rc = api_answered(http_problem_ext(r, 422, "validation",
		    "Unprocessable Content", "the request has invalid fields; "
		    "see errors", json_pack("{s:[{s:s, s:s}]}", "errors",
		    "pointer", "/instructors", "detail", "each must be a "
		    "distinct active user with the instructor role")));
	else
		rc = 0;
	PQclear(res);
	free(list);
	return rc;
}

struct cohort_in {
	const char	*program_id, *name, *starts_at, *ends_at, *timezone;
	char		 capacity[16];
	int		 capacity_null, waitlist, has_waitlist;
	json_t		*instructors;
};

static void
cohort_fields(struct api_v *v, struct http_req *r, json_t *body,
    int creating, struct cohort_in *in)
{
	static const char *const allowed[] = { "program_id", "name",
		"starts_at", "ends_at", "timezone", "capacity", "waitlist",
		"instructors", NULL };
	json_t *e;
	size_t i;
	long cap;

	memset(in, 0, sizeof(*in));
	v_only(v, body, "", allowed);
	if (creating)
		in->program_id = v_uuid(v, body, "", "program_id", 1);
	else if (json_object_get(body, "program_id") != NULL)
		v_error(v, "/program_id", "cannot be changed");
	in->name = v_str(v, body, "", "name", creating, 1, 200);
	in->starts_at = v_time(v, body, "starts_at", creating);
	in->ends_at = v_time(v, body, "ends_at", creating);
	in->timezone = v_str(v, body, "", "timezone", 0, 1, 64);
	if (in->timezone != NULL && !timezone_ok(r, in->timezone))
		v_error(v, "/timezone", "is not a known time zone");
	if (v_int_null(v, body, "capacity", 0, 1000000, &cap,
	    &in->capacity_null) && !in->capacity_null)
		snprintf(in->capacity, sizeof(in->capacity), "%ld", cap);
	in->has_waitlist = v_bool(v, body, "waitlist", 0, &in->waitlist);
	in->instructors = json_object_get(body, "instructors");
	if (in->instructors != NULL) {
		if (r->who.role != ROLE_ADMIN)
			v_error(v, "/instructors", "only administrators assign "
			    "instructors");
		else if (!json_is_array(in->instructors) ||
		    json_array_size(in->instructors) > 50)
			v_error(v, "/instructors", "must be an array of user ids");
		else
			json_array_foreach(in->instructors, i, e)
				if (!json_is_string(e) ||
				    !api_uuid_ok(json_string_value(e))) {
					v_error(v, "/instructors", "must be an "
					    "array of user ids");
					break;
				}
	}
}

int
api_cohort_create(struct http_req *r)
{
	struct cohort_in in;
	struct api_v v;
	json_t *body;
	PGresult *res = NULL;
	char id[40];
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) != NULL)
		cohort_fields(&v, r, body, 1, &in);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	{
		const char *p[7] = { in.program_id, in.name, in.starts_at,
		    in.ends_at, in.timezone, in.capacity[0] ? in.capacity : NULL,
		    in.has_waitlist ? (in.waitlist ? "true" : "false") : NULL };

		if ((res = db_exec(r->db, "cohort_insert", 7, p)) == NULL) {
			if (strncmp(db_error_sqlstate(r->db), "22", 2) == 0 ||
			    strcmp(db_error_sqlstate(r->db), "23514") == 0)
				rc = http_problem(r, 422, "validation",
				    "Unprocessable Content", "starts_at and "
				    "ends_at must be valid times, ends_at later");
			else
				rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (PQntuples(res) == 0) {
		rc = http_problem_ext(r, 422, "validation",
		    "Unprocessable Content", "the request has invalid fields; "
		    "see errors", json_pack("{s:[{s:s, s:s}]}", "errors",
		    "pointer", "/program_id", "detail", "no such program"));
		goto out;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	if (in.instructors != NULL && (rc = cohort_set_instructors(r, id,
	    in.instructors)) != 0)
		goto out;
	api_audited(r, "cohort", id);
	rc = cohort_render(r, id, 201);
 out:
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_cohort_list(struct http_req *r)
{
	const char *program = http_query(r, "program_id"); /* an id, or NULL */
	const char *p[3] = { api_role(r), api_user(r), program };

	return api_page_exec(r, "cohort_list", 3, p);
}

int
api_cohort_get(struct http_req *r)
{
	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return cohort_render(r, r->params[0], 200);
}

/*
 * Lock a cohort the caller manages: admins any, instructors theirs.
 * 0 go on, API_ANSWERED (412), <0 error (404 for everyone else).
 */
static int
cohort_lock(struct http_req *r, const char *id)
{
	const char *p[3] = { id, api_role(r), api_user(r) };

	return api_lock_p(r, "cohort_lock", 3, p);
}

int
api_cohort_update(struct http_req *r)
{
	struct cohort_in in;
	struct api_v v;
	json_t *body;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) != NULL)
		cohort_fields(&v, r, body, 0, &in);
	if ((rc = v_failed(&v, r)) != 0 ||
	    (rc = cohort_lock(r, r->params[0])) != 0)
		goto out;
	{
		const char *p[8] = { r->params[0], in.name, in.starts_at,
		    in.ends_at, in.timezone, in.capacity[0] ? in.capacity : NULL,
		    in.has_waitlist ? (in.waitlist ? "true" : "false") : NULL,
		    in.capacity_null ? "true" : "false" };

		if ((res = db_exec(r->db, "cohort_update", 8, p)) == NULL) {
			rc = strcmp(db_error_sqlstate(r->db), "23514") == 0 ?
			    http_problem(r, 422, "validation",
			    "Unprocessable Content", "ends_at must be later than "
			    "starts_at") : CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
	}
	/* More seats, or no limit any more: the waitlist moves up. */
	{
		const char *p[1] = { r->params[0] };

		if ((res = db_exec(r->db, "cohort_promote", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
		if ((rc = mail_enrollments(r->db, r->who.tenant_id)) != 0)
			goto out;
	}
	if (in.instructors != NULL && (rc = cohort_set_instructors(r,
	    r->params[0], in.instructors)) != 0)
		goto out;
	api_audited(r, "cohort", r->params[0]);
	rc = cohort_render(r, r->params[0], 200);
 out:
	v_free(&v);
	return api_result(rc);
}

int
api_cohort_delete(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc, gone;

	if ((rc = cohort_lock(r, r->params[0])) != 0)
		return api_result(rc);
	if ((res = db_exec(r->db, "cohort_delete", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	gone = PQntuples(res) == 1;
	PQclear(res);
	if (!gone)
		return http_problem(r, 409, "conflict", "Conflict", "the cohort "
		    "has enrollments");
	api_audited(r, "cohort", r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}

int
api_cohort_late_policy(struct http_req *r)
{
	static const char *const allowed[] = { "percent_per_day", "floor",
		NULL };
	struct api_v v;
	json_t *body;
	double per_day = 0, floor_ = 0;
	char a[32], b[32];
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		v_num(&v, body, "", "percent_per_day", 1, 0, 100, &per_day);
		v_num(&v, body, "", "floor", 1, 0, 100, &floor_);
	}
	if ((rc = v_failed(&v, r)) != 0 ||
	    (rc = cohort_lock(r, r->params[0])) != 0)
		goto out;
	snprintf(a, sizeof(a), "%.17g", per_day);
	snprintf(b, sizeof(b), "%.17g", floor_);
	{
		const char *p[3] = { r->params[0], a, b };

		if ((res = db_exec(r->db, "cohort_late_policy", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
	}
	api_audited(r, "cohort", r->params[0]);
	rc = cohort_render(r, r->params[0], 200);
 out:
	v_free(&v);
	return api_result(rc);
}

/* ---- enrollments ------------------------------------------------------ */

/* Run enroll_rows for rows (a JSON array) and return its result. */
static PGresult *
enroll(struct http_req *r, const char *cohort, json_t *rows,
    const char *source)
{
	char *text = json_dumps(rows, JSON_COMPACT);
	const char *p[3] = { cohort, text, source };
	PGresult *res;

	if (text == NULL)
		return NULL;
	res = db_exec(r->db, "enroll_rows", 3, p);
	free(text);
	/* The learners enrolled hear of it in this transaction. */
	if (res != NULL && mail_enrollments(r->db, r->who.tenant_id) != 0) {
		PQclear(res);
		res = NULL;
	}
	return res;
}

/* Validate one row of enrollment input at pointer base; 1 if usable. */
static int
enroll_row_check(struct api_v *v, json_t *row, const char *base)
{
	static const char *const allowed[] = { "user_id", "email", "name",
		"role", NULL };
	const char *email, *role;

	if (!json_is_object(row)) {
		v_error(v, base, "must be an object");
		return 0;
	}
	v_only(v, row, base, allowed);
	if (json_object_get(row, "user_id") != NULL) {
		if (json_object_get(row, "email") != NULL)
			v_error(v, base, "give user_id or email, not both");
		return v_uuid(v, row, base, "user_id", 1) != NULL;
	}
	email = v_str(v, row, base, "email", 1, 3, 254);
	if (email != NULL && !v_email_ok(email)) {
		char ptr[64];

		snprintf(ptr, sizeof(ptr), "%s/email", base);
		v_error(v, ptr, "is not an email address");
		email = NULL;
	}
	if (v_str(v, row, base, "name", 1, 1, 200) == NULL)
		return 0;
	role = v_str(v, row, base, "role", 0, 1, 32);
	if (role != NULL && strcmp(role, "learner") != 0) {
		char ptr[64];

		snprintf(ptr, sizeof(ptr), "%s/role", base);
		v_error(v, ptr, "only learners are enrolled");
		return 0;
	}
	return email != NULL;
}

int
api_enroll(struct http_req *r)
{
	struct api_v v;
	json_t *body, *rows, *urls = NULL;
	PGresult *res = NULL, *e = NULL;
	const char *outcome;
	int rc;

	if ((rc = cohort_lock(r, r->params[0])) != 0)
		return api_result(rc);
	if ((body = v_begin(&v, r, NULL)) != NULL)
		enroll_row_check(&v, body, "");
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	rows = json_pack("[O]", body);
	res = enroll(r, r->params[0], rows, "api");
	json_decref(rows);
	if (res == NULL || PQntuples(res) != 1) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	outcome = PQgetvalue(res, 0, 1);
	if (strcmp(outcome, "error") == 0) {
		const char *msg = PQgetvalue(res, 0, 4);

		if (strstr(msg, "full") != NULL)
			rc = http_problem(r, 409, "cohort-full", "Conflict",
			    "the cohort is full and has no waitlist");
		else
			rc = http_problem(r, 422, "validation",
			    "Unprocessable Content", "%s", msg);
		goto out;
	}
	{
		const char *p[1] = { PQgetvalue(res, 0, 2) };

		if ((e = db_exec(r->db, "enrollment_get", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	api_audited(r, "enrollment", PQgetvalue(res, 0, 2));
	/* A learner created here is invited to choose a password. */
	{
		json_t *ids = json_pack("[s]", PQgetvalue(res, 0, 3));

		rc = ids == NULL ? CD_ERR_NOMEM :
		    api_access_invite_new(r, ids, &urls);
		json_decref(ids);
		if (rc != 0)
			goto out;
	}
	{
		char loc[96];
		int created = strcmp(outcome, "existing") != 0;
		json_t *o = api_row(e, 0);
		json_t *url = json_object_get(urls, PQgetvalue(res, 0, 3));

		if (created) {
			snprintf(loc, sizeof(loc), "/v1/enrollments/%s",
			    PQgetvalue(res, 0, 2));
			http_add_header(r, "Location", loc);
		}
		if (o != NULL && url != NULL)
			json_object_set(o, "invitation_url", url);
		rc = http_json(r, created ? 201 : 200, o);
	}
 out:
	json_decref(urls);
	PQclear(res);
	PQclear(e);
	v_free(&v);
	return api_result(rc);
}

/* ---- CSV upload ------------------------------------------------------- */

/* The columns a batch CSV may have; email and name are required. */
enum { COL_EMAIL, COL_NAME, COL_ROLE, NCOLS };
static const char *const csv_cols[NCOLS] = { "email", "name", "role" };

/* Record a problem with the file as a whole, on its line. */
static void
csv_problem(json_t *errs, long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
csv_problem(json_t *errs, long line, const char *fmt, ...)
{
	char detail[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(errs, json_pack("{s:s, s:s, s:I}", "pointer", "",
	    "detail", detail, "line", (json_int_t)line));
}

/* s without the spaces and tabs around it (s is cut in place). */
static const char *
csv_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* At most max bytes of the UTF-8 text s, cut between characters, in buf
 * (of more than max bytes): a column's name in a message. */
static const char *
csv_quote_name(const char *s, char *buf, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/*
 * Map the header onto the known columns (col[k]: the field index, or -1).
 * Unknown, repeated and missing columns are recorded in errs.  A column
 * without a name is allowed (spreadsheets save empty ones) as long as it
 * stays empty.
 */
static void
csv_header_map(struct csv_record *h, int *col, json_t *errs)
{
	char name[48];

	for (int k = 0; k < NCOLS; k++)
		col[k] = -1;
	for (size_t i = 0; i < h->nfields; i++) {
		const char *f = csv_trim(h->fields[i]);
		int k;

		if (f[0] == '\0')
			continue;
		for (k = 0; k < NCOLS && strcasecmp(f, csv_cols[k]) != 0; k++)
			;
		if (k == NCOLS)
			csv_problem(errs, h->line, "line %ld: unknown column "
			    "\"%s\" (the columns are email, name and role)",
			    h->line, csv_quote_name(f, name, 40));
		else if (col[k] >= 0)
			csv_problem(errs, h->line, "line %ld: the column %s "
			    "is named twice", h->line, csv_cols[k]);
		else
			col[k] = (int)i;
	}
	if (col[COL_EMAIL] < 0 || col[COL_NAME] < 0)
		csv_problem(errs, h->line, "line %ld: the first line must be "
		    "a header naming the columns email and name (and "
		    "optionally role)", h->line);
}

/* One record as a batch row, or a row carrying its error (_error). */
static json_t *
csv_learner(struct csv_record *rec, const struct csv_record *h,
    const int *col)
{
	char buf[64];
	json_t *o;

	if (rec->nfields != h->nfields) {
		snprintf(buf, sizeof(buf), "%zu fields where the header has "
		    "%zu", rec->nfields, h->nfields);
		return json_pack("{s:s, s:I}", "_error", buf, "_line",
		    (json_int_t)rec->line);
	}
	for (size_t i = 0; i < h->nfields; i++)
		if (h->fields[i][0] == '\0' && rec->fields[i][0] != '\0')
			return json_pack("{s:s, s:I}", "_error", "a value in "
			    "a column without a name", "_line",
			    (json_int_t)rec->line);
	o = json_pack("{s:I}", "_line", (json_int_t)rec->line);
	for (int k = 0; o != NULL && k < NCOLS; k++) {
		const char *v;

		if (col[k] < 0)
			continue;
		v = csv_trim(rec->fields[col[k]]);
		/* An empty role is the default one. */
		if (k == COL_ROLE && v[0] == '\0')
			continue;
		json_object_set_new(o, csv_cols[k], json_string(v));
	}
	return o;
}

/*
 * A text/csv batch body as rows for the batch: a header naming email and
 * name (and optionally role), then a learner per record.  A record's own
 * problem becomes a row that fails validation with its line.  *errs gets
 * what is wrong with the file as a whole (malformed, header), for a 422;
 * the rows are NULL then.  The caller owns both.
 */
static json_t *
csv_rows(const char *text, size_t len, json_t **errs)
{
	struct csv_doc *doc = NULL;
	struct csv_err err;
	json_t *rows = NULL;
	int col[NCOLS], rc;

	if ((*errs = json_array()) == NULL)
		goto out;
	if ((rc = csv_read(text, len, BATCH_MAX_ROWS + 1, &doc, &err)) == CD_ERR_INVALID) {
		csv_problem(*errs, err.line, "line %ld: %s", err.line, err.why);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (doc->nrecords == 0) {
		csv_problem(*errs, 1, "line 1: the first line must be a header "
		    "naming the columns email and name (and optionally role)");
		goto out;
	}
	csv_header_map(&doc->records[0], col, *errs);
	if (json_array_size(*errs) > 0 || (rows = json_array()) == NULL)
		goto out;
	for (size_t i = 1; i < doc->nrecords; i++)
		json_array_append_new(rows, csv_learner(&doc->records[i],
		    &doc->records[0], col));
 out:
	csv_doc_free(doc);
	return rows;
}

/* The 422 for a batch CSV file that cannot be read as one. */
static int
csv_refuse(struct http_req *r, json_t *errs)
{
	char detail[320];

	if (json_array_size(errs) == 1)
		snprintf(detail, sizeof(detail), "%s", json_string_value(
		    json_object_get(json_array_get(errs, 0), "detail")));
	else
		snprintf(detail, sizeof(detail), "the CSV file has %zu "
		    "problems; see errors", json_array_size(errs));
	return http_problem_ext(r, 422, "validation", "Unprocessable Content",
	    detail, json_pack("{s:O}", "errors", errs));
}

/* Row k of enroll_rows' result into o, its user into ids if enrolled,
 * counted in counts (created, existing, waitlisted, error). */
static void
batch_result(json_t *o, PGresult *res, int k, json_t *ids, long *counts)
{
	const char *outcome = PQgetvalue(res, k, 1);

	json_object_set_new(o, "status", json_string(outcome));
	if (strcmp(outcome, "error") == 0) {
		json_object_set_new(o, "errors", json_pack("[{s:s, s:s}]",
		    "pointer", "", "detail", PQgetvalue(res, k, 4)));
		counts[3]++;
		return;
	}
	json_object_set_new(o, "enrollment_id",
	    json_string(PQgetvalue(res, k, 2)));
	json_object_set_new(o, "user_id", json_string(PQgetvalue(res, k, 3)));
	json_array_append_new(ids, json_string(PQgetvalue(res, k, 3)));
	counts[strcmp(outcome, "created") == 0 ? 0 :
	    strcmp(outcome, "existing") == 0 ? 1 : 2]++;
}

int
api_enroll_batch(struct http_req *r)
{
	json_t *rows = NULL, *valid = json_array(), *results = json_array();
	json_t *row, *summary, *errs = NULL, *urls = json_object();
	size_t i, *index = NULL;
	PGresult *res = NULL;
	int rc;
	long counts[4] = { 0, 0, 0, 0 };	/* created existing waitlisted error */

	if ((rc = cohort_lock(r, r->params[0])) != 0) {
		rc = api_result(rc);
		goto out;
	}
	if (r->json != NULL) {
		rows = json_incref(r->json);
		if (!json_is_array(rows)) {
			rc = http_problem(r, 422, "validation",
			    "Unprocessable Content", "send a JSON array of "
			    "{\"user_id\"} or {\"email\",\"name\"} objects, or "
			    "text/csv");
			goto out;
		}
	} else if ((rows = csv_rows(r->body ? r->body : "", r->body_len,
	    &errs)) == NULL) {
		rc = errs != NULL && json_array_size(errs) > 0 ?
		    csv_refuse(r, errs) : CD_ERR_NOMEM;
		goto out;
	}
	if (json_array_size(rows) == 0 || json_array_size(rows) >
	    BATCH_MAX_ROWS) {
		rc = http_problem(r, 422, "validation", "Unprocessable Content",
		    "send 1 to 10000 rows");
		goto out;
	}
	if ((index = calloc(json_array_size(rows), sizeof(*index))) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	/* Validate every row here; only the valid ones go to the database,
	 * and every row gets a result, in order. */
	json_array_foreach(rows, i, row) {
		struct api_v v;
		json_t *lj = json_is_object(row) ?
		    json_object_get(row, "_line") : NULL;
		json_int_t line = lj ? json_integer_value(lj) : 0;
		json_t *res1;

		v_init(&v);
		if (json_is_object(row) && json_object_get(row, "_error"))
			v_error(&v, "", "%s", json_string_value(
			    json_object_get(row, "_error")));
		else {
			if (lj != NULL)
				json_object_del(row, "_line");
			enroll_row_check(&v, row, "");
		}
		res1 = json_pack("{s:I}", "row", (json_int_t)i + 1);
		if (line > 0)
			json_object_set_new(res1, "line", json_integer(line));
		if (json_array_size(v.errors) > 0) {
			json_object_set_new(res1, "status", json_string("error"));
			json_object_set(res1, "errors", v.errors);
			counts[3]++;
		} else {
			index[json_array_size(valid)] = i;
			json_array_append(valid, row);
		}
		json_array_append_new(results, res1);
		v_free(&v);
	}
	/*
	 * A slice of the rows at a time, each in a transaction of its own:
	 * the cohort is locked (enroll_rows) for a slice, not for the whole
	 * batch, so a request on the same cohort waits a slice at most.  A
	 * batch that fails part-way leaves the slices before it enrolled;
	 * sent again, their rows answer "existing".
	 */
	for (size_t at = 0; at < json_array_size(valid); at += BATCH_SLICE) {
		size_t end = json_array_size(valid) - at > BATCH_SLICE ?
		    at + BATCH_SLICE : json_array_size(valid);
		json_t *slice = json_array(), *sids = json_array(), *surls = NULL;

		for (size_t k = at; k < end && slice != NULL; k++)
			json_array_append(slice, json_array_get(valid, k));
		if (slice == NULL || sids == NULL)
			rc = CD_ERR_NOMEM;
		else if (at > 0 && db_commit(r->db) != 0)
			rc = CD_ERR_DATABASE;
		else if (at > 0 && (rc = http_tx(r)) != 0)
			;
		else if ((res = enroll(r, r->params[0], slice, "batch")) ==
		    NULL)
			rc = CD_ERR_DATABASE;
		else {
			for (int k = 0; k < PQntuples(res); k++)
				batch_result(json_array_get(results,
				    index[at + (size_t)k]), res, k, sids, counts);
			/* Learners created here are invited to choose a
			   password, in the slice's transaction. */
			if ((rc = api_access_invite_new(r, sids, &surls)) == 0)
				json_object_update(urls, surls);
		}
		PQclear(res);
		res = NULL;
		json_decref(slice);
		json_decref(sids);
		json_decref(surls);
		if (rc != 0)
			goto out;
	}
	json_array_foreach(results, i, row) {
		json_t *url = json_object_get(urls, json_string_value(
		    json_object_get(row, "user_id")) ?: "");

		if (url != NULL)
			json_object_set(row, "invitation_url", url);
	}
	api_audited(r, "cohort", r->params[0]);
	summary = json_pack("{s:I, s:I, s:I, s:I}", "created",
	    (json_int_t)counts[0], "existing", (json_int_t)counts[1],
	    "waitlisted", (json_int_t)counts[2], "error", (json_int_t)counts[3]);
	rc = http_json(r, 200, json_pack("{s:o, s:O}", "summary", summary,
	    "results", results));
 out:
	PQclear(res);
	free(index);
	json_decref(rows);
	json_decref(errs);
	json_decref(valid);
	json_decref(results);
	json_decref(urls);
	return api_result(rc);
}

int
api_enrollment_list(struct http_req *r)
{
	const char *state = http_query(r, "state");	/* checked by the route */
	int rc;

	if ((rc = cohort_lock(r, r->params[0])) != 0)
		return api_result(rc);
	{
		const char *p[2] = { r->params[0], state };

		return api_page_exec(r, "enrollment_list", 2, p);
	}
}

int
api_my_enrollments(struct http_req *r)
{
	const char *p[1] = { api_user(r) };

	return api_page_exec(r, "enrollment_mine", 1, p);
}

int
api_enrollment_withdraw(struct http_req *r)
{
	const char *p[3] = { r->params[0], api_role(r), api_user(r) };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, "enrollment_access", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	rc = PQntuples(res) == 1 ? 0 : CD_ERR_NOT_FOUND;
	PQclear(res);
	if (rc != 0)
		return api_result(rc);
	if ((res = db_exec(r->db, "enrollment_withdraw", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	/* A seat freed: whoever moved up hears of it. */
	if ((rc = mail_enrollments(r->db, r->who.tenant_id)) != 0)
		return api_result(rc);
	api_audited(r, "enrollment", r->params[0]);
	return api_exec_one(r, "enrollment_get", 1, p, 200);
}
