/*
 * cgroup.c - each box's cgroup, on cgroup v2 where the host has it and on
 * the v1 controllers where it does not, behind one interface.
 *
 * A box gets "cohort-box.<supervisor pid>.<slot>" under the supervisor's
 * own cgroup (so the daemon's limits bound its boxes too), made fresh for
 * every run and removed after it: fresh counters, no zombie state.  v1
 * needs one directory per controller (memory, pids, cpuacct, cpuset); v2
 * one directory for all of them.
 *
 * A box's CPU waiting comes from its cgroup's cpu.pressure (PSI), a file
 * every v2 cgroup has whatever its controllers.  A v1 host that also
 * mounts the unified hierarchy (the "hybrid" layout) gets a second,
 * controller-less directory there for each box, for that file alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../common/err.h"
#include "../common/log.h"
#include "sandbox-int.h"

/* v1 controller names, indexed by enum cg_ctl. */
static const char *const cg_v1_name[CG_NCTL] = {
	"memory", "pids", "cpuacct", "cpuset",
};
static const enum sbx_mech cg_mech[CG_NCTL] = {
	M_MEMORY, M_PIDS, M_CPUACCT, M_CPUSET,
};

static int
cg_write(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX + 64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1)
		return CD_ERR_SYSTEM;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : CD_ERR_SYSTEM;
}

/* Read a small file into buf, NUL-terminated; -1 if it cannot. */
static ssize_t
cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return sbx_file_read(path, buf, size);
}

/* The number after "key " in a "key value" per line file, or 0. */
static uint64_t
cg_keyed(const char *dir, const char *file, const char *key)
{
	char buf[2048], *p;
	size_t kl = strlen(key);

	if (cg_read(dir, file, buf, sizeof(buf)) <= 0)
		return 0;
	for (p = buf; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

static uint64_t
cg_number(const char *dir, const char *file)
{
	char buf[64];

	if (cg_read(dir, file, buf, sizeof(buf)) <= 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

static bool
has_token(const char *list, const char *tok, const char *seps)
{
	size_t tl = strlen(tok);

	for (const char *p = list; *p != '\0'; p += strcspn(p, seps),
	    p += strspn(p, seps))
		if (strncmp(p, tok, tl) == 0 &&
		    (p[tl] == '\0' || strchr(seps, p[tl]) != NULL))
			return true;
	return false;
}

/* This process's path in the hierarchy holding controller ctl ("" = v2). */
static int
own_path(const char *ctl, char *out, size_t size)
{
	char line[1024], *a, *b;
	FILE *f;
	int rc = CD_ERR_NOT_FOUND;

	if ((f = fopen("/proc/self/cgroup", "re")) == NULL)
		return CD_ERR_SYSTEM;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((a = strchr(line, ':')) == NULL ||
		    (b = strchr(a + 1, ':')) == NULL)
			continue;
		*b = '\0';
		if ((*ctl == '\0' && a[1] == '\0' && line[0] == '0') ||
		    (*ctl != '\0' && has_token(a + 1, ctl, ","))) {
			snprintf(out, size, "%s", strcmp(b + 1, "/") ? b + 1 : "");
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* v2: make the controllers available to children of base. */
static void
cg_v2_delegate(struct sbx_host *h, const char *base)
{
	char buf[512], leaf[PATH_MAX + 16];

	if (cg_read(base, "cgroup.controllers", buf, sizeof(buf)) < 0)
		return;
	h->have[M_MEMORY] = has_token(buf, "memory", " \n");
	h->have[M_PIDS] = has_token(buf, "pids", " \n");
	h->have[M_CPUSET] = has_token(buf, "cpuset", " \n");
	h->have[M_CPUACCT] = true;	/* cpu.stat is part of the core */
	snprintf(buf, sizeof(buf), "%s%s%s",
	    h->have[M_MEMORY] ? "+memory " : "", h->have[M_PIDS] ? "+pids " : "",
	    h->have[M_CPUSET] ? "+cpuset" : "");
	if (cg_write(base, "cgroup.subtree_control", buf) == 0 || errno != EBUSY)
		goto check;
	/* No internal processes in v2: we move to a leaf of our own. */
	snprintf(leaf, sizeof(leaf), "%s/supervisor", base);
	if ((mkdir(leaf, 0755) == -1 && errno != EEXIST) ||
	    cg_write(leaf, "cgroup.procs", "0") == -1 ||
	    cg_write(base, "cgroup.subtree_control", buf) == -1)
		log_warn("cgroup v2: cannot delegate controllers below %s", base);
 check:
	cg_read(base, "cgroup.subtree_control", buf, sizeof(buf));
	h->have[M_MEMORY] = has_token(buf, "memory", " \n");
	h->have[M_PIDS] = has_token(buf, "pids", " \n");
	h->have[M_CPUSET] = has_token(buf, "cpuset", " \n");
	/* Absent without swap accounting (and in the root cgroup). */
	h->cg_swap = cg_read(base, "memory.swap.max", buf, sizeof(buf)) > 0;
}

static void	cg_kill_dir(int version, const char *dir);

/* Remove box cgroups whose supervisor died without cleaning up. */
static void
cg_sweep(const struct sbx_host *h)
{
	char dir[PATH_MAX + 64];
	const char *base;
	struct dirent *e;
	int pid, slot, end;
	DIR *d;

	for (int c = 0; c <= CG_NCTL; c++) {
		base = c < CG_NCTL ? h->cg_base[c] : h->psi_base;
		if ((c < CG_NCTL && (!h->have[cg_mech[c]] ||
		    (h->cg_version == 2 && c > 0))) || base[0] == '\0' ||
		    (d = opendir(base)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			end = 0;
			if (sscanf(e->d_name, "cohort-box.%d.%d%n", &pid, &slot,
			    &end) != 2 || e->d_name[end] != '\0' ||
			    kill(pid, 0) == 0 || errno != ESRCH)
				continue;
			if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", base,
			    e->d_name) >= sizeof(dir))
				continue;
			cg_kill_dir(c < CG_NCTL ? h->cg_version : 2, dir);
			if (rmdir(dir) == -1)
				log_warn("cannot remove stale cgroup %s", dir);
		}
		closedir(d);
	}
}

/* Find the hierarchies and where this process sits in them. */
int
cg_probe(struct sbx_host *h)
{
	char line[1024], dev[256], mnt[512], type[64], opts[512];
	char path[PATH_MAX], v2mnt[512] = "";
	FILE *f;

	if ((f = fopen("/proc/self/mounts", "re")) == NULL)
		return CD_ERR_SYSTEM;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%255s %511s %63s %511s", dev, mnt, type, opts) != 4)
			continue;
		if (strcmp(type, "cgroup2") == 0 && v2mnt[0] == '\0')
			snprintf(v2mnt, sizeof(v2mnt), "%s", mnt);
		if (strcmp(type, "cgroup") != 0)
			continue;
		for (int c = 0; c < CG_NCTL; c++) {
			if (!has_token(opts, cg_v1_name[c], ",") ||
			    own_path(cg_v1_name[c], path, sizeof(path)) != 0)
				continue;
			if (snprintf(h->cg_base[c], sizeof(h->cg_base[c]),
			    "%s%s", mnt, path) >= (int)sizeof(h->cg_base[c]))
				continue;
			h->have[cg_mech[c]] = access(h->cg_base[c], W_OK) == 0;
			h->cg_version = 1;
		}
	}
	fclose(f);

	if (h->cg_version == 1) {
		h->cg_swap = cg_read(h->cg_base[CG_MEMORY],
		    "memory.memsw.limit_in_bytes", line, sizeof(line)) > 0;
		if (v2mnt[0] == '\0' || own_path("", path, sizeof(path)) != 0 ||
		    snprintf(h->psi_base, sizeof(h->psi_base), "%s%s", v2mnt,
		    path) >= (int)sizeof(h->psi_base) ||
		    access(h->psi_base, W_OK) != 0 || cg_read(h->psi_base,
		    "cgroup.procs", line, sizeof(line)) < 0 ||
		    access("/proc/pressure/cpu", R_OK) != 0)
			h->psi_base[0] = '\0';
	} else if (v2mnt[0] != '\0' && own_path("", path, sizeof(path)) == 0) {
		h->cg_version = 2;
		for (int c = 0; c < CG_NCTL; c++)
			if (snprintf(h->cg_base[c], sizeof(h->cg_base[c]),
			    "%s%s", v2mnt, path) >= (int)sizeof(h->cg_base[c]))
				return CD_ERR_INVALID;
		cg_v2_delegate(h, h->cg_base[0]);
	}
	for (int c = 0; c < CG_NCTL; c++)
		snprintf(h->why[cg_mech[c]], sizeof(h->why[0]), "%s",
		    h->have[cg_mech[c]] ? h->cg_base[c] :
		    "controller not available");
	if (h->have[M_MEMORY] && !h->cg_swap)
		strcat(h->why[M_MEMORY], " (swap not limited)");
	cg_sweep(h);
	return 0;
}

/* v1 has a directory per controller; v2 one, owned by the first on. */
static bool
cg_owns_dir(const struct sbx_cg *cg, int c)
{
	if (!cg->on[c])
		return false;
	for (int i = 0; cg->version == 2 && i < c; i++)
		if (cg->on[i])
			return false;
	return true;
}

/*
 * Make the box's cgroup and set its limits.  On failure, what was made is
 * removed again and a negative code returned (errno says why).
 */
int
cg_create(struct sbx_cg *cg, int slot, const struct sbx_limits *lim,
    const char *cpus)
{
	const struct sbx_host *h = sbx_host();
	char val[64], mems[256];
	uint64_t mem = (uint64_t)lim->memory_mb << 20;
	int rc = CD_ERR_SYSTEM;

	memset(cg, 0, sizeof(*cg));
	cg->version = h->cg_version;
	for (int c = 0; c < CG_NCTL; c++) {
		cg->on[c] = h->have[cg_mech[c]] && (c != CG_CPUSET || cpus);
		if (cg->on[c])
			snprintf(cg->dir[c], sizeof(cg->dir[c]),
			    "%s/cohort-box.%d.%d", h->cg_base[c],
			    (int)getpid(), slot);
	}
	for (int c = 0; c < CG_NCTL; c++) {
		if (!cg_owns_dir(cg, c) || mkdir(cg->dir[c], 0755) == 0)
			continue;
		if (errno != EEXIST)
			goto out;
		/* Left by a crashed supervisor whose pid we now have. */
		cg_kill_dir(cg->version, cg->dir[c]);
		if (rmdir(cg->dir[c]) == -1 || mkdir(cg->dir[c], 0755) == -1)
			goto out;
	}
	if (cg->version == 2) {
		for (int c = 0; c < CG_NCTL && cg->psi[0] == '\0'; c++)
			if (cg->on[c])
				snprintf(cg->psi, sizeof(cg->psi), "%s",
				    cg->dir[c]);
	} else if (h->psi_base[0] != '\0') {
		/* Accounting only: a box without it is still confined. */
		if ((size_t)snprintf(cg->psi, sizeof(cg->psi),
		    "%s/cohort-box.%d.%d", h->psi_base, (int)getpid(), slot) >=
		    sizeof(cg->psi))
			cg->psi[0] = '\0';
		else if (mkdir(cg->psi, 0755) == -1 && (errno != EEXIST ||
		    (cg_kill_dir(2, cg->psi), rmdir(cg->psi) == -1) ||
		    mkdir(cg->psi, 0755) == -1))
			cg->psi[0] = '\0';	/* no stale counters */
		cg->psi_own = access(cg->psi, W_OK) == 0;
		if (!cg->psi_own)
			cg->psi[0] = '\0';
	}
	cg->psi_on = cg->psi[0] != '\0';

	if (cg->on[CG_MEMORY]) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)mem);
		/* The memory limit: heap, stacks, page cache, tmpfs. */
		if (cg_write(cg->dir[CG_MEMORY], cg->version == 1 ?
		    "memory.limit_in_bytes" : "memory.max", val) != 0)
			goto out;
		/* Swap off: memory past the limit must not spill to disk. */
		if (h->cg_swap && cg_write(cg->dir[CG_MEMORY], cg->version == 1 ?
		    "memory.memsw.limit_in_bytes" : "memory.swap.max",
		    cg->version == 1 ? val : "0") != 0)
			goto out;
		/* v2: an OOM kills the whole box, not one arbitrary thread. */
		if (cg->version == 2)
			(void)cg_write(cg->dir[CG_MEMORY], "memory.oom.group", "1");
	}
	if (cg->on[CG_PIDS]) {
		snprintf(val, sizeof(val), "%u", lim->pids);
		/* Processes and threads: a fork bomb stops here. */
		if (cg_write(cg->dir[CG_PIDS], "pids.max", val) != 0)
			goto out;
	}
	if (cg->on[CG_CPUSET]) {
		/* v1 refuses tasks until mems is set; take the parent's. */
		if (cg->version == 1 && (cg_read(h->cg_base[CG_CPUSET],
		    "cpuset.effective_mems", mems, sizeof(mems)) <= 0 ||
		    cg_write(cg->dir[CG_CPUSET], "cpuset.mems", mems) != 0))
			goto out;
		/* Pinning the program cannot undo with sched_setaffinity. */
		if (cg_write(cg->dir[CG_CPUSET], "cpuset.cpus", cpus) != 0)
			goto out;
	}
	rc = 0;
 out:
	if (rc != 0) {
		int saved = errno;

		cg_destroy(cg);
		errno = saved;
	}
	return rc;
}

int
cg_attach(struct sbx_cg *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int c = 0; c < CG_NCTL; c++) {
		if (!cg->on[c])
			continue;
		if (cg_write(cg->dir[c], "cgroup.procs", val) != 0)
			return CD_ERR_SYSTEM;
		if (cg->version == 2)
			break;
	}
	if (cg->psi_own && cg_write(cg->psi, "cgroup.procs", val) != 0) {
		log_warn("cannot attach the box to %s; its CPU waiting is "
		    "not accounted", cg->psi);
		cg->psi_on = false;
	}
	return 0;
}

static const char *
cg_cpu_dir(const struct sbx_cg *cg)
{
	if (cg->version == 2) {
		for (int c = 0; c < CG_NCTL; c++)
			if (cg->on[c])
				return cg->dir[c];
		return NULL;
	}
	return cg->on[CG_CPU] ? cg->dir[CG_CPU] : NULL;
}

/* CPU time of everything in the box so far, in microseconds. */
int
cg_cpu_us(const struct sbx_cg *cg, uint64_t *us)
{
	const char *dir = cg_cpu_dir(cg);

	*us = 0;
	if (dir == NULL)
		return CD_ERR_NOT_FOUND;
	if (cg->version == 1)
		*us = cg_number(dir, "cpuacct.usage") / 1000;
	else
		*us = cg_keyed(dir, "cpu.stat", "usage_usec");
	return 0;
}

void
cg_stats(const struct sbx_cg *cg, struct cg_stats *st)
{
	const char *mem = cg->dir[CG_MEMORY];

	memset(st, 0, sizeof(*st));
	cg_cpu_us(cg, &st->cpu_us);
	if (cg->on[CG_PIDS])
		st->pids_hits = cg_keyed(cg->dir[CG_PIDS], "pids.events", "max");
	st->wait_us = st->stall_us = -1;
	if (cg->psi_on) {
		char path[PATH_MAX + 16];

		snprintf(path, sizeof(path), "%s/cpu.pressure", cg->psi);
		sbx_psi_read(path, &st->wait_us, &st->stall_us);
	}
	if (!cg->on[CG_MEMORY])
		return;
	if (cg->version == 1) {
		st->peak_kb = cg_number(mem, "memory.max_usage_in_bytes") / 1024;
		st->oom_kills = cg_keyed(mem, "memory.oom_control", "oom_kill");
		st->max_hits = cg_number(mem, "memory.failcnt");
	} else {
		st->peak_kb = cg_number(mem, "memory.peak") / 1024;
		st->oom_kills = cg_keyed(mem, "memory.events", "oom_kill");
		st->max_hits = cg_keyed(mem, "memory.events", "max");
	}
}

/* The first directory that lists the box's processes, or NULL. */
static const char *
cg_procs_dir(const struct sbx_cg *cg)
{
	static const int order[] = { CG_PIDS, CG_MEMORY, CG_CPU, CG_CPUSET };

	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++)
		if (cg->on[order[i]])
			return cg->dir[order[i]];
	return NULL;
}

bool
cg_empty(const struct sbx_cg *cg)
{
	const char *dir = cg_procs_dir(cg);
	char buf[16];

	/* Without any cgroup the pid namespace's death is all we have. */
	return dir == NULL || cg_read(dir, "cgroup.procs", buf, sizeof(buf)) == 0;
}

int
cg_procs(const struct sbx_cg *cg, pid_t *pids, int max)
{
	const char *dir = cg_procs_dir(cg);
	char buf[4096], *p, *end;
	int n = 0;

	if (dir == NULL || cg_read(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; n < max; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0)
			pids[n++] = (pid_t)pid;
	}
	return n;
}

/*
 * Kill everything in the box's cgroup.  Only a fallback: the death of the
 * box's init already takes its pid namespace down with it.
 */
static void
cg_kill_dir(int version, const char *dir)
{
	struct timespec ms = { 0, 1000000 };
	char buf[4096], *p, *end;

	if (version == 2 && cg_write(dir, "cgroup.kill", "1") == 0)
		return;
	for (int tries = 0; tries < 200; tries++) {
		if (cg_read(dir, "cgroup.procs", buf, sizeof(buf)) <= 0)
			return;
		for (p = buf; *p != '\0'; p = end) {
			long pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
		}
		nanosleep(&ms, NULL);
	}
}

void
cg_kill(const struct sbx_cg *cg)
{
	const char *dir = cg_procs_dir(cg);

	if (dir != NULL)
		cg_kill_dir(cg->version, dir);
}

void
cg_destroy(struct sbx_cg *cg)
{
	if (cg == NULL)
		return;
	for (int c = CG_NCTL - 1; c >= 0; c--) {
		if (cg_owns_dir(cg, c) && cg->dir[c][0] != '\0' &&
		    rmdir(cg->dir[c]) == -1 && errno != ENOENT)
			log_warn("cannot remove cgroup %s", cg->dir[c]);
	}
	if (cg->psi_own && rmdir(cg->psi) == -1 && errno != ENOENT)
		log_warn("cannot remove cgroup %s", cg->psi);
	memset(cg, 0, sizeof(*cg));
}
