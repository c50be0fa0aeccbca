/*
 * rules.c - the seccomp filter every boxed program runs under.
 *
 * A deny list: grading C concurrency exercises (and gcc, and
 * ThreadSanitizer) needs most of the ordinary system call surface, while
 * the namespaces, the cgroup and the unprivileged identity already stop
 * most harm.  The calls below are the ones that would reach another
 * process, the kernel's riskier corners, or a way out of the namespaces.
 * A denied call either reports to the supervisor (user notification),
 * which kills the whole box and names the call, or, where the host lacks
 * that, kills the process outright.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <seccomp.h>

#include "../common/err.h"
#include "../common/log.h"
#include "sandbox-int.h"

static const struct rule {
	const char *name;
	const char *why;
} rules_deny[] = {
	{ "ptrace",		"reads and rewrites other processes" },
	{ "process_vm_readv",	"reads another process's memory" },
	{ "process_vm_writev",	"writes another process's memory" },
	{ "process_madvise",	"acts on another process's memory" },
	{ "pidfd_getfd",	"steals another process's descriptors" },
	{ "kcmp",		"probes another process's kernel objects" },
	{ "mount",		"the box's file system view is fixed" },
	{ "umount2",		"would uncover what the box's mounts hide" },
	{ "pivot_root",		"the box's root is fixed" },
	{ "chroot",		"the box's root is fixed" },
	{ "open_tree",		"new mount API: same as mount" },
	{ "move_mount",		"new mount API: same as mount" },
	{ "fsopen",		"new mount API: same as mount" },
	{ "fsconfig",		"new mount API: same as mount" },
	{ "fsmount",		"new mount API: same as mount" },
	{ "fspick",		"new mount API: same as mount" },
	{ "mount_setattr",	"new mount API: same as mount" },
	{ "unshare",		"new namespaces are the usual escape path" },
	{ "setns",		"joining namespaces leaves the box" },
	{ "keyctl",		"kernel keyrings outlive the box" },
	{ "add_key",		"kernel keyrings outlive the box" },
	{ "request_key",	"kernel keyrings outlive the box" },
	{ "bpf",		"large attack surface, no use in exercises" },
	{ "perf_event_open",	"side channels and a history of bugs" },
	{ "io_uring_setup",	"bypasses seccomp for the calls it performs" },
	{ "io_uring_enter",	"bypasses seccomp for the calls it performs" },
	{ "io_uring_register",	"bypasses seccomp for the calls it performs" },
	{ "kexec_load",		"replaces the kernel" },
	{ "kexec_file_load",	"replaces the kernel" },
	{ "init_module",	"loads kernel code" },
	{ "finit_module",	"loads kernel code" },
	{ "delete_module",	"unloads kernel code" },
	{ "userfaultfd",	"stalls the kernel at will; an exploit tool" },
	{ "open_by_handle_at",	"opens files by handle past any mount" },
	{ "fanotify_init",	"watches file systems beyond the box" },
	{ "syslog",		"the kernel log is the host's" },
	{ "acct",		"writes host accounting files" },
	{ "swapon",		"host memory management" },
	{ "swapoff",		"host memory management" },
	{ "reboot",		"host power state" },
	{ "quotactl",		"host disk quotas" },
	{ "memfd_create",	"an executable file in memory would let a program "
				"re-run itself with a library of its own" },
	{ "iopl",		"raw port I/O" },
	{ "ioperm",		"raw port I/O" },
};

/* clone() flags that make namespaces: unshare() by another door. */
static const struct flag_rule {
	unsigned long flag;
	const char *name;
	const char *why;
} rules_clone[] = {
	{ CLONE_NEWUSER,   "clone(CLONE_NEWUSER)",   "hands out capabilities" },
	{ CLONE_NEWNS,	   "clone(CLONE_NEWNS)",     "same as unshare" },
	{ CLONE_NEWPID,	   "clone(CLONE_NEWPID)",    "same as unshare" },
	{ CLONE_NEWNET,	   "clone(CLONE_NEWNET)",    "same as unshare" },
	{ CLONE_NEWIPC,	   "clone(CLONE_NEWIPC)",    "same as unshare" },
	{ CLONE_NEWUTS,	   "clone(CLONE_NEWUTS)",    "same as unshare" },
	{ CLONE_NEWCGROUP, "clone(CLONE_NEWCGROUP)", "same as unshare" },
};

static int
rule_add(scmp_filter_ctx ctx, uint32_t action, const char *name,
    unsigned int n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	/* A call this kernel's headers do not know cannot be made. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
	if (rc < 0)
		log_warnx("seccomp rule for %s: %s", name, strerror(-rc));
	return rc;
}

/*
 * Compile the filter into out (owned by the caller: free(out->filter)).
 * Built once per process so the box side only has to load it.
 */
int
rules_build(bool notify, struct sock_fprog *out)
{
	uint32_t deny = notify ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
	scmp_filter_ctx ctx = NULL;
	struct scmp_arg_cmp cmp;
	struct stat st;
	int rc = CD_ERR_SYSTEM, fd = -1;

	memset(out, 0, sizeof(*out));
	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	/* Calls of another ABI (int 0x80, x32) bypass the table below. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(rules_deny) / sizeof(*rules_deny); i++)
		if (rule_add(ctx, deny, rules_deny[i].name, 0, NULL) < 0)
			goto out;
	for (size_t i = 0; i < sizeof(rules_clone) / sizeof(*rules_clone); i++) {
		cmp = SCMP_A0(SCMP_CMP_MASKED_EQ, rules_clone[i].flag,
		    rules_clone[i].flag);
		if (rule_add(ctx, deny, "clone", 1, &cmp) < 0)
			goto out;
	}
	/* clone3 keeps its flags in memory seccomp cannot read; ENOSYS
	   makes glibc fall back to clone(), which is checked above. */
	if (rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL) < 0)
		goto out;
	/* Local sockets only: the network namespace is empty anyway, and
	   netlink, packet and vsock sockets reach the kernel or the host. */
	cmp = SCMP_A0(SCMP_CMP_NE, AF_UNIX);
	if (rule_add(ctx, deny, "socket", 1, &cmp) < 0 ||
	    rule_add(ctx, deny, "socketpair", 1, &cmp) < 0)
		goto out;

	if ((fd = memfd_create("seccomp", MFD_CLOEXEC)) == -1 ||
	    seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) == -1)
		goto out;
	if ((out->filter = malloc((size_t)st.st_size)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if (pread(fd, out->filter, (size_t)st.st_size, 0) != st.st_size) {
		free(out->filter);
		out->filter = NULL;
		goto out;
	}
	out->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	rc = 0;
 out:
	if (rc == CD_ERR_SYSTEM)
		log_warn("cannot build the seccomp filter");
	if (fd != -1)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

/* Name of a syscall for the verdict; a static string. */
const char *
rules_syscall_name(int nr)
{
	for (size_t i = 0; i < sizeof(rules_deny) / sizeof(*rules_deny); i++)
		if (seccomp_syscall_resolve_name(rules_deny[i].name) == nr)
			return rules_deny[i].name;
	if (nr == seccomp_syscall_resolve_name("clone"))
		return "clone";
	if (nr == seccomp_syscall_resolve_name("socket"))
		return "socket";
	if (nr == seccomp_syscall_resolve_name("socketpair"))
		return "socketpair";
	return "unknown";
}

/* The deny list with its reasons, for "cohort-sandbox check". */
json_t *
rules_json(void)
{
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(rules_deny) / sizeof(*rules_deny); i++)
		json_object_set_new(o, rules_deny[i].name,
		    json_string(rules_deny[i].why));
	for (size_t i = 0; i < sizeof(rules_clone) / sizeof(*rules_clone); i++)
		json_object_set_new(o, rules_clone[i].name,
		    json_string(rules_clone[i].why));
	json_object_set_new(o, "clone3", json_string("fails with ENOSYS: "
	    "its flags are out of seccomp's reach; glibc falls back to clone"));
	json_object_set_new(o, "socket(!AF_UNIX)", json_string("local sockets "
	    "only; no network, netlink, packet or vsock"));
	return o;
}
