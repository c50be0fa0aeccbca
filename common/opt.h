/*
 * opt.h - the command-line and environment parser of the small tools
 * (cohort-grade, cohort-sandbox).
 *
 * Options are a table, as in daemon/cfg.c: each entry names its flag,
 * its environment variable (read first, so a flag overrides it), its
 * type, where the value goes, bounds, and a line of help; the --help text
 * is printed from the same table.  Flags are --name=VALUE or --name VALUE;
 * OPT_FLAG takes no value.  Values are not copied: they point into argv or
 * the environment, which outlive the parse.
 */
#ifndef COHORTD_OPT_H
#define COHORTD_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_UINT,	/* uint32_t in [min, max] */
	OPT_STR,	/* const char * */
	OPT_FLAG,	/* int, set to 1 */
	OPT_KV,		/* repeated K=V into a struct opt_kv */
};

/* Where OPT_KV values go: v[0..n-1], NULL-terminated, at most max. */
struct opt_kv {
	char	**v;		/* max + 1 slots */
	int	  n;
	int	  max;
};

struct opt {
	const char	*name;		/* --name */
	const char	*envvar;	/* or NULL */
	enum opt_type	 type;
	void		*val;
	uint32_t	 min, max;	/* OPT_UINT bounds */
	const char	*help;
};

/* The table's environment variables; 0, or -1 (said on stderr). */
int	opt_env(const char *prog, const struct opt *opts, size_t n);

/*
 * Flags from argv[first] up to the first argument that is not one; a
 * "--" ends them and is skipped.  *next is the index after the last flag.
 * 0, or -1 when a flag is unknown or its value is wrong (said on stderr).
 */
int	opt_flags(const char *prog, const struct opt *opts, size_t n,
	    int argc, char **argv, int first, int *next);

/* One entry per option: flag, help, current value and bounds, variable. */
void	opt_usage(FILE *f, const struct opt *opts, size_t n);

#endif
