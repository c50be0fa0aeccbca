/*
 * users.c - /v1/users and /v1/me: a tenant's people.  Deleting a user
 * deactivates it (history keeps pointing at it) and revokes its sessions.
 * A user created without a password is invited to choose one (access.c).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/auth.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"

#define USER_COLS "id, email, name, role, active, " \
	"password_hash IS NOT NULL AS has_password, " \
	"rfc3339(created_at) AS created_at, rfc3339(updated_at) AS updated_at, " \
	"version AS _version"

static const struct db_stmt user_stmts[] = {
	{ "user_insert", "INSERT INTO users (tenant_id, email, name, role, "
	  "password_hash) VALUES (current_tenant(), $1, $2, $3, $4) "
	  "RETURNING " USER_COLS },
	{ "user_get", "SELECT " USER_COLS " FROM users WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
	{ "user_lock", "SELECT version FROM users WHERE tenant_id = "
	  "current_tenant() AND id = $1 FOR UPDATE" },
	{ "user_update", "UPDATE users SET email = coalesce($2, email), "
	  "name = coalesce($3, name), role = coalesce($4, role), "
	  "password_hash = coalesce($5, password_hash), "
	  "active = coalesce($6::boolean, active), "
	  "updated_at = clock_timestamp(), version = version + 1 "
	  "WHERE tenant_id = current_tenant() AND id = $1 RETURNING " USER_COLS },
	{ "user_revoke_sessions", "UPDATE credentials SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND user_id = $1 AND "
	  "revoked_at IS NULL" },
	/* A deleted user's API keys go with them (apikeys.c). */
	{ "user_revoke_keys", "UPDATE credentials SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND kind = 'api_key' AND "
	  "created_by = $1 AND revoked_at IS NULL" },
	/* Filters are optional: NULL matches everything. */
	{ "user_list", "SELECT " USER_COLS ", created_at::text AS _k_ts, "
	  "id AS _k_id FROM users WHERE tenant_id = current_tenant() "
	  "AND ($4::text IS NULL OR role = $4) "
	  "AND ($5::text IS NULL OR email_key LIKE $5 || '%') "
	  "AND (created_at, id) > ($1::timestamptz, $2::uuid) "
	  "ORDER BY created_at, id LIMIT $3" },
};

static const char *const user_roles[] = { "admin", "instructor", "learner",
	NULL };

void
api_users_init(void)
{
	db_register(user_stmts, sizeof(user_stmts) / sizeof(*user_stmts));
}

int
api_user_insert(struct db_conn *c, const char *email, const char *name,
    const char *role, const char *hash, char *id)
{
	const char *p[4] = { email, name, role, hash };

	return api_exec_first(c, "user_insert", 4, p, id, 40);
}

static int
user_conflict(struct http_req *r, const char *email)
{
	if (strcmp(db_error_sqlstate(r->db), "23505") == 0)
		return http_problem(r, 409, "conflict", "Conflict",
		    "a user with email %s exists", email);
	return CD_ERR_DATABASE;
}

/* invitation_url: a new user's link, shown once (access.c); or NULL. */
static int
user_render(struct http_req *r, int status, PGresult *res,
    const char *invitation_url)
{
	char loc[96];
	json_t *o;

	if (status == 201) {
		snprintf(loc, sizeof(loc), "/v1/users/%s", api_col(res, 0, "id"));
		http_add_header(r, "Location", loc);
	}
	r->audit_type = "user";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", api_col(res, 0, "id"));
	if (api_etag(r, api_col(res, 0, "_version")))
		return 0;
	o = api_row(res, 0);
	if (o != NULL && invitation_url != NULL)
		json_object_set_new(o, "invitation_url",
		    json_string(invitation_url));
	return http_json(r, status, o);
}

int
api_user_create(struct http_req *r)
{
	static const char *const allowed[] = { "email", "name", "role",
		"password", NULL };
	char hash[crypto_pwhash_STRBYTES];
	struct api_v v;
	json_t *body;
	const char *email = NULL, *name = NULL, *role = NULL, *pw = NULL;
	PGresult *res = NULL;
	json_t *urls = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		email = v_str(&v, body, "", "email", 1, 3, 254);
		if (email != NULL && !v_email_ok(email))
			v_error(&v, "/email", "is not an email address");
		name = v_str(&v, body, "", "name", 1, 1, 200);
		role = v_enum(&v, body, "", "role", 1, user_roles);
		pw = v_str(&v, body, "", "password", 0, 10, 1024);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if (pw != NULL && (rc = auth_password_hash(pw, hash)) != 0)
		goto out;
	{
		const char *p[4] = { email, name, role, pw ? hash : NULL };

		if ((res = db_exec(r->db, "user_insert", 4, p)) == NULL) {
			rc = user_conflict(r, email);
			goto out;
		}
	}
	/* A user without a password is invited to choose one. */
	if (pw == NULL) {
		json_t *ids = json_pack("[s]", api_col(res, 0, "id"));

		rc = ids == NULL ? CD_ERR_NOMEM :
		    api_access_invite_new(r, ids, &urls);
		json_decref(ids);
		if (rc != 0)
			goto out;
	}
	rc = user_render(r, 201, res, urls == NULL ? NULL : json_string_value(
	    json_object_get(urls, api_col(res, 0, "id"))));
 out:
	json_decref(urls);
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_user_list(struct http_req *r)
{
	const char *role = http_query(r, "role");
	const char *email = http_query(r, "email");
	char prefix[256];

	/* The route table checked both (role is one of the roles). */
	if (email != NULL) {
		size_t i, j = 0;

		/* A prefix, not a pattern: escape LIKE's metacharacters. */
		for (i = 0; email[i] != '\0' && j + 2 < sizeof(prefix); i++) {
			char c = email[i];

			if (c == '%' || c == '_' || c == '\\')
				prefix[j++] = '\\';
			prefix[j++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
		prefix[j] = '\0';
	}
	{
		const char *p[2] = { role, email ? prefix : NULL };

		return api_page_exec(r, "user_list", 2, p);
	}
}

int
api_user_get(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	PGresult *res;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((res = api_exec_last(r, "user_get", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else
		rc = user_render(r, 200, res, NULL);
	PQclear(res);
	return api_result(rc);
}

int
api_user_update(struct http_req *r)
{
	static const char *const allowed[] = { "email", "name", "role",
		"password", "active", NULL };
	char hash[crypto_pwhash_STRBYTES];
	struct api_v v;
	json_t *body, *active = NULL;
	const char *email = NULL, *name = NULL, *role = NULL, *pw = NULL;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		email = v_str(&v, body, "", "email", 0, 3, 254);
		if (email != NULL && !v_email_ok(email))
			v_error(&v, "/email", "is not an email address");
		name = v_str(&v, body, "", "name", 0, 1, 200);
		role = v_enum(&v, body, "", "role", 0, user_roles);
		pw = v_str(&v, body, "", "password", 0, 10, 1024);
		active = json_object_get(body, "active");
		if (active != NULL && !json_is_boolean(active))
			v_error(&v, "/active", "must be true or false");
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	if ((rc = api_lock(r, "user_lock", r->params[0])) != 0) {
		rc = api_result(rc);
		goto out;
	}
	if (pw != NULL && (rc = auth_password_hash(pw, hash)) != 0)
		goto out;
	{
		const char *p[6] = { r->params[0], email, name, role,
		    pw ? hash : NULL, active == NULL ? NULL :
		    json_is_true(active) ? "true" : "false" };

		if ((res = db_exec(r->db, "user_update", 6, p)) == NULL) {
			rc = user_conflict(r, email);
			goto out;
		}
	}
	/* Deactivation, a new password or a new role end existing sessions. */
	if ((active != NULL && !json_is_true(active)) || pw != NULL ||
	    role != NULL) {
		const char *p[1] = { r->params[0] };
		PGresult *x = db_exec(r->db, "user_revoke_sessions", 1, p);

		if (x == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(x);
	}
	/* Links sent to an old address, or made moot, stop working. */
	if ((email != NULL || pw != NULL || (active != NULL &&
	    !json_is_true(active))) &&
	    (rc = api_access_revoke(r, r->params[0])) != 0)
		goto out;
	rc = user_render(r, 200, res, NULL);
 out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_user_delete(struct http_req *r)
{
	const char *p[6] = { r->params[0], NULL, NULL, NULL, NULL, "false" };
	PGresult *res;
	int rc;

	if ((rc = api_lock(r, "user_lock", r->params[0])) != 0)
		return api_result(rc);
	if ((res = db_exec(r->db, "user_update", 6, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	if ((res = db_exec(r->db, "user_revoke_sessions", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	if ((res = db_exec(r->db, "user_revoke_keys", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	r->audit_type = "user";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}

int
api_me(struct http_req *r)
{
	const char *p[1] = { r->who.user_id };
	PGresult *res;
	int rc;

	if (r->who.role == ROLE_PLATFORM)
		return http_json(r, 200, json_pack("{s:s, s:s}", "kind",
		    "platform_admin", "role", "platform"));
	if (r->who.is_key)
		return http_json(r, 200, json_pack("{s:s, s:s, s:s}", "kind",
		    "api_key", "id", r->who.token_id, "role",
		    r->who.role == ROLE_ADMIN ? "admin" : r->who.role ==
		    ROLE_INSTRUCTOR ? "instructor" : "learner"));
	if ((res = api_exec_last(r, "user_get", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) == 0)
		rc = CD_ERR_NOT_FOUND;
	else {
		json_t *o = api_row(res, 0);

		json_object_set_new(o, "kind", json_string("user"));
		json_object_set_new(o, "tenant_id",
		    json_string(r->who.tenant_id));
		rc = http_json(r, 200, o);
	}
	PQclear(res);
	return api_result(rc);
}
