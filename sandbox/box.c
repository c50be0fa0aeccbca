/*
 * box.c - the inside of a box: its init process and the program it starts.
 *
 * This code runs between clone() and execve() in a copy of a possibly
 * multithreaded supervisor, so it makes system calls only: no malloc, no
 * stdio, no logging.  A lock another thread held at clone() time would stay
 * held here forever.  Failures travel to the supervisor as messages on the
 * control socket.  Order of confinement in the program, as in OpenSMTPD:
 * file descriptors, limits, identity, capabilities, no_new_privs, seccomp,
 * exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../common/clock.h"
#include "sandbox-int.h"

static int box_ctl = -1;
static int box_dirfd = -1;	/* the box dir, opened in our mount namespace */

static void
box_send_msg(struct sbx_msg *m, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { m, sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	(void)sendmsg(box_ctl, &mh, MSG_NOSIGNAL);
}

static void
box_send(int type, int value, const char *what, int fd)
{
	struct sbx_msg m = { .type = type, .value = value };

	for (size_t i = 0; what != NULL && what[i] != '\0' &&
	    i < sizeof(m.what) - 1; i++)
		m.what[i] = what[i];
	box_send_msg(&m, fd);
}

/* The sandbox's own failure: the supervisor reports internal_error. */
static void __attribute__((noreturn))
box_fail(const char *what)
{
	box_send(MSG_FAIL, errno, what, -1);
	_exit(127);
}

/* box_fail() for a step on a path: "mount usr". */
static void __attribute__((noreturn))
box_fail_at(const char *verb, const char *path)
{
	char what[sizeof(((struct sbx_msg *)0)->what)];
	size_t n = strlen(verb);

	memcpy(what, verb, n);
	what[n++] = ' ';
	for (size_t i = 0; path[i] != '\0' && n < sizeof(what) - 1; i++)
		what[n++] = path[i];
	what[n] = '\0';
	box_fail(what);
}

/* The program's fault: it could not be executed. */
static void __attribute__((noreturn))
box_noexec(void)
{
	box_send(MSG_NOEXEC, errno, "exec", -1);
	_exit(127);
}

static void
xmount(const char *src, const char *dst, const char *type,
    unsigned long flags, const char *opts)
{
	if (mount(src, dst, type, flags, opts) == -1)
		box_fail_at("mount", dst);
}

/*
 * Bind src at dst, then remount with our flags.  A mount inherited into a
 * user namespace has its nosuid, nodev and noexec locked, so a remount
 * must repeat whichever of them the original carries.
 */
static void
xbind(const char *src, const char *dst, unsigned long extra)
{
	struct statfs sf;
	unsigned long fl = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV | extra;

	xmount(src, dst, NULL, MS_BIND | MS_REC, NULL);
	if (statfs(dst, &sf) == -1)
		box_fail_at("statfs", dst);
	if (sf.f_flags & ST_NOEXEC)
		fl |= MS_NOEXEC;
	xmount(NULL, dst, NULL, fl, NULL);
}

static void
xmkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == -1)
		box_fail_at("mkdir", path);
}

static void
xfile(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd == -1)
		box_fail_at("create", path);
	if (text != NULL && write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		box_fail_at("write", path);
	close(fd);
}

static void
xsymlink(const char *target, const char *path)
{
	if (symlink(target, path) == -1)
		box_fail_at("symlink", path);
}

/* "/proc/self/fd/N" without snprintf. */
static void
fd_path(char *buf, int fd)
{
	char digits[12];
	int n = 0;

	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	strcpy(buf, "/proc/self/fd/");
	buf += strlen(buf);
	while (n > 0)
		*buf++ = digits[--n];
	*buf = '\0';
}

/* "/oldroot" followed by path, for binds from the host's tree. */
static const char *
host_path(char *buf, size_t size, const char *path)
{
	size_t n = strlen(path);

	if (n + sizeof("/oldroot") > size)
		box_fail_at("path too long", path);
	memcpy(buf, "/oldroot", sizeof("/oldroot") - 1);
	memcpy(buf + sizeof("/oldroot") - 1, path, n + 1);
	return buf;
}

/*
 * Build the box's root on an empty tmpfs.  As in bubblewrap, we pivot into
 * it first and bind from the old root, kept at /oldroot meanwhile: paths
 * on the host stay reachable even where the new root's tmpfs hung, and
 * the old root is detached at the end.  Nothing of the host is reachable
 * afterwards except what is bound here.
 */
static void
box_mounts(const struct box_args *a)
{
	static const char *const devs[] = {
		"null", "zero", "full", "random", "urandom",
	};
	const struct sbx_host *h = a->host;
	char src[PATH_MAX + 16], dst[32];
	struct stat st;

	/* Nothing mounted below may propagate back to the host. */
	xmount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
	/* The root is a small tmpfs of our own; /tmp is only where it hangs. */
	xmount("box", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
	    "size=512k,nr_inodes=128,mode=0755");
	if (chdir("/tmp") == -1)
		box_fail("chdir root");
	xmkdir("oldroot", 0700);
	if (syscall(SYS_pivot_root, ".", "oldroot") == -1)
		box_fail("pivot_root");
	if (chdir("/") == -1)
		box_fail("chdir /");
	xmkdir("usr", 0755);
	xmkdir("etc", 0755);
	xmkdir("proc", 0555);
	xmkdir("dev", 0755);
	xmkdir("tmp", 01777);
	xmkdir("box", 0755);

	/* Programs and the toolchain, read-only; nosuid as no one may gain. */
	xbind("/oldroot/usr", "usr", MS_RDONLY);
	for (int i = 0; i < h->ntop; i++) {
		if (h->top[i].link[0] != '\0') {
			/* Merged /usr: /bin and friends are symlinks into it. */
			xsymlink(h->top[i].link, h->top[i].name);
		} else {
			/* Split /usr: the directory itself, read-only. */
			xmkdir(h->top[i].name, 0755);
			src[0] = '/';
			strcpy(src + 1, h->top[i].name);
			xbind(host_path(src, sizeof(src), src),
			    h->top[i].name, MS_RDONLY);
		}
	}

	/* A synthesized /etc: no shadow, no host users, no resolver. */
	xfile("etc/passwd", "root:x:0:0:root:/:/usr/sbin/nologin\n"
	    "sandbox:x:1000:1000:box user:/box:/bin/sh\n"
	    "nobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n");
	xfile("etc/group", "root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n");
	xfile("etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n");
	xfile("etc/nsswitch.conf", "passwd: files\ngroup: files\n"
	    "hosts: files\n");
	/* The loader's cache lists libraries that /usr shows anyway. */
	if (access("/oldroot/etc/ld.so.cache", R_OK) == 0) {
		xfile("etc/ld.so.cache", NULL);
		xbind("/oldroot/etc/ld.so.cache", "etc/ld.so.cache", MS_RDONLY);
	}

	/* /proc of the box's own pid namespace: it sees only itself. */
	xmount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);

	/* /dev with five harmless devices; the host's others stay out. */
	xmount("dev", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
	    "size=64k,nr_inodes=32,mode=0755");
	for (size_t i = 0; i < sizeof(devs) / sizeof(*devs); i++) {
		strcpy(src, "/oldroot/dev/");
		strcat(src, devs[i]);
		strcpy(dst, "dev/");
		strcat(dst, devs[i]);
		xfile(dst, NULL);
		/* Device nodes cannot be created in a user namespace. */
		xmount(src, dst, NULL, MS_BIND, NULL);
	}
	xsymlink("/proc/self/fd", "dev/fd");
	xsymlink("/proc/self/fd/0", "dev/stdin");
	xsymlink("/proc/self/fd/1", "dev/stdout");
	xsymlink("/proc/self/fd/2", "dev/stderr");
	xmkdir("dev/shm", 01777);
	/* Shared memory is charged to the box's memory cgroup. */
	/* No exec from either: a program may not run (or preload into a
	   re-run of itself) code it wrote. */
	xmount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    a->tmpfs_opts);
	/* Private /tmp, charged to the box's memory cgroup as well. */
	xmount("tmp", "tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    a->tmpfs_opts);

	if (box_dirfd >= 0) {
		/* The caller's box dir, writable; it must still be the
		   directory the supervisor opened, not a swapped-in path. */
		fd_path(src, box_dirfd);
		/* Read-only when asked: a program run (not a build) writes
		   nothing there, nor a library to preload into itself. */
		xbind(src, "box", a->dir_ro ? MS_RDONLY : 0);
		close(box_dirfd);
		if (stat("box", &st) == -1 || st.st_dev != a->box_dev ||
		    st.st_ino != a->box_ino) {
			errno = ESTALE;
			box_fail("box dir changed under us");
		}
	} else {
		/* No box dir: a fresh tmpfs owned by the box user. */
		xmount("box", "box", "tmpfs", MS_NOSUID | MS_NODEV, a->box_opts);
	}

	/* The host's tree goes away entirely. */
	if (umount2("oldroot", MNT_DETACH) == -1)
		box_fail("umount old root");
	if (rmdir("oldroot") == -1)
		box_fail("rmdir old root");
	/* Nothing in the root or in /dev is the program's to change. */
	xmount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
	    MS_NODEV, NULL);
	xmount(NULL, "/dev", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY |
	    MS_NOSUID | MS_NOEXEC, NULL);
	if (chdir("/box") == -1)
		box_fail("chdir /box");
}

/* Lower a limit; we never raise one (the host may deny us that). */
static void
box_limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl;

	if (getrlimit(resource, &rl) == -1)
		box_fail("getrlimit");
	if (rl.rlim_max != RLIM_INFINITY && hard > rl.rlim_max)
		hard = rl.rlim_max;
	rl.rlim_cur = soft < hard ? soft : hard;
	rl.rlim_max = hard;
	if (setrlimit(resource, &rl) == -1)
		box_fail("setrlimit");
}

/* Move fd to at least 16 so that 0..3 can be assigned without clashes. */
static int
fd_high(int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 16);

	if (n == -1)
		box_fail("dup");
	return n;
}

static void __attribute__((noreturn))
box_program(const struct box_args *a)
{
	const struct sbx_limits *lim = a->lim;
	struct __user_cap_header_struct caph = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct capd[2];
	rlim_t cpu_s = (lim->cpu_ms + 999) / 1000 + 1;
	unsigned int lflags = 0;
	int in, out, err, ctl, lfd, mark;

	/* Exactly stdin, stdout, stderr and the control socket survive; a
	   daemon's database sockets must not reach the program. */
	in = fd_high(a->in);
	out = fd_high(a->out);
	err = fd_high(a->err);
	ctl = fd_high(box_ctl);
	mark = a->measure ? fd_high(a->mark_wr) : -1;
	/* A timed run also keeps fd 3, the mark pipe, across exec. */
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1 ||
	    (mark >= 0 && dup2(mark, 3) == -1) ||
	    dup3(ctl, mark >= 0 ? 4 : 3, O_CLOEXEC) == -1)
		box_fail("dup2");
	box_ctl = mark >= 0 ? 4 : 3;
	if (syscall(SYS_close_range, box_ctl + 1, ~0U, 0) == -1)
		box_fail("close_range");
	/* Its own session: no terminal, and kill(0) reaches only the box.
	   A timed run stays in init's, whose autogroup carries its priority. */
	if (!a->measure && setsid() == -1)
		box_fail("setsid");

	/* No core files: a dump is a file the size of the memory limit. */
	box_limit(RLIMIT_CORE, 0, 0);
	/* One file may not grow past the file limit (SIGXFSZ). */
	box_limit(RLIMIT_FSIZE, (rlim_t)lim->file_kb * 1024,
	    (rlim_t)lim->file_kb * 1024);
	/* Bounded descriptors: each costs kernel memory we do not charge. */
	box_limit(RLIMIT_NOFILE, lim->open_files, lim->open_files);
	/* The usual 8 MiB stack: runaway recursion ends as SIGSEGV instead
	   of consuming the whole memory limit. */
	box_limit(RLIMIT_STACK, 8 << 20, 8 << 20);
	/* Per-process backstop should the supervisor's CPU polling be late. */
	box_limit(RLIMIT_CPU, cpu_s, cpu_s + 1);
	/* Backstop to the cgroup pids limit, counted in the box's userns. */
	box_limit(RLIMIT_NPROC, lim->pids, lim->pids);
	/* No real-time priority of its own making... */
	box_limit(RLIMIT_RTPRIO, 0, 0);
	/* ...and a timed run's one step below init's, so that init's clock
	   readings never wait behind the program's threads. */
	if (a->measure && sched_getscheduler(0) == SCHED_FIFO &&
	    sched_setscheduler(0, SCHED_FIFO, &(struct sched_param){
	    .sched_priority = SBX_RT_PRIO_PROGRAM }) == -1)
		box_fail("sched_setscheduler");

	/* The cpuset cgroup confines; affinity only spares a migration. */
	if (a->pin && sched_setaffinity(0, sizeof(a->cpus), &a->cpus) == -1)
		box_fail("sched_setaffinity");
	umask(022);

	/* No capability may survive into the program, in any set. */
	for (int c = 0; c <= a->host->cap_last_cap; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL)
			box_fail("capbset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		box_fail("ambient caps");
	/* Drop the supplementary groups inherited from the supervisor. */
	if (setgroups(0, NULL) == -1)
		box_fail("setgroups");
	if (setresgid(SBX_INSIDE_ID, SBX_INSIDE_ID, SBX_INSIDE_ID) == -1 ||
	    setresuid(SBX_INSIDE_ID, SBX_INSIDE_ID, SBX_INSIDE_ID) == -1)
		box_fail("setresuid");
	/* Root is unmapped here, so setresuid() kept the capabilities. */
	memset(capd, 0, sizeof(capd));
	if (syscall(SYS_capset, &caph, capd) == -1)
		box_fail("capset");

	/* Fixed layout: ThreadSanitizer of gcc 12 aborts on kernels with
	   high mmap_rnd_bits otherwise, and runs become reproducible. */
	if (personality(ADDR_NO_RANDOMIZE) == -1)
		box_fail("personality");
	/* Neither setuid files nor file capabilities may lift the program. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		box_fail("no_new_privs");
	if (a->host->seccomp_notify)
		lflags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
	lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, lflags,
	    &a->host->filter);
	if (lfd == -1)
		box_fail("seccomp");
	/* The supervisor listens for denials; we keep no copy. */
	box_send(MSG_READY, 0, NULL, lflags ? lfd : -1);
	if (lflags)
		close(lfd);

	execve(a->argv[0], a->argv, a->envp);
	box_noexec();
}

/*
 * A timed run: wait for the program's mark or its end, whichever comes
 * first, noting when the mark came.  Init runs at the program's priority,
 * so its clock readings are not delayed by the host's other work.
 */
static void
box_wait_mark(pid_t prog, int mark_rd, uint64_t *t_mark)
{
	struct pollfd pfd[2];
	char c;
	int pidfd = (int)syscall(SYS_pidfd_open, prog, 0);

	pfd[0] = (struct pollfd){ .fd = mark_rd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, pidfd >= 0 ? 2 : 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			box_fail("poll");
		}
		if (pfd[0].revents != 0) {
			if (read(mark_rd, &c, 1) == 1)
				*t_mark = (uint64_t)clock_ns();
			break;		/* the mark, or every writer gone */
		}
		if (pfd[1].revents != 0)
			break;
	}
	if (pidfd >= 0)
		close(pidfd);
}

int
box_main(void *arg)
{
	const struct box_args *a = arg;
	struct sbx_msg m = { .type = MSG_EXIT };
	pid_t prog, p;
	int status = 0;
	char go;

	box_ctl = a->ctl;
	/* A timed run's session: its autogroup is what the supervisor
	   raises to the highest priority, before it lets us go on. */
	if (a->measure && setsid() == -1)
		box_fail("setsid");
	/* Should the supervisor die, its box dies with it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		box_fail("pdeathsig");
	/* Wait until our ids are mapped and we sit in the box's cgroups. */
	if (recv(box_ctl, &go, 1, 0) != 1)
		_exit(127);
	/* Our memory is a copy of the supervisor's: nobody may read it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		box_fail("dumpable");
	/* Entered after the move, so the box's cgroup is its root. */
	if (unshare(CLONE_NEWCGROUP) == -1)
		box_fail("unshare cgroup");
	/* The box dir's parents may be searchable by root only: open it
	   before our file system identity becomes the box user's. */
	if (a->dirfd >= 0 && (box_dirfd = open(a->box_path, O_PATH |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		box_fail_at("open", a->box_path);
	/* Files we create must belong to someone mapped here: the box user
	   (they end up on read-only mounts).  Our real ids stay the host's,
	   so the program cannot signal us either. */
	if (setfsgid(SBX_INSIDE_ID) == -1 || setfsuid(SBX_INSIDE_ID) == -1)
		box_fail("setfsuid");
	/* The host's name is not the program's business. */
	if (sethostname("box", 3) == -1)
		box_fail("sethostname");
	box_mounts(a);

	m.t_fork = (uint64_t)clock_ns();
	prog = fork();
	if (prog == -1)
		box_fail("fork");
	if (prog == 0)
		box_program(a);
	if (a->measure) {
		/* Only the program may hold the write end: EOF is its end. */
		close(a->mark_wr);
		box_wait_mark(prog, a->mark_rd, &m.t_mark);
	}
	if (syscall(SYS_close_range, 0, box_ctl - 1, 0) == -1 ||
	    syscall(SYS_close_range, box_ctl + 1, ~0U, 0) == -1)
		box_fail("close_range");

	/* As init we also reap the orphans the program leaves behind. */
	for (;;) {
		p = waitpid(-1, &status, __WALL);
		if (p == prog)
			break;
		if (p == -1 && errno != EINTR)
			box_fail("waitpid");
	}
	m.t_exit = (uint64_t)clock_ns();
	m.value = status;
	box_send_msg(&m, -1);
	/* Our death makes the kernel kill whatever is left in the box. */
	_exit(0);
}
