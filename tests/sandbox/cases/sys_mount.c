/*
 * sys_mount.c - calls mount: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=mount stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>


int
main(void)
{
	long rc = (long)syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);

	printf("allowed: %ld\n", rc);
	return 0;
}
