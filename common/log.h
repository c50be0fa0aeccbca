/*
 * log.h - structured logging: one JSON object per line on stderr.
 *
 * The family follows OpenSMTPD's log.c: log_warn adds strerror(errno),
 * log_warnx does not; fatal/fatalx log and exit(1) and are meant for
 * startup and broken invariants only.  Messages are short and lowercase.
 * Every line carries the calling thread's request id when one is set.
 */
#ifndef COHORTD_LOG_H
#define COHORTD_LOG_H

#include <stdarg.h>
#include <jansson.h>

enum log_level {
	LOG_LVL_DEBUG = 0,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

/* Set the process name shown in each line and the lowest level written. */
void	log_init(const char *procname, int level);
void	log_set_level(int level);
/* Parse "debug", "info", "warn", "error"; -1 if none of them. */
int	log_level_parse(const char *s);

/* The request id of the calling thread (NULL clears it).  Not copied:
 * the caller keeps the string alive while it is set. */
void	log_set_request_id(const char *id);

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Write one line at level with message msg and the members of fields
 * (a JSON object, may be NULL).  Takes ownership of fields.
 */
void	log_fields(int level, const char *msg, json_t *fields);

#endif
