/*
 * cpu_spin.c - one thread spins forever.
 * run: --cpu-ms=500 --wall-ms=5000
 * expect: verdict=time_limit limit=cpu cpu_ms>=500 cpu_ms<650 reaped=true
 * tsan: verdict=time_limit limit=cpu reaped=true
 */
int
main(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}
