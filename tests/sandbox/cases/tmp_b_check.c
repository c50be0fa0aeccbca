/*
 * tmp_b_check.c - runs after tmp_a_plant: must not see its files.
 * expect: verdict=ok exit_code=0
 */
#include <stdio.h>
#include <unistd.h>

int
main(void)
{
	int seen = access("/tmp/planted", F_OK) == 0 ||
	    access("/dev/shm/planted", F_OK) == 0;

	puts(seen ? "saw the previous box's files" : "clean");
	return seen;
}
