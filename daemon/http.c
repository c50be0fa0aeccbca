/*
 * http.c - the HTTP front end: libmicrohttpd with a thread per
 * connection, the route table dispatcher and RFC 9457 problem documents.
 *
 * A connection's first request head is checked by the gate (gate.c)
 * before libmicrohttpd reads it.  A request's life: the first access
 * callback allocates its http_req, checks the head (version, URI and
 * header sizes, Host) and rejects an announced body over the limit; body
 * chunks accumulate (past the limit they are dropped and 413 is
 * answered); the last call dispatches: route, auth, query parameters,
 * content type, JSON, handler, commit, queue (with CORS headers, and
 * gzip for a large JSON body when asked for).  Every error, protocol
 * errors included, is a problem document.  The completion callback logs
 * the line, counts the metrics and frees the request.
 *
 * Concurrency.  Each connection has a thread of its own (libmicrohttpd's
 * thread-per-connection mode, at most max_connections of them), and a
 * handler runs on it to completion, blocking on the database as it
 * needs.  A request waiting on a lock or a slow statement holds its own
 * connection's thread and nobody else's: the requests of other
 * connections, health and readiness included, go on beside it.  (With a
 * pool of polling threads, every connection that shared the blocked
 * thread waited too.)  What bounds the database work at once is the
 * connection pool (db_acquire waits, then 503), and each request's lock
 * and statement timeouts (http_tx) bound how long one waits.  An event
 * stream's thread sleeps in its reader between events (http_sse_read).
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>
#include <zlib.h>

#include "db.h"
#include "../common/clock.h"
#include "../common/err.h"
#include "../common/utf8.h"
#include "gate.h"
#include "http.h"
#include "idem.h"
#include "../common/log.h"
#include "metrics.h"
#include "netaddr.h"

#define HTTP_MAX_HEADERS	8
/*
 * Limits on the request head, checked before anything else so that the
 * answer is a problem document: libmicrohttpd's own limit (the connection
 * memory pool, HTTP_MHD_MEMORY) is set above them, and a head larger than
 * that is answered by the gate.  Not far above: libmicrohttpd zeroes the
 * whole pool after every request, and at 256 KiB that memset was a
 * quarter of a bare request's CPU (docs/PERFORMANCE.md).
 */
#define HTTP_MAX_URI		8192		/* path and query: 414 */
#define HTTP_MAX_HEAD		32768		/* header fields: 431 */
#define HTTP_MHD_MEMORY		(64 * 1024)
/* A connection thread's stack: address space, touched as used. */
#define HTTP_STACK		(2 * 1024 * 1024)
#define PROBLEM_BASE		"https://cohortd.dev/problems/"

struct http_req_priv {
	struct MHD_Connection	*conn;
	long			 start_us;
	size_t			 body_cap;
	int			 too_large;
	int			 queued;
	int			 preflight;	/* a CORS preflight */
	int			 remembered;	/* acting on auth's memo */
	int			 confirmed;	/* and it held (streams) */
	char			 method[16];
	char			 idem_key[320];	/* caller-scoped Idempotency-Key */
	char			*url;
	char			*pathbuf;	/* params point into it */
	/* the response */
	int			 status;
	char			*out;
	size_t			 out_len;
	const char		*ctype;
	struct http_sse_stream	*sse;		/* an event stream, or NULL */
	struct http_rows	*rows;		/* a row stream, or NULL */
	char			*hname[HTTP_MAX_HEADERS];
	char			*hval[HTTP_MAX_HEADERS];
	int			 nhdr;
};

/* An event stream: see http_sse(). */
struct http_sse_stream {
	struct http_sse_stream	*next;		/* the stream thread's list */
	struct MHD_Connection	*conn;
	http_sse_poll		 poll;
	void			*arg;
	void			(*free_arg)(void *);
	char			 topic[64];	/* the NOTIFY payload that wakes it */
	char			*buf;		/* events not yet sent */
	size_t			 len, off, cap;
	int			 due;		/* poll it: notified, or new */
	int			 done;		/* no more events */
	int			 parked;	/* its reader waits for bytes */
	pthread_cond_t		 cv;		/* and is woken by this */
	int			 gone;		/* MHD freed the response */
	long			 deadline_ms;
	long			 sent_ms;	/* when bytes were last queued */
};

static pthread_mutex_t sse_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sse_cv = PTHREAD_COND_INITIALIZER;
static struct http_sse_stream *sse_list;
static pthread_t sse_thread;
static int sse_running, sse_stopping;

static struct MHD_Daemon *http_daemon;
static struct http_config http_conf;
static atomic_int http_inflight_n;
static char http_id_prefix[17];		/* 8 random bytes, hex */
static atomic_ulong http_id_seq;

static int
http_method_of(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return HTTP_GET;
	if (strcmp(m, "POST") == 0)
		return HTTP_POST;
	if (strcmp(m, "PUT") == 0)
		return HTTP_PUT;
	if (strcmp(m, "PATCH") == 0)
		return HTTP_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return HTTP_DELETE;
	return 0;
}

static const char *
http_method_name(int m)
{
	switch (m) {
	case HTTP_GET:		return "GET";
	case HTTP_POST:		return "POST";
	case HTTP_PUT:		return "PUT";
	case HTTP_PATCH:	return "PATCH";
	case HTTP_DELETE:	return "DELETE";
	}
	return "?";
}

/* ---- responses ---------------------------------------------------- */

static void
http_reset_response(struct http_req *r)
{
	struct http_req_priv *p = r->priv;

	free(p->out);
	p->out = NULL;
	p->out_len = 0;
}

int
http_body(struct http_req *r, int status, const char *ctype, char *buf,
    size_t len)
{
	struct http_req_priv *p = r->priv;

	http_reset_response(r);
	p->status = status;
	p->ctype = ctype;
	p->out = buf;
	p->out_len = len;
	return 0;
}

int
http_json(struct http_req *r, int status, json_t *body)
{
	char *s;

	if (body == NULL)
		return http_fail(r, CD_ERR_NOMEM);
	s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(body);
	if (s == NULL)
		return http_fail(r, CD_ERR_NOMEM);
	return http_body(r, status, "application/json", s, strlen(s));
}

static int	http_text_ok(const char *, size_t);

char *
http_problem_doc(int status, const char *type, const char *title,
    const char *detail, const char *instance, json_t *ext)
{
	json_t *o;
	char typeuri[128];
	char *s;

	if (type == NULL)
		snprintf(typeuri, sizeof(typeuri), "about:blank");
	else
		snprintf(typeuri, sizeof(typeuri), PROBLEM_BASE "%s", type);
	o = json_pack("{s:s, s:s, s:i, s:s}", "type", typeuri, "title", title,
	    "status", status, "detail", detail ? detail : title);
	if (o != NULL && instance != NULL)
		json_object_set_new(o, "instance", json_string(instance));
	if (o != NULL && ext != NULL)
		json_object_update(o, ext);
	json_decref(ext);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

int
http_problem_ext(struct http_req *r, int status, const char *type,
    const char *title, const char *detail, json_t *ext)
{
	/* The path is named only as text: bytes that are not (a path with
	 * %FF in it) are refused before routing, and would not be JSON. */
	char *s = http_problem_doc(status, type, title, detail,
	    http_text_ok(r->path, strlen(r->path)) ? r->path : NULL, ext);

	if (s == NULL) {
		/* Out of memory: a constant body still tells the truth. */
		s = strdup("{\"title\":\"Internal Server Error\",\"status\":500}");
		status = 500;
	}
	return http_body(r, status, "application/problem+json", s,
	    s ? strlen(s) : 0);
}

int
http_problem(struct http_req *r, int status, const char *type,
    const char *title, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return http_problem_ext(r, status, type, title, detail, NULL);
}

int
http_fail(struct http_req *r, int err)
{
	const char *state;

	switch (err) {
	case CD_ERR_NOT_FOUND:
		return http_problem(r, 404, "not-found", "Not Found",
		    "no such resource");
	case CD_ERR_CONFLICT:
		return http_problem(r, 409, "conflict", "Conflict",
		    "the resource's state does not allow this");
	case CD_ERR_DENIED:
		return http_problem(r, 403, "forbidden", "Forbidden",
		    "your role does not allow this");
	case CD_ERR_DATABASE:
		/* The request's own bounds (http_tx) ran out: the database
		 * is busy, not broken, and the caller may try again. */
		state = r->db != NULL ? db_error_sqlstate(r->db) : "";
		if (strcmp(state, "55P03") == 0) {	/* lock_not_available */
			http_add_header(r, "Retry-After", "1");
			return http_problem(r, 503, "busy", "Service Unavailable",
			    "the resource is busy with another change (waited "
			    "%d ms for its lock); try again",
			    http_conf.lock_timeout_ms);
		}
		if (strcmp(state, "57014") == 0) {	/* query_canceled */
			http_add_header(r, "Retry-After", "5");
			return http_problem(r, 503, "busy", "Service Unavailable",
			    "the database took longer than the request's %d ms "
			    "statement timeout; try again",
			    http_conf.statement_timeout_ms);
		}
		break;
	case CD_ERR_UNAVAILABLE:
	case CD_ERR_TIMEOUT:
		http_add_header(r, "Retry-After", "1");
		return http_problem(r, 503, "unavailable",
		    "Service Unavailable", "try again shortly");
	case CD_ERR_INVALID:
		return http_problem(r, 422, "validation", "Unprocessable "
		    "Content", "the request is not valid");
	default:
		break;
	}
	return http_problem(r, 500, "internal", "Internal Server Error",
		    "request %s failed; the log has the details", r->request_id);
}

void
http_add_header(struct http_req *r, const char *name, const char *value)
{
	struct http_req_priv *p = r->priv;

	if (p->nhdr == HTTP_MAX_HEADERS)
		return;
	p->hname[p->nhdr] = strdup(name);
	p->hval[p->nhdr] = strdup(value);
	if (p->hname[p->nhdr] == NULL || p->hval[p->nhdr] == NULL) {
		free(p->hname[p->nhdr]);
		free(p->hval[p->nhdr]);
		return;
	}
	p->nhdr++;
}

/* ---- request accessors -------------------------------------------- */

const char *
http_header(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->priv->conn, MHD_HEADER_KIND,
	    name);
}

const char *
http_query(struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->priv->conn,
	    MHD_GET_ARGUMENT_KIND, name);
}

void
http_client_addr(struct http_req *r, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	out[0] = '\0';
	ci = MHD_get_connection_info(r->priv->conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    out, (socklen_t)len);
	if (http_conf.trusted_proxies != NULL &&
	    http_conf.trusted_proxies[0] != '\0') {
		char peer[INET6_ADDRSTRLEN];

		snprintf(peer, sizeof(peer), "%s", out);
		netaddr_client(peer, http_header(r, "X-Forwarded-For"),
		    http_conf.trusted_proxies, out, len);
	}
}

struct db_pool *
http_pool(void)
{
	return http_conf.pool;
}

const struct route *
http_routes(size_t *n)
{
	*n = http_conf.nroutes;
	return http_conf.routes;
}

int
http_tx(struct http_req *r)
{
	int rc;

	if (r->db != NULL && db_in_tx(r->db))
		return 0;
	if (r->db == NULL) {
		if (http_conf.pool == NULL)
			return CD_ERR_UNAVAILABLE;
		if ((rc = db_acquire(http_conf.pool,
		    http_conf.db_acquire_timeout_ms, &r->db)) != 0)
			return rc;
	}
	/* Scoped to the caller once known (the authentication lookup scopes
	 * the first transaction itself).  A request waits on no lock and no
	 * statement without bound: one blocked behind a long change gives
	 * its thread back with a 503 instead of holding it (and the callers
	 * queued behind it). */
	if ((rc = r->who.role == ROLE_PLATFORM ? db_begin_platform(r->db) :
	    db_begin(r->db, r->who.tenant_id[0] ? r->who.tenant_id :
	    NULL)) != 0 || (rc = db_set_timeouts(r->db,
	    http_conf.lock_timeout_ms, http_conf.statement_timeout_ms)) != 0) {
		db_release(r->db);
		r->db = NULL;
	}
	return rc;
}

struct http_link {
	FILE		*fp;
	const char	*skip;
	int		 n;
};

static void
http_urlencode(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			fputc(c, fp);
		else
			fprintf(fp, "%%%02X", c);
	}
}

static enum MHD_Result
http_link_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_link *l = cls;

	if (strcmp(key, l->skip) == 0)
		return MHD_YES;
	fputc(l->n++ ? '&' : '?', l->fp);
	http_urlencode(l->fp, key);
	if (value != NULL) {
		fputc('=', l->fp);
		http_urlencode(l->fp, value);
	}
	return MHD_YES;
}

void
http_next_link(struct http_req *r, const char *name, const char *value,
    char *out, size_t len)
{
	struct http_link l = { NULL, name, 0 };
	char *buf = NULL;
	size_t size = 0;

	out[0] = '\0';
	if ((l.fp = open_memstream(&buf, &size)) == NULL)
		return;
	fprintf(l.fp, "<%s", r->path);
	MHD_get_connection_values(r->priv->conn, MHD_GET_ARGUMENT_KIND,
	    http_link_arg, &l);
	fputc(l.n++ ? '&' : '?', l.fp);
	http_urlencode(l.fp, name);
	fputc('=', l.fp);
	http_urlencode(l.fp, value);
	fprintf(l.fp, ">; rel=\"next\"");
	fclose(l.fp);
	snprintf(out, len, "%s", buf);
	free(buf);
}

/* ---- routing ------------------------------------------------------ */

/*
 * Split a copy of the path at '/' into segments.  Empty segments ("//",
 * a trailing '/') match no route, so they make the split fail.
 */
static int
http_split(char *buf, char **seg, int max)
{
	int n = 0;

	if (*buf != '/')
		return -1;
	if (buf[1] == '\0')
		return 0;
	while (*buf == '/') {
		*buf++ = '\0';
		if (*buf == '\0' || *buf == '/' || n == max)
			return -1;
		seg[n++] = buf;
		buf = strchrnul(buf, '/');
	}
	return n;
}

/* Does pattern match the segments?  "{name}" takes any one segment. */
static int
http_match(const char *pat, char **seg, int nseg, const char **params)
{
	int i = 0, np = 0;

	while (*pat == '/') {
		const char *end;

		pat++;
		end = strchrnul(pat, '/');
		if (i == nseg)
			return 0;
		if (*pat == '{') {
			if (np == HTTP_MAX_PARAMS)
				return 0;
			params[np++] = seg[i];
		} else if (strlen(seg[i]) != (size_t)(end - pat) ||
		    strncmp(seg[i], pat, (size_t)(end - pat)) != 0)
			return 0;
		i++;
		pat = end;
	}
	return *pat == '\0' && i == nseg;
}

/*
 * Find the route for r.  Returns 0 with r->route set, or answers 404 or
 * 405 (with Allow naming the methods the path does take) and returns -1.
 */
static int
http_route(struct http_req *r, int method)
{
	struct http_req_priv *p = r->priv;
	char *seg[32];
	const char *params[HTTP_MAX_PARAMS];
	char allow[64] = "";
	int nseg, allowed = 0;

	if ((p->pathbuf = strdup(r->path)) == NULL) {
		http_fail(r, CD_ERR_NOMEM);
		return -1;
	}
	nseg = http_split(p->pathbuf, seg, 32);
	for (size_t i = 0; nseg >= 0 && i < http_conf.nroutes; i++) {
		const struct route *rt = &http_conf.routes[i];

		memset(params, 0, sizeof(params));
		if (!http_match(rt->pattern, seg, nseg, params))
			continue;
		if (rt->method != method) {
			allowed |= rt->method;
			continue;
		}
		r->route = rt;
		r->route_idx = (int)i;
		memcpy(r->params, params, sizeof(params));
		return 0;
	}
	if (allowed == 0) {
		http_problem(r, 404, "not-found", "Not Found",
		    "no route for %s", r->path);
		return -1;
	}
	for (int m = HTTP_GET; m <= HTTP_DELETE; m <<= 1) {
		if (!(allowed & m))
			continue;
		if (allow[0] != '\0')
			strcat(allow, ", ");
		strcat(allow, http_method_name(m));
		if (m == HTTP_GET)
			strcat(allow, ", HEAD");
	}
	http_add_header(r, "Allow", allow);
	http_problem(r, 405, "method-not-allowed", "Method Not Allowed",
	    "%s takes %s", r->path, allow);
	return -1;
}

/* ---- query parameters --------------------------------------------- */

/* Is s (n bytes) well-formed UTF-8 without control characters? */
static int
http_text_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t k;

	for (; p < end; p += k)
		if (*p < 0x20 || *p == 0x7f ||
		    (k = utf8_len(p, (size_t)(end - p), NULL)) == 0)
			return 0;
	return 1;
}

struct http_qcheck {
	const struct http_qparam *list;
	json_t		*errors;	/* [{"parameter","detail"}] */
	const char	*seen[16];	/* names met so far, for duplicates */
	int		 nseen;
};

static void
http_qerror(struct http_qcheck *q, const char *name, const char *fmt, ...)
{
	char detail[256], shown[72];
	size_t n = strlen(name);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* A name is echoed if it is text, cut short (at a character's
	 * start) if long; else "?". */
	if (!http_text_ok(name, n))
		name = "?";
	else if (n > 64) {
		n = 64;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
		snprintf(shown, sizeof(shown), "%.*s...", (int)n, name);
		name = shown;
	}
	json_array_append_new(q->errors, json_pack("{s:s, s:s}", "parameter",
	    name, "detail", detail));
}

/* Why value does not suit pp, or NULL when it does. */
static const char *
http_qvalue_bad(const struct http_qparam *pp, const char *value, char *why,
    size_t len)
{
	size_t n = strlen(value);
	char *end;
	long l;

	switch (pp->type) {
	case HTTP_Q_INT:
		l = strtol(value, &end, 10);
		if (n == 0 || *end != '\0' || l < pp->min || l > pp->max ||
		    strspn(value, "-0123456789") != n) {
			snprintf(why, len, "must be a whole number from %ld to %ld",
			    pp->min, pp->max);
			return why;
		}
		return NULL;
	case HTTP_Q_ENUM:
		for (const char *const *c = pp->choices; *c != NULL; c++)
			if (strcmp(*c, value) == 0)
				return NULL;
		snprintf(why, len, "must be one of:");
		for (const char *const *c = pp->choices; *c != NULL; c++)
			snprintf(why + strlen(why), len - strlen(why), "%s %s",
			    c == pp->choices ? "" : ",", *c);
		return why;
	case HTTP_Q_TEXT:
		if (n < (size_t)pp->min || n > (size_t)pp->max) {
			snprintf(why, len, "must be %ld to %ld bytes", pp->min,
			    pp->max);
			return why;
		}
		if (pp->ok != NULL && !pp->ok(value)) {
			snprintf(why, len, "must be %s", pp->what);
			return why;
		}
		return NULL;
	}
	return "is not valid";
}

static enum MHD_Result
http_qcheck_one(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_qcheck *q = cls;
	const struct http_qparam *pp = NULL;
	char why[256];
	const char *bad;

	(void)kind;
	for (const struct http_qparam *l = q->list; l && l->name; l++)
		if (strcmp(l->name, key) == 0)
			pp = l;
	if (pp == NULL) {
		http_qerror(q, key, "is not a parameter of this operation");
		return MHD_YES;
	}
	for (int i = 0; i < q->nseen; i++)
		if (q->seen[i] == pp->name) {
			http_qerror(q, key, "is given more than once");
			return MHD_YES;
		}
	if (q->nseen < (int)(sizeof(q->seen) / sizeof(q->seen[0])))
		q->seen[q->nseen++] = pp->name;
	if (value == NULL)
		value = "";
	if (!http_text_ok(value, strlen(value)))
		http_qerror(q, key, "must be UTF-8 text without control "
		    "characters");
	else if ((bad = http_qvalue_bad(pp, value, why, sizeof(why))) != NULL)
		http_qerror(q, key, "%s", bad);
	return MHD_YES;
}

/*
 * Check the query against the route's parameters: 422 naming each bad
 * one (and -1), or 0.  Handlers then read only what the route declares,
 * as well-formed text.
 */
static int
http_check_query(struct http_req *r)
{
	struct http_qcheck q;

	memset(&q, 0, sizeof(q));
	q.list = r->route->query;
	if ((q.errors = json_array()) == NULL) {
		http_fail(r, CD_ERR_NOMEM);
		return -1;
	}
	MHD_get_connection_values(r->priv->conn, MHD_GET_ARGUMENT_KIND,
	    http_qcheck_one, &q);
	if (json_array_size(q.errors) == 0) {
		json_decref(q.errors);
		return 0;
	}
	http_problem_ext(r, 422, "validation", "Unprocessable Content",
	    "the request has invalid query parameters; see errors",
	    json_pack("{s:o}", "errors", q.errors));
	return -1;
}

/* Is ctype (with any parameters) the media type want? */
static int
http_ctype_is(const char *ctype, const char *want)
{
	size_t n = strlen(want);

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return strncasecmp(ctype, want, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/* Parse the body as the route expects: 415 or 400 when it cannot. */
static int
http_parse_body(struct http_req *r, int method)
{
	const struct route *rt = r->route;
	const char *ctype;
	json_error_t jerr;

	if (method != HTTP_POST && method != HTTP_PUT && method != HTTP_PATCH)
		return 0;
	if ((rt->flags & ROUTE_JSON_OPTIONAL) && r->body_len == 0)
		return 0;
	ctype = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
	if ((rt->flags & (ROUTE_JSON | ROUTE_JSON_OPTIONAL)) &&
	    http_ctype_is(ctype, "application/json")) {
		r->json = json_loadb(r->body ? r->body : "", r->body_len,
		    JSON_REJECT_DUPLICATES, &jerr);
		if (r->json == NULL) {
			http_problem(r, 400, "malformed-json", "Malformed JSON",
			    "%s at line %d column %d", jerr.text, jerr.line,
			    jerr.column);
			return -1;
		}
	} else if (!((rt->flags & ROUTE_CSV) && http_ctype_is(ctype,
	    "text/csv")) && ((rt->flags & (ROUTE_JSON | ROUTE_JSON_OPTIONAL)) ||
	    r->body_len > 0)) {
		http_problem(r, 415, "unsupported-media-type",
		    "Unsupported Media Type", "send %s", (rt->flags & ROUTE_CSV) ?
		    "application/json or text/csv" : "application/json");
		return -1;
	}
	return 0;
}

/* j without member name, at any depth. */
static void
http_json_strip(json_t *j, const char *name)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_del(j, name);
		json_object_foreach(j, k, v)
			http_json_strip(v, name);
	} else if (json_is_array(j))
		json_array_foreach(j, i, v)
			http_json_strip(v, name);
}

/*
 * The body an idempotent replay of r answers with (malloc'd; the caller
 * frees), or NULL when a replay must not repeat it: a secret shown once
 * (ROUTE_SECRET, r->secret), unless the secret is one member of the JSON
 * body (r->secret_member), which is then left out.
 */
static char *
http_replay_body(struct http_req *r, const struct route *rt)
{
	json_t *j;
	char *s = NULL;

	if (rt->flags & ROUTE_SECRET)
		return NULL;
	if (!r->secret)
		return strdup(r->priv->out ? r->priv->out : "");
	if (r->secret_member == NULL || r->priv->out == NULL ||
	    (j = json_loads(r->priv->out, 0, NULL)) == NULL)
		return NULL;
	http_json_strip(j, r->secret_member);
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/*
 * Apply Idempotency-Key.  Returns 1 when the request was claimed (run it,
 * then store), 0 when there is no key, -1 when the response is already
 * set (replay, 409, 422) or something failed.
 */
static int
http_idem_begin(struct http_req *r, const char *key)
{
	enum idem_state st;
	char hash[65], *loc = NULL, *etag = NULL, *body = NULL;
	int status = 0, rc;

	if (!idem_key_ok(key)) {
		http_problem(r, 400, "bad-idempotency-key", "Bad Request",
		    "Idempotency-Key must be 1 to 255 visible ASCII characters");
		return -1;
	}
	/* Keys belong to the caller (the credential used), not the tenant:
	 * another user's request under the same key is a different one. */
	snprintf(r->priv->idem_key, sizeof(r->priv->idem_key), "%s:%s",
	    r->who.token_id, key);
	idem_request_hash(r->priv->method, r->path, r->body, r->body_len, hash);
	if ((rc = idem_claim(r->db, r->who.tenant_id, r->priv->idem_key, hash,
	    &st, &status, &loc, &etag, &body)) != 0) {
		free(loc);
		free(etag);
		free(body);
		http_fail(r, rc);
		return -1;
	}
	switch (st) {
	case IDEM_NEW:
		/* The claim is committed; the request gets a fresh transaction
		 * scoped as before. */
		if ((rc = http_tx(r)) != 0) {
			http_fail(r, rc);
			return -1;
		}
		return 1;
	case IDEM_REPLAY:
		if (loc != NULL)
			http_add_header(r, "Location", loc);
		if (body == NULL)
			http_problem(r, 409, "idempotency-secret", "Conflict",
			    "this request was done; its response held a secret "
			    "shown only once%s%s", loc ? ": see " : "",
			    loc ? loc : "");
		else {
			/* The original's headers, as a retry expects them. */
			if (etag != NULL)
				http_add_header(r, "ETag", etag);
			http_add_header(r, "Idempotent-Replayed", "true");
			http_body(r, status, "application/json", body,
			    strlen(body));
		}
		free(loc);
		free(etag);
		return -1;
	case IDEM_IN_PROGRESS:
		http_problem(r, 409, "idempotency-in-progress", "Conflict",
		    "a request with this Idempotency-Key is still in progress");
		return -1;
	case IDEM_MISMATCH:
		http_problem(r, 422, "idempotency-mismatch",
		    "Unprocessable Content", "this Idempotency-Key was used for "
		    "a different request");
		return -1;
	}
	return -1;
}

static const char *
http_response_header(struct http_req *r, const char *name)
{
	for (int i = 0; i < r->priv->nhdr; i++)
		if (strcasecmp(r->priv->hname[i], name) == 0)
			return r->priv->hval[i];
	return NULL;
}

/* Forget an answer built under a principal that turned out stale. */
static void
http_forget_answer(struct http_req *r)
{
	struct http_req_priv *p = r->priv;

	http_reset_response(r);
	for (int i = 0; i < p->nhdr; i++) {
		free(p->hname[i]);
		free(p->hval[i]);
	}
	p->nhdr = 0;
	p->status = 0;
	p->ctype = NULL;
}

/*
 * Authenticate, run the handler, end the transaction.  With remember, a
 * GET may act on the principal its token resolved to before (auth.c's
 * memo): the check that it still holds travels ahead of the handler's
 * first statement (db_precheck), and nothing is answered until it passed.
 * Returns 1 when it did not: the caller runs the request again, without.
 */
static int
http_dispatch_as(struct http_req *r, int method, int remember)
{
	const struct route *rt = r->route;
	const char *idem_key = NULL, *authz = NULL;
	int rc, claimed = 0, mutating = method != HTTP_GET, remembered = 0;

	if (!(rt->roles & ROLE_ANON)) {
		authz = http_header(r, "Authorization");

		/* The request's transaction first, unscoped: the lookup
		 * scopes it to the caller. */
		if (authz == NULL || http_conf.authenticate == NULL)
			rc = CD_ERR_DENIED;
		else if ((rc = http_tx(r)) == 0) {
			if (remember && !mutating &&
			    http_conf.remembered != NULL &&
			    http_conf.remembered(r->db, authz, &r->who) == 0)
				remembered = r->priv->remembered = 1;
			else
				rc = http_conf.authenticate(r->db, authz,
				    &r->who);
		}
		if (rc == CD_ERR_DENIED) {
			http_add_header(r, "WWW-Authenticate", "Bearer");
			http_problem(r, 401, "unauthorized", "Unauthorized",
			    "a valid bearer token is required");
			goto out;
		} else if (rc != 0) {
			http_fail(r, rc);
			goto out;
		}
		/* The lookup scoped this transaction; a later one in the
		 * same borrow gets the same scope. */
		db_rescope(r->db, r->who.tenant_id[0] ? r->who.tenant_id :
		    NULL, r->who.role == ROLE_PLATFORM);
		if (!(rt->roles & r->who.role)) {
			http_problem(r, 403, "forbidden", "Forbidden",
			    "your role does not allow %s %s",
			    http_method_name(method), rt->pattern);
			goto out;
		}
	}
	if (http_check_query(r) != 0 || http_parse_body(r, method) != 0)
		goto out;
	if (!(rt->flags & ROUTE_NO_TX) && (rc = http_tx(r)) != 0) {
		http_fail(r, rc);
		goto out;
	}
	if (method == HTTP_POST && !(rt->roles & ROLE_ANON) &&
	    (idem_key = http_header(r, "Idempotency-Key")) != NULL) {
		if ((claimed = http_idem_begin(r, idem_key)) < 0)
			goto out;
	}

	rc = rt->handler(r);
	if (rc != 0 && r->priv->status == 0)
		http_fail(r, rc);
	if (r->priv->status == 0)
		http_fail(r, CD_ERR_INTERNAL);
	if (r->priv->status < 400 && r->db != NULL && db_in_tx(r->db)) {
		if (mutating && http_conf.audit != NULL &&
		    (rc = http_conf.audit(r)) != 0)
			http_fail(r, rc);
		else if (claimed > 0) {
			char *kept = http_replay_body(r, rt);

			if ((rc = idem_store(r->db, r->who.tenant_id,
			    r->priv->idem_key, r->priv->status,
			    http_response_header(r, "Location"),
			    http_response_header(r, "ETag"), kept)) != 0)
				http_fail(r, rc);
			free(kept);
		}
	}
 out:
	if (remembered && !r->priv->confirmed &&
	    (r->db == NULL || db_precheck_confirm(r->db, 1) != 0)) {
		/* The token no longer grants what it did: nothing of this
		 * answer stands.  The transaction rolls back on release. */
		if (r->db != NULL)
			db_release(r->db);
		r->db = NULL;
		http_forget_answer(r);
		if (http_conf.forget != NULL)
			http_conf.forget(authz);
		memset(&r->who, 0, sizeof(r->who));
		r->priv->remembered = 0;
		return 1;
	}
	if (r->db != NULL) {
		/* Commit only what the handler answered as a success. */
		if (db_in_tx(r->db)) {
			/* A GET changes nothing the caller waits on (at most a
			 * key's last_used_at): its COMMIT need not be awaited. */
			if (r->priv->status < 400 && !mutating)
				db_commit_nowait(r->db);
			else if (r->priv->status < 400) {
				if (db_commit(r->db) != 0)
					http_fail(r, CD_ERR_DATABASE);
			} else
				db_rollback(r->db);
		}
		/* A failed claimed request gives its key back; one refused
		 * under the key (in progress, another body) leaves it be. */
		if (claimed > 0 && r->priv->status >= 400 &&
		    http_tx(r) == 0) {
			if (idem_forget(r->db, r->who.tenant_id,
			    r->priv->idem_key) == 0)
				db_commit(r->db);
		}
		db_release(r->db);
		r->db = NULL;
	}
	if (r->priv->status == 0)
		http_fail(r, CD_ERR_INTERNAL);
	return 0;
}

static void
http_dispatch(struct http_req *r, int method)
{
	r->method = method;
	if (http_route(r, method) != 0)
		return;
	if (http_dispatch_as(r, method, 1) == 1)
		(void)http_dispatch_as(r, method, 0);
}

/* ---- row streams -------------------------------------------------- */

struct http_rows {
	struct db_conn	*db;
	struct db_cursor *cur;
	void		*arg;
	void		(*free_arg)(void *);
	char		*buf;
	size_t		 len, cap, off;
	int		 done;		/* rows ran out or failed */
};

static ssize_t
http_rows_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_rows *st = cls;
	size_t n;
	int rc;

	if (st->off == st->len && !st->done) {
		st->len = st->off = 0;
		if ((rc = db_cursor_fill(st->cur, &st->buf, &st->len,
		    &st->cap, 16384)) <= 0) {
			st->done = 1;
			/* Headers are gone: all we can do is stop short. */
			if (rc < 0)
				log_warnx("row stream: %s",
				    db_cursor_error(st->cur));
		}
	}
	if (st->off == st->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = st->len - st->off < max ? st->len - st->off : max;
	memcpy(out, st->buf + st->off, n);
	st->off += n;
	return (ssize_t)n;
}

static void
http_rows_free(void *cls)
{
	struct http_rows *st = cls;

	/* A client that left early: the cursor stops the statement. */
	db_cursor_free(st->cur);
	db_release(st->db);
	if (st->free_arg != NULL)
		st->free_arg(st->arg);
	free(st->buf);
	free(st);
}

int
http_stream_rows(struct http_req *r, const char *ctype, char *head,
    struct db_cursor *cur, void *arg, void (*free_arg)(void *))
{
	struct http_rows *st;

	if ((st = calloc(1, sizeof(*st))) == NULL) {
		free(head);
		db_cursor_free(cur);
		if (free_arg != NULL)
			free_arg(arg);
		return CD_ERR_NOMEM;
	}
	st->cur = cur;
	st->arg = arg;
	st->free_arg = free_arg;
	st->buf = head;
	st->len = st->cap = head ? strlen(head) : 0;
	/* The rows arrive after the handler returns: the stream owns the
	 * connection (and its read-only transaction) from here. */
	st->db = r->db;
	r->db = NULL;
	/* The stream outlives the dispatcher's check of a remembered
	 * principal: done here (the cursor's statement took it along). */
	if (db_precheck_confirm(st->db, r->priv->remembered) != 0) {
		r->db = st->db;
		db_cursor_free(cur);
		if (free_arg != NULL)
			free_arg(arg);
		free(head);
		free(st);
		return CD_ERR_DATABASE;
	}
	r->priv->confirmed = 1;
	db_detach_tx(st->db);
	http_reset_response(r);
	r->priv->status = 200;
	r->priv->ctype = ctype;
	r->priv->rows = st;
	return 0;
}

/* ---- server-sent events ------------------------------------------ */

/*
 * Streams are woken by NOTIFY, not by polling: one connection of the
 * stream thread LISTENs on the configured channel, and a notification
 * whose payload is a stream's topic makes the thread poll that stream
 * (once when it opens, too).  Between events an idle stream gets a
 * comment every SSE_KEEPALIVE_MS, so proxies and clients see it alive.
 * A stream that ends for the server's reasons (shutdown, its time limit)
 * gets an "end" event saying why; the handler's poll writes its own end.
 */
#define SSE_KEEPALIVE_MS	10000
#define SSE_LIFETIME_MS		600000	/* then the client reconnects */
#define SSE_TICK_MS		250
#define SSE_READ_WAIT_S		5	/* a reader's longest wait */
#define SSE_TOPICS		64

/* Queue n bytes on st after what is unsent.  Under sse_mu. */
static void
http_sse_append(struct http_sse_stream *st, const char *s, size_t n)
{
	char *b;

	if (st->off == st->len)
		st->off = st->len = 0;
	if (st->len + n > st->cap) {
		size_t cap = (st->len + n) * 2;

		if ((b = realloc(st->buf, cap)) == NULL)
			return;		/* dropped; the stream goes on */
		st->buf = b;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, s, n);
	st->len += n;
	st->sent_ms = clock_ms();
}

/* End st with an "end" event saying why.  Under sse_mu. */
static void
http_sse_end(struct http_sse_stream *st, const char *why)
{
	char ev[96];
	int n;

	if (st->done)
		return;
	n = snprintf(ev, sizeof(ev), "event: end\ndata: {\"reason\":\"%s\"}"
	    "\n\n", why);
	http_sse_append(st, ev, (size_t)n);
	st->done = 1;
}

/*
 * MHD wants bytes: hand out what is buffered, or wait (on the
 * connection's own thread) for the stream thread to add some.  The wait
 * is bounded, and a keep-alive comes every SSE_KEEPALIVE_MS, so that
 * libmicrohttpd looks at the socket now and then and notices a client
 * that left; 0 makes it call again.
 */
static ssize_t
http_sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_sse_stream *st = cls;
	struct timespec ts;
	ssize_t n;

	pthread_mutex_lock(&sse_mu);
	if (st->off == st->len && !st->done) {
		clock_deadline(&ts, SSE_READ_WAIT_S * 1000L);
		st->parked = 1;
		pthread_cond_timedwait(&st->cv, &sse_mu, &ts);
		st->parked = 0;
	}
	if (st->off < st->len) {
		n = (ssize_t)(st->len - st->off < max ? st->len - st->off : max);
		memcpy(out, st->buf + st->off, (size_t)n);
		st->off += (size_t)n;
	} else if (st->done)
		n = MHD_CONTENT_READER_END_OF_STREAM;
	else
		n = 0;
	pthread_mutex_unlock(&sse_mu);
	return n;
}

static void
http_sse_free(void *cls)
{
	struct http_sse_stream *st = cls;

	pthread_mutex_lock(&sse_mu);
	st->gone = 1;		/* the stream thread unlinks and frees it */
	pthread_cond_signal(&sse_cv);
	pthread_mutex_unlock(&sse_mu);
}

struct sse_topics {
	int	 n;
	int	 all;			/* too many, or some were lost */
	char	 t[SSE_TOPICS][64];
};

static void
http_sse_notified(void *arg, const char *payload)
{
	struct sse_topics *tp = arg;

	if (tp->n == SSE_TOPICS)
		tp->all = 1;
	else
		snprintf(tp->t[tp->n++], sizeof(tp->t[0]), "%s", payload);
}

/* Mark the streams the notifications name.  Under sse_mu. */
static void
http_sse_wake(const struct sse_topics *tp)
{
	for (struct http_sse_stream *st = sse_list; st != NULL; st = st->next)
		for (int i = 0; !st->due && i < (tp->all ? 1 : tp->n); i++)
			if (tp->all || strcmp(st->topic, tp->t[i]) == 0)
				st->due = 1;
}

static void *
http_sse_main(void *unused)
{
	PGconn *listen = NULL;
	struct timespec ts;
	long retry_ms = 0, last_s = 0;

	if (http_conf.conninfo != NULL && http_conf.sse_channel != NULL)
		listen = db_listen(http_conf.conninfo, http_conf.sse_channel);
	pthread_mutex_lock(&sse_mu);
	while (!sse_stopping) {
		struct http_sse_stream **pp = &sse_list, *st;
		struct sse_topics tp;
		long now = clock_ms();

		/* What was notified since the last tick (no query: a read
		 * of the socket); a broken connection is retried now and
		 * then, and after it comes back every stream looks again. */
		tp.n = tp.all = 0;
		if (listen != NULL && now >= retry_ms) {
			int rc;

			pthread_mutex_unlock(&sse_mu);
			rc = db_listen_take(listen, http_conf.sse_channel,
			    http_sse_notified, &tp);
			pthread_mutex_lock(&sse_mu);
			if (rc == 1)
				tp.all = 1;
			else if (rc < 0)
				retry_ms = now + 2000;
		}
		/* No channel to listen on (a configuration without a
		 * database URL): look every second rather than never. */
		if (listen == NULL && now / 1000 != last_s) {
			last_s = now / 1000;
			tp.all = 1;
		}
		http_sse_wake(&tp);
		while ((st = *pp) != NULL) {
			if (st->gone) {
				*pp = st->next;
				if (st->free_arg != NULL)
					st->free_arg(st->arg);
				pthread_cond_destroy(&st->cv);
				free(st->buf);
				free(st);
				continue;
			}
			if (!st->done && st->due) {
				struct db_conn *c = NULL;
				char *buf = NULL;
				size_t len = 0;
				int rc;

				/* Poll outside the lock: it queries. */
				st->due = 0;
				pthread_mutex_unlock(&sse_mu);
				if (db_acquire(http_conf.pool, 1000, &c) == 0) {
					rc = st->poll(st->arg, c, &buf, &len);
					db_release(c);
				} else
					rc = -2;
				pthread_mutex_lock(&sse_mu);
				if (rc == -2)
					st->due = 1;	/* the pool was busy */
				else if (!st->done) {
					if (len > 0)
						http_sse_append(st, buf, len);
					if (rc != 0)
						st->done = 1;
				}
				free(buf);
			}
			now = clock_ms();
			if (!st->done && now > st->deadline_ms)
				http_sse_end(st, "timeout");
			if (!st->done && st->off == st->len &&
			    now - st->sent_ms >= SSE_KEEPALIVE_MS)
				http_sse_append(st, ": keep-alive\n\n", 14);
			if (st->parked && (st->off < st->len || st->done))
				pthread_cond_signal(&st->cv);
			pp = &st->next;
		}
		clock_deadline(&ts, SSE_TICK_MS);
		pthread_cond_timedwait(&sse_cv, &sse_mu, &ts);
	}
	pthread_mutex_unlock(&sse_mu);
	db_listen_close(listen);
	return NULL;
}

int
http_sse(struct http_req *r, const char *topic, http_sse_poll poll,
    void *arg, void (*free_arg)(void *))
{
	struct http_sse_stream *st;

	/* A stream outlives the dispatcher's check of a remembered
	 * principal: it must have passed before the stream starts. */
	if (r->db != NULL && db_precheck_confirm(r->db,
	    r->priv->remembered) != 0) {
		if (free_arg != NULL)
			free_arg(arg);
		return CD_ERR_DATABASE;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		if (free_arg != NULL)
			free_arg(arg);
		return CD_ERR_NOMEM;
	}
	r->priv->confirmed = 1;
	st->conn = r->priv->conn;
	pthread_cond_init(&st->cv, NULL);
	st->poll = poll;
	st->arg = arg;
	st->free_arg = free_arg;
	snprintf(st->topic, sizeof(st->topic), "%s", topic);
	st->due = 1;
	st->deadline_ms = clock_ms() + SSE_LIFETIME_MS;
	st->sent_ms = clock_ms();
	pthread_mutex_lock(&sse_mu);
	if (!sse_running) {
		if (pthread_create(&sse_thread, NULL, http_sse_main, NULL) != 0) {
			pthread_mutex_unlock(&sse_mu);
			if (free_arg != NULL)
				free_arg(arg);
			pthread_cond_destroy(&st->cv);
			free(st);
			return CD_ERR_SYSTEM;
		}
		sse_running = 1;
	}
	st->next = sse_list;
	sse_list = st;
	pthread_cond_signal(&sse_cv);
	pthread_mutex_unlock(&sse_mu);
	http_reset_response(r);
	r->priv->status = 200;
	r->priv->ctype = "text/event-stream";
	r->priv->sse = st;
	return 0;
}

/* ---- compression ---------------------------------------------------- */

/* Smaller bodies gain less than the work and the header cost. */
#define HTTP_GZIP_MIN	2048

/* Does Accept-Encoding (RFC 9110, section 12.5.3) take gzip? */
static int
http_accepts_gzip(const char *ae)
{
	const char *t;

	for (t = ae; t != NULL && (t = strcasestr(t, "gzip")) != NULL; t += 4) {
		const char *q;

		if ((t != ae && strchr(", ", t[-1]) == NULL) ||
		    strchr(",; ", t[4]) == NULL)
			continue;
		q = t + 4 + strspn(t + 4, " ");
		if (*q == ';') {
			q = strcasestr(q, "q=");
			/* q=0, q=0.0, q=0.000: refused */
			if (q != NULL && q[2] == '0' &&
			    strspn(q + 3, ".0") == strcspn(q + 3, ", "))
				return 0;
		}
		return 1;
	}
	return 0;
}

/*
 * gzip a large JSON body for a client that asks for it.  Bodies with an
 * ETag are left alone: a validator names one representation, and the
 * ones that carry them (single resources) are small.
 */
static void
http_maybe_gzip(struct http_req *r)
{
	struct http_req_priv *p = r->priv;
	z_stream z;
	unsigned char *out;
	size_t cap;

	if (p->out_len < HTTP_GZIP_MIN || p->ctype == NULL ||
	    (strcmp(p->ctype, "application/json") != 0 &&
	    strcmp(p->ctype, "application/problem+json") != 0) ||
	    http_response_header(r, "ETag") != NULL)
		return;
	http_add_header(r, "Vary", "Accept-Encoding");
	if (!http_accepts_gzip(http_header(r, "Accept-Encoding")))
		return;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return;
	cap = deflateBound(&z, p->out_len);
	if ((out = malloc(cap)) == NULL) {
		deflateEnd(&z);
		return;
	}
	z.next_in = (unsigned char *)p->out;
	z.avail_in = (uInt)p->out_len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return;
	}
	free(p->out);
	p->out = (char *)out;
	p->out_len = z.total_out;
	deflateEnd(&z);
	http_add_header(r, "Content-Encoding", "gzip");
}

/* ---- CORS ----------------------------------------------------------- */

#define CORS_METHODS	"GET, HEAD, POST, PUT, PATCH, DELETE"
#define CORS_HEADERS	"Authorization, Content-Type, If-Match, " \
	"If-None-Match, Idempotency-Key, X-Request-Id"
#define CORS_EXPOSE	"ETag, Location, Link, Retry-After, X-Request-Id, " \
	"Idempotent-Replayed, RateLimit, RateLimit-Policy, Content-Disposition"

/* Is origin one of the configured ones?  "*" in the list allows any. */
static int
http_cors_allowed(const char *origin)
{
	const char *l = http_conf.cors_origins;
	size_t n = origin ? strlen(origin) : 0;

	if (l == NULL || n == 0)
		return 0;
	while (*l != '\0') {
		size_t len;

		l += strspn(l, " ,");
		len = strcspn(l, ",");
		while (len > 0 && l[len - 1] == ' ')
			len--;
		if ((len == 1 && l[0] == '*') ||
		    (len == n && strncasecmp(l, origin, n) == 0))
			return 1;
		l += len;
		l += strspn(l, " ");
	}
	return 0;
}

/* Check COHORTD_CORS_ORIGINS: each "*" or scheme://host[:port]. */
static int
http_cors_check(const char *l, char *err, size_t errlen)
{
	while (l != NULL && *l != '\0') {
		size_t len;
		const char *host;

		l += strspn(l, " ,");
		if (*l == '\0')
			break;
		len = strcspn(l, ", ");
		host = strstr(l, "://");
		if (!(len == 1 && *l == '*') && (host == NULL ||
		    host >= l + len || host + 3 == l + len ||
		    memchr(host + 3, '/', (size_t)(l + len - host - 3)) != NULL ||
		    (strncmp(l, "http://", 7) != 0 &&
		    strncmp(l, "https://", 8) != 0))) {
			snprintf(err, errlen, "COHORTD_CORS_ORIGINS: \"%.*s\" is "
			    "not an origin like https://app.example.com", (int)len,
			    l);
			return CD_ERR_CONFIG;
		}
		l += len;
	}
	return 0;
}

/* The CORS headers of a response to an allowed origin. */
static void
http_cors_headers(struct http_req *r, struct MHD_Response *resp)
{
	const char *origin = http_header(r, "Origin");

	if (http_conf.cors_origins == NULL || http_conf.cors_origins[0] == '\0')
		return;
	/* The answer depends on Origin, allowed or not: caches must know. */
	MHD_add_response_header(resp, "Vary", "Origin");
	if (!http_cors_allowed(origin))
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
	MHD_add_response_header(resp, "Access-Control-Expose-Headers",
	    CORS_EXPOSE);
	if (r->priv->preflight) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods",
		    CORS_METHODS);
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
		    CORS_HEADERS);
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
}

/*
 * OPTIONS: 204 with Allow naming the path's methods (404 for no route);
 * with Origin and Access-Control-Request-Method it is a CORS preflight,
 * answered by http_cors_headers.
 */
static void
http_options(struct http_req *r)
{
	struct http_req_priv *p = r->priv;

	p->preflight = http_header(r, "Access-Control-Request-Method") != NULL;
	/* Routing with no method: 405 and Allow when the path exists. */
	if (http_route(r, 0) == 0 || p->status != 405)
		return;
	http_body(r, 204, "text/plain", NULL, 0);
}

static enum MHD_Result
http_queue(struct http_req *r)
{
	struct http_req_priv *p = r->priv;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	http_maybe_gzip(r);		/* a buffered body only */
	if (p->rows != NULL && p->status == 200) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32768,
		    http_rows_read, p->rows, http_rows_free);
		if (resp == NULL)
			return MHD_NO;
		p->rows = NULL;		/* the response owns it now */
	} else if (p->sse != NULL && p->status == 200) {
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
		    http_sse_read, p->sse, http_sse_free);
		if (resp == NULL)
			return MHD_NO;
		p->sse = NULL;		/* the response owns it now */
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	} else if ((resp = MHD_create_response_from_buffer(p->out_len, p->out,
	    MHD_RESPMEM_MUST_FREE)) == NULL)
		return MHD_NO;
	else
		p->out = NULL;		/* the response owns it now */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, p->ctype);
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	http_cors_headers(r, resp);
	for (int i = 0; i < p->nhdr; i++)
		MHD_add_response_header(resp, p->hname[i], p->hval[i]);
	ret = MHD_queue_response(p->conn, (unsigned)p->status, resp);
	MHD_destroy_response(resp);
	p->queued = 1;
	return ret;
}

static int
http_request_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++)
		if (!(id[n] >= 'a' && id[n] <= 'z') &&
		    !(id[n] >= 'A' && id[n] <= 'Z') &&
		    !(id[n] >= '0' && id[n] <= '9') &&
		    strchr("._:-", id[n]) == NULL)
			return 0;
	return n > 0 && n <= 64;
}

static struct http_req *
http_req_new(struct MHD_Connection *conn, const char *method,
    const char *url)
{
	struct http_req *r;
	const char *id;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->priv = calloc(1, sizeof(*r->priv))) == NULL) {
		free(r);
		return NULL;
	}
	r->priv->conn = conn;
	snprintf(r->priv->method, sizeof(r->priv->method), "%s", method);
	r->priv->start_us = clock_us();
	r->route_idx = -1;
	/* Our own copy: the log line outlives MHD's view of the request. */
	if ((r->priv->url = strdup(url)) == NULL) {
		free(r->priv);
		free(r);
		return NULL;
	}
	r->path = r->priv->url;
	id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	if (id != NULL && http_request_id_ok(id))
		snprintf(r->request_id, sizeof(r->request_id), "%s", id);
	else {
		/* Unique without a syscall: a random per-process prefix and
		 * a counter; ids need not be secret. */
		snprintf(r->request_id, sizeof(r->request_id), "%s%08lx",
		    http_id_prefix, (unsigned long)atomic_fetch_add_explicit(
		    &http_id_seq, 1, memory_order_relaxed) & 0xffffffffUL);
	}
	atomic_fetch_add(&http_inflight_n, 1);
	return r;
}

static void
http_req_free(struct http_req *r)
{
	struct http_req_priv *p = r->priv;

	if (r->db != NULL)
		db_release(r->db);
	if (p->rows != NULL)		/* never handed to MHD */
		http_rows_free(p->rows);
	if (p->sse != NULL) {		/* never handed to MHD */
		pthread_mutex_lock(&sse_mu);
		p->sse->gone = 1;
		pthread_mutex_unlock(&sse_mu);
	}
	json_decref(r->json);
	free(r->body);
	free(p->pathbuf);
	free(p->url);
	free(p->out);
	for (int i = 0; i < p->nhdr; i++) {
		free(p->hname[i]);
		free(p->hval[i]);
	}
	free(p);
	free(r);
	atomic_fetch_sub(&http_inflight_n, 1);
}

struct http_size {
	size_t	 n;
};

static enum MHD_Result
http_size_add(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct http_size *sz = cls;

	(void)kind;
	/* "name: value\r\n" for a header, "name=value&" for a parameter */
	sz->n += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

/*
 * The request head's limits and form, before routing: 505 for a version
 * other than HTTP/1.x, 414 for a URI over HTTP_MAX_URI, 431 for
 * header fields over HTTP_MAX_HEAD, 400 for HTTP/1.1 without Host
 * (RFC 9112, section 3.2).  Answers and returns -1, or returns 0.
 */
static int
http_head_check(struct http_req *r, const char *version)
{
	struct MHD_Connection *conn = r->priv->conn;
	struct http_size uri = { strlen(r->path) }, head = { 0 };

	/* HTTP/1.2 and later minor versions are answered as 1.1. */
	if (strncmp(version, "HTTP/1.", 7) != 0) {
		http_problem(r, 505, "http-version-not-supported",
		    "HTTP Version Not Supported", "send HTTP/1.1 or HTTP/1.0");
		return -1;
	}
	if (!http_text_ok(r->path, strlen(r->path))) {
		http_problem(r, 400, "bad-request", "Bad Request",
		    "the path is not UTF-8 text (or holds a control "
		    "character)");
		return -1;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, http_size_add,
	    &uri);
	if (uri.n > HTTP_MAX_URI) {
		http_problem(r, 414, "uri-too-long", "URI Too Long",
		    "the path and query are limited to %d bytes", HTTP_MAX_URI);
		return -1;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_size_add, &head);
	if (head.n > HTTP_MAX_HEAD) {
		http_problem(r, 431, "header-fields-too-large",
		    "Request Header Fields Too Large",
		    "header fields are limited to %d bytes", HTTP_MAX_HEAD);
		return -1;
	}
	if (strcmp(version, MHD_HTTP_VERSION_1_0) != 0 &&
	    http_header(r, MHD_HTTP_HEADER_HOST) == NULL) {
		http_problem(r, 400, "bad-request", "Bad Request",
		    "an HTTP/1.1 request must have a Host header");
		return -1;
	}
	return 0;
}

static enum MHD_Result
http_too_large(struct http_req *r)
{
	http_problem(r, 413, "body-too-large", "Content Too Large",
	    "request bodies are limited to %zu bytes", http_conf.body_limit);
	/* The rest of the body will not be read: do not reuse the stream. */
	http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return http_queue(r);
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct http_req *r = *con_cls;
	struct http_req_priv *p;
	int m;

	if (r == NULL) {
		const char *cl;

		if ((r = http_req_new(conn, method, url)) == NULL)
			return MHD_NO;
		*con_cls = r;
		/* The head is in: from now on the idle timeout applies. */
		MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
		    (unsigned)http_conf.connection_timeout_s);
		if (http_head_check(r, version) != 0) {
			/* The rest of this request will not be read. */
			http_add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
			return http_queue(r);
		}
		cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl != NULL && strtoull(cl, NULL, 10) > http_conf.body_limit) {
			r->priv->too_large = 1;
			return http_too_large(r);
		}
		return MHD_YES;
	}
	p = r->priv;
	if (p->queued) {
		*upload_size = 0;	/* draining after an early answer */
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t n = *upload_size;

		*upload_size = 0;
		if (p->too_large)
			return MHD_YES;		/* discarded; 413 at the end */
		if (r->body_len + n > http_conf.body_limit) {
			/* A chunked body has no length to refuse up front:
			 * drop what came, keep reading, answer 413 then. */
			p->too_large = 1;
			free(r->body);
			r->body = NULL;
			r->body_len = 0;
			return MHD_YES;
		}
		if (r->body_len + n + 1 > p->body_cap) {
			size_t cap = p->body_cap ? p->body_cap : 1024;
			char *nb;

			while (cap < r->body_len + n + 1)
				cap *= 2;
			if ((nb = realloc(r->body, cap)) == NULL)
				return MHD_NO;
			r->body = nb;
			p->body_cap = cap;
		}
		memcpy(r->body + r->body_len, upload, n);
		r->body_len += n;
		r->body[r->body_len] = '\0';
		return MHD_YES;
	}

	if (p->too_large)
		return http_too_large(r);
	log_set_request_id(r->request_id);
	if (strcmp(method, "OPTIONS") == 0)
		http_options(r);
	else if ((m = http_method_of(method)) == 0) {
		http_problem(r, 501, "not-implemented", "Not Implemented",
		    "method %s is not supported", method);
	} else
		http_dispatch(r, m);
	log_set_request_id(NULL);
	return http_queue(r);
}

/* The gate counts libmicrohttpd's connections per address (gate.c). */
static void
http_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci, *fi;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		fi = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		gate_conn_started(ci != NULL ? ci->client_addr : NULL,
		    fi != NULL ? fi->connect_fd : -1, socket_ctx);
	} else
		gate_conn_closed(socket_ctx);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;
	struct http_req_priv *p;
	long dur_us;

	if (r == NULL)
		return;
	p = r->priv;
	dur_us = clock_us() - p->start_us;
	metrics_observe(r->route_idx, p->status, dur_us);
	{
		const struct log_field f[] = {
			LOG_STR("method", p->method),
			LOG_STR("route", r->route ? r->route->pattern : "-"),
			LOG_STR("path", r->path),
			LOG_INT("status", p->status),
			LOG_NUM("duration_ms", dur_us / 1000.0),
		};

		log_set_request_id(r->request_id);
		log_kv(LOG_LVL_INFO, "request", f, sizeof(f) / sizeof(*f));
		log_set_request_id(NULL);
	}
	http_req_free(r);
	*con_cls = NULL;
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warnx("microhttpd: %s", buf);
}

/* Parse "host:port" or "[v6]:port" into a socket address. */
int
http_parse_listen(const char *listen, struct sockaddr_storage *ss,
    char *err, size_t errlen)
{
	char host[256];
	const char *colon, *h = listen;
	struct addrinfo hints, *ai = NULL;
	size_t hl;
	int e;

	colon = strrchr(listen, ':');
	if (colon == NULL || colon[1] == '\0') {
		snprintf(err, errlen, "COHORTD_LISTEN: \"%s\" is not host:port",
		    listen);
		return CD_ERR_CONFIG;
	}
	hl = (size_t)(colon - listen);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "COHORTD_LISTEN: \"%s\" has no host",
		    listen);
		return CD_ERR_CONFIG;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) > 65535) {
		snprintf(err, errlen, "COHORTD_LISTEN: \"%s\" has no valid port",
		    listen);
		return CD_ERR_CONFIG;
	}
	if ((e = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
		snprintf(err, errlen, "COHORTD_LISTEN: \"%s\": %s", listen,
		    gai_strerror(e));
		return CD_ERR_CONFIG;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	return 0;
}

int
http_start(const struct http_config *conf, int *port, char *err,
    size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_storage bound;
	struct gate_conf gc;
	socklen_t blen = sizeof(bound);
	unsigned int flags;
	int rc, lfd = -1, one = 1;

	http_conf = *conf;
	{
		unsigned char rnd[8];

		randombytes_buf(rnd, sizeof(rnd));
		sodium_bin2hex(http_id_prefix, sizeof(http_id_prefix), rnd,
		    sizeof(rnd));
	}
	if ((rc = http_parse_listen(conf->listen, &ss, err, errlen)) != 0 ||
	    (rc = http_cors_check(conf->cors_origins, err, errlen)) != 0)
		return rc;
	if ((rc = metrics_init(conf->nroutes)) != 0)
		return rc;
	/* The listening socket is the gate's (gate.c): it reads each new
	 * connection's first head before libmicrohttpd gets it. */
	if ((lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR,
	    &one, sizeof(one)) != 0 || bind(lfd, (struct sockaddr *)&ss,
	    ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	    sizeof(struct sockaddr_in)) != 0 || listen(lfd, 1024) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&bound, &blen) != 0) {
		snprintf(err, errlen, "COHORTD_LISTEN: cannot listen on %s "
		    "(address in use or not available?)", conf->listen);
		if (lfd >= 0)
			close(lfd);
		return CD_ERR_CONFIG;
	}
	*port = ntohs(bound.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&bound)->sin6_port :
	    ((struct sockaddr_in *)&bound)->sin_port);
	/* A thread per connection: see "Concurrency" above.  poll(2), not
	 * select(2): descriptors go past FD_SETSIZE under load. */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
	    MHD_USE_NO_LISTEN_SOCKET;
	http_daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_access, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)HTTP_STACK,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)conf->max_connections,
	    /* A new connection has header_timeout_s for its first head
	     * (the gate closes it then, too); http_access sets the idle
	     * timeout, connection_timeout_s, once the head is in. */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(conf->header_timeout_s <
	    conf->connection_timeout_s ? conf->header_timeout_s :
	    conf->connection_timeout_s),
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MHD_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, http_conn_notify, NULL,
	    MHD_OPTION_END);
	if (http_daemon == NULL) {
		snprintf(err, errlen, "cannot start the HTTP server");
		close(lfd);
		return CD_ERR_CONFIG;
	}
	gc = (struct gate_conf){ .timeout_s = conf->header_timeout_s,
	    .max_uri = HTTP_MAX_URI, .max_head = HTTP_MAX_HEAD,
	    .max_pending = conf->max_connections,
	    .per_address = conf->max_per_address,
	    .exempt = conf->trusted_proxies };
	if ((rc = gate_start(lfd, http_daemon, &gc)) != 0) {
		snprintf(err, errlen, "cannot start the HTTP listener: %s",
		    cd_strerror(rc));
		MHD_stop_daemon(http_daemon);
		http_daemon = NULL;
		return rc;
	}
	return 0;
}

/* End every stream and wake its connection, so MHD can finish it. */
static void
http_sse_end_all(void)
{
	struct http_sse_stream *st;

	pthread_mutex_lock(&sse_mu);
	for (st = sse_list; st != NULL; st = st->next) {
		http_sse_end(st, "shutdown");
		pthread_cond_signal(&st->cv);
	}
	pthread_mutex_unlock(&sse_mu);
}

void
http_quiesce(void)
{
	if (http_daemon == NULL)
		return;
	gate_stop();		/* no new connections */
	/* Streams would hold shutdown for their whole life: end them. */
	http_sse_end_all();
}

int
http_inflight(void)
{
	return atomic_load(&http_inflight_n);
}

void
http_stop(void)
{
	http_sse_end_all();
	gate_stop();
	if (http_daemon != NULL)
		MHD_stop_daemon(http_daemon);
	http_daemon = NULL;
	pthread_mutex_lock(&sse_mu);
	sse_stopping = 1;
	pthread_cond_signal(&sse_cv);
	pthread_mutex_unlock(&sse_mu);
	if (sse_running)
		pthread_join(sse_thread, NULL);
	sse_running = 0;
}
