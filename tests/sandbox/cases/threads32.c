/*
 * threads32.c - a pool of 32 threads, each with a little memory, meeting
 * at a barrier: an ordinary exercise that must pass under tight limits.
 * run: --memory-mb=64 --pids=40
 * expect: verdict=ok exit_code=0 stdout=32000000 reaped=true
 * tsan-run: --memory-mb=128 --pids=40
 * tsan: verdict=ok exit_code=0 stdout=32000000 reaped=true
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 32

static pthread_barrier_t bar;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *
work(void *arg)
{
	char *mem = malloc(256 * 1024);
	long sum = 0;

	memset(mem, 1, 256 * 1024);
	pthread_barrier_wait(&bar);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 256 * 1024; j++)
			sum += mem[j];
	pthread_mutex_lock(&lock);
	total += sum - 1048576 + 1000000;
	pthread_mutex_unlock(&lock);
	free(mem);
	return arg;
}

int
main(void)
{
	pthread_t t[N];

	pthread_barrier_init(&bar, NULL, N);
	for (int i = 0; i < N; i++)
		if (pthread_create(&t[i], NULL, work, NULL) != 0)
			return 2;
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	printf("%ld", total);
	return 0;
}
