/*
 * apikeys.c - /v1/api-keys: credentials for integrations.  The key is
 * shown once, at creation; afterwards only its metadata.  A key made by a
 * user acts with no more than that user may now (auth_resolve(),
 * migrations/0011): demoting the user demotes the key, deleting or
 * deactivating the user stops it (api/users.c revokes it on DELETE).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/auth.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "ctl.h"
#include "util.h"

#define KEY_COLS "id, name, role, rfc3339(created_at) AS created_at, " \
	"rfc3339(last_used_at) AS last_used_at"

static const struct db_stmt apikey_stmts[] = {
	{ "apikey_insert", "INSERT INTO credentials (tenant_id, kind, role, "
	  "name, token_hash, created_by) VALUES (current_tenant(), 'api_key', "
	  "$1, $2, decode($3, 'hex'), $4) RETURNING " KEY_COLS },
	{ "apikey_list", "SELECT " KEY_COLS ", created_at::text AS _k_ts, "
	  "id AS _k_id FROM credentials WHERE tenant_id = current_tenant() "
	  "AND kind = 'api_key' AND revoked_at IS NULL "
	  "AND (created_at, id) > ($1::timestamptz, $2::uuid) "
	  "ORDER BY created_at, id LIMIT $3" },
	/* Whose rights a key made by a key follows: its maker's maker. */
	{ "apikey_owner", "SELECT created_by FROM credentials WHERE "
	  "tenant_id = current_tenant() AND id = $1 AND kind = 'api_key'" },
	{ "apikey_revoke", "UPDATE credentials SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND id = $1 AND kind = 'api_key' "
	  "AND revoked_at IS NULL RETURNING id" },
};

void
api_apikeys_init(void)
{
	db_register(apikey_stmts, sizeof(apikey_stmts) / sizeof(*apikey_stmts));
}

/*
 * Create an API key in the current tenant: shared by the API and
 * cohortctl.  token_out receives the key (AUTH_TOKEN_LEN + 1 bytes).
 */
PGresult *
api_apikey_insert(struct db_conn *c, const char *name, const char *role,
    const char *created_by, char *token_out)
{
	char hex[AUTH_HASH_LEN * 2 + 1];
	const char *p[4] = { role, name, hex, created_by };

	auth_token_new(token_out);
	auth_token_hash_hex(token_out, hex);
	return db_exec(c, "apikey_insert", 4, p);
}

int
api_apikey_create(struct http_req *r)
{
	static const char *const allowed[] = { "name", "role", NULL };
	static const char *const roles[] = { "admin", "instructor", "learner",
		NULL };
	char token[AUTH_TOKEN_LEN + 1], loc[96], owner[40] = "";
	struct api_v v;
	json_t *body, *out;
	const char *name = NULL, *role = NULL;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		name = v_str(&v, body, "", "name", 1, 1, 200);
		role = v_enum(&v, body, "", "role", 1, roles);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	/*
	 * A key follows its creator's rights (migrations/0011): made with a
	 * key, it follows the user behind that key, so a key cannot mint
	 * one that outlives its creator's demotion.
	 */
	if (r->who.is_key) {
		const char *p[1] = { r->who.token_id };

		if ((res = db_exec(r->db, "apikey_owner", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
			snprintf(owner, sizeof(owner), "%s",
			    PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	} else if (r->who.user_id[0])
		snprintf(owner, sizeof(owner), "%s", r->who.user_id);
	if ((res = api_apikey_insert(r->db, name, role, owner[0] ? owner :
	    NULL, token)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	out = api_row(res, 0);
	json_object_set_new(out, "key", json_string(token));
	r->audit_type = "api_key";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", api_col(res, 0, "id"));
	snprintf(loc, sizeof(loc), "/v1/api-keys/%s", api_col(res, 0, "id"));
	http_add_header(r, "Location", loc);
	rc = http_json(r, 201, out);
 out:
	sodium_memzero(token, sizeof(token));
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_apikey_list(struct http_req *r)
{
	return api_page_exec(r, "apikey_list", 0, NULL);
}

int
api_apikey_delete(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int found;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = db_exec(r->db, "apikey_revoke", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found)
		return CD_ERR_NOT_FOUND;
	r->audit_type = "api_key";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}
