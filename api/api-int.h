/*
 * api-int.h - what API files offer each other.  A file runs only its own
 * SQL statements (tests/unit/stmt_owner.py checks it); when it needs
 * another resource's rows it calls that file's function here.
 */
#ifndef COHORTD_API_INT_H
#define COHORTD_API_INT_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

struct db_conn;
struct api_v;

struct cfg;
/* Register each file's statements (api_init calls them all); those that
 * take conf keep the settings they use. */
void	api_tenants_init(void);
void	api_users_init(void);
void	api_session_init(const struct cfg *conf);
void	api_apikeys_init(void);
void	api_audit_init(void);
void	api_programs_init(void);
void	api_modules_init(void);
void	api_lessons_init(void);
void	api_assessments_init(void);
void	api_cohorts_init(void);
void	api_learning_init(void);
void	api_exercises_init(void);
void	api_submissions_init(const struct cfg *conf);
void	api_reports_init(void);
void	api_report_jobs_init(const struct cfg *conf);
void	api_today_init(void);
void	api_webhooks_init(const struct cfg *conf);
void	api_access_init(const struct cfg *conf);

/* session.c */
/* Start a session and answer as a login does (access.c uses it too). */
int	api_session_issue(struct http_req *r, const char *tenant_id,
	    const char *user_id, const char *role);

/* access.c */
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

/* programs.c, modules.c, lessons.c, assessments.c: authoring on c (the
 * demo's seed); ids receive 40 bytes.  0 or CD_ERR_*. */
int	api_program_insert(struct db_conn *c, const char *title,
	    const char *summary, const char *status, char *id);
int	api_module_insert(struct db_conn *c, const char *program_id,
	    const char *title, const char *summary, char *id);
/* ids: a PostgreSQL array literal (api_uuid_array). */
int	api_module_prereq_set(struct db_conn *c, const char *module_id,
	    const char *ids);
int	api_lesson_insert(struct db_conn *c, const char *module_id,
	    const char *title, const char *body, const char *minutes,
	    const char *concepts);
/* p: module_id, title, kind, weight, max_attempts, pass_score, due_days,
 * estimated_minutes, exercise_id (NULL: the default); id may be NULL. */
int	api_assessment_insert(struct db_conn *c, const char *const *p,
	    char *id);
/* p: assessment_id, position, kind, prompt, options, points, answer,
 * tolerance, concepts, explanation. */
int	api_question_insert(struct db_conn *c, const char *const *p);

/* users.c: a user of c's tenant (hash: a password hash, or NULL). */
int	api_user_insert(struct db_conn *c, const char *email,
	    const char *name, const char *role, const char *hash, char *id);

/* cohorts.c */
/* 0 when the caller may see cohort id; CD_ERR_NOT_FOUND otherwise. */
int	api_cohort_visible(struct http_req *r, const char *id);
/* As api_cohort_visible, for a caller of role and user on c. */
int	api_cohort_visible_to(struct db_conn *c, const char *id,
	    const char *role, const char *user);
/* p: program_id, name, starts_at, ends_at, timezone, capacity,
 * waitlist. */
int	api_cohort_insert(struct db_conn *c, const char *const *p, char *id);
/* user_ids: a PostgreSQL array literal. */
int	api_cohort_instructors_set(struct db_conn *c, const char *cohort_id,
	    const char *user_ids);
/* Enroll rows (a JSON array of {"user_id"}) in cohort_id; source names
 * where they came from. */
int	api_enroll_rows(struct db_conn *c, const char *cohort_id,
	    const char *rows, const char *source);

/* learning.c: what a submission needs of the learner's enrollment */
/* The module (40 bytes) of assessment r->params[0]: 0 or CD_ERR_*. */
int	api_learning_assessment_module(struct http_req *r, char *module);
/* The caller's enrollment (40 bytes) for work in module_id, the module
 * unlocked: 0, API_ANSWERED (409/422) or CD_ERR_*. */
int	api_learning_enrollment(struct http_req *r, const char *module_id,
	    char *enrollment);
/* Refresh the enrollment's state (completed?) into state. */
int	api_learning_refresh(struct http_req *r, const char *enrollment,
	    char *state, size_t len);

/* exercises.c */
/* Copy catalog exercise slug into c's tenant (verification queued);
 * id (40 bytes) receives its id. */
int	api_exercise_import_catalog(struct db_conn *c, const char *slug,
	    char *id);

/* submissions.c: is answer a right answer to a question of kind with
 * key?  (today.c's reviews ask too.) */
int	api_quiz_right(const char *kind, json_t *key, double tolerance,
	    json_t *answer);

/* today.c */
/* The "concepts" member of obj (pointer base): 1 with *out a PostgreSQL
 * text[] literal (malloc'd) when present and valid; 0 when absent or
 * invalid (error recorded). */
int	api_concepts_field(struct api_v *v, json_t *obj, const char *base,
	    char **out);
/* Record that the learner went through lesson again (a review). */
int	api_today_lesson_reviewed(struct http_req *r, const char *enrollment,
	    const char *lesson);

#endif
