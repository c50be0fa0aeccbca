/*
 * outbox.c - messages to people and systems (outbox.h): queued in the
 * transaction of what they tell, and sent by a dispatcher.
 *
 * Theory of operation.  Every API process runs one dispatcher thread
 * (outbox_start, from main.c).  It LISTENs on cohortd_outbox, which a
 * trigger NOTIFYs when a message commits (migrations/0014_delivery.sql),
 * and looks at least once a second anyway, for retries that come due.
 * It claims a few due messages at a time (state 'unsent', next_at past,
 * no live lease), each tenant's oldest due first and tenants in turn, with
 * FOR UPDATE SKIP LOCKED in the worker scope, as graders claim jobs, so
 * a tenant that queued thousands delays nobody else: the claim writes a
 * lease (a random token and an expiry, OUTBOX_LEASE_S) and counts the
 * attempt, and commits.  Then, holding no connection and no lock, it
 * sends each one (smtp.c, at most SMTP_TIMEOUT_S), and records the
 * outcome in a transaction of its own fenced by the token: 'sent', or
 * another try after a back-off that doubles from
 * RETRY_FIRST_S to RETRY_MAX_S, or 'failed' once the server refused it
 * for good or the message is a day old.
 *
 * So a message is sent once on the happy path: no other dispatcher can
 * claim it while the lease lives, and the lease outlives a batch's sends.
 * A process killed after the commit that wrote a message loses nothing:
 * the message is claimed by whichever dispatcher looks next, at once if
 * it was never claimed, when the lease expires if it was being sent (it
 * may then go twice: at least once, never lost).  A slow or dead server
 * holds a batch at most SMTP_TIMEOUT_S a message, and what fails goes
 * behind what is due, so one bad address or tenant does not stop others.
 * On shutdown a send in progress is abandoned and the claimed messages
 * are released, their attempt not counted.
 *
 * One-time links (an invitation's, a password reset's) are made only as
 * their email is sent (outbox_mint()): the message says what to make, the
 * token is drawn then and only its hash stored, so no usable token ever
 * rests in the table.  A reset asked for an address with no account is
 * queued like any other and fails here, nothing sent: the request did
 * the same work either way.
 *
 * Webhooks (channel 'webhook', one row per subscribed endpoint, written
 * by triggers) go the same way, as signed POSTs (webhook.c, at most
 * WEBHOOK_TIMEOUT_S); an endpoint's failing flag follows its last
 * delivery.
 *
 * Scheduled notifications (a due date near, a daily reminder,
 * re-engagement) have no request to be written in: every
 * COHORTD_NUDGE_INTERVAL seconds the dispatcher calls nudge_scan_in()
 * (migrations/0018_nudges.sql) for each tenant in a transaction of its
 * own, which decides in that tenant's scope what is due, records each
 * nudge once under a unique key and queues its email and webhook
 * deliveries in the same transaction; one process scans a tenant at a
 * time, and several scanning at once would still make each nudge once.
 *
 * Without COHORTD_SMTP_URL emails are not claimed: they stay 'unsent' and
 * are listed (GET /v1/outbox), and go once a process with a mail server
 * configured runs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "auth.h"
#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "jobq.h"
#include "../common/log.h"
#include "outbox.h"
#include "smtp.h"
#include "webhook.h"

#define OUTBOX_BATCH	"4"	/* messages a claim takes */
#define SMTP_TIMEOUT_S	12	/* one message's whole exchange */
#define WEBHOOK_TIMEOUT_S 10	/* one delivery's */
/* A batch's sends end well before its lease. */
#define OUTBOX_LEASE_S	"90"
#define RETRY_FIRST_S	"4"
#define RETRY_MAX_S	"900"
#define GIVE_UP_AFTER	"interval '24 hours'"
#define OUTBOX_LINK_MAX	2048
#define OUTBOX_ADDR_MAX	320

#define OUTBOX_COLS \
	"id, channel, event, recipient, subject, body_text, body_html, " \
	"payload, " \
	"mint IS NOT NULL AS has_link, state, attempts, last_error, " \
	"CASE WHEN state = 'unsent' THEN rfc3339(next_at) END AS next_at, " \
	"rfc3339(created_at) AS created_at, rfc3339(sent_at) AS sent_at"

static const char *ob_link_base;	/* of one-time links (outbox_link) */

static const struct db_stmt outbox_stmts[] = {
	{ "outbox_email",
	  "INSERT INTO outbox (tenant_id, channel, event, recipient, subject,"
	  " body_text, body_html, mint)"
	  " VALUES ($1, 'email', $2, $3, $4, $5, $6, CASE WHEN $7::text IS"
	  " NULL THEN NULL ELSE jsonb_build_object('kind', $7::text, 'user_id',"
	  " $8::uuid, 'email', $9::text, 'page', $10::text, 'ttl_s',"
	  " $11::int) END)"
	  /* db_rows counts the rows returned. */
	  " RETURNING id" },
	/* The dispatcher's, in the message's tenant: make its link's token. */
	{ "outbox_mint", "SELECT slug, expires_at, email FROM access_mint($1, "
	  "$2::uuid, $3, decode($4, 'hex'), $5::int)" },
	/* ---- domain emails' facts, in the tenant's transaction ---- */
	/*
	 * Materialized: read (and cleared) once, whatever the plan.  The
	 * enrollments are found by id through their key (= ANY of the ids):
	 * joined to a set the planner knows nothing of, 10,000 of them took
	 * 21 s, every enrollment of the tenant read for each.
	 */
	{ "outbox_enrollment_news", "WITH n AS MATERIALIZED (SELECT "
	  "outbox_news('cohortd.news_enrolled') AS en, "
	  "outbox_news('cohortd.news_promoted') AS pr) "
	  "SELECT CASE WHEN e.id = ANY (n.pr) THEN 'promoted' ELSE 'enrolled' "
	  "END, u.email, u.name, c.name AS cohort, p.title AS program FROM n, "
	  "enrollments e JOIN users u ON u.tenant_id = e.tenant_id AND u.id = "
	  "e.user_id JOIN cohorts c ON c.tenant_id = e.tenant_id AND c.id = "
	  "e.cohort_id JOIN programs p ON p.tenant_id = c.tenant_id AND p.id = "
	  "c.program_id WHERE e.tenant_id = current_tenant() AND e.id = ANY "
	  "(n.en || n.pr) AND e.state = 'active' AND u.active" },
	{ "outbox_graded_facts", "SELECT u.email, u.name, a.title AS "
	  "assessment, c.name AS cohort, s.verdict, round(s.score, 1)::text AS "
	  "score, round(s.final_score, 1)::text AS final_score, s.passed, "
	  "s.provisional FROM submissions s JOIN users u ON u.tenant_id = "
	  "s.tenant_id AND u.id = s.user_id JOIN assessments a ON a.tenant_id "
	  "= s.tenant_id AND a.id = s.assessment_id JOIN enrollments e ON "
	  "e.tenant_id = s.tenant_id AND e.id = s.enrollment_id JOIN cohorts c "
	  "ON c.tenant_id = e.tenant_id AND c.id = e.cohort_id WHERE "
	  "s.tenant_id = current_tenant() AND s.id = $1 AND u.active" },
	/* ---- the list ---- */
	{ OUTBOX_LIST_STMT, "SELECT " OUTBOX_COLS ", created_at::text AS "
	  "_k_ts, id AS _k_id FROM outbox WHERE tenant_id = current_tenant() "
	  "AND ($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR "
	  "channel = $5) AND (created_at, id) < ($1::timestamptz, $2::uuid) "
	  "ORDER BY created_at DESC, id DESC LIMIT $3" },
	/* ---- the dispatcher, in the worker scope ---- */
	{ "outbox_scope", "SELECT set_config('cohortd.scope', 'worker', true)" },
	/*
	 * Fair between tenants: every tenant's oldest due message before
	 * anyone's second (the candidates are read without locks, then
	 * locked and checked again).
	 */
	{ "outbox_claim", "WITH cand AS (SELECT tenant_id, id, rn, next_at "
	  "FROM (SELECT tenant_id, id, next_at, row_number() OVER (PARTITION "
	  "BY tenant_id ORDER BY next_at) AS rn FROM outbox WHERE state = "
	  "'unsent' AND (channel = 'webhook' OR $1::bool) AND next_at <= "
	  "now() AND (lease_until IS NULL OR lease_until < now())) x WHERE rn "
	  "<= " OUTBOX_BATCH " ORDER BY rn, next_at LIMIT 4 * " OUTBOX_BATCH
	  "), d AS (SELECT o.tenant_id, o.id FROM outbox o JOIN cand ON "
	  "cand.tenant_id = o.tenant_id AND cand.id = o.id WHERE o.state = "
	  "'unsent' AND (o.lease_until IS NULL OR o.lease_until < now()) "
	  "ORDER BY cand.rn, cand.next_at LIMIT " OUTBOX_BATCH " FOR UPDATE "
	  "OF o SKIP LOCKED), u AS (UPDATE outbox o SET lease_token = "
	  "gen_random_uuid(), lease_until = now() + " OUTBOX_LEASE_S " * "
	  "interval '1 second', attempts = o.attempts + 1 FROM d WHERE "
	  "o.tenant_id = d.tenant_id AND o.id = d.id RETURNING o.*) SELECT "
	  "u.tenant_id, u.id, u.lease_token, u.recipient, u.sender_name, "
	  "u.subject, u.body_text, u.body_html, u.mint::text, u.attempts, "
	  "u.channel, u.payload::text, w.url, w.secret FROM u LEFT JOIN "
	  "webhooks w ON u.channel = 'webhook' AND w.tenant_id = u.tenant_id "
	  "AND w.id::text = u.recipient" },
	/* An endpoint's state: failing or not, and why. */
	{ "outbox_webhook_state", "UPDATE webhooks SET failing = $3::bool, "
	  "last_error = $4 WHERE tenant_id = $1 AND id::text = $2" },
	/* ---- webhooks' side, in the tenant's transaction ---- */
	{ OUTBOX_DELIVERIES_STMT, "SELECT " OUTBOX_COLS ", created_at::text "
	  "AS _k_ts, id AS _k_id FROM outbox WHERE tenant_id = "
	  "current_tenant() AND channel = 'webhook' AND recipient = $4 AND "
	  "(created_at, id) < ($1::timestamptz, $2::uuid) ORDER BY created_at "
	  "DESC, id DESC LIMIT $3" },
	{ "outbox_webhook_test", "INSERT INTO outbox (tenant_id, channel, "
	  "event, recipient, payload) SELECT w.tenant_id, 'webhook', "
	  "'webhook.test', w.id::text, jsonb_build_object('type', "
	  "'webhook.test', 'timestamp', rfc3339(clock_timestamp()), 'data', "
	  "jsonb_build_object('webhook_id', w.id)) FROM webhooks w WHERE "
	  "w.tenant_id = current_tenant() AND w.id = $1 RETURNING id" },
	{ "outbox_sent", "UPDATE outbox SET state = 'sent', sent_at = "
	  "clock_timestamp(), lease_token = NULL, "
	  "lease_until = NULL, last_error = NULL WHERE tenant_id = $1 AND id = "
	  "$2 AND lease_token = $3 AND state = 'unsent'" },
	/* Refused for good ($5), or a day old: failed. */
	{ "outbox_retry", "UPDATE outbox SET lease_token = NULL, lease_until "
	  "= NULL, last_error = $4, state = CASE WHEN $5::bool OR created_at < "
	  "clock_timestamp() - " GIVE_UP_AFTER " THEN 'failed' ELSE 'unsent' "
	  "END, next_at = clock_timestamp() + least(" RETRY_FIRST_S " * "
	  "power(2, greatest(attempts - 1, 0)), " RETRY_MAX_S ") * interval "
	  "'1 second' WHERE tenant_id = $1 AND id = $2 AND lease_token = $3 "
	  "AND state = 'unsent' RETURNING state" },
	/* Shutdown: not the message's fault, so not an attempt. */
	/* The nudges due now, tenant by tenant (0018_nudges.sql). */
	{ "outbox_nudge_tenants", "SELECT nudge_tenants()" },
	{ "outbox_nudge_scan", "SELECT nudge_scan_in($1::uuid)" },
	{ "outbox_release", "UPDATE outbox SET lease_token = NULL, lease_until "
	  "= NULL, attempts = greatest(attempts - 1, 0) WHERE tenant_id = $1 "
	  "AND id = $2 AND lease_token = $3 AND state = 'unsent'" },
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
	char ttl[16];
	const char *p[11] = { tenant_id, m->event, m->to, m->subject, m->text,
	    m->html, m->mint_kind, m->mint_user, m->mint_email, m->mint_page,
	    ttl };

	snprintf(ttl, sizeof(ttl), "%d", m->mint_ttl_s);
	return db_rows(c, "outbox_email", 11, p) == 1 ? 0 : CD_ERR_DATABASE;
}

const char *
outbox_link_base(void)
{
	return ob_link_base != NULL ? ob_link_base : "";
}

void
outbox_link(char *out, size_t len, const char *base, const char *page,
    const char *slug, const char *token)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	snprintf(out, len, "%.*s/%s?tenant=%s&token=%s", (int)n, base, page,
	    slug, token);
}

int
outbox_enrollment_news(struct db_conn *c, PGresult **news)
{
	return (*news = db_exec(c, "outbox_enrollment_news", 0, NULL)) ==
	    NULL ? CD_ERR_DATABASE : 0;
}

int
outbox_graded_facts(struct db_conn *c, const char *submission,
    PGresult **facts)
{
	const char *p[1] = { submission };

	return (*facts = db_exec(c, "outbox_graded_facts", 1, p)) == NULL ?
	    CD_ERR_DATABASE : 0;
}

int
outbox_webhook_test(struct db_conn *c, const char *webhook, char *msg_id)
{
	const char *p[1] = { webhook };
	PGresult *res = db_exec(c, "outbox_webhook_test", 1, p);
	int rc;

	if (res == NULL)
		return CD_ERR_DATABASE;
	if ((rc = PQntuples(res) == 1))
		snprintf(msg_id, 40, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* ---- the dispatcher ----------------------------------------------------- */

static struct db_pool *ob_pool;
static char *ob_conninfo;
static pthread_t ob_thread;
static bool ob_started;
static atomic_int ob_stopping;
static struct smtp_server ob_smtp;
static const char *ob_allow;		/* COHORTD_WEBHOOK_ALLOW */
static int ob_nudge_s;			/* COHORTD_NUDGE_INTERVAL */
static long long ob_nudge_next;		/* clock_ms() of the next scan */

/* Columns of outbox_claim. */
enum { C_TENANT, C_ID, C_TOKEN, C_TO, C_SENDER, C_SUBJECT, C_TEXT, C_HTML,
	C_MINT, C_ATTEMPTS, C_CHANNEL, C_PAYLOAD, C_URL, C_SECRET };

/*
 * Run one statement in a worker-scoped transaction of its own: the
 * result (the caller PQclears), or NULL.
 */
static PGresult *
outbox_across(const char *stmt, int n, const char *const *p)
{
	return db_once(ob_pool, "outbox_scope", stmt, n, p);
}

/*
 * body with every "{link}" replaced by link (HTML-escaped for html), or a
 * copy of body when there is no link; malloc'd, NULL when out of memory.
 */
static char *
outbox_put_link(const char *body, const char *link, int html)
{
	char esc[4096], *out, *o;
	const char *p, *q, *l = link;
	size_t n = 0, ll, count = 0;

	if (link == NULL)
		return strdup(body);
	if (html) {
		for (p = link; *p != '\0' && n + 7 < sizeof(esc); p++) {
			const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" :
			    *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : *p == '\'' ?
			    "&#39;" : NULL;

			if (e != NULL) {
				memcpy(esc + n, e, strlen(e));
				n += strlen(e);
			} else
				esc[n++] = *p;
		}
		esc[n] = '\0';
		l = esc;
	}
	ll = strlen(l);
	for (p = body; (p = strstr(p, "{link}")) != NULL; p += 6)
		count++;
	if ((out = malloc(strlen(body) + count * ll + 1)) == NULL)
		return NULL;
	for (o = out, p = body; (q = strstr(p, "{link}")) != NULL; p = q + 6) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, l, ll);
		o += ll;
	}
	strcpy(o, p);
	return out;
}

static void
outbox_wipe(char *s)
{
	if (s != NULL)
		sodium_memzero(s, strlen(s));
	free(s);
}

static int
outbox_abandon(void *arg)
{
	return ob_stopping;
}

/*
 * Make the one-time link row i's email carries (its mint, JSON): the
 * token is made here and only its hash stored, in the message's tenant
 * (access_mint()).  0, the link in out (OUTBOX_LINK_MAX bytes) and the
 * account's address in to (OUTBOX_ADDR_MAX);
 * CD_ERR_INVALID when there is no such account (nothing to send: why
 * says so); CD_ERR_DATABASE to try again later.
 */
static int
outbox_mint(PGresult *res, int i, char *out, char *to, char *why,
    size_t whylen)
{
	char token[AUTH_TOKEN_LEN + 1], hex[AUTH_HASH_LEN * 2 + 1], ttl[16];
	json_t *mint = json_loads(PQgetvalue(res, i, C_MINT), 0, NULL);
	const char *p[5];
	struct db_conn *c = NULL;
	PGresult *r = NULL;
	int rc = CD_ERR_DATABASE;

	snprintf(why, whylen, "the link could not be made; trying again");
	auth_token_new(token);
	auth_token_hash_hex(token, hex);
	if (mint == NULL)
		goto out;
	snprintf(ttl, sizeof(ttl), "%lld", (long long)json_integer_value(
	    json_object_get(mint, "ttl_s")));
	p[0] = json_string_value(json_object_get(mint, "kind"));
	p[1] = json_string_value(json_object_get(mint, "user_id"));
	p[2] = json_string_value(json_object_get(mint, "email"));
	p[3] = hex;
	p[4] = ttl;
	if (p[0] == NULL || db_acquire(ob_pool, 10000, &c) != 0 ||
	    db_begin(c, PQgetvalue(res, i, C_TENANT)) != 0 ||
	    (r = db_exec(c, "outbox_mint", 5, p)) == NULL)
		goto out;
	if (PQntuples(r) != 1) {
		snprintf(why, whylen, "no active account %s: nothing sent",
		    p[1] != NULL ? "for this link" : "with this email");
		rc = CD_ERR_INVALID;
		goto out;
	}
	if (db_commit(c) != 0)
		goto out;
	outbox_link(out, OUTBOX_LINK_MAX, ob_link_base, json_string_value(
	    json_object_get(mint, "page")) ?: "", PQgetvalue(r, 0, 0), token);
	snprintf(to, OUTBOX_ADDR_MAX, "%s", PQgetvalue(r, 0, 2));
	rc = 0;
 out:
	sodium_memzero(token, sizeof(token));
	PQclear(r);
	db_release(c);		/* rolls back what did not commit */
	json_decref(mint);
	return rc;
}

/* Send the email of row i: 0 or as smtp_send (or outbox_mint). */
static int
outbox_send_email(PGresult *res, int i, char *why, size_t whylen)
{
	char made[OUTBOX_LINK_MAX], to[OUTBOX_ADDR_MAX];
	const char *link = NULL;
	struct smtp_msg m;
	char *text = NULL, *html = NULL;
	int rc = CD_ERR_NOMEM;

	snprintf(to, sizeof(to), "%s", PQgetvalue(res, i, C_TO));
	if (!PQgetisnull(res, i, C_MINT)) {
		if ((rc = outbox_mint(res, i, made, to, why, whylen)) != 0)
			return rc;
		link = made;
		rc = CD_ERR_NOMEM;
	}
	snprintf(why, whylen, "out of memory");
	memset(&m, 0, sizeof(m));
	m.id = PQgetvalue(res, i, C_ID);
	m.to = to;
	m.from_name = PQgetisnull(res, i, C_SENDER) ? NULL :
	    PQgetvalue(res, i, C_SENDER);
	m.subject = PQgetvalue(res, i, C_SUBJECT);
	if ((text = outbox_put_link(PQgetvalue(res, i, C_TEXT), link, 0)) ==
	    NULL)
		goto out;
	if (!PQgetisnull(res, i, C_HTML) && (html = outbox_put_link(
	    PQgetvalue(res, i, C_HTML), link, 1)) == NULL)
		goto out;
	m.text = text;
	m.html = html;
	rc = smtp_send(&ob_smtp, &m, why, whylen);
 out:
	/* They held the secret link. */
	outbox_wipe(text);
	outbox_wipe(html);
	sodium_memzero(made, sizeof(made));
	return rc;
}

/* Deliver the webhook of row i: 0 or as webhook_deliver. */
static int
outbox_send_webhook(PGresult *res, int i, char *why, size_t whylen)
{
	struct webhook_post w;

	if (PQgetisnull(res, i, C_URL)) {
		snprintf(why, whylen, "the endpoint was deleted");
		return CD_ERR_INVALID;
	}
	memset(&w, 0, sizeof(w));
	w.url = PQgetvalue(res, i, C_URL);
	w.secret = PQgetvalue(res, i, C_SECRET);
	w.id = PQgetvalue(res, i, C_ID);
	w.body = PQgetvalue(res, i, C_PAYLOAD);
	w.allow = ob_allow;
	w.timeout_s = WEBHOOK_TIMEOUT_S;
	w.abandon = outbox_abandon;
	return webhook_deliver(&w, why, whylen);
}

/* Send row i of a claim, then record what came of it. */
static void
outbox_send(PGresult *res, int i)
{
	const char *key[3] = { PQgetvalue(res, i, C_TENANT),
	    PQgetvalue(res, i, C_ID), PQgetvalue(res, i, C_TOKEN) };
	int hook = strcmp(PQgetvalue(res, i, C_CHANNEL), "webhook") == 0;
	char why[512] = "";
	PGresult *done;
	int rc;

	rc = hook ? outbox_send_webhook(res, i, why, sizeof(why)) :
	    outbox_send_email(res, i, why, sizeof(why));
	if (rc == 0) {
		PQclear(outbox_across("outbox_sent", 3, key));
		log_info("outbox: sent %s", key[1]);
	} else if (ob_stopping) {
		PQclear(outbox_across("outbox_release", 3, key));
		return;
	} else {
		const char *p[5] = { key[0], key[1], key[2], why,
		    rc == CD_ERR_INVALID ? "true" : "false" };

		done = outbox_across("outbox_retry", 5, p);
		log_warnx("outbox: %s (attempt %s): %s%s", key[1],
		    PQgetvalue(res, i, C_ATTEMPTS), why, done != NULL &&
		    PQntuples(done) == 1 && strcmp(PQgetvalue(done, 0, 0),
		    "failed") == 0 ? "; given up" : "");
		PQclear(done);
	}
	if (hook) {
		const char *p[4] = { key[0], PQgetvalue(res, i, C_TO), rc == 0 ?
		    "false" : "true", rc == 0 ? NULL : why };

		PQclear(outbox_across("outbox_webhook_state", 4, p));
	}
}

/*
 * Make the nudges that came due, when a scan is due: tenant by tenant,
 * each in a transaction of its own, so that one tenant's failure is that
 * tenant's alone and no transaction spans them all.  What a scan makes is
 * queued, and its commit wakes the dispatchers.  A failed tenant is tried
 * again at the next interval.
 */
static void
outbox_nudges(void)
{
	long long now = clock_ms();
	PGresult *ids, *res;
	long made = 0;

	if (ob_nudge_s <= 0 || now < ob_nudge_next)
		return;
	ob_nudge_next = now + ob_nudge_s * 1000LL;
	if ((ids = db_once(ob_pool, NULL, "outbox_nudge_tenants", 0, NULL)) ==
	    NULL) {
		log_warnx("outbox: the tenants to scan for nudges are unknown");
		return;
	}
	for (int i = 0; i < PQntuples(ids) && !ob_stopping; i++) {
		const char *p[1] = { PQgetvalue(ids, i, 0) };

		if ((res = db_once(ob_pool, NULL, "outbox_nudge_scan", 1, p)) ==
		    NULL) {
			log_warnx("outbox: the scan for nudges of tenant %s "
			    "failed", p[0]);
			continue;
		}
		made += atol(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	PQclear(ids);
	if (made > 0)
		log_info("outbox: %ld nudges made", made);
}

/* Claim a batch and send it: 1 sent some, 0 none due, <0 (jobq_serve). */
static int
outbox_next(void *arg)
{
	const char *claim[1] = { ob_smtp.url != NULL && ob_smtp.url[0] != '\0' ?
	    "true" : "false" };
	PGresult *res;
	int n;

	if (ob_stopping)
		return 0;
	outbox_nudges();
	if ((res = outbox_across("outbox_claim", 1, claim)) == NULL)
		return CD_ERR_DATABASE;
	n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		if (ob_stopping) {
			const char *key[3] = { PQgetvalue(res, i, C_TENANT),
			    PQgetvalue(res, i, C_ID), PQgetvalue(res, i,
			    C_TOKEN) };

			PQclear(outbox_across("outbox_release", 3, key));
			continue;
		}
		outbox_send(res, i);
	}
	PQclear(res);
	return n > 0;
}

static bool
outbox_is_stopping(void *arg)
{
	return ob_stopping;
}

static void *
outbox_main(void *arg)
{
	struct jobq_serve serve = { .conninfo = ob_conninfo,
	    .channel = "cohortd_outbox", .run_one = outbox_next,
	    .idle = NULL, .stopping = outbox_is_stopping, .arg = NULL };

	if (jobq_serve(&serve) != 0)
		log_warnx("outbox: out of memory; not sending");
	return NULL;
}

int
outbox_start(struct db_pool *pool, const char *conninfo,
    const struct smtp_server *smtp, const char *webhook_allow,
    const char *link_base, int nudge_s, char *err, size_t errlen)
{
	int rc;

	ob_link_base = link_base;
	if (smtp->url == NULL || smtp->url[0] == '\0')
		log_info("outbox: no COHORTD_SMTP_URL; emails are kept unsent");
	else if ((rc = smtp_server_check(smtp->url, smtp->from, err,
	    errlen)) != 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "libcurl failed to initialize");
		return CD_ERR_NOMEM;
	}
	ob_smtp = *smtp;
	ob_smtp.timeout_s = SMTP_TIMEOUT_S;
	ob_smtp.abandon = outbox_abandon;
	ob_smtp.arg = NULL;
	ob_allow = webhook_allow;
	ob_nudge_s = nudge_s;
	ob_nudge_next = 0;
	ob_pool = pool;
	ob_stopping = 0;
	if ((ob_conninfo = strdup(conninfo)) == NULL)
		return CD_ERR_NOMEM;
	if (pthread_create(&ob_thread, NULL, outbox_main, NULL) != 0) {
		snprintf(err, errlen, "cannot start the dispatcher");
		return CD_ERR_NOMEM;
	}
	ob_started = true;
	return 0;
}

void
outbox_stop(void)
{
	if (!ob_started)
		return;
	ob_stopping = 1;
	pthread_join(ob_thread, NULL);
	ob_started = false;
	free(ob_conninfo);
	ob_conninfo = NULL;
	curl_global_cleanup();
}
