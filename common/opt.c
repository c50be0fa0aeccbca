/*
 * opt.c - table-driven options of the small tools.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

static int
opt_set(const char *prog, const struct opt *o, const char *v)
{
	struct opt_kv *kv;
	unsigned long n;
	char *end;

	switch (o->type) {
	case OPT_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || end == v || *end != '\0' || *v == '-' ||
		    n < o->min || n > o->max) {
			fprintf(stderr, "%s: --%s wants a number in %u..%u\n",
			    prog, o->name, o->min, o->max);
			return -1;
		}
		*(uint32_t *)o->val = (uint32_t)n;
		return 0;
	case OPT_STR:
		*(const char **)o->val = v;
		return 0;
	case OPT_FLAG:
		*(int *)o->val = 1;
		return 0;
	case OPT_KV:
		kv = o->val;
		if (kv->n == kv->max || strchr(v, '=') == NULL || *v == '=') {
			fprintf(stderr, "%s: --%s wants K=V, at most %d times\n",
			    prog, o->name, kv->max);
			return -1;
		}
		kv->v[kv->n++] = (char *)v;
		kv->v[kv->n] = NULL;
		return 0;
	}
	return -1;
}

int
opt_env(const char *prog, const struct opt *opts, size_t n)
{
	const char *v;

	for (size_t k = 0; k < n; k++)
		if (opts[k].envvar != NULL &&
		    (v = getenv(opts[k].envvar)) != NULL && *v != '\0' &&
		    opt_set(prog, &opts[k], v) != 0)
			return -1;
	return 0;
}

static const struct opt *
opt_find(const struct opt *opts, size_t n, const char *arg)
{
	size_t len;

	for (size_t k = 0; k < n; k++) {
		len = strlen(opts[k].name);
		if (strncmp(arg + 2, opts[k].name, len) == 0 &&
		    (arg[2 + len] == '=' || arg[2 + len] == '\0'))
			return &opts[k];
	}
	return NULL;
}

int
opt_flags(const char *prog, const struct opt *opts, size_t n, int argc,
    char **argv, int first, int *next)
{
	const struct opt *o;
	const char *v;
	int i;

	for (i = first; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (argv[i][2] == '\0') {
			i++;
			break;
		}
		if ((o = opt_find(opts, n, argv[i])) == NULL) {
			fprintf(stderr, "%s: unknown option %s\n", prog,
			    argv[i]);
			return -1;
		}
		if ((v = strchr(argv[i], '=')) != NULL)
			v++;
		else if (o->type == OPT_FLAG)
			v = "";
		else if (i + 1 < argc)
			v = argv[++i];
		else {
			fprintf(stderr, "%s: %s wants a value\n", prog,
			    argv[i]);
			return -1;
		}
		if (opt_set(prog, o, v) != 0)
			return -1;
	}
	*next = i;
	return 0;
}

void
opt_usage(FILE *f, const struct opt *opts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = &opts[i];
		char dflt[64] = "";

		if (o->type == OPT_UINT)
			snprintf(dflt, sizeof(dflt), " [%u; %u..%u]",
			    *(uint32_t *)o->val, o->min, o->max);
		else if (o->type == OPT_STR && *(const char **)o->val != NULL)
			snprintf(dflt, sizeof(dflt), " [%s]",
			    *(const char **)o->val);
		fprintf(f, "  --%s%s\n      %s%s%s%s\n", o->name,
		    o->type == OPT_FLAG ? "" : o->type == OPT_UINT ? "=N" :
		    "=VALUE", o->help, dflt, o->envvar ? "; env " : "",
		    o->envvar ? o->envvar : "");
	}
}
