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
	GF_HEADER,	/* exercise.h */
	GF_HARNESS,	/* harness.c */
	GF_REFERENCE,	/* reference.c */
	GF_STARTER,	/* starter.c */
	GF_COUNT
};
extern const char *const grade_file_names[GF_COUNT];

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

/* Below this measured speedup, no speedup credit (see grade.c). */
#define GRADE_SPEEDUP_FLOOR	1.1

#endif
