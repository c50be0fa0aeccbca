/*
 * health.c - the database as readiness sees it: one query on a connection
 * of its own, under a deadline the caller sets.
 *
 * Why not the pool: a pool connection can be waited for behind user
 * requests, and a query on it waits as long as the server does (a paused
 * or wedged server never answers; statement_timeout is the server's and
 * does not help).  Here the connection is made and the query run with
 * libpq's non-blocking calls and poll(2), so a check ends by its deadline
 * whatever the server does; after a failure the connection is dropped
 * and the next check connects again.  Checks are single-flight: callers
 * arriving while one runs wait for its answer (within their own
 * deadline) instead of starting another.
 *
 * An answer also serves the callers of the next HEALTH_REUSE_MS while the
 * connection has heard nothing since: the server going away (a shutdown,
 * a crash, a terminated backend) makes it readable, and so does a change
 * to schema_migrations, which notifies the channel given to health_init
 * (migrations/0020).  A probe right after either asks again; a flood of
 * probes costs the database one query per HEALTH_REUSE_MS, not one each.
 * What reuse can miss is a server that stopped answering without closing
 * anything (paused, wedged): for at most HEALTH_REUSE_MS, after which the
 * next check's deadline names it.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "health.h"

#define HEALTH_REUSE_MS	10	/* an answer serves this long, at most */

static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t health_cv = PTHREAD_COND_INITIALIZER;
static char *health_conninfo;
static char *health_listen;		/* "LISTEN <channel>", or NULL */
static const char *health_sql;		/* what the last check asked */
static long health_done_ms;		/* when it ended */
static PGconn *health_conn;		/* owned by the running check */
static int health_running;
static unsigned long health_gen;	/* checks finished */
static int health_rc;			/* the last check's answer */
static char health_value[64];
static char health_cause[256];

/* Wait for fd to be ready for events until deadline: 1, 0 timeout, <0. */
static int
health_wait(int fd, short events, long deadline)
{
	struct pollfd pfd = { fd, events, 0 };
	long left;
	int n;

	for (;;) {
		if ((left = deadline - clock_ms()) <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n >= 0)
			return n > 0;
		if (errno != EINTR)
			return CD_ERR_SYSTEM;
	}
}

/* Connect by deadline; 0, or <0 with cause set. */
static int
health_connect(long deadline, char *cause, size_t len)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int w;

	if ((health_conn = PQconnectStart(health_conninfo)) == NULL) {
		snprintf(cause, len, "out of memory");
		return CD_ERR_NOMEM;
	}
	if (PQstatus(health_conn) == CONNECTION_BAD)
		goto bad;
	while (st != PGRES_POLLING_OK) {
		if (st == PGRES_POLLING_FAILED)
			goto bad;
		w = health_wait(PQsocket(health_conn), st ==
		    PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
		if (w == 0) {
			snprintf(cause, len, "the database did not accept a "
			    "connection in time");
			return CD_ERR_TIMEOUT;
		}
		if (w < 0)
			goto bad;
		st = PQconnectPoll(health_conn);
	}
	return 0;
 bad:
	snprintf(cause, len, "cannot connect to the database: %s",
	    PQerrorMessage(health_conn));
	cause[strcspn(cause, "\n")] = '\0';
	return CD_ERR_UNAVAILABLE;
}

/* Run sql by deadline on health_conn; first value of the first row. */
static int
health_run(const char *sql, long deadline, char *value, size_t vlen,
    char *cause, size_t clen)
{
	PGconn *c = health_conn;
	PGresult *r;
	int w, rc = 0, got = 0;

	if (!PQsendQuery(c, sql))
		goto bad;
	for (;;) {
		int f = PQflush(c);

		if (f == 0)
			break;
		if (f < 0 || (w = health_wait(PQsocket(c), POLLOUT,
		    deadline)) < 0)
			goto bad;
		if (w == 0)
			goto late;
	}
	for (;;) {
		while (PQisBusy(c)) {
			if ((w = health_wait(PQsocket(c), POLLIN, deadline)) < 0)
				goto bad;
			if (w == 0)
				goto late;
			if (!PQconsumeInput(c))
				goto bad;
		}
		if ((r = PQgetResult(c)) == NULL)
			break;
		if (PQresultStatus(r) != PGRES_TUPLES_OK &&
		    PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
			snprintf(cause, clen, "database check failed: %s",
			    PQresultErrorMessage(r));
			cause[strcspn(cause, "\n")] = '\0';
			rc = CD_ERR_DATABASE;
		} else if (!got && PQntuples(r) > 0 && PQnfields(r) > 0) {
			snprintf(value, vlen, "%s", PQgetvalue(r, 0, 0));
			got = 1;
		}
		PQclear(r);
	}
	return rc;
 late:
	snprintf(cause, clen, "the database did not answer in time");
	return CD_ERR_TIMEOUT;
 bad:
	snprintf(cause, clen, "database connection failed: %s",
	    PQerrorMessage(c));
	cause[strcspn(cause, "\n")] = '\0';
	return CD_ERR_UNAVAILABLE;
}

int
health_init(const char *conninfo, const char *channel)
{
	free(health_conninfo);
	free(health_listen);
	health_listen = NULL;
	if ((health_conninfo = strdup(conninfo)) == NULL ||
	    (channel != NULL && asprintf(&health_listen, "LISTEN %s",
	    channel) == -1)) {
		health_listen = NULL;
		return CD_ERR_NOMEM;
	}
	return 0;
}

/*
 * May the last answer serve a caller now?  Only while it is fresh and the
 * connection heard nothing since (see the top).  Called with health_mu
 * held and no check running, so the connection is nobody's.
 */
static int
health_reusable(const char *sql)
{
	struct pollfd pfd;

	if (health_gen == 0 || health_sql != sql ||
	    clock_ms() - health_done_ms >= HEALTH_REUSE_MS)
		return 0;
	if (health_rc != 0)
		return 1;	/* a failure is not retried sooner, either */
	if (health_conn == NULL || health_listen == NULL)
		return 0;
	pfd.fd = PQsocket(health_conn);
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, 0) == 0;
}

/*
 * Take what the connection heard (notifications, a closed socket): 1 if
 * it heard anything, 0 if not.  After a check, a notification read with
 * its answer means the answer may predate the change it announces.
 */
static int
health_heard(void)
{
	PGnotify *n;
	int heard = 0;

	if (health_conn == NULL)
		return 0;
	if (!PQconsumeInput(health_conn))
		heard = 1;
	while ((n = PQnotifies(health_conn)) != NULL) {
		PQfreemem(n);
		heard = 1;
	}
	return heard;
}

int
health_query(const char *sql, int timeout_ms, char *value, size_t vlen,
    char *cause, size_t clen)
{
	long deadline = clock_ms() + timeout_ms;
	char v[sizeof(health_value)] = "", why[sizeof(health_cause)] = "";
	unsigned long gen;
	int rc, reusable;

	value[0] = '\0';
	cause[0] = '\0';
	pthread_mutex_lock(&health_mu);
	if (!health_running && health_reusable(sql)) {
		snprintf(value, vlen, "%s", health_value);
		snprintf(cause, clen, "%s", health_cause);
		rc = health_rc;
		pthread_mutex_unlock(&health_mu);
		return rc;
	}
	if (health_running) {
		/* One is on its way: its answer is as fresh as ours. */
		struct timespec ts;

		clock_deadline(&ts, timeout_ms);
		gen = health_gen;
		while (health_running && health_gen == gen)
			if (pthread_cond_timedwait(&health_cv, &health_mu,
			    &ts) != 0)
				break;
		if (health_gen == gen) {
			pthread_mutex_unlock(&health_mu);
			snprintf(cause, clen, "the database did not answer in "
			    "time");
			return CD_ERR_TIMEOUT;
		}
		snprintf(value, vlen, "%s", health_value);
		snprintf(cause, clen, "%s", health_cause);
		rc = health_rc;
		pthread_mutex_unlock(&health_mu);
		return rc;
	}
	if (health_conninfo == NULL) {
		pthread_mutex_unlock(&health_mu);
		snprintf(cause, clen, "no database configured");
		return CD_ERR_UNAVAILABLE;
	}
	health_running = 1;
	pthread_mutex_unlock(&health_mu);

	rc = 0;
	(void)health_heard();
	if (health_conn != NULL && PQstatus(health_conn) != CONNECTION_OK) {
		PQfinish(health_conn);
		health_conn = NULL;
	}
	if (health_conn == NULL && (rc = health_connect(deadline, why,
	    sizeof(why))) == 0 && health_listen != NULL) {
		char ignored[8];

		rc = health_run(health_listen, deadline, ignored,
		    sizeof(ignored), why, sizeof(why));
	}
	if (rc == 0)
		rc = health_run(sql, deadline, v, sizeof(v), why, sizeof(why));
	if (rc != 0) {
		/* A late answer must not be taken for the next query's. */
		PQfinish(health_conn);
		health_conn = NULL;
	}
	reusable = rc != 0 || !health_heard();

	pthread_mutex_lock(&health_mu);
	health_rc = rc;
	snprintf(health_value, sizeof(health_value), "%s", v);
	snprintf(health_cause, sizeof(health_cause), "%s", why);
	health_running = 0;
	health_sql = sql;
	health_done_ms = reusable ? clock_ms() : 0;
	health_gen++;
	pthread_cond_broadcast(&health_cv);
	pthread_mutex_unlock(&health_mu);
	snprintf(value, vlen, "%s", v);
	snprintf(cause, clen, "%s", why);
	return rc;
}

void
health_fini(void)
{
	pthread_mutex_lock(&health_mu);
	PQfinish(health_conn);
	health_conn = NULL;
	free(health_conninfo);
	health_conninfo = NULL;
	free(health_listen);
	health_listen = NULL;
	pthread_mutex_unlock(&health_mu);
}
