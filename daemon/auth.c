/*
 * auth.c - bearer tokens and the platform administrator's bootstrap.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "../common/log.h"

static const struct db_stmt auth_stmts[] = {
	{ "auth_platform_count", "SELECT count(*) FROM platform_tokens "
	  "WHERE revoked_at IS NULL" },
	{ "auth_platform_insert", "INSERT INTO platform_tokens (token_hash) "
	  "VALUES (decode($1, 'hex'))" },
	{ "auth_platform_rotate", "UPDATE platform_tokens SET revoked_at = now() "
	  "WHERE revoked_at IS NULL" },
	/* One round trip: resolve the token, scope the transaction to it. */
	{ "auth_resolve", "SELECT scope, tenant_id, user_id, role, "
	  "credential_id, encode(token_hash, 'hex') FROM "
	  "auth_resolve(decode($1, 'hex'))" },
	/* The same, failing unless the answer is the one remembered
	 * (migrations/0021): sent ahead of a read's own statement. */
	{ "auth_confirm", "SELECT auth_confirm(decode($1, 'hex'), $2::uuid, "
	  "$3::uuid, $4, $5::uuid)" },
};

/*
 * What tokens resolved to, remembered so that a read can send its own
 * statement behind auth_confirm in one round trip instead of waiting for
 * auth_resolve's answer first.  Never trusted alone: auth_confirm checks
 * every use in the request's transaction, so a revocation anywhere is
 * seen by the next request here.  Direct-mapped by the token's hash (a
 * collision just forgets the older entry); an entry lives
 * AUTH_MEMO_TTL_MS.
 */
#define AUTH_MEMO_SLOTS		2048
#define AUTH_MEMO_TTL_MS	60000

struct auth_memo {
	unsigned char	 hash[AUTH_HASH_LEN];
	struct principal who;
	long		 until_ms;
};

static pthread_mutex_t auth_memo_mu = PTHREAD_MUTEX_INITIALIZER;
static struct auth_memo auth_memo[AUTH_MEMO_SLOTS];

static struct auth_memo *
auth_memo_slot(const unsigned char *hash)
{
	unsigned int i = ((unsigned int)hash[0] << 8 | hash[1]) %
	    AUTH_MEMO_SLOTS;

	return &auth_memo[i];
}

static void
auth_memo_put(const unsigned char *hash, const struct principal *who)
{
	struct auth_memo *m = auth_memo_slot(hash);

	pthread_mutex_lock(&auth_memo_mu);
	memcpy(m->hash, hash, AUTH_HASH_LEN);
	m->who = *who;
	m->until_ms = clock_ms() + AUTH_MEMO_TTL_MS;
	pthread_mutex_unlock(&auth_memo_mu);
}

/* 1 and *who filled if hash is remembered, else 0. */
static int
auth_memo_get(const unsigned char *hash, struct principal *who)
{
	struct auth_memo *m = auth_memo_slot(hash);
	int found;

	pthread_mutex_lock(&auth_memo_mu);
	found = m->until_ms > clock_ms() &&
	    sodium_memcmp(m->hash, hash, AUTH_HASH_LEN) == 0;
	if (found)
		*who = m->who;
	pthread_mutex_unlock(&auth_memo_mu);
	return found;
}

static const char *
auth_role_name(int role)
{
	switch (role) {
	case ROLE_PLATFORM:	return "platform";
	case ROLE_ADMIN:	return "admin";
	case ROLE_INSTRUCTOR:	return "instructor";
	case ROLE_LEARNER:	return "learner";
	}
	return "";
}

void
auth_init(void)
{
	db_register(auth_stmts, sizeof(auth_stmts) / sizeof(*auth_stmts));
}

void
auth_token_new(char *out)
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

void
auth_token_hash(const char *token, unsigned char *out)
{
	crypto_generichash(out, AUTH_HASH_LEN, (const unsigned char *)token,
	    strlen(token), NULL, 0);
}

void
auth_token_hash_hex(const char *token, char *out)
{
	unsigned char h[AUTH_HASH_LEN];

	auth_token_hash(token, h);
	sodium_bin2hex(out, AUTH_HASH_LEN * 2 + 1, h, sizeof(h));
}

static int
auth_write_token_file(const char *path, const char *token)
{
	char tmp[4096];
	int fd, rc = CD_ERR_SYSTEM;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return CD_ERR_INVALID;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return CD_ERR_SYSTEM;
	if (fchmod(fd, 0600) == 0 &&
	    write(fd, token, strlen(token)) == (ssize_t)strlen(token) &&
	    write(fd, "\n", 1) == 1 && fsync(fd) == 0)
		rc = 0;
	close(fd);
	if (rc == 0 && rename(tmp, path) == -1)
		rc = CD_ERR_SYSTEM;
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int
auth_bootstrap_admin(struct db_pool *pool, const char *state_dir,
    const char *configured, char *err, size_t errlen)
{
	struct db_conn *c = NULL;
	PGresult *r = NULL;
	char token[AUTH_TOKEN_LEN + 1], hex[AUTH_HASH_LEN * 2 + 1];
	char path[4096];
	const char *params[1] = { hex };
	int rc;

	if ((rc = db_acquire(pool, 10000, &c)) != 0 ||
	    (rc = db_begin(c, NULL)) != 0) {
		snprintf(err, errlen, "admin token: database unavailable");
		goto out;
	}
	if ((r = db_exec(c, "auth_platform_count", 0, NULL)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	if (atoi(PQgetvalue(r, 0, 0)) > 0) {
		rc = db_commit(c);
		goto out;
	}
	PQclear(r);
	r = NULL;
	if (configured != NULL && configured[0] != '\0') {
		if (strlen(configured) < 16) {
			snprintf(err, errlen, "COHORTD_ADMIN_TOKEN: at least 16 "
			    "characters");
			rc = CD_ERR_CONFIG;
			goto out;
		}
		auth_token_hash_hex(configured, hex);
	} else {
		auth_token_new(token);
		auth_token_hash_hex(token, hex);
		snprintf(path, sizeof(path), "%s/admin-token", state_dir);
		if (auth_write_token_file(path, token) != 0) {
			snprintf(err, errlen, "COHORTD_STATE_DIR: cannot write "
			    "%s: %s", path, strerror(errno));
			sodium_memzero(token, sizeof(token));
			rc = CD_ERR_SYSTEM;
			goto out;
		}
		sodium_memzero(token, sizeof(token));
		log_info("platform admin token written to %s", path);
	}
	if ((r = db_exec(c, "auth_platform_insert", 1, params)) == NULL) {
		rc = CD_ERR_DATABASE;
		goto out;
	}
	rc = db_commit(c);
 out:
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "admin token: %s", cd_strerror(rc));
	PQclear(r);
	db_release(c);
	return rc;
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *
auth_bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return strlen(h) >= 16 && strlen(h) <= 256 ? h : NULL;
}

static int
auth_role_bit(const char *role)
{
	if (strcmp(role, "platform") == 0)
		return ROLE_PLATFORM;
	if (strcmp(role, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(role, "instructor") == 0)
		return ROLE_INSTRUCTOR;
	if (strcmp(role, "learner") == 0)
		return ROLE_LEARNER;
	return 0;
}

/* The hash of authorization's bearer token into h and, when hex is not
 * NULL, its hex form (AUTH_HASH_LEN * 2 + 1 bytes): 0, or -1 without a
 * usable token. */
static int
auth_bearer_hash(const char *authorization, unsigned char *h, char *hex)
{
	const char *token = auth_bearer(authorization);

	if (token == NULL)
		return -1;
	auth_token_hash(token, h);
	if (hex != NULL)
		sodium_bin2hex(hex, AUTH_HASH_LEN * 2 + 1, h, AUTH_HASH_LEN);
	return 0;
}

int
auth_authenticate(struct db_conn *c, const char *authorization,
    struct principal *who)
{
	unsigned char h[AUTH_HASH_LEN];
	char hex[AUTH_HASH_LEN * 2 + 1];
	const char *params[1] = { hex };
	PGresult *res;
	int rc = CD_ERR_DENIED;

	memset(who, 0, sizeof(*who));
	if (auth_bearer_hash(authorization, h, hex) != 0)
		return rc;
	if ((res = db_exec(c, "auth_resolve", 1, params)) == NULL)
		return CD_ERR_DATABASE;
	/* The index found it by hash; confirm without a timing signal. */
	if (PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 5)) == sizeof(hex)
	    - 1 && sodium_memcmp(PQgetvalue(res, 0, 5), hex, sizeof(hex) - 1)
	    == 0) {
		who->role = auth_role_bit(PQgetvalue(res, 0, 3));
		snprintf(who->tenant_id, sizeof(who->tenant_id), "%s",
		    PQgetvalue(res, 0, 1));
		snprintf(who->user_id, sizeof(who->user_id), "%s",
		    PQgetvalue(res, 0, 2));
		snprintf(who->token_id, sizeof(who->token_id), "%s",
		    PQgetvalue(res, 0, 4));
		who->is_key = !PQgetisnull(res, 0, 4) &&
		    PQgetisnull(res, 0, 2) && who->role != ROLE_PLATFORM;
		if (who->role != 0)
			rc = 0;
		else
			memset(who, 0, sizeof(*who));
	}
	PQclear(res);
	if (rc == 0)
		auth_memo_put(h, who);
	return rc;
}

int
auth_remembered(struct db_conn *c, const char *authorization,
    struct principal *who)
{
	unsigned char h[AUTH_HASH_LEN];
	char hex[AUTH_HASH_LEN * 2 + 1];
	const char *params[5];

	memset(who, 0, sizeof(*who));
	if (auth_bearer_hash(authorization, h, hex) != 0 ||
	    !auth_memo_get(h, who))
		return CD_ERR_NOT_FOUND;
	params[0] = hex;
	params[1] = who->tenant_id[0] ? who->tenant_id : NULL;
	params[2] = who->user_id[0] ? who->user_id : NULL;
	params[3] = auth_role_name(who->role);
	params[4] = who->token_id[0] ? who->token_id : NULL;
	if (db_precheck(c, "auth_confirm", 5, params) != 0) {
		memset(who, 0, sizeof(*who));
		return CD_ERR_NOT_FOUND;
	}
	return 0;
}

void
auth_forget(const char *authorization)
{
	unsigned char h[AUTH_HASH_LEN];
	struct auth_memo *m;

	if (auth_bearer_hash(authorization, h, NULL) != 0)
		return;
	m = auth_memo_slot(h);
	pthread_mutex_lock(&auth_memo_mu);
	if (sodium_memcmp(m->hash, h, AUTH_HASH_LEN) == 0)
		m->until_ms = 0;
	pthread_mutex_unlock(&auth_memo_mu);
}

int
auth_rotate_admin(struct db_conn *c, char *token_out)
{
	char hex[AUTH_HASH_LEN * 2 + 1];
	const char *params[1] = { hex };
	PGresult *r;

	auth_token_new(token_out);
	auth_token_hash_hex(token_out, hex);
	if ((r = db_exec(c, "auth_platform_rotate", 0, NULL)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	if ((r = db_exec(c, "auth_platform_insert", 1, params)) == NULL)
		return CD_ERR_DATABASE;
	PQclear(r);
	return 0;
}

/* ---- passwords -------------------------------------------------------- */

/*
 * Argon2id at libsodium's "interactive" cost: 64 MiB and 2 passes each.
 * At most auth_hash_slots run at once, so a login flood costs at most
 * slots x 64 MiB; the rest wait (bounded) and then get 503.
 */
static sem_t auth_hash_sem;
static int auth_hash_ready;

void
auth_password_init(int slots)
{
	if (sem_init(&auth_hash_sem, 0, (unsigned)(slots > 0 ? slots : 1)) == 0)
		auth_hash_ready = 1;
}

static int
auth_hash_enter(void)
{
	struct timespec ts;

	if (!auth_hash_ready)
		auth_password_init(2);
	clock_deadline(&ts, 10000);
	while (sem_timedwait(&auth_hash_sem, &ts) == -1)
		if (errno != EINTR)
			return CD_ERR_UNAVAILABLE;
	return 0;
}

int
auth_password_hash(const char *password, char *out)
{
	int rc;

	if ((rc = auth_hash_enter()) != 0)
		return rc;
	rc = crypto_pwhash_str(out, password, strlen(password),
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : CD_ERR_NOMEM;
	sem_post(&auth_hash_sem);
	return rc;
}

/* Verified against when there is no such user: the same work either way. */
static char auth_dummy[crypto_pwhash_STRBYTES];
static pthread_once_t auth_dummy_once = PTHREAD_ONCE_INIT;

static void
auth_dummy_init(void)
{
	static const char pw[] = "no such user, no such password";

	if (crypto_pwhash_str(auth_dummy, pw, sizeof(pw) - 1,
	    crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		fatalx("cannot compute the dummy password hash");
}

int
auth_password_verify(const char *stored, const char *password)
{
	int rc, ok;

	pthread_once(&auth_dummy_once, auth_dummy_init);
	if ((rc = auth_hash_enter()) != 0)
		return rc;
	ok = crypto_pwhash_str_verify(stored ? stored : auth_dummy, password,
	    strlen(password)) == 0;
	sem_post(&auth_hash_sem);
	return ok && stored != NULL ? 0 : CD_ERR_DENIED;
}
