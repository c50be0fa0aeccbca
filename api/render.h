/*
 * render.h - rows rendered as JSON: one row, a whole list, a single
 * resource with its ETag.
 */
#ifndef COHORTD_API_RENDER_H
#define COHORTD_API_RENDER_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

/*
 * Row i of res as a JSON object keyed by column name, typed by column
 * type (bool, integers, numbers, json/jsonb, else strings; NULL as null).
 * Columns whose names start with '_' are left out.
 */
json_t	*api_row(PGresult *res, int i);
/* Every row of res, as api_row renders them, in an array. */
json_t	*api_rows(PGresult *res);
/* Every row of res as a whole list: {"items": [...], "next_cursor": null}
 * with status 200 (for lists bounded by nature, not paged). */
int	 api_render_list(struct http_req *r, PGresult *res);
/* What column c of res holds, by its type, as api_row renders it. */
enum api_kind { API_KIND_TEXT, API_KIND_BOOL, API_KIND_NUMBER, API_KIND_JSON };
enum api_kind api_col_kind(PGresult *res, int c);
/* The value of a named column of row i, or NULL. */
const char *api_col(PGresult *res, int i, const char *name);

/*
 * Answer with row 0 of res: CD_ERR_NOT_FOUND when there is none; else the
 * ETag from its _version column, 304 for a matching If-None-Match on GET,
 * and the row as JSON with status.  With a Location prefix (e.g.
 * "/v1/programs/"), status 201 also sets Location to prefix + id.
 */
int	 api_render_one(struct http_req *r, PGresult *res, int status,
	    const char *location_prefix);
/*
 * The handler's last statement: in a GET its COMMIT goes with it
 * (db_exec_last); in a change it is db_exec.  A statement after it still
 * runs, in a transaction scoped as before.
 */
PGresult *api_exec_last(struct http_req *r, const char *stmt, int n,
	    const char *const *params);
/* Run stmt (as api_exec_last) and answer with its first row as
 * api_render_one does. */
int	 api_exec_one(struct http_req *r, const char *stmt, int n,
	    const char *const *params, int status);
struct db_conn;
/* Run stmt on c; with out, it must return a row, whose first column goes
 * into out (outlen bytes).  0, CD_ERR_DATABASE, or CD_ERR_INTERNAL when
 * there is no row. */
int	 api_exec_first(struct db_conn *c, const char *stmt, int n,
	    const char *const *p, char *out, size_t outlen);
/* Run stmt on c: 0 when it returns a row, CD_ERR_NOT_FOUND when none,
 * CD_ERR_DATABASE. */
int	 api_exec_exists(struct db_conn *c, const char *stmt, int n,
	    const char *const *p);

/*
 * The buffers row streams fill (db_row_fn): make room for need more
 * bytes and a NUL; append n bytes of s, NUL-terminated.  0 or
 * CD_ERR_NOMEM (the buffer is left as it was).
 */
int	 api_buf_reserve(char **buf, size_t *len, size_t *cap, size_t need);
int	 api_buf_put(char **buf, size_t *len, size_t *cap, const char *s,
	    size_t n);

#endif
