/*
 * cpus_pinned.c - run with --cpus=0: the program sees one cpu and cannot
 * widen its own affinity past the cpuset.  Exit 0 only if both hold.
 * run: --cpus=0
 * expect: verdict=ok exit_code=0 stdout=0
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>

int
main(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int c = 0; c < 64; c++)
		CPU_SET(c, &set);
	(void)sched_setaffinity(0, sizeof(set), &set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 2;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			printf("%d", c);
	return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 1;
}
