/*
 * session.c - /v1/auth/login and /v1/auth/logout, and the session a
 * login (or a password set through a one-time link, access.c) starts.
 *
 * Wrong tenant, wrong email and wrong password look the same from outside:
 * the same 401, after the same Argon2id work.  Failures (only failures)
 * are counted per account and per client address in login_throttle.
 * An account past its limit is refused (429 with Retry-After) until its
 * window ends, whoever asks: that bounds guessing at any one password.
 * An address past its limit is not refused: a correct password of an
 * account that is not throttled still logs in (behind a NAT or a proxy
 * one address is many people), and only its wrong guesses are answered
 * 429 with Retry-After, telling a sprayer to back off.  The client
 * address is the peer's, or X-Forwarded-For's when the peer is one of
 * COHORTD_TRUSTED_PROXIES (http_client_addr()).  Every answer
 * says where the caller stands, in the IETF draft's RateLimit-Policy and
 * RateLimit headers (draft-ietf-httpapi-ratelimit-headers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/auth.h"
#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"

/* Guessing a password gets 5 tries per account and 50 per address in
 * 15 minutes: enough for typos, useless for a dictionary. */
#define THROTTLE_ACCOUNT	5
#define THROTTLE_ADDRESS	50
#define THROTTLE_WINDOW		"15 minutes"
#define THROTTLE_WINDOW_S	900

/* Where the caller stands against each limit: [0] account, [1] address. */
struct throttle {
	int	 known;			/* looked up */
	int	 failures[2];
	int	 reset_s[2];		/* until the window ends */
};

static const struct db_stmt session_stmts[] = {
	{ "throttle_get", "SELECT encode(key_hash, 'hex'), failures, "
	  "greatest(1, ceil(extract(epoch FROM window_start + interval '"
	  THROTTLE_WINDOW "' - now())))::int FROM login_throttle "
	  "WHERE key_hash IN (decode($1, 'hex'), decode($2, 'hex')) "
	  "AND window_start > now() - interval '" THROTTLE_WINDOW "'" },
	{ "throttle_fail", "INSERT INTO login_throttle AS t (key_hash, failures, "
	  "window_start) VALUES (decode($1, 'hex'), 1, now()) "
	  "ON CONFLICT (key_hash) DO UPDATE SET "
	  "failures = CASE WHEN t.window_start <= now() - interval '"
	  THROTTLE_WINDOW "' THEN 1 ELSE t.failures + 1 END, "
	  "window_start = CASE WHEN t.window_start <= now() - interval '"
	  THROTTLE_WINDOW "' THEN now() ELSE t.window_start END" },
	{ "throttle_clear", "DELETE FROM login_throttle WHERE key_hash = "
	  "decode($1, 'hex')" },
	{ "login_lookup", "SELECT tenant_id, user_id, role, password_hash "
	  "FROM login_lookup($1, $2)" },
	{ "session_insert", "INSERT INTO credentials (tenant_id, kind, user_id, "
	  "role, token_hash, expires_at) VALUES (current_tenant(), 'session', "
	  "$1, $2, decode($3, 'hex'), now() + $4::int * interval '1 second') "
	  "RETURNING id, rfc3339(expires_at)" },
	{ "credential_revoke", "UPDATE credentials SET revoked_at = now() "
	  "WHERE tenant_id = current_tenant() AND id = $1 AND revoked_at IS NULL" },
};

static int session_ttl_s;

void
api_session_init(const struct cfg *conf)
{
	session_ttl_s = conf->session_ttl_s;
	db_register(session_stmts, sizeof(session_stmts) /
	    sizeof(*session_stmts));
}

void
api_throttle_key(const char *kind, const char *a, const char *b, char *out)
{
	crypto_generichash_state st;
	unsigned char h[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)kind,
	    strlen(kind) + 1);
	crypto_generichash_update(&st, (const unsigned char *)a, strlen(a) + 1);
	if (b != NULL)
		for (; *b != '\0'; b++) {
			unsigned char c = (unsigned char)*b;

			c = (unsigned char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			crypto_generichash_update(&st, &c, 1);
		}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

void
api_throttle_keys(struct http_req *r, const char *account_kind,
    const char *address_kind, const char *tenant, const char *email,
    char *acct, char *addr)
{
	char ip[64];

	http_client_addr(r, ip, sizeof(ip));
	api_throttle_key(account_kind, tenant, email, acct);
	api_throttle_key(address_kind, ip, NULL, addr);
}

/*
 * RateLimit-Policy and RateLimit for th, with spent more failures (this
 * request's) counted: the limit closest to running out is the one named.
 */
static void
throttle_headers(struct http_req *r, const struct throttle *th, int spent)
{
	static const char *const name[2] = { "account", "address" };
	static const int limit[2] = { THROTTLE_ACCOUNT, THROTTLE_ADDRESS };
	char pol[96], rl[96];
	int left[2], k;

	for (k = 0; k < 2; k++) {
		left[k] = limit[k] - th->failures[k] - spent;
		if (left[k] < 0)
			left[k] = 0;
	}
	k = left[0] <= left[1] ? 0 : 1;
	snprintf(pol, sizeof(pol), "\"account\";q=%d;w=%d, \"address\";q=%d;"
	    "w=%d", THROTTLE_ACCOUNT, THROTTLE_WINDOW_S, THROTTLE_ADDRESS,
	    THROTTLE_WINDOW_S);
	snprintf(rl, sizeof(rl), "\"%s\";r=%d;t=%d", name[k], left[k],
	    th->reset_s[k]);
	http_add_header(r, "RateLimit-Policy", pol);
	http_add_header(r, "RateLimit", rl);
}

static int
throttle_answer(struct http_req *r, int retry)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%d", retry);
	http_add_header(r, "Retry-After", ra);
	return http_problem(r, 429, "too-many-attempts", "Too Many Requests",
	    "too many failed logins; try again in %d seconds", retry);
}

/*
 * 0 to go on; API_ANSWERED when the account is throttled (429); <0 on
 * error.  th is filled either way.  An address past its limit alone does
 * not stop a login (see the top of the file; login_failed()).
 */
static int
throttle_check(struct http_req *r, const char *acct, const char *addr,
    struct throttle *th)
{
	const char *p[2] = { acct, addr };
	PGresult *res;
	int throttled = 0, retry = 0;

	th->known = 0;
	for (int k = 0; k < 2; k++) {
		th->failures[k] = 0;
		th->reset_s[k] = THROTTLE_WINDOW_S;
	}
	if ((res = db_exec(r->db, "throttle_get", 2, p)) == NULL)
		return CD_ERR_DATABASE;
	for (int i = 0; i < PQntuples(res); i++) {
		int k = strcmp(PQgetvalue(res, i, 0), acct) == 0 ? 0 : 1;
		int limit = k == 0 ? THROTTLE_ACCOUNT : THROTTLE_ADDRESS;
		int failures = atoi(PQgetvalue(res, i, 1));

		th->failures[k] = failures;
		th->reset_s[k] = atoi(PQgetvalue(res, i, 2));
		if (k == 0 && failures >= limit) {
			throttled = 1;
			retry = th->reset_s[k];
		}
	}
	PQclear(res);
	th->known = 1;
	if (!throttled)
		return 0;
	throttle_answer(r, retry);
	return API_ANSWERED;
}

/* A wrong password: counted; 401, or 429 from an address past its limit. */
static int
login_failed(struct http_req *r, const char *acct, const char *addr,
    const struct throttle *th)
{
	const char *keys[2] = { acct, addr };

	/* Counted outside the request's transaction, which rolls back. */
	db_rollback(r->db);
	for (int i = 0; i < 2; i++) {
		PGresult *res = db_exec(r->db, "throttle_fail", 1, &keys[i]);

		if (res == NULL)
			return CD_ERR_DATABASE;
		PQclear(res);
	}
	if (th->failures[1] >= THROTTLE_ADDRESS)
		return throttle_answer(r, th->reset_s[1]);
	return http_problem(r, 401, "unauthorized", "Unauthorized",
	    "wrong tenant, email or password");
}

/*
 * Start a session for user_id (of tenant_id, with role) in r's
 * transaction and answer 200 with its token, as a login does.  The
 * audit log names the user.  0 or CD_ERR_*.
 */
int
api_session_issue(struct http_req *r, const char *tenant_id,
    const char *user_id, const char *role)
{
	char token[AUTH_TOKEN_LEN + 1], hex[AUTH_HASH_LEN * 2 + 1], ttl[16];
	PGresult *s;
	int rc;

	auth_token_new(token);
	auth_token_hash_hex(token, hex);
	snprintf(ttl, sizeof(ttl), "%d", session_ttl_s);
	{
		const char *p[4] = { user_id, role, hex, ttl };

		if ((s = db_exec(r->db, "session_insert", 4, p)) == NULL) {
			sodium_memzero(token, sizeof(token));
			return CD_ERR_DATABASE;
		}
	}
	snprintf(r->who.tenant_id, sizeof(r->who.tenant_id), "%s", tenant_id);
	snprintf(r->who.user_id, sizeof(r->who.user_id), "%s", user_id);
	r->audit_type = "session";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", PQgetvalue(s, 0, 0));
	rc = http_json(r, 200, json_pack("{s:s, s:s, s:{s:s, s:s}}", "token",
	    token, "expires_at", PQgetvalue(s, 0, 1), "user", "id", user_id,
	    "role", role));
	sodium_memzero(token, sizeof(token));
	PQclear(s);
	return rc;
}

int
api_login(struct http_req *r)
{
	static const char *const allowed[] = { "tenant", "email", "password",
		NULL };
	struct api_v v;
	json_t *body;
	const char *tenant = NULL, *email = NULL, *pw = NULL;
	char acct[65], addr[65];
	PGresult *u = NULL;
	struct throttle th = { 0 };
	int rc = CD_ERR_INTERNAL, spent = 0;

	if ((body = v_begin(&v, r, allowed)) != NULL) {
		tenant = v_str(&v, body, "", "tenant", 1, 1, 63);
		email = v_str(&v, body, "", "email", 1, 1, 254);
		pw = v_str(&v, body, "", "password", 1, 1, 1024);
	}
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	api_throttle_keys(r, "account", "address", tenant, email, acct, addr);
	if ((rc = throttle_check(r, acct, addr, &th)) != 0) {
		rc = api_result(rc);
		goto out;
	}
	{
		const char *p[2] = { tenant, email };

		if ((u = db_exec(r->db, "login_lookup", 2, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	rc = auth_password_verify(PQntuples(u) == 1 && !PQgetisnull(u, 0, 3) ?
	    PQgetvalue(u, 0, 3) : NULL, pw);
	if (rc == CD_ERR_DENIED) {
		rc = login_failed(r, acct, addr, &th);
		spent = 1;
		goto out;
	} else if (rc != 0)
		goto out;

	{
		const char *p[1] = { acct };
		PGresult *x = db_exec(r->db, "throttle_clear", 1, p);

		if (x == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
		PQclear(x);
		th.failures[0] = 0;	/* the account starts afresh */
		th.reset_s[0] = THROTTLE_WINDOW_S;
	}
	rc = api_session_issue(r, PQgetvalue(u, 0, 0), PQgetvalue(u, 0, 1),
	    PQgetvalue(u, 0, 2));
 out:
	if (th.known)
		throttle_headers(r, &th, spent);
	PQclear(u);
	v_free(&v);
	return api_result(rc);
}

int
api_logout(struct http_req *r)
{
	const char *p[1] = { r->who.token_id };
	PGresult *res;

	if ((res = db_exec(r->db, "credential_revoke", 1, p)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(res);
	r->audit_type = r->who.is_key ? "api_key" : "session";
	snprintf(r->audit_id, sizeof(r->audit_id), "%s", r->who.token_id);
	return http_body(r, 204, "application/json", NULL, 0);
}
