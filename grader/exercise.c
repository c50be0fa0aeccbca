/*
 * exercise.c - load and validate an exercise (files plus exercise.json)
 * and compute its version hash.
 *
 * Exercises are written by tenants, so the description is validated as
 * hostile input: every count, string and number has a bound, and names
 * that end up in argv or in file names are restricted to a safe alphabet.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>

#include "../common/err.h"
#include "grade-int.h"

#define MAX_FILE_BYTES	(256 * 1024)	/* one source file */
#define MAX_TESTS	200
#define MAX_ARGS	64
#define MAX_ARG_LEN	256
#define MAX_NAME_LEN	64

/* Bumped whenever a change here changes what a grading means, so the
 * reference-output cache keyed by the hash never serves stale results. */
#define GRADE_HASH_DOMAIN	"cohort-grade exercise v1"

const char *const grade_file_names[GF_COUNT] = {
	"exercise.h", "harness.c", "reference.c", "starter.c",
};

/* A Python exercise's contract is its statement: no header. */
const char *const grade_file_names_python[GF_COUNT] = {
	NULL, "harness.py", "reference.py", "starter.py",
};

#define MAX_IMPORTS	16

static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
test_clear(struct grade_test *t)
{
	if (t->args != NULL)
		for (size_t i = 0; i < t->nargs; i++)
			free(t->args[i]);
	free(t->args);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void
grade_exercise_free(struct grade_exercise *ex)
{
	if (ex == NULL)
		return;
	free(ex->slug);
	for (int i = 0; i < GF_COUNT; i++)
		free(ex->file[i]);
	for (size_t i = 0; i < ex->ntests; i++)
		test_clear(&ex->tests[i]);
	for (size_t i = 0; i < ex->nraces; i++)
		test_clear(&ex->races[i]);
	free(ex->tests);
	free(ex->races);
	test_clear(&ex->bench);
	for (int i = 0; ex->ldlibs[i] != NULL; i++)
		free(ex->ldlibs[i]);
	free(ex->imports);
	free(ex);
}

const char *
grade_exercise_hash(const struct grade_exercise *ex)
{
	return ex->hash;
}

/* Test names become log fields and cache keys: keep them plain. */
static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		    *s == '.'))
			return false;
	return true;
}

/* A number member within [lo, hi]; absent means def (when def >= lo). */
static int
get_num(json_t *o, const char *key, double lo, double hi, double def,
    double *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(o, key);

	if (j == NULL && def >= lo) {
		*v = def;
		return 0;
	}
	if (!json_is_number(j) || json_number_value(j) < lo ||
	    json_number_value(j) > hi) {
		seterr(err, errlen, "%s: a number in [%g, %g] is required",
		    key, lo, hi);
		return CD_ERR_INVALID;
	}
	*v = json_number_value(j);
	return 0;
}

/* One entry of tests[], race_tests[] or the benchmark. */
static int
parse_test(json_t *o, const char *what, bool named, bool weighted,
    struct grade_test *t, char *err, size_t errlen)
{
	json_t *args, *a;
	double v;
	size_t i;
	int rc;

	if (!json_is_object(o)) {
		seterr(err, errlen, "%s: an object is required", what);
		return CD_ERR_INVALID;
	}
	if (named) {
		const char *n = json_string_value(json_object_get(o, "name"));

		if (n == NULL || !name_ok(n)) {
			seterr(err, errlen, "%s: name must be 1-%d of "
			    "[A-Za-z0-9._-]", what, MAX_NAME_LEN);
			return CD_ERR_INVALID;
		}
		if ((t->name = strdup(n)) == NULL)
			return CD_ERR_NOMEM;
	} else if ((t->name = strdup("benchmark")) == NULL)
		return CD_ERR_NOMEM;

	args = json_object_get(o, "args");
	if (!json_is_array(args) || json_array_size(args) > MAX_ARGS) {
		seterr(err, errlen, "%s: args must be an array of at most %d "
		    "strings", t->name, MAX_ARGS);
		return CD_ERR_INVALID;
	}
	t->nargs = json_array_size(args);
	if ((t->args = calloc(t->nargs + 1, sizeof(char *))) == NULL)
		return CD_ERR_NOMEM;
	json_array_foreach(args, i, a) {
		const char *s = json_string_value(a);

		if (s == NULL || strlen(s) > MAX_ARG_LEN) {
			seterr(err, errlen, "%s: args[%zu] must be a string of "
			    "at most %d bytes", t->name, i, MAX_ARG_LEN);
			return CD_ERR_INVALID;
		}
		if ((t->args[i] = strdup(s)) == NULL)
			return CD_ERR_NOMEM;
	}
	if ((rc = get_num(o, "threads", 1, GRADE_MAX_THREADS, -1, &v,
	    err, errlen)) != 0)
		return rc;
	t->threads = (unsigned)v;
	if (v != (double)t->threads) {
		seterr(err, errlen, "%s: threads must be an integer", t->name);
		return CD_ERR_INVALID;
	}
	t->weight = 0;
	if (weighted && (rc = get_num(o, "weight", 0, 1000, 1, &t->weight,
	    err, errlen)) != 0)
		return rc;
	return 0;
}

static int
parse_tests(json_t *desc, const char *key, bool weighted,
    struct grade_test **out, size_t *n, char *err, size_t errlen)
{
	json_t *arr = json_object_get(desc, key), *o;
	size_t i;
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) > MAX_TESTS ||
	    (weighted && json_array_size(arr) == 0)) {
		seterr(err, errlen, "%s: an array of %s%d entries is required",
		    key, weighted ? "1 to " : "at most ", MAX_TESTS);
		return CD_ERR_INVALID;
	}
	if ((*out = calloc(json_array_size(arr) + 1, sizeof(**out))) == NULL)
		return CD_ERR_NOMEM;
	json_array_foreach(arr, i, o) {
		(*n)++;
		if ((rc = parse_test(o, key, true, weighted, &(*out)[i],
		    err, errlen)) != 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (strcmp((*out)[k].name, (*out)[i].name) == 0) {
				seterr(err, errlen, "%s: duplicate name %s",
				    key, (*out)[i].name);
				return CD_ERR_INVALID;
			}
	}
	return 0;
}

/* Python: modules a solution may import beyond the default set. */
static int
parse_imports(struct grade_exercise *ex, json_t *desc, char *err,
    size_t errlen)
{
	json_t *im = json_object_get(desc, "imports"), *j;
	size_t i, len = 1;

	if (im != NULL && (ex->language != GRADE_LANG_PYTHON ||
	    !json_is_array(im) || json_array_size(im) > MAX_IMPORTS)) {
		seterr(err, errlen, "imports: at most %d module names, for "
		    "Python exercises", MAX_IMPORTS);
		return CD_ERR_INVALID;
	}
	json_array_foreach(im, i, j) {
		const char *s = json_string_value(j);

		/* Module names go on a command line and into a screen. */
		if (s == NULL || !name_ok(s) || strchr(s, '-') != NULL) {
			seterr(err, errlen, "imports[%zu]: a module name is "
			    "required", i);
			return CD_ERR_INVALID;
		}
		len += strlen(s) + 1;
	}
	if ((ex->imports = calloc(1, len)) == NULL)
		return CD_ERR_NOMEM;
	json_array_foreach(im, i, j) {
		if (i > 0)
			strcat(ex->imports, ",");
		strcat(ex->imports, json_string_value(j));
	}
	return 0;
}

/*
 * "language": "c" (the default) or "python".  Absent, a set of files
 * with harness.py and no harness.c is Python's: a description copied
 * without the key still grades as what its files are.
 */
static int
parse_language(struct grade_exercise *ex, json_t *desc, json_t *files,
    char *err, size_t errlen)
{
	const char *s = json_string_value(json_object_get(desc, "language"));

	if (json_object_get(desc, "language") != NULL && s == NULL)
		s = "";
	if (s == NULL)
		ex->language = json_object_get(files, "harness.py") != NULL &&
		    json_object_get(files, "harness.c") == NULL ?
		    GRADE_LANG_PYTHON : GRADE_LANG_C;
	else if (strcmp(s, "c") == 0)
		ex->language = GRADE_LANG_C;
	else if (strcmp(s, "python") == 0)
		ex->language = GRADE_LANG_PYTHON;
	else {
		seterr(err, errlen, "language: \"c\" or \"python\"");
		return CD_ERR_INVALID;
	}
	return 0;
}

static int
parse_desc(struct grade_exercise *ex, json_t *desc, char *err, size_t errlen)
{
	json_t *bench, *lim, *sc, *ld, *j;
	const char *s;
	double v, total = 0;
	size_t i;
	int rc;

	if (!json_is_object(desc)) {
		seterr(err, errlen, "exercise.json: an object is required");
		return CD_ERR_INVALID;
	}
	s = json_string_value(json_object_get(desc, "slug"));
	if ((ex->slug = strdup(s != NULL && name_ok(s) ? s : "exercise")) ==
	    NULL)
		return CD_ERR_NOMEM;

	if ((rc = parse_tests(desc, "tests", true, &ex->tests, &ex->ntests,
	    err, errlen)) != 0 ||
	    (rc = parse_tests(desc, "race_tests", false, &ex->races,
	    &ex->nraces, err, errlen)) != 0)
		return rc;
	for (i = 0; i < ex->ntests; i++)
		total += ex->tests[i].weight;
	if (total <= 0) {
		seterr(err, errlen, "tests: the weights sum to zero");
		return CD_ERR_INVALID;
	}

	bench = json_object_get(desc, "benchmark");
	/* I/O-bound Python exercises have nothing to speed up: their tests
	   check the concurrency itself. */
	ex->has_bench = bench != NULL || ex->language == GRADE_LANG_C;
	if (!ex->has_bench)
		goto limits;
	if ((rc = parse_test(bench, "benchmark", false, false, &ex->bench,
	    err, errlen)) != 0)
		return rc;
	if (ex->bench.threads < 2) {
		seterr(err, errlen, "benchmark: threads must be at least 2");
		return CD_ERR_INVALID;
	}
	if ((rc = get_num(bench, "target_speedup", 1.01, 64, -1,
	    &ex->target_speedup, err, errlen)) != 0 ||
	    (rc = get_num(bench, "repetitions", 1, 50, 5, &v, err,
	    errlen)) != 0)
		return rc;
	ex->repetitions = (unsigned)v;
	/* The harness marks the end of its setup on fd 3 (docs/GRADING.md):
	   only then may a mark shorten what is timed. */
	if ((j = json_object_get(bench, "work_mark")) != NULL &&
	    !json_is_boolean(j)) {
		seterr(err, errlen, "work_mark: true or false");
		return CD_ERR_INVALID;
	}
	ex->work_mark = json_is_true(j);

 limits:
	lim = json_object_get(desc, "limits");
	if (!json_is_object(lim)) {
		seterr(err, errlen, "limits: an object is required");
		return CD_ERR_INVALID;
	}
	/* Bounds: a run must end within a minute and fit on a small host. */
	if ((rc = get_num(lim, "wall_ms", 100, 60000, -1, &v, err,
	    errlen)) != 0)
		return rc;
	ex->wall_ms = (uint32_t)v;
	if ((rc = get_num(lim, "cpu_ms", 100, 240000, 2.0 * ex->wall_ms, &v,
	    err, errlen)) != 0)
		return rc;
	ex->cpu_ms = (uint32_t)v;
	if ((rc = get_num(lim, "memory_mb", 16, 4096, 256, &v, err,
	    errlen)) != 0)
		return rc;
	ex->memory_mb = (uint32_t)v;
	if ((rc = get_num(lim, "extra_tasks", 0, 64, 0, &v, err,
	    errlen)) != 0)
		return rc;
	ex->extra_tasks = (uint32_t)v;

	s = json_string_value(json_object_get(desc, "checker"));
	if (s == NULL || strcmp(s, "exact") == 0)
		ex->checker = GRADE_CHECK_EXACT;
	else if (strcmp(s, "numeric") == 0)
		ex->checker = GRADE_CHECK_NUMERIC;
	else if (strcmp(s, "sorted_lines") == 0)
		ex->checker = GRADE_CHECK_SORTED_LINES;
	else {
		seterr(err, errlen, "checker: exact, numeric or sorted_lines");
		return CD_ERR_INVALID;
	}

	sc = json_object_get(desc, "scoring");
	if ((rc = get_num(sc ? sc : desc, "correctness", 0, 100,
	    ex->has_bench ? 70 : 100, &ex->w_correctness, err, errlen)) != 0 ||
	    (rc = get_num(sc ? sc : desc, "speedup", 0, 100,
	    ex->has_bench ? 30 : 0, &ex->w_speedup, err, errlen)) != 0)
		return rc;
	if (!ex->has_bench && ex->w_speedup > 0) {
		seterr(err, errlen, "scoring: no speedup points without a "
		    "benchmark");
		return CD_ERR_INVALID;
	}
	if ((rc = parse_imports(ex, desc, err, errlen)) != 0)
		return rc;

	/* Extra libraries go on gcc's command line: only "-lNAME". */
	ld = json_object_get(desc, "ldlibs");
	if (ld != NULL && (!json_is_array(ld) ||
	    json_array_size(ld) > GRADE_MAX_LDLIBS)) {
		seterr(err, errlen, "ldlibs: at most %d strings",
		    GRADE_MAX_LDLIBS);
		return CD_ERR_INVALID;
	}
	json_array_foreach(ld, i, j) {
		s = json_string_value(j);
		if (s == NULL || strncmp(s, "-l", 2) != 0 || !name_ok(s + 2)) {
			seterr(err, errlen, "ldlibs[%zu]: -lNAME is required",
			    i);
			return CD_ERR_INVALID;
		}
		if ((ex->ldlibs[i] = strdup(s)) == NULL)
			return CD_ERR_NOMEM;
	}
	return 0;
}

/* The hash covers everything that decides a reference output. */
static int
compute_hash(struct grade_exercise *ex, json_t *desc)
{
	crypto_generichash_state st;
	unsigned char h[32];
	char *dump;

	if ((dump = json_dumps(desc, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		return CD_ERR_NOMEM;
	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)GRADE_HASH_DOMAIN,
	    sizeof(GRADE_HASH_DOMAIN));
	crypto_generichash_update(&st, (const unsigned char *)dump,
	    strlen(dump) + 1);
	free(dump);
	for (int i = 0; i < GF_COUNT; i++) {
		uint64_t n = ex->file[i] ? ex->file_len[i] : UINT64_MAX;

		crypto_generichash_update(&st, (const unsigned char *)&n,
		    sizeof(n));
		if (ex->file[i] != NULL)
			crypto_generichash_update(&st,
			    (const unsigned char *)ex->file[i], ex->file_len[i]);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(ex->hash, sizeof(ex->hash), h, sizeof(h));
	return 0;
}

int
grade_exercise_load(json_t *desc, json_t *files, struct grade_exercise **out,
    char *err, size_t errlen)
{
	struct grade_exercise *ex;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return CD_ERR_INTERNAL;
	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return CD_ERR_NOMEM;
	if (!json_is_object(files)) {
		seterr(err, errlen, "files: an object is required");
		rc = CD_ERR_INVALID;
		goto out;
	}
	if ((rc = parse_language(ex, desc, files, err, errlen)) != 0)
		goto out;
	for (int i = 0; i < GF_COUNT; i++) {
		const char *name = ex->language == GRADE_LANG_PYTHON ?
		    grade_file_names_python[i] : grade_file_names[i];
		json_t *f;

		if (name == NULL)
			continue;
		f = json_object_get(files, name);
		if (f == NULL && i == GF_STARTER)
			continue;
		if (!json_is_string(f) || json_string_length(f) >
		    MAX_FILE_BYTES || memchr(json_string_value(f), '\0',
		    json_string_length(f)) != NULL) {
			seterr(err, errlen, "%s: a text of at most %d bytes is "
			    "required", name, MAX_FILE_BYTES);
			rc = CD_ERR_INVALID;
			goto out;
		}
		ex->file_len[i] = json_string_length(f);
		if ((ex->file[i] = strdup(json_string_value(f))) == NULL) {
			rc = CD_ERR_NOMEM;
			goto out;
		}
	}
	if ((rc = parse_desc(ex, desc, err, errlen)) != 0 ||
	    (rc = compute_hash(ex, desc)) != 0)
		goto out;
	*out = ex;
	ex = NULL;
 out:
	grade_exercise_free(ex);
	return rc;
}

/* Read dir/name into a JSON string; *js stays NULL if absent. */
static int
read_text(const char *dir, const char *name, json_t **js, char *err,
    size_t errlen)
{
	char path[4096], *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	*js = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		if (errno == ENOENT)
			return CD_ERR_NOT_FOUND;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return CD_ERR_INVALID;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_FILE_BYTES) {
		seterr(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, MAX_FILE_BYTES);
		rc = CD_ERR_INVALID;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = CD_ERR_NOMEM;
		goto out;
	}
	if ((n = read(fd, buf, (size_t)st.st_size)) != st.st_size) {
		seterr(err, errlen, "%s: short read", path);
		rc = CD_ERR_INVALID;
		goto out;
	}
	if ((*js = json_stringn_nocheck(buf, (size_t)n)) == NULL)
		rc = CD_ERR_NOMEM;
 out:
	free(buf);
	close(fd);
	return rc;
}

int
grade_exercise_load_dir(const char *dir, struct grade_exercise **out,
    char *err, size_t errlen)
{
	json_t *files = NULL, *desc = NULL, *text = NULL;
	const char *const *names;
	json_error_t je;
	int rc;

	*out = NULL;
	if ((files = json_object()) == NULL)
		return CD_ERR_NOMEM;
	/* The files of the language whose harness is there. */
	names = grade_file_names;
	if (read_text(dir, "harness.c", &text, NULL, 0) == CD_ERR_NOT_FOUND &&
	    read_text(dir, "harness.py", &text, NULL, 0) == 0)
		names = grade_file_names_python;
	json_decref(text);
	for (int i = 0; i < GF_COUNT; i++) {
		if (names[i] == NULL)
			continue;
		rc = read_text(dir, names[i], &text, err, errlen);
		if (rc == CD_ERR_NOT_FOUND && i == GF_STARTER)
			continue;
		if (rc == CD_ERR_NOT_FOUND)
			seterr(err, errlen, "%s/%s: missing", dir, names[i]);
		if (rc != 0)
			goto out;
		json_object_set_new(files, names[i], text);
	}
	if ((rc = read_text(dir, "exercise.json", &text, err, errlen)) != 0) {
		if (rc == CD_ERR_NOT_FOUND)
			seterr(err, errlen, "%s/exercise.json: missing", dir);
		goto out;
	}
	desc = json_loadb(json_string_value(text), json_string_length(text),
	    JSON_REJECT_DUPLICATES, &je);
	json_decref(text);
	if (desc == NULL) {
		seterr(err, errlen, "exercise.json:%d: %s", je.line, je.text);
		rc = CD_ERR_INVALID;
		goto out;
	}
	rc = grade_exercise_load(desc, files, out, err, errlen);
 out:
	json_decref(desc);
	json_decref(files);
	return rc;
}
