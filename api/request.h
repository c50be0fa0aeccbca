/*
 * request.h - what a handler asks of its request beyond HTTP: who the
 * caller is, what to record in the audit log, a throttle key.
 */
#ifndef COHORTD_API_REQUEST_H
#define COHORTD_API_REQUEST_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

/*
 * The one "already answered" value: a helper that made the response
 * itself (a 304, 409, 412, 422 or 429) returns API_ANSWERED; its caller
 * stops and the handler returns api_result(rc), which is 0 for it (the
 * HTTP layer sends what was made) and rc for an error.
 */
#define API_ANSWERED	1
static inline int
api_result(int rc)
{
	return rc == API_ANSWERED ? 0 : rc;
}
/* rc of http_problem/http_json/...: API_ANSWERED when the response was
 * made, else the error. */
static inline int
api_answered(int rc)
{
	return rc == 0 ? API_ANSWERED : rc;
}

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
/* A sign-in form's two keys: acct of account_kind over tenant and email,
 * addr of address_kind over the client's address (session.c). */
void	 api_throttle_keys(struct http_req *r, const char *account_kind,
	    const char *address_kind, const char *tenant, const char *email,
	    char *acct, char *addr);

#endif
