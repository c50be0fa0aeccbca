/*
 * symlink_plant.c - plants symlinks in the box dir for the trusted side
 * to trip over: to a host secret, to the host root, to a file in the box.
 * expect: verdict=ok exit_code=0
 * hook: trusted_side_refuses_symlinks
 */
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	FILE *f = fopen("real.txt", "w");

	if (f == NULL || fputs("plain input\n", f) < 0 || fclose(f) != 0)
		return 1;
	return symlink("/etc/shadow", "input") | symlink("/", "escape") |
	    symlink("real.txt", "inside") | symlink("/etc", "cleanup-trap");
}
