/*
 * auth.h - bearer tokens: generation, hashing, lookup, and the platform
 * administrator's bootstrap token.
 *
 * A token is 32 random bytes in base64url (43 characters).  Only its
 * BLAKE2b-256 hash is stored; a presented token is hashed, looked up by
 * hash and compared in constant time.
 */
#ifndef COHORTD_AUTH_H
#define COHORTD_AUTH_H

#include <stddef.h>

#define AUTH_TOKEN_LEN	43		/* without the NUL */
#define AUTH_HASH_LEN	32

struct db_pool;
struct db_conn;

/* Roles, as a route's set of allowed callers. */
#define ROLE_ANON	0x01	/* no credentials needed */
#define ROLE_PLATFORM	0x02	/* the platform administrator */
#define ROLE_ADMIN	0x04	/* a tenant administrator */
#define ROLE_INSTRUCTOR	0x08
#define ROLE_LEARNER	0x10
#define ROLE_TENANT	(ROLE_ADMIN | ROLE_INSTRUCTOR | ROLE_LEARNER)

/* Who is calling, once authenticated. */
struct principal {
	int	 role;			/* one ROLE_ bit; 0 = anonymous */
	char	 tenant_id[40];		/* "" for the platform admin */
	char	 user_id[40];
	char	 token_id[40];	/* the credential used */
	int	 is_key;		/* an API key, not a user's session */
};

/* Fill out (AUTH_TOKEN_LEN + 1 bytes) with a fresh random token. */
void	 auth_token_new(char *out);
/* BLAKE2b-256 of the token text. */
void	 auth_token_hash(const char *token, unsigned char *out);
/* Hex form of the hash, as stored (65 bytes with NUL). */
void	 auth_token_hash_hex(const char *token, char *out);

/*
 * Make sure a platform admin token exists.  On first start: the
 * configured token if any, else a new one written to
 * <state_dir>/admin-token (mode 0600).  0 or CD_ERR_*.
 */
int	 auth_bootstrap_admin(struct db_pool *pool, const char *state_dir,
	    const char *configured, char *err, size_t errlen);

/*
 * Revoke every platform admin token and issue a new one into token_out
 * (AUTH_TOKEN_LEN + 1 bytes), inside c's open transaction.
 */
int	 auth_rotate_admin(struct db_conn *c, char *token_out);

/*
 * Passwords: Argon2id through libsodium, with at most slots hashes at
 * once (auth_password_init; default 2).  Hash writes
 * crypto_pwhash_STRBYTES bytes.  Verify returns 0 on a match and
 * CD_ERR_DENIED otherwise, doing the same work when stored is NULL (no
 * such user).  Both may return CD_ERR_UNAVAILABLE when every slot stays
 * busy for 10 s.
 */
void	 auth_password_init(int slots);
int	 auth_password_hash(const char *password, char *out);
int	 auth_password_verify(const char *stored, const char *password);

/*
 * Resolve authorization, an Authorization header's value ("Bearer
 * <token>"; NULL when there was none), into *who, in c's open
 * transaction, which the lookup scopes to the token's tenant (or to the
 * platform).  The caller opens the transaction: this layer knows nothing
 * of HTTP.  0, CD_ERR_DENIED (no token, a malformed, unknown, revoked or
 * expired one, or one whose user is gone), or CD_ERR_DATABASE.
 */
int	 auth_authenticate(struct db_conn *c, const char *authorization,
	    struct principal *who);

/*
 * The principal authorization resolved to in an earlier request of this
 * process, into *who, if it is remembered: 0, with auth_confirm set to go
 * first in c's transaction (db_precheck), which fails that transaction
 * unless the token still resolves to exactly *who; then the caller
 * forgets it (auth_forget) and asks auth_authenticate.  CD_ERR_NOT_FOUND
 * when nothing is remembered.  c's transaction must not have sent BEGIN.
 */
int	 auth_remembered(struct db_conn *c, const char *authorization,
	    struct principal *who);
void	 auth_forget(const char *authorization);

/* Register the module's statements with db. */
void	 auth_init(void);

#endif
