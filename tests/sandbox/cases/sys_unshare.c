/*
 * sys_unshare.c - calls unshare: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=unshare stdout!~allowed reaped=true
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sched.h>

int
main(void)
{
	long rc = (long)unshare(CLONE_NEWUSER);

	printf("allowed: %ld\n", rc);
	return 0;
}
