/*
 * cc_include_shadow.c - the compiler is boxed too: /etc/shadow is not there.
 * compile-expect: verdict=runtime_error exit_code=1 stderr~/etc/shadow: stderr~fatal reaped=true
 */
#include "/etc/shadow"
int main(void) { return 0; }
