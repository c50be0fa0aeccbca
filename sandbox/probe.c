/*
 * probe.c - what this host can enforce, found once per process, logged,
 * and reported by "cohort-sandbox check".  A required mechanism that is
 * missing refuses every run unless the operator names it as degraded;
 * nothing is ever skipped silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "../common/err.h"
#include "../common/log.h"
#include "sandbox-int.h"

static const struct mech {
	const char *name;
	bool	 required;	/* runs are refused without it */
	bool	 degradable;	/* ... unless the operator accepts that */
} mechs[M_COUNT] = {
	[M_USERNS]	= { "user_namespace",	 true,	false },
	[M_PIDNS]	= { "pid_namespace",	 true,	false },
	[M_MNTNS]	= { "mount_namespace",	 true,	false },
	[M_NETNS]	= { "network_namespace", true,	false },
	[M_IPCNS]	= { "ipc_namespace",	 true,	false },
	[M_UTSNS]	= { "uts_namespace",	 true,	false },
	[M_CGNS]	= { "cgroup_namespace",	 true,	false },
	[M_SECCOMP]	= { "seccomp",		 true,	false },
	[M_MEMORY]	= { "memory_limit",	 true,	true },
	[M_PIDS]	= { "pids_limit",	 true,	true },
	[M_CPUACCT]	= { "cpu_accounting",	 true,	true },
	/* Needed only by runs that ask for --cpus. */
	[M_CPUSET]	= { "cpuset",		 false,	true },
	/* Without it the trusted side walks paths with O_NOFOLLOW. */
	[M_OPENAT2]	= { "openat2",		 false,	false },
};

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sbx_host probe_host;
static bool probe_done;
static int probe_rc;

ssize_t
sbx_file_read(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static bool
file_has(const char *path, const char *word)
{
	char buf[512];

	return sbx_file_read(path, buf, sizeof(buf)) >= 0 &&
	    strstr(buf, word) != NULL;
}

long
sbx_file_long(const char *path, long dflt)
{
	char buf[64];

	return sbx_file_read(path, buf, sizeof(buf)) > 0 ?
	    strtol(buf, NULL, 10) : dflt;
}

void
sbx_psi_read(const char *path, int64_t *some_us, int64_t *full_us)
{
	char buf[256], *p;

	*some_us = *full_us = -1;
	if (sbx_file_read(path, buf, sizeof(buf)) <= 0)
		return;
	if (strncmp(buf, "some ", 5) != 0 || (p = strstr(buf, "total=")) == NULL)
		return;
	*some_us = (int64_t)strtoull(p + 6, NULL, 10);
	if ((p = strstr(p, "\nfull ")) != NULL && (p = strstr(p, "total=")) !=
	    NULL)
		*full_us = (int64_t)strtoull(p + 6, NULL, 10);
}

int64_t
sbx_host_wait_us(void)
{
	int64_t some, full;

	sbx_psi_read("/proc/pressure/cpu", &some, &full);
	return some;
}

int64_t
sbx_host_steal_us(void)
{
	unsigned long long v[8];
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (f == NULL)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8 || hz <= 0)
		return -1;
	return (int64_t)(v[7] * 1000000ULL / (unsigned long long)hz);
}

static void
probe_namespaces(struct sbx_host *h)
{
	static const struct { enum sbx_mech m; const char *file; } ns[] = {
		{ M_USERNS, "user" }, { M_PIDNS, "pid" }, { M_MNTNS, "mnt" },
		{ M_NETNS, "net" }, { M_IPCNS, "ipc" }, { M_UTSNS, "uts" },
		{ M_CGNS, "cgroup" },
	};
	char path[64];

	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i].file);
		h->have[ns[i].m] = access(path, F_OK) == 0;
		snprintf(h->why[ns[i].m], sizeof(h->why[0]), "%s",
		    h->have[ns[i].m] ? "new per box" : "kernel lacks it");
	}
	if (h->have[M_USERNS] &&
	    sbx_file_long("/proc/sys/user/max_user_namespaces", 1) == 0) {
		h->have[M_USERNS] = false;
		snprintf(h->why[M_USERNS], sizeof(h->why[0]),
		    "user.max_user_namespaces is 0");
	}
	if (geteuid() != 0) {
		h->have[M_USERNS] = false;
		snprintf(h->why[M_USERNS], sizeof(h->why[0]),
		    "the supervisor must run as root to map box users");
	}
	if (h->have[M_NETNS])
		snprintf(h->why[M_NETNS], sizeof(h->why[0]),
		    "empty; one pooled per slot in %.60s", h->rundir);
}

static void
probe_seccomp(struct sbx_host *h)
{
	const char *avail = "/proc/sys/kernel/seccomp/actions_avail";

	h->seccomp_notify = file_has(avail, "user_notif");
	h->have[M_SECCOMP] = file_has(avail, "kill_process") &&
	    rules_build(h->seccomp_notify, &h->filter) == 0;
	snprintf(h->why[M_SECCOMP], sizeof(h->why[0]), "%s",
	    !h->have[M_SECCOMP] ? "no seccomp filter with kill_process" :
	    h->seccomp_notify ? "deny list; a denial is reported and kills the box" :
	    "deny list; a denial kills the process");
}

static void
probe_openat2(struct sbx_host *h)
{
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));

	h->have[M_OPENAT2] = fd >= 0;
	if (fd >= 0)
		close(fd);
	snprintf(h->why[M_OPENAT2], sizeof(h->why[0]), "%s", fd >= 0 ?
	    "RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS" : "fallback: O_NOFOLLOW walk");
}

/* /bin, /lib and friends: symlinks into /usr, or directories to bind. */
static void
probe_root(struct sbx_host *h)
{
	static const char *const names[] = {
		"bin", "sbin", "lib", "lib32", "lib64", "libx32",
	};
	struct sbx_topdir *t;
	struct stat st;
	char path[32];
	ssize_t n;

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "/%s", names[i]);
		if (lstat(path, &st) == -1 ||
		    !(S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		t = &h->top[h->ntop];
		snprintf(t->name, sizeof(t->name), "%s", names[i]);
		if (S_ISLNK(st.st_mode)) {
			n = readlink(path, t->link, sizeof(t->link) - 1);
			if (n <= 0)
				continue;
			t->link[n] = '\0';
		}
		h->ntop++;
	}
}

static int
probe_degraded(struct sbx_host *h, const char *list)
{
	char buf[256], *tok, *save = NULL;
	int m;

	if (list == NULL || *list == '\0')
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save)) {
		for (m = 0; m < M_COUNT; m++)
			if (strcmp(tok, mechs[m].name) == 0)
				break;
		if (m == M_COUNT || !mechs[m].degradable) {
			log_warnx("cannot run without %s: not a degradable "
			    "mechanism (memory_limit, pids_limit, "
			    "cpu_accounting, cpuset)", tok);
			return CD_ERR_CONFIG;
		}
		h->degraded[m] = !h->have[m];
	}
	return 0;
}

static json_t *
probe_fields(const struct sbx_host *h)
{
	json_t *o = json_object(), *missing = json_array(), *deg = json_array();

	for (int m = 0; m < M_COUNT; m++) {
		if (h->degraded[m])
			json_array_append_new(deg, json_string(mechs[m].name));
		else if (!h->have[m] && mechs[m].required)
			json_array_append_new(missing, json_string(mechs[m].name));
	}
	json_object_set_new(o, "ready", json_boolean(h->ready));
	json_object_set_new(o, "cgroup", h->cg_version == 0 ? json_null() :
	    json_string(h->cg_version == 1 ? "v1" : "v2"));
	json_object_set_new(o, "missing", missing);
	json_object_set_new(o, "degraded", deg);
	return o;
}

/* Called with probe_lock held. */
static int
probe(const char *rundir, const char *degraded)
{
	struct sbx_host *h = &probe_host;
	int rc;

	snprintf(h->rundir, sizeof(h->rundir), "%s", rundir ? rundir : SBX_RUNDIR);
	if (mkdir(h->rundir, 0700) == -1 && errno != EEXIST)
		log_warn("cannot create %s", h->rundir);
	h->cap_last_cap = (int)sbx_file_long("/proc/sys/kernel/cap_last_cap",
	    63);
	h->ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (h->ncpus < 1)
		h->ncpus = 1;
	probe_namespaces(h);
	probe_seccomp(h);
	probe_openat2(h);
	probe_root(h);
	if ((rc = cg_probe(h)) != 0)
		log_warn("cannot read this host's cgroups");
	if ((rc = probe_degraded(h, degraded)) != 0)
		return rc;

	h->ready = true;
	for (int m = 0; m < M_COUNT; m++)
		if (mechs[m].required && !h->have[m] && !h->degraded[m])
			h->ready = false;
	log_fields(h->ready ? LOG_LVL_INFO : LOG_LVL_WARN, h->ready ?
	    "sandbox ready" : "sandbox refuses runs: mechanisms missing",
	    probe_fields(h));
	return h->ready ? 0 : CD_ERR_CONFIG;
}

int
sbx_init(const char *rundir, const char *degraded)
{
	int rc;

	pthread_mutex_lock(&probe_lock);
	if (!probe_done) {
		probe_rc = probe(rundir, degraded);
		probe_done = true;
	}
	rc = probe_rc;
	pthread_mutex_unlock(&probe_lock);
	return rc;
}

const struct sbx_host *
sbx_host(void)
{
	(void)sbx_init(NULL, NULL);
	return &probe_host;
}

json_t *
sbx_check_json(void)
{
	const struct sbx_host *h = sbx_host();
	json_t *o = probe_fields(h), *ms = json_object(), *m;

	for (int i = 0; i < M_COUNT; i++) {
		m = json_pack("{s:b, s:b, s:s}", "enforced", h->have[i],
		    "required", mechs[i].required, "how", h->why[i]);
		json_object_set_new(ms, mechs[i].name, m);
	}
	json_object_set_new(ms, "no_new_privs", json_pack("{s:b,s:b,s:s}",
	    "enforced", 1, "required", 1, "how", "set before exec"));
	json_object_set_new(ms, "capabilities", json_pack("{s:b,s:b,s:s}",
	    "enforced", 1, "required", 1, "how",
	    "all sets emptied; box user unmapped on the host"));
	json_object_set_new(o, "mechanisms", ms);
	json_object_set_new(o, "denied_syscalls", rules_json());
	/* What timed runs (benchmarks) get here: docs/GRADING.md. */
	json_object_set_new(o, "timed_runs", json_pack("{s:s, s:s}",
	    "priority", sbx_realtime_ok() ? "realtime" : "nice",
	    "cpu_wait", h->cg_version == 2 || h->psi_base[0] != '\0' ?
	    "box cgroup cpu.pressure" : access("/proc/pressure/cpu", R_OK) ==
	    0 ? "host /proc/pressure/cpu" : "none"));
	/* Python exercises need the interpreter the boxes see in /usr;
	   "cohort-sandbox check" also starts it in a box. */
	json_object_set_new(o, "python", json_pack("{s:s, s:b}", "path",
	    SBX_PYTHON, "present", access(SBX_PYTHON, X_OK) == 0));
	return o;
}
