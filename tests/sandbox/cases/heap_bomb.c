/*
 * heap_bomb.c - allocates and touches memory until something stops it.
 * run: --memory-mb=64 --cpu-ms=5000 --wall-ms=10000
 * expect: verdict=memory_limit reaped=true memory_kb>=60000
 * tsan: verdict=memory_limit reaped=true
 */
#include <stdlib.h>
#include <string.h>

int
main(void)
{
	for (;;) {
		char *p = malloc(1 << 20);

		if (p != NULL)
			memset(p, 1, 1 << 20);
	}
}
