/*
 * tcp_outside.c - TCP to an address outside this host.
 * expect: verdict=security_violation syscall=socket stdout!~connected reaped=true
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

int
main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(443) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "1.1.1.1", &sa.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		puts("connected");
	return 0;
}
