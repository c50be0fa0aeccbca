/*
 * tmp_a_plant.c - leaves files in /tmp and /dev/shm for the next box.
 * expect: verdict=ok exit_code=0
 */
#include <stdio.h>

int
main(void)
{
	FILE *a = fopen("/tmp/planted", "w"), *b = fopen("/dev/shm/planted", "w");

	if (a == NULL || b == NULL)
		return 1;
	fputs("secret", a);
	fputs("secret", b);
	return fclose(a) || fclose(b);
}
