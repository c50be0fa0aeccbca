/*
 * report_jobs.h - the report runner threads of report_jobs.c.
 */
#ifndef COHORTD_API_REPORT_JOBS_H
#define COHORTD_API_REPORT_JOBS_H

struct db_pool;
/* Start n report runner threads on pool (conninfo: for their LISTEN);
 * stop them (a running report is cancelled and queued again). */
int	api_report_jobs_start(struct db_pool *pool, const char *conninfo,
	    int n);
void	api_report_jobs_stop(void);

#endif
