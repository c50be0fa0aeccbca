/*
 * routes.c - the route table: method, path pattern, roles, flags, handler.
 *
 * The OpenAPI document (api/openapi.json) describes exactly these routes;
 * tests/unit/test_openapi.c fails when the two disagree.
 */
#include "api.h"

#define P	ROLE_PLATFORM
#define A	ROLE_ADMIN
#define I	ROLE_INSTRUCTOR
#define L	ROLE_LEARNER
#define J	ROUTE_JSON

const struct route api_routes[] = {
	/* operations */
	{ HTTP_GET,    "/healthz",		ROLE_ANON, ROUTE_NO_TX, api_healthz },
	{ HTTP_GET,    "/readyz",		ROLE_ANON, ROUTE_NO_TX, api_readyz },
	{ HTTP_GET,    "/metrics",		ROLE_ANON, ROUTE_NO_TX, api_metrics },
	{ HTTP_GET,    "/v1/openapi.json",	ROLE_ANON, ROUTE_NO_TX, api_openapi },

	/* identity */
	{ HTTP_POST,   "/v1/tenants",		P, J, api_tenant_create },
	{ HTTP_GET,    "/v1/tenants",		P, 0, api_tenant_list },
	{ HTTP_GET,    "/v1/tenants/{id}",	P, 0, api_tenant_get },
	{ HTTP_PATCH,  "/v1/tenants/{id}",	P, J, api_tenant_update },
	{ HTTP_POST,   "/v1/users",		A, J, api_user_create },
	{ HTTP_GET,    "/v1/users",		A, 0, api_user_list },
	{ HTTP_GET,    "/v1/users/{id}",	A, 0, api_user_get },
	{ HTTP_PATCH,  "/v1/users/{id}",	A, J, api_user_update },
	{ HTTP_DELETE, "/v1/users/{id}",	A, 0, api_user_delete },
	{ HTTP_GET,    "/v1/me",		P | A | I | L, 0, api_me },
	{ HTTP_POST,   "/v1/auth/login",	ROLE_ANON, J, api_login },
	{ HTTP_POST,   "/v1/auth/logout",	A | I | L, 0, api_logout },
	{ HTTP_POST,   "/v1/api-keys",		A, J | ROUTE_SECRET,
	  api_apikey_create },
	{ HTTP_GET,    "/v1/api-keys",		A, 0, api_apikey_list },
	{ HTTP_DELETE, "/v1/api-keys/{id}",	A, 0, api_apikey_delete },
	{ HTTP_GET,    "/v1/audit-events",	A, 0, api_audit_list },

	/* curriculum */
	{ HTTP_POST,   "/v1/programs",		A | I, J, api_program_create },
	{ HTTP_GET,    "/v1/programs",		A | I | L, 0, api_program_list },
	{ HTTP_GET,    "/v1/programs/{id}",	A | I | L, 0, api_program_get },
	{ HTTP_PATCH,  "/v1/programs/{id}",	A | I, J, api_program_update },
	{ HTTP_DELETE, "/v1/programs/{id}",	A, 0, api_program_delete },
	{ HTTP_POST,   "/v1/programs/{id}/modules", A | I, J, api_module_create },
	{ HTTP_GET,    "/v1/programs/{id}/modules", A | I | L, 0, api_module_list },
	{ HTTP_PUT,    "/v1/programs/{id}/modules/order", A | I, J, api_module_order },
	{ HTTP_GET,    "/v1/modules/{id}",	A | I | L, 0, api_module_get },
	{ HTTP_PATCH,  "/v1/modules/{id}",	A | I, J, api_module_update },
	{ HTTP_DELETE, "/v1/modules/{id}",	A | I, 0, api_module_delete },
	{ HTTP_POST,   "/v1/modules/{id}/lessons", A | I, J, api_lesson_create },
	{ HTTP_GET,    "/v1/modules/{id}/lessons", A | I | L, 0, api_lesson_list },
	{ HTTP_GET,    "/v1/lessons/{id}",	A | I | L, 0, api_lesson_get },
	{ HTTP_PATCH,  "/v1/lessons/{id}",	A | I, J, api_lesson_update },
	{ HTTP_DELETE, "/v1/lessons/{id}",	A | I, 0, api_lesson_delete },
	{ HTTP_POST,   "/v1/modules/{id}/assessments", A | I, J, api_assessment_create },
	{ HTTP_GET,    "/v1/modules/{id}/assessments", A | I | L, 0, api_assessment_list },
	{ HTTP_GET,    "/v1/assessments/{id}",	A | I | L, 0, api_assessment_get },
	{ HTTP_PATCH,  "/v1/assessments/{id}",	A | I, J, api_assessment_update },
	{ HTTP_DELETE, "/v1/assessments/{id}",	A | I, 0, api_assessment_delete },

	/* cohorts and enrollment */
	{ HTTP_POST,   "/v1/cohorts",		A, J, api_cohort_create },
	{ HTTP_GET,    "/v1/cohorts",		A | I | L, 0, api_cohort_list },
	{ HTTP_GET,    "/v1/cohorts/{id}",	A | I | L, 0, api_cohort_get },
	{ HTTP_PATCH,  "/v1/cohorts/{id}",	A | I, J, api_cohort_update },
	{ HTTP_DELETE, "/v1/cohorts/{id}",	A, 0, api_cohort_delete },
	{ HTTP_PUT,    "/v1/cohorts/{id}/late-policy", A | I, J, api_cohort_late_policy },
	{ HTTP_POST,   "/v1/cohorts/{id}/enrollments", A | I, J, api_enroll },
	{ HTTP_GET,    "/v1/cohorts/{id}/enrollments", A | I, 0, api_enrollment_list },
	{ HTTP_POST,   "/v1/cohorts/{id}/enrollments/batch", A | I, J | ROUTE_CSV,
	  api_enroll_batch },
	{ HTTP_POST,   "/v1/enrollments/{id}/withdraw", A | I | L, 0,
	  api_enrollment_withdraw },
	{ HTTP_GET,    "/v1/me/enrollments",	L, 0, api_my_enrollments },

	/* learning */
	{ HTTP_POST,   "/v1/lessons/{id}/completion", L, ROUTE_JSON_OPTIONAL,
	  api_lesson_complete },
	{ HTTP_POST,   "/v1/assessments/{id}/submissions", L, J,
	  api_submission_create },
	{ HTTP_POST,   "/v1/assessments/{id}/extensions", A | I, J,
	  api_extension_create },
	{ HTTP_GET,    "/v1/cohorts/{id}/progress", A | I | L, 0, api_progress },

	/* exercises and grading */
	{ HTTP_POST,   "/v1/exercises",		A | I, J, api_exercise_create },
	{ HTTP_GET,    "/v1/exercises",		A | I, 0, api_exercise_list },
	{ HTTP_GET,    "/v1/exercises/{id}",	A | I, 0, api_exercise_get },
	{ HTTP_PATCH,  "/v1/exercises/{id}",	A | I, J, api_exercise_update },
	{ HTTP_GET,    "/v1/exercises/{id}/starter", A | I | L, 0,
	  api_exercise_starter },
	{ HTTP_POST,   "/v1/exercises/import",	A | I, J, api_exercise_import },
	{ HTTP_POST,   "/v1/exercises/{id}/verify", A | I, 0, api_exercise_verify },
	{ HTTP_GET,    "/v1/catalog/exercises",	A | I, 0, api_catalog_list },
	{ HTTP_GET,    "/v1/submissions/{id}",	A | I | L, 0, api_submission_get },
	{ HTTP_GET,    "/v1/submissions/{id}/events", A | I | L, 0,
	  api_submission_events },
	{ HTTP_POST,   "/v1/assessments/{id}/regrade", A | I, 0, api_regrade },

	/* reports */
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/roster", A | I, 0,
	  api_report_roster },
	{ HTTP_GET,    "/v1/reports/seats",	A | I, 0, api_report_seats },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/gradebook", A | I, 0,
	  api_report_gradebook },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/completion", A | I, 0,
	  api_report_completion },
	{ HTTP_GET,    "/v1/reports/tenants",	P, 0, api_report_tenants },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/engagement", A | I, 0,
	  api_report_engagement },
	{ HTTP_GET,    "/v1/reports/cohorts/{id}/missing", A | I, 0,
	  api_report_missing },
	{ HTTP_GET,    "/v1/reports/exercises/{id}", A | I, 0, api_report_exercise },
	{ HTTP_GET,    "/v1/reports/assessments/{id}/items", A | I, 0,
	  api_report_items },
	{ HTTP_GET,    "/v1/reports/grade-changes", A | I, 0,
	  api_report_grade_changes },
	{ HTTP_POST,   "/v1/reports/jobs",	A | I, J, api_report_job_create },
	{ HTTP_GET,    "/v1/reports/jobs",	A | I, 0, api_report_job_list },
	{ HTTP_GET,    "/v1/reports/jobs/{id}",	A | I, 0, api_report_job_get },
	{ HTTP_GET,    "/v1/reports/jobs/{id}/result", A | I, 0,
	  api_report_job_result },
};

const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
