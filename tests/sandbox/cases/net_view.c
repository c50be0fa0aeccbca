/*
 * net_view.c - the box's network namespace holds a loopback and nothing
 * else.
 * expect: verdict=ok exit_code=0 stdout=lo reaped=true
 */
#include <stdio.h>
#include <string.h>

int
main(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512], *name;
	int other = 0;

	if (f == NULL)
		return 2;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, ':') == NULL)
			continue;
		*strchr(line, ':') = '\0';
		name = line + strspn(line, " ");
		printf("%s", name);
		other |= strcmp(name, "lo") != 0;
	}
	return other;
}
