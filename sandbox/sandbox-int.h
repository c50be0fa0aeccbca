/*
 * sandbox-int.h - what the sandbox's files share with each other and not
 * with the grader: the host probe, the cgroup interface, the slot pool and
 * the box side's entry point.
 */
#ifndef COHORTD_SANDBOX_INT_H
#define COHORTD_SANDBOX_INT_H

#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>

#include "sandbox.h"

#define SBX_SLOTS	64	/* boxes that may run at once per rundir */
#define SBX_UID_BASE	60000	/* host uid and gid of slot 0's box user */
#define SBX_INSIDE_ID	1000	/* the box user's uid and gid inside */
#define SBX_RUNDIR	"/run/cohort-sandbox"
/* SCHED_FIFO priorities of a timed run: init above its program. */
#define SBX_RT_PRIO_INIT	2
#define SBX_RT_PRIO_PROGRAM	1

/* Mechanisms the probe looks for; the order is that of probe.c's table. */
enum sbx_mech {
	M_USERNS, M_PIDNS, M_MNTNS, M_NETNS, M_IPCNS, M_UTSNS, M_CGNS,
	M_SECCOMP, M_MEMORY, M_PIDS, M_CPUACCT, M_CPUSET, M_OPENAT2,
	M_COUNT
};

/* A cgroup controller's directory for one box, or the parent of them. */
enum cg_ctl { CG_MEMORY, CG_PIDS, CG_CPU, CG_CPUSET, CG_NCTL };

/* Top-level entries of the box root besides usr: a symlink or a bind. */
struct sbx_topdir {
	char	 name[16];
	char	 link[64];	/* non-empty: make a symlink to this */
};

struct sbx_host {
	bool	 have[M_COUNT];		/* found on this host */
	bool	 degraded[M_COUNT];	/* missing, and the operator accepts it */
	bool	 ready;			/* runs are allowed */
	char	 why[M_COUNT][96];	/* how it is enforced, or why not */
	int	 cg_version;		/* 1, 2, or 0 when none */
	char	 cg_base[CG_NCTL][PATH_MAX]; /* where box cgroups are made */
	char	 psi_base[PATH_MAX];	/* v1 hosts: where a v2 cgroup gives
					   each box its cpu.pressure; "" none */
	bool	 cg_swap;		/* swap can be limited too */
	bool	 seccomp_notify;	/* denials are reported to us */
	int	 cap_last_cap;
	int	 ncpus;
	struct sbx_topdir top[8];
	int	 ntop;
	char	 rundir[PATH_MAX];
	struct sock_fprog filter;	/* compiled once, loaded by each box */
};

/* sandbox.c: timed runs may run SCHED_FIFO (the kernel throttles it). */
bool	sbx_realtime_ok(void);

/* probe.c */
/* Read a small file into buf (size bytes), NUL-terminated: the bytes
 * read, or -1 when it cannot be opened (buf untouched) or read. */
ssize_t	sbx_file_read(const char *path, char *buf, size_t size);
long	sbx_file_long(const char *path, long dflt);	/* a one-number file */
/* A cpu.pressure file's "some" and "full" totals (us), or -1 each. */
void	sbx_psi_read(const char *path, int64_t *some_us, int64_t *full_us);
int64_t	sbx_host_wait_us(void);		/* PSI cpu "some" total, or -1 */
int64_t	sbx_host_steal_us(void);	/* steal of all CPUs, or -1 */
const struct sbx_host *sbx_host(void);	/* after sbx_init; never NULL */

/* rules.c: build the seccomp program; notify picks the deny action. */
int	rules_build(bool notify, struct sock_fprog *out);
const char *rules_syscall_name(int nr);
json_t	*rules_json(void);

/* cgroup.c: cgroup v1 and v2 behind one interface. */
struct sbx_cg {
	int	 version;
	bool	 on[CG_NCTL];
	char	 dir[CG_NCTL][PATH_MAX];
	char	 psi[PATH_MAX];	/* holds cpu.pressure; "" none */
	bool	 psi_own;	/* psi is a directory of its own (v1 hosts) */
	bool	 psi_on;	/* the box is in psi: its figures are its own */
};
struct cg_stats {
	uint64_t cpu_us;
	uint64_t peak_kb;
	uint64_t oom_kills;	/* processes the box's OOM killer took */
	uint64_t max_hits;	/* times usage hit the memory limit */
	uint64_t pids_hits;	/* forks and clones refused by the pids limit */
	int64_t	 wait_us;	/* cpu.pressure "some" total; -1 unknown */
	int64_t	 stall_us;	/* and "full": no task of the box ran */
};
int	cg_probe(struct sbx_host *h);
int	cg_create(struct sbx_cg *cg, int slot, const struct sbx_limits *lim,
	    const char *cpus);
int	cg_attach(struct sbx_cg *cg, pid_t pid);
int	cg_cpu_us(const struct sbx_cg *cg, uint64_t *us);
void	cg_stats(const struct sbx_cg *cg, struct cg_stats *st);
bool	cg_empty(const struct sbx_cg *cg);
/* Up to max of the box's processes (host pids, init among them); -1 when
   no cgroup lists them. */
int	cg_procs(const struct sbx_cg *cg, pid_t *pids, int max);
void	cg_kill(const struct sbx_cg *cg);
void	cg_destroy(struct sbx_cg *cg);

/* slot.c: a slot is a lock, a box uid and a pooled network namespace. */
struct sbx_slot {
	int	 index;
	int	 lockfd;
	int	 netfd;		/* -1: the box gets a fresh namespace */
};
int	slot_acquire(struct sbx_slot *s);
void	slot_release(struct sbx_slot *s);

/* Messages on the control socket, box to supervisor. */
enum { MSG_READY = 1, MSG_EXIT, MSG_FAIL, MSG_NOEXEC };
struct sbx_msg {
	int	 type;
	int	 value;		/* EXIT: wait status; FAIL: errno */
	char	 what[56];	/* FAIL: the step that failed */
	/* EXIT of a timed run: CLOCK_MONOTONIC ns at the program's fork,
	   at its mark (0: none) and at its exit, read by init. */
	uint64_t t_fork, t_mark, t_exit;
};

/* What the box side needs; prepared by the supervisor before clone(). */
struct box_args {
	const struct sbx_host *host;
	char *const *argv;
	char *const *envp;
	int	 ctl;		/* box end of the control socket */
	int	 in, out, err;	/* the program's stdin, stdout, stderr */
	int	 dirfd;		/* the box dir, or -1 for a tmpfs box */
	char	 box_path[PATH_MAX];	/* its canonical path on the host */
	dev_t	 box_dev;	/* and identity, checked after the bind */
	ino_t	 box_ino;
	const struct sbx_limits *lim;
	bool	 pin;		/* apply cpus */
	bool	 measure;	/* spec->measure */
	bool	 dir_ro;	/* spec->read_only_dir */
	int	 mark_rd, mark_wr;	/* measure: the mark pipe */
	cpu_set_t cpus;
	char	 tmpfs_opts[64];	/* size limit of /tmp, /dev/shm, /box */
	char	 box_opts[96];
};

/* box.c: entry of the box's init process (clone() callback). */
int	box_main(void *arg);

#endif
