/*
 * static_bomb.c - a 1 GiB zeroed array, touched page by page.
 * run: --memory-mb=64 --cpu-ms=5000 --wall-ms=10000
 * expect: verdict=memory_limit reaped=true
 */
#include <stdio.h>

static char big[1 << 30];

int
main(void)
{
	volatile char *p = big;

	for (size_t i = 0; i < sizeof(big); i += 4096)
		p[i] = 1;
	printf("touched 1 GiB\n");
	return 0;
}
