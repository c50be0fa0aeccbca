/*
 * deadlock.c - two threads take two locks in opposite orders.
 * run: --wall-ms=1000 --cpu-ms=5000
 * expect: verdict=time_limit limit=wall cpu_ms<100 reaped=true
 * tsan: verdict=time_limit limit=wall reaped=true
 */
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void *
other(void *arg)
{
	pthread_mutex_lock(&b);
	usleep(100000);
	pthread_mutex_lock(&a);
	return arg;
}

int
main(void)
{
	pthread_t t;

	pthread_create(&t, NULL, other, NULL);
	pthread_mutex_lock(&a);
	usleep(100000);
	pthread_mutex_lock(&b);
	pthread_join(t, NULL);
	return 0;
}
