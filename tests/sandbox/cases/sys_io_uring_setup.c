/*
 * sys_io_uring_setup.c - calls io_uring_setup: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=io_uring_setup stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <stdlib.h>

int
main(void)
{
	long rc = (long)syscall(SYS_io_uring_setup, 8, calloc(1, 120));

	printf("allowed: %ld\n", rc);
	return 0;
}
