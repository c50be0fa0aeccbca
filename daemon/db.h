/*
 * db.h - the PostgreSQL connection pool and the named-statement registry.
 *
 * Modules declare their SQL as a table of named statements (db_register,
 * before the pool opens); every pooled connection prepares all of them
 * once, when it is opened.  Requests borrow a connection for one
 * transaction.  There is no way to run SQL text built at run time through
 * this interface: statements are named, values are parameters.
 */
#ifndef COHORTD_DB_H
#define COHORTD_DB_H

#include <libpq-fe.h>

struct db_stmt {
	const char	*name;
	const char	*sql;
};

struct db_pool;
struct db_conn;

/* Add a module's statements; the table must outlive the pool. */
void		 db_register(const struct db_stmt *stmts, size_t n);

/*
 * Open a pool of at most size connections to conninfo.  One connection is
 * opened now so that a bad URL fails at startup (err says why).  Every
 * connection runs the session's setup (role, settings) and prepares the
 * registered statements.
 */
int		 db_pool_new(const char *conninfo, int size, struct db_pool **out,
		    char *err, size_t errlen);
void		 db_pool_free(struct db_pool *pool);

/*
 * Borrow a connection, waiting up to timeout_ms for one to come back.
 * Returns CD_ERR_UNAVAILABLE on timeout or when the database is
 * unreachable.  db_release returns it (rolling back an open transaction;
 * closing it if it broke).  NULL is fine.
 */
int		 db_acquire(struct db_pool *pool, int timeout_ms,
		    struct db_conn **out);
void		 db_release(struct db_conn *c);

/* The connection's libpq handle, for a module's own calls. */
PGconn		*db_pg(struct db_conn *c);

/*
 * Run a registered statement.  Text parameters (NULL = SQL NULL); text
 * results.  Returns the result (caller PQclears) or NULL on error, with
 * the error logged and kept in the connection (db_error_sqlstate).
 */
PGresult	*db_exec(struct db_conn *c, const char *stmt, int nparams,
		    const char *const *params);
/*
 * db_exec for the transaction's last statement: its COMMIT goes in the
 * same round trip.  For reads, whose transaction has nothing to roll
 * back: what the statement did is committed even if the caller then
 * answers an error.  A statement run after it opens a new transaction
 * with the same timeouts and scope (db_rescope).  On error the
 * transaction is still open, for the caller's rollback.
 */
PGresult	*db_exec_last(struct db_conn *c, const char *stmt, int nparams,
		    const char *const *params);
/*
 * A statement to run first in the open transaction's first pipeline,
 * before whatever statement the caller runs first (which then waits for
 * no extra round trip).  Its failure fails that pipeline: nothing after
 * it runs.  Only while BEGIN is still pending; at most
 * DB_PRECHECK_PARAMS parameters of at most 71 bytes.  0 or
 * CD_ERR_INVALID.  db_precheck_confirm runs it now if no statement took
 * it along yet: 0 when it passed (or, unless required, there was none),
 * CD_ERR_DENIED when it failed or could not run.
 */
#define DB_PRECHECK_PARAMS	5
enum { DB_PRECHECK_NONE, DB_PRECHECK_PENDING, DB_PRECHECK_PASSED,
	DB_PRECHECK_FAILED };
int		 db_precheck(struct db_conn *c, const char *stmt, int nparams,
		    const char *const *params);
int		 db_precheck_confirm(struct db_conn *c, int required);
/*
 * The scope of a transaction reopened in this borrow (by db_exec_last),
 * when the current one was scoped by one of its statements (the token's
 * lookup) rather than by db_begin.  Sends nothing.
 */
void		 db_rescope(struct db_conn *c, const char *tenant_id,
		    int platform);
/* db_exec for the rows a statement returned, the result freed: their
 * count, or CD_ERR_DATABASE. */
int		 db_rows(struct db_conn *c, const char *stmt, int nparams,
		    const char *const *params);
/*
 * Run stmt in a transaction of its own on a connection of pool, after
 * the registered statement scope when not NULL (one that sets the
 * transaction's scope, as the workers' does), and commit: the result
 * (the caller PQclears), or NULL.
 */
PGresult	*db_once(struct db_pool *pool, const char *scope,
		    const char *stmt, int nparams, const char *const *params);

/*
 * Start a transaction scoped to tenant (NULL: none, as for platform-wide
 * work); row-level security reads the setting.  Commit and rollback end
 * it.  All return 0 or CD_ERR_DATABASE.
 */
int		 db_begin(struct db_conn *c, const char *tenant_id);
int		 db_commit(struct db_conn *c);
/*
 * End a read-only transaction without waiting: COMMIT is sent and its
 * result read when the connection is next borrowed.  Only for
 * transactions whose outcome the caller does not report (GET requests).
 */
int		 db_commit_nowait(struct db_conn *c);
/* A transaction in the platform administrator's scope (cohortctl). */
int		 db_begin_platform(struct db_conn *c);
int		 db_rollback(struct db_conn *c);

/*
 * Forget c's open transaction without ending it: the caller has a query
 * in flight and will read its results; db_release then rolls back (a
 * read-only transaction loses nothing).
 */
void		 db_detach_tx(struct db_conn *c);

/*
 * Bound the open transaction's waits: lock_timeout and statement_timeout
 * (milliseconds; 0 = none) for the rest of it, sent with BEGIN when that
 * is still pending.  A statement that runs out fails with SQLSTATE 55P03
 * (lock) or 57014 (statement).  0 or CD_ERR_DATABASE.
 */
int		 db_set_timeouts(struct db_conn *c, int lock_ms, int stmt_ms);
/* Lift the statement timeout for the rest of c's transaction: for a
 * result streamed to a client, whose pace is not the database's. */
int		 db_no_statement_timeout(struct db_conn *c);

/* Is a transaction open on c? */
int		 db_in_tx(const struct db_conn *c);
/* Scope c's open transaction to another tenant (platform actions). */
int		 db_set_tenant(struct db_conn *c, const char *tenant_id);

/*
 * Row cursors: a statement's rows read as the server sends them, one at
 * a time (libpq's single-row mode), so that a result of any size costs a
 * chunk of memory.  A streamed HTTP response and a report job's runner
 * both read their rows this way.
 *
 * fn appends one row's text to a growing buffer (*buf of *len bytes,
 * *cap allocated; realloc it as needed) and returns 0, or <0 to stop.
 */
typedef int (*db_row_fn)(void *arg, PGresult *row, char **buf,
    size_t *len, size_t *cap);
struct db_cursor;

/*
 * Send stmt on c, in its open transaction, and return a cursor over its
 * rows, each rendered by fn(arg, ...).  c runs nothing else until the
 * cursor is freed; arg stays the caller's.  0, or CD_ERR_DATABASE or
 * CD_ERR_NOMEM with *out NULL.
 */
int		 db_cursor_open(struct db_conn *c, const char *stmt,
		    int nparams, const char *const *params, db_row_fn fn,
		    void *arg, struct db_cursor **out);
/*
 * Render rows onto *buf until *len reaches want or the rows run out:
 * 1 when rows may remain, 0 when they ran out, <0 when fn failed (its
 * code) or the statement did (CD_ERR_DATABASE, db_cursor_error says
 * why).  After 0 or <0 it returns the same again.
 */
int		 db_cursor_fill(struct db_cursor *cur, char **buf, size_t *len,
		    size_t *cap, size_t want);
/* Rows rendered so far. */
long		 db_cursor_count(const struct db_cursor *cur);
/* The server's message for a failed statement ("" if none). */
const char	*db_cursor_error(const struct db_cursor *cur);
/*
 * Free the cursor; when rows remain, cancel the statement and drain
 * them.  c's transaction stays open.  NULL is fine.
 */
void		 db_cursor_free(struct db_cursor *cur);

/* SQLSTATE of the last failed statement on c ("" if none). */
const char	*db_error_sqlstate(const struct db_conn *c);

/*
 * A connection of its own (not pooled) that LISTENs on channel, for a
 * queue's idle consumers; NULL only when out of memory (one that could
 * not connect is returned, to be retried by the wait).  db_listen_wait
 * sleeps until a notification arrives or ms pass, drains what came, and
 * reconnects (and listens again) after the connection broke.
 */
PGconn		*db_listen(const char *conninfo, const char *channel);
void		 db_listen_wait(PGconn *listen, const char *channel, int ms);
/* Close a connection of db_listen; NULL is fine. */
void		 db_listen_close(PGconn *listen);

/*
 * Without waiting: hand the payload of each notification that came on
 * channel to fn, or reconnect (and listen again) when the connection
 * broke.  0; 1 when it was just reconnected (notifications sent while it
 * was down are lost: the caller looks again at what it follows); -1
 * while it is down.
 */
int		 db_listen_take(PGconn *listen, const char *channel,
		    void (*fn)(void *arg, const char *payload), void *arg);

/* Connections now borrowed, idle, and the pool's bound. */
void		 db_pool_stats(struct db_pool *pool, int *in_use, int *idle,
		    int *size);

#endif
