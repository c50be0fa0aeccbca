/*
 * outbox.h - messages to people (email) and to systems (webhooks).  A
 * message is written in the caller's open transaction, the tenant's, with
 * the change it tells of (table outbox): if that rolls back, no message
 * exists; once it commits, the dispatcher (outbox.c) sends it, retrying
 * with back-off, and nothing is lost to a crash.  This file is the one
 * home of the outbox's SQL.
 */
#ifndef COHORTD_OUTBOX_H
#define COHORTD_OUTBOX_H

#include "db.h"

struct outbox_email {
	const char	*to;		/* the address */
	const char	*event;		/* "invitation", "password_reset", ... */
	const char	*subject;
	const char	*text;		/* plain text */
	const char	*html;		/* NULL: text only */
	/*
	 * A one-time link that "{link}" in text and html stands for, made
	 * only when the email is sent, so that no token is ever stored but
	 * as its hash (access_mint() in migration 0017): mint_kind
	 * ("invitation" or "password_reset"; NULL: no link), for the user
	 * mint_user or else for the active account whose email is
	 * mint_email, valid mint_ttl_s, leading to mint_page.  With no such
	 * account when it is sent, nothing is sent (the message fails,
	 * saying why).
	 */
	const char	*mint_kind;
	const char	*mint_user;
	const char	*mint_email;
	const char	*mint_page;	/* "accept-invitation", ... */
	int		 mint_ttl_s;
};

/*
 * A one-time link: base (COHORTD_PUBLIC_URL, or http://<listen>; a
 * trailing slash ignored), page, the tenant's slug and the token, in out.
 */
void	outbox_link(char *out, size_t len, const char *base, const char *page,
	    const char *slug, const char *token);
/* The base this process's links use (outbox_start()); "" before. */
const char *outbox_link_base(void);

/* Register the statements; before the pool opens, in every process that
   writes or sends messages. */
void	outbox_init(void);

/* Queue an email in c's open transaction.  0 or CD_ERR_DATABASE. */
int	outbox_email(struct db_conn *c, const char *tenant_id,
	    const struct outbox_email *m);

/* ---- what domain emails are about (mail.c renders them) ---------------- */

/*
 * The enrollments made active in c's open transaction (inserted active:
 * "enrolled"; moved up from the waitlist: "promoted"), which a trigger
 * noted, and forget them: rows (event, email, name, cohort, program) in
 * *news, which the caller PQclears.  0 or CD_ERR_DATABASE.
 */
int	outbox_enrollment_news(struct db_conn *c, PGresult **news);

/*
 * What a graded submission's email says: one row (email, name,
 * assessment, cohort, verdict, score, final_score, passed, provisional)
 * in *facts, or none.  0 or CD_ERR_DATABASE.
 */
int	outbox_graded_facts(struct db_conn *c, const char *submission,
	    PGresult **facts);

/* ---- the list (GET /v1/outbox) ----------------------------------------- */

/*
 * The statement of a page of the tenant's messages, newest first, for
 * api_page_exec_desc: $1..$3 the page, $4 a state or NULL, $5 a channel
 * or NULL.  Never the secret link: bodies show "{link}".
 */
#define OUTBOX_LIST_STMT	"outbox_list"
/* The same for one webhook endpoint's deliveries: $4 its id. */
#define OUTBOX_DELIVERIES_STMT	"outbox_deliveries"

/*
 * Queue a "webhook.test" event for endpoint webhook (an id already
 * checked) in c's open transaction: 1 and its id in msg_id (40 bytes),
 * 0 no such endpoint, or CD_ERR_DATABASE.
 */
int	outbox_webhook_test(struct db_conn *c, const char *webhook,
	    char *msg_id);

/* ---- the dispatcher ----------------------------------------------------- */

struct db_pool;
struct smtp_server;

/*
 * Start the dispatcher thread (one per API process) on pool; conninfo is
 * for its LISTEN; smtp the mail server (copied; its strings must outlive
 * the dispatcher; its timeout and abandon hook are the dispatcher's);
 * webhook_allow the hosts webhooks may reach over http or on private
 * networks (COHORTD_WEBHOOK_ALLOW; kept); link_base the base of the
 * one-time links made at send time (outbox_link(); kept); nudge_s how
 * often the dispatcher makes the scheduled notifications that are due
 * (nudge_scan(), migrations/0018_nudges.sql; COHORTD_NUDGE_INTERVAL; 0
 * never).  Without smtp->url emails are
 * not sent: they stay 'unsent'.  0; CD_ERR_CONFIG (err says why) for bad
 * settings; CD_ERR_NOMEM.
 */
int	outbox_start(struct db_pool *pool, const char *conninfo,
	    const struct smtp_server *smtp, const char *webhook_allow,
	    const char *link_base, int nudge_s, char *err, size_t errlen);
/* Stop it: a send in progress is abandoned and its message left for the
 * next dispatcher, unsent.  Fine when never started. */
void	outbox_stop(void);

#endif
