/*
 * worker.c - the grading roles: the supervisor, and the grader process.
 *
 * Theory of operation.  The grading queue is the grade_jobs table
 * (jobq.c has its rules: leases, retries, waits for a quiet host).  A
 * grader process claims a job, and a heartbeat thread renews its lease
 * while the pipeline (grader/grade.h) compiles, tests and benchmarks in
 * the sandbox.  The result is written only if the lease is still the
 * grader's own, in one transaction with the job's completion: so a
 * grader killed at any moment loses nothing and no submission is ever
 * recorded twice.
 *
 * Waiting for a quiet host.  The benchmark keeps only clean samples
 * (grader/grade.c); when a busy host gives too few, an accepted
 * submission is graded "provisional" (correctness only) and, in the same
 * transaction, a 'rebench' job is queued to measure its speedup again
 * later; a verification that could not measure the reference
 * ("unmeasured") leaves the version 'verifying' and its job waits
 * (jobq_defer).  When the waiting ends, a rebench job's grade stays
 * provisional (a regrade starts again), a verification stays 'verifying'
 * with a reason that says so (POST /v1/exercises/{id}/verify starts
 * again).  A rebench writes the new score (the late penalty as for any
 * grade) and a grade_history row only when the measurement is final.
 *
 * Progress.  Each benchmark round is written to submission_events, whose
 * insert trigger NOTIFYs the API's event streams (api/exercises.c).
 *
 * Processes.  cohortd (role all or worker) supervises N graders: each is
 * this binary re-executed with --role=grader, so it starts clean of the
 * parent's threads and connections.  A grader that dies is restarted with
 * a back-off (1 s doubling to 30 s).  On shutdown the supervisor sends
 * SIGTERM: an idle grader exits at once, a busy one abandons its job and
 * exits from the signal handler (nothing it waits on, a box or the lane
 * lock, can hold it up; its boxes die by their parent-death signal);
 * stragglers get SIGKILL after the grace period.  If the supervisor dies,
 * by any signal, the kernel SIGKILLs its graders (PR_SET_PDEATHSIG), and
 * should that ever miss, a grader's own watch kills it within a second
 * (grader_orphan_watch()).
 * Either way a job a dead grader held is queued again by the supervisor
 * (worker_reclaim(): when it reaps a grader, after its graders stopped,
 * and before it starts new ones), not left to its lease.  Graders must
 * be root: the sandbox is.
 */
#include <sys/prctl.h>
#include <sys/wait.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "../grader/grade.h"
#include "../sandbox/sandbox.h"
#include "cfg.h"
#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "jobq.h"
#include "outbox.h"
#include "../common/log.h"
#include "mail.h"
#include "worker.h"

/* The supervisor's pid, in a grader's environment (not a setting). */
#define GRADER_SUPERVISOR_ENV	"CD_GRADER_SUPERVISOR"

#define WORKER_MAX		64

/* ---- supervisor ------------------------------------------------------- */

struct worker_slot {
	pid_t	 pid;		/* 0: not running */
	long	 restart_at;	/* monotonic ms; when to start it again */
	int	 backoff_ms;
};

static struct worker_slot worker_slots[WORKER_MAX];
static int worker_n;
static char **worker_argv;

static int
worker_spawn(struct worker_slot *w)
{
	static char sup[48];
	char *argv[64], **envp;
	int i = 0, n = 0, rc = CD_ERR_SYSTEM;
	pid_t pid, parent;

	argv[i++] = "cohortd";
	for (int k = 1; worker_argv[k] != NULL && i < 60; k++)
		if (strncmp(worker_argv[k], "--role", 6) != 0)
			argv[i++] = worker_argv[k];
	argv[i++] = "--role=grader";
	argv[i] = NULL;
	parent = getpid();
	/*
	 * The grader's environment names its supervisor, so that it knows
	 * whom it must not outlive even if the supervisor died before the
	 * grader could look (grader_main()).  Made before the fork: the
	 * child of a process with threads may only exec.
	 */
	snprintf(sup, sizeof(sup), "%s=%ld", GRADER_SUPERVISOR_ENV,
	    (long)parent);
	while (environ[n] != NULL)
		n++;
	if ((envp = calloc((size_t)n + 2, sizeof(*envp))) == NULL)
		return CD_ERR_NOMEM;
	n = 0;
	for (char **e = environ; *e != NULL; e++)
		if (strncmp(*e, GRADER_SUPERVISOR_ENV "=",
		    sizeof(GRADER_SUPERVISOR_ENV)) != 0)
			envp[n++] = *e;
	envp[n++] = sup;
	if ((pid = fork()) == -1) {
		log_warn("fork grader");
		goto out;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/*
		 * A grader never outlives its supervisor: after kill -9 of
		 * cohortd it is killed too (SIGKILL: nothing it waits on,
		 * not even the lane lock, can hold it up), its boxes follow
		 * through their own parent-death signal, and the next
		 * supervisor reclaims its job (worker_reclaim()).  If the
		 * supervisor died before the prctl, our parent is already
		 * someone else (init or a subreaper): stop here.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(1);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	w->pid = pid;
	rc = 0;
 out:
	free(envp);
	return rc;
}

int
worker_supervise(int n, char **argv)
{
	worker_argv = argv;
	worker_n = n < WORKER_MAX ? n : WORKER_MAX;
	for (int i = 0; i < worker_n; i++) {
		worker_slots[i].backoff_ms = 1000;
		if (worker_spawn(&worker_slots[i]) != 0)
			worker_slots[i].restart_at = clock_ms() + 1000;
	}
	log_info("started %d grader process(es)", worker_n);
	return 0;
}

int
worker_reaped(pid_t pid, int status)
{
	for (int i = 0; i < worker_n; i++) {
		struct worker_slot *w = &worker_slots[i];

		if (w->pid != pid)
			continue;
		w->pid = 0;
		log_warnx("grader %d exited (status %d); restarting in %d ms",
		    (int)pid, status, w->backoff_ms);
		w->restart_at = clock_ms() + w->backoff_ms;
		w->backoff_ms = w->backoff_ms * 2 > 30000 ? 30000 :
		    w->backoff_ms * 2;
		return 1;
	}
	return 0;
}

void
worker_tick(void)
{
	long now = clock_ms();

	for (int i = 0; i < worker_n; i++) {
		struct worker_slot *w = &worker_slots[i];

		if (w->pid == 0 && w->restart_at <= now &&
		    worker_spawn(w) != 0)
			w->restart_at = now + w->backoff_ms;
		/* A grader that stayed up a minute has earned a fresh back-off. */
		if (w->pid != 0 && now - w->restart_at > 60000)
			w->backoff_ms = 1000;
	}
}

void
worker_signal_all(void)
{
	for (int i = 0; i < worker_n; i++)
		if (worker_slots[i].pid > 0)
			kill(worker_slots[i].pid, SIGTERM);
}

void
worker_stop_all(int grace_ms)
{
	long deadline = clock_ms() + grace_ms;
	int left;

	for (int i = 0; i < worker_n; i++)
		if (worker_slots[i].pid > 0)
			kill(worker_slots[i].pid, SIGTERM);
	do {
		left = 0;
		for (int i = 0; i < worker_n; i++) {
			struct worker_slot *w = &worker_slots[i];
			int st;

			if (w->pid <= 0)
				continue;
			if (waitpid(w->pid, &st, WNOHANG) == w->pid)
				w->pid = 0;
			else
				left++;
		}
		if (left > 0) {
			struct timespec ts = { 0, 20 * 1000000L };

			nanosleep(&ts, NULL);
		}
	} while (left > 0 && clock_ms() < deadline);
	for (int i = 0; i < worker_n; i++)
		if (worker_slots[i].pid > 0) {
			kill(worker_slots[i].pid, SIGKILL);
			waitpid(worker_slots[i].pid, NULL, 0);
			worker_slots[i].pid = 0;
		}
}

/* How a grader names itself in grade_jobs.worker: "<host>:<pid>". */
static void
worker_id(pid_t pid, char *buf, size_t len)
{
	char host[64] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(buf, len, "%s:%d", host, (int)pid);
}

/* Is pid a live grader process on this host (not a zombie)? */
static int
worker_pid_is_grader(long pid)
{
	char path[64], buf[4096];
	size_t n;
	FILE *f;
	int yes = 0;

	if (pid <= 0)
		return 0;
	if (kill((pid_t)pid, 0) == -1)
		return errno == EPERM;	/* someone else's: not ours to judge */
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	/* A zombie's cmdline is empty; argv is NUL-separated. */
	for (size_t i = 0; i < n; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, "--role=grader") == 0)
			yes = 1;
	return yes;
}

/* For jobq_release_dead(): "host:pid" is no live grader of ours. */
static bool
worker_gone(const char *worker)
{
	const char *colon = strrchr(worker, ':');

	return colon != NULL && !worker_pid_is_grader(atol(colon + 1));
}

int
worker_reclaim(const char *conninfo, int *reclaimed)
{
	PGconn *c = NULL;
	char host[64] = "";
	const char *kw[] = { "dbname", "connect_timeout", NULL };
	const char *val[] = { conninfo, "2", NULL };
	int rc = CD_ERR_UNAVAILABLE;

	*reclaimed = 0;
	gethostname(host, sizeof(host) - 1);
	/* Bounded: the supervisor's signal loop calls this too. */
	if ((c = PQconnectdbParams(kw, val, 1)) == NULL ||
	    PQstatus(c) != CONNECTION_OK) {
		log_warnx("reclaiming grading jobs of dead graders: %s",
		    c != NULL ? PQerrorMessage(c) : "out of memory");
		goto out;
	}
	if ((rc = jobq_release_dead(c, host, worker_gone, reclaimed)) != 0)
		goto out;
	if (*reclaimed > 0)
		log_warnx("requeued %d grading job(s) held by graders that are "
		    "gone", *reclaimed);
 out:
	PQfinish(c);
	return rc;
}

/* ---- grader process --------------------------------------------------- */

static const struct db_stmt grader_stmts[] = {
	{ "grader_scope", "SELECT set_config('cohortd.scope', 'worker', true)" },
	{ "grader_load_submission", "SELECT s.source, v.files, v.spec, "
	  "s.exercise_id, s.exercise_version, s.result, s.provisional, "
	  "s.status FROM submissions s JOIN "
	  "exercise_versions v ON v.tenant_id = s.tenant_id AND v.exercise_id = "
	  "s.exercise_id AND v.version = s.exercise_version WHERE s.tenant_id = "
	  "current_tenant() AND s.id = $1" },
	{ "grader_load_version", "SELECT files, spec FROM exercise_versions "
	  "WHERE tenant_id = current_tenant() AND exercise_id = $1 AND "
	  "version = $2::int" },
	{ "grader_status", "UPDATE submissions SET status = $2, updated_at = "
	  "clock_timestamp() WHERE tenant_id = current_tenant() AND id = $1 "
	  "AND status NOT IN ('graded', 'failed')" },
	/* The late penalty was fixed when the work came in; the final score
	 * and the pass follow the one rule quizzes follow too
	 * (migrations/0019_score.sql). */
	{ "grader_record", "UPDATE submissions s SET status = 'graded', "
	  "provisional = $5::bool, "
	  "verdict = $2, score = $3::numeric, final_score = score_final("
	  "$3::numeric, s.penalty), passed = score_passed(score_final("
	  "$3::numeric, s.penalty), a.pass_score), result = $4::jsonb, "
	  "graded_at = clock_timestamp(), updated_at = clock_timestamp() FROM "
	  "assessments a WHERE s.tenant_id = current_tenant() AND s.id = $1 AND "
	  "a.tenant_id = s.tenant_id AND a.id = s.assessment_id RETURNING "
	  "s.enrollment_id" },
	{ "grader_history", "INSERT INTO grade_history (tenant_id, "
	  "submission_id, verdict, score, final_score, result) SELECT "
	  "tenant_id, id, verdict, score, final_score, result FROM submissions "
	  "WHERE tenant_id = current_tenant() AND id = $1" },
	{ "grader_refresh", "SELECT enrollment_refresh($1)" },
	{ "grader_verified", "UPDATE exercise_versions SET status = $3, reason "
	  "= $4, verification = $5::jsonb WHERE tenant_id = current_tenant() "
	  "AND exercise_id = $1 AND version = $2::int" },
	{ "grader_round", "INSERT INTO submission_events (tenant_id, "
	  "submission_id, kind, data) VALUES (current_tenant(), $1, 'round', "
	  "$2::jsonb)" },
	/* Streams replay a day of events at most; older ones go, a batch
	 * at a time so that no prune holds locks for long. */
	{ "grader_prune", "DELETE FROM submission_events WHERE (tenant_id, "
	  "submission_id, id) IN (SELECT tenant_id, submission_id, id FROM "
	  "submission_events WHERE at < now() - interval '1 day' LIMIT 10000)" },
	/* Distinct (name, label) pairs only: one statement adds them all. */
	{ "grader_count", "INSERT INTO grade_counters (name, label, value) "
	  "SELECT * FROM unnest($1::text[], $2::text[], $3::float8[]) ON "
	  "CONFLICT (name, label) DO UPDATE SET value = grade_counters.value + "
	  "excluded.value" },
};

static volatile sig_atomic_t grader_stop;
static volatile sig_atomic_t grader_busy;	/* a job is claimed */
static struct db_pool *grader_pool;
/* The settings grader_main was handed. */
static int grade_lease_s;
static const char *bench_cpus;

/* Idle: stop at the top of the loop.  Busy: abandon the job now. */
static void
grader_on_term(int sig)
{
	grader_stop = 1;
	if (grader_busy)
		_exit(0);
}

/* Open a transaction scoped to tenant (may be NULL) as a worker. */
static int
grader_tx(struct db_conn *c, const char *tenant)
{
	PGresult *r;

	if (db_begin(c, tenant) != 0 ||
	    (r = db_exec(c, "grader_scope", 0, NULL)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

/* A pooled connection in a transaction of tenant (may be NULL). */
static int
grader_begin(const char *tenant, struct db_conn **c)
{
	int rc;

	if ((rc = db_acquire(grader_pool, 10000, c)) != 0)
		return rc;
	if ((rc = grader_tx(*c, tenant)) != 0) {
		db_release(*c);
		*c = NULL;
	}
	return rc;
}

/* Commit if rc says so (>= 0), release; rc, or the commit's failure. */
static int
grader_end(struct db_conn *c, int rc)
{
	if (rc >= 0 && db_commit(c) != 0)
		rc = CD_ERR_DATABASE;
	db_release(c);
	return rc;
}

/* Run one statement in its own transaction; rows returned, or <0. */
static int
grader_once(const char *tenant, const char *stmt, int n,
    const char *const *p)
{
	struct db_conn *c;
	PGresult *r;
	int rc;

	if ((rc = grader_begin(tenant, &c)) != 0)
		return rc;
	if ((r = db_exec(c, stmt, n, p)) == NULL)
		rc = CD_ERR_DATABASE;
	else {
		rc = PQntuples(r);
		PQclear(r);
	}
	return grader_end(c, rc);
}

struct grader_beat {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
	int			 lost;
	const struct jobq_job	*job;
};

/* Renew the lease every third of its length until told to stop. */
static void *
grader_heartbeat(void *arg)
{
	struct grader_beat *b = arg;
	struct db_conn *c;
	int rc;

	pthread_mutex_lock(&b->mu);
	while (!b->done) {
		struct timespec ts;

		clock_deadline(&ts, (grade_lease_s / 3 > 0 ? grade_lease_s / 3 :
		    1) * 1000L);
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
		if (b->done)
			break;
		pthread_mutex_unlock(&b->mu);
		if ((rc = grader_begin(b->job->tenant, &c)) == 0)
			rc = grader_end(c, jobq_renew(c, b->job,
			    grade_lease_s));
		if (rc == 0) {
			log_warnx("job %s: lease lost", b->job->id);
			b->lost = 1;
		}
		pthread_mutex_lock(&b->mu);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

struct grader_progress {
	const struct jobq_job	*job;
	int			 discarded;	/* benchmark rounds thrown away */
};

static int
grader_is(const struct jobq_job *job, const char *kind)
{
	return strcmp(job->kind, kind) == 0;
}

static void
grader_on_progress(void *arg, const char *status)
{
	struct grader_progress *gp = arg;
	const char *p[2] = { gp->job->submission, status };

	/* A rebench leaves its submission graded while it measures. */
	if (grader_is(gp->job, "submission"))
		grader_once(gp->job->tenant, "grader_status", 2, p);
}

/* A benchmark round ended: an event for the submission's stream. */
static void
grader_on_round(void *arg, const json_t *round)
{
	struct grader_progress *gp = arg;
	char *text;

	if (!json_is_true(json_object_get(round, "kept")))
		gp->discarded++;
	if (grader_is(gp->job, "verify") ||
	    (text = json_dumps(round, JSON_COMPACT)) == NULL)
		return;
	{
		const char *p[2] = { gp->job->submission, text };

		grader_once(gp->job->tenant, "grader_round", 2, p);
	}
	free(text);
}

/*
 * What a job needs, loaded in the job's tenant: the exercise, and for a
 * submission or a rebench its source; for a rebench also the result to
 * measure again (*previous), or none when there is nothing left to do
 * (the grade is final already, or a regrade took the submission over).
 */
static int
grader_load(const struct jobq_job *job, struct grade_exercise **ex,
    char **source, json_t **previous)
{
	struct db_conn *c = NULL;
	PGresult *r = NULL;
	json_t *files = NULL, *spec = NULL;
	char err[256];
	int rc, sub = !grader_is(job, "verify");

	*ex = NULL;
	*source = NULL;
	*previous = NULL;
	if ((rc = db_acquire(grader_pool, 10000, &c)) != 0)
		return rc;
	if ((rc = grader_tx(c, job->tenant)) != 0)
		goto out;
	if (sub) {
		const char *p[1] = { job->submission };

		r = db_exec(c, "grader_load_submission", 1, p);
	} else {
		const char *p[2] = { job->exercise, job->version };

		r = db_exec(c, "grader_load_version", 2, p);
	}
	if (r == NULL || PQntuples(r) != 1) {
		rc = r == NULL ? CD_ERR_DATABASE : CD_ERR_NOT_FOUND;
		goto out;
	}
	if (grader_is(job, "rebench") && strcmp(PQgetvalue(r, 0, 6), "t") == 0 &&
	    strcmp(PQgetvalue(r, 0, 7), "graded") == 0)
		*previous = json_loads(PQgetvalue(r, 0, 5), 0, NULL);
	files = json_loads(PQgetvalue(r, 0, sub ? 1 : 0), 0, NULL);
	spec = json_loads(PQgetvalue(r, 0, sub ? 2 : 1), 0, NULL);
	if (sub && (*source = strdup(PQgetvalue(r, 0, 0))) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((rc = grade_exercise_load(spec, files, ex, err, sizeof(err))) != 0)
		log_warnx("job %s: exercise does not load: %s", job->id, err);
	db_commit(c);
 out:
	json_decref(files);
	json_decref(spec);
	PQclear(r);
	db_release(c);
	return rc;
}

/* A submission's or a rebench's result, in c's transaction. */
static int
grader_record_grade(struct db_conn *c, const struct jobq_job *job,
    json_t *result, const char *text)
{
	int prov = json_is_true(json_object_get(result, "provisional"));
	const char *reason = json_string_value(json_object_get(json_object_get(
	    result, "speedup"), "reason"));
	char score[32], why[320];
	const char *p[5] = { job->submission, json_string_value(
	    json_object_get(result, "verdict")), score, text, prov ? "true" :
	    "false" };
	const char *h[1] = { job->submission };
	PGresult *r;
	int rc;

	snprintf(why, sizeof(why), "provisional: %s", reason ? reason :
	    "the speedup was not measured on clean samples");
	/* Still provisional: keep the grade there is, wait and try again. */
	if (prov && grader_is(job, "rebench"))
		return (rc = jobq_defer(c, job, why, "gave up measuring the "
		    "speedup after 24 h; the grade stays provisional (a "
		    "regrade tries again)")) < 0 ? rc : 0;
	snprintf(score, sizeof(score), "%.2f", json_number_value(
	    json_object_get(result, "score")));
	if ((r = db_exec(c, "grader_record", 5, p)) == NULL ||
	    PQntuples(r) != 1) {
		PQclear(r);
		return CD_ERR_DATABASE;
	}
	{
		const char *e[1] = { PQgetvalue(r, 0, 0) };

		rc = db_rows(c, "grader_history", 1, h);
		if (rc >= 0)
			rc = db_rows(c, "grader_refresh", 1, e);
		PQclear(r);
	}
	if (rc >= 0 && prov)
		rc = jobq_add_rebench(c, job->submission);
	/* The learner hears of it in the same transaction. */
	if (rc >= 0)
		rc = mail_graded(c, job->tenant, job->submission);
	return rc < 0 ? rc : 0;
}

/* A verification's result, in c's transaction. */
static int
grader_record_verify(struct db_conn *c, const struct jobq_job *job,
    json_t *result)
{
	const char *status = json_string_value(json_object_get(result,
	    "status"));
	const char *reason = json_string_value(json_object_get(result,
	    "reason"));
	char *report = json_dumps(json_object_get(result, "report"),
	    JSON_COMPACT | JSON_ENCODE_ANY);
	char why[1024];
	const char *p[5] = { job->exercise, job->version, status, reason,
	    report ? report : "null" };
	int rc = CD_ERR_INTERNAL, queued;

	if (strcmp(status, "unmeasured") == 0) {
		/* Nothing is wrong with the exercise: it stays verifying. */
		p[2] = "verifying";
		if ((queued = jobq_defer(c, job, reason ? reason : "unmeasured",
		    "gave up measuring the reference's speedup after 24 h")) < 0) {
			rc = queued;
			goto out;
		}
		if (queued == 0) {
			snprintf(why, sizeof(why), "no quiet window to measure "
			    "the reference's speedup in 24 h of tries (%s); POST "
			    "/v1/exercises/%s/verify starts again", reason ?
			    reason : "the host stayed busy", job->exercise);
			p[3] = why;
		}
	}
	if ((rc = db_rows(c, "grader_verified", 5, p)) > 0)
		rc = 0;
 out:
	free(report);
	return rc;
}

#define COUNTERS_MAX	24

struct grader_counters {
	int	 n;
	char	 name[COUNTERS_MAX][48];
	char	 label[COUNTERS_MAX][96];
	double	 value[COUNTERS_MAX];
};

static void
counters_add(struct grader_counters *k, const char *name, const char *label,
    double v)
{
	if (k->n == COUNTERS_MAX)
		return;
	snprintf(k->name[k->n], sizeof(k->name[0]), "%s", name);
	snprintf(k->label[k->n], sizeof(k->label[0]), "%s", label);
	k->value[k->n++] = v;
}

/* Append s to a Postgres array literal, quoted. */
static void
counters_elem(char *buf, size_t len, const char *s, int first)
{
	size_t o = strlen(buf);

	o += snprintf(buf + o, o < len ? len - o : 0, "%s\"", first ? "" : ",");
	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	snprintf(buf + o, o < len ? len - o : 0, "\"");
}

/*
 * Add this grading to the counters /metrics shows: gradings by kind and
 * verdict (or verification status), the duration histogram (cumulative
 * buckets, as Prometheus has them) and the benchmark rounds discarded.
 */
static int
grader_count(struct db_conn *c, const struct jobq_job *job,
    json_t *result, long ms, int discarded)
{
	static const char *const le[] = { "1", "2", "5", "10", "20", "30",
	    "60", "120", "300", "600", "+Inf" };
	struct grader_counters k;
	const char *what = json_string_value(json_object_get(result,
	    grader_is(job, "verify") ? "status" : "verdict"));
	char label[96], names[2048] = "{", labels[4096] = "{",
	    values[1024] = "{";
	const char *p[3] = { names, labels, values };

	k.n = 0;
	snprintf(label, sizeof(label), "kind=\"%s\",verdict=\"%s\"", job->kind,
	    what ? what : "none");
	counters_add(&k, "gradings_total", label, 1);
	for (size_t i = 0; i < sizeof(le) / sizeof(*le); i++)
		if (le[i][0] == '+' || ms <= atol(le[i]) * 1000L) {
			snprintf(label, sizeof(label), "le=\"%s\"", le[i]);
			counters_add(&k, "grading_duration_seconds_bucket", label,
			    1);
		}
	counters_add(&k, "grading_duration_seconds_sum", "", ms / 1000.0);
	counters_add(&k, "grading_duration_seconds_count", "", 1);
	counters_add(&k, "bench_rounds_discarded_total", "", discarded);
	for (int i = 0; i < k.n; i++) {
		size_t o = strlen(values);

		counters_elem(names, sizeof(names) - 2, k.name[i], i == 0);
		counters_elem(labels, sizeof(labels) - 2, k.label[i], i == 0);
		snprintf(values + o, sizeof(values) - o - 2, "%s%g", i ? "," : "",
		    k.value[i]);
	}
	strcat(names, "}");
	strcat(labels, "}");
	strcat(values, "}");
	return db_rows(c, "grader_count", 3, p) < 0 ? CD_ERR_DATABASE : 0;
}

/* Write the outcome, if the lease is still ours.  0, or <0. */
static int
grader_record(const struct jobq_job *job, json_t *result, long ms,
    int discarded)
{
	struct db_conn *c = NULL;
	char *text = json_dumps(result, JSON_COMPACT);
	int rc;

	if (text == NULL)
		return CD_ERR_NOMEM;
	if ((rc = grader_begin(job->tenant, &c)) != 0)
		goto out;
	if ((rc = jobq_finish(c, job)) < 0)
		goto out;
	if (rc != 1) {
		/* Someone else holds the job now: their result will count. */
		log_warnx("job %s: lease lost; result discarded", job->id);
		rc = CD_ERR_CONFLICT;
		goto out;
	}
	rc = grader_is(job, "verify") ? grader_record_verify(c, job, result) :
	    grader_record_grade(c, job, result, text);
	if (rc == 0)
		rc = grader_count(c, job, result, ms, discarded);
	if (rc == 0)
		rc = db_commit(c);
 out:
	db_release(c);
	free(text);
	return rc;
}

/*
 * Is result one to record?  A verification that failed in the sandbox
 * ("error") decided nothing, nor did a rebench that lost its verdict:
 * both go back to the queue (bounded by grade_claim's attempts).
 */
static int
grader_decided(const struct jobq_job *job, json_t *result, char *why,
    size_t len)
{
	const char *v;

	if (grader_is(job, "verify")) {
		v = json_string_value(json_object_get(result, "status"));
		if (v != NULL && strcmp(v, "error") != 0)
			return 1;
		snprintf(why, len, "verification failed: %s",
		    json_string_value(json_object_get(result, "reason")) ?
		    json_string_value(json_object_get(result, "reason")) :
		    "internal error");
		return 0;
	}
	if (!grader_is(job, "rebench"))
		return 1;
	v = json_string_value(json_object_get(result, "verdict"));
	if (v != NULL && strcmp(v, "accepted") == 0)
		return 1;
	snprintf(why, len, "re-measuring failed: %s", json_string_value(
	    json_object_get(result, "message")) ? json_string_value(
	    json_object_get(result, "message")) : "internal error");
	return 0;
}

static void
grader_run(const struct jobq_job *job)
{
	struct grade_exercise *ex = NULL;
	struct grade_options opt;
	struct grader_progress gp = { job, 0 };
	struct grader_beat beat;
	json_t *result = NULL, *previous = NULL;
	struct db_conn *c;
	char *source = NULL, why[512] = "";
	long t0 = clock_ms();
	int rc, nothing = 0;

	memset(&beat, 0, sizeof(beat));
	beat.job = job;
	pthread_mutex_init(&beat.mu, NULL);
	pthread_cond_init(&beat.cv, NULL);
	pthread_create(&beat.thread, NULL, grader_heartbeat, &beat);

	if ((rc = grader_load(job, &ex, &source, &previous)) != 0)
		goto out;
	memset(&opt, 0, sizeof(opt));
	opt.progress = grader_on_progress;
	opt.round = grader_on_round;
	opt.arg = &gp;
	/* Benchmark rounds on the CPUs the operator keeps free, if any. */
	opt.bench_cpus = bench_cpus[0] != '\0' ? bench_cpus : NULL;
	if (grader_is(job, "submission"))
		rc = grade_submission(ex, source, strlen(source), &opt, &result);
	else if (grader_is(job, "verify"))
		rc = grade_verify(ex, &opt, &result);
	else if (previous != NULL)
		rc = grade_rebench(ex, source, strlen(source), previous, &opt,
		    &result);
	else
		/* Final already, or regraded since: nothing to measure. */
		nothing = 1;
	if (rc == 0 && result != NULL && !grader_decided(job, result, why,
	    sizeof(why)))
		rc = CD_ERR_INTERNAL;
 out:
	pthread_mutex_lock(&beat.mu);
	beat.done = 1;
	pthread_cond_signal(&beat.cv);
	pthread_mutex_unlock(&beat.mu);
	pthread_join(beat.thread, NULL);
	if (rc == 0 && nothing && !beat.lost) {
		if ((rc = grader_begin(job->tenant, &c)) == 0)
			rc = grader_end(c, jobq_finish(c, job));
		rc = rc < 0 ? rc : 0;
	} else if (rc == 0 && result != NULL && !beat.lost)
		rc = grader_record(job, result, clock_ms() - t0, gp.discarded);
	if (rc != 0 && rc != CD_ERR_CONFLICT && !beat.lost) {
		/* Back in the queue; grade_claim gives up after a few tries. */
		if (grader_begin(job->tenant, &c) == 0)
			grader_end(c, jobq_retry(c, job, why[0] ? why :
			    cd_strerror(rc)));
	}
	log_info("job %s (%s) %s", job->id, job->kind, rc == 0 ? "graded" :
	    cd_strerror(rc));
	json_decref(result);
	json_decref(previous);
	free(source);
	grade_exercise_free(ex);
	pthread_mutex_destroy(&beat.mu);
	pthread_cond_destroy(&beat.cv);
}

/* Old events go, now and then: streams replay a day at most. */
static void
grader_prune(void)
{
	static long last;
	long now = clock_ms();

	if (last != 0 && now - last < 600000)
		return;
	last = now;
	if (grader_once(NULL, "grader_prune", 0, NULL) < 0)
		log_warnx("pruning old submission events failed");
}

/* Claim a job and grade it: 1 done, 0 none, <0 error (jobq_serve). */
static int
grader_next(void *arg)
{
	const char *worker = arg;
	struct jobq_job job;
	struct db_conn *c;
	int rc;

	/* From the claim on, SIGTERM abandons the job at once. */
	grader_busy = 1;
	if ((rc = grader_begin(NULL, &c)) == 0 &&
	    (rc = grader_end(c, jobq_claim(c, worker, grade_lease_s,
	    &job))) > 0)
		grader_run(&job);
	grader_busy = 0;
	return rc;
}

static bool
grader_stopping(void *arg)
{
	return grader_stop;
}

static void
grader_idle(void *arg)
{
	grader_prune();
}

/*
 * The parent-death signal (worker_spawn()) is the first guard against a
 * grader outliving its supervisor; this thread is the second.  Beside four
 * busy processes a grader was once seen with init for its parent after
 * kill -9 of cohortd, blocked on the dead database's socket while holding
 * the benchmark lane: every later grading on the host waited behind it.
 * Whatever kept the signal from it, a grader now outlives its supervisor
 * by a second at most.
 */
static void *
grader_orphan_watch(void *arg)
{
	pid_t parent = *(pid_t *)arg;

	for (;;) {
		sleep(1);
		if (getppid() != parent)
			kill(getpid(), SIGKILL);
	}
	return NULL;
}

int
grader_main(const char *conninfo, const struct cfg *conf)
{
	static pid_t parent;
	struct sigaction sa;
	struct jobq_serve serve;
	pthread_t watch;
	char err[512], worker[128];

	grade_lease_s = conf->grade_lease_s;
	bench_cpus = conf->bench_cpus;
	log_init("cohortd-grader", conf->log_level);
	/* Armed again after the exec, which may clear it (a secure exec);
	 * the supervisor is the one that named itself (worker_spawn()). */
	parent = getenv(GRADER_SUPERVISOR_ENV) != NULL ?
	    (pid_t)atol(getenv(GRADER_SUPERVISOR_ENV)) : getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent ||
	    pthread_create(&watch, NULL, grader_orphan_watch, &parent) != 0)
		fatalx("grader: cannot watch for the supervisor's exit");
	pthread_detach(watch);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = grader_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (geteuid() != 0)
		fatalx("grader: the sandbox needs root; not grading");
	if (sbx_init(NULL, NULL) != 0)
		fatalx("grader: the sandbox is not fully in force on this host; "
		    "not grading");
	db_register(grader_stmts, sizeof(grader_stmts) / sizeof(*grader_stmts));
	jobq_init();
	outbox_init();
	/* Two connections: the pipeline's, and the heartbeat's. */
	if (db_pool_new(conninfo, 2, &grader_pool, err, sizeof(err)) != 0)
		fatalx("grader: database: %s", err);
	worker_id(getpid(), worker, sizeof(worker));
	log_info("grader %s ready", worker);

	serve = (struct jobq_serve){ .conninfo = conninfo,
	    .channel = "cohortd_grade_jobs", .run_one = grader_next,
	    .idle = grader_idle, .stopping = grader_stopping, .arg = worker };
	if (jobq_serve(&serve) != 0)
		fatalx("grader: listen: out of memory");
	log_info("grader %s stopping", worker);
	db_pool_free(grader_pool);
	return 0;
}
