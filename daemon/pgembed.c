/*
 * pgembed.c - run a private PostgreSQL cluster as a child of cohortd.
 *
 * Theory of operation.  cohortd (or cohortctl, when no cohortd runs) takes
 * an exclusive flock on <state>/cohortd.lock; holding it means owning
 * <state>/pg.  The owner forks postgres directly (not through pg_ctl) so
 * that it is our child: we see it exit, and it gets SIGQUIT (immediate
 * shutdown) through PR_SET_PDEATHSIG if we die without stopping it, which
 * is what makes `kill -9 cohortd` recoverable.  postgres gets its own
 * process group so a terminal's ^C reaches cohortd only, which then shuts
 * down in order: HTTP first, database last.
 *
 * The cluster listens on a unix socket in <state>/pg/run (mode 0700) and
 * nowhere else; trust authentication is safe there because only the
 * cluster's owner (and root) can reach the socket.  When cohortd runs as
 * root, postgres runs as an unprivileged system user (it refuses root).
 *
 * Recovery: a postmaster.pid left by a previous owner is either stale
 * (postgres itself ignores it) or names a postmaster that survived its
 * owner; since we hold the lock, such a survivor is an orphan and is shut
 * down before we start our own.  A data directory without PG_VERSION is
 * an initdb that never finished and is removed.
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/log.h"
#include "pgembed.h"

#define PG_SUPERUSER	"cohortd"
#define PG_DATABASE	"cohortd"
#define PG_START_TIMEOUT_MS	60000

struct pgembed {
	int	 lock_fd;		/* -1 when attached to another owner */
	pid_t	 pid;			/* our postmaster, 0 if none */
	uid_t	 uid;			/* postgres runs as uid/gid */
	gid_t	 gid;
	int	 drop;			/* non-zero: switch to uid/gid */
	char	 bindir[PATH_MAX];
	char	 base[PATH_MAX];	/* <state>/pg */
	char	 data[PATH_MAX];
	char	 run[PATH_MAX];
	char	 logfile[PATH_MAX];
	char	 conninfo[PATH_MAX + 64];
};

static void
pg_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
pgembed_find_bindir(const char *bindir, char *out, size_t len)
{
	char path[PATH_MAX], best[PATH_MAX] = "";
	FILE *p;
	int best_ver = -1;

	if (bindir != NULL && bindir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/postgres", bindir);
		if (access(path, X_OK) != 0)
			return CD_ERR_NOT_FOUND;
		snprintf(out, len, "%s", bindir);
		return 0;
	}
	/* pg_config from libpq-dev names the server's bindir on Debian. */
	if ((p = popen("pg_config --bindir 2>/dev/null", "r")) != NULL) {
		if (fgets(path, sizeof(path), p) != NULL) {
			path[strcspn(path, "\n")] = '\0';
			strncat(path, "/postgres", sizeof(path) - strlen(path) - 1);
			if (access(path, X_OK) == 0) {
				path[strlen(path) - strlen("/postgres")] = '\0';
				snprintf(best, sizeof(best), "%s", path);
			}
		}
		pclose(p);
	}
	if (best[0] == '\0') {
		/* Debian layout: /usr/lib/postgresql/<major>/bin; newest wins. */
		for (int v = 9; v <= 40; v++) {
			snprintf(path, sizeof(path),
			    "/usr/lib/postgresql/%d/bin/postgres", v);
			if (access(path, X_OK) == 0 && v > best_ver) {
				best_ver = v;
				snprintf(best, sizeof(best),
				    "/usr/lib/postgresql/%d/bin", v);
			}
		}
	}
	if (best[0] == '\0')
		return CD_ERR_NOT_FOUND;
	snprintf(out, len, "%s", best);
	return 0;
}

static int
pg_mkdir_owned(const struct pgembed *pg, const char *path, mode_t mode)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		return CD_ERR_SYSTEM;
	if (pg->drop && chown(path, pg->uid, pg->gid) == -1)
		return CD_ERR_SYSTEM;
	if (chmod(path, mode) == -1)
		return CD_ERR_SYSTEM;
	return 0;
}

static int
pg_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/* Become the cluster's owner user; called in a child before exec. */
static void
pg_child_drop(const struct pgembed *pg)
{
	if (!pg->drop)
		return;
	if (setgroups(0, NULL) == -1 || setgid(pg->gid) == -1 ||
	    setuid(pg->uid) == -1)
		_exit(126);
}

static void
pg_child_log(const struct pgembed *pg)
{
	int fd = open(pg->logfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600);

	if (fd == -1)
		_exit(126);
	if (dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd != -1) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
}

static int
pg_initdb(struct pgembed *pg, char *err, size_t errlen)
{
	char prog[PATH_MAX + 16];
	pid_t pid;
	int status;

	snprintf(prog, sizeof(prog), "%s/initdb", pg->bindir);
	log_info("initializing embedded database cluster in %s", pg->data);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return CD_ERR_SYSTEM;
	}
	if (pid == 0) {
		pg_child_log(pg);
		pg_child_drop(pg);
		execl(prog, "initdb", "-D", pg->data, "-U", PG_SUPERUSER,
		    "--auth=trust", "-E", "UTF8", "--no-locale",
		    "--no-instructions", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return CD_ERR_SYSTEM;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "initdb failed (status %d); see %s%s",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1, pg->logfile,
		    pg->drop ? " (is the state directory reachable by the "
		    "postgres user?)" : "");
		return CD_ERR_UNAVAILABLE;
	}
	return 0;
}

/* Is pid a live process (a zombie is not)? */
static int
pg_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int alive = 1;

	if (kill(pid, 0) == -1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' && p[2] == 'Z')
		alive = 0;
	fclose(f);
	return alive;
}

/* The socket and its lock file in run/ name a dead postmaster too. */
static void
pg_clean_run(struct pgembed *pg)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/.s.PGSQL.5432.lock", pg->run);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.s.PGSQL.5432", pg->run);
	unlink(path);
}

/*
 * Deal with a postmaster.pid left by the previous owner of the lock.  If
 * it names a live postgres working in our data directory, that postmaster
 * outlived its owner: shut it down.  Anything else (a dead pid, a zombie,
 * a pid reused by another program) makes the file stale; since we hold
 * the state lock nobody else can be using the cluster, so remove it
 * rather than let postgres refuse to start.
 */
static void
pg_recover_pidfile(struct pgembed *pg)
{
	char pidfile[PATH_MAX + 32], path[64], exe[PATH_MAX], cwd[PATH_MAX];
	FILE *fp;
	long opid = 0;
	ssize_t n;
	int ours = 0;

	snprintf(pidfile, sizeof(pidfile), "%s/postmaster.pid", pg->data);
	if ((fp = fopen(pidfile, "r")) == NULL)
		return;
	if (fscanf(fp, "%ld", &opid) != 1)
		opid = 0;
	fclose(fp);
	if (opid > 1 && pg_alive((pid_t)opid)) {
		snprintf(path, sizeof(path), "/proc/%ld/exe", opid);
		n = readlink(path, exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(path, sizeof(path), "/proc/%ld/cwd", opid);
		n = readlink(path, cwd, sizeof(cwd) - 1);
		cwd[n > 0 ? n : 0] = '\0';
		ours = strstr(exe, "postgres") != NULL &&
		    strcmp(cwd, pg->data) == 0;
	}
	if (!ours) {
		log_warnx("removing stale %s (pid %ld)", pidfile, opid);
		unlink(pidfile);
		pg_clean_run(pg);
		return;
	}
	log_warnx("stopping orphaned embedded postgres (pid %ld)", opid);
	kill((pid_t)opid, SIGQUIT);	/* immediate shutdown */
	for (int i = 0; i < 200 && pg_alive((pid_t)opid); i++)
		pg_sleep_ms(50);
	if (pg_alive((pid_t)opid)) {
		kill((pid_t)opid, SIGKILL);
		pg_sleep_ms(200);
	}
	if (!pg_alive((pid_t)opid)) {
		unlink(pidfile);
		pg_clean_run(pg);
	}
}

static int
pg_start(struct pgembed *pg, char *err, size_t errlen)
{
	char prog[PATH_MAX + 16];
	char maint[PATH_MAX + 64];
	long deadline;
	pid_t pid, parent;
	int status;

	snprintf(prog, sizeof(prog), "%s/postgres", pg->bindir);
	parent = getpid();
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return CD_ERR_SYSTEM;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		pg_child_log(pg);
		pg_child_drop(pg);
		/*
		 * After the uid change, which clears it; it survives the
		 * exec.  If we died before it was set, the parent is already
		 * another process (init, or a subreaper such as systemd or
		 * a container's init), not necessarily pid 1: compare.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGQUIT) == -1 ||
		    getppid() != parent)
			_exit(1);
		execl(prog, "postgres", "-D", pg->data, "-k", pg->run,
		    "-c", "listen_addresses=",
		    "-c", "unix_socket_permissions=0700",
		    "-c", "max_connections=200",
		    (char *)NULL);
		_exit(127);
	}
	pg->pid = pid;

	snprintf(maint, sizeof(maint), "host=%s dbname=postgres user="
	    PG_SUPERUSER, pg->run);
	deadline = clock_ms() + PG_START_TIMEOUT_MS;
	for (;;) {
		if (PQping(maint) == PQPING_OK)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			pg->pid = 0;
			snprintf(err, errlen, "embedded postgres exited during "
			    "startup; see %s", pg->logfile);
			return CD_ERR_UNAVAILABLE;
		}
		if (clock_ms() > deadline) {
			snprintf(err, errlen, "embedded postgres did not "
			    "accept connections within %d s; see %s",
			    PG_START_TIMEOUT_MS / 1000, pg->logfile);
			return CD_ERR_TIMEOUT;
		}
		pg_sleep_ms(20);
	}
	return 0;
}

static int
pg_ensure_database(struct pgembed *pg, char *err, size_t errlen)
{
	char maint[PATH_MAX + 64];
	const char *params[1] = { PG_DATABASE };
	PGconn *c;
	PGresult *r = NULL;
	int rc = CD_ERR_DATABASE;

	snprintf(maint, sizeof(maint), "host=%s dbname=postgres user="
	    PG_SUPERUSER, pg->run);
	c = PQconnectdb(maint);
	if (PQstatus(c) != CONNECTION_OK) {
		snprintf(err, errlen, "embedded postgres: %s",
		    PQerrorMessage(c));
		goto out;
	}
	r = PQexecParams(c, "SELECT 1 FROM pg_database WHERE datname = $1",
	    1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "embedded postgres: %s",
		    PQerrorMessage(c));
		goto out;
	}
	if (PQntuples(r) == 0) {
		PQclear(r);
		/* A constant identifier: CREATE DATABASE takes no parameters. */
		r = PQexec(c, "CREATE DATABASE " PG_DATABASE);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			snprintf(err, errlen, "embedded postgres: %s",
			    PQerrorMessage(c));
			goto out;
		}
	}
	rc = 0;
 out:
	PQclear(r);
	PQfinish(c);
	return rc;
}

int
pgembed_open(const char *state_dir, const char *bindir, const char *run_as,
    int shared, struct pgembed **out, char *err, size_t errlen)
{
	struct pgembed *pg;
	char statepath[PATH_MAX], lockpath[PATH_MAX + 16], check[PATH_MAX + 16];
	struct passwd *pw;
	int rc;

	*out = NULL;
	if ((pg = calloc(1, sizeof(*pg))) == NULL)
		return CD_ERR_NOMEM;
	pg->lock_fd = -1;

	if ((rc = pgembed_find_bindir(bindir, pg->bindir,
	    sizeof(pg->bindir))) != 0) {
		snprintf(err, errlen, "COHORTD_PG_BINDIR: no PostgreSQL server "
		    "binaries found%s%s (install postgresql, or set "
		    "COHORTD_DATABASE_URL)", bindir[0] ? " in " : "", bindir);
		goto out;
	}
	if (mkdir(state_dir, 0711) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "COHORTD_STATE_DIR: cannot create %s: %s",
		    state_dir, strerror(errno));
		rc = CD_ERR_CONFIG;
		goto out;
	}
	if (realpath(state_dir, statepath) == NULL) {
		snprintf(err, errlen, "COHORTD_STATE_DIR: %s: %s", state_dir,
		    strerror(errno));
		rc = CD_ERR_CONFIG;
		goto out;
	}
	/* The socket path must fit in sun_path (107 bytes) too. */
	if (strlen(statepath) > 80 ||
	    (size_t)snprintf(pg->base, sizeof(pg->base), "%s/pg", statepath)
	    >= sizeof(pg->base) ||
	    (size_t)snprintf(pg->data, sizeof(pg->data), "%s/data", pg->base)
	    >= sizeof(pg->data) ||
	    (size_t)snprintf(pg->run, sizeof(pg->run), "%s/run", pg->base)
	    >= sizeof(pg->run) ||
	    (size_t)snprintf(pg->logfile, sizeof(pg->logfile), "%s/postgres.log",
	    pg->base) >= sizeof(pg->logfile)) {
		snprintf(err, errlen, "COHORTD_STATE_DIR: %s is too long for "
		    "a unix socket path (at most 80 characters)", statepath);
		rc = CD_ERR_CONFIG;
		goto out;
	}
	snprintf(pg->conninfo, sizeof(pg->conninfo), "host=%s dbname="
	    PG_DATABASE " user=" PG_SUPERUSER, pg->run);

	snprintf(lockpath, sizeof(lockpath), "%s/cohortd.lock", statepath);
	pg->lock_fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (pg->lock_fd == -1) {
		snprintf(err, errlen, "COHORTD_STATE_DIR: %s: %s", lockpath,
		    strerror(errno));
		rc = CD_ERR_CONFIG;
		goto out;
	}
	if (flock(pg->lock_fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, errlen, "flock %s: %s", lockpath,
			    strerror(errno));
			rc = CD_ERR_SYSTEM;
			goto out;
		}
		close(pg->lock_fd);
		pg->lock_fd = -1;
		if (!shared) {
			snprintf(err, errlen, "COHORTD_STATE_DIR: %s is in use "
			    "by another cohortd", statepath);
			rc = CD_ERR_CONFLICT;
			goto out;
		}
		/* The owner is running its cluster: just use the socket. */
		*out = pg;
		return 0;
	}

	if (geteuid() == 0) {
		if ((pw = getpwnam(run_as)) == NULL) {
			snprintf(err, errlen, "COHORTD_PG_USER: no system user "
			    "\"%s\" to run the embedded postgres as (it "
			    "refuses to run as root)", run_as);
			rc = CD_ERR_CONFIG;
			goto out;
		}
		pg->drop = 1;
		pg->uid = pw->pw_uid;
		pg->gid = pw->pw_gid;
	}
	if ((rc = pg_mkdir_owned(pg, pg->base, 0700)) != 0 ||
	    (rc = pg_mkdir_owned(pg, pg->run, 0700)) != 0) {
		snprintf(err, errlen, "COHORTD_STATE_DIR: %s: %s", pg->base,
		    strerror(errno));
		goto out;
	}
	/* The log must be writable by the cluster's owner, too. */
	{
		int fd = open(pg->logfile, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);

		if (fd == -1 || (pg->drop && fchown(fd, pg->uid, pg->gid))) {
			snprintf(err, errlen, "%s: %s", pg->logfile,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			rc = CD_ERR_SYSTEM;
			goto out;
		}
		close(fd);
	}

	snprintf(check, sizeof(check), "%s/PG_VERSION", pg->data);
	if (access(check, F_OK) != 0) {
		if (access(pg->data, F_OK) == 0) {
			log_warnx("removing unfinished cluster in %s", pg->data);
			nftw(pg->data, pg_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		}
		if ((rc = pg_initdb(pg, err, errlen)) != 0)
			goto out;
	} else
		pg_recover_pidfile(pg);

	if ((rc = pg_start(pg, err, errlen)) != 0)
		goto out;
	if ((rc = pg_ensure_database(pg, err, errlen)) != 0)
		goto out;
	log_info("embedded postgres ready (pid %d, socket %s)", (int)pg->pid,
	    pg->run);
	*out = pg;
	return 0;
 out:
	pgembed_close(pg, 10000);
	return rc;
}

const char *
pgembed_conninfo(const struct pgembed *pg)
{
	return pg->conninfo;
}

pid_t
pgembed_pid(const struct pgembed *pg)
{
	return pg->pid;
}

void
pgembed_forget(struct pgembed *pg)
{
	pg->pid = 0;
}

int
pgembed_close(struct pgembed *pg, int timeout_ms)
{
	int rc = 0, status, sig = SIGINT;
	long deadline;

	if (pg == NULL)
		return 0;
	if (pg->pid > 0) {
		/* SIGINT: fast shutdown (abort sessions, checkpoint, exit). */
		kill(pg->pid, sig);
		deadline = clock_ms() + timeout_ms;
		for (;;) {
			pid_t w = waitpid(pg->pid, &status, WNOHANG);

			if (w == pg->pid || (w == -1 && errno == ECHILD))
				break;
			if (clock_ms() > deadline && sig != SIGKILL) {
				/* Immediate, then unconditional. */
				sig = sig == SIGINT ? SIGQUIT : SIGKILL;
				kill(pg->pid, sig);
				deadline = clock_ms() + 1000;
				rc = CD_ERR_TIMEOUT;
			}
			pg_sleep_ms(10);
		}
		log_info("embedded postgres stopped");
		pg->pid = 0;
	}
	if (pg->lock_fd != -1)
		close(pg->lock_fd);
	free(pg);
	return rc;
}
