/*
 * paging.h - keyset pagination with opaque cursors: ?limit= and
 * ?cursor=, the page rendered with its next cursor and Link header.
 */
#ifndef COHORTD_API_PAGING_H
#define COHORTD_API_PAGING_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

struct api_page {
	int	 limit;			/* 1..500, default 50 */
	char	 after_ts[64];		/* "-infinity" without a cursor */
	char	 after_id[40];		/* nil uuid without a cursor */
	char	 limit_plus_one[16];	/* the SQL's LIMIT parameter */
};

/* Parse ?limit= and ?cursor=; answers 422 and returns API_ANSWERED when
 * bad. */
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

#endif
