/*
 * clock.h - the one monotonic clock every module measures with.
 *
 * Deadlines, timeouts and durations are taken from CLOCK_MONOTONIC, which
 * no settimeofday or NTP step can move; wall-clock time, where a record
 * needs it, comes from time(3) or the database's now().
 */
#ifndef COHORTD_CLOCK_H
#define COHORTD_CLOCK_H

/* Milliseconds, microseconds and nanoseconds since a fixed point. */
long long	clock_ms(void);
long long	clock_us(void);
long long	clock_ns(void);

struct timespec;
/* *ts: ms from now on CLOCK_REALTIME, the clock pthread_cond_timedwait
 * measures an absolute deadline in by default. */
void		clock_deadline(struct timespec *ts, long ms);

#endif
