/*
 * api.h - cohortd's REST API: its handlers, one prototype each.
 *
 * Handlers are grouped by resource, one file each (system.c, ...), and
 * registered in routes.c (routes.h).  They parse and validate, call the
 * module that owns the resource, and render; the HTTP layer
 * (daemon/http.h) does the rest.  What API files offer each other is in
 * api-int.h; what cohortctl calls, in ctl.h.
 */
#ifndef COHORTD_API_H
#define COHORTD_API_H

#include "../daemon/http.h"

/* system.c */
int	api_healthz(struct http_req *r);
int	api_readyz(struct http_req *r);
int	api_metrics(struct http_req *r);
int	api_openapi(struct http_req *r);

/* tenants.c */
int	api_tenant_create(struct http_req *r);
int	api_tenant_list(struct http_req *r);
int	api_tenant_get(struct http_req *r);
int	api_tenant_update(struct http_req *r);

/* users.c */
int	api_user_create(struct http_req *r);
int	api_user_list(struct http_req *r);
int	api_user_get(struct http_req *r);
int	api_user_update(struct http_req *r);
int	api_user_delete(struct http_req *r);
int	api_me(struct http_req *r);

/* session.c */
int	api_login(struct http_req *r);
int	api_logout(struct http_req *r);

/* access.c: invitations, password resets, a password change */
int	api_invitation_create(struct http_req *r);
int	api_invitation_accept(struct http_req *r);
int	api_password_reset(struct http_req *r);
int	api_password_reset_confirm(struct http_req *r);
int	api_my_password(struct http_req *r);

/* apikeys.c */
int	api_apikey_create(struct http_req *r);
int	api_apikey_list(struct http_req *r);
int	api_apikey_delete(struct http_req *r);

/* audit.c: the log's reader (the HTTP layer's audit hook: routes.h) */
int	api_audit_list(struct http_req *r);

/* programs.c, modules.c, lessons.c, assessments.c */
int	api_program_create(struct http_req *r);
int	api_program_list(struct http_req *r);
int	api_program_get(struct http_req *r);
int	api_program_update(struct http_req *r);
int	api_program_delete(struct http_req *r);
int	api_module_create(struct http_req *r);
int	api_module_list(struct http_req *r);
int	api_module_order(struct http_req *r);
int	api_module_get(struct http_req *r);
int	api_module_update(struct http_req *r);
int	api_module_delete(struct http_req *r);
int	api_lesson_create(struct http_req *r);
int	api_lesson_list(struct http_req *r);
int	api_lesson_get(struct http_req *r);
int	api_lesson_update(struct http_req *r);
int	api_lesson_delete(struct http_req *r);
int	api_assessment_create(struct http_req *r);
int	api_assessment_list(struct http_req *r);
int	api_assessment_get(struct http_req *r);
int	api_assessment_update(struct http_req *r);
int	api_assessment_delete(struct http_req *r);

/* cohorts.c */
int	api_cohort_create(struct http_req *r);
int	api_cohort_list(struct http_req *r);
int	api_cohort_get(struct http_req *r);
int	api_cohort_update(struct http_req *r);
int	api_cohort_delete(struct http_req *r);
int	api_cohort_late_policy(struct http_req *r);
int	api_enroll(struct http_req *r);
int	api_enroll_batch(struct http_req *r);
int	api_enrollment_list(struct http_req *r);
int	api_enrollment_withdraw(struct http_req *r);
int	api_my_enrollments(struct http_req *r);

/* learning.c */
int	api_lesson_complete(struct http_req *r);
int	api_extension_create(struct http_req *r);
int	api_progress(struct http_req *r);

/* exercises.c */
int	api_exercise_create(struct http_req *r);
int	api_exercise_list(struct http_req *r);
int	api_exercise_get(struct http_req *r);
int	api_exercise_update(struct http_req *r);
int	api_exercise_verify(struct http_req *r);
int	api_exercise_starter(struct http_req *r);
int	api_exercise_import(struct http_req *r);
int	api_catalog_list(struct http_req *r);

/* submissions.c */
int	api_submission_create(struct http_req *r);
int	api_submission_get(struct http_req *r);
int	api_submission_events(struct http_req *r);
int	api_regrade(struct http_req *r);

/* reports.c */
int	api_report_roster(struct http_req *r);
int	api_report_seats(struct http_req *r);
int	api_report_gradebook(struct http_req *r);
int	api_report_completion(struct http_req *r);
int	api_report_tenants(struct http_req *r);
int	api_report_engagement(struct http_req *r);
int	api_report_missing(struct http_req *r);
int	api_report_items(struct http_req *r);
int	api_report_exercise(struct http_req *r);
int	api_report_grade_changes(struct http_req *r);

/* report_jobs.c */
int	api_report_job_create(struct http_req *r);
int	api_report_job_get(struct http_req *r);
int	api_report_job_list(struct http_req *r);
int	api_report_job_result(struct http_req *r);

/* outbox.c (the outbox's SQL is daemon/outbox.c's) */
int	api_outbox_list(struct http_req *r);

/* webhooks.c */
int	api_webhook_create(struct http_req *r);
int	api_webhook_list(struct http_req *r);
int	api_webhook_get(struct http_req *r);
int	api_webhook_update(struct http_req *r);
int	api_webhook_delete(struct http_req *r);
int	api_webhook_deliveries(struct http_req *r);
int	api_webhook_test(struct http_req *r);

/* today.c: preferences, today's plan, spaced review, concepts */
int	api_preferences_get(struct http_req *r);
int	api_preferences_put(struct http_req *r);
int	api_nudge_defaults_get(struct http_req *r);
int	api_nudge_defaults_put(struct http_req *r);
int	api_today(struct http_req *r);
int	api_review_answer(struct http_req *r);

#endif
