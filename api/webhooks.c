/*
 * webhooks.c - /v1/webhooks: a tenant's endpoints for events, their
 * deliveries and a test event.  The secret that signs deliveries is shown
 * once, at creation.  Events are queued by triggers in the transaction of
 * the change (migrations/0014_delivery.sql) and delivered by the outbox's
 * dispatcher (daemon/outbox.c, daemon/webhook.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "../daemon/cfg.h"
#include "../daemon/db.h"
#include "../common/err.h"
#include "../daemon/outbox.h"
#include "../daemon/webhook.h"
#include "api.h"
#include "util.h"

#define HOOK_COLS "id, url, to_jsonb(events) AS events, description, " \
	"failing, last_error, " \
	"rfc3339(created_at) AS created_at, rfc3339(updated_at) AS " \
	"updated_at, version AS _version"

static const struct db_stmt webhook_stmts[] = {
	{ "webhook_insert", "INSERT INTO webhooks (tenant_id, url, events, "
	  "description, secret) VALUES (current_tenant(), $1, $2::text[], $3, "
	  "$4) RETURNING " HOOK_COLS },
	{ "webhook_list", "SELECT " HOOK_COLS ", created_at::text AS _k_ts, "
	  "id AS _k_id FROM webhooks WHERE tenant_id = current_tenant() AND "
	  "(created_at, id) > ($1::timestamptz, $2::uuid) ORDER BY "
	  "created_at, id LIMIT $3" },
	{ "webhook_get", "SELECT " HOOK_COLS " FROM webhooks WHERE tenant_id "
	  "= current_tenant() AND id = $1" },
	{ "webhook_lock", "SELECT version FROM webhooks WHERE tenant_id = "
	  "current_tenant() AND id = $1 FOR UPDATE" },
	{ "webhook_update", "UPDATE webhooks SET url = coalesce($2, url), "
	  "events = coalesce($3::text[], events), description = coalesce($4, "
	  "description), updated_at = clock_timestamp(), version = version + "
	  "1 WHERE tenant_id = current_tenant() AND id = $1 RETURNING "
	  HOOK_COLS },
	/* Its deliveries not yet sent go with it (nowhere to send them). */
	{ "webhook_delete", "WITH d AS (DELETE FROM webhooks WHERE tenant_id "
	  "= current_tenant() AND id = $1 RETURNING id) UPDATE outbox SET "
	  "state = 'failed', last_error = 'the endpoint was deleted' FROM d "
	  "WHERE outbox.tenant_id = current_tenant() AND outbox.channel = "
	  "'webhook' AND outbox.recipient = d.id::text AND outbox.state = "
	  "'unsent'" },
	{ "webhook_exists", "SELECT 1 FROM webhooks WHERE tenant_id = "
	  "current_tenant() AND id = $1" },
};

static const char *webhook_allow;

void
api_webhooks_init(const struct cfg *conf)
{
	webhook_allow = conf->webhook_allow;
	db_register(webhook_stmts, sizeof(webhook_stmts) /
	    sizeof(*webhook_stmts));
}

/*
 * The "events" member as a PostgreSQL text[] literal (malloc'd), NULL when
 * absent or invalid (an error recorded).
 */
static char *
webhook_events_arg(struct api_v *v, json_t *body, int required)
{
	json_t *arr = json_object_get(body, "events"), *e;
	size_t i;

	if (arr == NULL) {
		if (required)
			v_error(v, "/events", "required");
		return NULL;
	}
	if (!json_is_array(arr) || json_array_size(arr) < 1 ||
	    json_array_size(arr) > 32) {
		v_error(v, "/events", "a list of 1 to 32 event types");
		return NULL;
	}
	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);
		int known = 0;

		for (int k = 0; s != NULL && webhook_events[k] != NULL; k++)
			known |= strcmp(s, webhook_events[k]) == 0;
		if (!known) {
			char ptr[32];

			snprintf(ptr, sizeof(ptr), "/events/%zu", i);
			v_error(v, ptr, "not an event type: enrollment.created, "
			    "enrollment.promoted, enrollment.withdrawn, "
			    "enrollment.completed, submission.graded, "
			    "quiz.submitted, exercise.verified, "
			    "exercise.rejected, report_job.done or "
			    "learner.nudged");
			return NULL;
		}
	}
	/* Known names: letters, dots and underscores only. */
	return api_text_array(arr);
}

/* The "url" member, checked against the rules (webhook_url_ok). */
static const char *
webhook_url_arg(struct api_v *v, json_t *body, int required)
{
	const char *url = v_str(v, body, "", "url", required, 8, 2048);
	char why[256];

	if (url != NULL && !webhook_url_ok(url, webhook_allow, why,
	    sizeof(why))) {
		v_error(v, "/url", "%s", why);
		return NULL;
	}
	return url;
}

/* An endpoint's fields, from body; create: url and events required.
 * *events is malloc'd (webhook_events_arg). */
static void
webhook_fields(struct api_v *v, struct http_req *r, int create,
    const char **url, char **events, const char **desc)
{
	static const char *const allowed[] = { "url", "events", "description",
		NULL };
	json_t *body;

	if ((body = v_begin(v, r, allowed)) != NULL) {
		*url = webhook_url_arg(v, body, create);
		*events = webhook_events_arg(v, body, create);
		*desc = v_str(v, body, "", "description", 0, 0, 500);
	}
}

int
api_webhook_create(struct http_req *r)
{
	char secret[64], loc[96];
	struct api_v v;
	json_t *out;
	const char *url = NULL, *desc = NULL;
	char *events = NULL;
	PGresult *res = NULL;
	int rc = CD_ERR_INTERNAL;

	webhook_fields(&v, r, 1, &url, &events, &desc);
	if ((rc = v_failed(&v, r)) != 0)
		goto out;
	webhook_secret_new(secret, sizeof(secret));
	{
		const char *p[4] = { url, events, desc ? desc : "", secret };

		if ((res = db_exec(r->db, "webhook_insert", 4, p)) == NULL) {
			rc = CD_ERR_DATABASE;
			goto out;
		}
	}
	out = api_row(res, 0);
	json_object_set_new(out, "secret", json_string(secret));
	api_audited(r, "webhook", api_col(res, 0, "id"));
	snprintf(loc, sizeof(loc), "/v1/webhooks/%s", api_col(res, 0, "id"));
	http_add_header(r, "Location", loc);
	rc = http_json(r, 201, out);
 out:
	sodium_memzero(secret, sizeof(secret));
	free(events);
	PQclear(res);
	v_free(&v);
	return api_result(rc);
}

int
api_webhook_list(struct http_req *r)
{
	return api_page_exec(r, "webhook_list", 0, NULL);
}

int
api_webhook_get(struct http_req *r)
{
	const char *p[1] = { r->params[0] };

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	return api_exec_one(r, "webhook_get", 1, p, 200);
}

int
api_webhook_update(struct http_req *r)
{
	struct api_v v;
	const char *url = NULL, *desc = NULL;
	char *events = NULL;
	int rc = CD_ERR_INTERNAL;

	webhook_fields(&v, r, 0, &url, &events, &desc);
	if ((rc = v_failed(&v, r)) == 0 && (rc = api_lock(r, "webhook_lock",
	    r->params[0])) == 0) {
		const char *p[4] = { r->params[0], url, events, desc };

		api_audited(r, "webhook", r->params[0]);
		rc = api_exec_one(r, "webhook_update", 4, p, 200);
	}
	free(events);
	v_free(&v);
	return api_result(rc);
}

int
api_webhook_delete(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	int rc;

	if ((rc = api_lock(r, "webhook_lock", r->params[0])) != 0)
		return api_result(rc);
	if (db_rows(r->db, "webhook_delete", 1, p) < 0)
		return CD_ERR_DATABASE;
	api_audited(r, "webhook", r->params[0]);
	return http_body(r, 204, "application/json", NULL, 0);
}

/* 0 when endpoint id exists; CD_ERR_NOT_FOUND or CD_ERR_DATABASE. */
static int
webhook_exists(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	int n;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((n = db_rows(r->db, "webhook_exists", 1, p)) < 0)
		return n;
	return n == 1 ? 0 : CD_ERR_NOT_FOUND;
}

int
api_webhook_deliveries(struct http_req *r)
{
	const char *p[1] = { r->params[0] };
	int rc;

	if ((rc = webhook_exists(r)) != 0)
		return api_result(rc);
	return api_page_exec_desc(r, OUTBOX_DELIVERIES_STMT, 1, p);
}

int
api_webhook_test(struct http_req *r)
{
	char id[40];
	int rc;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((rc = outbox_webhook_test(r->db, r->params[0], id)) < 0)
		return api_result(rc);
	if (rc == 0)
		return CD_ERR_NOT_FOUND;
	api_audited(r, "webhook", r->params[0]);
	return http_json(r, 202, json_pack("{s:s, s:s}", "id", id, "state",
	    "unsent"));
}
