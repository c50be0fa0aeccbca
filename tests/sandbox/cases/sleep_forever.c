/*
 * sleep_forever.c - sleeps and never uses the CPU.
 * run: --wall-ms=500 --cpu-ms=5000
 * expect: verdict=time_limit limit=wall wall_ms>=500 wall_ms<900 cpu_ms<100 reaped=true
 */
#include <unistd.h>

int
main(void)
{
	for (;;)
		sleep(1000);
}
