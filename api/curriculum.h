/*
 * curriculum.h - what the curriculum's resources (programs.c, modules.c,
 * lessons.c, assessments.c) share; not for other files.
 */
#ifndef COHORTD_API_CURRICULUM_H
#define COHORTD_API_CURRICULUM_H

#include "../daemon/http.h"

/* $1 role, $2 user: who may see a row of program p. */
#define VISIBLE(p) "($1 <> 'learner' OR learner_sees_program(" p ", $2::uuid))"

/* 0 when the caller may see program (module) id; CD_ERR_NOT_FOUND when
 * not; CD_ERR_DATABASE. */
int	api_program_visible(struct http_req *r, const char *id);
int	api_module_visible(struct http_req *r, const char *id);

/* One curriculum object the caller may see: stmt takes $1 role, $2 user,
 * $3 the id (r->params[0]); answered as api_exec_one does. */
int	api_visible_get(struct http_req *r, const char *stmt);
/*
 * The children of a parent the caller may see, in order, unpaged (a
 * program has tens of modules, a module a handful of items): 404 when
 * parent_visible says the parent (r->params[0]) is not visible, even if
 * it has no children; list_stmt takes the parameters of api_visible_get.
 */
int	api_child_list(struct http_req *r, int (*parent_visible)(
	    struct http_req *, const char *), const char *list_stmt);
/* DELETE under If-Match: lock (the version), then del; no row deleted
 * answers 409 with busy; type is the audit log's. */
int	api_delete_by(struct http_req *r, const char *lock, const char *del,
	    const char *type, const char *busy);

#endif
