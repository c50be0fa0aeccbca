/*
 * clock.c - monotonic time in the units the modules count in.
 */
#include <time.h>

#include "clock.h"

long long
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

long long
clock_us(void)
{
	return clock_ns() / 1000;
}

long long
clock_ms(void)
{
	return clock_us() / 1000;
}
