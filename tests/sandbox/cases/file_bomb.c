/*
 * file_bomb.c - writes one file in the box dir without end.
 * run: --file-kb=1024
 * expect: verdict=output_limit limit=file signal=25 reaped=true
 * hook: file_bomb_size
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	static char chunk[65536];
	int fd = open("huge", O_WRONLY | O_CREAT | O_TRUNC, 0644);

	memset(chunk, 'z', sizeof(chunk));
	for (;;)
		(void)!write(fd, chunk, sizeof(chunk));
}
