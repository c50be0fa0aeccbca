/*
 * sys_bpf.c - calls bpf: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=bpf stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>


int
main(void)
{
	long rc = (long)syscall(SYS_bpf, 0, NULL, 0);

	printf("allowed: %ld\n", rc);
	return 0;
}
