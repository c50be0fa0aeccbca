/*
 * validate.h - request validation: a 422 with an "errors" array
 * naming every bad member by its JSON pointer; ids and timestamps.
 */
#ifndef COHORTD_API_VALIDATE_H
#define COHORTD_API_VALIDATE_H

#include <libpq-fe.h>
#include <jansson.h>

#include "../daemon/http.h"

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
/* v_init, then v_body, then (allowed not NULL) v_only on the body: a
 * handler's first step.  The body or NULL, as v_body. */
json_t	*v_begin(struct api_v *v, struct http_req *r,
	    const char *const *allowed);
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
/* If errors were recorded: answer 422 and return API_ANSWERED; else 0. */
int	 v_failed(struct api_v *v, struct http_req *r);
void	 v_free(struct api_v *v);

/* Is s a syntactically valid UUID (the form of every id)? */
int	 api_uuid_ok(const char *s);

/* A PostgreSQL array literal of the ids in arr (strings already checked
 * by api_uuid_ok); malloc'd, or NULL when out of memory. */
char	*api_uuid_array(json_t *arr);
/* A PostgreSQL array literal of the strings in arr, each already checked
 * to need no quoting (ids, slugs, event names); malloc'd, or NULL when
 * out of memory. */
char	*api_text_array(json_t *arr);

#endif
