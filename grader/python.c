/*
 * python.c - what grading a Python exercise adds to the pipeline of
 * grade.c: the trusted runner and source screen that go into its boxes
 * (runner.py and screen.py of grader/python, compiled in), the command
 * line of a run, and the verdicts only a Python run can earn (blocking_call, a deadlock with the
 * threads' stacks).  grade.c dispatches here on the exercise's language;
 * every run still goes through its box_run(), in the same sandbox as C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../daemon/embed.h"
#include "../sandbox/sandbox.h"
#include "grade-int.h"

#define STACKS_MAX	1400	/* of the dump shown with a deadlock */

extern const struct embedded_file embedded_grader_python[];

const char *
grade_py_file(const char *name, size_t *len)
{
	for (const struct embedded_file *f = embedded_grader_python;
	    f->name != NULL; f++)
		if (strcmp(f->name, name) == 0) {
			*len = f->len;
			return f->data;
		}
	*len = 0;
	return NULL;
}

/*
 * The modules a solution may import: the standard library's that
 * concurrency exercises need, and those the exercise lists.  The screen
 * refuses any other import, and the runner any other at run time; both get
 * this list on their command line, so it lives here only.
 */
static const char grade_py_stdlib[] =
	"asyncio,threading,queue,concurrent,multiprocessing,collections,"
	"itertools,functools,heapq,bisect,math,time,random,os,dataclasses,"
	"typing,contextlib,enum,statistics,array,string,re,abc,copy,fractions,"
	"decimal,numbers,struct,hashlib,io,datetime,zlib,operator,sys,weakref,"
	"textwrap,unicodedata,json,secrets,uuid,base64,binascii,pprint,"
	"__future__";

char *
grade_py_allowed(const struct grade_exercise *ex)
{
	char *s;

	if (asprintf(&s, "%s%s%s", grade_py_stdlib, ex->imports &&
	    ex->imports[0] ? "," : "", ex->imports ? ex->imports : "") == -1)
		return NULL;
	return s;
}

char **
grade_py_argv(const struct grade_exercise *ex, const char *mode,
    uint32_t wall_ms, char *const *args, size_t nargs, const char *threads)
{
	char **argv;
	size_t n = 0;

	if ((argv = calloc(nargs + 12, sizeof(char *))) == NULL)
		return NULL;
	argv[n++] = GRADE_PYTHON;
	/* Isolated (no environment, no user site, no script directory on
	   the path), no site packages at all, no bytecode files written. */
	argv[n++] = "-I";
	argv[n++] = "-S";
	argv[n++] = "-B";
	argv[n++] = "runner.py";
	argv[n++] = (char *)mode;
	if (asprintf(&argv[n++], "%u", wall_ms) == -1) {
		free(argv);
		return NULL;
	}
	if ((argv[n++] = grade_py_allowed(ex)) == NULL) {
		free(argv[n - 2]);
		free(argv);
		return NULL;
	}
	argv[n++] = "harness.py";
	memcpy(argv + n, args, nargs * sizeof(char *));
	n += nargs;
	argv[n++] = "--threads";
	argv[n++] = (char *)threads;
	argv[n] = NULL;
	return argv;
}

/*
 * The stack dump faulthandler wrote, shortened to what helps: for each
 * thread its header and the frames in solution.py and harness.py, the
 * library's own frames (threading.py, queue.py) cut to the innermost one.
 */
static void
stacks(const char *err, size_t len, char *out, size_t ol)
{
	const char *p = memmem(err, len, "Timeout (", 9), *end = err + len, *nl;
	size_t used = 0;
	bool lib_shown = false;

	out[0] = '\0';
	if (p == NULL)
		return;
	for (; p < end && used + 2 < ol; p = nl + 1) {
		size_t ll;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ll >= 6 && (memcmp(p, "Thread", 6) == 0 ||
		    memcmp(p, "Current thread", 14) == 0))
			lib_shown = false;
		else if (memmem(p, ll, "/box/solution.py", 16) == NULL &&
		    memmem(p, ll, "/box/harness.py", 15) == NULL) {
			/* Where the thread sits inside the library: once. */
			if (lib_shown || memmem(p, ll, "File \"", 6) == NULL)
				continue;
			lib_shown = true;
		}
		if (used + ll + 2 >= ol)
			break;
		used += (size_t)snprintf(out + used, ol - used, "%.*s\n",
		    (int)ll, p);
	}
	/* The boxes' paths mean nothing to the learner. */
	for (char *b; (b = strstr(out, "/box/")) != NULL; )
		memmove(b, b + 5, strlen(b + 5) + 1);
}

/* The runner's own last word: the text after the last "cohort: ". */
static const char *
runner_said(const struct sbx_result *r)
{
	const char *p = NULL, *q = r->err;

	if (r->err == NULL)
		return NULL;
	while ((q = memmem(q, r->err_len - (size_t)(q - r->err),
	    "\ncohort: ", 9)) != NULL)
		p = q++ + 9;
	return p;
}

/* The verdict an exit code of the runner's stands for. */
static const char *
runner_verdict(int code)
{
	switch (code) {
	case GRADE_PY_EXIT_BLOCKING:
		return "blocking_call";
	case GRADE_PY_EXIT_FAIL:
		return "wrong_answer";
	case GRADE_PY_EXIT_TAMPER:
		return "security_violation";
	default:
		return "runtime_error";
	}
}

const char *
grade_py_verdict(const struct sbx_result *r, char *msg, size_t ml)
{
	char st[STACKS_MAX];
	const char *said = runner_said(r);
	bool dumped, walled;

	/*
	 * The runner dumps every thread's stack and exits a little before the
	 * wall limit; the sandbox's wall limit itself means the dump did not
	 * get out.  Either way: blocked threads when the CPUs were nearly
	 * idle, else a time limit.
	 */
	dumped = r->verdict == SBX_RUNTIME_ERROR && r->signal == 0 &&
	    r->exit_code == 1 && r->err != NULL &&
	    memmem(r->err, r->err_len, "Timeout (", 9) != NULL &&
	    memmem(r->err, r->err_len, "most recent call first", 22) != NULL;
	walled = r->verdict == SBX_TIME_LIMIT && r->limit != NULL &&
	    strcmp(r->limit, "wall") == 0;
	if (!dumped && !walled) {
		if (r->verdict != SBX_RUNTIME_ERROR || r->signal != 0 ||
		    said == NULL)
			return NULL;
		snprintf(msg, ml, "%.*s", (int)strcspn(said, "\n"), said);
		return runner_verdict(r->exit_code);
	}
	stacks(r->err, r->err_len, st, sizeof(st));
	if ((uint64_t)r->cpu_ms * 100 < (uint64_t)r->wall_ms * 10) {
		snprintf(msg, ml, "no progress for %u ms with the CPUs idle "
		    "(%u ms of CPU): threads are blocked.  Take locks in one "
		    "global order, and make every wait (a queue's get, a "
		    "condition, an event, a join) one that something will end.%s"
		    "%s", r->wall_ms, r->cpu_ms, st[0] ? "  Every thread at "
		    "that moment:\n" : "", st);
		return "deadlock";
	}
	snprintf(msg, ml, "the time limit was reached (%u ms wall, %u ms "
	    "CPU).%s%s", r->wall_ms, r->cpu_ms, st[0] ? "  Where each "
	    "thread was:\n" : "", st);
	return "time_limit";
}
