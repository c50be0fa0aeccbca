/*
 * grade.h - the grading pipeline: judge one learner source for one
 * exercise, every untrusted step inside the sandbox (sandbox/sandbox.h).
 *
 * The caller must be root and must not reap children with waitpid(-1)
 * while a grade_ function runs, as for sbx_run().
 */
#ifndef COHORTD_GRADE_H
#define COHORTD_GRADE_H

#include <stddef.h>
#include <jansson.h>

/* An exercise: its files and its validated description.  Immutable. */
struct grade_exercise;

/*
 * Load exercise.json, exercise.h, harness.c and reference.c (starter.c if
 * present) from dir.  On 0, *out is the caller's, freed with
 * grade_exercise_free(); otherwise *out is NULL and err (if non-NULL)
 * says why: CD_ERR_NOT_FOUND, CD_ERR_INVALID, CD_ERR_NOMEM.
 */
int	grade_exercise_load_dir(const char *dir, struct grade_exercise **out,
	    char *err, size_t errlen);

/*
 * The same from memory: desc is the parsed exercise.json, files an object
 * of file name -> text ({"exercise.h": "...", ...}).  Both stay the
 * caller's; what is kept is copied.
 */
int	grade_exercise_load(json_t *desc, json_t *files,
	    struct grade_exercise **out, char *err, size_t errlen);
void	grade_exercise_free(struct grade_exercise *ex);

/* The exercise's version: hex hash of its files and description. */
const char *grade_exercise_hash(const struct grade_exercise *ex);

struct grade_options {
	const char *workdir;	/* scratch directories go here; NULL: /tmp */
	const char *lane_path;	/* benchmark lane lock; NULL: GRADE_LANE_PATH */
	const char *bench_cpus;	/* cpu list of benchmark runs; NULL: any */
	const char *ref_cache_dir; /* reference outputs; NULL: no cache */
	unsigned bench_repetitions; /* 0: the exercise's own */
	/* Told "compiling", "testing", "benchmarking" as the run moves on. */
	void	(*progress)(void *arg, const char *status);
	void	*arg;
};

#define GRADE_LANE_PATH	"/run/cohort-grade.lane"

/*
 * Judge source (len bytes, need not be NUL-terminated) for ex.  On 0,
 * *result is a new JSON object (the caller's) holding a verdict, which may
 * be "internal_error" when the sandbox failed.  A negative code
 * (CD_ERR_NOMEM, CD_ERR_INVALID for a NULL argument) means no verdict and
 * *result is NULL.  opt may be NULL.
 */
int	grade_submission(const struct grade_exercise *ex, const char *source,
	    size_t len, const struct grade_options *opt, json_t **result);

/*
 * Decide whether ex may be published: its reference, graded as a
 * submission, passes every test, has no data race and reaches the target
 * speedup; prints the same on every test whatever the thread count; and
 * the starter (if any) passes every test against it.  *result is
 * {"status": "ready"|"rejected", "reason": "...", "exercise": HASH,
 * "report": {the reference's grading}, "starter": {its tests}}, or status
 * "error" when the sandbox failed and nothing was decided.  Returns as
 * grade_submission().
 */
int	grade_verify(const struct grade_exercise *ex,
	    const struct grade_options *opt, json_t **result);

#endif
