/*
 * http.h - cohortd's HTTP layer over libmicrohttpd: the route table type,
 * the request a handler sees, and the helpers handlers render with.
 *
 * Handlers are thin: parse and validate, call the module, render.  The
 * layer does everything around them: routing (404/405), authentication
 * and role checks (401/403), content type (415), body limit (413), JSON
 * parsing (400), one database transaction per request (committed when the
 * handler answered below 400, rolled back otherwise), query parameters
 * (422, see struct http_qparam), protocol limits (400, 414, 431, 505, all
 * as problem documents), the request id, the log line and the metrics.
 */
#ifndef COHORTD_HTTP_H
#define COHORTD_HTTP_H

#include <stddef.h>
#include <jansson.h>

#include "auth.h"

struct db_pool;
struct db_conn;

enum http_method {
	HTTP_GET	= 0x01,
	HTTP_POST	= 0x02,
	HTTP_PUT	= 0x04,
	HTTP_PATCH	= 0x08,
	HTTP_DELETE	= 0x10,
};

/* Route flags. */
#define ROUTE_JSON	0x01	/* takes a JSON body */
#define ROUTE_CSV	0x02	/* also takes text/csv */
#define ROUTE_NO_TX	0x04	/* needs no database transaction */
#define ROUTE_JSON_OPTIONAL 0x08 /* a JSON body, or none at all */
#define ROUTE_SECRET	0x10	/* the response holds a secret shown once:
				   an idempotent replay does not repeat it */

#define HTTP_MAX_PARAMS	4

struct http_req;
typedef int (*http_handler)(struct http_req *r);

/*
 * A query parameter a route takes.  The layer refuses, before the
 * handler runs, a request whose query has a name the route does not list,
 * a name given twice, a value that is not UTF-8 text, or a value the type
 * rejects: 422 with "errors": [{"parameter": name, "detail": why}].
 */
enum http_qtype {
	HTTP_Q_TEXT,		/* min..max bytes of text; ok() if given */
	HTTP_Q_INT,		/* a whole number in min..max */
	HTTP_Q_ENUM,		/* one of choices */
};

struct http_qparam {
	const char		*name;		/* NULL ends a list */
	enum http_qtype		 type;
	long			 min, max;
	const char *const	*choices;	/* HTTP_Q_ENUM, NULL-terminated */
	int			(*ok)(const char *value); /* HTTP_Q_TEXT */
	const char		*what;		/* what ok() wants, for detail */
};

struct route {
	int		 method;
	const char	*pattern;	/* "/v1/users/{id}" */
	unsigned	 roles;
	unsigned	 flags;
	http_handler	 handler;
	const struct http_qparam *query; /* NULL: takes no parameters */
};

struct http_req {
	int			 method;
	const char		*path;
	const struct route	*route;
	int			 route_idx;	/* -1: no route */
	char			 request_id[72];
	const char		*params[HTTP_MAX_PARAMS];
	char			*body;		/* NUL-terminated */
	size_t			 body_len;
	json_t			*json;		/* parsed body, if JSON */
	struct principal	 who;
	struct db_conn		*db;		/* open transaction, or NULL */
	/* What a successful mutating request did, for the audit log. */
	const char		*audit_type;	/* object type, e.g. "user" */
	char			 audit_id[64];	/* object id */
	char			 audit_tenant[40]; /* platform actions: whose */
	/* This response holds a secret shown once (as ROUTE_SECRET, for
	 * one request): an idempotent replay does not repeat it.  With
	 * secret_member, the secret is that member of the JSON body, where
	 * it appears: a replay gets the body without it; else a replay is
	 * refused (409). */
	int			 secret;
	const char		*secret_member;
	/* private to http.c */
	struct http_req_priv	*priv;
};

/*
 * Authentication hook: resolve the Authorization header's value into
 * *who, in the request's open transaction on c (which it may scope to
 * the caller).  The dispatcher opens the transaction first and calls it
 * for every route that is not ROLE_ANON.  Return 0, or CD_ERR_DENIED
 * when the credentials are wrong (401).
 */
typedef int (*http_auth_fn)(struct db_conn *c, const char *authorization,
    struct principal *who);

struct http_config {
	const char		*listen;	/* "host:port" */
	/* Origins allowed cross-origin calls: "https://a,https://b", "*"
	 * for any, "" or NULL for none. */
	const char		*cors_origins;
	int			 max_connections;	/* each gets a thread */
	/* From one client address, trusted proxies excepted; 0: no cap. */
	int			 max_per_address;
	int			 connection_timeout_s;
	int			 header_timeout_s;	/* until the head is in */
	size_t			 body_limit;
	int			 db_acquire_timeout_ms;
	/* Each request transaction's lock_timeout and statement_timeout
	 * (0 = none); running out answers 503. */
	int			 lock_timeout_ms;
	int			 statement_timeout_ms;
	/* Peers whose X-Forwarded-For names the client (netaddr.h). */
	const char		*trusted_proxies;
	const struct route	*routes;
	size_t			 nroutes;
	struct db_pool		*pool;		/* may be NULL (no database) */
	/* Event streams are woken by NOTIFY on sse_channel, listened to
	 * on a connection of their own to conninfo (both may be NULL). */
	const char		*conninfo;
	const char		*sse_channel;
	http_auth_fn		 authenticate;
	/* A principal remembered from an earlier request, confirmed by the
	 * transaction's first statement (auth_remembered), and forgetting
	 * one that did not hold; both may be NULL. */
	http_auth_fn		 remembered;
	void			(*forget)(const char *authorization);
	/* Called in the transaction of each successful POST, PUT, PATCH or
	 * DELETE before it commits; a failure rolls the request back. */
	int			(*audit)(struct http_req *r);
};

/* Check a listen address ("host:port", "[v6]:port") into ss. */
struct sockaddr_storage;
int		 http_parse_listen(const char *listen,
		    struct sockaddr_storage *ss, char *err, size_t errlen);

/* Start listening; *port receives the bound port.  0 or CD_ERR_*. */
int		 http_start(const struct http_config *conf, int *port,
		    char *err, size_t errlen);
/* Stop accepting new connections; in-flight requests go on. */
void		 http_quiesce(void);
/* Requests being processed now. */
int		 http_inflight(void);
/* Close every connection and stop the threads. */
void		 http_stop(void);

/* Request accessors. */
const char	*http_header(struct http_req *r, const char *name);
const char	*http_query(struct http_req *r, const char *name);
/* The client's IP address as text ("" if unknown). */
void		 http_client_addr(struct http_req *r, char *out, size_t len);

/*
 * Open the request's transaction (tenant from r->who) if it has none.
 * Handlers of ROUTE_NO_TX routes that want the database call this too.
 */
int		 http_tx(struct http_req *r);

/* Responses: each replaces any earlier one; json and buf are taken. */
int		 http_json(struct http_req *r, int status, json_t *body);
int		 http_body(struct http_req *r, int status, const char *ctype,
		    char *buf, size_t len);
int		 http_problem(struct http_req *r, int status, const char *type,
		    const char *title, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* A problem with extra members (e.g. "errors"); ext is taken. */
int		 http_problem_ext(struct http_req *r, int status,
		    const char *type, const char *title, const char *detail,
		    json_t *ext);
/*
 * The RFC 9457 document itself, for answers made outside a request (the
 * gate's refusals): compact JSON, malloc'd, or NULL; ext is taken.
 */
char		*http_problem_doc(int status, const char *type,
		    const char *title, const char *detail,
		    const char *instance, json_t *ext);
/* Map a CD_ERR_* from a module to a generic problem. */
int		 http_fail(struct http_req *r, int err);
void		 http_add_header(struct http_req *r, const char *name,
		    const char *value);

/*
 * The Link header value for the next page: this request's path and query
 * with name set to value, as "<...>; rel=\"next\"".
 */
void		 http_next_link(struct http_req *r, const char *name,
		    const char *value, char *out, size_t len);

/*
 * Answer r with a server-sent event stream.  A stream thread calls poll
 * with a borrowed database connection (no transaction open) and arg when
 * the stream opens and whenever a notification on the configured channel
 * carries topic as its payload, never on a timer.  poll appends complete
 * events ("id: n\nevent: x\ndata: y\n\n") to *buf (malloc'd, *len
 * bytes; grow it with realloc) and returns 1 when the stream is over (its
 * last event written), 0 to go on, or <0 on error (ends it).  The layer
 * sends a comment when the stream was quiet for 10 s, and ends a stream
 * on shutdown or after ten minutes with "event: end" and
 * {"reason": "shutdown"|"timeout"}.  Between events the connection's
 * thread sleeps until the stream thread has bytes for it: an idle stream
 * costs a sleeping thread and no database work.
 * free_arg(arg) runs when the stream is gone.
 */
typedef int (*http_sse_poll)(void *arg, struct db_conn *c, char **buf,
    size_t *len);
int		 http_sse(struct http_req *r, const char *topic,
		    http_sse_poll poll, void *arg, void (*free_arg)(void *));

/*
 * Answer r with the rows of cur (db.h), opened on r->db, never holding
 * more than a chunk of them: this takes r->db and cur over.  head (taken;
 * may be NULL) goes first; then the rows as cur's row function renders
 * them.  The transaction ends and the connection returns to the pool
 * when the rows run out or the client goes away; then free_arg(arg) runs
 * (the row function's argument).  On failure everything given is freed.
 */
struct db_cursor;
int		 http_stream_rows(struct http_req *r, const char *ctype,
		    char *head, struct db_cursor *cur, void *arg,
		    void (*free_arg)(void *));

/* Pool statistics and route table, for /metrics. */
struct db_pool	*http_pool(void);
const struct route *http_routes(size_t *n);

#endif
