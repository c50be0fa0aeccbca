/*
 * grade-int.h - internals of the grader shared by its files: the loaded
 * exercise, the output checkers and the source screen.
 */
#ifndef COHORTD_GRADE_INT_H
#define COHORTD_GRADE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grade.h"

/* The files of an exercise, by slot; starter.c is optional. */
enum grade_file {
	GF_HEADER,	/* exercise.h; Python exercises have none */
	GF_HARNESS,	/* harness.c or harness.py */
	GF_REFERENCE,	/* reference.c or reference.py */
	GF_STARTER,	/* starter.c or starter.py */
	GF_COUNT
};
extern const char *const grade_file_names[GF_COUNT];

/* The language learners write; it decides the files and the pipeline. */
enum grade_language {
	GRADE_LANG_C,
	GRADE_LANG_PYTHON,	/* python.c */
};
extern const char *const grade_file_names_python[GF_COUNT];

enum grade_checker {
	GRADE_CHECK_EXACT,
	GRADE_CHECK_NUMERIC,
	GRADE_CHECK_SORTED_LINES,
};

struct grade_test {
	char	*name;
	char	**args;		/* NULL-terminated */
	size_t	 nargs;
	unsigned threads;
	double	 weight;
};

#define GRADE_MAX_THREADS	64	/* what every harness accepts */
#define GRADE_SEED_ARG		"{seed}"	/* an arg: this grading's seed */
#define GRADE_MAX_LDLIBS	8

struct grade_exercise {
	char	*slug;
	char	*file[GF_COUNT];	/* NUL-terminated; starter may be NULL */
	size_t	 file_len[GF_COUNT];
	struct grade_test *tests, *races;
	size_t	 ntests, nraces;
	struct grade_test bench;	/* weight unused */
	double	 target_speedup;
	unsigned repetitions;
	bool	 work_mark;	/* the harness marks its setup's end on fd 3 */
	uint32_t wall_ms, cpu_ms, memory_mb;
	uint32_t extra_tasks;	/* threads the harness runs besides the test's */
	enum grade_checker checker;
	double	 w_correctness, w_speedup;
	char	*ldlibs[GRADE_MAX_LDLIBS + 1];	/* "-lm" and the like */
	char	 hash[65];
	enum grade_language language;
	bool	 has_bench;	/* false: no speedup part (Python I/O exercises) */
	char	*imports;	/* Python: modules allowed beyond the default set,
				   comma-separated; "" for none */
};

/*
 * Compare a program's output with the reference's under checker c.
 * Returns true when they agree; otherwise why holds a short reason that
 * never quotes the reference's output.
 */
bool	grade_outputs_agree(enum grade_checker c, const char *got,
	    size_t glen, const char *want, size_t wlen, char *why, size_t wl);

/*
 * Scan a preprocessed translation unit (gcc -E -P) for sanitizer hooks and
 * attributes.  Returns true, with the offending word in why, if it must be
 * refused.
 */
bool	grade_screen_source(const char *pp, size_t len, char *why, size_t wl);

/* A copy of s shortened to about max bytes with a note; caller frees. */
char	*grade_trim(const char *s, size_t len, size_t max);

/* ---- Python exercises (python.c) ------------------------------------ */

#define GRADE_PYTHON	"/usr/bin/python3"
#define GRADE_PY_EXIT_TAMPER	68	/* runner.py: harness objects changed */
#define GRADE_PY_EXIT_BLOCKING	69	/* runner.py: event loop blocked */
#define GRADE_PY_EXIT_FAIL	70	/* runner.py: the harness's check failed */
#define GRADE_PY_RACE_REPS	3	/* runs of each race test, fresh inputs */
/* Tasks a Python run has besides the test's threads: the stack dumper's
   watchdog, the event-loop watcher, a pool's manager and feeder threads. */
#define GRADE_PY_TASKS		8

/* The trusted runner and the source screen, as files for a box. */
const char *grade_py_file(const char *name, size_t *len);

/* The modules a solution may import, comma-separated; malloc'd, or NULL. */
char	*grade_py_allowed(const struct grade_exercise *ex);
/*
 * argv of a Python run in a box holding runner.py, harness.py and
 * solution.py: mode "test", "race" or "bench", the run's wall limit, the
 * test's args (already substituted) and "--threads N".  NULL-terminated;
 * the caller frees the array and argv[6], argv[7] (made here).
 */
char	**grade_py_argv(const struct grade_exercise *ex, const char *mode,
	    uint32_t wall_ms, char *const *args, size_t nargs,
	    const char *threads);

struct sbx_result;
/*
 * The verdict of a Python run that did not end well, refining the
 * sandbox's: deadlock or time_limit with the threads' stacks (from the
 * runner's dump before the wall limit), blocking_call, a harness check's
 * message as wrong_answer, security_violation for a changed harness.
 * Returns NULL when the run ended well or nothing Python-specific applies.
 */
const char *grade_py_verdict(const struct sbx_result *r, char *msg,
	    size_t ml);

/* Below this measured speedup, no speedup credit (see grade.c). */
#define GRADE_SPEEDUP_FLOOR	1.1

/* ---- The benchmark's arithmetic (bench.c) --------------------------- */

#define BENCH_TWIN_PCT	10	/* a fastest run needs a twin this close */
#define CREDIT_SHARE	0.80	/* full credit at this share of the ref's */
#define BENCH_SETTLE_PCT 10	/* of the speedup's points: bench_settled() */

/* The kinds of timed run in a round. */
enum { RUN_REF1, RUN_REFN, RUN_LN, RUN_L1, RUN_COUNT };

struct round {
	uint32_t ms[RUN_COUNT];
	double	 cpus[RUN_COUNT];	/* CPUs the timed work kept busy */
	double	 wait_pct;	/* the worst run's CPU wait, % of its time */
	bool	 ok[RUN_COUNT];	/* the run was clean */
	bool	 clean;		/* all four were */
};

/* What a set of rounds says (bench_figures()); zero where it says nothing. */
struct figures {
	double	 f[RUN_COUNT];	/* each kind's time, ms */
	double	 own;		/* the learner's speedup, before the cap */
	double	 med;		/* and capped by the CPUs its runs kept busy */
	double	 ref_par;	/* the reference's, capped likewise */
	double	 rel;		/* own over the reference's */
	double	 cpus_ln, cpus_rn;	/* CPUs the parallel runs kept busy */
	double	 goal;		/* full credit from this speedup */
};

/* Kind k's time over n rounds; tmp has room for n.  0: no clean run. */
double	bench_fastest(const struct round *rd, unsigned n, int k, double *tmp);
/* The kind of run with the fewest clean runs, and how many it had. */
unsigned bench_fewest_clean(const struct round *rd, unsigned n, int *kind);
/* A round's learner speedup: the lower of its two ratios. */
double	bench_round_speedup(const struct round *r);
/*
 * The figures of n rounds against the exercise's floor; lone: the
 * learner's two kinds timed by their fastest clean run, twin or not (the
 * host at its best for each).  tmp has room for n.
 */
void	bench_figures(const struct round *rd, unsigned n, double floor,
	    bool lone, double *tmp, struct figures *g);
/*
 * Points for speedup s out of weight: none below GRADE_SPEEDUP_FLOOR
 * (noise on a serial program), all at goal, linear between 1 and that.
 */
double	bench_points(double weight, double s, double goal);
/*
 * Whether more rounds could move the grade: *g the figures, *best the
 * lone ones, *spread the points between them.  Settled when *spread is
 * within BENCH_SETTLE_PCT of weight.
 */
bool	bench_settled(const struct round *rd, unsigned n, double floor,
	    double weight, double *tmp, struct figures *g,
	    struct figures *best, double *spread);

#endif
