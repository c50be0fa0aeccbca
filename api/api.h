/*
 * api.h - cohortd's REST API: the route table and its handlers.
 *
 * Handlers are grouped by resource, one file each (system.c, ...), and
 * registered in routes.c.  They parse and validate, call the module that
 * owns the resource, and render; the HTTP layer (daemon/http.h) does the
 * rest.
 */
#ifndef COHORTD_API_H
#define COHORTD_API_H

#include "../daemon/http.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

/* What /readyz compares the database's schema version with. */
void	api_system_set_expected_schema(int version);
/* What /readyz reports of the sandbox (a summary object; taken). */
void	api_system_set_sandbox(json_t *caps);
/* Whether this process supervises graders: /readyz then needs a sandbox. */
void	api_system_set_needs_graders(int yes);

/* system.c */
int	api_healthz(struct http_req *r);
int	api_readyz(struct http_req *r);
int	api_metrics(struct http_req *r);
int	api_openapi(struct http_req *r);

/* tenants.c */
struct db_conn;
#include <libpq-fe.h>
/*
 * Create a tenant and its first administrator (password already hashed)
 * in c's transaction, which is left scoped to the new tenant.  The caller
 * PQclears *tenant and *admin.  CD_ERR_CONFLICT: the slug is taken.
 */
int	api_tenant_insert(struct db_conn *c, const char *slug,
	    const char *name, const char *email, const char *admin_name,
	    const char *hash, PGresult **tenant, PGresult **admin);
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
/* Start a session and answer as a login does (access.c uses it too). */
int	api_session_issue(struct http_req *r, const char *tenant_id,
	    const char *user_id, const char *role);

/* access.c: invitations, password resets, a password change */
void	api_access_init(void);
/*
 * Invite each user of user_ids (a JSON array of ids) that r's transaction
 * created without a password: a one-time link, emailed.  *urls gets an
 * object mapping those users' ids to their links when the caller is an
 * admin (the response is then marked secret and no-store), else an
 * empty one; the caller owns it.  0 or CD_ERR_*.
 */
int	api_access_invite_new(struct http_req *r, json_t *user_ids,
	    json_t **urls);
/* Revoke user_id's live links (its email or password changed, or it was
 * deactivated).  0 or CD_ERR_*. */
int	api_access_revoke(struct http_req *r, const char *user_id);
int	api_invitation_create(struct http_req *r);
int	api_invitation_accept(struct http_req *r);
int	api_password_reset(struct http_req *r);
int	api_password_reset_confirm(struct http_req *r);
int	api_my_password(struct http_req *r);

/* apikeys.c */
PGresult *api_apikey_insert(struct db_conn *c, const char *name,
	    const char *role, const char *created_by, char *token_out);
int	api_apikey_create(struct http_req *r);
int	api_apikey_list(struct http_req *r);
int	api_apikey_delete(struct http_req *r);

/* audit.c: the HTTP layer's audit hook and the log's reader */
int	api_audit_record(struct http_req *r);
int	api_audit_list(struct http_req *r);

/* programs.c */
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
/* 0 when the caller may see cohort id; CD_ERR_NOT_FOUND otherwise. */
int	api_cohort_visible(struct http_req *r, const char *id);
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
int	api_submission_create(struct http_req *r);
int	api_extension_create(struct http_req *r);
int	api_progress(struct http_req *r);

/* demo.c: load the demo program into a "demo" tenant, in c's platform
 * transaction.  password receives the demo accounts' password.
 * CD_ERR_CONFLICT: the demo tenant exists already. */
#include <stdio.h>
int	api_demo_seed(struct db_conn *c, char *password, size_t pwlen,
	    FILE *out);

/* exercises.c */
int	api_exercise_create(struct http_req *r);
int	api_exercise_list(struct http_req *r);
int	api_exercise_get(struct http_req *r);
int	api_exercise_update(struct http_req *r);
int	api_exercise_verify(struct http_req *r);
int	api_exercise_starter(struct http_req *r);
int	api_exercise_import(struct http_req *r);
int	api_catalog_list(struct http_req *r);
int	api_submission_get(struct http_req *r);
int	api_submission_events(struct http_req *r);
int	api_regrade(struct http_req *r);
/* Copy catalog exercise slug into c's tenant (verification queued);
 * id (40 bytes) receives its id. */
int	api_exercise_import_catalog(struct db_conn *c, const char *slug,
	    char *id);
/* Queue an exercise submission for the learner's enrollment (learning.c
 * has checked attempts and computed lateness).  Answers 202. */
int	api_exercise_submit(struct http_req *r, const char *enrollment,
	    int attempt, int days_late, double penalty);

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
struct db_pool;
/* Start n report runner threads on pool (conninfo: for their LISTEN);
 * stop them (a running report is cancelled and queued again). */
int	api_report_jobs_start(struct db_pool *pool, const char *conninfo,
	    int n);
void	api_report_jobs_stop(void);

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
void	api_webhooks_init(void);

/* today.c: preferences, today's plan, spaced review, concepts */
int	api_preferences_get(struct http_req *r);
int	api_preferences_put(struct http_req *r);
int	api_nudge_defaults_get(struct http_req *r);
int	api_nudge_defaults_put(struct http_req *r);
int	api_today(struct http_req *r);
int	api_review_answer(struct http_req *r);
struct api_v;
/* The "concepts" member of obj (pointer base): 1 with *out a PostgreSQL
 * text[] literal (malloc'd) when present and valid; 0 when absent or
 * invalid (error recorded). */
int	api_concepts_field(struct api_v *v, json_t *obj, const char *base,
	    char **out);
/* Record that the learner went through lesson again (a review). */
int	api_today_lesson_reviewed(struct http_req *r, const char *enrollment,
	    const char *lesson);
/* Is answer a right answer to a question of kind with key (learning.c)? */
int	api_quiz_right(const char *kind, json_t *key, double tolerance,
	    json_t *answer);

/* Register the statements of every API module with db. */
void	api_init(void);
void	api_tenants_init(void);
void	api_users_init(void);
void	api_session_init(void);
void	api_apikeys_init(void);
void	api_audit_init(void);
void	api_programs_init(void);
void	api_cohorts_init(void);
void	api_learning_init(void);
void	api_exercises_init(void);
void	api_reports_init(void);
void	api_report_jobs_init(void);
void	api_today_init(void);

#endif
