/*
 * db.c - connection pool over libpq with statements prepared once per
 * connection.  A mutex and a condition variable guard a free list;
 * connections are opened lazily up to the bound, so an idle daemon holds
 * one.  A connection that breaks is closed on release and reopened on a
 * later borrow, which is how the pool survives a database restart.
 *
 * Round trips are what a request waits for, so the pool saves them:
 * BEGIN and the tenant setting travel with the transaction's first
 * statement in one libpq pipeline, a read's COMMIT travels with its last
 * statement (db_exec_last), and a read-only transaction's COMMIT that
 * could not is sent without waiting (db_commit_nowait); its result is
 * read when the connection is next borrowed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "../common/log.h"

#define DB_MAX_TABLES	32

struct db_conn {
	struct db_pool	*pool;
	PGconn		*pg;
	struct db_conn	*next;		/* free list */
	int		 in_tx;
	int		 begin_pending;	/* BEGIN not sent yet: goes with the
					   first statement */
	char		 tenant[40];	/* and this tenant setting ("" none) */
	int		 platform;	/* and the platform scope */
	char		 lock_ms[16];	/* and these timeouts ("" none) */
	char		 stmt_ms[16];
	int		 commit_pending; /* COMMIT sent, result not read */
	char		 sqlstate[6];
	/* A statement that goes first in the transaction's first pipeline
	 * (db_precheck), and what became of it. */
	const char	*pre_stmt;
	int		 pre_n;
	char		 pre_buf[DB_PRECHECK_PARAMS][72];
	const char	*pre_params[DB_PRECHECK_PARAMS];
	int		 pre_state;
};

struct db_pool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		*conninfo;
	struct db_conn	*free;
	int		 size;		/* bound */
	int		 open;		/* connections that exist */
	int		 in_use;
};

static const struct db_stmt *db_tables[DB_MAX_TABLES];
static size_t db_table_len[DB_MAX_TABLES];
static size_t db_ntables;

/* Statements every connection needs, whatever the modules register. */
static const struct db_stmt db_core_stmts[] = {
	{ "db_begin", "BEGIN" },
	{ "db_commit", "COMMIT" },
	{ "db_rollback", "ROLLBACK" },
	/* is_local = true: the setting dies with the transaction. */
	{ "db_set_tenant",
	  "SELECT set_config('cohortd.tenant_id', $1, true)" },
	{ "db_set_platform",
	  "SELECT set_config('cohortd.scope', 'platform', true)" },
	{ "db_set_timeouts",
	  "SELECT set_config('lock_timeout', $1, true), "
	  "set_config('statement_timeout', $2, true)" },
	{ "db_no_statement_timeout",
	  "SELECT set_config('statement_timeout', '0', true)" },
	/* Sends a pending BEGIN before a cursor's statement. */
	{ "db_noop", "SELECT 1" },
};

void
db_register(const struct db_stmt *stmts, size_t n)
{
	if (db_ntables == DB_MAX_TABLES)
		fatalx("db_register: too many statement tables");
	db_tables[db_ntables] = stmts;
	db_table_len[db_ntables] = n;
	db_ntables++;
}

static int
db_prepare_table(PGconn *pg, const struct db_stmt *t, size_t n, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		PGresult *r = PQprepare(pg, t[i].name, t[i].sql, 0, NULL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "prepare %s: %s", t[i].name,
			    PQresultErrorMessage(r));
			PQclear(r);
			return CD_ERR_DATABASE;
		}
		PQclear(r);
	}
	return 0;
}

static int
db_connect(const char *conninfo, PGconn **out, char *err, size_t errlen)
{
	PGconn *pg;
	PGresult *r;
	int rc;

	*out = NULL;
	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(pg));
		err[strcspn(err, "\n")] = '\0';
		PQfinish(pg);
		return CD_ERR_UNAVAILABLE;
	}
	/*
	 * Requests run as cohortd_app, a role without BYPASSRLS that does not
	 * own the tables, so row-level security always applies to them.  The
	 * role exists once the migrations ran; before that (cohortctl), the
	 * login role is used as is.  JIT compilation is off: it triggers on
	 * the reports' cost estimates and took longer than it saved (the
	 * 10,000-learner completion report: 2.5 s with it, 1.6 s without;
	 * docs/PERFORMANCE.md).
	 */
	r = PQexec(pg, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE "
	    "rolname = 'cohortd_app') THEN SET ROLE cohortd_app; END IF; END $$;"
	    "SET application_name = 'cohortd'; SET timezone = 'UTC'; "
	    "SET jit = off; SET lock_timeout = '5s'");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "session setup: %s",
		    PQresultErrorMessage(r));
		PQclear(r);
		PQfinish(pg);
		return CD_ERR_DATABASE;
	}
	PQclear(r);
	if ((rc = db_prepare_table(pg, db_core_stmts,
	    sizeof(db_core_stmts) / sizeof(*db_core_stmts), err, errlen)) != 0)
		goto fail;
	for (size_t i = 0; i < db_ntables; i++)
		if ((rc = db_prepare_table(pg, db_tables[i], db_table_len[i],
		    err, errlen)) != 0)
			goto fail;
	/* Preparing reads every table; behind an exclusive lock (a long
	 * ALTER) it would wait without bound: a new connection gives up after
	 * lock_timeout (the request gets 503) instead of hanging. */
	r = PQexec(pg, "RESET lock_timeout");
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : CD_ERR_DATABASE;
	PQclear(r);
	if (rc != 0)
		goto fail;
	*out = pg;
	return 0;
 fail:
	PQfinish(pg);
	return rc;
}

int
db_pool_new(const char *conninfo, int size, struct db_pool **out, char *err,
    size_t errlen)
{
	struct db_pool *pool;
	struct db_conn *c;
	int rc;

	*out = NULL;
	if ((pool = calloc(1, sizeof(*pool))) == NULL)
		return CD_ERR_NOMEM;
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->size = size;
	if ((pool->conninfo = strdup(conninfo)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((rc = db_connect(conninfo, &c->pg, err, errlen)) != 0) {
		free(c);
		goto out;
	}
	c->pool = pool;
	pool->free = c;
	pool->open = 1;
	*out = pool;
	return 0;
 out:
	db_pool_free(pool);
	return rc;
}

void
db_pool_free(struct db_pool *pool)
{
	struct db_conn *c, *next;

	if (pool == NULL)
		return;
	for (c = pool->free; c != NULL; c = next) {
		next = c->next;
		PQfinish(c->pg);
		free(c);
	}
	pthread_cond_destroy(&pool->cv);
	pthread_mutex_destroy(&pool->mu);
	free(pool->conninfo);
	free(pool);
}

/* Read the result of a COMMIT sent by db_commit_nowait. */
static int
db_drain(struct db_conn *c)
{
	PGresult *r;
	int rc = 0;

	c->commit_pending = 0;
	while ((r = PQgetResult(c->pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warnx("deferred commit: %s", PQresultErrorMessage(r));
			rc = CD_ERR_DATABASE;
		}
		PQclear(r);
	}
	if (PQstatus(c->pg) != CONNECTION_OK ||
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE)
		rc = CD_ERR_DATABASE;
	return rc;
}

int
db_acquire(struct db_pool *pool, int timeout_ms, struct db_conn **out)
{
	struct timespec deadline;
	struct db_conn *c = NULL;
	char err[512];
	int rc = 0;

	*out = NULL;
	clock_deadline(&deadline, timeout_ms);

	pthread_mutex_lock(&pool->mu);
	while (pool->free == NULL && pool->open >= pool->size) {
		if (pthread_cond_timedwait(&pool->cv, &pool->mu, &deadline)
		    == ETIMEDOUT && pool->free == NULL &&
		    pool->open >= pool->size) {
			pthread_mutex_unlock(&pool->mu);
			return CD_ERR_UNAVAILABLE;
		}
	}
	if (pool->free != NULL) {
		c = pool->free;
		pool->free = c->next;
		pool->in_use++;
		pthread_mutex_unlock(&pool->mu);
		goto ready;
	}
	/* Room for another connection: open it outside the lock. */
	pool->open++;
	pool->in_use++;
	pthread_mutex_unlock(&pool->mu);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		rc = CD_ERR_NOMEM;
		goto fail;
	}
	c->pool = pool;
	if ((rc = db_connect(pool->conninfo, &c->pg, err, sizeof(err))) != 0) {
		log_warnx("database connect: %s", err);
		free(c);
		rc = CD_ERR_UNAVAILABLE;
		goto fail;
	}
 ready:
	c->next = NULL;
	if (c->commit_pending && db_drain(c) != 0) {
		/* The connection broke since: replace it. */
		PQfinish(c->pg);
		if ((rc = db_connect(pool->conninfo, &c->pg, err,
		    sizeof(err))) != 0) {
			log_warnx("database connect: %s", err);
			free(c);
			rc = CD_ERR_UNAVAILABLE;
			goto fail;
		}
	}
	c->in_tx = 0;
	c->begin_pending = 0;
	c->sqlstate[0] = '\0';
	c->pre_state = DB_PRECHECK_NONE;
	*out = c;
	return 0;
 fail:
	pthread_mutex_lock(&pool->mu);
	pool->open--;
	pool->in_use--;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	return rc;
}

void
db_release(struct db_conn *c)
{
	struct db_pool *pool;
	int broken;

	if (c == NULL)
		return;
	pool = c->pool;
	if (c->in_tx)
		db_rollback(c);
	broken = PQstatus(c->pg) != CONNECTION_OK || (!c->commit_pending &&
	    PQtransactionStatus(c->pg) != PQTRANS_IDLE);
	pthread_mutex_lock(&pool->mu);
	pool->in_use--;
	if (broken) {
		pool->open--;
	} else {
		c->next = pool->free;
		pool->free = c;
	}
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
	if (broken) {
		PQfinish(c->pg);
		free(c);
	}
}

PGconn *
db_pg(struct db_conn *c)
{
	return c->pg;
}

/*
 * A statement in one pipeline with what goes with it: before it, when
 * begin, BEGIN, the timeouts and the scope (the transaction's first
 * statement); after it, when commit, COMMIT (its last).  One round trip
 * for all.  Returns the statement's result, or NULL when anything in the
 * pipeline failed.
 */
static PGresult *
db_exec_piped(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params, int begin, int commit)
{
	const char *tp[1] = { c->tenant };
	const char *to[2] = { c->lock_ms, c->stmt_ms };
	PGresult *r, *out = NULL;
	int nq = 0, ok = 1, at, pre = -1;

	c->begin_pending = 0;
	if (PQenterPipelineMode(c->pg) != 1)
		return NULL;
	if (begin) {
		PQsendQueryPrepared(c->pg, "db_begin", 0, NULL, NULL, NULL, 0);
		nq++;
		if (c->lock_ms[0]) {
			PQsendQueryPrepared(c->pg, "db_set_timeouts", 2, to,
			    NULL, NULL, 0);
			nq++;
		}
		if (c->tenant[0]) {
			PQsendQueryPrepared(c->pg, "db_set_tenant", 1, tp,
			    NULL, NULL, 0);
			nq++;
		}
		if (c->platform) {
			PQsendQueryPrepared(c->pg, "db_set_platform", 0, NULL,
			    NULL, NULL, 0);
			nq++;
		}
	}
	if (begin && c->pre_state == DB_PRECHECK_PENDING) {
		if (PQsendQueryPrepared(c->pg, c->pre_stmt, c->pre_n,
		    c->pre_params, NULL, NULL, 0) == 1)
			pre = nq++;
		else {
			c->pre_state = DB_PRECHECK_FAILED;
			ok = 0;
		}
	}
	at = nq++;
	PQsendQueryPrepared(c->pg, stmt, nparams, params, NULL, NULL, 0);
	if (commit) {
		PQsendQueryPrepared(c->pg, "db_commit", 0, NULL, NULL, NULL, 0);
		nq++;
	}
	PQpipelineSync(c->pg);
	for (int q = 0; q < nq; q++) {
		/* Each query: its result, then NULL. */
		while ((r = PQgetResult(c->pg)) != NULL) {
			ExecStatusType st = PQresultStatus(r);

			if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
				if (ok && st != PGRES_PIPELINE_ABORTED) {
					const char *state = PQresultErrorField(r,
					    PG_DIAG_SQLSTATE);

					snprintf(c->sqlstate, sizeof(c->sqlstate),
					    "%s", state ? state : "");
					if (state == NULL ||
					    strncmp(state, "23", 2) != 0)
						log_warnx("statement %s: %s",
						    q == at ? stmt : q == pre ?
						    c->pre_stmt : q < at ?
						    "begin" : "commit",
						    PQresultErrorMessage(r));
				}
				ok = 0;
			}
			if (q == pre)
				c->pre_state = ok ? DB_PRECHECK_PASSED :
				    DB_PRECHECK_FAILED;
			if (q == at && ok && out == NULL)
				out = r;
			else
				PQclear(r);
		}
	}
	/* The sync's own result, then back to ordinary mode. */
	while ((r = PQgetResult(c->pg)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		PQclear(r);
		if (st == PGRES_PIPELINE_SYNC)
			break;
	}
	PQexitPipelineMode(c->pg);
	if (!ok) {
		PQclear(out);
		return NULL;
	}
	return out;
}

PGresult *
db_exec(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params)
{
	PGresult *r;
	ExecStatusType st;
	const char *state;

	if (c->begin_pending)
		return db_exec_piped(c, stmt, nparams, params, 1, 0);
	r = PQexecPrepared(c->pg, stmt, nparams, params, NULL, NULL, 0);
	st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
	/* Constraint violations are the caller's to explain; log the rest. */
	if (state == NULL || strncmp(state, "23", 2) != 0)
		log_warnx("statement %s: %s", stmt, PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

int
db_precheck(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params)
{
	if (!c->begin_pending || nparams > DB_PRECHECK_PARAMS)
		return CD_ERR_INVALID;
	for (int i = 0; i < nparams; i++) {
		if (params[i] == NULL) {
			c->pre_params[i] = NULL;
			continue;
		}
		if (strlen(params[i]) >= sizeof(c->pre_buf[i]))
			return CD_ERR_INVALID;
		snprintf(c->pre_buf[i], sizeof(c->pre_buf[i]), "%s", params[i]);
		c->pre_params[i] = c->pre_buf[i];
	}
	c->pre_stmt = stmt;
	c->pre_n = nparams;
	c->pre_state = DB_PRECHECK_PENDING;
	return 0;
}

int
db_precheck_confirm(struct db_conn *c, int required)
{
	PGresult *r;

	if (c->pre_state == DB_PRECHECK_PENDING && c->begin_pending &&
	    (r = db_exec(c, "db_noop", 0, NULL)) != NULL)
		PQclear(r);
	if (c->pre_state == DB_PRECHECK_PASSED)
		return 0;
	return c->pre_state == DB_PRECHECK_NONE && !required ? 0 :
	    CD_ERR_DENIED;
}

PGresult *
db_exec_last(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params)
{
	PGresult *r;

	if (!c->in_tx)
		return db_exec(c, stmt, nparams, params);
	r = db_exec_piped(c, stmt, nparams, params, c->begin_pending, 1);
	/* Committed: a statement after this one opens a new transaction,
	 * scoped as this one was.  Failed: the transaction is the caller's
	 * to roll back, as after any failed statement. */
	if (r != NULL)
		c->begin_pending = 1;
	return r;
}

void
db_rescope(struct db_conn *c, const char *tenant_id, int platform)
{
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant_id ? tenant_id : "");
	c->platform = platform;
}

int
db_rows(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params)
{
	PGresult *r = db_exec(c, stmt, nparams, params);
	int rows;

	if (r == NULL)
		return CD_ERR_DATABASE;
	rows = PQntuples(r);
	PQclear(r);
	return rows;
}

PGresult *
db_once(struct db_pool *pool, const char *scope, const char *stmt,
    int nparams, const char *const *params)
{
	struct db_conn *c;
	PGresult *res = NULL, *s;

	if (db_acquire(pool, 10000, &c) != 0)
		return NULL;
	if (db_begin(c, NULL) == 0 && (scope == NULL ||
	    (s = db_exec(c, scope, 0, NULL)) != NULL)) {
		if (scope != NULL)
			PQclear(s);
		if ((res = db_exec(c, stmt, nparams, params)) != NULL &&
		    db_commit(c) != 0) {
			PQclear(res);
			res = NULL;
		}
	}
	db_release(c);
	return res;
}

static int
db_simple(struct db_conn *c, const char *stmt)
{
	PGresult *r = db_exec(c, stmt, 0, NULL);

	if (r == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

int
db_set_tenant(struct db_conn *c, const char *tenant_id)
{
	const char *p[1] = { tenant_id };
	PGresult *r;

	/* Kept for a transaction reopened after db_exec_last, too. */
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant_id);
	if (c->begin_pending)		/* not sent yet: goes with BEGIN */
		return 0;
	if ((r = db_exec(c, "db_set_tenant", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

int
db_set_timeouts(struct db_conn *c, int lock_ms, int stmt_ms)
{
	const char *p[2] = { c->lock_ms, c->stmt_ms };
	PGresult *r;

	snprintf(c->lock_ms, sizeof(c->lock_ms), "%d", lock_ms);
	snprintf(c->stmt_ms, sizeof(c->stmt_ms), "%d", stmt_ms);
	if (c->begin_pending)		/* goes with BEGIN */
		return 0;
	if ((r = db_exec(c, "db_set_timeouts", 2, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

int
db_no_statement_timeout(struct db_conn *c)
{
	PGresult *r;

	snprintf(c->stmt_ms, sizeof(c->stmt_ms), "0");	/* if reopened */
	if ((r = db_exec(c, "db_no_statement_timeout", 0, NULL)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

int
db_begin_platform(struct db_conn *c)
{
	db_begin(c, NULL);
	c->platform = 1;	/* sent with BEGIN, see db_exec_first */
	return 0;
}

int
db_begin(struct db_conn *c, const char *tenant_id)
{
	/* Sent with the first statement; see db_exec_first. */
	c->begin_pending = 1;
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant_id ? tenant_id : "");
	c->platform = 0;
	c->lock_ms[0] = c->stmt_ms[0] = '\0';
	c->in_tx = 1;
	return 0;
}

int
db_commit_nowait(struct db_conn *c)
{
	c->in_tx = 0;
	if (c->begin_pending) {		/* nothing was ever sent */
		c->begin_pending = 0;
		return 0;
	}
	if (PQsendQueryPrepared(c->pg, "db_commit", 0, NULL, NULL, NULL, 0)
	    != 1)
		return CD_ERR_DATABASE;
	c->commit_pending = 1;
	return 0;
}

void
db_detach_tx(struct db_conn *c)
{
	c->begin_pending = 0;
}

int
db_in_tx(const struct db_conn *c)
{
	return c->in_tx;
}

int
db_commit(struct db_conn *c)
{
	int rc;

	c->in_tx = 0;
	if (c->begin_pending) {
		c->begin_pending = 0;
		return 0;
	}
	rc = db_simple(c, "db_commit");
	return rc;
}

int
db_rollback(struct db_conn *c)
{
	int rc;

	c->in_tx = 0;
	if (c->begin_pending) {
		c->begin_pending = 0;
		return 0;
	}
	rc = db_simple(c, "db_rollback");
	return rc;
}

/* ---- row cursors ---------------------------------------------------- */

struct db_cursor {
	struct db_conn	*c;
	db_row_fn	 fn;
	void		*arg;
	long		 nrows;		/* rendered */
	int		 rc;		/* 1 rows may remain, 0 ended, <0 */
	int		 drained;	/* PQgetResult said NULL */
	char		 err[256];
};

int
db_cursor_open(struct db_conn *c, const char *stmt, int nparams,
    const char *const *params, db_row_fn fn, void *arg,
    struct db_cursor **out)
{
	struct db_cursor *cur;
	PGresult *r;
	int rc = CD_ERR_DATABASE;

	*out = NULL;
	/* BEGIN and its settings go first, the usual way. */
	if (c->begin_pending) {
		if ((r = db_exec(c, "db_noop", 0, NULL)) == NULL)
			return rc;
		PQclear(r);
	}
	if ((cur = calloc(1, sizeof(*cur))) == NULL)
		return CD_ERR_NOMEM;
	cur->c = c;
	cur->fn = fn;
	cur->arg = arg;
	cur->rc = 1;
	if (PQsendQueryPrepared(c->pg, stmt, nparams, params, NULL, NULL, 0)
	    != 1) {
		log_warnx("statement %s: %s", stmt, PQerrorMessage(c->pg));
		free(cur);
		return rc;
	}
	if (PQsetSingleRowMode(c->pg) != 1) {
		log_warnx("statement %s: no single-row mode", stmt);
		cur->rc = rc;
		db_cursor_free(cur);
		return rc;
	}
	*out = cur;
	return 0;
}

int
db_cursor_fill(struct db_cursor *cur, char **buf, size_t *len, size_t *cap,
    size_t want)
{
	PGresult *res;
	const char *m, *state;

	while (cur->rc > 0 && *len < want) {
		if ((res = PQgetResult(cur->c->pg)) == NULL) {
			cur->drained = 1;
			cur->rc = 0;
			break;
		}
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
			if ((cur->rc = cur->fn(cur->arg, res, buf, len, cap))
			    == 0) {
				cur->rc = 1;
				cur->nrows++;
			}
			break;
		case PGRES_TUPLES_OK:
			break;		/* the end; NULL follows */
		default:
			m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
			state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
			snprintf(cur->err, sizeof(cur->err), "%s",
			    m != NULL ? m : "database error");
			snprintf(cur->c->sqlstate, sizeof(cur->c->sqlstate),
			    "%s", state != NULL ? state : "");
			cur->rc = CD_ERR_DATABASE;
		}
		PQclear(res);
	}
	return cur->rc;
}

long
db_cursor_count(const struct db_cursor *cur)
{
	return cur->nrows;
}

const char *
db_cursor_error(const struct db_cursor *cur)
{
	return cur->err;
}

void
db_cursor_free(struct db_cursor *cur)
{
	PGresult *res;
	PGcancel *cancel;
	char err[256];

	if (cur == NULL)
		return;
	/* Stopped short (the reader left, a row failed): have the server
	 * stop too instead of sending what nobody reads, then drain. */
	if (!cur->drained && cur->rc != 0 &&
	    (cancel = PQgetCancel(cur->c->pg)) != NULL) {
		PQcancel(cancel, err, sizeof(err));
		PQfreeCancel(cancel);
	}
	if (!cur->drained)
		while ((res = PQgetResult(cur->c->pg)) != NULL)
			PQclear(res);
	free(cur);
}

const char *
db_error_sqlstate(const struct db_conn *c)
{
	return c->sqlstate;
}

void
db_pool_stats(struct db_pool *pool, int *in_use, int *idle, int *size)
{
	pthread_mutex_lock(&pool->mu);
	*in_use = pool->in_use;
	*idle = pool->open - pool->in_use;
	*size = pool->size;
	pthread_mutex_unlock(&pool->mu);
}

/* ---- LISTEN ------------------------------------------------------------ */

static int
db_listen_on(PGconn *c, const char *channel)
{
	char *id = PQescapeIdentifier(c, channel, strlen(channel));
	char sql[128];
	PGresult *r;
	int ok;

	if (id == NULL)
		return 0;
	snprintf(sql, sizeof(sql), "LISTEN %s", id);
	PQfreemem(id);
	r = PQexec(c, sql);
	if (!(ok = PQresultStatus(r) == PGRES_COMMAND_OK))
		log_warnx("listen on %s: %s", channel, PQerrorMessage(c));
	PQclear(r);
	return ok;
}

PGconn *
db_listen(const char *conninfo, const char *channel)
{
	/* conninfo may be a URL: expanded as dbname, with a bounded connect
	 * so that a reconnection never hangs a shutdown for long. */
	const char *const keys[] = { "dbname", "connect_timeout", NULL };
	const char *const vals[] = { conninfo, "5", NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL)
		return NULL;
	/* A broken one is kept: db_listen_wait sleeps, then reconnects. */
	if (PQstatus(c) != CONNECTION_OK)
		log_warnx("listen on %s: %s", channel, PQerrorMessage(c));
	else
		db_listen_on(c, channel);
	return c;
}

void
db_listen_close(PGconn *listen)
{
	if (listen != NULL)
		PQfinish(listen);
}

void
db_listen_wait(PGconn *listen, const char *channel, int ms)
{
	struct pollfd pfd = { PQsocket(listen), POLLIN, 0 };
	PGnotify *n;

	if (poll(&pfd, 1, ms) > 0) {
		PQconsumeInput(listen);
		while ((n = PQnotifies(listen)) != NULL)
			PQfreemem(n);
	}
	if (PQstatus(listen) != CONNECTION_OK) {
		PQreset(listen);
		if (PQstatus(listen) == CONNECTION_OK)
			db_listen_on(listen, channel);
	}
}

int
db_listen_take(PGconn *listen, const char *channel,
    void (*fn)(void *arg, const char *payload), void *arg)
{
	PGnotify *n;

	if (PQstatus(listen) != CONNECTION_OK) {
		PQreset(listen);
		if (PQstatus(listen) != CONNECTION_OK ||
		    !db_listen_on(listen, channel))
			return -1;
		return 1;
	}
	if (!PQconsumeInput(listen))
		return -1;		/* broken: the next call reconnects */
	while ((n = PQnotifies(listen)) != NULL) {
		if (strcmp(n->relname, channel) == 0)
			fn(arg, n->extra);
		PQfreemem(n);
	}
	return 0;
}
