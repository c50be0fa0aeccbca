/*
 * gate.c - the HTTP listener's front door: every new connection's first
 * request head is read here before libmicrohttpd is given the socket.
 *
 * Theory of operation.  libmicrohttpd answers some heads by itself, with
 * compiled-in HTML pages and no hook to change them: a malformed request
 * line or header field (400), a version it does not speak (505), a head
 * larger than its memory pool (414, 431); and bytes that never make a
 * line end (NUL bytes, say) get no answer at all until the idle timeout.
 * So one thread owns the listening socket and an epoll set of connections
 * whose first head is not complete yet.  It only peeks (MSG_PEEK): a head
 * that passes the checks below is left unread in the socket and the
 * connection goes to libmicrohttpd (MHD_add_connection), which reads it
 * as if it had accepted the connection itself.  A head that fails gets a
 * problem document written here, then the connection is closed.  A
 * connection that sends no whole head within the header timeout is
 * closed.  Later requests on a kept-alive connection are libmicrohttpd's
 * alone; the access handler checks their size (http_head_check in
 * http.c), and libmicrohttpd answers a bad version on them itself.
 *
 * Bounds.  At most max_pending connections wait for a head, and a head
 * is not handed on while libmicrohttpd has as many connections as it may
 * (it would close the socket unanswered): a full gate stops accepting, so
 * new clients wait in the listen queue as they did before the gate; a
 * head that arrives while libmicrohttpd is full gets 503 with
 * Retry-After.  Out of descriptors, accepting pauses GATE_PAUSE_MS
 * instead of spinning on the ready listening socket.  A connection is
 * peeked again only when GATE_PEEK_STEP more bytes came or
 * GATE_PEEK_EVERY_MS passed (at a sweep), so a client sending a byte at a
 * time costs a few peeks a second, not one per byte.  gate_stop() closes the listening socket
 * and every waiting connection, and joins the thread.
 *
 * Per address.  One client trickling heads on a thousand connections
 * would take every place here and, once its heads are in, every one of
 * libmicrohttpd's.  So connections are counted per client address, those
 * waiting here and those libmicrohttpd has, and a connection beyond
 * per_address from one address is answered 429 at once and closed.
 * Trusted proxies (exempt) carry many clients and are not capped.  A
 * connection stays counted across the handover: libmicrohttpd queues an
 * added connection to one of its threads, which tells us it started
 * (gate_conn_started) only later, and a burst of whole heads would
 * otherwise pass uncounted in between.  So a handed connection is
 * remembered by descriptor (GATE_HANDED of them at most) until that
 * thread claims its count; one never claimed within GATE_CLAIM_MS
 * (libmicrohttpd dropped it unannounced) gives its count back; the count
 * drops when libmicrohttpd closes the connection (gate_conn_closed).
 */
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "gate.h"
#include "http.h"
#include "../common/log.h"
#include "netaddr.h"

#define GATE_PAUSE_MS	100	/* accept again after running out of fds */
#define GATE_PEEK_STEP	512	/* bytes that make a new peek worth it */
#define GATE_PEEK_EVERY_MS 50	/* else peek again after this */
#define GATE_DRAIN_MAX	65536	/* read at most this before refusing */
#define GATE_ADDR_BUCKETS 1024	/* of the per-address counts */
#define GATE_HANDED	256	/* handed, not yet claimed (see above) */
#define GATE_CLAIM_MS	10000	/* unclaimed after this: given back */

/* A connection given to libmicrohttpd whose count it has not claimed. */
struct gate_handed {
	int			 fd;	/* -1: a free entry */
	unsigned char		 key[16];
	long			 at_ms;
};

/* Connections from one address: waiting here or libmicrohttpd's. */
struct gate_addr {
	struct gate_addr	*next;
	unsigned char		 key[16];	/* IPv6; IPv4 mapped */
	unsigned		 n;
};

struct gate_conn {
	struct gate_conn	*next;
	int			 fd;
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	long			 deadline_ms;
	size_t			 seen;	/* bytes there at the last peek */
	long			 peeked_ms;	/* when */
	int			 unseen;	/* more came since: peek at sweep */
	int			 counted;	/* in its address's count */
	unsigned char		 key[16];
};

static struct {
	struct MHD_Daemon	*mhd;
	int			 listen_fd;
	int			 ep;
	int			 stop_fd[2];	/* a pipe: written to stop */
	int			 timeout_ms;
	size_t			 max_uri, max_head;
	int			 max_pending, npending;
	unsigned		 max_conns;	/* libmicrohttpd's limit */
	int			 accepting;	/* the listening socket watched */
	long			 resume_ms;	/* paused: accept again then */
	struct gate_conn	*pending;
	pthread_t		 thread;
	int			 running;
	char			*buf;		/* the peek buffer */
	size_t			 bufsz;
	unsigned		 per_address;	/* 0: no cap */
	const char		*exempt;
	pthread_mutex_t		 addr_mu;	/* the gate's and MHD's threads */
	struct gate_addr	*addrs[GATE_ADDR_BUCKETS];
	struct gate_handed	 handed[GATE_HANDED];	/* under addr_mu */
} gate = { .listen_fd = -1, .ep = -1, .stop_fd = { -1, -1 },
    .addr_mu = PTHREAD_MUTEX_INITIALIZER };

/* RFC 9110 tchar: what a method or a field name is made of. */
static int
gate_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/*
 * Check the head in b[0..n) (n includes the empty line that ends it).
 * Returns 0, or the status to answer with; *why says why.
 */
static int
gate_check(const char *b, size_t n, const char **why)
{
	const char *p = b, *end = b + n, *eol, *sp1, *sp2;

	if (memchr(b, '\0', n) != NULL) {
		*why = "the request head holds NUL bytes";
		return 400;
	}
	/* RFC 9112, section 2.2: empty lines before the request line. */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL || eol == p || eol[-1] != '\r') {
		*why = "the request line must end with CRLF";
		return 400;
	}
	for (sp1 = p; sp1 < eol && gate_tchar((unsigned char)*sp1); sp1++)
		;
	if (sp1 == p || *sp1 != ' ') {
		*why = "the request line must be: method SP target SP version";
		return 400;
	}
	for (sp2 = sp1 + 1; sp2 < eol && (unsigned char)*sp2 > 0x20 &&
	    *sp2 != 0x7f; sp2++)
		;
	if (sp2 == sp1 + 1 || *sp2 != ' ') {
		*why = "the request line must be: method SP target SP version";
		return 400;
	}
	if ((size_t)(sp2 - sp1 - 1) > gate.max_uri) {
		*why = "the request target is too long";
		return 414;
	}
	sp2++;
	if (eol - 1 - sp2 != 8 || strncmp(sp2, "HTTP/", 5) != 0 ||
	    sp2[5] < '0' || sp2[5] > '9' || sp2[6] != '.' ||
	    sp2[7] < '0' || sp2[7] > '9') {
		*why = "the request line must end with HTTP/1.1 or HTTP/1.0";
		return 400;
	}
	if (sp2[5] != '1') {
		*why = "send HTTP/1.1 or HTTP/1.0";
		return 505;
	}
	/* Header fields: name ":" value, no control characters but tab. */
	for (p = eol + 1; p < end; p = eol + 1) {
		const char *c;

		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			break;
		if (eol == p || (eol == p + 1 && *p == '\r'))
			return 0;		/* the empty line: the end */
		if (eol[-1] != '\r') {
			*why = "header lines must end with CRLF";
			return 400;
		}
		for (c = p; c < eol && gate_tchar((unsigned char)*c); c++)
			;
		if (c == p || *c != ':') {
			*why = "a header line must be a name, a colon and a value";
			return 400;
		}
		for (c++; c < eol - 1; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') ||
			    *c == 0x7f) {
				*why = "a header value holds a control character";
				return 400;
			}
	}
	return 0;
}

/* The count key of an address: IPv6, or IPv4 as mapped into it. */
static void
gate_addr_key(const struct sockaddr *sa, unsigned char key[16])
{
	memset(key, 0, 16);
	if (sa->sa_family == AF_INET6)
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else if (sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* Add delta to key's count; the count after.  A count at 0 is freed. */
static unsigned
gate_addr_add(const unsigned char key[16], int delta)
{
	struct gate_addr **pp, *a;
	unsigned h = 2166136261u, n = 0;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;	/* FNV-1a */
	pthread_mutex_lock(&gate.addr_mu);
	for (pp = &gate.addrs[h % GATE_ADDR_BUCKETS]; (a = *pp) != NULL;
	    pp = &a->next)
		if (memcmp(a->key, key, 16) == 0)
			break;
	if (a == NULL && delta > 0 && (a = calloc(1, sizeof(*a))) != NULL) {
		memcpy(a->key, key, 16);
		a->next = *pp;
		*pp = a;
	}
	if (a != NULL) {
		a->n = delta < 0 && a->n < (unsigned)-delta ? 0 :
		    a->n + (unsigned)delta;
		if ((n = a->n) == 0) {
			*pp = a->next;
			free(a);
		}
	}
	pthread_mutex_unlock(&gate.addr_mu);
	return n;
}

/* Is sa exempt from the per-address cap (a trusted proxy)? */
static int
gate_exempt(const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN];
	const void *a = sa->sa_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (gate.exempt == NULL || gate.exempt[0] == '\0' ||
	    inet_ntop(sa->sa_family, a, ip, sizeof(ip)) == NULL)
		return 0;
	return netaddr_in_list(ip, gate.exempt);
}

/* Take fd's handed entry, if any (its count is the connection's now):
 * 1 if there was one, its key in key.  Under addr_mu. */
static int
gate_handed_take(int fd, unsigned char key[16])
{
	for (int i = 0; i < GATE_HANDED; i++)
		if (gate.handed[i].fd == fd) {
			gate.handed[i].fd = -1;
			memcpy(key, gate.handed[i].key, 16);
			return 1;
		}
	return 0;
}

/* Remember fd's count as handed over; 0 when there is no room. */
static int
gate_handed_put(int fd, const unsigned char key[16])
{
	unsigned char stale[16];
	int ok = 0, had;

	pthread_mutex_lock(&gate.addr_mu);
	/* A reused descriptor's old entry was never claimed: give it back. */
	had = gate_handed_take(fd, stale);
	for (int i = 0; i < GATE_HANDED && !ok; i++)
		if (gate.handed[i].fd == -1) {
			gate.handed[i].fd = fd;
			memcpy(gate.handed[i].key, key, 16);
			gate.handed[i].at_ms = clock_ms();
			ok = 1;
		}
	pthread_mutex_unlock(&gate.addr_mu);
	if (had)
		gate_addr_add(stale, -1);
	return ok;
}

/* Give back the counts of handed entries never claimed. */
static void
gate_handed_expire(long now)
{
	unsigned char keys[GATE_HANDED][16];
	int n = 0;

	pthread_mutex_lock(&gate.addr_mu);
	for (int i = 0; i < GATE_HANDED; i++)
		if (gate.handed[i].fd != -1 &&
		    now - gate.handed[i].at_ms > GATE_CLAIM_MS) {
			memcpy(keys[n++], gate.handed[i].key, 16);
			gate.handed[i].fd = -1;
		}
	pthread_mutex_unlock(&gate.addr_mu);
	while (n-- > 0)
		gate_addr_add(keys[n], -1);
}

void
gate_conn_started(const struct sockaddr *sa, int fd, void **ctx)
{
	unsigned char *key, handed[16];
	int claimed;

	*ctx = NULL;
	if (sa == NULL || (key = malloc(16)) == NULL)
		return;
	gate_addr_key(sa, key);
	pthread_mutex_lock(&gate.addr_mu);
	claimed = fd >= 0 && gate_handed_take(fd, handed);
	pthread_mutex_unlock(&gate.addr_mu);
	if (claimed && memcmp(handed, key, 16) != 0) {
		gate_addr_add(handed, -1);	/* not the same connection */
		claimed = 0;
	}
	if (!claimed)
		gate_addr_add(key, 1);
	*ctx = key;
}

void
gate_conn_closed(void **ctx)
{
	if (*ctx == NULL)
		return;
	gate_addr_add(*ctx, -1);
	free(*ctx);
	*ctx = NULL;
}

/* gc is finished with: no longer waiting (freed at the sweep). */
static void
gate_done(struct gate_conn *gc, int close_it)
{
	if (close_it)
		close(gc->fd);
	if (gc->counted)
		gate_addr_add(gc->key, -1);
	gc->counted = 0;
	gc->fd = -1;
	gate.npending--;
}

/* Watch the listening socket, or stop (until resume_ms, if not 0). */
static void
gate_listen(int on, long resume_ms)
{
	struct epoll_event ev;

	if (on == gate.accepting)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = on ? EPOLLIN : 0;
	ev.data.ptr = &gate.listen_fd;
	if (epoll_ctl(gate.ep, EPOLL_CTL_MOD, gate.listen_fd, &ev) == 0) {
		gate.accepting = on;
		gate.resume_ms = resume_ms;
	}
}

/* Answer status as a problem document and close the connection. */
static void
gate_refuse(struct gate_conn *gc, int status, const char *why)
{
	size_t drained = 0;
	ssize_t got;
	char out[1024], *body;
	const char *title, *type;
	int n;

	switch (status) {
	case 414: title = "URI Too Long"; type = "uri-too-long"; break;
	case 431: title = "Request Header Fields Too Large";
		type = "header-fields-too-large"; break;
	case 505: title = "HTTP Version Not Supported";
		type = "http-version-not-supported"; break;
	case 503: title = "Service Unavailable"; type = "unavailable"; break;
	case 429: title = "Too Many Requests";
		type = "too-many-connections"; break;
	default: title = "Bad Request"; type = "bad-request"; break;
	}
	body = http_problem_doc(status, type, title, why, NULL, NULL);
	n = snprintf(out, sizeof(out), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "application/problem+json\r\nContent-Length: %zu\r\n%s"
	    "Connection: close\r\n\r\n%s", status, title, body ? strlen(body) :
	    0, status == 503 || status == 429 ? "Retry-After: 1\r\n" : "",
	    body ? body : "");
	free(body);
	/* Not a request libmicrohttpd saw, so not in the request lines: a
	 * line of its own says what was refused. */
	log_fields(LOG_LVL_INFO, "head refused", json_pack("{s:i, s:s}",
	    "status", status, "detail", why));
	/* Take what was sent, so that closing does not reset the
	 * connection before the client reads the answer. */
	while (drained < GATE_DRAIN_MAX && (got = recv(gc->fd, gate.buf,
	    gate.bufsz, MSG_DONTWAIT)) > 0)
		drained += (size_t)got;
	if (send(gc->fd, out, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("gate: answer not sent: %s", strerror(errno));
	shutdown(gc->fd, SHUT_WR);
	gate_done(gc, 1);
}

/* Connections libmicrohttpd has now. */
static unsigned
gate_mhd_conns(void)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(gate.mhd,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return i != NULL ? i->num_connections : 0;
}

/*
 * Look at what gc has sent (hup: and it will send no more).  Returns 1
 * when gc is finished with (given to libmicrohttpd, refused or closed),
 * 0 to wait for more.
 */
static int
gate_look(struct gate_conn *gc, int hup, int force)
{
	const char *why = "";
	ssize_t n;
	char *end;
	int status, avail, fd;

	/* A few more bytes: not worth a peek now (the sweep looks). */
	if (!hup && !force && ioctl(gc->fd, FIONREAD, &avail) == 0 &&
	    avail > 0 && (size_t)avail < gc->seen + GATE_PEEK_STEP &&
	    (size_t)avail < gate.bufsz) {
		gc->unseen = (size_t)avail != gc->seen;
		return 0;
	}
	gc->unseen = 0;
	gc->peeked_ms = clock_ms();
	n = recv(gc->fd, gate.buf, gate.bufsz, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	if (n <= 0) {
		gate_done(gc, 1);	/* gone before a whole head */
		return 1;
	}
	gc->seen = (size_t)n;
	end = memmem(gate.buf, (size_t)n, "\n\r\n", 3);
	if (end == NULL)
		end = memmem(gate.buf, (size_t)n, "\n\n", 2);
	if (end == NULL) {
		if (memchr(gate.buf, '\0', (size_t)n) != NULL)
			status = gate_check(gate.buf, (size_t)n, &why);
		else if (hup) {
			status = 400;
			why = "the connection ended inside the request head";
		} else if ((size_t)n < gate.bufsz)
			return 0;	/* more to come */
		else if (memchr(gate.buf, '\n', (size_t)n) == NULL) {
			status = 414;
			why = "the request line is too long";
		} else {
			status = 431;
			why = "the request head is too large";
		}
	} else
		status = gate_check(gate.buf, (size_t)(end - gate.buf) +
		    (end[1] == '\n' ? 2 : 3), &why);
	if (status == 0 && gate_mhd_conns() >= gate.max_conns) {
		status = 503;
		why = "the server has as many connections as it may; try again";
	}
	if (status != 0) {
		gate_refuse(gc, status, why);
		return 1;
	}
	/* Fine: libmicrohttpd reads the head itself; the socket is its. */
	epoll_ctl(gate.ep, EPOLL_CTL_DEL, gc->fd, NULL);
	fd = gc->fd;
	if (gc->counted && gate_handed_put(fd, gc->key))
		gc->counted = 0;	/* the count goes with the connection */
	if (MHD_add_connection(gate.mhd, fd, (struct sockaddr *)&gc->addr,
	    gc->addrlen) != MHD_YES) {
		unsigned char key[16];

		log_debug("gate: connection refused by the HTTP server: %s",
		    strerror(errno));
		pthread_mutex_lock(&gate.addr_mu);
		if (!gc->counted && gate_handed_take(fd, key))
			gc->counted = 1;	/* given back by gate_done */
		pthread_mutex_unlock(&gate.addr_mu);
	}
	gate_done(gc, 0);	/* closed by libmicrohttpd if refused */
	return 1;
}

static void
gate_accept(void)
{
	static long warned;

	for (;;) {
		struct gate_conn *gc;
		struct epoll_event ev;
		int fd;

		if (gate.npending >= gate.max_pending) {
			/* Full: the rest wait in the listen queue. */
			gate_listen(0, 0);
			return;
		}
		if ((gc = calloc(1, sizeof(*gc))) == NULL) {
			gate_listen(0, clock_ms() + GATE_PAUSE_MS);
			return;
		}
		gc->addrlen = sizeof(gc->addr);
		fd = accept4(gate.listen_fd, (struct sockaddr *)&gc->addr,
		    &gc->addrlen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			free(gc);
			if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR ||
			    e == ECONNABORTED)
				return;
			/* Out of descriptors or memory: pause, do not spin
			   on a listening socket that stays ready. */
			if (clock_ms() - warned > 10000) {
				log_warnx("gate: accept: %s; pausing",
				    strerror(e));
				warned = clock_ms();
			}
			gate_listen(0, clock_ms() + GATE_PAUSE_MS);
			return;
		}
		gc->fd = fd;
		gc->deadline_ms = clock_ms() + gate.timeout_ms;
		memset(&ev, 0, sizeof(ev));
		/* Edge-triggered: peeking leaves the bytes readable. */
		ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
		ev.data.ptr = gc;
		if (epoll_ctl(gate.ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close(fd);
			free(gc);
			continue;
		}
		gc->next = gate.pending;
		gate.pending = gc;
		gate.npending++;
		gate_addr_key((struct sockaddr *)&gc->addr, gc->key);
		gc->counted = 1;
		if (gate_addr_add(gc->key, 1) > gate.per_address &&
		    gate.per_address > 0 &&
		    !gate_exempt((struct sockaddr *)&gc->addr)) {
			gate_refuse(gc, 429, "too many connections from your "
			    "address; close some and try again");
			continue;
		}
		/* The head often came with the connection. */
		gate_look(gc, 0, 1);
	}
}

/* Close the timed out, look at the unseen, free the finished (fd -1);
 * accept again when there is room. */
static void
gate_sweep(long now)
{
	struct gate_conn **pp = &gate.pending, *gc;

	gate_handed_expire(now);

	while ((gc = *pp) != NULL) {
		if (gc->fd >= 0 && now > gc->deadline_ms)
			gate_done(gc, 1);	/* no whole head in time */
		else if (gc->fd >= 0 && gc->unseen &&
		    now - gc->peeked_ms >= GATE_PEEK_EVERY_MS)
			gate_look(gc, 0, 1);
		if (gc->fd < 0) {
			*pp = gc->next;
			free(gc);
		} else
			pp = &gc->next;
	}
	if (!gate.accepting && gate.npending < gate.max_pending &&
	    now >= gate.resume_ms)
		gate_listen(1, 0);
}

static void *
gate_main(void *unused)
{
	struct epoll_event evs[64];

	(void)unused;
	for (;;) {
		int n = epoll_wait(gate.ep, evs, 64, GATE_PEEK_EVERY_MS);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &gate.stop_fd)
				return NULL;
			if (evs[i].data.ptr == &gate.listen_fd)
				gate_accept();
			else {
				struct gate_conn *gc = evs[i].data.ptr;

				if (gc->fd >= 0)
					gate_look(gc, (evs[i].events &
					    (EPOLLRDHUP | EPOLLHUP)) != 0, 0);
			}
		}
		gate_sweep(clock_ms());
	}
	return NULL;
}

int
gate_start(int listen_fd, struct MHD_Daemon *mhd, const struct gate_conf *conf)
{
	struct epoll_event ev;
	int rc = CD_ERR_SYSTEM;

	gate.mhd = mhd;
	gate.listen_fd = listen_fd;
	gate.timeout_ms = conf->timeout_s * 1000;
	gate.max_uri = conf->max_uri;
	gate.max_head = conf->max_head;
	gate.max_pending = conf->max_pending;
	gate.max_conns = (unsigned)conf->max_pending;
	gate.per_address = conf->per_address > 0 ? (unsigned)conf->per_address :
	    0;
	gate.exempt = conf->exempt;
	for (int i = 0; i < GATE_HANDED; i++)
		gate.handed[i].fd = -1;
	/* Room for the longest head that passes, and a byte to see more. */
	gate.bufsz = conf->max_uri + conf->max_head + 1024;
	if ((gate.buf = malloc(gate.bufsz)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((gate.ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    pipe2(gate.stop_fd, O_CLOEXEC | O_NONBLOCK) != 0)
		goto out;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &gate.listen_fd;
	if (epoll_ctl(gate.ep, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
		goto out;
	gate.accepting = 1;
	ev.data.ptr = &gate.stop_fd;
	if (epoll_ctl(gate.ep, EPOLL_CTL_ADD, gate.stop_fd[0], &ev) != 0)
		goto out;
	if ((errno = pthread_create(&gate.thread, NULL, gate_main, NULL)) != 0)
		goto out;
	gate.running = 1;
	rc = 0;
 out:
	if (rc != 0)
		gate_stop();
	return rc;
}

void
gate_stop(void)
{
	struct gate_conn *gc;

	if (gate.running) {
		if (write(gate.stop_fd[1], "x", 1) != 1)
			log_warn("gate: stop");
		pthread_join(gate.thread, NULL);
		gate.running = 0;
	}
	while ((gc = gate.pending) != NULL) {
		gate.pending = gc->next;
		if (gc->fd >= 0)
			close(gc->fd);
		free(gc);
	}
	gate.npending = 0;
	for (int i = 0; i < 2; i++)
		if (gate.stop_fd[i] >= 0)
			close(gate.stop_fd[i]);
	gate.stop_fd[0] = gate.stop_fd[1] = -1;
	if (gate.ep >= 0)
		close(gate.ep);
	gate.ep = -1;
	if (gate.listen_fd >= 0)
		close(gate.listen_fd);
	gate.listen_fd = -1;
	free(gate.buf);
	gate.buf = NULL;
}
