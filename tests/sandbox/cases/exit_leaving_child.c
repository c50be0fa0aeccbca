/*
 * exit_leaving_child.c - exits 0 while a child spins on.
 * expect: verdict=ok exit_code=0 reaped=true ran_ms<300 cpu_ms<300
 */
#include <unistd.h>

int
main(void)
{
	if (fork() == 0)
		for (;;)
			;
	usleep(10000);
	return 0;
}
