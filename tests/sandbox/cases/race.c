/*
 * race.c - an unsynchronized counter: fine as plain C as far as the
 * sandbox is concerned, a data race for ThreadSanitizer.
 * expect: verdict=ok exit_code=0
 * tsan: verdict=runtime_error exit_code=66 stderr~ThreadSanitizer: stderr~race reaped=true
 */
#include <pthread.h>
#include <stdio.h>

static long counter;

static void *
bump(void *arg)
{
	for (int i = 0; i < 100000; i++)
		counter++;
	return arg;
}

int
main(void)
{
	pthread_t a, b;

	pthread_create(&a, NULL, bump, NULL);
	pthread_create(&b, NULL, bump, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("%ld\n", counter > 0);
	return 0;
}
