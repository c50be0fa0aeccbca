/*
 * fork_bomb.c - the classic: every process forks forever.
 * run: --pids=32 --cpu-ms=1000 --wall-ms=3000
 * expect: verdict=time_limit reaped=true wall_ms<3500
 * hook: no_box_processes_left
 */
#include <unistd.h>

int
main(void)
{
	for (;;)
		fork();
}
