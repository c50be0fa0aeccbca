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

/*
 * The same without building JSON objects, for lines written per request:
 * fields in the order given, strings escaped as JSON needs.
 */
struct log_field {
	const char	*key;
	enum { LOG_FIELD_STR, LOG_FIELD_INT, LOG_FIELD_NUM } type;
	const char	*s;
	long long	 i;
	double		 d;
};
#define LOG_STR(k, v)	{ (k), LOG_FIELD_STR, (v), 0, 0 }
#define LOG_INT(k, v)	{ (k), LOG_FIELD_INT, NULL, (v), 0 }
#define LOG_NUM(k, v)	{ (k), LOG_FIELD_NUM, NULL, 0, (v) }
void	log_kv(int level, const char *msg, const struct log_field *f,
	    size_t n);

#endif
