/*
 * grandchild_ptrace.c - a grandchild makes the forbidden call while the
 * program itself waits politely: the whole box still goes.
 * expect: verdict=security_violation syscall=ptrace reaped=true wall_ms<1000
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

int
main(void)
{
	if (fork() == 0) {
		if (fork() == 0) {
			ptrace(PTRACE_TRACEME, 0, NULL, NULL);
			_exit(0);
		}
		wait(NULL);
		_exit(0);
	}
	wait(NULL);
	sleep(3);
	puts("still here");
	return 0;
}
