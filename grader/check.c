/*
 * check.c - the trusted side's judgements on text: output checkers, the
 * sanitizer-hook screen of a learner's source, and trimming for display.
 *
 * Everything here runs outside the sandbox on bytes a box produced, so it
 * only ever compares and copies; it never interprets them further.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grade-int.h"

/*
 * Numeric tolerance: two numbers agree when they differ by at most
 * NUM_ABS or by at most NUM_REL of the larger magnitude.  Tokens that are
 * plain integers are compared exactly, as a relative tolerance on a large
 * sum would forgive a lost element.
 */
#define NUM_ABS	1e-6
#define NUM_REL	1e-9

struct span {
	const char *p;
	size_t	 n;
};

/* The 1-based line of the first byte where a and b differ. */
static size_t
first_diff_line(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t line = 1;

	for (size_t i = 0; i < alen && i < blen && a[i] == b[i]; i++)
		if (a[i] == '\n')
			line++;
	return line;
}

static bool
check_exact(const char *g, size_t gl, const char *w, size_t wl, char *why,
    size_t whyl)
{
	/* A missing or extra final newline is not worth a wrong answer. */
	if (gl > 0 && g[gl - 1] == '\n')
		gl--;
	if (wl > 0 && w[wl - 1] == '\n')
		wl--;
	if (gl == wl && memcmp(g, w, gl) == 0)
		return true;
	snprintf(why, whyl, "output differs from the expected output at "
	    "line %zu", first_diff_line(g, gl, w, wl));
	return false;
}

static size_t
tokens(const char *s, size_t len, struct span **out)
{
	size_t n = 0, cap = 0, i = 0;
	struct span *v = NULL, *nv;

	while (i < len) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				*out = NULL;
				return (size_t)-1;
			}
			v = nv;
		}
		v[n].p = s + i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		v[n].n = (size_t)(s + i - v[n].p);
		n++;
	}
	*out = v;
	return n;
}

static bool
is_integer(const struct span *t)
{
	size_t i = (t->p[0] == '-' || t->p[0] == '+') ? 1 : 0;

	if (i == t->n)
		return false;
	for (; i < t->n; i++)
		if (!isdigit((unsigned char)t->p[i]))
			return false;
	return true;
}

static bool
to_double(const struct span *t, double *v)
{
	char buf[64], *end;

	if (t->n >= sizeof(buf))
		return false;
	memcpy(buf, t->p, t->n);
	buf[t->n] = '\0';
	*v = strtod(buf, &end);
	return *end == '\0' && isfinite(*v);
}

static bool
token_agrees(const struct span *g, const struct span *w)
{
	double a, b;

	if (g->n == w->n && memcmp(g->p, w->p, g->n) == 0)
		return true;
	if (is_integer(g) && is_integer(w))
		return false;
	if (!to_double(g, &a) || !to_double(w, &b))
		return false;
	return fabs(a - b) <= NUM_ABS ||
	    fabs(a - b) <= NUM_REL * fmax(fabs(a), fabs(b));
}

static bool
check_numeric(const char *g, size_t gl, const char *w, size_t wl, char *why,
    size_t whyl)
{
	struct span *gt = NULL, *wt = NULL;
	size_t ng = tokens(g, gl, &gt), nw = tokens(w, wl, &wt), i;
	bool ok = false;

	if (ng == (size_t)-1 || nw == (size_t)-1)
		snprintf(why, whyl, "out of memory comparing outputs");
	else if (ng != nw)
		snprintf(why, whyl, "%zu tokens where %zu are expected", ng, nw);
	else {
		for (i = 0; i < ng && token_agrees(&gt[i], &wt[i]); i++)
			;
		if (!(ok = i == ng))
			snprintf(why, whyl, "token %zu differs from the expected "
			    "value (tolerance %g absolute or %g relative)",
			    i + 1, NUM_ABS, NUM_REL);
	}
	free(gt);
	free(wt);
	return ok;
}

static size_t
lines(const char *s, size_t len, struct span **out)
{
	size_t n = 0, i = 0, start;
	struct span *v;

	for (size_t k = 0; k < len; k++)
		n += s[k] == '\n';
	if ((v = calloc(n + 2, sizeof(*v))) == NULL) {
		*out = NULL;
		return (size_t)-1;
	}
	n = 0;
	while (i < len) {
		start = i;
		while (i < len && s[i] != '\n')
			i++;
		v[n].p = s + start;
		v[n++].n = i - start;
		i++;	/* past the newline, which ends a line */
	}
	*out = v;
	return n;
}

static int
span_cmp(const void *x, const void *y)
{
	const struct span *a = x, *b = y;
	int c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

	return c ? c : (a->n > b->n) - (a->n < b->n);
}

static bool
check_sorted_lines(const char *g, size_t gl, const char *w, size_t wl,
    char *why, size_t whyl)
{
	struct span *gv = NULL, *wv = NULL;
	size_t ng = lines(g, gl, &gv), nw = lines(w, wl, &wv), i;
	bool ok = false;

	if (ng == (size_t)-1 || nw == (size_t)-1)
		snprintf(why, whyl, "out of memory comparing outputs");
	else if (ng != nw)
		snprintf(why, whyl, "%zu lines where %zu are expected", ng, nw);
	else {
		qsort(gv, ng, sizeof(*gv), span_cmp);
		qsort(wv, nw, sizeof(*wv), span_cmp);
		for (i = 0; i < ng && span_cmp(&gv[i], &wv[i]) == 0; i++)
			;
		if (!(ok = i == ng))
			snprintf(why, whyl, "the lines, in any order, differ "
			    "from the expected ones");
	}
	free(gv);
	free(wv);
	return ok;
}

bool
grade_outputs_agree(enum grade_checker c, const char *got, size_t glen,
    const char *want, size_t wlen, char *why, size_t wl)
{
	switch (c) {
	case GRADE_CHECK_NUMERIC:
		return check_numeric(got, glen, want, wlen, why, wl);
	case GRADE_CHECK_SORTED_LINES:
		return check_sorted_lines(got, glen, want, wlen, why, wl);
	case GRADE_CHECK_EXACT:
	default:
		return check_exact(got, glen, want, wlen, why, wl);
	}
}

/*
 * Words that let a program talk to, or hide from, a sanitizer: its hook
 * functions (__tsan_default_options and its kin, also when named through
 * an asm label, an alias or a string) and the attributes that switch
 * instrumentation off.  The text is preprocessed, so a macro cannot
 * assemble them out of sight; a system header never contains them.
 */
static const char *const forbidden[] = {
	"__tsan_", "__asan_", "__ubsan_", "__msan_", "__lsan_", "__hwasan_",
	"__dfsan_", "__sanitizer_", "__sanitizer", "no_sanitize",
	"sanitizer_instrumentation",
};

bool
grade_screen_source(const char *pp, size_t len, char *why, size_t wl)
{
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(*forbidden); i++)
		if (memmem(pp, len, forbidden[i], strlen(forbidden[i])) !=
		    NULL) {
			snprintf(why, wl, "submissions may not use sanitizer "
			    "hooks or attributes (found \"%s\")", forbidden[i]);
			return true;
		}
	return false;
}

char *
grade_trim(const char *s, size_t len, size_t max)
{
	size_t keep = len, n;
	char *out;

	if (len > max) {
		keep = max;
		/* Cut at a line end when one is near, for readability. */
		for (n = max; n > max / 2; n--)
			if (s[n - 1] == '\n') {
				keep = n;
				break;
			}
	}
	if ((out = malloc(keep + 64)) == NULL)
		return NULL;
	memcpy(out, s, keep);
	if (keep < len)
		snprintf(out + keep, 64, "%s[... %zu more bytes]\n",
		    keep && s[keep - 1] != '\n' ? "\n" : "", len - keep);
	else
		out[keep] = '\0';
	return out;
}
