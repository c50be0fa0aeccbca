/*
 * access.c - getting in: invitations, password resets and a password
 * change, all through one-time tokens (table access_tokens,
 * migrations/0013_access.sql).
 *
 * A user created without a password (POST /v1/users, an enrollment that
 * creates the learner, a batch) is invited in the transaction that
 * created it: a token, and an email queued in the outbox whose bodies say
 * "{link}" where the link goes (outbox.h).  The token is 32 random bytes
 * in base64url (auth_token_new); only its BLAKE2b-256 hash is stored,
 * and a presented token is found by that hash (access_token_take(), the
 * one lookup that starts without a tenant).  An admin caller also sees
 * the link once, in the response (Cache-Control: no-store, never kept
 * for an idempotent replay).  Using a token marks it used and revokes
 * the user's other live tokens; issuing one revokes the older ones of
 * its kind.
 *
 * A reset request answers 202 with the same body whether or not the
 * account exists, after the same work (a token and its hash are made
 * either way), and is throttled per account and per client address
 * whatever the outcome, so it can neither enumerate accounts nor flood a
 * mailbox.  Confirming a reset ends every session of the user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/auth.h"
#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "../daemon/outbox.h"
#include "api.h"
#include "util.h"

/* The password rules of users.c: 10 to 1024 bytes. */
#define PW_MIN			10
#define PW_MAX			1024
#define RESET_TTL_S		3600

/* Reset requests: 3 per account and 30 per address in 15 minutes. */
#define RESET_ACCOUNT		3
#define RESET_ADDRESS		30
#define RESET_WINDOW		"15 minutes"
#define MY_PASSWORD_TRIES	10	/* PUT /v1/me/password, a user a window */

#define URL_MAX			2048

static const struct db_stmt access_stmts[] = {
	{ "access_tenant", "SELECT id, slug, name FROM tenants "
	  "WHERE id = current_tenant()" },
	/* The users this transaction created without a password. */
	{ "access_new_users", "SELECT id, email, name FROM users "
	  "WHERE tenant_id = current_tenant() AND id = ANY($1::uuid[]) "
	  "AND password_hash IS NULL AND active AND created_at >= now() "
	  "ORDER BY created_at, id" },
	{ "access_user", "SELECT id, email, name, active, password_hash "
	  "FROM users WHERE tenant_id = current_tenant() AND id = $1 "
	  "FOR UPDATE" },
	{ "access_token_insert", "INSERT INTO access_tokens (tenant_id, kind, "
	  "user_id, token_hash, created_by, expires_at) VALUES "
	  "(current_tenant(), $1, $2, decode($3, 'hex'), $4, "
	  "now() + $5::int * interval '1 second') "
	  "RETURNING id, rfc3339(expires_at)" },
	/* A user's live tokens ($2: of one kind; $3: but this one). */
	{ "access_token_revoke", "UPDATE access_tokens SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND user_id = $1 "
	  "AND ($2::text IS NULL OR kind = $2) "
	  "AND ($3::uuid IS NULL OR id <> $3) "
	  "AND used_at IS NULL AND revoked_at IS NULL" },
	{ "access_token_take", "SELECT tenant_id, token_id, user_id, role, "
	  "state FROM access_token_take($1, decode($2, 'hex'), $3)" },
	{ "access_token_use", "UPDATE access_tokens SET used_at = now() "
	  "WHERE tenant_id = current_tenant() AND id = $1 RETURNING id" },
	{ "access_password_set", "UPDATE users SET password_hash = $2, "
	  "updated_at = clock_timestamp(), version = version + 1 "
	  "WHERE tenant_id = current_tenant() AND id = $1 RETURNING id" },
	/* A user's sessions ($2: but this one). */
	{ "access_sessions_revoke", "UPDATE credentials SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND kind = 'session' "
	  "AND user_id = $1 AND ($2::uuid IS NULL OR id <> $2) "
	  "AND revoked_at IS NULL" },
	{ "access_lookup", "SELECT tenant_id, user_id FROM login_lookup($1, $2)" },
	/* Count a reset request against a key; its count and the seconds
	 * until its window ends. */
	{ "access_throttle", "INSERT INTO login_throttle AS t (key_hash, "
	  "failures, window_start) VALUES (decode($1, 'hex'), 1, now()) "
	  "ON CONFLICT (key_hash) DO UPDATE SET "
	  "failures = CASE WHEN t.window_start <= now() - interval '"
	  RESET_WINDOW "' THEN 1 ELSE t.failures + 1 END, "
	  "window_start = CASE WHEN t.window_start <= now() - interval '"
	  RESET_WINDOW "' THEN now() ELSE t.window_start END "
	  "RETURNING failures, greatest(1, ceil(extract(epoch FROM "
	  "window_start + interval '" RESET_WINDOW "' - now())))::int" },
};

static int invitation_ttl_s;

void
api_access_init(const struct cfg *conf)
{
	invitation_ttl_s = conf->invitation_ttl_s;
	db_register(access_stmts, sizeof(access_stmts) / sizeof(*access_stmts));
}

/* The tenant of the open transaction, for links and emails. */
struct access_tenant {
	char	 id[40];
	char	 slug[64];
	char	*name;
};

static int
tenant_load(struct http_req *r, struct access_tenant *t)
{
	PGresult *res;

	memset(t, 0, sizeof(*t));
	if ((res = db_exec(r->db, "access_tenant", 0, NULL)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return CD_ERR_INTERNAL;
	}
	snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(t->slug, sizeof(t->slug), "%s", PQgetvalue(res, 0, 1));
	t->name = strdup(PQgetvalue(res, 0, 2));
	PQclear(res);
	return t->name == NULL ? CD_ERR_NOMEM : 0;
}

static void
tenant_clear(struct access_tenant *t)
{
	free(t->name);
	t->name = NULL;
}

/* s with HTML's special characters escaped; the caller frees it. */
static char *
html_escape(const char *s)
{
	size_t n = 1;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 :
		    *p == '"' || *p == '\'' ? 6 : 1;
	if ((out = o = malloc(n)) == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" :
		    *s == '>' ? "&gt;" : *s == '"' ? "&quot;" :
		    *s == '\'' ? "&#39;" : NULL;

		if (e == NULL)
			*o++ = *s;
		else {
			memcpy(o, e, strlen(e));
			o += strlen(e);
		}
	}
	*o = '\0';
	return out;
}

/* The link for a token: COHORTD_PUBLIC_URL (or the listener), page. */
static void
link_build(char *out, size_t len, const char *page, const char *slug,
    const char *token)
{
	outbox_link(out, len, outbox_link_base(), page, slug, token);
}

/* A lifetime as people say it: "7 days", "1 hour". */
static void
lifetime(char *out, size_t len, int s)
{
	int days = s / 86400, hours = s / 3600;

	if (days >= 1)
		snprintf(out, len, "%d day%s", days, days == 1 ? "" : "s");
	else
		snprintf(out, len, "%d hour%s", hours > 0 ? hours : 1,
		    hours == 1 ? "" : "s");
}

/*
 * Queue the email that carries a one-time link ("{link}" in the bodies),
 * made when it is sent (outbox.h): an invitation for user_id (named
 * name), or a password reset for the active account of email, if any.
 */
static int
mail_queue(struct http_req *r, const struct access_tenant *t,
    const char *kind, const char *email, const char *name,
    const char *user_id)
{
	struct outbox_email m = { 0 };
	char *hname = html_escape(name != NULL ? name : "");
	char *htenant = html_escape(t->name);
	char *subject = NULL, *text = NULL, *html = NULL, life[32];
	int invite = strcmp(kind, "invitation") == 0, rc = CD_ERR_NOMEM;

	lifetime(life, sizeof(life), invite ? invitation_ttl_s :
	    RESET_TTL_S);

	if (hname == NULL || htenant == NULL)
		goto out;
	if (invite) {
		if (asprintf(&subject, "Your invitation to %s", t->name) < 0)
			subject = NULL;
		if (asprintf(&text, "Hello %s,\n\n%s invites you to its "
		    "programs. Choose your password here:\n\n{link}\n\nThe "
		    "link works once, for %s. If you did not expect this "
		    "invitation, ignore this email.\n", name, t->name,
		    life) < 0)
			text = NULL;
		if (asprintf(&html, "<p>Hello %s,</p>\n<p>%s invites you to "
		    "its programs.</p>\n<p><a href=\"{link}\">Choose your "
		    "password</a></p>\n<p>The link works once, for %s. If you "
		    "did not expect this invitation, ignore this "
		    "email.</p>\n", hname, htenant, life) < 0)
			html = NULL;
	} else {
		if (asprintf(&subject, "Reset your password for %s",
		    t->name) < 0)
			subject = NULL;
		if (asprintf(&text, "Hello,\n\nSomeone, we hope you, asked "
		    "to reset your password for %s. Choose a new one here:\n\n"
		    "{link}\n\nThe link works once, for %s. If you did not "
		    "ask for this, ignore this email: your password stays as "
		    "it is.\n", t->name, life) < 0)
			text = NULL;
		if (asprintf(&html, "<p>Hello,</p>\n<p>Someone, we hope "
		    "you, asked to reset your password for %s.</p>\n<p><a "
		    "href=\"{link}\">Choose a new password</a></p>\n<p>The "
		    "link works once, for %s. If you did not ask for this, "
		    "ignore this email: your password stays as it "
		    "is.</p>\n", htenant, life) < 0)
			html = NULL;
	}
	if (subject == NULL || text == NULL || html == NULL)
		goto out;
	m.to = email;
	m.event = kind;
	m.subject = subject;
	m.text = text;
	m.html = html;
	m.mint_kind = kind;
	m.mint_user = invite ? user_id : NULL;
	m.mint_email = invite ? NULL : email;
	m.mint_page = invite ? "accept-invitation" : "reset-password";
	m.mint_ttl_s = invite ? invitation_ttl_s : RESET_TTL_S;
	rc = outbox_email(r->db, t->id, &m);
 out:
	free(hname);
	free(htenant);
	free(subject);
	free(text);
	free(html);
	return rc;
}

/*
 * Issue a token of kind for user_id in r's transaction (revoking the
 * user's older ones of that kind first when revoke_old) and queue its
 * email.  url gets the link (URL_MAX bytes), expires its end when not
 * NULL (40 bytes).  0 or CD_ERR_*.
 */
static int
token_issue(struct http_req *r, const struct access_tenant *t,
    const char *kind, const char *user_id, const char *email,
    const char *name, int revoke_old, char *url, char *expires)
{
	char token[AUTH_TOKEN_LEN + 1], hex[AUTH_HASH_LEN * 2 + 1], ttl[16];
	const char *by = r->who.user_id[0] != '\0' && !r->who.is_key &&
	    strcmp(r->who.user_id, user_id) != 0 ? r->who.user_id : NULL;
	int invite = strcmp(kind, "invitation") == 0, rc;
	PGresult *res = NULL;

	if (revoke_old) {
		const char *p[3] = { user_id, kind, NULL };

		if (db_rows(r->db, "access_token_revoke", 3, p) < 0)
			return CD_ERR_DATABASE;
	}
	auth_token_new(token);
	auth_token_hash_hex(token, hex);
	snprintf(ttl, sizeof(ttl), "%d", invite ? invitation_ttl_s :
	    RESET_TTL_S);
	{
		const char *p[5] = { kind, user_id, hex, by, ttl };

		if ((res = db_exec(r->db, "access_token_insert", 5, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	link_build(url, URL_MAX, invite ? "accept-invitation" :
	    "reset-password", t->slug, token);
	if (expires != NULL)
		snprintf(expires, 40, "%s", PQgetvalue(res, 0, 1));
	rc = mail_queue(r, t, kind, email, name, user_id);
 out:
	sodium_memzero(token, sizeof(token));
	PQclear(res);
	return rc;
}

/*
 * Mark r's response as holding a link shown once: member, the JSON
 * member that holds it (a replay answers without it), or NULL for the
 * whole response (a replay is refused).
 */
static void
secret_response(struct http_req *r, const char *member)
{
	if (!r->secret)
		http_add_header(r, "Cache-Control", "no-store");
	r->secret = 1;
	r->secret_member = member;
}

int
api_access_revoke(struct http_req *r, const char *user_id)
{
	const char *p[3] = { user_id, NULL, NULL };

	return db_rows(r->db, "access_token_revoke", 3, p) < 0 ?
	    CD_ERR_DATABASE : 0;
}

int
api_access_invite_new(struct http_req *r, json_t *user_ids, json_t **urls)
{
	struct access_tenant t = { .name = NULL };
	char url[URL_MAX];
	PGresult *res = NULL;
	char *arr = NULL;
	size_t i, n = 0, at;
	json_t *id;
	int rc = CD_ERR_INTERNAL;

	if ((*urls = json_object()) == NULL)
		return CD_ERR_NOMEM;
	json_array_foreach(user_ids, i, id)
		if (json_is_string(id))
			n += json_string_length(id) + 1;
	if (n == 0)
		return 0;
	if ((arr = malloc(n + 2)) == NULL)
		return CD_ERR_NOMEM;
	arr[0] = '{';
	at = 1;
	json_array_foreach(user_ids, i, id) {
		const char *s = json_string_value(id);

		/* Only ids from the database get here: no quoting needed. */
		if (s == NULL || !api_uuid_ok(s))
			continue;
		if (at > 1)
			arr[at++] = ',';
		memcpy(arr + at, s, strlen(s));
		at += strlen(s);
	}
	arr[at++] = '}';
	arr[at] = '\0';
	{
		const char *p[1] = { arr };

		if ((res = db_exec(r->db, "access_new_users", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if ((rc = PQntuples(res) == 0 ? 0 : tenant_load(r, &t)) != 0)
		goto out;
	for (int k = 0; k < PQntuples(res); k++) {
		if ((rc = token_issue(r, &t, "invitation", PQgetvalue(res, k, 0),
		    PQgetvalue(res, k, 1), PQgetvalue(res, k, 2), 0, url,
		    NULL)) != 0)
			goto out;
		/* Only an administrator may see (and hand on) the link. */
		if (r->who.role == ROLE_ADMIN) {
			json_object_set_new(*urls, PQgetvalue(res, k, 0),
			    json_string(url));
			secret_response(r, "invitation_url");
		}
	}
 out:
	sodium_memzero(url, sizeof(url));
	tenant_clear(&t);
	PQclear(res);
	free(arr);
	return rc;
}

/* POST /v1/users/{id}/invitation: a new link; the older ones stop. */
int
api_invitation_create(struct http_req *r)
{
	struct access_tenant t = { .name = NULL };
	char url[URL_MAX], expires[40];
	const char *p[1] = { r->params[0] };
	PGresult *u = NULL;
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((u = db_exec(r->db, "access_user", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	if (PQntuples(u) == 0 || strcmp(PQgetvalue(u, 0, 3), "t") != 0) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	if (!PQgetisnull(u, 0, 4)) {
		rc = http_problem(r, 409, "conflict", "Conflict", "the user "
		    "has a password; a forgotten one is reset through "
		    "POST /v1/auth/password-reset");
		goto out;
	}
	if ((rc = tenant_load(r, &t)) != 0)
		goto out;
	if ((rc = token_issue(r, &t, "invitation", PQgetvalue(u, 0, 0),
	    PQgetvalue(u, 0, 1), PQgetvalue(u, 0, 2), 1, url, expires)) != 0)
		goto out;
	secret_response(r, NULL);
	api_audited(r, "user", r->params[0]);
	rc = http_json(r, 201, json_pack("{s:s, s:s, s:s}", "user_id",
	    PQgetvalue(u, 0, 0), "invitation_url", url, "expires_at",
	    expires));
 out:
	sodium_memzero(url, sizeof(url));
	tenant_clear(&t);
	PQclear(u);
	return api_result(rc);
}

/*
 * Set a password through a token of kind: the token is used, the user's
 * other tokens revoked (and, for a reset, every session), and a new
 * session answered as a login's.
 */
static int
token_redeem(struct http_req *r, const char *kind)
{
	static const char *const allowed[] = { "token", "password", "tenant",
		NULL };
	char hex[AUTH_HASH_LEN * 2 + 1], hash[crypto_pwhash_STRBYTES];
	const char *token = NULL, *pw = NULL, *slug = NULL, *state;
	struct api_v v;
	json_t *body;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		token = v_str(&v, body, "", "token", 1, 1, 256);
		pw = v_str(&v, body, "", "password", 1, PW_MIN, PW_MAX);
		slug = v_str(&v, body, "", "tenant", 0, 1, 63);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	auth_token_hash_hex(token, hex);
	{
		const char *p[3] = { kind, hex, slug };

		if ((res = db_exec(r->db, "access_token_take", 3, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	state = PQntuples(res) == 1 ? PQgetvalue(res, 0, 4) : "unknown";
	if (strcmp(state, "ok") != 0) {
		rc = http_problem(r, 400, "invalid-token", "Bad Request",
		    "%s", strcmp(state, "used") == 0 ? "this link was used "
		    "already" : strcmp(state, "expired") == 0 ? "this link "
		    "has expired" : strcmp(state, "revoked") == 0 ? "this "
		    "link was replaced by a newer one" : "this link is not "
		    "valid");
		goto out;
	}
	if ((rc = auth_password_hash(pw, hash)) != 0)
		goto out;
	{
		const char *user = PQgetvalue(res, 0, 2);
		const char *tok = PQgetvalue(res, 0, 1);
		const char *p1[2] = { user, hash };
		const char *p2[1] = { tok };
		const char *p3[3] = { user, NULL, tok };
		const char *p4[2] = { user, NULL };

		if (db_rows(r->db, "access_password_set", 2, p1) != 1 ||
		    db_rows(r->db, "access_token_use", 1, p2) != 1 ||
		    db_rows(r->db, "access_token_revoke", 3, p3) < 0 ||
		    (strcmp(kind, "password_reset") == 0 &&
		    db_rows(r->db, "access_sessions_revoke", 2, p4) < 0)) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	http_add_header(r, "Cache-Control", "no-store");
	rc = api_session_issue(r, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2),
	    PQgetvalue(res, 0, 3));
 out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	v_free(&v);
	return rc;
}

int
api_invitation_accept(struct http_req *r)
{
	return api_result(token_redeem(r, "invitation"));
}

int
api_password_reset_confirm(struct http_req *r)
{
	return api_result(token_redeem(r, "password_reset"));
}

/* Count this request against key: 0 within limit, else the seconds the
 * caller should wait; <0 on error. */
static int
throttle_hit(struct http_req *r, const char *key, int limit)
{
	const char *p[1] = { key };
	PGresult *res;
	int n, wait;

	if ((res = db_exec(r->db, "access_throttle", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	n = atoi(PQgetvalue(res, 0, 0));
	wait = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);
	return n > limit ? (wait > 0 ? wait : 1) : 0;
}

/* The 429 for a throttled request: wait seconds, or wait <0 an error. */
static int
throttled(struct http_req *r, int wait, const char *what)
{
	char ra[16];

	if (wait < 0)
		return wait;
	snprintf(ra, sizeof(ra), "%d", wait);
	http_add_header(r, "Retry-After", ra);
	return http_problem(r, 429, "too-many-attempts", "Too Many Requests",
	    "too many %s; try again in %d seconds", what, wait);
}

/* POST /v1/auth/password-reset: 202 whoever asks (see the top). */
int
api_password_reset(struct http_req *r)
{
	static const char *const allowed[] = { "tenant", "email", NULL };
	struct access_tenant t = { .name = NULL };
	char acct[65], addr[65];
	const char *tenant = NULL, *email = NULL;
	struct api_v v;
	json_t *body;
	PGresult *u = NULL;
	int rc = CD_ERR_INTERNAL, wait;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		tenant = v_str(&v, body, "", "tenant", 1, 1, 63);
		email = v_str(&v, body, "", "email", 1, 1, 254);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	api_throttle_keys(r, "reset-account", "reset-address", tenant, email,
	    acct, addr);
	if ((wait = throttle_hit(r, acct, RESET_ACCOUNT)) == 0)
		wait = throttle_hit(r, addr, RESET_ADDRESS);
	if (wait != 0) {
		rc = throttled(r, wait, "password reset requests");
		goto out;
	}
	/*
	 * The same work whoever asks: the tenant's scope set (login_lookup;
	 * whether it finds the account is not looked at) and one message
	 * queued for the email as given.  The dispatcher finds the account
	 * when it sends, makes the token then, and sends nothing when there
	 * is none.  Only an unknown tenant queues nothing.
	 */
	{
		const char *p[2] = { tenant, email };

		if ((u = db_exec(r->db, "access_lookup", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if ((rc = tenant_load(r, &t)) == 0)
		rc = mail_queue(r, &t, "password_reset", email, NULL, NULL);
	else if (rc == CD_ERR_INTERNAL)
		rc = 0;			/* no such tenant */
	if (rc != 0)
		goto out;
	rc = http_json(r, 202, json_pack("{s:s}", "detail", "if the tenant "
	    "has an active account with this email, a link to choose a new "
	    "password is on its way there; it works once, for one hour"));
 out:
	tenant_clear(&t);
	PQclear(u);
	v_free(&v);
	return api_result(rc);
}

/* PUT /v1/me/password: the current password, then the new one. */
int
api_my_password(struct http_req *r)
{
	static const char *const allowed[] = { "current", "new", NULL };
	char hash[crypto_pwhash_STRBYTES], key[65];
	const char *cur = NULL, *pw = NULL;
	struct api_v v;
	json_t *body;
	PGresult *u = NULL;
	int rc = CD_ERR_INTERNAL, wait;

	if (r->who.is_key || r->who.user_id[0] == '\0')
		return http_problem(r, 403, "forbidden", "Forbidden",
		    "only a person logged in has a password to change");
	if ((body = v_begin(&v, r, allowed)) != NULL) {
		cur = v_str(&v, body, "", "current", 1, 1, PW_MAX);
		pw = v_str(&v, body, "", "new", 1, PW_MIN, PW_MAX);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	/* Someone holding a session must not guess the password freely. */
	api_throttle_key("my-password", r->who.tenant_id, r->who.user_id,
	    key);
	if ((wait = throttle_hit(r, key, MY_PASSWORD_TRIES)) != 0) {
		rc = throttled(r, wait, "wrong current passwords");
		goto out;
	}
	{
		const char *p[1] = { r->who.user_id };

		if ((u = db_exec(r->db, "access_user", 1, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	if (PQntuples(u) != 1) {
		rc = CD_ERR_NOT_FOUND;
		goto out;
	}
	rc = auth_password_verify(PQgetisnull(u, 0, 4) ? NULL :
	    PQgetvalue(u, 0, 4), cur);
	if (rc == CD_ERR_DENIED) {
		/* Counted outside the request's transaction, which rolls
		   back. */
		db_rollback(r->db);
		if ((wait = throttle_hit(r, key, MY_PASSWORD_TRIES)) < 0) {
			rc = wait;
			goto out;
		}
		v_error(&v, "/current", "is not your current password");
		rc = v_failed(&v, r);
		goto out;
	}
	if (rc != 0 || (rc = auth_password_hash(pw, hash)) != 0)
		goto out;
	{
		const char *p1[2] = { r->who.user_id, hash };
		const char *p2[2] = { r->who.user_id, r->who.token_id };
		const char *p3[3] = { r->who.user_id, "password_reset", NULL };

		/* Other sessions end; so do pending reset links. */
		if (db_rows(r->db, "access_password_set", 2, p1) != 1 ||
		    db_rows(r->db, "access_sessions_revoke", 2, p2) < 0 ||
		    db_rows(r->db, "access_token_revoke", 3, p3) < 0) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	api_audited(r, "user", r->who.user_id);
	rc = http_body(r, 204, "application/json", NULL, 0);
 out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(u);
	v_free(&v);
	return api_result(rc);
}
