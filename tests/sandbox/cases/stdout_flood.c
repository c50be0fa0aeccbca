/*
 * stdout_flood.c - endless output; kept up to exactly 4 KiB.
 * run: --output-kb=4
 * expect: verdict=output_limit limit=stdout stdout_truncated=true #stdout=4096 stdout~0123456789abcdef reaped=true
 */
#include <stdio.h>

int
main(void)
{
	for (;;)
		fputs("0123456789abcdef", stdout);
}
