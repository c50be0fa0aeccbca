/*
 * sys_process_vm_readv.c - calls process_vm_readv: forbidden, the box is killed.
 * expect: verdict=security_violation syscall=process_vm_readv stdout!~allowed reaped=true
 */
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/uio.h>

int
main(void)
{
	long rc = (long)process_vm_readv(1, NULL, 0, NULL, 0, 0);

	printf("allowed: %ld\n", rc);
	return 0;
}
