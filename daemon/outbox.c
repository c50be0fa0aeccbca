/*
 * outbox.c - messages to people and systems (outbox.h): queued in the
 * transaction of what they tell.
 */
#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "db.h"
#include "err.h"
#include "outbox.h"

static const struct db_stmt outbox_stmts[] = {
	{ "outbox_email",
	  "INSERT INTO outbox (tenant_id, channel, event, recipient, subject,"
	  " body_text, body_html, secret_link)"
	  " VALUES ($1, 'email', $2, $3, $4, $5, $6, $7) RETURNING id" },
};

void
outbox_init(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	db_register(outbox_stmts, sizeof(outbox_stmts) / sizeof(*outbox_stmts));
}

int
outbox_email(struct db_conn *c, const char *tenant_id,
    const struct outbox_email *m)
{
	const char *p[7] = { tenant_id, m->event, m->to, m->subject, m->text,
	    m->html, m->link };

	return db_rows(c, "outbox_email", 7, p) == 1 ? 0 : CD_ERR_DATABASE;
}
