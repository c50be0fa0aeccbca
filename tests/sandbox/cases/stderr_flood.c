/*
 * stderr_flood.c - endless error output, one write(2) at a time.
 * run: --output-kb=8
 * expect: verdict=output_limit limit=stderr stderr_truncated=true #stderr=8192 stdout_truncated=false reaped=true
 */
#include <unistd.h>

int
main(void)
{
	for (;;)
		(void)!write(2, "x", 1);
}
