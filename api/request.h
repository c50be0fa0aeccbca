/*
 * request.h - what a handler asks of its request beyond HTTP: who the
 * caller is, what to record in the audit log, a throttle key.
 */
#ifndef COHORTD_API_REQUEST_H
#define COHORTD_API_REQUEST_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

/* Record what the request changed, for the audit log. */
void	 api_audited(struct http_req *r, const char *type, const char *id);

/* The caller's role as the SQL functions name it. */
const char *api_role(const struct http_req *r);
/* The caller's user id, or NULL (platform admin, API key). */
const char *api_user(const struct http_req *r);

/*
 * A throttle key (login_throttle): BLAKE2b-256 of kind, a and b (b
 * lowercased; NULL: none), as 64 hex digits and a NUL in out (session.c).
 */
void	 api_throttle_key(const char *kind, const char *a, const char *b,
	    char *out);

#endif
