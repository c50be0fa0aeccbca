/*
 * sandbox.h - run one untrusted program in a confined box and say how it
 * ended.  This is the whole interface the grader sees.
 *
 * A box is a fresh set of namespaces (user, pid, mount, network, ipc, uts,
 * cgroup) with a minimal read-only root, its own cgroup for limits, and a
 * seccomp filter.  The caller is the trusted side: it must be root, and it
 * must not reap children with waitpid(-1) while sbx_run() is in progress.
 */
#ifndef COHORTD_SANDBOX_H
#define COHORTD_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* Limits of one run; sbx_limits_default() fills in sensible values. */
struct sbx_limits {
	uint32_t wall_ms;	/* wall clock, from exec to exit */
	uint32_t cpu_ms;	/* CPU of every process and thread, summed */
	uint32_t memory_mb;	/* cgroup memory incl. /tmp, /dev/shm; no swap */
	uint32_t pids;		/* processes plus threads alive at once */
	uint32_t output_kb;	/* each of stdout, stderr; beyond it: killed */
	uint32_t file_kb;	/* largest file the program may write */
	uint32_t open_files;	/* file descriptors per process */
};

struct sbx_run_spec {
	const char *box_dir;	/* mounted at /box, the working directory;
				   NULL: a fresh tmpfs, gone after the run */
	char *const *argv;	/* argv[0]: path in the box or absolute path
				   of a toolchain binary, e.g. /usr/bin/gcc */
	char *const *env;	/* extra "K=V" entries, NULL-terminated; may
				   be NULL.  PATH, HOME, TMPDIR are preset. */
	const char *stdin_file;	/* NULL: /dev/null; relative: beneath
				   box_dir, never through a symlink */
	const char *cpus;	/* cpu list such as "0-1,3"; NULL: any */
	/*
	 * A timed run (a benchmark).  The box runs before the host's normal
	 * work (SCHED_FIFO where the kernel throttles it, else nice -20 in
	 * a scheduler autogroup of its own), its
	 * tasks' waiting for a CPU is accounted, and the program gets fd 3,
	 * a pipe on which its first byte marks the start of the work being
	 * timed (the trusted harness writes it once its setup is done).
	 */
	bool	 measure;
	/* box_dir mounted read-only: a run that must leave nothing there
	   (and may not write a library or a program to run). */
	bool	 read_only_dir;
	/*
	 * Non-zero: at the wall limit, before the kill, this signal goes once
	 * to every process of the box, which then has a short grace (300 ms)
	 * to write to stderr, e.g. where its threads are stuck.  The verdict
	 * is the wall time limit all the same, whatever the program does in
	 * the grace; the CPU and output limits still hold.
	 */
	int	 notice_signal;
	struct sbx_limits limits;
};

enum sbx_verdict {
	SBX_OK,
	SBX_RUNTIME_ERROR,	/* non-zero exit or a signal */
	SBX_TIME_LIMIT,		/* limit is "cpu" or "wall" */
	SBX_MEMORY_LIMIT,
	SBX_OUTPUT_LIMIT,	/* limit is "stdout", "stderr" or "file" */
	SBX_SECURITY_VIOLATION,	/* a forbidden system call; see syscall */
	SBX_INTERNAL_ERROR,	/* the sandbox failed, not the program */
};

struct sbx_result {
	enum sbx_verdict verdict;
	const char *limit;	/* static string or NULL */
	const char *syscall;	/* static string or NULL */
	char	*message;	/* detail of an internal error, or NULL */
	int	 exit_code;	/* -1 when killed by a signal */
	int	 signal;	/* 0 unless killed by a signal */
	uint32_t wall_ms, cpu_ms, memory_kb;
	/* measure: ms from the mark (or, unmarked, the program's start) to
	   its exit, timed inside the box by its init at the run's priority. */
	uint32_t work_ms;
	uint32_t run_ms;	/* measure: from the program's start to exit */
	bool	 marked;	/* measure: the program wrote the mark */
	bool	 realtime;	/* measure: it ran SCHED_FIFO, else nice -20 */
	/* Microseconds some task of the box was runnable but waited for a
	   CPU (the box cgroup's cpu.pressure "some"), or -1 where the host
	   cannot say. */
	int64_t	 wait_us;
	/* Of which every runnable task of the box waited at once (the box
	   had no CPU at all: "full"), or -1. */
	int64_t	 stall_us;
	/* measure: over the run, the host's tasks' CPU waiting (PSI "some",
	   host-wide: every other process's waiting counts too) and the time
	   the hypervisor gave this host's CPUs to others (steal, counted in
	   ticks); -1 where the kernel does not say. */
	int64_t	 host_wait_us, steal_us;
	char	*out, *err;	/* captured output, NUL-terminated */
	size_t	 out_len, err_len;
	bool	 out_truncated, err_truncated;
	bool	 reaped;	/* no process of the box is left */
	bool	 pids_limit;	/* a fork or thread was refused by the limit */
};

void	sbx_limits_default(struct sbx_limits *lim);

/*
 * Probe this host once and fix the configuration: rundir holds slot locks
 * and pooled network namespaces (NULL: /run/cohort-sandbox); degraded is a
 * comma-separated list of mechanisms the operator accepts to run without
 * (NULL: none).  Logs what is enforced.  Returns 0, or CD_ERR_CONFIG when a
 * required mechanism is missing, in which case every sbx_run() is refused.
 * Called implicitly with NULL, NULL by the first sbx_run().
 */
int	sbx_init(const char *rundir, const char *degraded);

/*
 * Run spec in a new box.  On return 0, *out holds a verdict (possibly
 * SBX_INTERNAL_ERROR) and owns its strings; free it with sbx_result_free().
 * A negative code means nothing ran and *out is empty: CD_ERR_INVALID
 * (bad spec), CD_ERR_NOT_FOUND (box dir or stdin), CD_ERR_DENIED (stdin
 * through a symlink), CD_ERR_CONFIG (refused), CD_ERR_UNAVAILABLE (every
 * slot busy), CD_ERR_NOMEM, CD_ERR_SYSTEM.
 */
int	sbx_run(const struct sbx_run_spec *spec, struct sbx_result *out);
void	sbx_result_free(struct sbx_result *res);

/* The interpreter of Python exercises; boxes see the host's /usr. */
#define SBX_PYTHON	"/usr/bin/python3"

/* New JSON renderings; the caller owns the reference.  NULL on ENOMEM.
   sbx_check_json() includes "python": {"path", "present"}. */
json_t	*sbx_result_json(const struct sbx_result *res);
json_t	*sbx_check_json(void);
const char *sbx_verdict_name(enum sbx_verdict v);

/*
 * Open name beneath directory dir without following any symlink or
 * leaving dir: how the trusted side reads what a box left behind.
 * Returns 0 and the descriptor in *fdp, or CD_ERR_DENIED / CD_ERR_SYSTEM.
 */
int	sbx_open_beneath(const char *dir, const char *name, int flags, int *fdp);

#endif
