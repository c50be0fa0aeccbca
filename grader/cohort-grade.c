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
#include "../sandbox/sandbox.h"
#include "grade.h"

#define MAX_SOURCE	(256 * 1024)	/* the daemon's bound on a submission */

enum opt_type { T_UINT, T_STR, T_FLAG };

static struct {
	const char *exercise, *source, *log_level, *rundir, *degraded;
	uint32_t repetitions;
	uint32_t seed;
	int	 progress;
	struct grade_options go;
} cli;

static const struct opt {
	const char *name;	/* --name=VALUE */
	const char *envvar;	/* read before the flags, or NULL */
	enum opt_type type;
	void	*val;
	uint32_t min, max;	/* T_UINT bounds */
	const char *help;
} opts[] = {
	{ "exercise", NULL, T_STR, &cli.exercise, 0, 0,
	  "exercise directory (exercise.json, harness.c, ...)" },
	{ "source", NULL, T_STR, &cli.source, 0, 0,
	  "learner source file (run only)" },
	{ "workdir", "COHORT_GRADE_WORKDIR", T_STR, &cli.go.workdir, 0, 0,
	  "scratch directories are made here" },
	{ "lane", "COHORT_GRADE_LANE", T_STR, &cli.go.lane_path, 0, 0,
	  "benchmark lane lock, shared by every grader on the host" },
	{ "cache", "COHORT_GRADE_CACHE", T_STR, &cli.go.ref_cache_dir, 0, 0,
	  "reference-output cache directory (default: none)" },
	{ "bench-cpus", "COHORT_GRADE_BENCH_CPUS", T_STR, &cli.go.bench_cpus,
	  0, 0, "cpu list of benchmark runs, e.g. 0-1 (default: any)" },
	{ "repetitions", NULL, T_UINT, &cli.repetitions, 0, 50,
	  "benchmark rounds (0: the exercise's own)" },
	{ "seed", NULL, T_UINT, &cli.seed, 0, 4294967295u,
	  "the hidden inputs' seed (0: a fresh one per grading)" },
	{ "progress", NULL, T_FLAG, &cli.progress, 0, 0,
	  "print status changes on stderr" },
	{ "rundir", "COHORT_SANDBOX_RUNDIR", T_STR, &cli.rundir, 0, 0,
	  "the sandbox's slot locks and network namespaces" },
	{ "degraded", "COHORT_SANDBOX_DEGRADED", T_STR, &cli.degraded, 0, 0,
	  "sandbox mechanisms to accept missing" },
	{ "log-level", "COHORT_GRADE_LOG_LEVEL", T_STR, &cli.log_level, 0, 0,
	  "debug, info, warn or error" },
};
#define NOPTS (sizeof(opts) / sizeof(*opts))

static void
usage(FILE *f)
{
	fprintf(f, "usage: cohort-grade run --exercise=DIR --source=FILE "
	    "[OPTION]...\n       cohort-grade verify --exercise=DIR "
	    "[OPTION]...\n\noptions:\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const struct opt *o = &opts[i];
		char dflt[64] = "";

		if (o->type == T_UINT)
			snprintf(dflt, sizeof(dflt), " [%u; %u..%u]",
			    *(uint32_t *)o->val, o->min, o->max);
		else if (o->type == T_STR && *(const char **)o->val != NULL)
			snprintf(dflt, sizeof(dflt), " [%s]",
			    *(const char **)o->val);
		fprintf(f, "  --%s%s\n      %s%s%s%s\n", o->name,
		    o->type == T_FLAG ? "" : o->type == T_UINT ? "=N" :
		    "=VALUE", o->help, dflt, o->envvar ? "; env " : "",
		    o->envvar ? o->envvar : "");
	}
}

static int
set_opt(const struct opt *o, const char *v)
{
	unsigned long n;
	char *end;

	switch (o->type) {
	case T_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end || n < o->min || n > o->max) {
			fprintf(stderr, "cohort-grade: --%s wants a number in "
			    "%u..%u\n", o->name, o->min, o->max);
			return -1;
		}
		*(uint32_t *)o->val = (uint32_t)n;
		return 0;
	case T_STR:
		*(const char **)o->val = v;
		return 0;
	case T_FLAG:
		*(int *)o->val = 1;
		return 0;
	}
	return -1;
}

static int
parse(int argc, char **argv)
{
	const char *v;

	for (size_t k = 0; k < NOPTS; k++)
		if (opts[k].envvar && (v = getenv(opts[k].envvar)) && *v &&
		    set_opt(&opts[k], v) != 0)
			return -1;
	for (int i = 2; i < argc; i++) {
		const struct opt *o = NULL;
		size_t len;

		for (size_t k = 0; k < NOPTS && strncmp(argv[i], "--", 2) == 0;
		    k++) {
			len = strlen(opts[k].name);
			if (strncmp(argv[i] + 2, opts[k].name, len) == 0 &&
			    (argv[i][2 + len] == '=' || argv[i][2 + len] == '\0'))
				o = &opts[k];
		}
		if (o == NULL) {
			fprintf(stderr, "cohort-grade: unknown argument %s\n",
			    argv[i]);
			return -1;
		}
		if ((v = strchr(argv[i], '=')) != NULL)
			v++;
		else if (o->type == T_FLAG)
			v = "";
		else if (i + 1 < argc)
			v = argv[++i];
		else {
			fprintf(stderr, "cohort-grade: %s wants a value\n",
			    argv[i]);
			return -1;
		}
		if (set_opt(o, v) != 0)
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
