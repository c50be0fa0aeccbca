/*
 * idem.c - Idempotency-Key records (see idem.h for the protocol).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "../common/err.h"
#include "idem.h"

/*
 * The scope is explicit ($1), not current_tenant(): a platform request
 * may move into a tenant's scope (creating it) before its key is stored.
 */
#define IDEM_TENANT "$1::uuid"

static const struct db_stmt idem_stmts[] = {
	{ "idem_claim", "INSERT INTO idempotency_keys (tenant_id, key, "
	  "request_hash) VALUES (" IDEM_TENANT ", $2, decode($3, 'hex')) "
	  "ON CONFLICT (tenant_id, key) DO NOTHING RETURNING 1" },
	{ "idem_get", "SELECT encode(request_hash, 'hex'), state, status, "
	  "location, body, etag, created_at < now() - interval '24 hours', "
	  "state = 'in_progress' AND created_at < now() - interval '60 seconds' "
	  "FROM idempotency_keys WHERE tenant_id = " IDEM_TENANT
	  " AND key = $2 FOR UPDATE" },
	{ "idem_delete", "DELETE FROM idempotency_keys WHERE tenant_id = "
	  IDEM_TENANT " AND key = $2" },
	{ "idem_store", "UPDATE idempotency_keys SET state = 'done', "
	  "status = $3, location = $4, body = $5, etag = $6 WHERE tenant_id = "
	  IDEM_TENANT " AND key = $2" },
};

void
idem_init(void)
{
	db_register(idem_stmts, sizeof(idem_stmts) / sizeof(*idem_stmts));
}

int
idem_key_ok(const char *key)
{
	size_t n = strlen(key);

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (key[i] < 0x21 || key[i] > 0x7e)
			return 0;
	return 1;
}

void
idem_request_hash(const char *method, const char *path, const char *body,
    size_t len, char *out)
{
	crypto_generichash_state st;
	unsigned char h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)method,
	    strlen(method) + 1);
	crypto_generichash_update(&st, (const unsigned char *)path,
	    strlen(path) + 1);
	if (body != NULL)
		crypto_generichash_update(&st, (const unsigned char *)body, len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* The nil tenant holds the platform administrator's keys. */
static const char *
idem_scope(const char *tenant)
{
	return tenant != NULL && tenant[0] != '\0' ? tenant :
	    "00000000-0000-0000-0000-000000000000";
}

int
idem_claim(struct db_conn *c, const char *tenant, const char *key,
    const char *hash, enum idem_state *state, int *status, char **location,
    char **etag, char **body)
{
	const char *p[3] = { idem_scope(tenant), key, hash };
	PGresult *r = NULL;
	int rc = 0;

	*location = NULL;
	*etag = NULL;
	*body = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = db_exec(c, "idem_claim", 3, p)) == NULL)
			return CD_ERR_DATABASE;
		if (PQntuples(r) == 1) {
			PQclear(r);
			*state = IDEM_NEW;
			return db_commit(c);
		}
		PQclear(r);
		if ((r = db_exec(c, "idem_get", 2, p)) == NULL)
			return CD_ERR_DATABASE;
		if (PQntuples(r) == 0) {	/* deleted meanwhile: claim again */
			PQclear(r);
			continue;
		}
		/* Expired, or abandoned by a process that died: take it over. */
		if (PQgetvalue(r, 0, 6)[0] == 't' ||
		    PQgetvalue(r, 0, 7)[0] == 't') {
			PQclear(r);
			if ((r = db_exec(c, "idem_delete", 2, p)) == NULL)
				return CD_ERR_DATABASE;
			PQclear(r);
			continue;
		}
		if (strcmp(PQgetvalue(r, 0, 0), hash) != 0)
			*state = IDEM_MISMATCH;
		else if (strcmp(PQgetvalue(r, 0, 1), "done") != 0)
			*state = IDEM_IN_PROGRESS;
		else {
			*state = IDEM_REPLAY;
			*status = atoi(PQgetvalue(r, 0, 2));
			if (!PQgetisnull(r, 0, 3))
				*location = strdup(PQgetvalue(r, 0, 3));
			if (!PQgetisnull(r, 0, 5))
				*etag = strdup(PQgetvalue(r, 0, 5));
			/* NULL: the response held a secret and was not kept. */
			if (!PQgetisnull(r, 0, 4) &&
			    (*body = strdup(PQgetvalue(r, 0, 4))) == NULL)
				rc = CD_ERR_NOMEM;
		}
		PQclear(r);
		return rc;
	}
	return CD_ERR_CONFLICT;
}

int
idem_store(struct db_conn *c, const char *tenant, const char *key,
    int status, const char *location, const char *etag, const char *body)
{
	char st[16];
	const char *p[6] = { idem_scope(tenant), key, st, location, body, etag };
	PGresult *r;

	snprintf(st, sizeof(st), "%d", status);
	if ((r = db_exec(c, "idem_store", 6, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

int
idem_forget(struct db_conn *c, const char *tenant, const char *key)
{
	const char *p[2] = { idem_scope(tenant), key };
	PGresult *r;

	if ((r = db_exec(c, "idem_delete", 2, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}
