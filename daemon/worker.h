/*
 * worker.h - grading processes: a supervisor that keeps N of them alive,
 * and the grader process itself (see worker.c for the theory).
 */
#ifndef COHORTD_WORKER_H
#define COHORTD_WORKER_H

#include <sys/types.h>

/* Start n grader processes: this binary re-executed with --role=grader. */
int	worker_supervise(int n, char **argv);
/* A child exited: if it was a grader, note it for a restart (1), else 0. */
int	worker_reaped(pid_t pid, int status);
/* Restart graders whose back-off has passed; call about once a second. */
void	worker_tick(void);
/* SIGTERM every grader (they abandon their jobs) and return. */
void	worker_signal_all(void);
/* SIGTERM every grader, wait up to grace_ms, then SIGKILL the rest. */
void	worker_stop_all(int grace_ms);

/*
 * Queue again every running job held by a grader of this host that is no
 * longer alive (*reclaimed: how many), over a connection of its own.  Run
 * before starting graders and after stopping them.  0 or CD_ERR_*.
 */
int	worker_reclaim(const char *conninfo, int *reclaimed);

struct cfg;
/* The grader process: claim, grade, record, until SIGTERM, with the
 * settings of conf (lease, benchmark CPUs, log level).  Exit status. */
int	grader_main(const char *conninfo, const struct cfg *conf);

#endif
