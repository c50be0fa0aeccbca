/*
 * metrics.h - request counters and latency histograms for GET /metrics,
 * kept with atomics so the hot path takes no lock.
 */
#ifndef COHORTD_METRICS_H
#define COHORTD_METRICS_H

#include <stddef.h>

#include <libpq-fe.h>

struct route;
struct db_pool;

/* Size the tables for nroutes routes (plus one slot for "no route"). */
int	 metrics_init(size_t nroutes);
/* Count one finished request; route -1 = unmatched. */
void	 metrics_observe(int route, int status, long duration_us);
/*
 * Render the Prometheus text exposition.  Returns a malloc'd string the
 * caller frees, or NULL when out of memory.  pool may be NULL; so may
 * grading, the rows (name, label, value) of grade_metrics(): the grading
 * counters and queue, kept in the database by the grader processes.
 */
char	*metrics_render(const struct route *routes, size_t nroutes,
	    struct db_pool *pool, PGresult *grading, size_t *len);

#endif
