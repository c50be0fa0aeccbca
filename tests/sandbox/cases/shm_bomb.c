/*
 * shm_bomb.c - fills /dev/shm with 1 MiB files; tmpfs pages are charged
 * to the box's memory cgroup.
 * run: --memory-mb=64 --cpu-ms=5000 --wall-ms=10000
 * expect: verdict=memory_limit reaped=true
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	static char chunk[1 << 20];
	char name[64];

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 100000; i++) {
		int fd;

		snprintf(name, sizeof(name), "/dev/shm/f%d", i);
		if ((fd = open(name, O_WRONLY | O_CREAT, 0600)) == -1 ||
		    write(fd, chunk, sizeof(chunk)) != sizeof(chunk)) {
			perror(name);
			return 1;
		}
		close(fd);
	}
	return 0;
}
