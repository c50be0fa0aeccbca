/*
 * precond.h - preconditions: ETags, If-None-Match and If-Match, and
 * the row lock a change takes before checking them.
 */
#ifndef COHORTD_API_PRECOND_H
#define COHORTD_API_PRECOND_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

/* Set ETag from version; on GET with a matching If-None-Match, answer 304
 * and return API_ANSWERED. */
int	 api_etag(struct http_req *r, const char *version);
/* For PATCH/DELETE: If-Match present and not matching version: 412,
 * API_ANSWERED. */
int	 api_if_match_fails(struct http_req *r, const char *version);
/* Run stmt; no row is CD_ERR_NOT_FOUND; else check If-Match against
 * the row's first column (the version).  0 go on, API_ANSWERED (412). */
int	 api_lock(struct http_req *r, const char *stmt, const char *id);
/* As api_lock, for a stmt of n parameters p, the id in p[0]. */
int	 api_lock_p(struct http_req *r, const char *stmt, int n,
	    const char *const *p);

#endif
