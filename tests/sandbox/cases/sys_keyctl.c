/*
 * sys_keyctl.c - calls keyctl: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=keyctl stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>


int
main(void)
{
	long rc = (long)syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0);

	printf("allowed: %ld\n", rc);
	return 0;
}
