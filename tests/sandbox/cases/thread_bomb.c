/*
 * thread_bomb.c - starts sleeping threads until it may not; exits 0 only
 * if the pids limit (16) stopped it, 3 if nothing did.
 * run: --pids=16
 * expect: verdict=ok stdout~EAGAIN reaped=true
 * tsan: verdict=ok stdout~EAGAIN reaped=true
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *
sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

int
main(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int n, rc = 0;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 65536);
	for (n = 0; n < 10000; n++)
		if ((rc = pthread_create(&t, &attr, sleeper, NULL)) != 0)
			break;
	printf("%d threads, then %s\n", n, rc == EAGAIN ? "EAGAIN" :
	    strerror(rc));
	fflush(stdout);
	_exit(rc == EAGAIN && n < 16 ? 0 : 3);
}
