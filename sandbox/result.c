/*
 * result.c - the sandbox's small value types: default limits, results and
 * their JSON, and the trusted side's one way to open a file in a box.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "../common/err.h"
#include "../common/utf8.h"
#include "../common/log.h"
#include "sandbox-int.h"

void
sbx_limits_default(struct sbx_limits *lim)
{
	lim->wall_ms = 10000;
	lim->cpu_ms = 5000;
	lim->memory_mb = 256;
	/* 32 worker threads plus a sanitizer's own, with room to spare. */
	lim->pids = 64;
	lim->output_kb = 1024;
	lim->file_kb = 65536;
	lim->open_files = 128;
}

const char *
sbx_verdict_name(enum sbx_verdict v)
{
	static const char *const names[] = {
		[SBX_OK]		 = "ok",
		[SBX_RUNTIME_ERROR]	 = "runtime_error",
		[SBX_TIME_LIMIT]	 = "time_limit",
		[SBX_MEMORY_LIMIT]	 = "memory_limit",
		[SBX_OUTPUT_LIMIT]	 = "output_limit",
		[SBX_SECURITY_VIOLATION] = "security_violation",
		[SBX_INTERNAL_ERROR]	 = "internal_error",
	};

	if ((unsigned)v >= sizeof(names) / sizeof(*names))
		return "internal_error";
	return names[v];
}

void
sbx_result_free(struct sbx_result *res)
{
	if (res == NULL)
		return;
	free(res->out);
	free(res->err);
	free(res->message);
	memset(res, 0, sizeof(*res));
}

/* JSON strings are UTF-8: each invalid byte becomes U+FFFD. */
static json_t *
json_bytes(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, k, bad = 0;
	char *buf, *q;
	json_t *j;

	for (i = 0; i < n; i += k ? k : 1)
		if ((k = utf8_len(p + i, n - i, NULL)) == 0)
			bad++;
	if (bad == 0)
		return json_stringn(s, n);
	if ((buf = malloc(n + 2 * bad)) == NULL)
		return NULL;
	for (i = 0, q = buf; i < n; i += k ? k : 1) {
		if ((k = utf8_len(p + i, n - i, NULL)) == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
		} else {
			memcpy(q, p + i, k);
			q += k;
		}
	}
	j = json_stringn(buf, (size_t)(q - buf));
	free(buf);
	return j;
}

json_t *
sbx_result_json(const struct sbx_result *res)
{
	json_t *o;

	o = json_pack("{s:s, s:i, s:i, s:I, s:I, s:I, s:o, s:o, s:b, s:b, s:b}",
	    "verdict", sbx_verdict_name(res->verdict),
	    "exit_code", res->exit_code, "signal", res->signal,
	    "wall_ms", (json_int_t)res->wall_ms,
	    "cpu_ms", (json_int_t)res->cpu_ms,
	    "memory_kb", (json_int_t)res->memory_kb,
	    "stdout", json_bytes(res->out ? res->out : "", res->out_len),
	    "stderr", json_bytes(res->err ? res->err : "", res->err_len),
	    "stdout_truncated", res->out_truncated,
	    "stderr_truncated", res->err_truncated,
	    "reaped", res->reaped);
	if (o != NULL && res->pids_limit)
		json_object_set_new(o, "pids_limit", json_true());
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "wait_us", res->wait_us >= 0 ?
	    json_integer(res->wait_us) : json_null());
	json_object_set_new(o, "stall_us", res->stall_us >= 0 ?
	    json_integer(res->stall_us) : json_null());
	if (res->work_ms != 0 || res->marked) {
		json_object_set_new(o, "work_ms", json_integer(res->work_ms));
		json_object_set_new(o, "run_ms", json_integer(res->run_ms));
		json_object_set_new(o, "realtime", json_boolean(res->realtime));
		json_object_set_new(o, "host_wait_us", res->host_wait_us >= 0 ?
		    json_integer(res->host_wait_us) : json_null());
		json_object_set_new(o, "steal_us", res->steal_us >= 0 ?
		    json_integer(res->steal_us) : json_null());
		json_object_set_new(o, "marked", json_boolean(res->marked));
	}
	if (res->limit != NULL)
		json_object_set_new(o, "limit", json_string(res->limit));
	if (res->syscall != NULL)
		json_object_set_new(o, "syscall", json_string(res->syscall));
	if (res->message != NULL)
		json_object_set_new(o, "message", json_string(res->message));
	return o;
}

/* Without openat2: one component at a time, never through a symlink. */
static int
walk_nofollow(int dirfd, const char *name, int flags)
{
	char buf[PATH_MAX], *comp, *save = NULL, *next;
	int fd = dup(dirfd), nfd;

	if (fd == -1 || strlen(name) >= sizeof(buf)) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	strcpy(buf, name);
	for (comp = strtok_r(buf, "/", &save); comp != NULL; comp = next) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			errno = EXDEV;
			nfd = -1;
		} else
			nfd = openat(fd, comp, O_NOFOLLOW | O_CLOEXEC |
			    (next ? O_RDONLY | O_DIRECTORY : flags));
		close(fd);
		if ((fd = nfd) == -1)
			return -1;
	}
	return fd;
}

int
sbx_open_beneath(const char *dir, const char *name, int flags, int *fdp)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	int dirfd = -1, fd = -1, rc = CD_ERR_SYSTEM;

	*fdp = -1;
	if (name[0] == '/' || name[0] == '\0') {
		rc = CD_ERR_INVALID;
		goto out;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd == -1)
		goto out;
	fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	if (fd == -1 && errno == ENOSYS)
		fd = walk_nofollow(dirfd, name, flags);
	if (fd == -1) {
		/* ELOOP: a symlink; EXDEV: a way out of dir. */
		if (errno == ELOOP || errno == EXDEV)
			rc = CD_ERR_DENIED;
		goto out;
	}
	*fdp = fd;
	rc = 0;
 out:
	if (dirfd != -1)
		close(dirfd);
	return rc;
}
