/*
 * cohort-grade.c - command-line front end of the grader, for operators
 * and tests.
 *
 *   cohort-grade run --exercise=DIR --source=FILE [OPTION]...   result JSON
 *   cohort-grade verify --exercise=DIR [OPTION]...              verification
 *
 * Exit status: 0 when a verdict (or a verification) was printed, 2 when
 * nothing could be judged.  Every option lives in the table below; --help
 * is generated from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../common/err.h"
#include "../common/log.h"
#include "../common/opt.h"
#include "../sandbox/sandbox.h"
#include "grade.h"

#define MAX_SOURCE	(256 * 1024)	/* the daemon's bound on a submission */

static struct {
	const char *exercise, *source, *log_level, *rundir, *degraded;
	uint32_t repetitions;
	uint32_t seed;
	int	 progress;
	struct grade_options go;
} cli;

static const struct opt opts[] = {
	{ "exercise", NULL, OPT_STR, &cli.exercise, 0, 0,
	  "exercise directory (exercise.json, harness.c, ...)" },
	{ "source", NULL, OPT_STR, &cli.source, 0, 0,
	  "learner source file (run only)" },
	{ "workdir", "COHORT_GRADE_WORKDIR", OPT_STR, &cli.go.workdir, 0, 0,
	  "scratch directories are made here" },
	{ "lane", "COHORT_GRADE_LANE", OPT_STR, &cli.go.lane_path, 0, 0,
	  "benchmark lane lock, shared by every grader on the host" },
	{ "cache", "COHORT_GRADE_CACHE", OPT_STR, &cli.go.ref_cache_dir, 0, 0,
	  "reference-output cache directory (default: none)" },
	{ "bench-cpus", "COHORT_GRADE_BENCH_CPUS", OPT_STR, &cli.go.bench_cpus,
	  0, 0, "cpu list of benchmark runs, e.g. 0-1 (default: any)" },
	{ "repetitions", NULL, OPT_UINT, &cli.repetitions, 0, 50,
	  "benchmark rounds (0: the exercise's own)" },
	{ "seed", NULL, OPT_UINT, &cli.seed, 0, 4294967295u,
	  "the hidden inputs' seed (0: a fresh one per grading)" },
	{ "progress", NULL, OPT_FLAG, &cli.progress, 0, 0,
	  "print status changes on stderr" },
	{ "rundir", "COHORT_SANDBOX_RUNDIR", OPT_STR, &cli.rundir, 0, 0,
	  "the sandbox's slot locks and network namespaces" },
	{ "degraded", "COHORT_SANDBOX_DEGRADED", OPT_STR, &cli.degraded, 0, 0,
	  "sandbox mechanisms to accept missing" },
	{ "log-level", "COHORT_GRADE_LOG_LEVEL", OPT_STR, &cli.log_level, 0, 0,
	  "debug, info, warn or error" },
};
#define NOPTS (sizeof(opts) / sizeof(*opts))

static void
usage(FILE *f)
{
	fprintf(f, "usage: cohort-grade run --exercise=DIR --source=FILE "
	    "[OPTION]...\n       cohort-grade verify --exercise=DIR "
	    "[OPTION]...\n\noptions:\n");
	opt_usage(f, opts, NOPTS);
}

/* Every argument after the command is an option. */
static int
parse(int argc, char **argv)
{
	int next;

	if (opt_env("cohort-grade", opts, NOPTS) != 0 ||
	    opt_flags("cohort-grade", opts, NOPTS, argc, argv, 2, &next) != 0)
		return -1;
	if (next < argc) {
		fprintf(stderr, "cohort-grade: unknown argument %s\n",
		    argv[next]);
		return -1;
	}
	return 0;
}

static void
show_progress(void *arg, const char *status)
{
	(void)arg;
	fprintf(stderr, "cohort-grade: %s\n", status);
}

/* The whole source file, as the daemon would receive it. */
static int
read_source(const char *path, char **buf, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return CD_ERR_SYSTEM;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_SOURCE) {
		errno = EFBIG;
		rc = CD_ERR_INVALID;
		goto out;
	}
	if ((*buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((n = read(fd, *buf, (size_t)st.st_size)) != st.st_size) {
		rc = CD_ERR_SYSTEM;
		goto out;
	}
	*len = (size_t)n;
 out:
	if (rc != 0) {
		free(*buf);
		*buf = NULL;
	}
	close(fd);
	return rc;
}

int
main(int argc, char **argv)
{
	bool run = argc >= 2 && strcmp(argv[1], "run") == 0;
	bool verify = argc >= 2 && strcmp(argv[1], "verify") == 0;
	bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
	struct grade_exercise *ex = NULL;
	json_t *result = NULL;
	char err[512] = "", *src = NULL, *s;
	size_t len = 0;
	int level, rc, status = 2;

	cli.log_level = "warn";
	cli.go.lane_path = GRADE_LANE_PATH;
	if (!run && !verify) {
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (parse(argc, argv) != 0 || cli.exercise == NULL ||
	    (run && cli.source == NULL)) {
		fprintf(stderr, "try: cohort-grade --help\n");
		return 2;
	}
	if ((level = log_level_parse(cli.log_level)) < 0)
		level = LOG_LVL_WARN;
	log_init("cohort-grade", level);
	cli.go.bench_repetitions = cli.repetitions;
	cli.go.seed = cli.seed;
	if (cli.progress)
		cli.go.progress = show_progress;

	if (sbx_init(cli.rundir, cli.degraded) != 0) {
		fprintf(stderr, "cohort-grade: the sandbox refuses to run "
		    "(see cohort-sandbox check)\n");
		goto out;
	}
	if ((rc = grade_exercise_load_dir(cli.exercise, &ex, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "cohort-grade: %s: %s\n", cli.exercise,
		    err[0] ? err : cd_strerror(rc));
		goto out;
	}
	if (run && (rc = read_source(cli.source, &src, &len)) != 0) {
		fprintf(stderr, "cohort-grade: %s: %s\n", cli.source,
		    strerror(errno));
		goto out;
	}
	rc = run ? grade_submission(ex, src, len, &cli.go, &result) :
	    grade_verify(ex, &cli.go, &result);
	if (rc != 0) {
		fprintf(stderr, "cohort-grade: no verdict: %s\n",
		    cd_strerror(rc));
		goto out;
	}
	if ((s = json_dumps(result, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(6))) !=
	    NULL) {
		puts(s);
		free(s);
		status = fflush(stdout) == 0 ? 0 : 2;
	}
 out:
	json_decref(result);
	grade_exercise_free(ex);
	free(src);
	return status;
}
