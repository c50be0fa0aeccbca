/*
 * ctl.h - what cohortctl (daemon/ctl.c) calls of the API files: each
 * runs in the caller's transaction on c.
 */
#ifndef COHORTD_API_CTL_H
#define COHORTD_API_CTL_H

#include <stdio.h>

#include <libpq-fe.h>

struct db_conn;

/* tenants.c */
/*
 * Create a tenant and its first administrator (password already hashed)
 * in c's transaction, which is left scoped to the new tenant.  The caller
 * PQclears *tenant and *admin.  CD_ERR_CONFLICT: the slug is taken.
 */
int	api_tenant_insert(struct db_conn *c, const char *slug,
	    const char *name, const char *email, const char *admin_name,
	    const char *hash, PGresult **tenant, PGresult **admin);
/* The id (40 bytes) of the tenant slug: 0, CD_ERR_NOT_FOUND or
 * CD_ERR_DATABASE. */
int	api_tenant_by_slug(struct db_conn *c, const char *slug, char *id);

/* apikeys.c: a key for c's tenant; token_out receives the token. */
PGresult *api_apikey_insert(struct db_conn *c, const char *name,
	    const char *role, const char *created_by, char *token_out);

/* demo.c: load the demo program into a "demo" tenant, in c's platform
 * transaction.  password receives the demo accounts' password.
 * CD_ERR_CONFLICT: the demo tenant exists already. */
int	api_demo_seed(struct db_conn *c, char *password, size_t pwlen,
	    FILE *out);

#endif
