/*
 * reports.h - the reports by name, for the HTTP handlers in reports.c and
 * the report jobs (report_jobs.c), which render a report whole in the
 * background.
 */
#ifndef COHORTD_API_REPORTS_H
#define COHORTD_API_REPORTS_H

#include <stddef.h>

struct db_conn;

enum report_on {
	REPORT_ON_TENANT,	/* the caller's tenant (or cohorts) */
	REPORT_ON_COHORT,	/* id is a cohort */
	REPORT_ON_EXERCISE,	/* id is an exercise */
	REPORT_ON_ASSESSMENT,	/* id is a quiz */
	REPORT_ON_PLATFORM,	/* every tenant: the platform administrator */
};

#define RF_PAGED	0x01	/* keyset bounds are $1..$3 */
#define RF_DESC		0x02	/* ... newest first */
#define RF_WHO		0x04	/* the caller's role and user follow */
#define RF_DAYS		0x08	/* inactive_days follows the subject */
#define RF_FILTER	0x10	/* an optional cohort filter follows */
#define RF_SINGLE	0x20	/* one object, not a list */
#define RF_WAITLIST	0x40	/* whether to include the waitlisted follows */

struct report_def {
	const char	*name;		/* "gradebook", as a job names it */
	const char	*stmt;
	enum report_on	 on;
	int		 flags;		/* RF_* */
};

/* One report request, as the caller sees it. */
struct report_req {
	const struct report_def	*def;
	const char		*id;	 /* cohort, exercise or assessment */
	const char		*cohort; /* exercise analytics' cohort filter */
	const char		*days;	 /* engagement's inactive_days */
	const char		*include; /* gradebook: "waitlisted" or NULL */
	const char		*role;	 /* the caller's role and user (or NULL) */
	const char		*user;
};

/* Pieces of a rendering are handed out at about this size, whole rows. */
#define REPORT_PIECE	(256 * 1024)

/* Take a piece of the body; 0 or a CD_ERR_* that stops the rendering. */
typedef int (*report_out_fn)(void *arg, const char *buf, size_t len);

/* The report called name, or NULL. */
const struct report_def *report_find(const char *name);
/* Why q's optional arguments are bad (NULL: they are fine). */
const char	*report_check(const struct report_req *q);
/* 0 when q's subject exists and its caller may see it, else
 * CD_ERR_NOT_FOUND (or CD_ERR_DATABASE). */
int		 report_visible(struct db_conn *db, const struct report_req *q);
/*
 * Render every row of q, CSV or JSON ({"items": [...]}, the pages'
 * items together), on db's open transaction, handing it to out in
 * pieces; *nrows counts the rows.  0 or a CD_ERR_*; a failed statement
 * leaves the server's message in err.
 */
int		 report_render(struct db_conn *db, const struct report_req *q,
		    int csv, report_out_fn out, void *out_arg, long *nrows,
		    char *err, size_t errlen);

#endif
