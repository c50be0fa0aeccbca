/*
 * report_jobs.c - reports rendered whole in the background.  POST
 * /v1/reports/jobs answers 202 with a job to poll (GET .../jobs/{id});
 * once it is done, .../jobs/{id}/result streams its body, CSV or JSON.
 *
 * Theory of operation.  The request checks what the report needs (its
 * subject exists and the caller may see it) and writes the job with the
 * caller's view (role and user: an instructor's job sees only their
 * cohorts); a trigger NOTIFYs cohortd_report_jobs at commit.  Every API
 * process runs COHORTD_REPORT_RUNNERS runner threads, so jobs need no
 * process of their own and scale out with the API.  A runner LISTENs on
 * the channel and claims the oldest job with FOR UPDATE SKIP LOCKED
 * (report_claim()), which marks it running under a lease a little longer
 * than COHORTD_REPORT_TIMEOUT.  It then reads the report on one pooled
 * connection, in the job's tenant, under row-level security, with that
 * statement timeout, row by row (reports.c, report_render), and writes
 * the body on a second connection in pieces of about 256 KiB, all in one
 * transaction that ends by marking the job done, fenced by the lease
 * token.  So memory stays flat whatever the size, and a runner killed at
 * any point leaves no partial result: its pieces roll back, the lease
 * expires and another process takes the job (after three lost runners it
 * is failed, visibly).  On shutdown a running report is cancelled and
 * its job queued again for the next process.  Claims are fair between
 * tenants (the tenant with the fewest jobs running goes first) and each
 * tenant's queue is bounded (COHORTD_REPORT_QUEUE_LIMIT, then 503).
 * Results are kept a day after the job ends; idle runners delete expired
 * jobs (their pieces go with them).
 *
 * Who reads a job: the one who asked for it, while they hold the role
 * they asked with (the runner checks it again before it starts), and the
 * tenant's admins.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "../daemon/jobq.h"
#include "../common/log.h"
#include "api.h"
#include "reports.h"
#include "report_jobs.h"
#include "util.h"

#define RJOB_MAX_ATTEMPTS	"3"
#define RJOB_COLS "id, report, format, args, state, attempts, error, " \
	"rows, bytes, rfc3339(created_at) AS created_at, rfc3339(started_at) " \
	"AS started_at, rfc3339(finished_at) AS finished_at, " \
	"rfc3339(expires_at) AS expires_at, CASE WHEN state = 'done' THEN " \
	"'/v1/reports/jobs/' || id || '/result' END AS result_url"

static const struct db_stmt rjob_stmts[] = {
	{ "rjob_insert", "INSERT INTO report_jobs (tenant_id, report, args, "
	  "format, role, user_id, requested_by) VALUES (current_tenant(), $1, "
	  "$2::jsonb, $3, $4, $5::uuid, $6::uuid) RETURNING " RJOB_COLS },
	/* A job is its requester's while they keep the role they asked
	 * with, and every admin's of the tenant; until it expires. */
	{ "rjob_get", "SELECT " RJOB_COLS " FROM report_jobs WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND ($2 = 'admin' OR (requested_by = "
	  "$3::uuid AND role = $2)) AND (expires_at IS NULL OR expires_at > "
	  "now())" },
	{ "rjob_list", "SELECT " RJOB_COLS ", created_at::text AS _k_ts, id "
	  "AS _k_id FROM report_jobs WHERE tenant_id = current_tenant() AND "
	  "($4 = 'admin' OR (requested_by = $5::uuid AND role = $4)) AND "
	  "(expires_at IS NULL OR expires_at > now()) AND (created_at, id) < "
	  "($1::timestamptz, $2::uuid) ORDER BY created_at DESC, id DESC "
	  "LIMIT $3" },
	{ "rjob_depth", "SELECT count(*) FROM report_jobs WHERE tenant_id = "
	  "current_tenant() AND state IN ('queued', 'running')" },
	{ "rjob_chunks", "SELECT body FROM report_chunks WHERE tenant_id = "
	  "current_tenant() AND job_id = $1 ORDER BY seq" },
	/* The runner's side. */
	{ "rjob_scope", "SELECT set_config('cohortd.scope', 'worker', true)" },
	{ "rjob_claim", "SELECT tenant_id, id, report, args, format, role, "
	  "user_id, requested_by, lease_token FROM report_claim($1::int, "
	  RJOB_MAX_ATTEMPTS ")" },
	/* The requester's role now: a user still active, a key not revoked. */
	{ "rjob_requester", "SELECT coalesce((SELECT u.role FROM users u "
	  "WHERE u.tenant_id = current_tenant() AND u.id = $1 AND u.active), "
	  "(SELECT c.role FROM credentials c WHERE c.tenant_id = "
	  "current_tenant() AND c.id = $1 AND c.kind = 'api_key' AND "
	  "c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > "
	  "now())))" },
	{ "rjob_timeout", "SELECT set_config('statement_timeout', $1, true)" },
	{ "rjob_piece", "INSERT INTO report_chunks (tenant_id, job_id, seq, "
	  "body) VALUES (current_tenant(), $1, $2::int, $3)" },
	{ "rjob_done", "UPDATE report_jobs SET state = 'done', rows = "
	  "$3::bigint, bytes = $4::bigint, finished_at = clock_timestamp(), "
	  "expires_at = clock_timestamp() + interval '1 day', "
	  "lease_token = NULL, lease_until = NULL WHERE tenant_id = "
	  "current_tenant() AND id = $1 AND lease_token = $2 AND state = "
	  "'running' RETURNING 1" },
	{ "rjob_fail", "UPDATE report_jobs SET state = 'failed', error = $3, "
	  "finished_at = clock_timestamp(), expires_at = clock_timestamp() + "
	  "interval '1 day', lease_token = NULL, lease_until = "
	  "NULL WHERE tenant_id = current_tenant() AND id = $1 AND lease_token "
	  "= $2 AND state = 'running'" },
	/* Shutdown: not the job's fault, so not an attempt. */
	{ "rjob_requeue", "UPDATE report_jobs SET state = 'queued', attempts = "
	  "greatest(attempts - 1, 0), lease_token = NULL, lease_until = NULL "
	  "WHERE tenant_id = current_tenant() AND id = $1 AND lease_token = $2 "
	  "AND state = 'running'" },
	{ "rjob_sweep", "DELETE FROM report_jobs WHERE expires_at < now()" },
};

static int report_queue_limit, report_timeout_s;

void
api_report_jobs_init(const struct cfg *conf)
{
	report_queue_limit = conf->report_queue_limit;
	report_timeout_s = conf->report_timeout_s;
	db_register(rjob_stmts, sizeof(rjob_stmts) / sizeof(*rjob_stmts));
}

/* ---- the requests ------------------------------------------------------ */

/* Who asks: the user of a session, or the API key itself. */
static const char *
rjob_caller(const struct http_req *r)
{
	return r->who.is_key ? r->who.token_id : r->who.user_id;
}

/* The job's subject, by what the report is about. */
static const char *
rjob_subject_key(const struct report_def *def)
{
	switch (def->on) {
	case REPORT_ON_COHORT:		return "cohort_id";
	case REPORT_ON_EXERCISE:	return "exercise_id";
	case REPORT_ON_ASSESSMENT:	return "assessment_id";
	default:			return NULL;
	}
}

/*
 * The report request a job's args describe (args as the POST stored
 * them); days points into buf.
 */
static void
rjob_req(struct report_req *q, const struct report_def *def, json_t *args,
    const char *role, const char *user, char *buf, size_t len)
{
	const char *key = rjob_subject_key(def);
	json_t *days = json_object_get(args, "inactive_days");

	memset(q, 0, sizeof(*q));
	q->def = def;
	q->id = key ? json_string_value(json_object_get(args, key)) : NULL;
	if (def->flags & RF_FILTER)
		q->cohort = json_string_value(json_object_get(args,
		    "cohort_id"));
	if (json_is_integer(days)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(days));
		q->days = buf;
	}
	if (def->flags & RF_WAITLIST)
		q->include = json_string_value(json_object_get(args,
		    "include"));
	q->role = role;
	q->user = user;
}

int
api_report_job_create(struct http_req *r)
{
	static const char *const allowed[] = { "report", "format",
	    "cohort_id", "exercise_id", "assessment_id", "inactive_days",
	    "include", NULL };
	static const char *const includes[] = { "waitlisted", NULL };
	static const char *const names[] = { "roster", "seats", "gradebook",
	    "completion", "engagement", "missing", "exercise", "items",
	    "grade_changes", NULL };
	static const char *const formats[] = { "json", "csv", NULL };
	const struct report_def *def = NULL;
	struct report_req q;
	struct api_v v;
	json_t *body, *args = NULL;
	const char *name = NULL, *format = NULL, *key;
	char days[16], loc[96], *text = NULL;
	PGresult *res = NULL;
	long n;
	int rc = CD_ERR_INTERNAL;

	v_init(&v);
	if ((body = v_body(&v, r)) != NULL) {
		v_only(&v, body, "", allowed);
		name = v_enum(&v, body, "", "report", 1, names);
		format = v_enum(&v, body, "", "format", 0, formats);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	def = report_find(name);
	key = rjob_subject_key(def);
	args = json_object();
	/* Exactly the members this report reads. */
	for (const char *const *m = allowed + 2; *m != NULL; m++) {
		int wanted = (key && strcmp(*m, key) == 0) ||
		    (strcmp(*m, "cohort_id") == 0 &&
		    (def->flags & RF_FILTER)) ||
		    (strcmp(*m, "inactive_days") == 0 &&
		    (def->flags & RF_DAYS)) ||
		    (strcmp(*m, "include") == 0 &&
		    (def->flags & RF_WAITLIST));

		if (!wanted && json_object_get(body, *m) != NULL) {
			char ptr[32];

			snprintf(ptr, sizeof(ptr), "/%s", *m);
			v_error(&v, ptr, "not used by the %s report",
			    def->name);
		}
	}
	if (key != NULL && v_uuid(&v, body, "", key, 1) != NULL)
		json_object_set(args, key, json_object_get(body, key));
	if ((def->flags & RF_FILTER) &&
	    v_uuid(&v, body, "", "cohort_id", 0) != NULL)
		json_object_set(args, "cohort_id", json_object_get(body,
		    "cohort_id"));
	if ((def->flags & RF_DAYS) &&
	    v_int(&v, body, "", "inactive_days", 0, 1, 365, &n))
		json_object_set_new(args, "inactive_days", json_integer(n));
	if ((def->flags & RF_WAITLIST) &&
	    v_enum(&v, body, "", "include", 0, includes) != NULL)
		json_object_set(args, "include", json_object_get(body,
		    "include"));
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	rjob_req(&q, def, args, api_role(r), api_user(r), days, sizeof(days));
	if ((rc = report_visible(r->db, &q)) == CD_ERR_NOT_FOUND) {
		char ptr[32];

		snprintf(ptr, sizeof(ptr), "/%s", key);
		v_error(&v, ptr, "no %s with this id is visible to you", key);
		rc = v_failed(&v, r);
		goto out;
	}
	if (rc != 0)
		goto out;
	/* A bounded queue per tenant, as for grading. */
	if ((res = db_exec(r->db, "rjob_depth", 0, NULL)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (atoi(PQgetvalue(res, 0, 0)) >= report_queue_limit) {
		http_add_header(r, "Retry-After", "30");
		rc = http_problem(r, 503, "queue-full", "Service Unavailable",
		    "%d report jobs of this tenant are waiting or running; "
		    "try again when one is done", report_queue_limit);
		goto out;
	}
	PQclear(res);
	res = NULL;
	if ((text = json_dumps(args, JSON_COMPACT)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	{
		const char *p[6] = { def->name, text, format ? format : "json",
		    api_role(r), api_user(r), rjob_caller(r) };

		if ((res = db_exec(r->db, "rjob_insert", 6, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	r->audit_type = "report_job";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", api_col(res, 0, "id"));
	snprintf(loc, sizeof(loc), "/v1/reports/jobs/%s", api_col(res, 0, "id"));
	http_add_header(r, "Location", loc);
	rc = http_json(r, 202, api_row(res, 0));
 out:
	free(text);
	json_decref(args);
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

/* The job of r->params[0] as the caller may see it, or NULL (*rc set). */
static PGresult *
rjob_fetch(struct http_req *r, int *rc)
{
	const char *p[3] = { r->params[0], api_role(r), rjob_caller(r) };
	PGresult *res;

	*rc = CD_ERR_NOT_FOUND;
	if (!api_uuid_ok(r->params[0]))
		return NULL;
	if ((res = db_exec(r->db, "rjob_get", 3, p)) == NULL) {
		*rc = CD_ERR_DATABASE;
		return NULL;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	*rc = 0;
	return res;
}

int
api_report_job_get(struct http_req *r)
{
	PGresult *res;
	int rc;

	if ((res = rjob_fetch(r, &rc)) == NULL)
		return api_result(rc);
	rc = http_json(r, 200, api_row(res, 0));
	PQclear(res);
	return api_result(rc);
}

int
api_report_job_list(struct http_req *r)
{
	const char *p[2] = { api_role(r), rjob_caller(r) };

	return api_page_exec_desc(r, "rjob_list", 2, p);
}

/* db_row_fn: a piece of the body, as stored. */
static int
rjob_piece_row(void *arg, PGresult *row, char **buf, size_t *len,
    size_t *cap)
{
	return api_buf_put(buf, len, cap, PQgetvalue(row, 0, 0),
	    (size_t)PQgetlength(row, 0, 0));
}

int
api_report_job_result(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	char disp[128], *head;
	struct db_cursor *cur;
	PGresult *res;
	int rc, csv;

	if ((res = rjob_fetch(r, &rc)) == NULL)
		return api_result(rc);
	if (strcmp(api_col(res, 0, "state"), "done") != 0) {
		rc = http_problem(r, 409, "report-job-not-done", "Conflict",
		    "the job is %s%s%s", api_col(res, 0, "state"),
		    api_col(res, 0, "error") ? ": " : "",
		    api_col(res, 0, "error") ? api_col(res, 0, "error") : "");
		PQclear(res);
		return api_result(rc);
	}
	csv = strcmp(api_col(res, 0, "format"), "csv") == 0;
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-%s.%s\"",
	    api_col(res, 0, "report"), r->params[0], csv ? "csv" : "json");
	PQclear(res);
	/* The chunks go out at the client's pace, not the database's. */
	if ((rc = db_no_statement_timeout(r->db)) != 0)
		return api_result(rc);
	if ((head = strdup("")) == NULL)
		return CD_ERR_NOMEM;
	if ((rc = db_cursor_open(r->db, "rjob_chunks", 1, p, rjob_piece_row,
	    NULL, &cur)) != 0) {
		free(head);
		return rc;
	}
	http_add_header(r, "Content-Disposition", disp);
	return http_stream_rows(r, csv ? "text/csv; charset=utf-8" :
	    "application/json", head, cur, NULL, NULL);
}

/* ---- the runners ------------------------------------------------------- */

struct rjob {
	char	 tenant[40], id[40], report[32], format[8], role[16];
	char	 user[40], requester[40], token[40];
	json_t	*args;
};

struct rjob_runner {
	pthread_t	 thread;
	PGcancel	*cancel;	/* of the running report; under rjob_mu */
};

static struct db_pool *rjob_pool;
static char *rjob_conninfo;
static struct rjob_runner *rjob_runners;
static int rjob_nrunners;
static pthread_mutex_t rjob_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int rjob_stopping;	/* set under rjob_mu */

/* Where the pieces go: the writer's transaction. */
struct rjob_out {
	struct db_conn		*db;
	const struct rjob	*job;
	int			 seq;
	long			 bytes;
};

static int
rjob_put(void *arg, const char *buf, size_t len)
{
	struct rjob_out *o = arg;
	char seq[16];
	const char *p[3] = { o->job->id, seq, buf };
	PGresult *res;

	if (rjob_stopping)
		return CD_ERR_UNAVAILABLE;
	snprintf(seq, sizeof(seq), "%d", o->seq++);
	if ((res = db_exec(o->db, "rjob_piece", 3, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	o->bytes += (long)len;
	return 0;
}

/*
 * Run one statement across tenants (the worker scope, which only the
 * report_jobs policy honours) in a transaction of its own: the result,
 * or NULL.
 */
static PGresult *
rjob_across(const char *stmt, int n, const char *const *p)
{
	return db_once(rjob_pool, "rjob_scope", stmt, n, p);
}

/* Claim a job: 1 and *job filled, 0 none, <0 error. */
static int
rjob_claim(struct rjob *job)
{
	char lease[16];
	const char *p[1] = { lease };
	PGresult *res;
	int rc;

	snprintf(lease, sizeof(lease), "%d", report_timeout_s + 30);
	if ((res = rjob_across("rjob_claim", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if ((rc = PQntuples(res)) == 1) {
		snprintf(job->tenant, sizeof(job->tenant), "%s",
		    PQgetvalue(res, 0, 0));
		snprintf(job->id, sizeof(job->id), "%s", PQgetvalue(res, 0, 1));
		snprintf(job->report, sizeof(job->report), "%s",
		    PQgetvalue(res, 0, 2));
		job->args = json_loads(PQgetvalue(res, 0, 3), 0, NULL);
		snprintf(job->format, sizeof(job->format), "%s",
		    PQgetvalue(res, 0, 4));
		snprintf(job->role, sizeof(job->role), "%s",
		    PQgetvalue(res, 0, 5));
		snprintf(job->user, sizeof(job->user), "%s",
		    PQgetvalue(res, 0, 6));
		snprintf(job->requester, sizeof(job->requester), "%s",
		    PQgetvalue(res, 0, 7));
		snprintf(job->token, sizeof(job->token), "%s",
		    PQgetvalue(res, 0, 8));
	}
	PQclear(res);
	return rc;
}

/* Set the job's end (fail or requeue) in a transaction of its own. */
static void
rjob_end(const struct rjob *job, const char *stmt, const char *why)
{
	const char *p[3] = { job->id, job->token, why };
	struct db_conn *c;
	PGresult *res;

	if (db_acquire(rjob_pool, 10000, &c) != 0)
		return;
	if (db_begin(c, job->tenant) == 0 &&
	    (res = db_exec(c, stmt, strcmp(stmt, "rjob_fail") == 0 ? 3 : 2,
	    p)) != NULL) {
		PQclear(res);
		db_commit(c);
	}
	db_release(c);
}

static void
rjob_run(struct rjob_runner *me, struct rjob *job)
{
	const struct report_def *def = report_find(job->report);
	struct db_conn *rd = NULL, *wr = NULL;
	struct rjob_out o;
	struct report_req q;
	char days[16], ms[24], rows[24], bytes[24], why[512] = "";
	PGresult *res;
	long nrows = 0;
	int rc, stopping;

	if (def == NULL) {
		rjob_end(job, "rjob_fail", "no such report");
		return;
	}
	rjob_req(&q, def, job->args, job->role, job->user[0] ? job->user :
	    NULL, days, sizeof(days));
	if (db_acquire(rjob_pool, 10000, &rd) != 0 ||
	    db_acquire(rjob_pool, 10000, &wr) != 0) {
		/* A busy pool is not the job's fault: give it back, and
		 * leave the pool alone a moment. */
		struct timespec ts = { 1, 0 };

		db_release(rd);
		db_release(wr);
		rjob_end(job, "rjob_requeue", NULL);
		nanosleep(&ts, NULL);
		return;
	}
	snprintf(ms, sizeof(ms), "%d", report_timeout_s * 1000);
	{
		const char *p[1] = { ms };

		if ((rc = db_begin(rd, job->tenant)) != 0 ||
		    (res = db_exec(rd, "rjob_timeout", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(res);
	}
	if ((rc = db_begin(wr, job->tenant)) != 0)
		goto out;
	/* Does the requester still hold the role they asked with? */
	{
		const char *p[1] = { job->requester };
		int same;

		if ((res = db_exec(rd, "rjob_requester", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		same = !PQgetisnull(res, 0, 0) &&
		    strcmp(PQgetvalue(res, 0, 0), job->role) == 0;
		PQclear(res);
		if (!same) {
			snprintf(why, sizeof(why), "the requester no longer "
			    "holds the %s role", job->role);
			rc = CD_ERR_DENIED;
			goto out;
		}
	}
	/* Still there, and still the requester's to see? */
	if ((rc = report_visible(rd, &q)) == CD_ERR_NOT_FOUND) {
		snprintf(why, sizeof(why), "the report's %s is gone or no "
		    "longer visible to the requester", rjob_subject_key(def));
		goto out;
	}
	if (rc != 0)
		goto out;
	memset(&o, 0, sizeof(o));
	o.db = wr;
	o.job = job;
	/* From here a shutdown cancels the report (or, if it began before
	 * the handle was published, is seen now). */
	pthread_mutex_lock(&rjob_mu);
	if (!(stopping = rjob_stopping))
		me->cancel = PQgetCancel(db_pg(rd));
	pthread_mutex_unlock(&rjob_mu);
	if (stopping) {
		rc = CD_ERR_UNAVAILABLE;
		goto out;
	}
	rc = report_render(rd, &q, strcmp(job->format, "csv") == 0, rjob_put,
	    &o, &nrows, why, sizeof(why));
	pthread_mutex_lock(&rjob_mu);
	PQfreeCancel(me->cancel);
	me->cancel = NULL;
	pthread_mutex_unlock(&rjob_mu);
	if (rc != 0)
		goto out;
	snprintf(rows, sizeof(rows), "%ld", nrows);
	snprintf(bytes, sizeof(bytes), "%ld", o.bytes);
	{
		const char *p[4] = { job->id, job->token, rows, bytes };

		if ((res = db_exec(wr, "rjob_done", 4, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		if (PQntuples(res) != 1)
			log_warnx("report job %s: lease lost; result discarded",
			    job->id);
		else if ((rc = db_commit(wr)) == 0)
			log_fields(LOG_LVL_INFO, "report job done", json_pack(
			    "{s:s, s:s, s:s, s:I, s:I}", "job", job->id,
			    "report", job->report, "format", job->format,
			    "rows", (json_int_t)nrows, "bytes",
			    (json_int_t)o.bytes));
		PQclear(res);
	}
 out:
	db_release(rd);		/* rolls back whatever is still open */
	db_release(wr);
	if (rc == 0)
		return;
	if (rjob_stopping) {
		rjob_end(job, "rjob_requeue", NULL);
		return;
	}
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "%s", cd_strerror(rc));
	log_warnx("report job %s (%s): %s", job->id, job->report, why);
	rjob_end(job, "rjob_fail", why);
}

/* Delete expired jobs, every tenant's; their pieces go with them. */
static void
rjob_sweep(void)
{
	PQclear(rjob_across("rjob_sweep", 0, NULL));
}

/* Claim a job and run it: 1 ran, 0 none, <0 error (jobq_serve). */
static int
rjob_next(void *arg)
{
	struct rjob_runner *me = arg;
	struct rjob job;
	int rc;

	memset(&job, 0, sizeof(job));
	if ((rc = rjob_claim(&job)) > 0) {
		rjob_run(me, &job);
		json_decref(job.args);
	}
	return rc;
}

/* Idle: delete expired jobs, once a minute. */
static void
rjob_idle(void *arg)
{
	static _Atomic time_t swept;
	time_t now = time(NULL);

	if (now - swept >= 60) {
		swept = now;
		rjob_sweep();
	}
}

static bool
rjob_is_stopping(void *arg)
{
	return rjob_stopping;
}

static void *
rjob_main(void *arg)
{
	struct jobq_serve serve = { .conninfo = rjob_conninfo,
	    .channel = "cohortd_report_jobs", .run_one = rjob_next,
	    .idle = rjob_idle, .stopping = rjob_is_stopping, .arg = arg };

	if (jobq_serve(&serve) != 0)
		log_warnx("report runner: out of memory; not running");
	return NULL;
}

int
api_report_jobs_start(struct db_pool *pool, const char *conninfo, int n)
{
	rjob_pool = pool;
	rjob_stopping = 0;
	if (n <= 0)
		return 0;
	if ((rjob_conninfo = strdup(conninfo)) == NULL ||
	    (rjob_runners = calloc((size_t)n, sizeof(*rjob_runners))) == NULL)
		return CD_ERR_NOMEM;
	for (rjob_nrunners = 0; rjob_nrunners < n; rjob_nrunners++)
		if (pthread_create(&rjob_runners[rjob_nrunners].thread, NULL,
		    rjob_main, &rjob_runners[rjob_nrunners]) != 0)
			return CD_ERR_NOMEM;
	return 0;
}

void
api_report_jobs_stop(void)
{
	char err[256];

	pthread_mutex_lock(&rjob_mu);
	rjob_stopping = 1;
	for (int i = 0; i < rjob_nrunners; i++)
		if (rjob_runners[i].cancel != NULL)
			PQcancel(rjob_runners[i].cancel, err, sizeof(err));
	pthread_mutex_unlock(&rjob_mu);
	for (int i = 0; i < rjob_nrunners; i++)
		pthread_join(rjob_runners[i].thread, NULL);
	free(rjob_runners);
	rjob_runners = NULL;
	rjob_nrunners = 0;
	free(rjob_conninfo);
	rjob_conninfo = NULL;
}
