/*
 * pgembed.h - the private PostgreSQL cluster cohortd runs when no database
 * URL is configured.
 *
 * The cluster lives under <state>/pg: data/ (initdb'd on first use), run/
 * (the only listening socket: no TCP) and postgres.log.  A lock file in
 * the state directory says which process owns the cluster: the owner
 * starts and stops it; anyone else (cohortctl while cohortd runs) only
 * connects to the socket.
 */
#ifndef COHORTD_PGEMBED_H
#define COHORTD_PGEMBED_H

#include <sys/types.h>

struct pgembed;

/*
 * Open the cluster under state_dir: take the state lock, recover from an
 * unclean stop, initdb if needed, start postgres and wait until it accepts
 * connections, and make sure the "cohortd" database exists.  If another
 * process holds the lock and shared is non-zero, attach to its running
 * cluster instead; with shared zero that is an error.  bindir may be ""
 * (search); run_as names the system user postgres runs as when we are
 * root.  On success *out owns the handle; on failure *out is NULL and err
 * says why.
 */
int		 pgembed_open(const char *state_dir, const char *bindir,
		    const char *run_as, int shared, struct pgembed **out,
		    char *err, size_t errlen);

/* libpq connection string for the cohortd database; owned by pg. */
const char	*pgembed_conninfo(const struct pgembed *pg);

/* Pid of the postmaster we started, or 0 when attached or stopped. */
pid_t		 pgembed_pid(const struct pgembed *pg);

/* Note that the postmaster was reaped by someone else (SIGCHLD loop). */
void		 pgembed_forget(struct pgembed *pg);

/* How long cohortd's shutdown gives a fast shutdown of the cluster. */
#define PGEMBED_STOP_MS	3000

/*
 * Stop the postmaster if we started it (fast shutdown, escalating to
 * immediate after timeout_ms, and to SIGKILL 1 s later), release the lock
 * and free pg.  NULL is fine.  Returns 0, or CD_ERR_TIMEOUT when it had
 * to be escalated.
 */
int		 pgembed_close(struct pgembed *pg, int timeout_ms);

/* Find the server binaries: bindir if set, else pg_config, else a search. */
int		 pgembed_find_bindir(const char *bindir, char *out, size_t len);

#endif
