/*
 * idem.h - Idempotency-Key for POST requests.
 *
 * The key, a hash of the request and (once it succeeded) the response
 * are kept per tenant for 24 hours.  A replay returns the stored response;
 * the same key with a different request is 422; a request still in
 * progress under the key is 409.  The claim is committed before the
 * request's own transaction starts, so a concurrent duplicate sees it;
 * the response is stored in the request's transaction, so it exists
 * exactly when the request's effects do.  A claim left by a crashed
 * process expires after a minute.
 */
#ifndef COHORTD_IDEM_H
#define COHORTD_IDEM_H

#include <stddef.h>

struct db_conn;

enum idem_state {
	IDEM_NEW,		/* claimed: run the request, then idem_store */
	IDEM_REPLAY,		/* done before: *status, *location, *etag,
				   *body set */
	IDEM_IN_PROGRESS,	/* 409 */
	IDEM_MISMATCH,		/* 422: the key was used for another request */
};

void	 idem_init(void);
/* Is key acceptable as an Idempotency-Key (1..255 visible ASCII)? */
int	 idem_key_ok(const char *key);
/* Hex BLAKE2b of the request (method, path, body); out has 65 bytes. */
void	 idem_request_hash(const char *method, const char *path,
	    const char *body, size_t len, char *out);
/*
 * Keys are scoped by tenant (the caller's; NULL or "" for the platform
 * administrator).
 *
 * Claim key inside c's open transaction (tenant already set).  On
 * IDEM_NEW the claim is committed and c has NO open transaction.  On
 * IDEM_REPLAY the caller frees *location, *etag and *body (each NULL when
 * the original had none); *body is NULL when the response was not kept
 * (it held a secret).
 */
int	 idem_claim(struct db_conn *c, const char *tenant, const char *key,
	    const char *hash, enum idem_state *state, int *status,
	    char **location, char **etag, char **body);
/* Record the response of a claimed key (in the request's transaction)
 * with the headers a replay repeats (location, etag: NULL when absent);
 * body NULL keeps the status only. */
int	 idem_store(struct db_conn *c, const char *tenant, const char *key,
	    int status, const char *location, const char *etag,
	    const char *body);
/* Drop a claim whose request failed, so the key can be retried. */
int	 idem_forget(struct db_conn *c, const char *tenant, const char *key);

#endif
