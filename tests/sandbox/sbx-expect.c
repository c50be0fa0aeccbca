/*
 * sbx-expect.c - check a cohort-sandbox verdict (JSON on stdin) against
 * assertions given as arguments; exit 1 and say which failed.
 *
 *   key=a|b   string, number or boolean equals one of the alternatives
 *   key!=a    differs
 *   key>=N key<=N key>N key<N   numeric comparisons
 *   key~text key!~text          string contains / does not contain
 *   #key=N #key<=N ...          length in bytes of a string member
 *
 * ran_ms is wall_ms less the time the box's tasks waited for a CPU
 * (wait_us): what a bound on the run's own length should test, as a busy
 * host delays a box by however much it is busy.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static const char *const ops[] = { "!~", "~", ">=", "<=", "!=", "=", ">", "<" };

/* The member as text: strings as they are, others as JSON. */
static char *
as_text(json_t *v)
{
	if (v == NULL)
		return strdup("null");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY);
}

static int
check(json_t *root, const char *arg)
{
	char key[64], *text;
	const char *op = NULL, *want, *p;
	size_t kl = 0;
	bool len = arg[0] == '#', ok = false;
	double have, n;
	json_t *v;

	if (len)
		arg++;
	for (p = arg; *p && op == NULL; p++)
		for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
			if (strncmp(p, ops[i], strlen(ops[i])) == 0) {
				op = ops[i];
				kl = (size_t)(p - arg);
				break;
			}
	if (op == NULL || kl == 0 || kl >= sizeof(key)) {
		fprintf(stderr, "bad assertion %s\n", arg);
		return 0;
	}
	memcpy(key, arg, kl);
	key[kl] = '\0';
	want = arg + kl + strlen(op);
	v = json_object_get(root, key);
	if (v == NULL && strcmp(key, "ran_ms") == 0) {
		double w = json_number_value(json_object_get(root, "wall_ms"));
		json_t *u = json_object_get(root, "wait_us");

		v = json_real(w - (json_is_number(u) ?
		    json_number_value(u) / 1000 : 0));
		json_object_set_new(root, "ran_ms", v);
	}
	text = as_text(v);
	if (len && json_is_string(v))
		have = (double)json_string_length(v);
	else
		have = json_is_number(v) ? json_number_value(v) : 0;
	n = strtod(want, NULL);

	if (strcmp(op, "~") == 0 || strcmp(op, "!~") == 0)
		ok = (strstr(text, want) != NULL) == (op[0] == '~');
	else if (strcmp(op, ">=") == 0)
		ok = have >= n;
	else if (strcmp(op, "<=") == 0)
		ok = have <= n;
	else if (strcmp(op, ">") == 0)
		ok = have > n;
	else if (strcmp(op, "<") == 0)
		ok = have < n;
	else {
		char alt[256], *a, *save = NULL;

		snprintf(alt, sizeof(alt), "%s", want);
		if (*want == '\0')
			ok = !len && *text == '\0';
		for (a = strtok_r(alt, "|", &save); a && !ok;
		    a = strtok_r(NULL, "|", &save))
			ok = len ? have == strtod(a, NULL) : strcmp(text, a) == 0;
		if (strcmp(op, "!=") == 0)
			ok = !ok;
	}
	if (!ok) {
		if (len)
			fprintf(stderr, "# expected %s%s%s, length is %.0f\n",
			    key, op, want, have);
		else
			fprintf(stderr, "# expected %s%s%s, got %.200s\n",
			    key, op, want, text);
	}
	free(text);
	return ok;
}

int
main(int argc, char **argv)
{
	json_error_t e;
	json_t *root = json_loadf(stdin, 0, &e);
	int ok = 1;

	if (root == NULL || !json_is_object(root)) {
		fprintf(stderr, "# no verdict: %s\n", root ? "not an object" :
		    e.text);
		return 1;
	}
	for (int i = 1; i < argc; i++)
		ok &= check(root, argv[i]);
	json_decref(root);
	return ok ? 0 : 1;
}
