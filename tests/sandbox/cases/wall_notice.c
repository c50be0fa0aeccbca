/*
 * wall_notice.c - a parent and its child, both blocked, catch the wall
 * limit's notice and say so on stderr in the grace before the kill.
 * run: --wall-ms=500 --cpu-ms=5000 --notice-signal=10
 * expect: verdict=time_limit limit=wall stderr~noticed-parent stderr~noticed-child cpu_ms<100 reaped=true
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

static const char *who = "noticed-parent\n";

static void
on_notice(int sig)
{
	(void)sig;
	(void)!write(2, who, strlen(who));
}

int
main(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_notice;
	sigaction(SIGUSR1, &sa, NULL);
	if (fork() == 0)
		who = "noticed-child\n";
	for (;;)
		pause();
}
