/*
 * notify.c - systemd's notify protocol without libsystemd (notify.h):
 * one AF_UNIX datagram per state, to a path or, with a leading '@', an
 * abstract socket name.  Failures are logged and otherwise ignored: a
 * manager that cannot hear us times the start out itself.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "notify.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_len;	/* 0: no manager */

void
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL)
		return;
	n = strlen(path);
	if (n < 2 || n >= sizeof(notify_addr.sun_path) ||
	    (path[0] != '/' && path[0] != '@'))
		log_warnx("NOTIFY_SOCKET \"%s\" is not a socket path; not "
		    "notifying", path);
	else {
		notify_addr.sun_family = AF_UNIX;
		memcpy(notify_addr.sun_path, path, n);
		if (path[0] == '@')
			notify_addr.sun_path[0] = '\0';	/* abstract */
		notify_len = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + n);
	}
	unsetenv("NOTIFY_SOCKET");
}

static void
notify_send(const char *msg)
{
	int fd;

	if (notify_len == 0)
		return;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    sendto(fd, msg, strlen(msg), MSG_NOSIGNAL,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		log_warn("notify: cannot tell the service manager");
	if (fd != -1)
		close(fd);
}

void
notify_ready(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%ld\nSTATUS=%s",
	    (long)getpid(), status);
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=shutting down");
}
