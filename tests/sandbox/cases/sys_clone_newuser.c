/*
 * sys_clone_newuser.c - clone() straight into a new user namespace, the
 * back door around unshare().
 * expect: verdict=security_violation syscall=clone stdout!~allowed reaped=true
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int
main(void)
{
	long rc = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);

	if (rc == 0)
		_exit(0);
	printf("allowed: %ld\n", rc);
	return 0;
}
