/*
 * cohort-sandbox.c - command-line front end of the sandbox module.
 *
 *   cohort-sandbox run [OPTION]... -- PROG [ARG]...   one JSON verdict
 *   cohort-sandbox check                              what is enforced
 *
 * Exit status: 0 when a verdict (or a ready check) was printed, 1 when
 * check finds a required mechanism missing, 2 when nothing could run.
 * Every option lives in the table below; --help is generated from it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/err.h"
#include "../common/log.h"
#include "../common/opt.h"
#include "sandbox.h"

#define MAX_ENV	64

struct cli {
	struct sbx_run_spec spec;
	const char *rundir, *degraded, *log_level;
	char	*envv[MAX_ENV + 1];
	struct opt_kv env;
	uint32_t measure;
	uint32_t notice;
};

static struct cli cli = { .env = { cli.envv, 0, MAX_ENV } };

static const struct opt opts[] = {
	{ "dir", NULL, OPT_STR, &cli.spec.box_dir, 0, 0,
	  "box directory, mounted at /box (default: a fresh tmpfs)" },
	{ "wall-ms", NULL, OPT_UINT, &cli.spec.limits.wall_ms, 1, 3600000,
	  "wall-clock limit" },
	{ "cpu-ms", NULL, OPT_UINT, &cli.spec.limits.cpu_ms, 1, 3600000,
	  "CPU limit, all threads and processes summed" },
	{ "memory-mb", NULL, OPT_UINT, &cli.spec.limits.memory_mb, 4, 65536,
	  "memory limit incl. /tmp and /dev/shm, no swap" },
	{ "pids", NULL, OPT_UINT, &cli.spec.limits.pids, 2, 4096,
	  "processes plus threads at once" },
	{ "output-kb", NULL, OPT_UINT, &cli.spec.limits.output_kb, 1, 1048576,
	  "limit of each of stdout and stderr" },
	{ "file-kb", NULL, OPT_UINT, &cli.spec.limits.file_kb, 1, 16777216,
	  "largest file the program may write" },
	{ "open-files", NULL, OPT_UINT, &cli.spec.limits.open_files, 4, 65536,
	  "file descriptors per process" },
	{ "cpus", NULL, OPT_STR, &cli.spec.cpus, 0, 0,
	  "pin to this cpu list, e.g. 0 or 0-1 (default: any)" },
	{ "measure", NULL, OPT_UINT, &cli.measure, 0, 1,
	  "1: a timed run (top priority, fd 3 marks the work, CPU wait)" },
	{ "notice-signal", NULL, OPT_UINT, &cli.notice, 0, 64,
	  "signal every process gets at the wall limit, 300 ms before the "
	  "kill (default: 0, none)" },
	{ "stdin", NULL, OPT_STR, &cli.spec.stdin_file, 0, 0,
	  "file for stdin; relative: inside --dir (default: /dev/null)" },
	{ "env", NULL, OPT_KV, &cli.env, 0, 0,
	  "K=V for the program's environment; repeatable" },
	{ "rundir", "COHORT_SANDBOX_RUNDIR", OPT_STR, &cli.rundir, 0, 0,
	  "slot locks and pooled network namespaces" },
	{ "degraded", "COHORT_SANDBOX_DEGRADED", OPT_STR, &cli.degraded, 0, 0,
	  "mechanisms to accept missing: memory_limit,pids_limit,"
	  "cpu_accounting,cpuset" },
	{ "log-level", "COHORT_SANDBOX_LOG_LEVEL", OPT_STR, &cli.log_level, 0, 0,
	  "debug, info, warn or error" },
};
#define NOPTS (sizeof(opts) / sizeof(*opts))

static void
usage(FILE *f)
{
	fprintf(f, "usage: cohort-sandbox run [OPTION]... -- PROG [ARG]...\n"
	    "       cohort-sandbox check\n\noptions of run:\n");
	opt_usage(f, opts, NOPTS);
}

/* Flags up to "--"; returns the index of PROG or -1. */
static int
parse_flags(int argc, char **argv, int first)
{
	int i;

	if (opt_flags("cohort-sandbox", opts, NOPTS, argc, argv, first,
	    &i) != 0)
		return -1;
	if (i >= argc)
		fprintf(stderr, "cohort-sandbox: no program to run\n");
	return i < argc ? i : -1;
}

static int
print_json(json_t *o, size_t flags)
{
	char *s = o ? json_dumps(o, flags | JSON_PRESERVE_ORDER) : NULL;

	if (s == NULL)
		return -1;
	puts(s);
	free(s);
	return fflush(stdout) == 0 ? 0 : -1;
}

/*
 * Python exercises can run when the interpreter starts in a box as the
 * grader starts it and imports what process pools and asyncio need
 * (multiprocessing's semaphores live in the box's /dev/shm).  Reported
 * under "python"; its absence does not make the sandbox unready, since C
 * exercises need none of it.
 */
static void
check_python(json_t *o)
{
	char *argv[] = { SBX_PYTHON, "-I", "-S", "-B", "-c",
	    "import sys, asyncio, concurrent.futures, multiprocessing as m\n"
	    "l = m.Lock(); l.acquire(); l.release()\n"
	    "print(sys.version.split()[0])", NULL };
	struct sbx_run_spec spec = { .argv = argv };
	struct sbx_result res;
	json_t *py = json_object_get(o, "python");
	bool ok = false;

	if (py == NULL || !json_is_true(json_object_get(py, "present")))
		return;
	sbx_limits_default(&spec.limits);
	if (sbx_run(&spec, &res) != 0)
		goto out;
	ok = res.verdict == SBX_OK && res.out_len > 0;
	if (ok)
		json_object_set_new(py, "version", json_stringn(res.out,
		    strcspn(res.out, "\n")));
	else
		json_object_set_new(py, "trial", sbx_result_json(&res));
	sbx_result_free(&res);
 out:
	json_object_set_new(py, "runnable", json_boolean(ok));
}

static int
cmd_check(void)
{
	char *argv[] = { "/bin/true", NULL };
	struct sbx_run_spec spec = { .argv = argv };
	struct sbx_result res;
	json_t *o = sbx_check_json();
	bool ready = json_is_true(json_object_get(o, "ready"));

	/* A real box proves more than the probe's reading of /proc. */
	if (ready) {
		sbx_limits_default(&spec.limits);
		if (sbx_run(&spec, &res) == 0) {
			ready = res.verdict == SBX_OK && res.reaped;
			json_object_set_new(o, "trial", sbx_result_json(&res));
			sbx_result_free(&res);
		} else
			ready = false;
		json_object_set_new(o, "ready", json_boolean(ready));
	}
	if (ready)
		check_python(o);
	if (print_json(o, JSON_INDENT(2)) != 0)
		ready = false;
	json_decref(o);
	return ready ? 0 : 1;
}

static int
cmd_run(char **prog)
{
	struct sbx_result res;
	json_t *o;
	int rc;

	cli.spec.argv = prog;
	cli.spec.env = cli.envv;
	cli.spec.measure = cli.measure != 0;
	cli.spec.notice_signal = (int)cli.notice;
	if ((rc = sbx_run(&cli.spec, &res)) != 0) {
		fprintf(stderr, "cohort-sandbox: nothing ran: %s\n",
		    cd_strerror(rc));
		return 2;
	}
	o = sbx_result_json(&res);
	rc = print_json(o, JSON_COMPACT) == 0 ? 0 : 2;
	json_decref(o);
	sbx_result_free(&res);
	return rc;
}

int
main(int argc, char **argv)
{
	bool run = argc >= 2 && strcmp(argv[1], "run") == 0;
	bool check = argc == 2 && strcmp(argv[1], "check") == 0;
	bool help = argc == 2 && strcmp(argv[1], "--help") == 0;
	int level, prog = -1;

	sbx_limits_default(&cli.spec.limits);
	cli.log_level = "warn";
	if (!run && !check) {
		usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (opt_env("cohort-sandbox", opts, NOPTS) != 0 ||
	    (run && (prog = parse_flags(argc, argv, 2)) < 0)) {
		fprintf(stderr, "try: cohort-sandbox --help\n");
		return 2;
	}
	if ((level = log_level_parse(cli.log_level)) < 0)
		level = LOG_LVL_WARN;
	log_init("cohort-sandbox", level);
	/* The probe logs what is missing; check reports it in full. */
	if (sbx_init(cli.rundir, cli.degraded) != 0 && run) {
		fprintf(stderr, "cohort-sandbox: refusing to run: a required "
		    "mechanism is missing (see cohort-sandbox check)\n");
		return 2;
	}
	return run ? cmd_run(argv + prog) : cmd_check();
}
