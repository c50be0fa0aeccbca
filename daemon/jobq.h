/*
 * jobq.h - the grading queue (table grade_jobs), the one home of its SQL:
 * what the API enqueues, what graders claim, renew, finish, retry and
 * defer; and the claim-or-wait loop that graders and report runners
 * share.  See jobq.c for the theory.
 *
 * Every function but jobq_serve() runs in the caller's transaction, which
 * the caller opens (in the job's tenant, or in none for a claim) and
 * commits: so a job is written in the same transaction as what it
 * grades, and a result in the same one as its job's completion.
 * Functions return 0 (or a count, as said) on success, a negative
 * CD_ERR_* code (err.h) on failure.
 */
#ifndef COHORTD_JOBQ_H
#define COHORTD_JOBQ_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* A claimed job: what to grade, and the lease that fences its result. */
struct jobq_job {
	char	 tenant[40];
	char	 id[40];
	char	 kind[16];	/* "submission", "verify" or "rebench" */
	char	 submission[40];	/* submission and rebench jobs */
	char	 exercise[40];	/* verify jobs: the exercise version */
	char	 version[16];
	char	 token[40];	/* the lease */
};

void	jobq_init(void);

/* ---- the API's side: in the caller's tenant ---------------------------- */

/* Grade a submission (its first grading). */
int	jobq_add_grading(struct db_conn *c, const char *submission);
/* Verify an exercise version. */
int	jobq_add_verify(struct db_conn *c, const char *exercise,
	    const char *version);
/* Jobs learners wait for, queued or running (re-measurements are not). */
int	jobq_depth(struct db_conn *c, long *depth);
/*
 * The pending verification of an exercise version, locked: 1 and its id
 * (and whether a grader holds it now), 0 none.
 */
int	jobq_verify_pending(struct db_conn *c, const char *exercise,
	    const char *version, char *id, size_t idlen, bool *held);
/* Run a pending job at once, with its tries anew. */
int	jobq_restart(struct db_conn *c, const char *id);
/*
 * Regrade: jobs for the submissions in ids (a uuid[] literal), but for
 * those with one queued or running already; a pending re-measurement of
 * any of them ends.  *queued: the submission ids queued.
 */
int	jobq_regrade(struct db_conn *c, const char *ids, PGresult **queued);

/* ---- the grader's side -------------------------------------------------- */

/* Claim the next runnable job, leased for lease_s: 1 claimed, 0 none. */
int	jobq_claim(struct db_conn *c, const char *worker, int lease_s,
	    struct jobq_job *job);
/* Extend the lease: 1 still ours, 0 lost. */
int	jobq_renew(struct db_conn *c, const struct jobq_job *job, int lease_s);
/* Mark it done: 1 it was ours (write the result now), 0 lost. */
int	jobq_finish(struct db_conn *c, const struct jobq_job *job);
/* Give it back to the queue, undecided (an attempt spent). */
int	jobq_retry(struct db_conn *c, const struct jobq_job *job,
	    const char *why);
/*
 * A finished job queued again to wait for a quiet host (why: for what):
 * 1 queued, 0 it has waited long enough and is now 'failed' with gave_up.
 */
int	jobq_defer(struct db_conn *c, const struct jobq_job *job,
	    const char *why, const char *gave_up);
/* Measure a provisional grade's speedup again, after the first wait. */
int	jobq_add_rebench(struct db_conn *c, const char *submission);

/* ---- the loop ----------------------------------------------------------- */

struct jobq_serve {
	const char	*conninfo;	/* for the LISTEN connection */
	const char	*channel;	/* NOTIFYed when a job is queued */
	int		(*run_one)(void *arg);	/* 1 ran a job, 0 none, <0 */
	void		(*idle)(void *arg);	/* housekeeping; may be NULL */
	bool		(*stopping)(void *arg);
	void		*arg;
};

/*
 * Claim and run jobs until stopping: run_one until there is none, then
 * idle and wait for a NOTIFY on channel or a second (expired leases and
 * waits that end do not notify).  0, or CD_ERR_NOMEM.
 */
int	jobq_serve(const struct jobq_serve *s);

#endif
