/*
 * metrics.c - Prometheus counters for cohortd.
 *
 * Per route: a counter per status code and a latency histogram.  Status
 * codes index a 100..599 array directly: a few KiB per route buys a
 * lock-free observe.  Grading is counted by the grader processes in the
 * database (grade_counters, daemon/worker.c) and rendered here.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "../common/err.h"
#include "http.h"
#include "metrics.h"

#define NSTATUS		500
static const double metrics_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};
#define NBUCKET	(sizeof(metrics_bounds) / sizeof(*metrics_bounds))

struct metrics_route {
	atomic_ulong	 status[NSTATUS];
	atomic_ulong	 bucket[NBUCKET];	/* non-cumulative */
	atomic_ulong	 count;
	atomic_ulong	 sum_us;
};

static struct metrics_route *metrics;	/* [nroutes + 1]; last = no route */
static size_t metrics_n;

int
metrics_init(size_t nroutes)
{
	free(metrics);
	metrics = calloc(nroutes + 1, sizeof(*metrics));
	if (metrics == NULL)
		return CD_ERR_NOMEM;
	metrics_n = nroutes + 1;
	return 0;
}

void
metrics_observe(int route, int status, long duration_us)
{
	struct metrics_route *m;
	double s = duration_us / 1e6;
	size_t b;

	if (metrics == NULL)
		return;
	m = &metrics[route < 0 || (size_t)route >= metrics_n - 1 ?
	    metrics_n - 1 : (size_t)route];
	if (status >= 100 && status < 100 + NSTATUS)
		atomic_fetch_add_explicit(&m->status[status - 100], 1,
		    memory_order_relaxed);
	for (b = 0; b < NBUCKET && s > metrics_bounds[b]; b++)
		;
	if (b < NBUCKET)
		atomic_fetch_add_explicit(&m->bucket[b], 1,
		    memory_order_relaxed);
	atomic_fetch_add_explicit(&m->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, (unsigned long)duration_us,
	    memory_order_relaxed);
}

/* What grade_metrics() returns, by name: the help line and the type. */
static const struct {
	const char	*name;		/* without the cohortd_ prefix */
	const char	*type;
	const char	*help;
} metrics_grading[] = {
	{ "grade_queue_jobs", "gauge", "Grading jobs by kind (submission, "
	  "verify, rebench) and state (queued: runnable now; waiting: for a "
	  "quieter host, until their back-off ends; running)." },
	{ "gradings_total", "counter", "Gradings recorded, by kind and verdict "
	  "(for verifications: the status)." },
	{ "grading_duration_seconds", "histogram", "Time a grader took for a "
	  "job, from claim to result." },
	{ "bench_rounds_discarded_total", "counter", "Benchmark rounds thrown "
	  "away because the host kept a timed run waiting for a CPU." },
	{ "provisional_grades_pending", "gauge", "Provisional grades waiting "
	  "for their speedup to be measured again." },
	{ "verifications_waiting_for_quiet", "gauge", "Exercise verifications "
	  "waiting for a quiet host to measure the reference's speedup." },
};

/* The grading rows, each family under its HELP and TYPE lines. */
static void
metrics_render_grading(FILE *fp, PGresult *res)
{
	for (size_t k = 0; k < sizeof(metrics_grading) /
	    sizeof(*metrics_grading); k++) {
		const char *fam = metrics_grading[k].name;
		size_t flen = strlen(fam);

		fprintf(fp, "# HELP cohortd_%s %s\n# TYPE cohortd_%s %s\n", fam,
		    metrics_grading[k].help, fam, metrics_grading[k].type);
		for (int i = 0; i < PQntuples(res); i++) {
			const char *name = PQgetvalue(res, i, 0);
			const char *label = PQgetvalue(res, i, 1);

			/* The family's own name, or a histogram's parts. */
			if (strncmp(name, fam, flen) != 0 || (name[flen] != '\0' &&
			    name[flen] != '_'))
				continue;
			if (name[flen] == '_' && strcmp(metrics_grading[k].type,
			    "histogram") != 0)
				continue;
			fprintf(fp, "cohortd_%s%s%s%s %s\n", name, label[0] ? "{" :
			    "", label, label[0] ? "}" : "", PQgetvalue(res, i, 2));
		}
	}
}

char *
metrics_render(const struct route *routes, size_t nroutes,
    struct db_pool *pool, PGresult *grading, size_t *len)
{
	static const char *const mnames[] = { "GET", "POST", "PUT", "PATCH",
	    "DELETE" };
	char *buf = NULL;
	size_t size = 0;
	FILE *fp;

	if ((fp = open_memstream(&buf, &size)) == NULL)
		return NULL;
	fprintf(fp, "# HELP cohortd_http_requests_total HTTP requests by "
	    "route and status.\n# TYPE cohortd_http_requests_total counter\n");
	for (size_t i = 0; i < metrics_n; i++) {
		const char *pat = i < nroutes ? routes[i].pattern : "unmatched";
		const char *meth = "";

		if (i < nroutes)
			for (int k = 0; k < 5; k++)
				if (routes[i].method == 1 << k)
					meth = mnames[k];
		for (int s = 0; s < NSTATUS; s++) {
			unsigned long v = atomic_load(&metrics[i].status[s]);

			if (v != 0)
				fprintf(fp, "cohortd_http_requests_total{method="
				    "\"%s\",route=\"%s\",status=\"%d\"} %lu\n",
				    meth, pat, s + 100, v);
		}
	}
	fprintf(fp, "# HELP cohortd_http_request_duration_seconds Request "
	    "latency by route.\n# TYPE cohortd_http_request_duration_seconds "
	    "histogram\n");
	for (size_t i = 0; i < metrics_n; i++) {
		const char *pat = i < nroutes ? routes[i].pattern : "unmatched";
		const char *meth = "";
		unsigned long cum = 0, count = atomic_load(&metrics[i].count);

		if (count == 0)
			continue;
		if (i < nroutes)
			for (int k = 0; k < 5; k++)
				if (routes[i].method == 1 << k)
					meth = mnames[k];
		for (size_t b = 0; b < NBUCKET; b++) {
			cum += atomic_load(&metrics[i].bucket[b]);
			fprintf(fp, "cohortd_http_request_duration_seconds_bucket"
			    "{method=\"%s\",route=\"%s\",le=\"%g\"} %lu\n", meth,
			    pat, metrics_bounds[b], cum);
		}
		fprintf(fp, "cohortd_http_request_duration_seconds_bucket{method="
		    "\"%s\",route=\"%s\",le=\"+Inf\"} %lu\n", meth, pat, count);
		fprintf(fp, "cohortd_http_request_duration_seconds_sum{method="
		    "\"%s\",route=\"%s\"} %.6f\n", meth, pat,
		    atomic_load(&metrics[i].sum_us) / 1e6);
		fprintf(fp, "cohortd_http_request_duration_seconds_count{method="
		    "\"%s\",route=\"%s\"} %lu\n", meth, pat, count);
	}
	if (pool != NULL) {
		int in_use, idle, psize;

		db_pool_stats(pool, &in_use, &idle, &psize);
		fprintf(fp, "# HELP cohortd_db_pool_connections Database "
		    "connections by state.\n# TYPE cohortd_db_pool_connections "
		    "gauge\ncohortd_db_pool_connections{state=\"in_use\"} %d\n"
		    "cohortd_db_pool_connections{state=\"idle\"} %d\n"
		    "# HELP cohortd_db_pool_size Largest number of database "
		    "connections.\n# TYPE cohortd_db_pool_size gauge\n"
		    "cohortd_db_pool_size %d\n", in_use, idle, psize);
	}
	if (grading != NULL && PQresultStatus(grading) == PGRES_TUPLES_OK)
		metrics_render_grading(fp, grading);
	if (fclose(fp) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
