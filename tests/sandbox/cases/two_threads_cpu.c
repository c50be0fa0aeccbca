/*
 * two_threads_cpu.c - two threads burn 600 ms of CPU each, by their own
 * thread clocks, and then exit 0.  Only a limit that sums all threads
 * (1200 ms > 1000 ms) stops them, whatever else the host is doing.
 * run: --cpu-ms=1000 --wall-ms=20000
 * expect: verdict=time_limit limit=cpu cpu_ms>=1000 stdout!~done reaped=true
 * tsan: verdict=time_limit limit=cpu cpu_ms>=1000 stdout!~done reaped=true
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static void *
burn(void *arg)
{
	struct timespec ts;

	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000 + ts.tv_nsec / 1000000 < 600);
	return arg;
}

int
main(void)
{
	pthread_t t;

	pthread_create(&t, NULL, burn, NULL);
	burn(NULL);
	pthread_join(t, NULL);
	puts("done");
	return 0;
}
