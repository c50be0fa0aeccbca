/*
 * wall_notice_exit.c - exiting cleanly on the wall limit's notice does
 * not undo the limit.
 * run: --wall-ms=500 --cpu-ms=5000 --notice-signal=10
 * expect: verdict=time_limit limit=wall stderr~noticed reaped=true
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void
on_notice(int sig)
{
	(void)sig;
	(void)!write(2, "noticed\n", 8);
	_exit(0);
}

int
main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_notice;
	sigaction(SIGUSR1, &sa, NULL);
	for (;;)
		pause();
}
