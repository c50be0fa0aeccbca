/*
 * cc_include_zero.c - an endless include: the compiler hits a limit.
 * compile-run: --memory-mb=128 --cpu-ms=3000 --wall-ms=6000
 * compile-expect: verdict=memory_limit|time_limit|output_limit reaped=true
 */
#include "/dev/zero"
int main(void) { return 0; }
