/*
 * slot.c - box slots: a lock file, a host uid and a pooled network
 * namespace per slot, so that concurrent boxes never share any of them.
 *
 * Creating a network namespace takes a kernel-wide lock and costs about
 * half a millisecond here (more under load, and its teardown is deferred
 * work); a box needs one that is empty, not one that is new.  Each slot
 * keeps its namespace alive by a bind mount on rundir/net.N, like
 * "ip netns add", and only the slot's holder ever enters it.  Sharing it
 * between successive boxes leaks nothing: AF_UNIX is the only family a box
 * may use, its abstract sockets die with the box's processes, and nobody
 * inside holds CAP_NET_ADMIN over it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include "../common/err.h"
#include "../common/log.h"
#include "sandbox-int.h"

static int
net_open(const char *path)
{
	struct statfs sf;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == NSFS_MAGIC)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The slot's namespace, made on first use; -1 (fresh per box) if not. */
static int
net_get(int slot)
{
	char path[PATH_MAX + 16];
	int fd, status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/net.%d", sbx_host()->rundir, slot);
	if ((fd = net_open(path)) >= 0)
		return fd;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1)
		goto fail;
	close(fd);
	/* A child makes it: unshare() would move this thread for good. */
	if ((pid = fork()) == -1)
		goto fail;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) == -1 ||
		    mount("/proc/thread-self/ns/net", path, NULL, MS_BIND,
		    NULL) == -1)
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) == -1 || status != 0 ||
	    (fd = net_open(path)) == -1)
		goto fail;
	return fd;
 fail:
	log_warn("slot %d: no pooled network namespace at %s; using a fresh "
	    "one per box", slot, path);
	return -1;
}

/*
 * Take the first free slot.  Returns 0, or CD_ERR_UNAVAILABLE when all
 * SBX_SLOTS are busy, or CD_ERR_SYSTEM.  Release with slot_release().
 */
int
slot_acquire(struct sbx_slot *s)
{
	char path[PATH_MAX + 16];
	int fd;

	s->index = -1;
	s->lockfd = s->netfd = -1;
	for (int i = 0; i < SBX_SLOTS; i++) {
		snprintf(path, sizeof(path), "%s/slot.%d", sbx_host()->rundir, i);
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd == -1) {
			log_warn("cannot open %s", path);
			return CD_ERR_SYSTEM;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			s->index = i;
			s->lockfd = fd;
			s->netfd = net_get(i);
			return 0;
		}
		close(fd);
		if (errno != EWOULDBLOCK) {
			log_warn("cannot lock %s", path);
			return CD_ERR_SYSTEM;
		}
	}
	return CD_ERR_UNAVAILABLE;
}

void
slot_release(struct sbx_slot *s)
{
	if (s == NULL)
		return;
	if (s->netfd >= 0)
		close(s->netfd);
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->lockfd = s->netfd = -1;
	s->index = -1;
}
