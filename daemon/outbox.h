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
	 * A secret link (a one-time token's URL) that "{link}" in text and
	 * html stands for; NULL: none.  Kept apart from the bodies: never
	 * listed (GET /v1/outbox shows "{link}"), dropped once sent.
	 */
	const char	*link;
};

/* Register the statements; before the pool opens, in every process that
   writes or sends messages. */
void	outbox_init(void);

/* Queue an email in c's open transaction.  0 or CD_ERR_DATABASE. */
int	outbox_email(struct db_conn *c, const char *tenant_id,
	    const struct outbox_email *m);

#endif
