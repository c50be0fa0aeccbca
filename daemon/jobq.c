/*
 * jobq.c - the grading queue: the one home of grade_jobs' SQL, and the
 * claim-or-wait loop of everything that works a queue.
 *
 * Theory of operation.  A job is a row of grade_jobs: a first grading
 * ('submission'), a verification of an exercise version ('verify') or a
 * re-measurement of a provisional grade's speedup ('rebench').  The API
 * writes it in the transaction that writes what it grades, and a trigger
 * NOTIFYs cohortd_grade_jobs at commit (migrations/).  A grader claims the
 * oldest runnable job with FOR UPDATE SKIP LOCKED (the SQL function
 * grade_claim(): first gradings and verifications before re-measurements,
 * nothing before its not_before, fair between tenants), which leases it:
 * a random token and an expiry that the grader renews while it works.
 * Finishing is fenced by the token, in the transaction that writes the
 * result: a grader that lost its lease (killed, stalled past the expiry)
 * writes nothing, and the job is claimed again; after max attempts it
 * ends 'failed', visibly.  A grader known to be dead (its supervisor
 * reaped it, or started after a crash) need not wait for its lease to
 * expire: the supervisor releases its jobs at once (jobq_release_dead).
 *
 * Waiting for a quiet host.  A job that could not measure (a busy host)
 * is finished and queued again with not_before: WAIT_FIRST_S, doubling to
 * WAIT_MAX_S, for WAIT_FOR_S after it first waited (about 55 tries in
 * 24 h); then it ends 'failed' with the caller's reason.
 *
 * The loop (jobq_serve) is the same for graders and for the API's report
 * runners (api/report_jobs.c), whose own table and claim differ: run jobs
 * while there are any, then housekeeping, then LISTEN until a NOTIFY or a
 * second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "../common/err.h"
#include "jobq.h"
#include "../common/log.h"

#define JOBQ_MAX_ATTEMPTS	"3"
#define WAIT_FIRST_S		"30"
#define WAIT_MAX_S		"1800"
#define WAIT_FOR_S		"86400"

static const struct db_stmt jobq_stmts[] = {
	{ "jobq_add_grading", "INSERT INTO grade_jobs (tenant_id, kind, "
	  "submission_id) VALUES (current_tenant(), 'submission', $1)" },
	{ "jobq_add_verify", "INSERT INTO grade_jobs (tenant_id, kind, "
	  "exercise_id, exercise_version) VALUES (current_tenant(), 'verify', "
	  "$1, $2::int)" },
	/* After the first wait: a busy host stays busy for a while. */
	{ "jobq_add_rebench", "INSERT INTO grade_jobs (tenant_id, kind, "
	  "submission_id, not_before, waiting_since, tries) VALUES "
	  "(current_tenant(), 'rebench', $1, clock_timestamp() + " WAIT_FIRST_S
	  " * interval '1 second', clock_timestamp(), 1)" },
	/* Re-measurements wait for a quiet host: they are not work learners
	 * wait for, and do not fill the queue. */
	{ "jobq_depth", "SELECT count(*) FROM grade_jobs WHERE tenant_id = "
	  "current_tenant() AND state IN ('queued', 'running') AND kind <> "
	  "'rebench'" },
	{ "jobq_verify_pending", "SELECT id, lease_until IS NOT NULL AND "
	  "state = 'running' AND lease_until > now() AS held FROM grade_jobs "
	  "WHERE tenant_id = current_tenant() AND kind = 'verify' AND "
	  "exercise_id = $1 AND exercise_version = $2::int AND state IN "
	  "('queued', 'running') FOR UPDATE" },
	{ "jobq_restart", "UPDATE grade_jobs SET not_before = NULL, "
	  "waiting_since = NULL, tries = 0, attempts = 0, last_error = NULL, "
	  "updated_at = clock_timestamp() WHERE tenant_id = current_tenant() AND "
	  "id = $1" },
	/* A regrade takes over from a pending re-measurement: the rebench
	 * job ends (a running one's result is fenced off by its lease). */
	{ "jobq_regrade", "WITH ids AS (SELECT unnest($1::uuid[]) AS id), "
	  "r AS (UPDATE grade_jobs g SET state = 'done', lease_token = NULL, "
	  "lease_until = NULL, last_error = 'superseded by a regrade', "
	  "updated_at = clock_timestamp() FROM ids WHERE g.tenant_id = "
	  "current_tenant() AND g.submission_id = ids.id AND g.kind = 'rebench' "
	  "AND g.state IN ('queued', 'running')) INSERT INTO grade_jobs "
	  "(tenant_id, kind, submission_id) SELECT current_tenant(), "
	  "'submission', ids.id FROM ids WHERE NOT EXISTS (SELECT 1 FROM "
	  "grade_jobs g WHERE g.tenant_id = current_tenant() AND "
	  "g.submission_id = ids.id AND g.state IN ('queued', 'running') AND "
	  "g.kind <> 'rebench') RETURNING submission_id" },
	{ "jobq_claim", "SELECT tenant_id, id, kind, submission_id, "
	  "exercise_id, exercise_version, lease_token FROM grade_claim($1, "
	  "$2::int, " JOBQ_MAX_ATTEMPTS ")" },
	{ "jobq_renew", "UPDATE grade_jobs SET lease_until = now() + $4::int "
	  "* interval '1 second', updated_at = clock_timestamp() WHERE "
	  "tenant_id = $1 AND id = $2 AND lease_token = $3 AND state = "
	  "'running' RETURNING 1" },
	{ "jobq_finish", "UPDATE grade_jobs SET state = 'done', lease_token = "
	  "NULL, lease_until = NULL, updated_at = clock_timestamp() WHERE "
	  "tenant_id = $1 AND id = $2 AND lease_token = $3 AND state = "
	  "'running' RETURNING 1" },
	{ "jobq_retry", "UPDATE grade_jobs SET state = 'queued', lease_token "
	  "= NULL, last_error = $4, updated_at = clock_timestamp() WHERE "
	  "tenant_id = $1 AND id = $2 AND lease_token = $3" },
	/* The wait doubles with each try, unless it has waited long
	 * enough: then no row. */
	{ "jobq_defer", "UPDATE grade_jobs SET state = 'queued', attempts = "
	  "0, tries = tries + 1, waiting_since = coalesce(waiting_since, "
	  "clock_timestamp()), not_before = clock_timestamp() + least("
	  WAIT_FIRST_S " * power(2, tries), " WAIT_MAX_S ") * interval "
	  "'1 second', last_error = $3, updated_at = clock_timestamp() WHERE "
	  "tenant_id = $1 AND id = $2 AND coalesce(waiting_since, "
	  "clock_timestamp()) > clock_timestamp() - " WAIT_FOR_S " * interval "
	  "'1 second' RETURNING tries" },
	{ "jobq_gave_up", "UPDATE grade_jobs SET state = 'failed', "
	  "last_error = $3, updated_at = clock_timestamp() WHERE tenant_id = $1 "
	  "AND id = $2" },
};

void
jobq_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	db_register(jobq_stmts, sizeof(jobq_stmts) / sizeof(*jobq_stmts));
}

static int
jobq_ok(int rc)
{
	return rc < 0 ? rc : 0;
}

/* ---- the API's side ----------------------------------------------------- */

int
jobq_add_grading(struct db_conn *c, const char *submission)
{
	const char *p[1] = { submission };

	return jobq_ok(db_rows(c, "jobq_add_grading", 1, p));
}

int
jobq_add_verify(struct db_conn *c, const char *exercise, const char *version)
{
	const char *p[2] = { exercise, version };

	return jobq_ok(db_rows(c, "jobq_add_verify", 2, p));
}

int
jobq_add_rebench(struct db_conn *c, const char *submission)
{
	const char *p[1] = { submission };

	return jobq_ok(db_rows(c, "jobq_add_rebench", 1, p));
}

int
jobq_depth(struct db_conn *c, long *depth)
{
	PGresult *r = db_exec(c, "jobq_depth", 0, NULL);

	if (r == NULL)
		return CD_ERR_DATABASE;
	*depth = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int
jobq_verify_pending(struct db_conn *c, const char *exercise,
    const char *version, char *id, size_t idlen, bool *held)
{
	const char *p[2] = { exercise, version };
	PGresult *r = db_exec(c, "jobq_verify_pending", 2, p);
	int rc;

	if (r == NULL)
		return CD_ERR_DATABASE;
	if ((rc = PQntuples(r) > 0)) {
		snprintf(id, idlen, "%s", PQgetvalue(r, 0, 0));
		*held = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
	}
	PQclear(r);
	return rc;
}

int
jobq_restart(struct db_conn *c, const char *id)
{
	const char *p[1] = { id };

	return jobq_ok(db_rows(c, "jobq_restart", 1, p));
}

int
jobq_regrade(struct db_conn *c, const char *ids, PGresult **queued)
{
	const char *p[1] = { ids };

	if ((*queued = db_exec(c, "jobq_regrade", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	return 0;
}

/* ---- the grader's side -------------------------------------------------- */

int
jobq_claim(struct db_conn *c, const char *worker, int lease_s,
    struct jobq_job *job)
{
	char lease[16];
	const char *p[2] = { worker, lease };
	PGresult *r;
	int rc;

	snprintf(lease, sizeof(lease), "%d", lease_s);
	if ((r = db_exec(c, "jobq_claim", 2, p)) == NULL)
		return CD_ERR_DATABASE;
	if ((rc = PQntuples(r) == 1)) {
		memset(job, 0, sizeof(*job));
		snprintf(job->tenant, sizeof(job->tenant), "%s",
		    PQgetvalue(r, 0, 0));
		snprintf(job->id, sizeof(job->id), "%s", PQgetvalue(r, 0, 1));
		snprintf(job->kind, sizeof(job->kind), "%s",
		    PQgetvalue(r, 0, 2));
		snprintf(job->submission, sizeof(job->submission), "%s",
		    PQgetvalue(r, 0, 3));
		snprintf(job->exercise, sizeof(job->exercise), "%s",
		    PQgetvalue(r, 0, 4));
		snprintf(job->version, sizeof(job->version), "%s",
		    PQgetvalue(r, 0, 5));
		snprintf(job->token, sizeof(job->token), "%s",
		    PQgetvalue(r, 0, 6));
	}
	PQclear(r);
	return rc;
}

int
jobq_renew(struct db_conn *c, const struct jobq_job *job, int lease_s)
{
	char lease[16];
	const char *p[4] = { job->tenant, job->id, job->token, lease };

	snprintf(lease, sizeof(lease), "%d", lease_s);
	return db_rows(c, "jobq_renew", 4, p);
}

int
jobq_finish(struct db_conn *c, const struct jobq_job *job)
{
	const char *p[3] = { job->tenant, job->id, job->token };

	return db_rows(c, "jobq_finish", 3, p);
}

int
jobq_retry(struct db_conn *c, const struct jobq_job *job, const char *why)
{
	const char *p[4] = { job->tenant, job->id, job->token, why };

	return jobq_ok(db_rows(c, "jobq_retry", 4, p));
}

int
jobq_defer(struct db_conn *c, const struct jobq_job *job, const char *why,
    const char *gave_up)
{
	const char *p[3] = { job->tenant, job->id, why };
	const char *g[3] = { job->tenant, job->id, gave_up };
	int rc;

	if ((rc = db_rows(c, "jobq_defer", 3, p)) != 0)
		return rc < 0 ? rc : 1;
	log_warnx("job %s: %s", job->id, gave_up);
	return jobq_ok(db_rows(c, "jobq_gave_up", 3, g));
}

/* ---- the loop ----------------------------------------------------------- */

/* Jobs held by one host's graders. */
static const char jobq_held_sql[] =
    "SELECT DISTINCT worker FROM grade_jobs WHERE state = 'running' AND "
    "worker LIKE $1 || ':%'";
/* Back in the queue, as an expired lease would be, but at once. */
static const char jobq_release_sql[] =
    "UPDATE grade_jobs SET state = 'queued', lease_token = NULL, "
    "lease_until = NULL, last_error = coalesce(last_error, 'worker lost'), "
    "updated_at = clock_timestamp() WHERE state = 'running' AND worker = "
    "ANY($1::text[])";

int
jobq_release_dead(PGconn *c, const char *host,
    bool (*gone)(const char *worker), int *released)
{
	PGresult *r = NULL;
	char *list = NULL;
	const char *p[1];
	size_t len = 3, off = 0;
	int rc = CD_ERR_DATABASE;

	*released = 0;
	r = PQexec(c, "BEGIN");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto out;
	PQclear(r);
	r = PQexec(c, "SELECT set_config('cohortd.scope', 'worker', true)");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto out;
	PQclear(r);
	p[0] = host;
	r = PQexecParams(c, jobq_held_sql, 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto out;
	for (int i = 0; i < PQntuples(r); i++)
		len += strlen(PQgetvalue(r, i, 0)) + 3;
	if ((list = malloc(len)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	list[off++] = '{';
	for (int i = 0; i < PQntuples(r); i++) {
		const char *w = PQgetvalue(r, i, 0);

		/* "host:pid" holds no quote, comma or brace. */
		if (strpbrk(w, "\"\\{},") == NULL && gone(w))
			off += (size_t)sprintf(list + off, "%s\"%s\"",
			    off > 1 ? "," : "", w);
	}
	list[off++] = '}';
	list[off] = '\0';
	PQclear(r);
	p[0] = list;
	r = PQexecParams(c, jobq_release_sql, 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto out;
	*released = atoi(PQcmdTuples(r));
	PQclear(r);
	r = PQexec(c, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto out;
	rc = 0;
 out:
	if (rc == CD_ERR_DATABASE)
		log_warnx("releasing jobs of dead graders: %s",
		    PQerrorMessage(c));
	if (rc != 0)
		*released = 0;
	PQclear(r);
	free(list);
	return rc;
}

int
jobq_serve(const struct jobq_serve *s)
{
	PGconn *listen = db_listen(s->conninfo, s->channel);
	int rc;

	if (listen == NULL)
		return CD_ERR_NOMEM;
	while (!s->stopping(s->arg)) {
		if ((rc = s->run_one(s->arg)) > 0)
			continue;
		if (rc == 0 && s->idle != NULL)
			s->idle(s->arg);
		/* None, or the database is away: until NOTIFY or a second. */
		db_listen_wait(listen, s->channel, 1000);
	}
	PQfinish(listen);
	return 0;
}
