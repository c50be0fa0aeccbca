/*
 * health.h - a database check that ends by its deadline whatever the
 * server does (health.c has the why), for the readiness endpoint.
 */
#ifndef COHORTD_HEALTH_H
#define COHORTD_HEALTH_H

#include <stddef.h>

/*
 * The database checks connect to (copied), and the channel whose
 * notifications mean an answer must not be reused (NULL: none is, but
 * a failure's).  0 or CD_ERR_NOMEM.
 */
int	health_init(const char *conninfo, const char *channel);

/*
 * Run sql (one statement, no parameters) within timeout_ms on the check
 * connection; value receives the first column of the first row ("" if
 * none).  0, or CD_ERR_TIMEOUT / CD_ERR_UNAVAILABLE / CD_ERR_DATABASE
 * with cause set to a short sentence for the operator.  Thread-safe: a
 * caller arriving while a check runs gets that check's answer, and so
 * does one arriving within 10 ms of its end while the connection heard
 * nothing (no notification on the channel, no closing by the server).
 */
int	health_query(const char *sql, int timeout_ms, char *value, size_t vlen,
	    char *cause, size_t clen);

/* Close the check connection.  After the HTTP threads stopped. */
void	health_fini(void);

#endif
