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
#include <stdint.h>
#include <jansson.h>

/* An exercise: its files and its validated description.  Immutable. */
struct grade_exercise;

/*
 * Load exercise.json, exercise.h, harness.c and reference.c (starter.c if
 * present) from dir; for a Python exercise ("language": "python", or
 * harness.py and no harness.c), harness.py and reference.py (starter.py
 * if present), and the source graded is a solution.py.  On 0, *out is the caller's, freed with
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
	uint64_t seed;		/* hidden inputs; 0: drawn per grading */
	/* Told "compiling", "testing", "benchmarking" as the run moves on. */
	void	(*progress)(void *arg, const char *status);
	/*
	 * Told of each benchmark round as it ends: {"round": i (from 1),
	 * "of": the most rounds this measurement may take, "kept": bool,
	 * "why": null or why the round was discarded, "clean": rounds kept
	 * so far, "needed": rounds needed}.  The object is the callee's to
	 * read only during the call.
	 */
	void	(*round)(void *arg, const json_t *round);
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
 * Every result of grade_submission() and grade_rebench() carries
 * "provisional": true when the submission was accepted but its speedup
 * could not be measured on clean samples (docs/GRADING.md): the score then
 * holds correctness only, and grade_rebench() is to be called again later.
 * A provisional result is never wrong about what it does state.
 */

/*
 * Measure the speedup of an accepted submission again and merge it into a
 * copy of its previous result (a provisional one from grade_submission()).
 * On 0, *result is the new result: the same verdict, tests and race report,
 * the new "speedup", "score_breakdown" and "score", and "provisional" false
 * unless the host is still too busy to measure.  Returns as
 * grade_submission(); CD_ERR_INVALID if previous is not an accepted
 * result.
 */
int	grade_rebench(const struct grade_exercise *ex, const char *source,
	    size_t len, const json_t *previous,
	    const struct grade_options *opt, json_t **result);

/*
 * Decide whether ex may be published: its reference, graded as a
 * submission, passes every test, has no data race and, on clean samples,
 * reaches the exercise's floor speedup; prints the same on every test
 * whatever the thread count; and the starter (if any) passes every test
 * against it.  *result is {"status": "ready"|"rejected", "reason": "...",
 * "exercise": HASH, "report": {the reference's grading}, "starter": {its
 * tests}}; status "unmeasured" when everything but the speedup holds and
 * the host gave no clean samples (try again later: nothing is wrong with
 * the exercise); or status "error" when the sandbox failed and nothing was
 * decided.  Returns as grade_submission().
 */
int	grade_verify(const struct grade_exercise *ex,
	    const struct grade_options *opt, json_t **result);

#endif
