/*
 * log.c - JSON-lines logger.  Each line is assembled in memory and written
 * with one write(2) so that lines from concurrent threads and processes
 * sharing stderr never interleave.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

static const char *log_procname = "cohortd";
static int log_min_level = LOG_LVL_INFO;
static __thread const char *log_request_id;

static const char *const log_level_names[] = {
	"debug", "info", "warn", "error",
};

void
log_init(const char *procname, int level)
{
	log_procname = procname;
	log_min_level = level;
}

void
log_set_level(int level)
{
	log_min_level = level;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(log_level_names) / sizeof(*log_level_names); i++)
		if (strcmp(s, log_level_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_set_request_id(const char *id)
{
	log_request_id = id;
}

/*
 * A line is built by hand into a buffer on the stack that moves to the
 * heap only for a long one: the access log writes a line per request, and
 * building it through jansson's objects cost a third of a bare request's
 * CPU.  Strings are escaped as JSON needs; bytes that are not UTF-8 become
 * U+FFFD, so every line parses.
 */
struct log_line {
	char	*p;
	size_t	 len, cap;
	int	 oom;
	char	 stack[1024];
};

static void
line_add(struct log_line *l, const char *s, size_t n)
{
	if (l->oom)
		return;
	if (l->len + n + 2 > l->cap) {	/* room for "\n" and a NUL */
		size_t cap = l->cap * 2;
		char *np;

		while (cap < l->len + n + 2)
			cap *= 2;
		if (l->p == l->stack) {
			if ((np = malloc(cap)) != NULL)
				memcpy(np, l->p, l->len);
		} else
			np = realloc(l->p, cap);
		if (np == NULL) {
			l->oom = 1;
			return;
		}
		l->p = np;
		l->cap = cap;
	}
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

static void
line_str(struct log_line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run, left = strlen(s), k;
	char esc[8];

	line_add(l, "\"", 1);
	while (left > 0) {
		/* The longest run that needs no escaping goes in one copy. */
		for (run = 0; run < left && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		line_add(l, (const char *)p, run);
		p += run;
		left -= run;
		if (left == 0)
			break;
		if (*p >= 0x80) {
			if ((k = utf8_len(p, left, NULL)) == 0) {
				line_add(l, "\\ufffd", 6);
				k = 1;
			} else
				line_add(l, (const char *)p, k);
			p += k;
			left -= k;
			continue;
		}
		switch (*p) {
		case '"':  line_add(l, "\\\"", 2); break;
		case '\\': line_add(l, "\\\\", 2); break;
		case '\n': line_add(l, "\\n", 2); break;
		case '\r': line_add(l, "\\r", 2); break;
		case '\t': line_add(l, "\\t", 2); break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			line_add(l, esc, 6);
		}
		p++;
		left--;
	}
	line_add(l, "\"", 1);
}

/* ,"key": */
static void
line_key(struct log_line *l, const char *key)
{
	line_add(l, ",", 1);
	line_str(l, key);
	line_add(l, ":", 1);
}

/* {"ts":...,"level":...,"proc":...,"pid":...,"msg":...[,"request_id":...] */
static void
line_begin(struct log_line *l, int level, const char *msg)
{
	static __thread time_t stamp_sec = -1;
	static __thread char stamp[64];	/* "YYYY-MM-DDTHH:MM:SS" */
	struct timespec ts;
	struct tm tm;
	char num[96];
	int n;

	l->p = l->stack;
	l->cap = sizeof(l->stack);
	l->len = 0;
	l->oom = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != stamp_sec) {	/* gmtime_r once a second */
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		stamp_sec = ts.tv_sec;
	}
	n = snprintf(num, sizeof(num), "%s.%03ldZ", stamp,
	    (long)(ts.tv_nsec / 1000000) % 1000);
	line_add(l, "{\"ts\":", 6);
	line_add(l, "\"", 1);
	line_add(l, num, (size_t)n);
	line_add(l, "\"", 1);
	line_key(l, "level");
	line_str(l, log_level_names[level]);
	line_key(l, "proc");
	line_str(l, log_procname);
	n = snprintf(num, sizeof(num), "%d", (int)getpid());
	line_key(l, "pid");
	line_add(l, num, (size_t)n);
	line_key(l, "msg");
	line_str(l, msg ? msg : "");
	if (log_request_id != NULL) {
		line_key(l, "request_id");
		line_str(l, log_request_id);
	}
}

/* Close the object and write it with one write(2). */
static void
line_end(struct log_line *l)
{
	line_add(l, "}", 1);
	if (!l->oom) {
		l->p[l->len++] = '\n';
		(void)!write(STDERR_FILENO, l->p, l->len);
	}
	if (l->p != l->stack)
		free(l->p);
}

void
log_kv(int level, const char *msg, const struct log_field *f, size_t n)
{
	struct log_line l;
	char num[64];
	int k;

	if (level < log_min_level)
		return;
	line_begin(&l, level, msg);
	for (size_t i = 0; i < n; i++) {
		line_key(&l, f[i].key);
		switch (f[i].type) {
		case LOG_FIELD_STR:
			line_str(&l, f[i].s ? f[i].s : "");
			break;
		case LOG_FIELD_INT:
			k = snprintf(num, sizeof(num), "%lld", f[i].i);
			line_add(&l, num, (size_t)k);
			break;
		case LOG_FIELD_NUM:
			/* As jansson writes a real: 6 significant digits,
			 * and a number that looks whole keeps ".0".  JSON has
			 * no infinity or NaN: null. */
			if (!isfinite(f[i].d)) {
				line_add(&l, "null", 4);
				break;
			}
			k = snprintf(num, sizeof(num), "%.6g", f[i].d);
			if (strcspn(num, ".einfa") == (size_t)k)
				k += snprintf(num + k, sizeof(num) - (size_t)k,
				    ".0");
			line_add(&l, num, (size_t)k);
			break;
		}
	}
	line_end(&l);
}

void
log_fields(int level, const char *msg, json_t *fields)
{
	struct log_line l;
	char *more = NULL;
	size_t n;

	if (level < log_min_level)
		goto out;
	line_begin(&l, level, msg);
	if (fields != NULL && (more = json_dumps(fields, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))) != NULL &&
	    (n = strlen(more)) > 2) {
		/* {"a":1,...} joins the line as ,"a":1,... */
		line_add(&l, ",", 1);
		line_add(&l, more + 1, n - 2);
	}
	line_end(&l);
 out:
	free(more);
	json_decref(fields);
}

static void
log_vmsg(int level, int with_errno, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved = errno;
	int n;

	if (level < log_min_level)
		return;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s",
		    strerror(saved));
	log_fields(level, buf, NULL);
	errno = saved;
}

#define LOG_BODY(level, with_errno) do {		\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vmsg(level, with_errno, fmt, ap);		\
	va_end(ap);					\
} while (0)

void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }
void log_info(const char *fmt, ...)  { LOG_BODY(LOG_LVL_INFO, 0); }
void log_warn(const char *fmt, ...)  { LOG_BODY(LOG_LVL_WARN, 1); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERROR, 0);
	exit(1);
}
