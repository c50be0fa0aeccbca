/*
 * env_clean.c - sees exactly the environment it was given: the preset
 * PATH, HOME, TMPDIR plus --env, nothing of the supervisor's.
 * run: --env=COHORT_TEST=hello --env=TMPDIR=/box
 * expect: verdict=ok exit_code=0 stdout=hello
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

int
main(void)
{
	int n = 0;
	const char *t = getenv("COHORT_TEST");

	for (char **e = environ; *e != NULL; e++)
		n++;
	if (n != 4 || t == NULL || strcmp(getenv("HOME"), "/box") != 0 ||
	    strcmp(getenv("TMPDIR"), "/box") != 0 || getenv("PATH") == NULL)
		return 1;
	fputs(t, stdout);
	return 0;
}
