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

/* ---- preconditions --------------------------------------------------- */

/* Set ETag from version; on GET with a matching If-None-Match, answer 304
 * and return 1. */
int	 api_etag(struct http_req *r, const char *version);
/* For PATCH/DELETE: If-Match present and not matching version: 412, 1. */
int	 api_if_match_fails(struct http_req *r, const char *version);

/* Is s a syntactically valid UUID (the form of every id)? */
int	 api_uuid_ok(const char *s);

#endif
