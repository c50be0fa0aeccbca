/*
 * select_forever.c - select() with nothing to wait for and no timeout.
 * run: --wall-ms=500 --cpu-ms=5000
 * expect: verdict=time_limit limit=wall wall_ms>=500 wall_ms<900 cpu_ms<100 reaped=true
 */
#include <stddef.h>
#include <sys/select.h>

int
main(void)
{
	for (;;)
		select(0, NULL, NULL, NULL, NULL);
}
