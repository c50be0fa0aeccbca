/*
 * grade.c - the grading pipeline: compile, test, race-check and benchmark
 * one learner source for one exercise.
 *
 * Theory of operation
 *
 * Three kinds of untrusted code take part: the learner's source, the
 * exercise's reference and harness (tenants write exercises), and the
 * compiler working on them.  Each only ever runs through sbx_run(), in a
 * box directory of its own under a private scratch root; this file is
 * the trusted side and never executes, links or parses anything a box
 * made beyond reading its bytes.
 *
 *   1. Screen.  The learner's file is preprocessed in a box twice, as the
 *      normal and as the ThreadSanitizer build would see it.  The two
 *      texts must be identical (code may not behave differently under the
 *      race checker) and free of sanitizer hooks and attributes
 *      (check.c).  Then it is compiled alone and its object's symbol table
 *      read (readelf, in a box): it may define only what the reference
 *      defines, and nothing that runs before or after main.  Otherwise the
 *      submission is refused as a compile error.
 *   2. Compile harness.c + the trusted guard (guard_c) + learner.c in a
 *      box.  Every "{seed}" in a test's args is this grading's hidden
 *      input, drawn per grading (test_seed()).  The binary is read back
 *      through sbx_open_beneath() and every later run gets a fresh box
 *      directory holding only a copy of it, so no run can leave anything
 *      behind for the next one (a cached answer, a replaced binary).
 *   3. Tests.  Each test runs with its args plus "--threads N"; its output
 *      is compared here with the reference's output for the same args.
 *      The reference's outputs come from the reference built and run in
 *      boxes the same way, cached in ref_cache_dir under the exercise's
 *      hash; a learner's program never supplies an expected output.  After
 *      a test reaches the time limit the rest are skipped: a deadlocked
 *      solution would otherwise hold the grader for a wall limit per test.
 *      At the wall limit the guard writes every thread's stack (the
 *      sandbox's notice), which addr2line, in a box, turns into learner.c
 *      lines for the feedback (deadlock_stacks()).
 *   4. Races.  A -fsanitize=thread build runs the race tests; any
 *      "WARNING: ThreadSanitizer:" report, or the race exit code the guard
 *      sets, is a data race.  Each race test also runs on the normal build,
 *      and the race build must end and answer as it does.  The sandbox
 *      turns address randomisation off in every box, which gcc 12's
 *      ThreadSanitizer needs on this kernel.
 *   5. Benchmark, only for an accepted submission.  Runs take a host-wide
 *      lane lock (flock): shared for every compile and test, exclusive
 *      for each benchmark round, so a measurement never shares the CPUs
 *      with another box of ours.  A round is four timed boxes (reference
 *      and learner, 1 and N threads); a round in which the host kept any
 *      of them waiting for a CPU is discarded (see "The benchmark" below
 *      and docs/GRADING.md).  Times come from the box's init, from the
 *      harness's mark on fd 3 to the exit; nothing the program prints is
 *      believed about time.  Too few clean rounds make the grade
 *      provisional rather than wrong.
 *
 * Python exercises ("language": "python", python.c) take the same path
 * with three differences, each marked "Python:" below.  Step 1 and 2 are
 * one: the source is screened (grader/python/screen.py, in a box) and
 * kept as text; every run stages the trusted runner, the harness and the
 * solution in a fresh box and starts /usr/bin/python3.  Race tests run
 * the normal interpreter with a tiny switch interval, each
 * GRADE_PY_RACE_REPS times on fresh inputs, against the reference's
 * output.  And a Python run's verdict may be refined (grade_py_verdict):
 * blocking_call, a deadlock with every thread's stack.
 *
 * Everything a grading made is removed with its scratch root on return;
 * the sandbox has already killed every process of each box.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/log.h"
#include "../sandbox/sandbox.h"
#include "grade-int.h"

#define GCC		"/usr/bin/gcc"
#define LEARNER_FILE	"learner.c"	/* fixed: reports point into it */
#define GUARD_FILE	"cohort-guard.c"
#define GRADE_RACE_EXIT	66	/* ThreadSanitizer's, set in guard_c */
#define MAX_BINARY	(64u << 20)
#define COMPILE_LOG_MAX	8192
#define RACE_REPORT_MAX	6144
#define STDERR_MAX	1024
#define DEADLOCK_CPU_PCT 10	/* CPU under this share of wall: blocked */
#define BENCH_MAX_FACTOR 4	/* rounds: at most this times the repetitions */
#define SLOT_WAIT_MS	60000	/* how long to wait for a free box slot */
/* The guard's stack signal (guard_c says the same): one of the real-time
   signals, which no exercise uses and which queue rather than merge. */
#define GRADE_STACK_SIG	(SIGRTMAX - 1)
#define STACK_THREADS	8	/* threads shown with a deadlock */
#define STACK_DEPTH	12	/* of each, frames resolved */
#define STACK_SHOWN	6	/* of each, frames shown */
#define STACKS_MAX	1200	/* the stacks' share of a test's message */
#define MAX_SOURCE	(256u << 10)	/* as the exercise files' bound */

enum lane_hold { LANE_NONE, LANE_SHARED };

/*
 * What a box is for: a build writes its output into the box directory; a
 * run of a program writes nothing there (it is mounted read-only); a timed
 * run is a run measured as a benchmark (sbx_run_spec.measure); a run with
 * stacks is a run whose program's guard writes its threads' stacks when
 * the sandbox gives notice of the wall limit (sbx_run_spec.notice_signal).
 */
enum box_kind { BOX_BUILD, BOX_RUN, BOX_TIMED, BOX_RUN_STACKS };

struct bin {
	char	*data;
	size_t	 len;
	bool	 stacks;	/* a C normal build: its guard writes stacks */
};

/* One grading (or verification): its scratch root, lane and reference. */
struct job {
	const struct grade_exercise *ex;
	struct grade_options opt;
	char	 root[PATH_MAX];
	unsigned seq;
	int	 lane;
	struct bin ref;		/* the reference binary, once built */
	json_t	*ref_out;	/* test name -> expected stdout */
	json_t	*ref_defs;	/* globals reference.c defines: the API */
	bool	 ref_broken;	/* the exercise's fault, not the learner's */
	uint32_t bench_wall_ms;	/* timed runs' wall limit; 0: not yet known */
	uint64_t seed;		/* this grading's hidden inputs */
	bool	 self_bench;	/* the program is the reference (verify) */
	bool	 rebench;	/* a second measurement: unsettled is final */
	char	 why[512];	/* the last internal or exercise failure */
	/* Python: the runner's mode for the next run_prog() ("race"; NULL:
	   "test", or "bench" for a timed run), and the repetition whose
	   fresh inputs it gets (0: the test's own). */
	const char *py_mode;
	unsigned rep;
};

static void __attribute__((format(printf, 2, 3)))
job_fail(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->why, sizeof(j->why), fmt, ap);
	va_end(ap);
	log_warnx("grade %s: %s", j->ex->slug, j->why);
}

static void
progress(struct job *j, const char *status)
{
	if (j->opt.progress != NULL)
		j->opt.progress(j->opt.arg, status);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (remove(path) == -1 && errno != ENOENT)
		log_warn("grade: cannot remove %s", path);
	return 0;
}

/* Physical walk, depth first, never leaving the file system. */
static void
rm_tree(const char *path)
{
	(void)nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void
bin_free(struct bin *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->stacks = false;
}

static int
job_init(struct job *j, const struct grade_exercise *ex,
    const struct grade_options *opt)
{
	const char *wd;

	memset(j, 0, sizeof(*j));
	j->ex = ex;
	j->lane = -1;
	if (opt != NULL)
		j->opt = *opt;
	/* Fresh inputs for every grading: nobody can know them in advance. */
	j->seed = j->opt.seed;
	while (j->seed == 0)
		if (getrandom(&j->seed, sizeof(j->seed), 0) != sizeof(j->seed))
			j->seed = (uint64_t)clock_ms() * 0x9e3779b97f4a7c15ULL;
	wd = j->opt.workdir ? j->opt.workdir : "/tmp";
	if (j->opt.lane_path == NULL)
		j->opt.lane_path = GRADE_LANE_PATH;
	if ((size_t)snprintf(j->root, sizeof(j->root), "%s/cohort-grade.XXXXXX",
	    wd) >= sizeof(j->root) || mkdtemp(j->root) == NULL) {
		log_warn("grade: scratch directory in %s", wd);
		j->root[0] = '\0';
		return CD_ERR_SYSTEM;
	}
	j->lane = open(j->opt.lane_path, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (j->lane == -1)
		log_warn("grade: benchmark lane %s; measuring without it",
		    j->opt.lane_path);
	return 0;
}

static void
job_done(struct job *j)
{
	if (j->root[0] != '\0')
		rm_tree(j->root);
	if (j->lane != -1)
		close(j->lane);
	bin_free(&j->ref);
	json_decref(j->ref_out);
	json_decref(j->ref_defs);
}

static void
lane(struct job *j, int op)
{
	if (j->lane == -1)
		return;
	while (flock(j->lane, op) == -1 && errno == EINTR)
		;
}

/* A new, empty box directory under the scratch root. */
static int
box_dir(struct job *j, const char *tag, char *path, size_t len)
{
	if ((size_t)snprintf(path, len, "%s/%s-%u", j->root, tag, ++j->seq) >=
	    len || mkdir(path, 0700) == -1) {
		log_warn("grade: box directory %s", path);
		return CD_ERR_SYSTEM;
	}
	return 0;
}

/* Only into a directory no box has used yet: nothing there to follow. */
static int
put_file(const char *dir, const char *name, const char *data, size_t len,
    mode_t mode)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1) {
		log_warn("grade: %s", path);
		return CD_ERR_SYSTEM;
	}
	while (len > 0) {
		if ((n = write(fd, data, len)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			log_warn("grade: %s", path);
			rc = CD_ERR_SYSTEM;
			goto out;
		}
		data += n;
		len -= (size_t)n;
	}
	/* A fixed mtime: __TIMESTAMP__ must not differ between the two
	   screening passes, or between two gradings of one source. */
	if (fchmod(fd, mode) == -1 || futimens(fd, (const struct timespec[2]){
	    { 0, 0 }, { 0, 0 } }) == -1)
		rc = CD_ERR_SYSTEM;
 out:
	close(fd);
	return rc;
}

/* Read what a box left at dir/prog, refusing links and odd files. */
static int
get_binary(const char *dir, struct bin *b)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd = -1, rc;

	if ((rc = sbx_open_beneath(dir, "prog", O_RDONLY, &fd)) != 0)
		return rc;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (size_t)st.st_size > MAX_BINARY) {
		rc = CD_ERR_INVALID;
		goto out;
	}
	if ((b->data = malloc((size_t)st.st_size)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, b->data + got, (size_t)st.st_size - got);
		if (n <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			rc = CD_ERR_SYSTEM;
			goto out;
		}
		got += (size_t)n;
	}
	b->len = got;
 out:
	if (rc != 0)
		bin_free(b);
	close(fd);
	return rc;
}

/*
 * sbx_run() with the lane held as asked, waiting a while for a free slot.
 * A verdict of SBX_INTERNAL_ERROR becomes CD_ERR_INTERNAL here, so callers
 * see only the program's own verdicts.
 */
static int
box_run(struct job *j, const char *dir, char *const *argv, char *const *env,
    const struct sbx_limits *lim, enum lane_hold hold, const char *cpus,
    enum box_kind kind, struct sbx_result *res)
{
	struct sbx_run_spec spec = {
		.box_dir = dir, .argv = argv, .env = env, .cpus = cpus,
		.limits = *lim, .measure = kind == BOX_TIMED,
		.read_only_dir = kind != BOX_BUILD,
		.notice_signal = kind == BOX_RUN_STACKS ? GRADE_STACK_SIG : 0,
	};
	struct timespec pause = { 0, 100 * 1000000 };
	int rc, waited = 0;

	memset(res, 0, sizeof(*res));
	for (;;) {
		if (hold == LANE_SHARED)
			lane(j, LOCK_SH);
		rc = sbx_run(&spec, res);
		if (hold == LANE_SHARED)
			lane(j, LOCK_UN);
		if (rc != CD_ERR_UNAVAILABLE || waited >= SLOT_WAIT_MS)
			break;
		nanosleep(&pause, NULL);
		waited += 100;
	}
	if (rc != 0) {
		job_fail(j, "the sandbox refused to run %s: %s", argv[0],
		    cd_strerror(rc));
		return rc;
	}
	if (res->verdict == SBX_INTERNAL_ERROR) {
		job_fail(j, "the sandbox failed: %s",
		    res->message ? res->message : "no detail");
		sbx_result_free(res);
		return CD_ERR_INTERNAL;
	}
	return 0;
}

static void
limits_compile(struct sbx_limits *l)
{
	sbx_limits_default(l);
	l->wall_ms = 60000;	/* gcc on a large file, on a busy host */
	l->cpu_ms = 60000;
	l->memory_mb = 1024;	/* cc1 plus the ThreadSanitizer link */
	l->output_kb = 16384;	/* gcc -E output; logs are trimmed later */
	l->file_kb = MAX_BINARY >> 10;
}

static void
limits_run(const struct grade_exercise *ex, const struct grade_test *t,
    bool tsan, struct sbx_limits *l)
{
	sbx_limits_default(l);
	l->wall_ms = ex->wall_ms;
	l->cpu_ms = ex->cpu_ms;
	l->memory_mb = ex->memory_mb;
	/*
	 * The thread limit, enforced: the box's init and the main thread,
	 * the test's threads, the harness's own (extra_tasks), and as many
	 * again as the test's threads, since a thread just joined may still
	 * be counted for a moment when the next one starts.  ThreadSanitizer
	 * adds a background thread of its own.
	 */
	l->pids = 2 + 2 * t->threads + ex->extra_tasks + (tsan ? 1 : 0);
	/* Python: the interpreter's own helper threads (GRADE_PY_TASKS);
	   a pool's worker processes count as the test's threads. */
	if (ex->language == GRADE_LANG_PYTHON)
		l->pids += GRADE_PY_TASKS;
	l->file_kb = 1024;	/* nothing needs to write files */
	if (tsan) {
		/* ThreadSanitizer: 5-15x slower, shadow memory on top. */
		l->wall_ms = ex->wall_ms * 3 > 60000 ? 60000 : ex->wall_ms * 3;
		l->cpu_ms = l->wall_ms * 2;
		l->memory_mb = ex->memory_mb * 4 < 1024 ? 1024 :
		    ex->memory_mb * 4;
	}
}

/*
 * Linked into every build beside the harness: the trusted side's say in
 * the program.  The race build's ThreadSanitizer options are set here
 * (the learner may define no __tsan_ symbol, see screen_object()): stop
 * at the first race with exit code GRADE_RACE_EXIT, so a race counts even
 * when the report cannot be read.  And a program re-executed with
 * options or preloads of its own ends at once: that is no way around the
 * race checker or the harness.
 *
 * In the normal build it also answers the sandbox's notice of the wall
 * limit (GRADE_STACK_SIG, sbx_run_spec.notice_signal): the thread that
 * gets it writes its stack and tgkill()s every other thread of
 * /proc/self/task with the same signal (told apart by si_code), and each
 * writes its own, as "cohort-stack PID TID OFFSET..." on stderr: return
 * addresses inside the program, as link-time addresses (the load bias
 * taken off) for addr2line (deadlock_stacks()).  Only async-signal-safe
 * calls in the handler: backtrace() is called once beforehand so that the
 * unwinder is loaded, and each line is one write() below PIPE_BUF, which
 * a pipe never interleaves with another.  Everything is static, so no
 * name of the learner's can collide with it.  Not in the race build:
 * ThreadSanitizer would report the handler's calls as signal-unsafe.
 */
static const char guard_c[] =
    "#define _GNU_SOURCE\n"
    "#include <dirent.h>\n"
    "#include <errno.h>\n"
    "#include <execinfo.h>\n"
    "#include <fcntl.h>\n"
    "#include <link.h>\n"
    "#include <signal.h>\n"
    "#include <stdint.h>\n"
    "#include <stdlib.h>\n"
    "#include <string.h>\n"
    "#include <unistd.h>\n"
    "#include <sys/syscall.h>\n"
    "extern char **environ;\n"
    "#ifdef __SANITIZE_THREAD__\n"
    "const char *__tsan_default_options(void)\n"
    "{ return \"halt_on_error=1:exitcode=66:abort_on_error=0\"; }\n"
    "#else\n"
    "#define COHORT_STACK_SIG (SIGRTMAX - 1)\n"
    "#define COHORT_FRAMES 32\n"
    "extern char __executable_start[], __etext[];\n"
    "static uintptr_t cohort_bias;\n"
    "static int cohort_phdr(struct dl_phdr_info *i, size_t n, void *arg)\n"
    "{\n"
    "\t(void)n;\n"
    "\t(void)arg;\n"
    "\tcohort_bias = i->dlpi_addr;\n"
    "\treturn 1;\n"
    "}\n"
    "static char *cohort_num(char *p, uintptr_t v, unsigned base)\n"
    "{\n"
    "\tchar t[24];\n"
    "\tint k = 0;\n"
    "\n"
    "\tdo\n"
    "\t\tt[k++] = \"0123456789abcdef\"[v % base];\n"
    "\twhile ((v /= base) != 0);\n"
    "\t*p++ = ' ';\n"
    "\twhile (k > 0)\n"
    "\t\t*p++ = t[--k];\n"
    "\treturn p;\n"
    "}\n"
    "static void cohort_stack(void)\n"
    "{\n"
    "\tvoid *pc[COHORT_FRAMES];\n"
    "\tchar line[COHORT_FRAMES * 18 + 64], *p = line;\n"
    "\tint n = backtrace(pc, COHORT_FRAMES);\n"
    "\n"
    "\tmemcpy(p, \"cohort-stack\", 12);\n"
    "\tp += 12;\n"
    "\tp = cohort_num(p, (uintptr_t)getpid(), 10);\n"
    "\tp = cohort_num(p, (uintptr_t)syscall(SYS_gettid), 10);\n"
    "\tfor (int i = 0; i < n; i++)\n"
    "\t\tif ((char *)pc[i] >= __executable_start &&\n"
    "\t\t    (char *)pc[i] < __etext)\n"
    "\t\t\tp = cohort_num(p, (uintptr_t)pc[i] - cohort_bias, 16);\n"
    "\t*p++ = '\\n';\n"
    "\t(void)!write(2, line, (size_t)(p - line));\n"
    "}\n"
    "static void cohort_on_notice(int sig, siginfo_t *si, void *uc)\n"
    "{\n"
    "\tchar buf[2048];\n"
    "\tstruct dirent64 *d;\n"
    "\tlong self = syscall(SYS_gettid), n, tid;\n"
    "\tint saved = errno, fd;\n"
    "\n"
    "\t(void)uc;\n"
    "\tcohort_stack();\n"
    "\tif (si->si_code == SI_TKILL || (fd = open(\"/proc/self/task\",\n"
    "\t    O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {\n"
    "\t\terrno = saved;\n"
    "\t\treturn;\n"
    "\t}\n"
    "\twhile ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0)\n"
    "\t\tfor (long off = 0; off < n; off += d->d_reclen) {\n"
    "\t\t\tconst char *s;\n"
    "\n"
    "\t\t\td = (struct dirent64 *)(buf + off);\n"
    "\t\t\ts = d->d_name;\n"
    "\n"
    "\t\t\tfor (tid = 0; *s >= '0' && *s <= '9'; s++)\n"
    "\t\t\t\ttid = tid * 10 + (*s - '0');\n"
    "\t\t\tif (tid > 0 && *s == '\\0' && tid != self)\n"
    "\t\t\t\t(void)syscall(SYS_tgkill, getpid(), tid, sig);\n"
    "\t\t}\n"
    "\tclose(fd);\n"
    "\terrno = saved;\n"
    "}\n"
    "#endif\n"
    "__attribute__((constructor(101))) static void cohort_guard(void)\n"
    "{\n"
    "\tfor (char **e = environ; e != NULL && *e != NULL; e++)\n"
    "\t\tif (!strncmp(*e, \"LD_\", 3) || !strncmp(*e, \"TSAN_\", 5) ||\n"
    "\t\t    !strncmp(*e, \"GLIBC_\", 6)) {\n"
    "\t\t\tstatic const char m[] = \"the program was started \"\n"
    "\t\t\t    \"again with its environment changed\\n\";\n"
    "\t\t\t(void)!write(2, m, sizeof(m) - 1);\n"
    "\t\t\t_exit(67);\n"
    "\t\t}\n"
    "#ifndef __SANITIZE_THREAD__\n"
    "\t{\n"
    "\t\tstruct sigaction sa;\n"
    "\t\tvoid *pc[1];\n"
    "\n"
    "\t\t(void)dl_iterate_phdr(cohort_phdr, NULL);\n"
    "\t\t(void)backtrace(pc, 1);\n"
    "\t\tmemset(&sa, 0, sizeof(sa));\n"
    "\t\tsa.sa_sigaction = cohort_on_notice;\n"
    "\t\tsa.sa_flags = SA_SIGINFO | SA_RESTART;\n"
    "\t\t(void)sigaction(COHORT_STACK_SIG, &sa, NULL);\n"
    "\t}\n"
    "#endif\n"
    "}\n";

/* The files of one build in a fresh box directory. */
static int
stage_sources(struct job *j, const char *src, size_t len, char *dir,
    size_t dlen)
{
	const struct grade_exercise *ex = j->ex;
	int rc;

	if ((rc = box_dir(j, "build", dir, dlen)) != 0 ||
	    (rc = put_file(dir, "exercise.h", ex->file[GF_HEADER],
	    ex->file_len[GF_HEADER], 0644)) != 0 ||
	    (rc = put_file(dir, "harness.c", ex->file[GF_HARNESS],
	    ex->file_len[GF_HARNESS], 0644)) != 0 ||
	    (rc = put_file(dir, GUARD_FILE, guard_c, sizeof(guard_c) - 1,
	    0644)) != 0 ||
	    (rc = put_file(dir, LEARNER_FILE, src, len, 0644)) != 0)
		return rc;
	return 0;
}

/*
 * Preprocess source as the build (tsan false) or the race build would.
 * On 0, *pp is the text (caller frees) or NULL if gcc -E failed, which the
 * real compile will then report.
 */
static int
preprocess(struct job *j, const char *src, size_t len, bool tsan,
    char **pp, size_t *pplen, bool *too_big)
{
	char *const plain[] = { GCC, "-E", "-P", "-O2", "-pthread",
	    "-std=gnu11", LEARNER_FILE, NULL };
	char *const race[] = { GCC, "-E", "-P", "-O1", "-g",
	    "-fsanitize=thread", "-pthread", "-std=gnu11", LEARNER_FILE,
	    NULL };
	/* __DATE__ and __TIME__ must not differ between the two passes. */
	char *const env[] = { "SOURCE_DATE_EPOCH=0", NULL };
	char dir[PATH_MAX] = "";
	struct sbx_limits lim;
	struct sbx_result res;
	int rc;

	*pp = NULL;
	*too_big = false;
	limits_compile(&lim);
	if ((rc = stage_sources(j, src, len, dir, sizeof(dir))) != 0 ||
	    (rc = box_run(j, dir, tsan ? race : plain, env, &lim, LANE_SHARED,
	    NULL, BOX_BUILD, &res)) != 0)
		goto out;
	if (res.verdict == SBX_OK) {
		*pp = res.out;
		*pplen = res.out_len;
		res.out = NULL;
	} else
		*too_big = res.verdict == SBX_OUTPUT_LIMIT;
	sbx_result_free(&res);
 out:
	if (dir[0] != '\0')
		rm_tree(dir);
	return rc;
}

/*
 * An object's reference to name (bound bind) that is refused, with why:
 * a weak reference resolves to NULL in one build and to the race
 * runtime in the other, and the sanitizers' own interfaces (annotations
 * that hide accesses, report hooks) and the dynamic loader (which finds
 * them by a name built at run time) are no business of a solution.
 */
static void
refused_reference(const char *name, const char *bind, char *why, size_t wl)
{
	static const char *const prefixes[] = {
		"__tsan", "__asan", "__ubsan", "__msan", "__lsan", "__hwasan",
		"__dfsan", "__sanitizer", "__interceptor", "Annotate",
		"dlsym", "dlvsym", "dlopen", "dlmopen", "_dl_",
	};

	if (strcmp(bind, "WEAK") == 0) {
		snprintf(why, wl, "weak references are not allowed (%s): the "
		    "program would differ between the normal and the race "
		    "build", name);
		return;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++)
		if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0) {
			snprintf(why, wl, "learner.c may not use %s: the "
			    "sanitizers' and the dynamic loader's interfaces "
			    "are not part of the exercise", name);
			return;
		}
}

/*
 * What an object file defines, read in a box: src compiled alone (-c, as
 * the build compiles it), then readelf on the object in the same box.
 * On 0, *defs (caller's) lists the global and weak symbols it defines,
 * and *why is set if it has a constructor, destructor or ifunc, which
 * would run code of the learner's before or after the harness's; *defs
 * is NULL if it does not compile (the real compile will say why).
 */
static int
object_defs(struct job *j, const char *src, size_t len, json_t **defs,
    char *why, size_t wl)
{
	char *const cc[] = { GCC, "-c", "-O2", "-pthread", "-std=gnu11",
	    LEARNER_FILE, "-o", "learner.o", NULL };
	char *const re[] = { "/usr/bin/readelf", "-W", "-S", "-s",
	    "learner.o", NULL };
	/* Section types and names whose code runs without being called. */
	static const char *const hooks[] = {
		" INIT_ARRAY ", " FINI_ARRAY ", " PREINIT_ARRAY ",
		".init_array", ".fini_array", ".preinit_array", ".ctors",
		".dtors", " .init ", " .fini ",
	};
	char dir[PATH_MAX] = "", *line, *end, *nl;
	struct sbx_limits lim;
	struct sbx_result res = { 0 };
	json_t *d = NULL;
	int rc, fields;

	*defs = NULL;
	limits_compile(&lim);
	if ((rc = stage_sources(j, src, len, dir, sizeof(dir))) != 0 ||
	    (rc = box_run(j, dir, cc, NULL, &lim, LANE_SHARED, NULL, BOX_BUILD,
	    &res)) != 0)
		goto out;
	if (res.verdict != SBX_OK)
		goto out;
	sbx_result_free(&res);
	if ((rc = box_run(j, dir, re, NULL, &lim, LANE_SHARED, NULL, BOX_BUILD,
	    &res)) != 0)
		goto out;
	if (res.verdict != SBX_OK) {
		job_fail(j, "readelf failed on an object file: %s",
		    sbx_verdict_name(res.verdict));
		rc = CD_ERR_INTERNAL;
		goto out;
	}
	if ((d = json_array()) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	end = res.out + res.out_len;
	for (line = res.out; line < end; line = nl + 1) {
		char num[16], val[32], size[32], type[32], bind[32], vis[32],
		    ndx[16], name[256];

		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		for (size_t i = 0; i < sizeof(hooks) / sizeof(*hooks) &&
		    why[0] == '\0'; i++)
			if (line[0] == ' ' && strstr(line, "] ") != NULL &&
			    strstr(line, hooks[i]) != NULL)
				snprintf(why, wl, "constructors, destructors "
				    "and startup sections are not allowed "
				    "(%.*s): only the exercise's functions may "
				    "run, when the harness calls them",
				    (int)strcspn(hooks[i] + (hooks[i][0] ==
				    ' '), " "), hooks[i] + (hooks[i][0] ==
				    ' '));
		fields = sscanf(line, " %15[0-9]: %31s %31s %31s %31s %31s "
		    "%15s %255s", num, val, size, type, bind, vis, ndx, name);
		if (fields <= 0 || fields == 7)
			continue;	/* not a symbol, or the nameless one */
		if (fields != 8) {
			/* What cannot be read is not let through. */
			job_fail(j, "cannot read an object's symbol table");
			rc = CD_ERR_INTERNAL;
			goto out;
		}
		/* Whatever its binding: the loader runs it before main. */
		if (strcmp(type, "IFUNC") == 0 && why[0] == '\0')
			snprintf(why, wl, "ifunc resolvers are not allowed "
			    "(%s): they run before main", name);
		if (strcmp(ndx, "UND") == 0) {
			if (why[0] == '\0')
				refused_reference(name, bind, why, wl);
			continue;
		}
		if (strcmp(bind, "GLOBAL") != 0 && strcmp(bind, "WEAK") != 0 &&
		    strcmp(bind, "UNIQUE") != 0)
			continue;
		json_array_append_new(d, json_string(name));
	}
	*defs = d;
	d = NULL;
 out:
	json_decref(d);
	sbx_result_free(&res);
	if (dir[0] != '\0')
		rm_tree(dir);
	return rc;
}

/*
 * The harness stays the harness: the learner's object may define only
 * what the reference defines (the exercise's functions; helpers must be
 * static), so it can replace nothing of the harness's or libc's (printf,
 * nanosleep, the sanitizer's hooks), and may run no code before or after
 * main.  Checked on the object's symbol table, not on the text, so asm
 * labels and attributes cannot hide a definition.  Sets why to refuse.
 */
static int
screen_object(struct job *j, const char *src, size_t len, char *why,
    size_t wl)
{
	const struct grade_exercise *ex = j->ex;
	char rwhy[256] = "";
	json_t *defs = NULL, *v, *w;
	size_t i, k;
	bool found;
	int rc;

	if (j->ref_defs == NULL) {
		if ((rc = object_defs(j, ex->file[GF_REFERENCE],
		    ex->file_len[GF_REFERENCE], &j->ref_defs, rwhy,
		    sizeof(rwhy))) != 0)
			return rc;
		if (j->ref_defs == NULL) {
			j->ref_broken = true;
			job_fail(j, "the reference does not compile");
			return CD_ERR_CONFLICT;
		}
	}
	if ((rc = object_defs(j, src, len, &defs, why, wl)) != 0 ||
	    defs == NULL || why[0] != '\0')
		goto out;
	json_array_foreach(defs, i, v) {
		found = false;
		json_array_foreach(j->ref_defs, k, w)
			if (json_equal(v, w))
				found = true;
		if (!found) {
			snprintf(why, wl, "learner.c defines \"%s\", which is not "
			    "one of the exercise's functions: give helpers and "
			    "globals the static keyword, and do not redefine "
			    "library or harness functions",
			    json_string_value(v));
			break;
		}
	}
 out:
	json_decref(defs);
	return rc;
}

/*
 * Refuse sources that talk to the sanitizer or change under it.  Returns
 * 0 with *why empty (accepted) or set (refused), or a negative code.
 */
static int
screen(struct job *j, const char *src, size_t len, char *why, size_t wl)
{
	char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;
	bool big_a, big_b;
	int rc;

	why[0] = '\0';
	if ((rc = preprocess(j, src, len, false, &a, &al, &big_a)) != 0)
		goto out;
	if (big_a) {
		snprintf(why, wl, "the source is too large once preprocessed");
		goto out;
	}
	if (a == NULL)
		goto out;	/* gcc -E failed: the compile will say why */
	if (grade_screen_source(a, al, why, wl))
		goto out;
	if ((rc = screen_object(j, src, len, why, wl)) != 0 || why[0] != '\0')
		goto out;
	if ((rc = preprocess(j, src, len, true, &b, &bl, &big_b)) != 0)
		goto out;
	if (b == NULL || al != bl || memcmp(a, b, al) != 0)
		snprintf(why, wl, "the source must not change when built "
		    "with ThreadSanitizer (__SANITIZE_THREAD__ and the like)");
 out:
	free(a);
	free(b);
	return rc;
}

/*
 * Python: what compiling is for C.  The source is screened in a box
 * (grader/python/screen.py parses it, never runs it); accepted, out holds
 * the source itself, which every run stages as solution.py.  A refusal
 * or a syntax error is the compile log.
 */
static int
py_compile(struct job *j, const char *src, size_t len, struct bin *out,
    bool *ok, char **log)
{
	const char *screen;
	char dir[PATH_MAX] = "", *allowed = NULL;
	char *argv[] = { GRADE_PYTHON, "-I", "-S", "-B", "screen.py", NULL,
	    "solution.py", NULL };
	struct sbx_limits lim;
	struct sbx_result res = { 0 };
	json_t *o = NULL;
	size_t slen;
	int rc;

	*ok = false;
	*log = NULL;
	limits_compile(&lim);
	lim.output_kb = 64;
	if ((screen = grade_py_file("screen.py", &slen)) == NULL) {
		job_fail(j, "the Python screen is missing from this build");
		return CD_ERR_INTERNAL;
	}
	if ((argv[5] = allowed = grade_py_allowed(j->ex)) == NULL)
		return CD_ERR_NOMEM;
	if ((rc = box_dir(j, "screen", dir, sizeof(dir))) != 0 ||
	    (rc = put_file(dir, "screen.py", screen, slen, 0644)) != 0 ||
	    (rc = put_file(dir, "solution.py", src, len, 0644)) != 0)
		goto out;
	if ((rc = box_run(j, dir, argv, NULL, &lim, LANE_SHARED, NULL, BOX_BUILD,
	    &res)) != 0)
		goto out;
	if (res.verdict != SBX_OK || (o = json_loadb(res.out, res.out_len, 0,
	    NULL)) == NULL || !json_is_boolean(json_object_get(o, "ok"))) {
		*log = strdup("solution.py could not be read: the screen "
		    "stopped on it\n");
		rc = *log ? 0 : CD_ERR_NOMEM;
		goto out;
	}
	if (!json_is_true(json_object_get(o, "ok"))) {
		*log = strdup(json_string_value(json_object_get(o, "why")) ?
		    json_string_value(json_object_get(o, "why")) : "refused");
		rc = *log ? 0 : CD_ERR_NOMEM;
		goto out;
	}
	if ((out->data = malloc(len ? len : 1)) == NULL ||
	    (*log = strdup("")) == NULL) {
		bin_free(out);
		rc = CD_ERR_NOMEM;
		goto out;
	}
	memcpy(out->data, src, len);
	out->len = len;
	*ok = true;
 out:
	json_decref(o);
	sbx_result_free(&res);
	if (dir[0] != '\0')
		rm_tree(dir);
	free(allowed);
	return rc;
}

/*
 * Compile harness.c with src in a box.  On 0, *ok says whether it built,
 * *log (caller frees) holds the trimmed compiler output, and on success
 * out holds the binary.
 */
static int
compile(struct job *j, const char *src, size_t len, bool tsan,
    struct bin *out, bool *ok, char **log)
{
	const char *argv[24];
	char dir[PATH_MAX] = "";
	struct sbx_limits lim;
	struct sbx_result res;
	size_t n = 0;
	int rc;

	*ok = false;
	*log = NULL;
	if (j->ex->language == GRADE_LANG_PYTHON)
		return py_compile(j, src, len, out, ok, log);
	argv[n++] = GCC;
	if (tsan) {
		argv[n++] = "-fsanitize=thread";
		argv[n++] = "-g";
		argv[n++] = "-O1";
	} else {
		argv[n++] = "-O2";
		/* Line tables for the stacks of a deadlock; the code is the
		   same with or without them. */
		argv[n++] = "-g";
	}
	argv[n++] = "-pthread";
	argv[n++] = "-std=gnu11";
	argv[n++] = "-Wall";
	argv[n++] = "-fdiagnostics-color=never";
	argv[n++] = "-fmax-errors=20";
	argv[n++] = "harness.c";
	argv[n++] = GUARD_FILE;
	argv[n++] = LEARNER_FILE;
	argv[n++] = "-o";
	argv[n++] = "prog";
	for (int i = 0; j->ex->ldlibs[i] != NULL; i++)
		argv[n++] = j->ex->ldlibs[i];
	argv[n] = NULL;

	limits_compile(&lim);
	lim.output_kb = 256;
	if ((rc = stage_sources(j, src, len, dir, sizeof(dir))) != 0 ||
	    (rc = box_run(j, dir, (char *const *)argv, NULL, &lim, LANE_SHARED,
	    NULL, BOX_BUILD, &res)) != 0)
		goto out;
	if (res.verdict == SBX_OK) {
		if ((rc = get_binary(dir, out)) != 0) {
			job_fail(j, "cannot read the compiled program: %s",
			    cd_strerror(rc));
			sbx_result_free(&res);
			goto out;
		}
		*ok = true;
		out->stacks = !tsan;
		*log = grade_trim(res.err, res.err_len, COMPILE_LOG_MAX);
	} else if (res.verdict == SBX_RUNTIME_ERROR)
		*log = grade_trim(res.err, res.err_len, COMPILE_LOG_MAX);
	else {
		char msg[128];

		snprintf(msg, sizeof(msg), "the compiler stopped: %s%s%s\n",
		    sbx_verdict_name(res.verdict), res.limit ? " " : "",
		    res.limit ? res.limit : "");
		*log = strdup(msg);
	}
	sbx_result_free(&res);
	if (*log == NULL)
		rc = CD_ERR_NOMEM;
 out:
	if (dir[0] != '\0')
		rm_tree(dir);
	return rc;
}

/*
 * The value of "{seed}" in t's args for this grading: the grading's seed
 * mixed with the test's name (splitmix64), so that tests differ from each
 * other and from one grading to the next.
 */
static uint64_t
test_seed(const struct job *j, const struct grade_test *t)
{
	uint64_t z = j->seed;

	for (const char *p = t->name; *p != '\0'; p++)
		z = (z ^ (unsigned char)*p) * 0x100000001b3ULL;
	z ^= (uint64_t)j->rep * 0xd6e8feb86659fd93ULL;	/* Python race runs */
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return z >> 1 ? z >> 1 : 1;	/* within every harness's int64 */
}

/*
 * Python: run the solution source in prog under the trusted runner, with
 * the exercise's harness, in a fresh box.
 */
static int
py_run(struct job *j, const struct bin *prog, char *const *args,
    size_t nargs, const char *nthreads, const struct sbx_limits *lim,
    enum lane_hold hold, const char *cpus, bool measure,
    struct sbx_result *res)
{
	const struct grade_exercise *ex = j->ex;
	const char *runner, *mode = j->py_mode ? j->py_mode : measure ?
	    "bench" : "test";
	char dir[PATH_MAX] = "", **argv;
	size_t rlen;
	int rc;

	if ((runner = grade_py_file("runner.py", &rlen)) == NULL) {
		job_fail(j, "the Python runner is missing from this build");
		return CD_ERR_INTERNAL;
	}
	if ((argv = grade_py_argv(ex, mode, lim->wall_ms, args, nargs,
	    nthreads)) == NULL)
		return CD_ERR_NOMEM;
	if ((rc = box_dir(j, "run", dir, sizeof(dir))) != 0 ||
	    (rc = put_file(dir, "runner.py", runner, rlen, 0444)) != 0 ||
	    (rc = put_file(dir, "harness.py", ex->file[GF_HARNESS],
	    ex->file_len[GF_HARNESS], 0444)) != 0 ||
	    (rc = put_file(dir, "solution.py", prog->data, prog->len,
	    0444)) != 0)
		goto out;
	rc = box_run(j, dir, argv, NULL, lim, hold, cpus, measure ?
	    BOX_TIMED : BOX_RUN, res);
 out:
	if (dir[0] != '\0')
		rm_tree(dir);
	free(argv[6]);
	free(argv[7]);
	free(argv);
	return rc;
}

/* Run prog in a fresh box with t's args and "--threads threads". */
static int
run_prog(struct job *j, const struct bin *prog, const struct grade_test *t,
    unsigned threads, const struct sbx_limits *lim, enum lane_hold hold,
    const char *cpus, bool measure, struct sbx_result *res)
{
	char dir[PATH_MAX] = "", nthreads[16], seed[24];
	char **argv;
	int rc;

	if ((argv = calloc(t->nargs + 4, sizeof(char *))) == NULL)
		return CD_ERR_NOMEM;
	argv[0] = "./prog";
	memcpy(argv + 1, t->args, t->nargs * sizeof(char *));
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)test_seed(j,
	    t));
	for (size_t i = 1; i <= t->nargs; i++)
		if (strcmp(argv[i], GRADE_SEED_ARG) == 0)
			argv[i] = seed;
	snprintf(nthreads, sizeof(nthreads), "%u", threads);
	argv[t->nargs + 1] = "--threads";
	argv[t->nargs + 2] = nthreads;
	if (j->ex->language == GRADE_LANG_PYTHON) {
		rc = py_run(j, prog, argv + 1, t->nargs, nthreads, lim, hold,
		    cpus, measure, res);
		goto out;
	}
	if ((rc = box_dir(j, "run", dir, sizeof(dir))) != 0 ||
	    (rc = put_file(dir, "prog", prog->data, prog->len, 0755)) != 0)
		goto out;
	rc = box_run(j, dir, argv, NULL, lim, hold, cpus, measure ?
	    BOX_TIMED : prog->stacks ? BOX_RUN_STACKS : BOX_RUN, res);
 out:
	if (dir[0] != '\0')
		rm_tree(dir);
	free(argv);
	return rc;
}

/*
 * The verdict name of a run that did not end well, and a message for the
 * learner.  Deadlock: the wall limit with the CPUs nearly idle.
 */
static const char *
run_verdict(const struct sbx_result *r, char *msg, size_t ml)
{
	switch (r->verdict) {
	case SBX_OK:
		msg[0] = '\0';
		return "ok";
	case SBX_RUNTIME_ERROR:
		if (r->signal)
			snprintf(msg, ml, "killed by signal %d (%s)", r->signal,
			    strsignal(r->signal));
		else
			snprintf(msg, ml, "exit code %d", r->exit_code);
		return "runtime_error";
	case SBX_TIME_LIMIT:
		if (r->limit != NULL && strcmp(r->limit, "wall") == 0 &&
		    (uint64_t)r->cpu_ms * 100 < (uint64_t)r->wall_ms *
		    DEADLOCK_CPU_PCT) {
			snprintf(msg, ml, "no progress for %u ms with the CPUs "
			    "idle (%u ms of CPU): threads are blocked.  Check "
			    "that every thread takes its locks in one global "
			    "order, and that every condition-variable wait has "
			    "a matching signal and re-checks its predicate",
			    r->wall_ms, r->cpu_ms);
			return "deadlock";
		}
		snprintf(msg, ml, "%s time limit reached (%u ms wall, %u ms "
		    "CPU)", r->limit ? r->limit : "the", r->wall_ms, r->cpu_ms);
		return "time_limit";
	case SBX_MEMORY_LIMIT:
		snprintf(msg, ml, "memory limit reached (%u KiB)",
		    r->memory_kb);
		return "memory_limit";
	case SBX_OUTPUT_LIMIT:
		snprintf(msg, ml, "output limit reached (%s)",
		    r->limit ? r->limit : "output");
		return "output_limit";
	case SBX_SECURITY_VIOLATION:
		snprintf(msg, ml, "forbidden system call%s%s",
		    r->syscall ? ": " : "", r->syscall ? r->syscall : "");
		return "security_violation";
	case SBX_INTERNAL_ERROR:
	default:
		snprintf(msg, ml, "the sandbox failed");
		return "internal_error";
	}
}

/* run_verdict(), refined for a Python run (grade_py_verdict()). */
static const char *
verdict_of(const struct job *j, const struct sbx_result *r, char *msg,
    size_t ml)
{
	const char *v;

	if (j->ex->language == GRADE_LANG_PYTHON &&
	    (v = grade_py_verdict(r, msg, ml)) != NULL)
		return v;
	return run_verdict(r, msg, ml);
}

/* One thread's stack as the guard wrote it. */
struct stack {
	long	 pid, tid;
	size_t	 n;
	unsigned long long off[STACK_DEPTH];
};

/*
 * The guard's "cohort-stack PID TID OFFSET..." lines in err, at most max;
 * *seen counts them all.
 */
static size_t
stacks_parse(const char *err, size_t len, struct stack *st, size_t max,
    size_t *seen)
{
	const char *p = err, *end = err + len, *nl;
	char line[STACK_DEPTH * 20 + 64], *q, *e;
	size_t n = 0, ll;

	*seen = 0;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll < 13 || memcmp(p, "cohort-stack ", 13) != 0)
			continue;
		(*seen)++;
		if (n == max)
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)ll, p);
		memset(&st[n], 0, sizeof(st[n]));
		st[n].pid = strtol(line + 13, &q, 10);
		st[n].tid = strtol(q, &e, 10);
		if (e == q || st[n].pid <= 0 || st[n].tid <= 0)
			continue;
		for (q = e; st[n].n < STACK_DEPTH; q = e) {
			unsigned long long v = strtoull(q, &e, 16);

			if (e == q)
				break;
			/* A return address: the call is the byte before. */
			if (v > 0)
				st[n].off[st[n].n++] = v - 1;
		}
		if (st[n].n > 0)
			n++;
	}
	return n;
}

/*
 * addr2line's answer for one address ("FUNC\nFILE:LINE\n" at *p) as
 * "learner.c:36 in run" in buf, when the file is the learner's or the
 * harness's; else buf is empty.  *line is the learner's line, else 0.
 * Advances *p past the answer.
 */
static void
frame_name(char **p, const char *end, char *buf, size_t bl, long *line)
{
	char *fn = *p, *loc, *nl, *file;
	size_t fl;

	buf[0] = '\0';
	*line = 0;
	if ((nl = memchr(fn, '\n', (size_t)(end - fn))) == NULL) {
		*p = (char *)end;
		return;
	}
	*nl = '\0';
	loc = nl + 1;
	if ((nl = memchr(loc, '\n', (size_t)(end - loc))) == NULL)
		nl = (char *)end;
	*nl = '\0';
	*p = nl < end ? nl + 1 : (char *)end;
	/* "/box/learner.c:36 (discriminator 2)": the file's own name. */
	loc[strcspn(loc, " ")] = '\0';
	file = strrchr(loc, '/') ? strrchr(loc, '/') + 1 : loc;
	fl = strcspn(file, ":");
	if (file[fl] != ':' || file[fl + 1] < '1' || file[fl + 1] > '9' ||
	    ((fl != sizeof(LEARNER_FILE) - 1 || strncmp(file, LEARNER_FILE,
	    fl) != 0) && (fl != 9 || strncmp(file, "harness.c", 9) != 0)))
		return;
	snprintf(buf, bl, "%.40s in %.40s", file, fn);
	if (fl == sizeof(LEARNER_FILE) - 1 && strncmp(file, LEARNER_FILE,
	    fl) == 0)
		*line = strtol(file + fl + 1, NULL, 10);
}

/* Line no of src, trimmed, as ": \"text\"" in buf; empty if unfit. */
static void
source_line(const char *src, size_t len, long no, char *buf, size_t bl)
{
	const char *p = src, *end = src + len, *nl;

	buf[0] = '\0';
	for (long k = 1; k < no && p < end; k++)
		p = (nl = memchr(p, '\n', (size_t)(end - p))) ? nl + 1 : end;
	if (p >= end)
		return;
	if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
		nl = end;
	while (p < nl && (*p == ' ' || *p == '\t'))
		p++;
	while (nl > p && (nl[-1] == ' ' || nl[-1] == '\t' || nl[-1] == '\r'))
		nl--;
	if (nl == p || nl - p > 72)
		return;
	for (const char *c = p; c < nl; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			return;
	snprintf(buf, bl, ": \"%.*s\"", (int)(nl - p), p);
}

/*
 * Where each thread of a C program stood when the sandbox gave notice of
 * the wall limit (a deadlock, or a time limit with the CPUs busy): the
 * guard's lines in res's stderr, resolved by addr2line in a box (the
 * binary is the learner's: its debug information is read only there),
 * appended to msg as one line per thread, innermost call first, the
 * learner's and the harness's frames only, the innermost one's line of
 * src quoted when it is the learner's.  On any failure msg is left as it
 * was: the verdict stands without the stacks.
 */
static int
deadlock_stacks(struct job *j, const struct bin *prog, const char *src,
    size_t len, const struct sbx_result *res, char *msg, size_t ml)
{
	struct stack st[STACK_THREADS];
	char addr[STACK_THREADS * STACK_DEPTH][24];
	char *argv[STACK_THREADS * STACK_DEPTH + 5];
	char dir[PATH_MAX] = "", text[STACKS_MAX], frame[96], *p, *end;
	struct sbx_limits lim;
	struct sbx_result out = { 0 };
	size_t nst, seen, na = 0, used = 0, argc = 0;
	int rc = CD_ERR_INTERNAL;

	if (!prog->stacks || res->err == NULL || (nst = stacks_parse(res->err,
	    res->err_len, st, STACK_THREADS, &seen)) == 0)
		return 0;
	argv[argc++] = "/usr/bin/addr2line";
	argv[argc++] = "-f";
	argv[argc++] = "-e";
	argv[argc++] = "prog";
	for (size_t t = 0; t < nst; t++)
		for (size_t k = 0; k < st[t].n; k++) {
			snprintf(addr[na], sizeof(addr[na]), "0x%llx",
			    st[t].off[k]);
			argv[argc++] = addr[na++];
		}
	argv[argc] = NULL;
	limits_compile(&lim);
	lim.output_kb = 256;
	if ((rc = box_dir(j, "stacks", dir, sizeof(dir))) != 0 ||
	    (rc = put_file(dir, "prog", prog->data, prog->len, 0444)) != 0 ||
	    (rc = box_run(j, dir, argv, NULL, &lim, LANE_SHARED, NULL, BOX_RUN,
	    &out)) != 0)
		goto out;
	if (out.verdict != SBX_OK) {
		rc = CD_ERR_INTERNAL;
		goto out;
	}
	text[0] = '\0';
	p = out.out;
	end = out.out + out.out_len;
	for (size_t t = 0; t < nst; t++) {
		char line[512], quote[96];
		size_t shown = 0, ll;
		long no;

		ll = (size_t)snprintf(line, sizeof(line), "  thread %zu%s: ",
		    t + 1, st[t].tid == st[t].pid ? " (main)" : "");
		for (size_t k = 0; k < st[t].n; k++) {
			frame_name(&p, end, frame, sizeof(frame), &no);
			if (frame[0] == '\0' || shown == STACK_SHOWN ||
			    ll + strlen(frame) + 5 >= sizeof(line))
				continue;
			quote[0] = '\0';
			if (shown == 0 && no > 0)
				source_line(src, len, no, quote, sizeof(quote));
			ll += (size_t)snprintf(line + ll, sizeof(line) - ll,
			    "%s%s%s", shown ? " <- " : "", frame, quote);
			shown++;
		}
		if (shown > 0 && used + ll + 2 < sizeof(text))
			used += (size_t)snprintf(text + used, sizeof(text) - used,
			    "%s\n", line);
	}
	if (used > 0 && seen > nst && used + 40 < sizeof(text))
		used += (size_t)snprintf(text + used, sizeof(text) - used,
		    "  (%zu more thread%s not shown)\n", seen - nst,
		    seen - nst > 1 ? "s" : "");
	if (used > 0 && strlen(msg) + used + 64 < ml)
		snprintf(msg + strlen(msg), ml - strlen(msg), ".  Each thread "
		    "at that moment, innermost call first:\n%.*s", (int)used - 1,
		    text);
	rc = 0;
 out:
	sbx_result_free(&out);
	if (dir[0] != '\0')
		rm_tree(dir);
	return rc;
}

/* ---- the reference ------------------------------------------------- */

static int
ensure_ref_bin(struct job *j)
{
	const struct grade_exercise *ex = j->ex;
	char *log = NULL;
	bool ok;
	int rc;

	if (j->ref.data != NULL)
		return 0;
	if ((rc = compile(j, ex->file[GF_REFERENCE], ex->file_len[GF_REFERENCE],
	    false, &j->ref, &ok, &log)) != 0)
		goto out;
	if (!ok) {
		j->ref_broken = true;
		job_fail(j, "the reference does not compile: %.300s",
		    log ? log : "");
		rc = CD_ERR_CONFLICT;
	}
 out:
	free(log);
	return rc;
}

/*
 * Whether reference outputs may be cached: always for fixed inputs; for
 * hidden ones only when the caller fixed the seed (a regrade, a test), as
 * a seed drawn per grading never comes again and would only fill the
 * directory.  The cache is keyed by exercise version and seed.
 */
static bool
cacheable(const struct job *j)
{
	const struct grade_exercise *ex = j->ex;

	if (j->opt.ref_cache_dir == NULL)
		return false;
	if (j->opt.seed != 0)
		return true;
	for (size_t i = 0; i < ex->ntests; i++)
		for (size_t k = 0; k < ex->tests[i].nargs; k++)
			if (strcmp(ex->tests[i].args[k], GRADE_SEED_ARG) == 0)
				return false;
	return true;
}

static json_t *
cache_load(struct job *j, char *path, size_t plen)
{
	json_t *c, *tests;

	path[0] = '\0';
	if (!cacheable(j))
		return NULL;
	if ((size_t)snprintf(path, plen, "%s/%s-%016llx.json",
	    j->opt.ref_cache_dir, j->ex->hash, (unsigned long long)j->seed) >=
	    plen || (c = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	tests = json_object_get(c, "tests");
	for (size_t i = 0; i < j->ex->ntests; i++)
		if (!json_is_string(json_object_get(tests,
		    j->ex->tests[i].name))) {
			json_decref(c);
			return NULL;
		}
	json_incref(tests);
	json_decref(c);
	return tests;
}

static void
cache_store(struct job *j, const char *path)
{
	char tmp[PATH_MAX];
	json_t *c;

	if (path[0] == '\0' || !cacheable(j))
		return;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
	    (long)getpid()) >= sizeof(tmp))
		return;
	c = json_pack("{s:s, s:O}", "exercise", j->ex->slug, "tests",
	    j->ref_out);
	if (c == NULL || json_dump_file(c, tmp, JSON_COMPACT) != 0 ||
	    rename(tmp, path) == -1) {
		log_warnx("grade: cannot write the reference cache %s", path);
		(void)unlink(tmp);
	}
	json_decref(c);
}

/* The reference's stdout for every test: from the cache or from boxes. */
static int
ensure_ref_out(struct job *j)
{
	const struct grade_exercise *ex = j->ex;
	struct sbx_limits lim;
	struct sbx_result res;
	char path[PATH_MAX], msg[256];
	json_t *out;
	int rc;

	if (j->ref_out != NULL)
		return 0;
	if ((j->ref_out = cache_load(j, path, sizeof(path))) != NULL)
		return 0;
	if ((rc = ensure_ref_bin(j)) != 0)
		return rc;
	if ((out = json_object()) == NULL)
		return CD_ERR_NOMEM;
	for (size_t i = 0; i < ex->ntests; i++) {
		const struct grade_test *t = &ex->tests[i];

		limits_run(ex, t, false, &lim);
		if ((rc = run_prog(j, &j->ref, t, t->threads, &lim, LANE_SHARED,
		    NULL, false, &res)) != 0)
			goto out;
		if (res.verdict != SBX_OK) {
			j->ref_broken = true;
			job_fail(j, "the reference fails test %s: %s (%s)",
			    t->name, run_verdict(&res, msg, sizeof(msg)), msg);
			sbx_result_free(&res);
			rc = CD_ERR_CONFLICT;
			goto out;
		}
		json_object_set_new(out, t->name,
		    json_stringn_nocheck(res.out, res.out_len));
		sbx_result_free(&res);
	}
	j->ref_out = out;
	out = NULL;
	cache_store(j, path);
 out:
	json_decref(out);
	return rc;
}

/* ---- judging ------------------------------------------------------- */

enum judge_mode { JUDGE_FULL, JUDGE_TESTS_ONLY };

/* Put the learner's own frames first, then the first report, trimmed. */
static char *
race_report(const char *err, size_t len)
{
	const char *start = memmem(err, len, "WARNING: ThreadSanitizer:", 25);
	const char *end, *p, *nl;
	size_t blen, used = 0;
	char *head, *body, *out = NULL;

	if (start == NULL)
		return strdup("");
	end = memmem(start, len - (size_t)(start - err), "SUMMARY:", 8);
	if (end != NULL && (nl = memchr(end, '\n', len - (size_t)(end - err))))
		end = nl + 1;
	blen = end ? (size_t)(end - start) : len - (size_t)(start - err);
	if ((head = malloc(1024)) == NULL)
		return NULL;
	head[0] = '\0';
	for (p = start; p < start + blen && used < 900; p = nl + 1) {
		size_t ll;

		if ((nl = memchr(p, '\n', (size_t)(start + blen - p))) == NULL)
			nl = start + blen - 1;
		while (p < nl && (*p == ' ' || *p == '\t'))
			p++;
		ll = (size_t)(nl - p);
		/* Frames in learner.c, once each, as "#0 run /box/learner.c:24". */
		if (strncmp(p, "SUMMARY:", 8) == 0 ||
		    memmem(p, ll, LEARNER_FILE ":", sizeof(LEARNER_FILE)) == NULL ||
		    (ll > 3 && memmem(head, used, p + 3, ll - 3) != NULL) ||
		    used + ll + 4 >= 1000)
			continue;
		used += (size_t)snprintf(head + used, 1024 - used, "  %.*s\n",
		    (int)ll, p);
	}
	if ((body = grade_trim(start, blen, RACE_REPORT_MAX)) != NULL &&
	    asprintf(&out, "%s%s%s", used ? "In your code:\n" : "", head,
	    used ? "\n" : "") != -1) {
		char *all;

		if (asprintf(&all, "%s%s", out, body) == -1)
			all = NULL;
		free(out);
		out = all;
	}
	free(head);
	free(body);
	return out;
}

static double
round2(double x)
{
	return round(x * 100) / 100;
}

/*
 * Race tests on a ThreadSanitizer build of prog's source.  Sets race
 * members of r; *detected on any report, or on the exit code the race
 * runtime is told to use (guard_c), which stands when the report was
 * hidden.  A race run is also judged as a run, against plain (the normal
 * build) on the same inputs: ending otherwise, or printing another answer,
 * fails the submission, with *verdict and failure (fl bytes) saying how;
 * else *verdict is NULL.  Code that behaves only while the race checker
 * watches proves nothing.  A build that fails sets *build_log (caller
 * frees).
 */
static int
race_stage(struct job *j, const struct bin *plain, const char *src,
    size_t len, json_t *race, bool *detected, const char **verdict,
    char *failure, size_t fl, char **build_log)
{
	const struct grade_exercise *ex = j->ex;
	struct bin prog = { 0 };
	struct sbx_limits lim;
	struct sbx_result res, base;
	json_t *runs = json_array();
	char *report = NULL, msg[2048];
	const char *v;
	bool ok;
	int rc;

	*detected = false;
	*verdict = NULL;
	if ((rc = compile(j, src, len, true, &prog, &ok, build_log)) != 0)
		goto out;
	if (!ok)
		goto out;
	free(*build_log);
	*build_log = NULL;
	for (size_t i = 0; i < ex->nraces; i++) {
		const struct grade_test *t = &ex->races[i];
		bool hit;

		limits_run(ex, t, false, &lim);
		if ((rc = run_prog(j, plain, t, t->threads, &lim, LANE_SHARED,
		    NULL, false, &base)) != 0)
			goto out;
		limits_run(ex, t, true, &lim);
		if ((rc = run_prog(j, &prog, t, t->threads, &lim, LANE_SHARED,
		    NULL, false, &res)) != 0) {
			sbx_result_free(&base);
			goto out;
		}
		hit = memmem(res.err, res.err_len, "WARNING: ThreadSanitizer:",
		    25) != NULL || (res.verdict == SBX_RUNTIME_ERROR &&
		    res.exit_code == GRADE_RACE_EXIT);
		v = run_verdict(&res, msg, sizeof(msg));
		if (base.verdict != SBX_OK) {
			/* Failing on the race tests' inputs in both builds
			   would otherwise keep the race build from running. */
			v = run_verdict(&base, msg, sizeof(msg));
			if (*verdict == NULL) {
				*verdict = v;
				if (base.verdict == SBX_TIME_LIMIT)
					(void)deadlock_stacks(j, plain, src, len,
					    &base, msg, sizeof(msg));
				snprintf(failure, fl, "race test %s: the normal "
				    "build ended in %s: %s", t->name, v, msg);
			}
		} else if (!hit && res.verdict == SBX_OK &&
		    !grade_outputs_agree(ex->checker, res.out, res.out_len,
		    base.out, base.out_len, msg, sizeof(msg)))
			v = "wrong_answer";
		if (!hit && base.verdict == SBX_OK && strcmp(v, "ok") != 0 &&
		    *verdict == NULL) {
			*verdict = v;
			snprintf(failure, fl, "race test %s: the "
			    "ThreadSanitizer build %s where the normal build "
			    "did not: %s", t->name, strcmp(v, "wrong_answer") ?
			    "ended otherwise" : "answered otherwise", msg);
		}
		sbx_result_free(&base);
		json_array_append_new(runs, json_pack("{s:s, s:s, s:b, s:i}",
		    "name", t->name, "verdict", v, "race", hit, "wall_ms",
		    (int)res.wall_ms));
		if (hit && report == NULL)
			report = race_report(res.err, res.err_len);
		*detected |= hit;
		sbx_result_free(&res);
	}
	json_object_set_new(race, "checked", json_true());
 out:
	json_object_set_new(race, "detected", json_boolean(*detected));
	json_object_set_new(race, "report", report ? json_string(report) :
	    json_null());
	json_object_set_new(race, "tests", runs);
	free(report);
	bin_free(&prog);
	return rc;
}

/*
 * Python: the race tests.  Python has no race detector; a race shows as a
 * lost update or a broken invariant, which a thread switch between almost
 * any two bytecodes (the runner's "race" mode sets the switch interval to
 * 1 microsecond) brings out within a few runs.  So each race test runs
 * GRADE_PY_RACE_REPS times, each on fresh inputs, and is judged against
 * the reference run normally on the same inputs: a wrong answer or an
 * error is a data race found by that test.  Blocking, deadlock and time
 * limits keep their own verdicts in *verdict, as in race_stage().
 */
static int
py_race_stage(struct job *j, const struct bin *prog, json_t *race,
    bool *detected, const char **verdict, char *failure, size_t fl)
{
	const struct grade_exercise *ex = j->ex;
	struct sbx_limits lim;
	struct sbx_result res, base;
	json_t *runs = json_array();
	char msg[1024], report[1536] = "";
	const char *v;
	int rc = CD_ERR_INTERNAL;

	*detected = false;
	*verdict = NULL;
	if ((rc = ensure_ref_bin(j)) != 0)
		goto out;
	for (size_t i = 0; i < ex->nraces && !*detected && *verdict == NULL;
	    i++) {
		const struct grade_test *t = &ex->races[i];

		for (unsigned k = 1; k <= GRADE_PY_RACE_REPS; k++) {
			bool hit = false;

			j->rep = k;
			limits_run(ex, t, false, &lim);
			j->py_mode = NULL;
			rc = run_prog(j, &j->ref, t, t->threads, &lim,
			    LANE_SHARED, NULL, false, &base);
			if (rc == 0 && base.verdict != SBX_OK) {
				j->ref_broken = true;
				job_fail(j, "the reference fails race test %s: "
				    "%s (%s)", t->name, run_verdict(&base, msg,
				    sizeof(msg)), msg);
				sbx_result_free(&base);
				rc = CD_ERR_CONFLICT;
			}
			if (rc != 0)
				goto out;
			/* Switching every microsecond costs time. */
			lim.wall_ms = lim.wall_ms * 2 > 60000 ? 60000 :
			    lim.wall_ms * 2;
			lim.cpu_ms = lim.wall_ms * 2;
			j->py_mode = "race";
			rc = run_prog(j, prog, t, t->threads, &lim, LANE_SHARED,
			    NULL, false, &res);
			j->py_mode = NULL;
			if (rc != 0) {
				sbx_result_free(&base);
				goto out;
			}
			v = verdict_of(j, &res, msg, sizeof(msg));
			if (strcmp(v, "ok") == 0 && !grade_outputs_agree(
			    ex->checker, res.out, res.out_len, base.out,
			    base.out_len, msg, sizeof(msg)))
				v = "wrong_answer";
			if (strcmp(v, "wrong_answer") == 0 ||
			    strcmp(v, "runtime_error") == 0) {
				hit = true;
				snprintf(report, sizeof(report), "race test %s "
				    "(%u threads), run %u of %u with a thread "
				    "switch possible after almost every "
				    "bytecode: %s (%.700s).  Threads changed shared "
				    "data without holding a lock: a "
				    "read-modify-write (x += 1, a check then an "
				    "update) must happen entirely under one "
				    "lock", t->name, t->threads, k,
				    GRADE_PY_RACE_REPS, strcmp(v,
				    "wrong_answer") ? "it failed" :
				    "the answer was wrong", msg);
			} else if (strcmp(v, "ok") != 0) {
				*verdict = v;
				snprintf(failure, fl, "race test %s, run %u: "
				    "%.400s", t->name, k, msg);
			}
			json_array_append_new(runs, json_pack("{s:s, s:i, "
			    "s:s, s:b, s:i}", "name", t->name, "run", (int)k,
			    "verdict", hit ? "data_race" : v, "race", hit,
			    "wall_ms", (int)res.wall_ms));
			sbx_result_free(&base);
			sbx_result_free(&res);
			*detected |= hit;
			if (hit || *verdict != NULL)
				break;
		}
	}
	json_object_set_new(race, "checked", json_true());
	rc = 0;
 out:
	j->rep = 0;
	j->py_mode = NULL;
	json_object_set_new(race, "detected", json_boolean(*detected));
	json_object_set_new(race, "report", report[0] ? json_string(report) :
	    json_null());
	json_object_set_new(race, "tests", runs);
	return rc;
}

/*
 * The benchmark.  A round is four timed runs under the exclusive lane:
 * the reference with 1 and with N threads, the learner's program with N
 * and with 1, in an order that rotates from round to round so that a
 * drifting host favours nobody.  Each run is a timed box (sbx measure):
 * top CPU priority, the work timed by the box's init from the harness's
 * mark to the exit, and the CPU waiting of the box's tasks accounted.
 *
 * A run is clean when its tasks waited for a CPU for at most
 * BENCH_WAIT_PCT of its time (plus BENCH_WAIT_SLACK_US for wake-ups);
 * a dirty run's time is not used.  Rounds are taken until each of the
 * four kinds of run has the exercise's repetitions of clean runs, at most
 * BENCH_MAX_FACTOR times as many rounds in all; short of that the
 * measurement is provisional (measured = false) and nothing is concluded
 * from it.
 *
 * What the rounds say, each kind's time and the points, is bench.c's.
 */
#define BENCH_WAIT_PCT	3	/* waited beyond this share of the run: dirty */
#define BENCH_WAIT_SLACK_US 2000	/* wake-ups */
#define BENCH_STEAL_TICK_US 10000	/* steal is counted in ticks */
#define BENCH_BUDGET_MS	120000	/* no more rounds begin after this */
#define BENCH_WALL_FACTOR 4	/* a timed run's limit: this times the ref's */
#define BENCH_WALL_MIN_MS 1000

static const char *
accounting_name(int acct)
{
	return acct == 2 ? "box" : acct == 1 ? "host" : "none";
}

/*
 * One round.  *fail (non-empty) when the learner's program failed the
 * benchmark: wrong answer, crash or limit.  CD_ERR_CONFLICT when the
 * reference did (the exercise's fault).
 */
static int
bench_round(struct job *j, const struct bin *prog, unsigned r,
    struct round *out, int *acct, char **ref_seen, size_t *ref_slen,
    char *fail, size_t fl)
{
	const struct grade_exercise *ex = j->ex;
	const struct grade_test *t = &ex->bench;
	struct sbx_limits lim;
	struct sbx_result res[RUN_COUNT];
	const char *cpus = j->opt.bench_cpus;
	char why[256], msg[256];
	int rc = 0, done = 0;

	memset(res, 0, sizeof(res));
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < RUN_COUNT; k++)
		out->ok[k] = true;
	out->clean = true;
	limits_run(ex, t, false, &lim);
	lane(j, LOCK_EX);
	for (; done < RUN_COUNT; done++) {
		int k = (int)((done + r) % RUN_COUNT);
		const struct bin *b = k <= RUN_REFN ? &j->ref : prog;
		unsigned threads = k == RUN_REFN || k == RUN_LN ?
		    t->threads : 1;
		double wait, base;

		/* A verification's program is the reference: its runs are
		   the learner's too (copied below), at half the time. */
		if (j->self_bench && k >= RUN_LN)
			continue;
		/*
		 * Timed runs have the CPUs before the rest of the host (see
		 * sbx measure), so none may last long: once the reference's
		 * serial run is known, BENCH_WALL_FACTOR times it at most.
		 */
		if (j->bench_wall_ms != 0)
			lim.wall_ms = j->bench_wall_ms;
		if ((rc = run_prog(j, b, t, threads, &lim, LANE_NONE, cpus,
		    true, &res[k])) != 0)
			break;
		if (k == RUN_REF1 && j->bench_wall_ms == 0 &&
		    res[k].verdict == SBX_OK)
			j->bench_wall_ms = (uint32_t)fmin(ex->wall_ms, fmax(
			    BENCH_WALL_MIN_MS, (double)res[k].run_ms *
			    BENCH_WALL_FACTOR));
		out->ms[k] = ex->work_mark ? res[k].work_ms : res[k].run_ms;
		if (out->ms[k] == 0)
			out->ms[k] = 1;	/* the clock's grain */
		/*
		 * How many CPUs the work kept busy: the box's CPU time less
		 * the harness's setup (single-threaded, before the mark),
		 * over the work's time.  No program speeds up by more than
		 * the CPUs it used, so this caps what noise can credit.
		 */
		out->cpus[k] = fmax(0, (double)res[k].cpu_ms -
		    ((double)res[k].run_ms - out->ms[k])) / out->ms[k];
		/*
		 * What the host took from the run.  Real-time: every task of
		 * the box waiting at once ("full"), as nothing at normal
		 * priority can preempt it and its threads' waiting for each
		 * other (more runnable threads than CPUs) is its own doing.
		 * Otherwise any task of the box waiting ("some"), stricter.
		 * Without the box's own figures, the host's, stricter still.
		 * Plus the time the hypervisor gave our CPUs to others.
		 */
		if (res[k].wait_us >= 0) {
			wait = (double)(res[k].realtime && res[k].stall_us >= 0 ?
			    res[k].stall_us : res[k].wait_us);
			*acct = 2;
		} else if (res[k].host_wait_us >= 0) {
			wait = (double)res[k].host_wait_us;
			if (*acct < 2)
				*acct = 1;
		} else
			continue;
		if (res[k].steal_us > BENCH_STEAL_TICK_US)
			wait += (double)(res[k].steal_us - BENCH_STEAL_TICK_US);
		base = (double)(res[k].run_ms ? res[k].run_ms : 1) * 1000;
		if (wait > base * BENCH_WAIT_PCT / 100 + BENCH_WAIT_SLACK_US)
			out->ok[k] = out->clean = false;
		out->wait_pct = fmax(out->wait_pct, wait * 100 / base);
	}
	lane(j, LOCK_UN);
	if (rc != 0)
		goto out;
	if (j->self_bench) {
		out->ms[RUN_LN] = out->ms[RUN_REFN];
		out->cpus[RUN_LN] = out->cpus[RUN_REFN];
		out->ok[RUN_LN] = out->ok[RUN_REFN];
		out->ms[RUN_L1] = out->ms[RUN_REF1];
		out->cpus[RUN_L1] = out->cpus[RUN_REF1];
		out->ok[RUN_L1] = out->ok[RUN_REF1];
	}

	fail[0] = '\0';
	for (int k = RUN_REF1; k <= RUN_REFN; k++) {
		if (res[k].verdict != SBX_OK) {
			j->ref_broken = true;
			job_fail(j, "the reference fails the benchmark with %u "
			    "thread%s: %s (%s)", k == RUN_REF1 ? 1 : t->threads,
			    k == RUN_REF1 ? "" : "s", run_verdict(&res[k], msg,
			    sizeof(msg)), msg);
			rc = CD_ERR_CONFLICT;
			goto out;
		}
		if (*ref_seen == NULL) {
			*ref_seen = res[k].out;
			*ref_slen = res[k].out_len;
			res[k].out = NULL;
		} else if (!grade_outputs_agree(ex->checker, res[k].out,
		    res[k].out_len, *ref_seen, *ref_slen, why, sizeof(why))) {
			j->ref_broken = true;
			job_fail(j, "the reference's benchmark output varies: %s",
			    why);
			rc = CD_ERR_CONFLICT;
			goto out;
		}
	}
	for (int k = RUN_LN; k <= RUN_L1 && !j->self_bench; k++) {
		unsigned threads = k == RUN_LN ? t->threads : 1;

		if (res[k].verdict != SBX_OK) {
			snprintf(fail, fl, "the benchmark run with %u thread%s "
			    "ended in %s: %s", threads, threads > 1 ? "s" : "",
			    run_verdict(&res[k], msg, sizeof(msg)), msg);
			goto out;
		}
		if (!grade_outputs_agree(ex->checker, res[k].out,
		    res[k].out_len, *ref_seen, *ref_slen, why, sizeof(why))) {
			snprintf(fail, fl, "the benchmark's answer with %u "
			    "thread%s is wrong: %s", threads, threads > 1 ?
			    "s" : "", why);
			goto out;
		}
	}
 out:
	for (int k = 0; k < RUN_COUNT; k++)
		sbx_result_free(&res[k]);
	return rc;
}

static void
tell_round(struct job *j, unsigned i, unsigned of, const struct round *rd,
    unsigned kept, unsigned needed)
{
	char why[96];
	json_t *o;

	if (j->opt.round == NULL)
		return;
	snprintf(why, sizeof(why), "the host kept it waiting for a CPU "
	    "%.1f%% of the time", rd->wait_pct);
	o = json_pack("{s:i, s:i, s:b, s:s?, s:i, s:i, s:f}", "round", (int)i,
	    "of", (int)of, "kept", rd->clean, "why", rd->clean ? NULL : why,
	    "clean", (int)kept, "needed", (int)needed, "cpu_wait_pct",
	    round(rd->wait_pct * 10) / 10);
	if (o != NULL)
		j->opt.round(j->opt.arg, o);
	json_decref(o);
}

static const char *const run_name[RUN_COUNT] = {
	"the reference's serial", "the reference's parallel",
	"your parallel", "your serial",
};

/* Own speedup below this, or its parallel run keeping fewer CPUs busy
   than PY_ONE_CPU (the GIL), and short of full credit: explain why.  The
   CPUs are the steadier sign: two runs' times can differ by a third on a
   busy host, the CPUs a run kept busy hardly. */
#define PY_NO_GAIN	1.25
#define PY_ONE_CPU	1.3

/*
 * Python: a parallel program that ran no faster than its own serial run.
 * For CPU-bound work that is almost always threads under the GIL; the
 * numbers of this measurement show it (one CPU busy where the reference
 * kept N busy).  Sets "feedback" in sp.
 */
static void
py_gil_feedback(struct job *j, const double *f, double vs_self,
    double ref_par, double used, double ref_used, json_t *sp)
{
	unsigned threads = j->ex->bench.threads;
	char text[900];

	snprintf(text, sizeof(text), "With %u workers your program took %.0f "
	    "ms and with 1 worker %.0f ms: %.2fx, where the reference went "
	    "from %.0f ms in one process to %.0f ms with %u (%.2fx).  Your "
	    "%u-worker run kept %.1f CPUs busy, the reference's %.1f.%s",
	    threads, f[RUN_LN], f[RUN_L1], vs_self, f[RUN_REF1], f[RUN_REFN],
	    threads, ref_par, threads,
	    used, ref_used, used < PY_ONE_CPU ? "  In CPython, the global "
	    "interpreter lock (GIL) lets one thread at a time run Python "
	    "code, so threads (threading, ThreadPoolExecutor) cannot speed "
	    "up CPU-bound work: use processes (ProcessPoolExecutor, "
	    "multiprocessing.Pool), each with its own interpreter." : "  The "
	    "CPUs were busy but the work did not finish sooner: look for "
	    "work done twice, or for workers waiting on each other.");
	json_object_set_new(sp, "feedback", json_string(text));
}

/*
 * Measure prog against the reference.  On 0, *speedup is the result
 * object, *s the learner's parallel speedup (0 when not measured or the
 * benchmark failed) and *provisional whether it must be measured again.
 */
static int
bench_stage(struct job *j, const struct bin *prog, json_t **speedup,
    double *s, bool *provisional)
{
	const struct grade_exercise *ex = j->ex;
	unsigned reps = j->opt.bench_repetitions ? j->opt.bench_repetitions :
	    ex->repetitions, max = reps * BENCH_MAX_FACTOR, n = 0, kept = 0;
	unsigned least = 0;
	int short_kind = RUN_REF1;
	struct round *rd = NULL;
	struct figures g = { 0 }, best = { 0 };
	double *tmp = NULL, lo = 0, hi = 0, worst = 0, spread = 0;
	char *ref_seen = NULL, fail[512] = "", reason[256] = "";
	size_t ref_slen = 0;
	long long t0;
	json_t *samples = NULL;
	bool settled = false;
	int rc, acct = 0;

	*speedup = NULL;
	*s = 0;
	*provisional = false;
	if ((rc = ensure_ref_bin(j)) != 0)
		return rc;
	rd = calloc(max, sizeof(*rd));
	tmp = calloc(max, sizeof(*tmp));
	samples = json_array();
	if (rd == NULL || tmp == NULL || samples == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	t0 = clock_ms();
	while (n < max && !settled && clock_ms() - t0 < BENCH_BUDGET_MS) {
		if ((rc = bench_round(j, prog, n, &rd[n], &acct, &ref_seen,
		    &ref_slen, fail, sizeof(fail))) != 0)
			goto out;
		if (fail[0] != '\0')
			break;
		if (rd[n].clean) {
			double v = bench_round_speedup(&rd[n]);

			json_array_append_new(samples, json_real(round(v * 1000)
			    / 1000));
			lo = kept == 0 ? v : fmin(lo, v);
			hi = kept == 0 ? v : fmax(hi, v);
			kept++;
		}
		worst = fmax(worst, rd[n].wait_pct);
		n++;
		least = bench_fewest_clean(rd, n, &short_kind);
		tell_round(j, n, max, &rd[n - 1], least, reps);
		if (least < reps)
			continue;
		/* More rounds while they could move the grade (bench.c). */
		settled = j->self_bench || bench_settled(rd, n,
		    ex->target_speedup, ex->w_speedup, tmp, &g, &best, &spread);
	}
	bench_figures(rd, n, ex->target_speedup, false, tmp, &g);
	if (fail[0] != '\0' || least < reps) {
		/* Each kind's time stands; nothing is concluded from them. */
		struct figures times = { 0 };

		memcpy(times.f, g.f, sizeof(times.f));
		g = times;
	}
	if (fail[0] != '\0')
		;
	else if (least < reps) {
		*provisional = true;
		snprintf(reason, sizeof(reason), "the host was busy: in %u "
		    "rounds %s run was clean %u time%s, %u needed", n,
		    run_name[short_kind], least, least == 1 ? "" : "s", reps);
	} else if (g.ref_par < ex->target_speedup) {
		/* The host cannot show this exercise's parallelism now
		   (fewer free CPUs than threads, say): a learner is not
		   judged against that. */
		*provisional = true;
		snprintf(reason, sizeof(reason), "the reference itself "
		    "reached only %.2fx here, below the exercise's floor %.2fx",
		    g.ref_par, ex->target_speedup);
	} else if (!settled && !j->rebench) {
		/* Measured again later (a rebench); what that measures
		   stands, settled or not: a program whose own runs swing
		   would otherwise never be graded. */
		*provisional = true;
		snprintf(reason, sizeof(reason), "the host's speed varied "
		    "from run to run: in %u rounds your parallel run took "
		    "%.0f ms at best and %.0f ms as measured, %.1f points "
		    "apart", n, best.f[RUN_LN], g.f[RUN_LN], spread);
	}
	*s = *provisional ? 0 : g.med;
	*speedup = json_pack("{s:i, s:b, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
	    "s:f, s:f, s:f, s:f, s:O, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:s, "
	    "s:b}",
	    "threads", (int)ex->bench.threads,
	    "measured", fail[0] == '\0' && !*provisional,
	    "median", round(g.med * 1000) / 1000,
	    "relative", round(g.rel * 1000) / 1000,
	    "learner_cpus", round(g.cpus_ln * 100) / 100,
	    "reference_cpus", round(g.cpus_rn * 100) / 100,
	    "vs_reference", g.f[RUN_LN] > 0 ?
	    round(g.f[RUN_REF1] / g.f[RUN_LN] * 1000) / 1000 : 0.0,
	    "vs_self", g.f[RUN_LN] > 0 ?
	    round(g.f[RUN_L1] / g.f[RUN_LN] * 1000) / 1000 : 0.0,
	    "reference", round(g.ref_par * 1000) / 1000,
	    "target", round(g.goal * 1000) / 1000,
	    "floor", ex->target_speedup,
	    "min", round(lo * 1000) / 1000,
	    "max", round(hi * 1000) / 1000,
	    "samples", samples,
	    "rounds", (int)n,
	    "discarded", (int)(n - kept),
	    "baseline_ms", g.f[RUN_REF1],
	    "reference_parallel_ms", g.f[RUN_REFN],
	    "learner_ms", g.f[RUN_LN],
	    "learner_serial_ms", g.f[RUN_L1],
	    "cpu_wait_pct", round(worst * 10) / 10,
	    "accounting", accounting_name(acct),
	    "lane", j->lane != -1);
	if (*speedup != NULL && ex->language == GRADE_LANG_PYTHON &&
	    fail[0] == '\0' && !*provisional && g.f[RUN_LN] > 0 &&
	    (g.f[RUN_L1] / g.f[RUN_LN] < PY_NO_GAIN || g.cpus_ln < PY_ONE_CPU) &&
	    g.med < g.ref_par * CREDIT_SHARE)
		py_gil_feedback(j, g.f, g.f[RUN_L1] / g.f[RUN_LN],
		    g.ref_par, g.cpus_ln, g.cpus_rn, *speedup);
	if (*speedup != NULL && fail[0] == '\0' && least >= reps)
		json_object_set_new(*speedup, "settled", json_boolean(settled));
	if (*speedup == NULL)
		rc = CD_ERR_NOMEM;
	else if (fail[0] != '\0')
		json_object_set_new(*speedup, "message", json_string(fail));
	else if (reason[0] != '\0')
		json_object_set_new(*speedup, "reason", json_string(reason));
 out:
	json_decref(samples);
	free(ref_seen);
	free(rd);
	free(tmp);
	return rc;
}

/* Points for a measured speedup (bench_points()). */
static double
speedup_points(const struct grade_exercise *ex, const json_t *sp)
{
	if (!json_is_true(json_object_get(sp, "measured")))
		return 0;
	return bench_points(ex->w_speedup, json_number_value(json_object_get(sp,
	    "median")), json_number_value(json_object_get(sp, "target")));
}

/* A seed as a decimal string: JSON numbers lose 64-bit integers. */
static void
set_seed(json_t *r, const char *key, uint64_t seed)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)seed);
	json_object_set_new(r, key, json_string(s));
}

static json_t *
internal_result(struct job *j)
{
	return json_pack("{s:s, s:b, s:f, s:{s:f, s:f}, s:s, s:n, s:[], s:n, "
	    "s:n}", "verdict", "internal_error", "provisional", 0, "score", 0.0,
	    "score_breakdown",
	    "correctness", 0.0, "speedup", 0.0, "message",
	    j->why[0] ? j->why : "grading failed", "compile", "tests",
	    "race", "speedup");
}

/*
 * Judge src.  On 0 *result is set; a negative code is an internal
 * failure with j->why saying what (the caller renders it).
 */
static int
judge(struct job *j, const char *src, size_t len, enum judge_mode mode,
    json_t **result)
{
	const struct grade_exercise *ex = j->ex;
	struct bin prog = { 0 };
	struct sbx_limits lim;
	struct sbx_result res;
	json_t *r, *tests, *race, *speedup = NULL;
	const char *verdict = NULL;
	char why[512] = "", msg[2048], *log = NULL, *race_log = NULL;
	char race_fail[2560] = "";
	const char *race_v = NULL, *skip_why = "reached the time limit";
	double passed_w = 0, total_w = 0, s = 0, c_pts, s_pts = 0;
	bool ok, skip = false, detected = false, prov = false;
	int rc;

	*result = NULL;
	r = json_object();
	tests = json_array();
	race = json_pack("{s:b, s:b, s:n}", "checked", 0, "detected", 0,
	    "report");
	if (r == NULL || tests == NULL || race == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}

	/* Members in reading order: the verdict first. */
	json_object_set_new(r, "verdict", json_null());
	json_object_set_new(r, "provisional", json_false());
	json_object_set_new(r, "score", json_null());
	json_object_set_new(r, "score_breakdown", json_null());

	progress(j, "compiling");
	if (len > MAX_SOURCE) {
		snprintf(why, sizeof(why), "the source is larger than %u KiB",
		    MAX_SOURCE >> 10);
		rc = 0;
	} else if (ex->language == GRADE_LANG_C &&
	    (rc = screen(j, src, len, why, sizeof(why))) != 0)
		goto out;	/* Python: compile() screens */
	if (why[0] != '\0') {
		json_object_set_new(r, "compile", json_pack("{s:b, s:s, s:b}",
		    "ok", 0, "log", why, "rejected", 1));
		verdict = "compile_error";
		goto score;
	}
	if ((rc = compile(j, src, len, false, &prog, &ok, &log)) != 0)
		goto out;
	json_object_set_new(r, "compile", json_pack("{s:b, s:s}", "ok", ok,
	    "log", log));
	if (!ok) {
		verdict = "compile_error";
		goto score;
	}

	if ((rc = ensure_ref_out(j)) != 0)
		goto out;
	progress(j, "testing");
	for (size_t i = 0; i < ex->ntests; i++) {
		const struct grade_test *t = &ex->tests[i];
		const char *v = "skipped";
		json_t *want = json_object_get(j->ref_out, t->name);
		bool pass = false;

		total_w += t->weight;
		memset(&res, 0, sizeof(res));
		snprintf(msg, sizeof(msg), "not run: an earlier test %s",
		    skip_why);
		if (!skip) {
			limits_run(ex, t, false, &lim);
			if ((rc = run_prog(j, &prog, t, t->threads, &lim,
			    LANE_SHARED, NULL, false, &res)) != 0)
				goto out;
			v = verdict_of(j, &res, msg, sizeof(msg));
			/* Stacks help; their absence never fails a grading. */
			if (res.verdict == SBX_TIME_LIMIT)
				(void)deadlock_stacks(j, &prog, src, len, &res,
				    msg, sizeof(msg));
			if (res.verdict == SBX_OK &&
			    !grade_outputs_agree(ex->checker, res.out,
			    res.out_len, json_string_value(want),
			    json_string_length(want), msg, sizeof(msg)))
				v = "wrong_answer";
			pass = strcmp(v, "ok") == 0;
			if (!pass && res.pids_limit)
				snprintf(msg + strlen(msg), sizeof(msg) -
				    strlen(msg), "; it tried to run more "
				    "threads than the test's %u", t->threads);
			if (!pass && res.err_len > 0 &&
			    res.verdict == SBX_RUNTIME_ERROR &&
			    strcmp(v, "runtime_error") == 0 &&
			    ex->language == GRADE_LANG_C) {
				char *e = grade_trim(res.err, res.err_len,
				    STDERR_MAX);

				if (e != NULL)
					snprintf(msg + strlen(msg), sizeof(msg) -
					    strlen(msg), "; stderr: %s", e);
				free(e);
			}
			skip = res.verdict == SBX_TIME_LIMIT ||
			    strcmp(v, "deadlock") == 0 ||
			    strcmp(v, "time_limit") == 0;
			/* Python: a loop blocked once is blocked in every
			   test; each would cost its full blocked time. */
			if (strcmp(v, "blocking_call") == 0) {
				skip = true;
				skip_why = "blocked the event loop";
			}
		}
		if (pass)
			passed_w += t->weight;
		else if (verdict == NULL)
			verdict = v;
		json_array_append_new(tests, json_pack("{s:s, s:i, s:b, s:s, "
		    "s:i, s:i, s:s}", "name", t->name, "threads",
		    (int)t->threads, "passed", pass, "verdict", v, "wall_ms",
		    (int)res.wall_ms, "cpu_ms", (int)res.cpu_ms, "message",
		    msg));
		sbx_result_free(&res);
	}

	/* A deadlock or time limit would cost a wall limit per race test. */
	if (mode == JUDGE_FULL && ex->nraces > 0 && !skip) {
		if ((rc = ex->language == GRADE_LANG_PYTHON ?
		    py_race_stage(j, &prog, race, &detected, &race_v,
		    race_fail, sizeof(race_fail)) :
		    race_stage(j, &prog, src, len, race, &detected,
		    &race_v, race_fail, sizeof(race_fail), &race_log)) != 0)
			goto out;
		if (race_v != NULL) {
			/* Code that ends, hangs or answers otherwise when the
			   race checker watches proves nothing about races. */
			json_object_set_new(race, "message",
			    json_string(race_fail));
			if (verdict == NULL)
				verdict = race_v;
			passed_w = 0;
		}
		if (race_log != NULL) {
			/* Refusing to build under the race checker is no
			 * way around it. */
			json_object_set_new(r, "compile", json_pack(
			    "{s:b, s:s}", "ok", 0, "log", race_log));
			verdict = "compile_error";
			passed_w = 0;
		}
	}
	if (detected && verdict == NULL)
		verdict = "data_race";
	if (verdict == NULL)
		verdict = "accepted";

	if (mode == JUDGE_FULL && strcmp(verdict, "accepted") == 0 &&
	    ex->has_bench) {
		progress(j, "benchmarking");
		if ((rc = bench_stage(j, &prog, &speedup, &s, &prov)) != 0)
			goto out;
		s_pts = speedup_points(ex, speedup);
	}

 score:
	c_pts = detected || total_w == 0 ? 0 :
	    ex->w_correctness * passed_w / total_w;
	json_object_set_new(r, "verdict", json_string(verdict));
	json_object_set_new(r, "provisional", json_boolean(prov));
	json_object_set_new(r, "score", json_real(round2(c_pts + s_pts)));
	/* The inputs can be made again from it, for a regrade. */
	set_seed(r, "seed", j->seed);
	json_object_set_new(r, "score_breakdown", json_pack("{s:f, s:f}",
	    "correctness", round2(c_pts), "speedup", round2(s_pts)));
	json_object_set_new(r, "tests", tests);
	json_object_set_new(r, "race", race);
	json_object_set_new(r, "speedup", speedup ? speedup : json_null());
	tests = race = speedup = NULL;
	*result = r;
	r = NULL;
 out:
	json_decref(r);
	json_decref(tests);
	json_decref(race);
	json_decref(speedup);
	bin_free(&prog);
	free(log);
	free(race_log);
	return rc;
}

int
grade_submission(const struct grade_exercise *ex, const char *source,
    size_t len, const struct grade_options *opt, json_t **result)
{
	struct job j;
	int rc;

	*result = NULL;
	if (ex == NULL || source == NULL)
		return CD_ERR_INVALID;
	if ((rc = job_init(&j, ex, opt)) != 0)
		job_fail(&j, "cannot make a scratch directory");
	else
		rc = judge(&j, source, len, JUDGE_FULL, result);
	if (rc != 0 && rc != CD_ERR_NOMEM) {
		*result = internal_result(&j);
		rc = *result ? 0 : CD_ERR_NOMEM;
	}
	job_done(&j);
	return rc;
}

/* The first failing test of a judged result, as "name (verdict)". */
static void
first_failure(json_t *r, char *buf, size_t len)
{
	json_t *t;
	size_t i;

	snprintf(buf, len, "%s", json_string_value(json_object_get(r,
	    "verdict")));
	json_array_foreach(json_object_get(r, "tests"), i, t)
		if (!json_is_true(json_object_get(t, "passed"))) {
			snprintf(buf, len, "test %s: %s", json_string_value(
			    json_object_get(t, "name")), json_string_value(
			    json_object_get(t, "verdict")));
			return;
		}
}

/* The reference must print the same thing with 1 thread as with N. */
static int
verify_thread_counts(struct job *j, char *reason, size_t rl)
{
	const struct grade_exercise *ex = j->ex;
	struct sbx_limits lim;
	struct sbx_result res;
	json_t *want;
	char why[256], msg[256];
	int rc;

	for (size_t i = 0; i < ex->ntests && reason[0] == '\0'; i++) {
		const struct grade_test *t = &ex->tests[i];

		if (t->threads == 1)
			continue;
		want = json_object_get(j->ref_out, t->name);
		limits_run(ex, t, false, &lim);
		if ((rc = run_prog(j, &j->ref, t, 1, &lim, LANE_SHARED, NULL,
		    false, &res)) != 0)
			return rc;
		if (res.verdict != SBX_OK)
			snprintf(reason, rl, "the reference fails test %s with "
			    "1 thread: %s (%s)", t->name, run_verdict(&res, msg,
			    sizeof(msg)), msg);
		else if (!grade_outputs_agree(ex->checker, res.out, res.out_len,
		    json_string_value(want), json_string_length(want), why,
		    sizeof(why)))
			snprintf(reason, rl, "the reference's output on test %s "
			    "with %u threads differs from its output with 1 "
			    "thread: %s", t->name, t->threads, why);
		sbx_result_free(&res);
	}
	return 0;
}

int
grade_verify(const struct grade_exercise *ex, const struct grade_options *opt,
    json_t **result)
{
	struct job j;
	json_t *report = NULL, *starter = NULL, *sp;
	char reason[768] = "", buf[256];
	bool unmeasured = false;
	int rc;

	*result = NULL;
	if (ex == NULL)
		return CD_ERR_INVALID;
	if ((rc = job_init(&j, ex, opt)) != 0) {
		job_fail(&j, "cannot make a scratch directory");
		goto out;
	}
	/* Cheapest first: the reference's own outputs and consistency. */
	if ((rc = ensure_ref_out(&j)) != 0 || (rc = ensure_ref_bin(&j)) != 0 ||
	    (rc = verify_thread_counts(&j, reason, sizeof(reason))) != 0)
		goto out;
	if (reason[0] == '\0' && ex->file[GF_STARTER] != NULL) {
		if ((rc = judge(&j, ex->file[GF_STARTER],
		    ex->file_len[GF_STARTER], JUDGE_TESTS_ONLY, &starter)) != 0)
			goto out;
		const char *sv = json_string_value(json_object_get(starter,
		    "verdict"));

		/* Python: tests check the concurrency itself, which a
		   starter leaves to the learner; it must only pass the
		   screen and run. */
		if (ex->language == GRADE_LANG_PYTHON ?
		    strcmp(sv, "compile_error") == 0 ||
		    strcmp(sv, "security_violation") == 0 :
		    strcmp(sv, "accepted") != 0) {
			first_failure(starter, buf, sizeof(buf));
			snprintf(reason, sizeof(reason), "the starter disagrees "
			    "with the reference (%s)", buf);
		}
	}
	if (reason[0] == '\0') {
		j.self_bench = true;
		if ((rc = judge(&j, ex->file[GF_REFERENCE],
		    ex->file_len[GF_REFERENCE], JUDGE_FULL, &report)) != 0)
			goto out;
		sp = json_object_get(report, "speedup");
		if (strcmp(json_string_value(json_object_get(report,
		    "verdict")), "accepted") != 0) {
			first_failure(report, buf, sizeof(buf));
			snprintf(reason, sizeof(reason), "the reference graded "
			    "as a submission is not accepted (%s)", buf);
		} else if (!ex->has_bench)
			;	/* Python I/O exercises: nothing to measure */
		else if (json_object_get(sp, "message") != NULL)
			snprintf(reason, sizeof(reason), "the reference's "
			    "benchmark failed: %s", json_string_value(
			    json_object_get(sp, "message")));
		else if (!json_is_true(json_object_get(sp, "measured")) &&
		    json_number_value(json_object_get(sp, "reference")) == 0) {
			/* No clean samples: nothing known, nothing wrong. */
			unmeasured = true;
			snprintf(reason, sizeof(reason), "waiting for a quiet "
			    "window to measure the reference's speedup (%s)",
			    json_string_value(json_object_get(sp, "reason")));
		} else if (json_number_value(json_object_get(sp, "reference")) <
		    ex->target_speedup && json_number_value(json_object_get(sp,
		    "reference_cpus")) >= ex->target_speedup) {
			/*
			 * Its parallel runs kept the CPUs busy, yet the work
			 * did not finish sooner: on a loaded host a virtual
			 * CPU can run slow with nothing accounted.  Measure
			 * again later; a quiet host decides.
			 */
			unmeasured = true;
			snprintf(reason, sizeof(reason), "waiting for a quiet "
			    "window to measure the reference's speedup (it "
			    "kept %.1f CPUs busy but ran only %.2fx faster, "
			    "below the floor %.2f)", json_number_value(
			    json_object_get(sp, "reference_cpus")),
			    json_number_value(json_object_get(sp,
			    "reference")), ex->target_speedup);
		} else if (json_number_value(json_object_get(sp, "reference")) <
		    ex->target_speedup)
			/* On clean samples, and a CPU or so kept busy: the
			   reference is not parallel, a real fault. */
			snprintf(reason, sizeof(reason), "the reference's "
			    "speedup %.2f on clean samples is below the "
			    "exercise's floor %.2f", json_number_value(
			    json_object_get(sp, "reference")),
			    ex->target_speedup);
	}
 out:
	if (rc == CD_ERR_NOMEM)
		goto done;
	if (rc != 0 && !j.ref_broken) {
		/* Our failure, not the exercise's: no decision about it. */
		json_decref(report);
		report = internal_result(&j);
		snprintf(reason, sizeof(reason), "%s", j.why);
		*result = json_pack("{s:s, s:s, s:o}", "status", "error",
		    "reason", reason, "report", report);
		report = NULL;
	} else {
		if (rc != 0)
			snprintf(reason, sizeof(reason), "%s", j.why);
		*result = json_pack("{s:s, s:s?, s:s, s:O?, s:O?}", "status",
		    unmeasured ? "unmeasured" : reason[0] ? "rejected" :
		    "ready", "reason",
		    reason[0] ? reason : NULL, "exercise", ex->hash, "report",
		    report, "starter", starter);
	}
	rc = *result ? 0 : CD_ERR_NOMEM;
 done:
	json_decref(report);
	json_decref(starter);
	job_done(&j);
	return rc;
}

int
grade_rebench(const struct grade_exercise *ex, const char *source, size_t len,
    const json_t *previous, const struct grade_options *opt, json_t **result)
{
	struct job j;
	struct bin prog = { 0 };
	json_t *r = NULL, *speedup = NULL;
	char *log = NULL;
	double s = 0, s_pts, c_pts;
	bool ok, prov;
	int rc;

	*result = NULL;
	if (ex == NULL || source == NULL || previous == NULL ||
	    !json_is_string(json_object_get(previous, "verdict")) ||
	    strcmp(json_string_value(json_object_get(previous, "verdict")),
	    "accepted") != 0)
		return CD_ERR_INVALID;
	if ((rc = job_init(&j, ex, opt)) != 0) {
		job_fail(&j, "cannot make a scratch directory");
		goto out;
	}
	progress(&j, "compiling");
	if ((rc = compile(&j, source, len, false, &prog, &ok, &log)) != 0)
		goto out;
	if (!ok) {
		job_fail(&j, "an accepted source no longer compiles");
		rc = CD_ERR_INTERNAL;
		goto out;
	}
	progress(&j, "benchmarking");
	j.rebench = true;
	if ((rc = bench_stage(&j, &prog, &speedup, &s, &prov)) != 0)
		goto out;
	if ((r = json_deep_copy(previous)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	s_pts = speedup_points(ex, speedup);
	c_pts = json_number_value(json_object_get(json_object_get(previous,
	    "score_breakdown"), "correctness"));
	json_object_set_new(r, "score", json_real(round2(c_pts + s_pts)));
	json_object_set_new(r, "score_breakdown", json_pack("{s:f, s:f}",
	    "correctness", round2(c_pts), "speedup", round2(s_pts)));
	json_object_set_new(r, "speedup", speedup);
	json_object_set_new(r, "provisional", json_boolean(prov));
	speedup = NULL;
	/* The benchmark's inputs were drawn for this measurement. */
	set_seed(r, "benchmark_seed", j.seed);
	*result = r;
	r = NULL;
 out:
	if (rc != 0 && rc != CD_ERR_NOMEM) {
		*result = internal_result(&j);
		rc = *result ? 0 : CD_ERR_NOMEM;
	}
	json_decref(r);
	json_decref(speedup);
	bin_free(&prog);
	free(log);
	job_done(&j);
	return rc;
}
