/*
 * tenants.c - /v1/tenants: the platform administrator's companies.
 * Creating a tenant creates its first administrator in the same
 * transaction.
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

#define TENANT_COLS "id, slug, name, rfc3339(created_at) AS created_at, " \
	"rfc3339(updated_at) AS updated_at, version AS _version"

static const struct db_stmt tenant_stmts[] = {
	{ "tenant_insert", "INSERT INTO tenants (slug, name) VALUES ($1, $2) "
	  "RETURNING " TENANT_COLS },
	{ "tenant_get", "SELECT " TENANT_COLS " FROM tenants WHERE id = $1" },
	{ "tenant_lock", "SELECT version FROM tenants WHERE id = $1 FOR UPDATE" },
	{ "tenant_update", "UPDATE tenants SET name = coalesce($2, name), "
	  "slug = coalesce($3, slug), updated_at = clock_timestamp(), "
	  "version = version + 1 WHERE id = $1 RETURNING " TENANT_COLS },
	{ "tenant_list", "SELECT " TENANT_COLS ", created_at::text AS _k_ts, "
	  "id AS _k_id FROM tenants WHERE (created_at, id) > ($1::timestamptz, "
	  "$2::uuid) ORDER BY created_at, id LIMIT $3" },
	{ "tenant_by_slug", "SELECT id FROM tenants WHERE slug = $1" },
	{ "tenant_admin_insert", "INSERT INTO users (tenant_id, email, name, "
	  "role, password_hash) VALUES (current_tenant(), $1, $2, 'admin', $3) "
	  "RETURNING id, email, role" },
};

void
api_tenants_init(void)
{
	db_register(tenant_stmts, sizeof(tenant_stmts) / sizeof(*tenant_stmts));
}

int
api_tenant_by_slug(struct db_conn *c, const char *slug, char *id)
{
	const char *p[1] = { slug };
	PGresult *res;
	int rc = CD_ERR_DATABASE;

	if ((res = db_exec(c, "tenant_by_slug", 1, p)) == NULL)
		return rc;
	rc = CD_ERR_NOT_FOUND;
	if (PQntuples(res) == 1) {
		snprintf(id, 40, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

static int
slug_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-' ||
	    strstr(s, "--") != NULL)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
api_tenant_insert(struct db_conn *c, const char *slug, const char *name,
    const char *email, const char *admin_name, const char *hash,
    PGresult **tenant, PGresult **admin)
{
	const char *tp[2] = { slug, name };
	const char *up[3] = { email, admin_name, hash };
	int rc;

	*admin = NULL;
	if ((*tenant = db_exec(c, "tenant_insert", 2, tp)) == NULL)
		return strcmp(db_error_sqlstate(c), "23505") == 0 ?
		    CD_ERR_CONFLICT : CD_ERR_DATABASE;
	/* The tenant's own rows are written in its scope. */
	if ((rc = db_set_tenant(c, PQgetvalue(*tenant, 0, 0))) != 0)
		return rc;
	if ((*admin = db_exec(c, "tenant_admin_insert", 3, up)) == NULL)
		return CD_ERR_DATABASE;
	return 0;
}

int
api_tenant_create(struct http_req *r)
{
	static const char *const top[] = { "slug", "name", "admin", NULL };
	static const char *const adm[] = { "email", "name", "password", NULL };
	struct api_v v;
	json_t *body, *admin = NULL, *out;
	const char *slug = NULL, *name = NULL, *email = NULL, *aname = NULL;
	const char *pw = NULL;
	char hash[crypto_pwhash_STRBYTES];
	PGresult *t = NULL, *u = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, top)) != NULL) {
		slug = v_str(&v, body, "", "slug", 1, 1, 63);
		if (slug != NULL && !slug_ok(slug))
			v_error(&v, "/slug", "lowercase letters, digits and "
			    "single dashes, not at either end");
		name = v_str(&v, body, "", "name", 1, 1, 200);
		admin = json_object_get(body, "admin");
		if (admin == NULL || !json_is_object(admin))
			v_error(&v, "/admin", "is required: an object with "
			    "email, name and password");
		else {
			v_only(&v, admin, "/admin", adm);
			email = v_str(&v, admin, "/admin", "email", 1, 3, 254);
			if (email != NULL && !v_email_ok(email))
				v_error(&v, "/admin/email", "is not an email "
				    "address");
			aname = v_str(&v, admin, "/admin", "name", 1, 1, 200);
			pw = v_str(&v, admin, "/admin", "password", 1, 10, 1024);
		}
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if ((rc = auth_password_hash(pw, hash)) != 0)
		goto out;
	if ((rc = api_tenant_insert(r->db, slug, name, email, aname, hash, &t,
	    &u)) != 0) {
		if (rc == CD_ERR_CONFLICT)
			rc = http_problem(r, 409, "conflict", "Conflict",
			    "a tenant with slug \"%s\" exists", slug);
		goto out;
	}
	out = api_row(t, 0);
	json_object_set_new(out, "admin", api_row(u, 0));
	r->audit_type = "tenant";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", PQgetvalue(t, 0, 0));
	snprintf(r->audit_tenant, sizeof(r->audit_tenant), "%s",
	    PQgetvalue(t, 0, 0));
	{
		char loc[96];

		snprintf(loc, sizeof(loc), "/v1/tenants/%s", PQgetvalue(t, 0, 0));
		http_add_header(r, "Location", loc);
		api_etag(r, api_col(t, 0, "_version"));
	}
	rc = http_json(r, 201, out);
 out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(t);
	PQclear(u);
	v_free(&v);
	return api_result(rc);
}

int
api_tenant_list(struct http_req *r)
{
	return api_page_exec(r, "tenant_list", 0, NULL);
}

int
api_tenant_get(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = api_exec_last(r, "tenant_get", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else if (api_etag(r, api_col(res, 0, "_version")))
		rc = 0;
	else
		rc = http_json(r, 200, api_row(res, 0));
	PQclear(res);
	return api_result(rc);
}

int
api_tenant_update(struct http_req *r)
{
	static const char *const allowed[] = { "name", "slug", NULL };
	struct api_v v;
	json_t *body;
	const char *name = NULL, *slug = NULL;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((body = v_begin(&v, r, allowed)) != NULL) {
		name = v_str(&v, body, "", "name", 0, 1, 200);
		slug = v_str(&v, body, "", "slug", 0, 1, 63);
		if (slug != NULL && !slug_ok(slug))
			v_error(&v, "/slug", "lowercase letters, digits and "
			    "single dashes, not at either end");
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	{
		const char *p[1] = { r->params[0] };

		if ((res = db_exec(r->db, "tenant_lock", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (PQntuples(res) == 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	if ((rc = api_if_match_fails(r, PQgetvalue(res, 0, 0))) != 0)
		goto out;
	PQclear(res);
	{
		const char *p[3] = { r->params[0], name, slug };

		if ((res = db_exec(r->db, "tenant_update", 3, p)) == NULL) {
			if (strcmp(db_error_sqlstate(r->db), "23505") == 0)
				http_problem(r, 409, "conflict", "Conflict",
				    "a tenant with slug \"%s\" exists", slug);
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	r->audit_type = "tenant";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", r->params[0]);
	snprintf(r->audit_tenant, sizeof(r->audit_tenant), "%s", r->params[0]);
	api_etag(r, api_col(res, 0, "_version"));
	rc = http_json(r, 200, api_row(res, 0));
 out:
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}
