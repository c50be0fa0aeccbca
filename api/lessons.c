/*
 * lessons.c - /v1/lessons and /v1/modules/{id}/lessons.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/db.h"
#include "../common/err.h"
#include "api.h"
#include "util.h"
#include "curriculum.h"

#define LESSON_COLS "l.id, l.module_id, l.title, l.body, l.estimated_minutes, " \
	"l.position, to_json(l.concepts) AS concepts, " \
	"rfc3339(l.created_at) AS created_at, " \
	"rfc3339(l.updated_at) AS updated_at, l.version AS _version"

static const struct db_stmt lesson_stmts[] = {
	{ "lesson_insert", "INSERT INTO lessons AS l (tenant_id, module_id, "
	  "title, body, estimated_minutes, position, concepts) SELECT "
	  "current_tenant(), $1, $2, coalesce($3, ''), $4::int, coalesce("
	  "$5::int, coalesce(max(x.position), 0) + 1), coalesce($6::text[], "
	  "'{}') FROM modules m LEFT JOIN lessons x ON "
	  "x.tenant_id = m.tenant_id AND x.module_id = m.id WHERE m.tenant_id = "
	  "current_tenant() AND m.id = $1 GROUP BY m.id RETURNING " LESSON_COLS },
	{ "lesson_get", "SELECT " LESSON_COLS " FROM lessons l JOIN modules m ON "
	  "m.tenant_id = l.tenant_id AND m.id = l.module_id WHERE l.tenant_id = "
	  "current_tenant() AND l.id = $3 AND " VISIBLE("m.program_id") },
	{ "lesson_list", "SELECT " LESSON_COLS " FROM lessons l JOIN modules m ON "
	  "m.tenant_id = l.tenant_id AND m.id = l.module_id WHERE l.tenant_id = "
	  "current_tenant() AND l.module_id = $3 AND " VISIBLE("m.program_id")
	  " ORDER BY l.position, l.id" },
	{ "lesson_lock", "SELECT version FROM lessons WHERE tenant_id = "
	  "current_tenant() AND id = $1 FOR UPDATE" },
	{ "lesson_update", "UPDATE lessons l SET title = coalesce($2, title), "
	  "body = coalesce($3, body), estimated_minutes = coalesce($4::int, "
	  "estimated_minutes), position = coalesce($5::int, position), "
	  "concepts = coalesce($6::text[], concepts), "
	  "updated_at = clock_timestamp(), version = version + 1 WHERE "
	  "l.tenant_id = current_tenant() AND l.id = $1 RETURNING " LESSON_COLS },
	{ "lesson_delete", "DELETE FROM lessons WHERE tenant_id = "
	  "current_tenant() AND id = $1 RETURNING id" },

};

void
api_lessons_init(void)
{
	db_register(lesson_stmts, sizeof(lesson_stmts) /
	    sizeof(*lesson_stmts));
}

int
api_lesson_insert(struct db_conn *c, const char *module_id,
    const char *title, const char *body, const char *minutes,
    const char *concepts)
{
	const char *p[6] = { module_id, title, body, minutes, NULL, concepts };

	return api_exec_first(c, "lesson_insert", 6, p, NULL, 0);
}

static int
lesson_fields(struct api_v *v, json_t *body, int creating, const char **title,
    const char **text, char *minutes, char *position, char **concepts)
{
	static const char *const allowed[] = { "title", "body",
		"estimated_minutes", "position", "concepts", NULL };
	long m, pos;

	v_only(v, body, "", allowed);
	api_concepts_field(v, body, "", concepts);
	*title = v_str(v, body, "", "title", creating, 1, 200);
	*text = v_str(v, body, "", "body", 0, 0, 65536);
	minutes[0] = position[0] = '\0';
	if (v_int(v, body, "", "estimated_minutes", creating, 1, 60, &m))
		snprintf(minutes, 16, "%ld", m);
	if (v_int(v, body, "", "position", 0, 1, 100000, &pos))
		snprintf(position, 16, "%ld", pos);
	return 0;
}

int
api_lesson_create(struct http_req *r)
{
	struct api_v v;
	json_t *body;
	const char *title = NULL, *text = NULL;
	char minutes[16] = "", position[16] = "", *concepts = NULL;
	PGresult *res;
	int rc = CD_ERR_INTERNAL;

	if (!api_uuid_ok(r->params[0]))
		return CD_ERR_NOT_FOUND;
	if ((body = v_begin(&v, r, NULL)) != NULL)
		lesson_fields(&v, body, 1, &title, &text, minutes, position,
		    &concepts);
	if ((rc = v_failed(&v, r)) == 0) {
		const char *p[6] = { r->params[0], title, text, minutes,
		    position[0] ? position : NULL, concepts };

		if ((res = db_exec(r->db, "lesson_insert", 6, p)) == NULL)
			rc = CD_ERR_DATABASE;
		else {
			if (PQntuples(res) == 1)
				api_audited(r, "lesson", api_col(res, 0, "id"));
			rc = api_render_one(r, res, 201, "/v1/lessons/");
			PQclear(res);
		}
	}
	free(concepts);
	v_free(&v);
	return api_result(rc);
}

int
api_lesson_list(struct http_req *r)
{
	return api_child_list(r, api_module_visible, "lesson_list");
}

int
api_lesson_get(struct http_req *r)
{
	return api_visible_get(r, "lesson_get");
}

int
api_lesson_update(struct http_req *r)
{
	struct api_v v;
	json_t *body;
	const char *title = NULL, *text = NULL;
	char minutes[16] = "", position[16] = "", *concepts = NULL;
	int rc = CD_ERR_INTERNAL;

	if ((body = v_begin(&v, r, NULL)) != NULL)
		lesson_fields(&v, body, 0, &title, &text, minutes, position,
		    &concepts);
	if ((rc = v_failed(&v, r)) == 0 && (rc = api_lock(r, "lesson_lock",
	    r->params[0])) == 0) {
		const char *p[6] = { r->params[0], title, text,
		    minutes[0] ? minutes : NULL, position[0] ? position : NULL,
		    concepts };

		api_audited(r, "lesson", r->params[0]);
		rc = api_exec_one(r, "lesson_update", 6, p, 200);
	}
	free(concepts);
	v_free(&v);
	return api_result(rc);
}

int
api_lesson_delete(struct http_req *r)
{
	return api_delete_by(r, "lesson_lock", "lesson_delete", "lesson",
	    "the lesson cannot be deleted");
}
