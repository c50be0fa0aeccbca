/*
 * daemon_escape.c - double fork and setsid, then the parent exits 0; the
 * daemon would write /box/escaped after 300 ms if it survived.
 * run: --wall-ms=5000
 * expect: verdict=ok reaped=true ran_ms<250
 * hook: daemon_must_be_dead
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int
main(void)
{
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			for (int i = 0; i < 30; i++) {
				usleep(100000);
				if (i >= 2)
					close(open("/box/escaped",
					    O_WRONLY | O_CREAT, 0644));
			}
		}
		_exit(0);
	}
	usleep(20000);
	return 0;
}
