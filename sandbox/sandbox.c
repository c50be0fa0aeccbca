/*
 * sandbox.c - the supervisor: runs one program in a box and judges it.
 *
 * Theory of operation
 *
 * Three processes take part in a run:
 *
 *   - The supervisor, the caller of sbx_run(): root, on the host.  It owns
 *     the box's slot and cgroup, reads the program's output, keeps the
 *     clocks and decides the verdict.  It never runs code from the box.
 *   - The box's init (box.c): made by clone() with new user, pid, mount,
 *     ipc and uts namespaces and the slot's empty network namespace; it
 *     enters a new cgroup namespace, builds the root, forks the program,
 *     reaps orphans and reports the program's exit.  It is PID 1 of the
 *     box, so its exit makes the kernel kill every process left in the box:
 *     that is how leftover children and double-forked daemons die.
 *   - The program: forked by init, confined (limits, box user, no
 *     capabilities, no_new_privs, seccomp) and exec'd.
 *
 * Between them:
 *
 *   - The control socket (SOCK_SEQPACKET).  The supervisor sends one byte
 *     once the box's uid and gid maps are written and init sits in the
 *     cgroup.  The box answers READY just before exec, carrying the seccomp
 *     listener; NOEXEC if exec failed (the program's fault); FAIL with the
 *     step and errno if building the box failed (the sandbox's fault); EXIT
 *     with the program's wait status.
 *   - Two pipes, the program's stdout and stderr, read up to the output
 *     limit; one byte more and the box is killed.
 *   - The seccomp listener: a denied call arrives here as a notification;
 *     the supervisor notes the call and kills the box.
 *   - A pidfd of init, readable once init has exited.
 *
 * Shutdown: the program exits, init reports and exits, the kernel empties
 * the pid namespace.  On a limit the supervisor kills init, with the same
 * effect; at the wall limit a spec's notice signal first goes to every
 * process of the box, and the kill follows a short grace later.  Then the
 * supervisor reaps init, drains the pipes to EOF, reads the cgroup's
 * counters, checks that the cgroup is empty (reaped) and removes it.  If
 * the supervisor dies first, init gets SIGKILL from PR_SET_PDEATHSIG and
 * the box goes with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <seccomp.h>

#include "../common/clock.h"
#include "../common/err.h"
#include "../common/log.h"
#include "sandbox-int.h"

#define BOX_STACK	(256 * 1024)
#define SETUP_MS	10000	/* building a box never takes this long */
#define CPU_POLL_MS	5	/* finest CPU check; bounds the overshoot */
/* After the wall limit's notice: time enough for a program to write a
   few lines (its threads' stacks), short enough not to hold up grading. */
#define NOTICE_GRACE_MS	300
#define NOTICE_PROCS	64	/* processes of one box told of the limit */

struct stream {
	int	 fd;
	char	*buf;
	size_t	 len, cap, limit;
	bool	 truncated;
	const char *name;
};

struct run {
	const struct sbx_run_spec *spec;
	struct sbx_result *res;
	struct sbx_slot slot;
	struct sbx_cg cg;
	struct box_args args;
	char	**envp;
	int	 ctl, in, dirfd, pidfd, listener;
	pid_t	 pid;
	struct stat dir_st;	/* the box dir's owner before the run */
	bool	 dir_chowned;
	struct stream s[2];
	uint64_t t_start, t_ready, t_end;	/* monotonic, ns */
	uint64_t t_notice;	/* the wall limit's notice went out; 0: not */
	bool	 ready, init_done, exited, noexec, killed, realtime;
	uint64_t t_fork, t_mark, t_exit;	/* a timed run's, from init */
	int	 status, noexec_errno;
	struct rusage ru;	/* of init and all it reaped */
	/* The first reason to end the run wins. */
	enum sbx_verdict kill_verdict;
	const char *kill_limit;
	const char *violation;
	char	 internal[200];	/* non-empty: the sandbox failed */
};

static void
run_kill(struct run *r)
{
	if (r->pidfd >= 0 && !r->init_done && !r->killed)
		(void)syscall(SYS_pidfd_send_signal, r->pidfd, SIGKILL, NULL, 0);
	r->killed = true;
}

/* The sandbox's own failure: verdict internal_error, never the program's. */
static void __attribute__((format(printf, 2, 3)))
run_internal(struct run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->internal[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(r->internal, sizeof(r->internal), fmt, ap);
		va_end(ap);
		log_warnx("sandbox: %s", r->internal);
	}
	run_kill(r);
}

/* The program's fault: a limit or a forbidden call ends the run. */
static void
run_fault(struct run *r, enum sbx_verdict v, const char *limit)
{
	if (r->kill_verdict == SBX_OK) {
		r->kill_verdict = v;
		r->kill_limit = limit;
	}
	run_kill(r);
}

static void
fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* PATH, HOME and TMPDIR, then the caller's entries (which win). */
static int
build_env(struct run *r)
{
	static char *const base[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/box", "TMPDIR=/tmp",
	};
	char *const *env = r->spec->env;
	size_t n = 0, nb = sizeof(base) / sizeof(*base), k = 0;

	while (env != NULL && env[n] != NULL) {
		const char *eq = strchr(env[n], '=');

		if (eq == NULL || eq == env[n])
			return CD_ERR_INVALID;
		n++;
	}
	if ((r->envp = calloc(nb + n + 1, sizeof(char *))) == NULL)
		return CD_ERR_NOMEM;
	for (size_t i = 0; i < nb; i++) {
		size_t kl = (size_t)(strchr(base[i], '=') - base[i]) + 1;
		bool overridden = false;

		for (size_t j = 0; j < n; j++)
			if (strncmp(env[j], base[i], kl) == 0)
				overridden = true;
		if (!overridden)
			r->envp[k++] = base[i];
	}
	for (size_t j = 0; j < n; j++)
		r->envp[k++] = env[j];
	return 0;
}

static int
parse_cpus(const char *list, cpu_set_t *set)
{
	const char *p = list;
	char *end;
	long a, b;

	CPU_ZERO(set);
	do {
		a = b = strtol(p, &end, 10);
		if (end == p || a < 0 || a >= CPU_SETSIZE)
			return CD_ERR_INVALID;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b >= CPU_SETSIZE)
				return CD_ERR_INVALID;
		}
		for (long c = a; c <= b; c++)
			CPU_SET((int)c, set);
		p = end + 1;
	} while (*end == ',');
	return *end == '\0' ? 0 : CD_ERR_INVALID;
}

static int
check_spec(const struct sbx_run_spec *spec, cpu_set_t *cpus)
{
	const struct sbx_limits *l = &spec->limits;

	if (spec->argv == NULL || spec->argv[0] == NULL ||
	    spec->argv[0][0] == '\0')
		return CD_ERR_INVALID;
	if (l->wall_ms == 0 || l->cpu_ms == 0 || l->memory_mb < 4 ||
	    l->memory_mb > (1u << 20) || l->pids < 2 || l->output_kb == 0 ||
	    l->output_kb > (1u << 20) || l->file_kb == 0 || l->open_files < 4)
		return CD_ERR_INVALID;
	if (spec->cpus != NULL && parse_cpus(spec->cpus, cpus) != 0)
		return CD_ERR_INVALID;
	/* A notice that cannot be caught would end the run before its grace. */
	if (spec->notice_signal < 0 || spec->notice_signal >= NSIG ||
	    spec->notice_signal == SIGKILL || spec->notice_signal == SIGSTOP)
		return CD_ERR_INVALID;
	/* Each cpu must exist here, or the cpuset would refuse the list. */
	for (int c = sbx_host()->ncpus; spec->cpus != NULL && c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, cpus))
			return CD_ERR_INVALID;
	return 0;
}

/* Everything the run needs before clone(); negative: nothing ran. */
static int
run_prepare(struct run *r)
{
	const struct sbx_run_spec *spec = r->spec;
	const struct sbx_limits *lim = &spec->limits;
	struct box_args *a = &r->args;
	uid_t uid;
	int rc;

	if ((rc = build_env(r)) != 0)
		return rc;
	if ((rc = slot_acquire(&r->slot)) != 0)
		return rc;
	uid = SBX_UID_BASE + (uid_t)r->slot.index;

	if (spec->stdin_file == NULL)
		r->in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	else if (spec->stdin_file[0] == '/')
		r->in = open(spec->stdin_file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	else if (spec->box_dir == NULL)
		return CD_ERR_INVALID;
	else if ((rc = sbx_open_beneath(spec->box_dir, spec->stdin_file,
	    O_RDONLY | O_NOCTTY, &r->in)) != 0) {
		log_warnx("stdin %s: %s", spec->stdin_file, rc == CD_ERR_DENIED ?
		    "refusing a symlink or a path out of the box" :
		    strerror(errno));
		return rc;
	}
	if (r->in == -1) {
		log_warn("stdin %s", spec->stdin_file);
		return errno == ENOENT ? CD_ERR_NOT_FOUND : CD_ERR_SYSTEM;
	}

	if (spec->box_dir != NULL) {
		if (realpath(spec->box_dir, a->box_path) == NULL ||
		    (r->dirfd = open(a->box_path, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1 ||
		    fstat(r->dirfd, &r->dir_st) == -1) {
			log_warn("box dir %s", spec->box_dir);
			return errno == ENOENT ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
		}
		a->box_dev = r->dir_st.st_dev;
		a->box_ino = r->dir_st.st_ino;
		/* The box user may write its directory, and only that. */
		if (fchown(r->dirfd, uid, uid) == -1 ||
		    fchmod(r->dirfd, (r->dir_st.st_mode & 07777) | 0700) == -1) {
			log_warn("box dir %s", spec->box_dir);
			return CD_ERR_SYSTEM;
		}
		r->dir_chowned = true;
	}

	a->host = sbx_host();
	a->argv = spec->argv;
	a->envp = r->envp;
	a->dirfd = r->dirfd;
	a->in = r->in;
	a->lim = lim;
	/* tmpfs sizes: everything in them is charged to the box's memory. */
	snprintf(a->tmpfs_opts, sizeof(a->tmpfs_opts), "size=%um,mode=1777",
	    lim->memory_mb);
	snprintf(a->box_opts, sizeof(a->box_opts),
	    "size=%um,mode=0755,uid=%d,gid=%d", lim->memory_mb,
	    SBX_INSIDE_ID, SBX_INSIDE_ID);
	return 0;
}

/* The session id of pid, from /proc/PID/stat; -1 if unreadable. */
static pid_t
session_of(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd, sid = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session ...": comm may hold spaces. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %d", &sid) != 1)
		return -1;
	return (pid_t)sid;
}

/*
 * Whether the kernel throttles real-time tasks (sched_rt_runtime_us below
 * its period): only then may a box run SCHED_FIFO, since the throttle is
 * what still leaves the rest of the host a share of every second.
 */
bool
sbx_realtime_ok(void)
{
	static int known = -1;
	long runtime, period;

	if (known == -1) {
		runtime = sbx_file_long(
		    "/proc/sys/kernel/sched_rt_runtime_us", -1);
		period = sbx_file_long("/proc/sys/kernel/sched_rt_period_us",
		    0);
		/* At most 95%: what the kernel leaves others by default. */
		known = runtime > 0 && period > 0 && runtime * 100 <=
		    period * 95;
	}
	return known;
}

/*
 * A timed run gets its CPUs before anything of the host at normal
 * priority, so that a busy host still gives clean samples:
 *
 *   - SCHED_FIFO at the lowest real-time priority, where the kernel
 *     throttles real-time tasks (it keeps 5% of each second for the rest
 *     of the host by default).  Under the fair scheduler a box's new
 *     threads start with little weight on a CPU where the box had no load
 *     (group shares follow load averages that take tens of ms to grow), so
 *     even nice -20 lets a busy neighbour delay a short parallel phase by
 *     half; a real-time task preempts it at once.  The caller bounds how
 *     long a timed run may last (its wall limit).
 *   - Otherwise nice -20 for the tasks and for their autogroup (what the
 *     scheduler weighs against other sessions).  Init made the session
 *     first thing; we wait for that, or else the autogroup we raised
 *     would be our own.
 *
 * Not getting the priority is not fatal: the run's CPU waiting is
 * accounted either way, and a run that waited is not trusted.
 */
static void
run_boost(struct run *r)
{
	static bool warned;
	struct sched_param sp = { .sched_priority = SBX_RT_PRIO_INIT };
	char path[64];
	int tries;

	if (sbx_realtime_ok() && sched_setscheduler(r->pid, SCHED_FIFO, &sp) == 0) {
		r->realtime = true;
		return;
	}
	for (tries = 0; tries < 2000 && session_of(r->pid) != r->pid; tries++)
		nanosleep(&(struct timespec){ 0, 500000 }, NULL);
	if (setpriority(PRIO_PROCESS, (id_t)r->pid, -20) == -1 && !warned) {
		log_warn("sandbox: cannot raise timed runs' priority; busy "
		    "hosts will give few clean benchmark samples");
		warned = true;
	}
	snprintf(path, sizeof(path), "/proc/%d/autogroup", (int)r->pid);
	if (tries < 2000 && write_file(path, "-20") == -1 && errno != ENOENT)
		log_debug("sandbox: cannot raise the run's autogroup: %s",
		    strerror(errno));
}

/* Make the box's init; afterwards only run_internal() reports failure. */
static void
run_start(struct run *r)
{
	int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
	    CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD;
	int sv[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	int pm[2] = { -1, -1 };
	int self_net = -1, uid = SBX_UID_BASE + r->slot.index, rc;
	char path[64], map[64], *stack = NULL;

	if (cg_create(&r->cg, r->slot.index, &r->spec->limits,
	    r->spec->cpus) != 0) {
		run_internal(r, "cannot create the box's cgroup: %s",
		    strerror(errno));
		goto out;
	}
	rc = socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1 ||
	    pipe2(po, O_CLOEXEC) == -1 || pipe2(pe, O_CLOEXEC) == -1 ||
	    (r->spec->measure && pipe2(pm, O_CLOEXEC) == -1) ||
	    (stack = malloc(BOX_STACK)) == NULL;
	r->args.mark_rd = pm[0];
	r->args.mark_wr = pm[1];
	r->ctl = sv[0];
	r->args.ctl = sv[1];
	r->s[0].fd = po[0];
	r->args.out = po[1];
	r->s[1].fd = pe[0];
	r->args.err = pe[1];
	if (rc) {
		run_internal(r, "cannot make the box's channels: %s",
		    strerror(errno));
		goto out;
	}

	/* Enter the slot's empty network namespace for the clone() only. */
	if (r->slot.netfd >= 0) {
		self_net = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		if (self_net == -1 || setns(r->slot.netfd, CLONE_NEWNET) == -1) {
			run_internal(r, "cannot enter the pooled network "
			    "namespace: %s", strerror(errno));
			goto out;
		}
	} else
		flags |= CLONE_NEWNET;
	r->t_start = (uint64_t)clock_ns();
	r->pid = clone(box_main, stack + BOX_STACK, flags, &r->args, &r->pidfd);
	if (self_net >= 0 && setns(self_net, CLONE_NEWNET) == -1)
		fatal("cannot return to the supervisor's network namespace");
	if (r->pid == -1) {
		run_internal(r, "cannot clone the box: %s", strerror(errno));
		goto out;
	}

	/* Box user SBX_INSIDE_ID is host uid "uid"; nobody else is mapped. */
	snprintf(map, sizeof(map), "%d %d 1\n", SBX_INSIDE_ID, uid);
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)r->pid);
	if (write_file(path, map) == -1) {
		run_internal(r, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)r->pid);
	if (write_file(path, map) == -1) {
		run_internal(r, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	if (cg_attach(&r->cg, r->pid) != 0) {
		run_internal(r, "cannot attach the box to its cgroup: %s",
		    strerror(errno));
		goto out;
	}
	if (r->spec->measure)
		run_boost(r);
	if (send(r->ctl, "g", 1, MSG_NOSIGNAL) != 1)
		run_internal(r, "cannot start the box: %s", strerror(errno));
 out:
	/* The box's ends and the stack are the box's copy now. */
	fd_close(&r->args.ctl);
	fd_close(&r->args.out);
	fd_close(&r->args.err);
	fd_close(&r->args.mark_rd);
	fd_close(&r->args.mark_wr);
	fd_close(&self_net);
	free(stack);
}

/* Returns > 0 after a message, 0 at EOF, -1 when none is waiting. */
static int
on_message(struct run *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct sbx_msg m;
	struct iovec iov = { &m, sizeof(m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	n = recvmsg(r->ctl, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(r->ctl);
			r->ctl = -1;
			return 0;
		}
		return -1;
	}
	c = CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS) {
		if (r->listener >= 0)
			close(r->listener);
		memcpy(&r->listener, CMSG_DATA(c), sizeof(int));
	}
	if (n != sizeof(m))
		return 1;
	m.what[sizeof(m.what) - 1] = '\0';
	switch (m.type) {
	case MSG_READY:
		r->ready = true;
		r->t_ready = (uint64_t)clock_ns();
		break;
	case MSG_EXIT:
		r->exited = true;
		r->status = m.value;
		r->t_fork = m.t_fork;
		r->t_mark = m.t_mark;
		r->t_exit = m.t_exit;
		break;
	case MSG_NOEXEC:
		r->noexec = true;
		r->noexec_errno = m.value;
		break;
	case MSG_FAIL:
		run_internal(r, "box setup failed at %s: %s", m.what,
		    strerror(m.value));
		break;
	}
	return 1;
}

static void
on_violation(struct run *r)
{
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;

	if (seccomp_notify_alloc(&req, &resp) != 0)
		return;
	if (seccomp_notify_receive(r->listener, req) == 0) {
		if (r->violation == NULL)
			r->violation = rules_syscall_name(req->data.nr);
		run_fault(r, SBX_SECURITY_VIOLATION, NULL);
	} else {
		/* The caller is already gone; nothing more will come. */
		close(r->listener);
		r->listener = -1;
	}
	seccomp_notify_free(req, resp);
}

/*
 * Read what is there; past the limit keep nothing and end the run.
 * Returns > 0 after reading, 0 at EOF, -1 when nothing is waiting.
 */
static int
on_output(struct run *r, struct stream *s)
{
	char chunk[16384];
	ssize_t n;
	size_t take;

	n = read(s->fd, chunk, sizeof(chunk));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(s->fd);
			s->fd = -1;
			return 0;
		}
		return -1;
	}
	take = (size_t)n < s->limit - s->len ? (size_t)n : s->limit - s->len;
	if (s->len + take + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		char *nb;

		while (cap < s->len + take + 1)
			cap *= 2;
		if (cap > s->limit + 1)
			cap = s->limit + 1;
		if ((nb = realloc(s->buf, cap)) == NULL) {
			run_internal(r, "out of memory for %s", s->name);
			return -1;
		}
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, chunk, take);
	s->len += take;
	if ((size_t)n > take) {
		/* Exactly the limit is kept; the sandbox's memory stays flat. */
		s->truncated = true;
		close(s->fd);
		s->fd = -1;
		run_fault(r, SBX_OUTPUT_LIMIT, s->name);
	}
	return 1;
}

/*
 * The wall limit is reached and the spec asks for a notice: the verdict is
 * decided (wall time limit) but the kill waits for NOTICE_GRACE_MS, while
 * every process of the box but init (which would ignore it) gets the
 * signal.  Each is signalled through a pidfd once it is known to be in the
 * box's pid namespace, so a pid reused meanwhile on the host is never
 * signalled.  Nothing signalled: no grace, the kill comes at once.
 */
static void
run_notice(struct run *r, uint64_t t)
{
	pid_t pids[NOTICE_PROCS];
	struct stat box_ns, ns;
	char path[64];
	int n, fd, sent = 0;

	if (r->kill_verdict == SBX_OK) {
		r->kill_verdict = SBX_TIME_LIMIT;
		r->kill_limit = "wall";
	}
	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)r->pid);
	if (stat(path, &box_ns) == -1 ||
	    (n = cg_procs(&r->cg, pids, NOTICE_PROCS)) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		if (pids[i] == r->pid ||
		    (fd = (int)syscall(SYS_pidfd_open, pids[i], 0)) == -1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pids[i]);
		if (stat(path, &ns) == 0 && ns.st_ino == box_ns.st_ino &&
		    ns.st_dev == box_ns.st_dev &&
		    syscall(SYS_pidfd_send_signal, fd, r->spec->notice_signal,
		    NULL, 0) == 0)
			sent++;
		close(fd);
	}
	if (sent > 0)
		r->t_notice = t;
}

/* Poll timeout in ms, after checking the clocks. */
static int
check_clocks(struct run *r)
{
	const struct sbx_limits *lim = &r->spec->limits;
	uint64_t t = (uint64_t)clock_ns(), cpu_us, wall_ms, grace_ms, left_ms;
	int ncpus;

	if (!r->ready) {
		if (t - r->t_start > (uint64_t)SETUP_MS * 1000000)
			run_internal(r, "box setup took over %d ms", SETUP_MS);
		return 100;
	}
	wall_ms = (t - r->t_ready) / 1000000;
	if (wall_ms >= lim->wall_ms && r->spec->notice_signal != 0 &&
	    r->t_notice == 0)
		run_notice(r, t);
	if (r->t_notice != 0) {
		/* Noticed: only the grace is left. */
		grace_ms = (t - r->t_notice) / 1000000;
		if (grace_ms >= NOTICE_GRACE_MS) {
			run_fault(r, SBX_TIME_LIMIT, "wall");
			return 100;
		}
		left_ms = NOTICE_GRACE_MS - grace_ms;
	} else if (wall_ms >= lim->wall_ms) {
		run_fault(r, SBX_TIME_LIMIT, "wall");
		return 100;
	} else
		left_ms = lim->wall_ms - wall_ms;
	if (cg_cpu_us(&r->cg, &cpu_us) == 0) {
		if (cpu_us / 1000 >= lim->cpu_ms) {
			run_fault(r, SBX_TIME_LIMIT, "cpu");
			return 100;
		}
		/* The soonest the CPU limit can be reached on ncpus. */
		ncpus = r->spec->cpus ? CPU_COUNT(&r->args.cpus) :
		    sbx_host()->ncpus;
		cpu_us = (lim->cpu_ms * 1000ull - cpu_us) / 1000 / (uint64_t)ncpus;
		if (cpu_us < left_ms)
			left_ms = cpu_us;
	}
	return left_ms < CPU_POLL_MS ? CPU_POLL_MS : (int)left_ms + 1;
}

static void
run_loop(struct run *r)
{
	struct pollfd pfd[5];
	int timeout, n;

	fcntl(r->s[0].fd, F_SETFL, O_NONBLOCK);
	fcntl(r->s[1].fd, F_SETFL, O_NONBLOCK);
	while (!r->init_done) {
		timeout = r->killed ? 1000 : check_clocks(r);
		pfd[0] = (struct pollfd){ .fd = r->pidfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = r->ctl, .events = POLLIN };
		pfd[2] = (struct pollfd){ .fd = r->listener, .events = POLLIN };
		pfd[3] = (struct pollfd){ .fd = r->s[0].fd, .events = POLLIN };
		pfd[4] = (struct pollfd){ .fd = r->s[1].fd, .events = POLLIN };
		n = poll(pfd, 5, timeout);
		if (n == -1 && errno != EINTR) {
			run_internal(r, "poll: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (pfd[1].revents)
			on_message(r);
		if (pfd[2].revents)
			on_violation(r);
		for (int i = 0; i < 2; i++)
			if (pfd[3 + i].revents)
				on_output(r, &r->s[i]);
		if (pfd[0].revents) {
			r->t_end = (uint64_t)clock_ns();
			if (wait4(r->pid, &n, 0, &r->ru) == r->pid)
				r->init_done = true;
		}
	}
	/* Init is gone and so is every process of the box: what they wrote
	   is waiting.  (A concurrent box's init may briefly hold copies of
	   our descriptors, so stop at "empty" rather than wait for EOF.) */
	while (r->ctl >= 0 && on_message(r) > 0)
		;
	for (int i = 0; i < 2; i++)
		while (r->s[i].fd >= 0 && on_output(r, &r->s[i]) > 0)
			;
	if (r->listener >= 0 && poll(&(struct pollfd){ .fd = r->listener,
	    .events = POLLIN }, 1, 0) == 1)
		on_violation(r);
}

/* The verdict, in order of precedence. */
static void
run_judge(struct run *r)
{
	const struct sbx_limits *lim = &r->spec->limits;
	struct sbx_result *res = r->res;
	struct cg_stats st;
	int sig = 0, code = 0;

	cg_stats(&r->cg, &st);
	/* Degraded hosts: what init and the processes it reaped used. */
	if (!sbx_host()->have[M_CPUACCT])
		st.cpu_us = (uint64_t)(r->ru.ru_utime.tv_sec +
		    r->ru.ru_stime.tv_sec) * 1000000 + (uint64_t)(
		    r->ru.ru_utime.tv_usec + r->ru.ru_stime.tv_usec);
	if (!r->cg.on[CG_MEMORY])
		st.peak_kb = (uint64_t)r->ru.ru_maxrss;
	res->cpu_ms = (uint32_t)(st.cpu_us / 1000);
	res->memory_kb = (uint32_t)st.peak_kb;
	res->pids_limit = st.pids_hits > 0;
	res->wait_us = st.wait_us;
	res->stall_us = st.stall_us;
	if (r->ready)
		res->wall_ms = (uint32_t)((r->t_end - r->t_ready) / 1000000);
	if (r->spec->measure && r->exited && r->t_exit > r->t_fork) {
		uint64_t from = r->t_mark ? r->t_mark : r->t_fork;

		res->marked = r->t_mark != 0;
		res->work_ms = r->t_exit > from ?
		    (uint32_t)((r->t_exit - from + 500000) / 1000000) : 0;
		res->run_ms = (uint32_t)((r->t_exit - r->t_fork + 500000) /
		    1000000);
		res->realtime = r->realtime;
		/* Init's clock is not delayed by the host's other work, which
		   our own reading of READY may be. */
		if (res->run_ms > res->wall_ms)
			res->wall_ms = res->run_ms;
	}
	res->reaped = cg_empty(&r->cg);
	if (!res->reaped) {
		log_warnx("box left processes behind its init; killing them");
		cg_kill(&r->cg);
	}
	if (r->exited) {
		if (WIFSIGNALED(r->status))
			sig = WTERMSIG(r->status);
		else
			code = WEXITSTATUS(r->status);
	} else if (r->killed) {
		sig = SIGKILL;
	}
	res->exit_code = sig ? -1 : code;
	res->signal = sig;

	res->verdict = SBX_INTERNAL_ERROR;
	if (r->internal[0] != '\0')
		res->message = strdup(r->internal);
	else if (r->violation != NULL || r->kill_verdict ==
	    SBX_SECURITY_VIOLATION) {
		res->verdict = SBX_SECURITY_VIOLATION;
		res->syscall = r->violation;
	} else if (r->kill_verdict != SBX_OK) {
		res->verdict = r->kill_verdict;
		res->limit = r->kill_limit;
	} else if (st.oom_kills > 0)
		res->verdict = SBX_MEMORY_LIMIT;
	else if (r->noexec) {
		res->verdict = SBX_RUNTIME_ERROR;
		if (asprintf(&res->message, "cannot execute %s: %s",
		    r->spec->argv[0], strerror(r->noexec_errno)) == -1)
			res->message = NULL;
	} else if (!r->exited)
		res->message = strdup("the box's init ended without a report");
	else if (sig == SIGSYS) {
		/* Without a seccomp listener the kernel kills by SIGSYS. */
		res->verdict = SBX_SECURITY_VIOLATION;
	} else if (sig == SIGXCPU || res->cpu_ms >= lim->cpu_ms) {
		res->verdict = SBX_TIME_LIMIT;
		res->limit = "cpu";
	} else if (sig == SIGXFSZ) {
		res->verdict = SBX_OUTPUT_LIMIT;
		res->limit = "file";
	} else if ((sig || code) && st.max_hits > 0)
		res->verdict = SBX_MEMORY_LIMIT;
	else if (sig || code)
		res->verdict = SBX_RUNTIME_ERROR;
	else if (res->wall_ms >= lim->wall_ms) {
		res->verdict = SBX_TIME_LIMIT;
		res->limit = "wall";
	} else
		res->verdict = SBX_OK;

	for (int i = 0; i < 2; i++) {
		if (r->s[i].buf == NULL && (r->s[i].buf = calloc(1, 1)) == NULL)
			continue;
		r->s[i].buf[r->s[i].len] = '\0';
	}
	res->out = r->s[0].buf;
	res->out_len = r->s[0].len;
	res->out_truncated = r->s[0].truncated;
	res->err = r->s[1].buf;
	res->err_len = r->s[1].len;
	res->err_truncated = r->s[1].truncated;
	r->s[0].buf = r->s[1].buf = NULL;
}

int
sbx_run(const struct sbx_run_spec *spec, struct sbx_result *out)
{
	const struct sbx_host *h;
	struct run r;
	int64_t hw0 = -1, st0 = -1;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.spec = spec;
	r.res = out;
	r.ctl = r.in = r.dirfd = r.pidfd = r.listener = -1;
	r.args.ctl = r.args.out = r.args.err = -1;
	r.args.mark_rd = r.args.mark_wr = -1;
	r.args.measure = spec->measure;
	r.args.dir_ro = spec->read_only_dir;
	r.slot.lockfd = r.slot.netfd = -1;
	r.s[0] = (struct stream){ .fd = -1, .name = "stdout" };
	r.s[1] = (struct stream){ .fd = -1, .name = "stderr" };
	r.s[0].limit = r.s[1].limit = (size_t)spec->limits.output_kb * 1024;

	if ((rc = sbx_init(NULL, NULL)) != 0)
		goto out;
	h = sbx_host();
	if ((rc = check_spec(spec, &r.args.cpus)) != 0)
		goto out;
	r.args.pin = spec->cpus != NULL;
	if (spec->cpus != NULL && !h->have[M_CPUSET] && !h->degraded[M_CPUSET]) {
		log_warnx("--cpus needs the cpuset controller, missing here");
		rc = CD_ERR_CONFIG;
		goto out;
	}
	if ((rc = run_prepare(&r)) != 0)
		goto out;

	if (spec->measure) {
		hw0 = sbx_host_wait_us();
		st0 = sbx_host_steal_us();
	}
	run_start(&r);
	if (r.pid > 0)
		run_loop(&r);
	run_judge(&r);
	out->host_wait_us = out->steal_us = -1;
	if (spec->measure) {
		int64_t hw1 = sbx_host_wait_us(), st1 = sbx_host_steal_us();

		if (hw0 >= 0 && hw1 >= hw0)
			out->host_wait_us = hw1 - hw0;
		if (st0 >= 0 && st1 >= st0)
			out->steal_us = st1 - st0;
	}
	rc = 0;
 out:
	if (r.pid > 0 && !r.init_done) {
		(void)syscall(SYS_pidfd_send_signal, r.pidfd, SIGKILL, NULL, 0);
		(void)waitpid(r.pid, NULL, 0);
	}
	cg_destroy(&r.cg);
	if (r.dir_chowned && fchown(r.dirfd, r.dir_st.st_uid,
	    r.dir_st.st_gid) == -1)
		log_warn("cannot give %s back", spec->box_dir);
	if (r.dir_chowned)
		(void)fchmod(r.dirfd, r.dir_st.st_mode & 07777);
	fd_close(&r.ctl);
	fd_close(&r.in);
	fd_close(&r.dirfd);
	fd_close(&r.pidfd);
	fd_close(&r.listener);
	for (int i = 0; i < 2; i++) {
		fd_close(&r.s[i].fd);
		free(r.s[i].buf);
	}
	slot_release(&r.slot);
	free(r.envp);
	if (rc != 0)
		sbx_result_free(out);
	return rc;
}
