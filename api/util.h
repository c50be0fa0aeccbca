/*
 * util.h - the conventions every resource follows, built once: request
 * validation (422 with an "errors" array), rows rendered as JSON,
 * keyset pagination with opaque cursors, ETags and preconditions.
 */
#ifndef COHORTD_API_UTIL_H
#define COHORTD_API_UTIL_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

/* ---- validation ------------------------------------------------------ */

struct api_v {
	json_t	*errors;	/* [{"pointer","detail"}] */
};

void	 v_init(struct api_v *v);
/* The JSON pointer base + "/" + key, key escaped as RFC 6901 says. */
void	 v_pointer(char *out, size_t len, const char *base, const char *key);
void	 v_error(struct api_v *v, const char *pointer, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Reject members of obj not in allowed (NULL-terminated); base is the
 * JSON pointer of obj ("" for the body). */
void	 v_only(struct api_v *v, json_t *obj, const char *base,
	    const char *const *allowed);
/* The body as an object, or NULL after recording why. */
json_t	*v_body(struct api_v *v, struct http_req *r);
/*
 * A string member: NULL when absent (an error if required), or of the
 * wrong type or length (error recorded).
 */
const char *v_str(struct api_v *v, json_t *obj, const char *base,
	    const char *key, int required, size_t minlen, size_t maxlen);
/* A string member that must be one of choices (NULL-terminated). */
const char *v_enum(struct api_v *v, json_t *obj, const char *base,
	    const char *key, int required, const char *const *choices);
int	 v_email_ok(const char *s);
/*
 * An integer member within [min, max]: *out set and 1 when present and
 * valid; 0 when absent (error if required) or invalid (error recorded).
 * With nullable, JSON null is accepted: *is_null set, returns 1.
 */
int	 v_int(struct api_v *v, json_t *obj, const char *base, const char *key,
	    int required, long min, long max, long *out);
int	 v_int_null(struct api_v *v, json_t *obj, const char *key, long min,
	    long max, long *out, int *is_null);
/* A number member within [min, max]; as v_int. */
int	 v_num(struct api_v *v, json_t *obj, const char *base, const char *key,
	    int required, double min, double max, double *out);
/* A boolean member; as v_int. */
int	 v_bool(struct api_v *v, json_t *obj, const char *key, int required,
	    int *out);
/* A string member holding a UUID; as v_str. */
const char *v_uuid(struct api_v *v, json_t *obj, const char *base,
	    const char *key, int required);
/*
 * Is s an RFC 3339 date-time that exists (month 1-12, the day in its
 * month, leap years, an explicit offset)?  The one check every timestamp
 * a client sends goes through, so the database never meets one it
 * cannot take.
 */
int	 api_time_ok(const char *s);
/* An RFC 3339 timestamp member, checked by api_time_ok. */
const char *v_time(struct api_v *v, json_t *obj, const char *key,
	    int required);
/* If errors were recorded: answer 422 and return 1; else 0. */
int	 v_failed(struct api_v *v, struct http_req *r);
void	 v_free(struct api_v *v);

/* ---- rows ------------------------------------------------------------ */

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

/* ---- pagination ------------------------------------------------------ */

struct api_page {
	int	 limit;			/* 1..500, default 50 */
	char	 after_ts[64];		/* "-infinity" without a cursor */
	char	 after_id[40];		/* nil uuid without a cursor */
	char	 limit_plus_one[16];	/* the SQL's LIMIT parameter */
};

/* Parse ?limit= and ?cursor=; answers 422 and returns -1 when bad. */
int	 api_page_parse(struct http_req *r, struct api_page *pg);
/*
 * Render res (at most limit + 1 rows, each with hidden columns _k_ts and
 * _k_id, the sort key) as {"items":[...],"next_cursor":...} with a Link
 * header for the next page; query is the request's other parameters.
 */
int	 api_page_render(struct http_req *r, const struct api_page *pg,
	    PGresult *res);

/*
 * A whole list request: parse the page, run stmt with $1 after_ts, $2
 * after_id, $3 limit + 1 and then the nextra (at most 5) parameters, and
 * render the page.
 */
int	 api_page_exec(struct http_req *r, const char *stmt, int nextra,
	    const char *const *extra);

/* A page's statement failed: 422 for a cursor the database rejects
 * (data exception), else CD_ERR_DATABASE. */
int	 api_page_failed(struct http_req *r);

/* As api_page_exec, newest first: stmt compares the key with "<". */
int	 api_page_exec_desc(struct http_req *r, const char *stmt, int nextra,
	    const char *const *extra);

/* As api_page_render, each item being the JSON value of column col. */
int	 api_page_render_col(struct http_req *r, const struct api_page *pg,
	    PGresult *res, const char *col);
/* The page's body, unsent (col as above; NULL: whole rows), for a
 * handler that adds to it; sets the Link header. */
json_t	*api_page_body(struct http_req *r, const struct api_page *pg,
	    PGresult *res, const char *col);

/* ---- growing buffers ------------------------------------------------ */

/*
 * The buffers row streams fill (http_row_fn): make room for need more
 * bytes and a NUL; append n bytes of s, NUL-terminated.  0 or
 * CD_ERR_NOMEM (the buffer is left as it was).
 */
int	 api_buf_reserve(char **buf, size_t *len, size_t *cap, size_t need);
int	 api_buf_put(char **buf, size_t *len, size_t *cap, const char *s,
	    size_t n);

/* ---- preconditions --------------------------------------------------- */

/* Set ETag from version; on GET with a matching If-None-Match, answer 304
 * and return 1. */
int	 api_etag(struct http_req *r, const char *version);
/* For PATCH/DELETE: If-Match present and not matching version: 412, 1. */
int	 api_if_match_fails(struct http_req *r, const char *version);

/* ---- single resources ------------------------------------------------ */

/*
 * Answer with row 0 of res: CD_ERR_NOT_FOUND when there is none; else the
 * ETag from its _version column, 304 for a matching If-None-Match on GET,
 * and the row as JSON with status.  With a Location prefix (e.g.
 * "/v1/programs/"), status 201 also sets Location to prefix + id.
 */
int	 api_render_one(struct http_req *r, PGresult *res, int status,
	    const char *location_prefix);
/* Run stmt and answer with its first row as api_render_one does. */
int	 api_exec_one(struct http_req *r, const char *stmt, int n,
	    const char *const *params, int status);
/* Run stmt; no row is CD_ERR_NOT_FOUND; else check If-Match against
 * the row's first column (the version).  0 go on, 1 answered (412). */
int	 api_lock(struct http_req *r, const char *stmt, const char *id);
/* Record what the request changed, for the audit log. */
void	 api_audited(struct http_req *r, const char *type, const char *id);

/* The caller's role as the SQL functions name it. */
const char *api_role(const struct http_req *r);
/* The caller's user id, or NULL (platform admin, API key). */
const char *api_user(const struct http_req *r);

/* A PostgreSQL array literal of the ids in arr (strings already checked
 * by api_uuid_ok); malloc'd, or NULL when out of memory. */
char	*api_uuid_array(json_t *arr);

/*
 * A throttle key (login_throttle): BLAKE2b-256 of kind, a and b (b
 * lowercased; NULL: none), as 64 hex digits and a NUL in out (session.c).
 */
void	 api_throttle_key(const char *kind, const char *a, const char *b,
	    char *out);

/* Is s a syntactically valid UUID (the form of every id)? */
int	 api_uuid_ok(const char *s);

#endif
