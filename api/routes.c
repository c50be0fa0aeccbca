/*
 * routes.c - the route table: method, path pattern, roles, flags, handler
 * and the query parameters each route takes (NULL: none).
 *
 * The OpenAPI document (api/openapi.json) describes exactly these routes
 * and parameters; tests/unit/test_openapi.c fails when they disagree.
 */
#include "api.h"
#include "routes.h"
#include "util.h"

#define P	ROLE_PLATFORM
#define A	ROLE_ADMIN
#define I	ROLE_INSTRUCTOR
#define L	ROLE_LEARNER
#define J	ROUTE_JSON

/*
 * Query parameters, one list per kind of route.  The layer refuses any
 * other name and any value these do not allow (see struct http_qparam).
 */
#define Q_PAGE \
	{ "limit", HTTP_Q_INT, 1, 500, NULL, NULL, NULL }, \
	{ "cursor", HTTP_Q_TEXT, 1, 256, NULL, NULL, NULL }
#define Q_FORMAT \
	{ "format", HTTP_Q_ENUM, 0, 0, formats, NULL, NULL }
#define Q_ID(name) \
	{ name, HTTP_Q_TEXT, 1, 64, NULL, api_uuid_ok, "an id" }
#define Q_END	{ NULL, 0, 0, 0, NULL, NULL, NULL }

static const char *const formats[] = { "json", "csv", NULL };
static const char *const roles[] = { "admin", "instructor", "learner", NULL };
static const char *const program_states[] = { "draft", "published",
	"archived", NULL };
static const char *const enrollment_states[] = { "active", "waitlisted",
	"withdrawn", "completed", NULL };

static const struct http_qparam q_page[] = { Q_PAGE, Q_END };
static const struct http_qparam q_users[] = {
	{ "role", HTTP_Q_ENUM, 0, 0, roles, NULL, NULL },
	{ "email", HTTP_Q_TEXT, 1, 254, NULL, NULL, NULL },
	Q_PAGE, Q_END };
static const struct http_qparam q_audit[] = {
	{ "object_type", HTTP_Q_TEXT, 1, 64, NULL, NULL, NULL },
	{ "object_id", HTTP_Q_TEXT, 1, 128, NULL, NULL, NULL },
	Q_PAGE, Q_END };
static const struct http_qparam q_programs[] = {
	{ "status", HTTP_Q_ENUM, 0, 0, program_states, NULL, NULL },
	Q_PAGE, Q_END };
static const struct http_qparam q_cohorts[] = {
	Q_ID("program_id"), Q_PAGE, Q_END };
static const struct http_qparam q_enrollments[] = {
	{ "state", HTTP_Q_ENUM, 0, 0, enrollment_states, NULL, NULL },
	Q_PAGE, Q_END };
static const struct http_qparam q_report[] = { Q_FORMAT, Q_END };
static const struct http_qparam q_report_page[] = { Q_FORMAT, Q_PAGE, Q_END };
static const char *const gradebook_extra[] = { "waitlisted", NULL };
static const struct http_qparam q_report_gradebook[] = {
	{ "include", HTTP_Q_ENUM, 0, 0, gradebook_extra, NULL, NULL },
	Q_FORMAT, Q_PAGE, Q_END };
static const struct http_qparam q_report_engagement[] = {
	{ "inactive_days", HTTP_Q_INT, 1, 365, NULL, NULL, NULL },
	Q_FORMAT, Q_PAGE, Q_END };
static const struct http_qparam q_report_exercise[] = {
	Q_ID("cohort_id"), Q_FORMAT, Q_END };
static const char *const outbox_states[] = { "unsent", "sent", "failed",
	NULL };
static const char *const outbox_channels[] = { "email", "webhook", NULL };
static const struct http_qparam q_outbox[] = {
	{ "state", HTTP_Q_ENUM, 0, 0, outbox_states, NULL, NULL },
	{ "channel", HTTP_Q_ENUM, 0, 0, outbox_channels, NULL, NULL },
	Q_PAGE, Q_END };

const struct route api_routes[] = {
	/* operations */
	{ HTTP_GET,    "/healthz",		ROLE_ANON, ROUTE_NO_TX, api_healthz, NULL },
	{ HTTP_GET,    "/readyz",		ROLE_ANON, ROUTE_NO_TX, api_readyz, NULL },
	{ HTTP_GET,    "/metrics",		ROLE_ANON, ROUTE_NO_TX, api_metrics, NULL },
	{ HTTP_GET,    "/v1/openapi.json",	ROLE_ANON, ROUTE_NO_TX, api_openapi, NULL },

	/* identity */
	{ HTTP_POST,   "/v1/tenants",		P, J, api_tenant_create, NULL },
	{ HTTP_GET,    "/v1/tenants",		P, 0, api_tenant_list, q_page },
	{ HTTP_GET,    "/v1/tenants/{id}",	P, 0, api_tenant_get, NULL },
	{ HTTP_PATCH,  "/v1/tenants/{id}",	P, J, api_tenant_update, NULL },
	{ HTTP_POST,   "/v1/users",		A, J, api_user_create, NULL },
	{ HTTP_GET,    "/v1/users",		A, 0, api_user_list, q_users },
	{ HTTP_GET,    "/v1/users/{id}",	A, 0, api_user_get, NULL },
	{ HTTP_PATCH,  "/v1/users/{id}",	A, J, api_user_update, NULL },
	{ HTTP_DELETE, "/v1/users/{id}",	A, 0, api_user_delete, NULL },
	{ HTTP_GET,    "/v1/me",		P | A | I | L, 0, api_me, NULL },
	{ HTTP_POST,   "/v1/auth/login",	ROLE_ANON, J, api_login, NULL },
	{ HTTP_POST,   "/v1/auth/logout",	A | I | L, 0, api_logout, NULL },
	{ HTTP_POST,   "/v1/api-keys",		A, J | ROUTE_SECRET,
	  api_apikey_create, NULL },
	{ HTTP_GET,    "/v1/api-keys",		A, 0, api_apikey_list, q_page },
	{ HTTP_DELETE, "/v1/api-keys/{id}",	A, 0, api_apikey_delete, NULL },
	{ HTTP_GET,    "/v1/audit-events",	A, 0, api_audit_list, q_audit },

	/* getting in: invitations, password resets (access.c) */
	{ HTTP_POST,   "/v1/users/{id}/invitation", A, ROUTE_SECRET,
	  api_invitation_create, NULL },
	{ HTTP_POST,   "/v1/auth/invitations/accept", ROLE_ANON, J,
	  api_invitation_accept, NULL },
	{ HTTP_POST,   "/v1/auth/password-reset", ROLE_ANON, J,
	  api_password_reset, NULL },
	{ HTTP_POST,   "/v1/auth/password-reset/confirm", ROLE_ANON, J,
	  api_password_reset_confirm, NULL },
	{ HTTP_PUT,    "/v1/me/password",	A | I | L, J, api_my_password, NULL },

	/* curriculum */
	{ HTTP_POST,   "/v1/programs",		A | I, J, api_program_create, NULL },
	{ HTTP_GET,    "/v1/programs",		A | I | L, 0, api_program_list,
	  q_programs },
	{ HTTP_GET,    "/v1/programs/{id}",	A | I | L, 0, api_program_get, NULL },
	{ HTTP_PATCH,  "/v1/programs/{id}",	A | I, J, api_program_update, NULL },
	{ HTTP_DELETE, "/v1/programs/{id}",	A, 0, api_program_delete, NULL },
	{ HTTP_POST,   "/v1/programs/{id}/modules", A | I, J, api_module_create, NULL },
	{ HTTP_GET,    "/v1/programs/{id}/modules", A | I | L, 0, api_module_list, NULL },
	{ HTTP_PUT,    "/v1/programs/{id}/modules/order", A | I, J, api_module_order, NULL },
	{ HTTP_GET,    "/v1/modules/{id}",	A | I | L, 0, api_module_get, NULL },
	{ HTTP_PATCH,  "/v1/modules/{id}",	A | I, J, api_module_update, NULL },
	{ HTTP_DELETE, "/v1/modules/{id}",	A | I, 0, api_module_delete, NULL },
	{ HTTP_POST,   "/v1/modules/{id}/lessons", A | I, J, api_lesson_create, NULL },
	{ HTTP_GET,    "/v1/modules/{id}/lessons", A | I | L, 0, api_lesson_list, NULL },
	{ HTTP_GET,    "/v1/lessons/{id}",	A | I | L, 0, api_lesson_get, NULL },
	{ HTTP_PATCH,  "/v1/lessons/{id}",	A | I, J, api_lesson_update, NULL },
	{ HTTP_DELETE, "/v1/lessons/{id}",	A | I, 0, api_lesson_delete, NULL },
	{ HTTP_POST,   "/v1/modules/{id}/assessments", A | I, J, api_assessment_create, NULL },
	{ HTTP_GET,    "/v1/modules/{id}/assessments", A | I | L, 0, api_assessment_list, NULL },
	{ HTTP_GET,    "/v1/assessments/{id}",	A | I | L, 0, api_assessment_get, NULL },
	{ HTTP_PATCH,  "/v1/assessments/{id}",	A | I, J, api_assessment_update, NULL },
	{ HTTP_DELETE, "/v1/assessments/{id}",	A | I, 0, api_assessment_delete, NULL },

	/* cohorts and enrollment */
	{ HTTP_POST,   "/v1/cohorts",		A, J, api_cohort_create, NULL },
	{ HTTP_GET,    "/v1/cohorts",		A | I | L, 0, api_cohort_list,
	  q_cohorts },
	{ HTTP_GET,    "/v1/cohorts/{id}",	A | I | L, 0, api_cohort_get, NULL },
	{ HTTP_PATCH,  "/v1/cohorts/{id}",	A | I, J, api_cohort_update, NULL },
	{ HTTP_DELETE, "/v1/cohorts/{id}",	A, 0, api_cohort_delete, NULL },
	{ HTTP_PUT,    "/v1/cohorts/{id}/late-policy", A | I, J, api_cohort_late_policy, NULL },
	{ HTTP_POST,   "/v1/cohorts/{id}/enrollments", A | I, J, api_enroll, NULL },
	{ HTTP_GET,    "/v1/cohorts/{id}/enrollments", A | I, 0, api_enrollment_list,
	  q_enrollments },
	{ HTTP_POST,   "/v1/cohorts/{id}/enrollments/batch", A | I, J | ROUTE_CSV,
	  api_enroll_batch, NULL },
	{ HTTP_POST,   "/v1/enrollments/{id}/withdraw", A | I | L, 0,
	  api_enrollment_withdraw, NULL },
	{ HTTP_GET,    "/v1/me/enrollments",	L, 0, api_my_enrollments,
	  q_page },

	/* learning */
	{ HTTP_POST,   "/v1/lessons/{id}/completion", L, ROUTE_JSON_OPTIONAL,
	  api_lesson_complete, NULL },
	{ HTTP_POST,   "/v1/assessments/{id}/submissions", L, J,
	  api_submission_create, NULL },
	{ HTTP_POST,   "/v1/assessments/{id}/extensions", A | I, J,
	  api_extension_create, NULL },
	{ HTTP_GET,    "/v1/cohorts/{id}/progress", A | I | L, 0, api_progress,
	  q_page },

	/* exercises and grading */
	{ HTTP_POST,   "/v1/exercises",		A | I, J, api_exercise_create, NULL },
	{ HTTP_GET,    "/v1/exercises",		A | I, 0, api_exercise_list, q_page },
	{ HTTP_GET,    "/v1/exercises/{id}",	A | I, 0, api_exercise_get, NULL },
	{ HTTP_PATCH,  "/v1/exercises/{id}",	A | I, J, api_exercise_update, NULL },
	{ HTTP_GET,    "/v1/exercises/{id}/starter", A | I | L, 0,
	  api_exercise_starter, NULL },
	{ HTTP_POST,   "/v1/exercises/import",	A | I, J, api_exercise_import, NULL },
	{ HTTP_POST,   "/v1/exercises/{id}/verify", A | I, 0, api_exercise_verify, NULL },
	{ HTTP_GET,    "/v1/catalog/exercises",	A | I, 0, api_catalog_list, NULL },
	{ HTTP_GET,    "/v1/submissions/{id}",	A | I | L, 0, api_submission_get, NULL },
	{ HTTP_GET,    "/v1/submissions/{id}/events", A | I | L, 0,
	  api_submission_events, NULL },
	{ HTTP_POST,   "/v1/assessments/{id}/regrade", A | I, 0, api_regrade, NULL },

	/* reports */
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/roster", A | I, 0,
	  api_report_roster, q_report_page },
	{ HTTP_GET,    "/v1/reports/seats",	A | I, 0, api_report_seats,
	  q_report_page },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/gradebook", A | I, 0,
	  api_report_gradebook, q_report_gradebook },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/completion", A | I, 0,
	  api_report_completion, q_report },
	{ HTTP_GET,    "/v1/reports/tenants",	P, 0, api_report_tenants,
	  q_report_page },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/engagement", A | I, 0,
	  api_report_engagement, q_report_engagement },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/missing", A | I, 0,
	  api_report_missing, q_report_page },
	{ HTTP_GET,    "/v1/reports/exercises/{id}", A | I, 0, api_report_exercise,
	  q_report_exercise },
	{ HTTP_GET,    "/v1/reports/assessments/{id}/items", A | I, 0,
	  api_report_items, q_report },
	{ HTTP_GET,    "/v1/reports/grade-changes", A | I, 0,
	  api_report_grade_changes, q_report_page },
	{ HTTP_POST,   "/v1/reports/jobs",	A | I, J, api_report_job_create, NULL },
	{ HTTP_GET,    "/v1/reports/jobs",	A | I, 0, api_report_job_list,
	  q_page },
	{ HTTP_GET,    "/v1/reports/jobs/{id}",	A | I, 0, api_report_job_get, NULL },
	{ HTTP_GET,    "/v1/reports/jobs/{id}/result", A | I, 0,
	  api_report_job_result, NULL },

	/* the daily rhythm: preferences, today's plan, spaced review */
	{ HTTP_GET,    "/v1/me/preferences",	L, 0, api_preferences_get, NULL },
	{ HTTP_PUT,    "/v1/me/preferences",	L, J, api_preferences_put, NULL },
	{ HTTP_GET,    "/v1/me/today",		L, 0, api_today, NULL },
	{ HTTP_GET,    "/v1/settings/nudges",	A, 0, api_nudge_defaults_get,
	  NULL },
	{ HTTP_PUT,    "/v1/settings/nudges",	A, J, api_nudge_defaults_put,
	  NULL },
	{ HTTP_POST,   "/v1/reviews/{id}/answer", L, J, api_review_answer, NULL },

	/* messages to people and systems */
	{ HTTP_GET,    "/v1/outbox",		A, 0, api_outbox_list, q_outbox },
	{ HTTP_POST,   "/v1/webhooks",		A, J | ROUTE_SECRET,
	  api_webhook_create, NULL },
	{ HTTP_GET,    "/v1/webhooks",		A, 0, api_webhook_list, q_page },
	{ HTTP_GET,    "/v1/webhooks/{id}",	A, 0, api_webhook_get, NULL },
	{ HTTP_PATCH,  "/v1/webhooks/{id}",	A, J, api_webhook_update, NULL },
	{ HTTP_DELETE, "/v1/webhooks/{id}",	A, 0, api_webhook_delete, NULL },
	{ HTTP_GET,    "/v1/webhooks/{id}/deliveries", A, 0,
	  api_webhook_deliveries, q_page },
	{ HTTP_POST,   "/v1/webhooks/{id}/test", A, 0, api_webhook_test, NULL },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
