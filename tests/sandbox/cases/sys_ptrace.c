/*
 * sys_ptrace.c - calls ptrace: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=ptrace stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>

int
main(void)
{
	long rc = (long)ptrace(PTRACE_TRACEME, 0, NULL, NULL);

	printf("allowed: %ld\n", rc);
	return 0;
}
