/*
 * kill_all.c - kill(-1, SIGKILL) and kill(1, SIGKILL): must reach only
 * the box (and not even its init).  Exit 0 means it survived to say so.
 * expect: verdict=ok exit_code=0 stdout=survived reaped=true
 * hook: kill_all_canaries
 */
#include <signal.h>
#include <stdio.h>

int
main(void)
{
	kill(-1, SIGKILL);
	kill(1, SIGKILL);
	printf("survived");
	return 0;
}
