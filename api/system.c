/*
 * system.c - the operational endpoints: liveness, readiness, metrics and
 * the OpenAPI document.
 */
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../daemon/embed.h"
#include "../common/err.h"
#include "../daemon/health.h"
#include "../daemon/metrics.h"
#include "api.h"
#include "routes.h"
#include "api-int.h"

/* /readyz answers within 2 s whatever the database does. */
#define READY_DB_TIMEOUT_MS	1500

static int api_expected_schema;
static json_t *api_sandbox;	/* what the sandbox enforces on this host */
static int api_needs_graders;	/* this process supervises graders */
/* The ready answer, the same every time: rendered once, when the two
 * above are set (at startup, before any request). */
static char *api_ready_body;
static size_t api_ready_len;

static void
system_render_ready(void)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:i}, s:O*}", "status", "ready",
	    "database", "ok", "schema", "version", api_expected_schema,
	    "sandbox", api_sandbox);

	free(api_ready_body);
	api_ready_body = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)
	    : NULL;
	api_ready_len = api_ready_body ? strlen(api_ready_body) : 0;
	json_decref(o);
}

/* Run by health.c on a connection of its own, under a deadline. */
static const char system_schema_version[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";

static const struct db_stmt system_stmts[] = {
	/* Graders are processes of their own, maybe on other machines: what
	 * they counted is in the database, and so is the queue. */
	{ "system_grading_metrics", "SELECT name, label, value FROM "
	  "grade_metrics() ORDER BY name, length(label), label" },
};

void
api_system_set_expected_schema(int version)
{
	api_expected_schema = version;
	system_render_ready();
}

void
api_system_set_sandbox(json_t *caps)
{
	json_decref(api_sandbox);
	api_sandbox = caps;
	system_render_ready();
}

void
api_system_set_needs_graders(int yes)
{
	api_needs_graders = yes;
}

void
api_init(const struct cfg *conf)
{
	db_register(system_stmts, sizeof(system_stmts) / sizeof(*system_stmts));
	api_tenants_init();
	api_users_init();
	api_session_init(conf);
	api_apikeys_init();
	api_audit_init();
	api_programs_init();
	api_modules_init();
	api_lessons_init();
	api_assessments_init();
	api_cohorts_init();
	api_learning_init();
	api_today_init();
	api_exercises_init();
	api_submissions_init(conf);
	api_reports_init();
	api_report_jobs_init(conf);
	api_access_init(conf);
	api_webhooks_init(conf);
}

int
api_healthz(struct http_req *r)
{
	return http_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

int
api_readyz(struct http_req *r)
{
	char value[32], cause[256], *body;
	int version;

	/* Not the pool: a check that cannot queue behind user requests
	 * and ends by its deadline even if the server never answers. */
	if (health_query(system_schema_version, READY_DB_TIMEOUT_MS, value,
	    sizeof(value), cause, sizeof(cause)) != 0)
		return http_problem(r, 503, "not-ready", "Not Ready",
		    "database: %s", cause);
	version = atoi(value);
	if (version != api_expected_schema)
		return http_problem(r, 503, "not-ready", "Not Ready",
		    "schema version %d, expected %d", version,
		    api_expected_schema);
	/* A process that supervises graders is not ready if none can run;
	 * an API-only process reports the sandbox and serves regardless. */
	if (api_needs_graders && !json_is_true(json_object_get(api_sandbox,
	    "ready")))
		return http_problem(r, 503, "not-ready", "Not Ready",
		    "sandbox: graders cannot run on this host: %s",
		    json_string_value(json_object_get(api_sandbox, "reason")) ?
		    json_string_value(json_object_get(api_sandbox, "reason")) :
		    "a required mechanism is missing");
	if (api_ready_body == NULL)	/* out of memory at startup */
		return http_json(r, 200, json_pack("{s:s, s:s, s:{s:i}, s:O*}",
		    "status", "ready", "database", "ok", "schema", "version",
		    version, "sandbox", api_sandbox));
	if ((body = strndup(api_ready_body, api_ready_len)) == NULL)
		return CD_ERR_NOMEM;
	return http_body(r, 200, "application/json", body, api_ready_len);
}

int
api_metrics(struct http_req *r)
{
	const struct route *routes;
	size_t n, len;
	char *text;

	PGresult *grading = NULL;

	routes = http_routes(&n);
	/* Without the database the rest is still worth scraping. */
	if (http_tx(r) == 0)
		grading = db_exec(r->db, "system_grading_metrics", 0, NULL);
	text = metrics_render(routes, n, http_pool(), grading, &len);
	PQclear(grading);
	if (text == NULL)
		return CD_ERR_NOMEM;
	return http_body(r, 200, "text/plain; version=0.0.4", text, len);
}

int
api_openapi(struct http_req *r)
{
	char *doc = strndup(embedded_openapi[0].data, embedded_openapi[0].len);

	if (doc == NULL)
		return CD_ERR_NOMEM;
	return http_body(r, 200, "application/json", doc,
	    embedded_openapi[0].len);
}
