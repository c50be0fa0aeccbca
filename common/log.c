/*
 * log.c - JSON-lines logger.  Each line is assembled in memory and written
 * with one write(2) so that lines from concurrent threads and processes
 * sharing stderr never interleave.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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

void
log_fields(int level, const char *msg, json_t *fields)
{
	struct timespec ts;
	struct tm tm;
	char stamp[64];
	json_t *o;
	char *line;

	if (level < log_min_level) {
		json_decref(fields);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000) % 1000);

	o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "ts", stamp,
	    "level", log_level_names[level], "proc", log_procname,
	    "pid", (int)getpid(), "msg", msg ? msg : "");
	if (o == NULL)
		goto out;
	if (log_request_id != NULL)
		json_object_set_new(o, "request_id", json_string(log_request_id));
	if (fields != NULL)
		json_object_update(o, fields);
	line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6));
	if (line != NULL) {
		size_t n = strlen(line);
		line[n] = '\n';		/* reuse the NUL: one write per line */
		(void)!write(STDERR_FILENO, line, n + 1);
		free(line);
	}
 out:
	json_decref(o);
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
