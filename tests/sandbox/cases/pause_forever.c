/*
 * pause_forever.c - waits for a signal that never comes.
 * run: --wall-ms=500 --cpu-ms=5000
 * expect: verdict=time_limit limit=wall wall_ms>=500 wall_ms<900 cpu_ms<100 reaped=true
 */
#include <unistd.h>

int
main(void)
{
	for (;;)
		pause();
}
