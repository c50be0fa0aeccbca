/*
 * sbx-listen.c - a host-side listener for the hostile suite: a unix socket
 * at PATH and an abstract one named NAME.  Appends "connected" to LOG for
 * every connection accepted, until killed.  Boxes must never reach it.
 *
 *   sbx-listen PATH NAME LOG
 */
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static int
listen_on(const char *name, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path + abstract, sizeof(sa.sun_path) - 1, "%s", name);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract +
	    strlen(name) + !abstract);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, len) == -1 ||
	    listen(fd, 8) == -1) {
		perror(name);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct pollfd p[2];
	int log, c;

	if (argc != 4)
		return 2;
	p[0].fd = listen_on(argv[1], 0);
	p[1].fd = listen_on(argv[2], 1);
	log = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (p[0].fd == -1 || p[1].fd == -1 || log == -1)
		return 1;
	chmod(argv[1], 0777);
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) == -1)
			continue;
		for (int i = 0; i < 2; i++)
			if (p[i].revents && (c = accept(p[i].fd, NULL, NULL)) >= 0) {
				(void)!write(log, "connected\n", 10);
				close(c);
			}
	}
}
