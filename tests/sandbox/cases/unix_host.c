/*
 * unix_host.c - tries the host's unix sockets: a path socket and an
 * abstract one started by the suite, and PostgreSQL's.  Exit 0 only if
 * every connect fails.
 * args: HOSTSOCK cohort-sandbox-test-listener
 * expect: verdict=ok exit_code=0 reaped=true
 * hook: listener_untouched
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static int
try(const char *name, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    abstract + strlen(name) + !abstract);

	snprintf(sa.sun_path + abstract, sizeof(sa.sun_path) - 1, "%s", name);
	if (connect(fd, (struct sockaddr *)&sa, len) == 0) {
		printf("reached %s%s\n", abstract ? "@" : "", name);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int reached = 0;

	if (argc != 3)
		return 2;
	reached += try(argv[1], 0);
	reached += try(argv[2], 1);
	reached += try("/run/postgresql/.s.PGSQL.5432", 0);
	reached += try("/var/run/postgresql/.s.PGSQL.5432", 0);
	return reached;
}
