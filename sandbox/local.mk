# sandbox/local.mk - build rules of the sandbox module, included by Makefile.am.

# The library the grader links: sandbox.h is its whole interface.
noinst_LIBRARIES += sandbox/libsandbox.a
sandbox_libsandbox_a_SOURCES = \
	sandbox/sandbox.h sandbox/sandbox-int.h \
	sandbox/sandbox.c sandbox/box.c sandbox/cgroup.c sandbox/probe.c \
	sandbox/result.c sandbox/rules.c sandbox/slot.c
sandbox_libsandbox_a_CFLAGS = $(AM_CFLAGS) $(SECCOMP_CFLAGS) $(JANSSON_CFLAGS)

# Link order: the sandbox needs the shared error and log code.
SANDBOX_LIBS = sandbox/libsandbox.a common/libcommon.a $(SECCOMP_LIBS) $(JANSSON_LIBS)

bin_PROGRAMS += cohort-sandbox
cohort_sandbox_SOURCES = sandbox/cohort-sandbox.c
cohort_sandbox_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
cohort_sandbox_LDADD = $(SANDBOX_LIBS)

# Helpers of the hostile-program suite and of bench/sandbox.
check_PROGRAMS += tests/sandbox/sbx-expect tests/sandbox/sbx-listen
tests_sandbox_sbx_expect_SOURCES = tests/sandbox/sbx-expect.c
tests_sandbox_sbx_expect_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_sandbox_sbx_expect_LDADD = $(JANSSON_LIBS)
tests_sandbox_sbx_listen_SOURCES = tests/sandbox/sbx-listen.c

noinst_PROGRAMS += tests/sandbox/sbx-bench
tests_sandbox_sbx_bench_SOURCES = tests/sandbox/sbx-bench.c

TESTS += tests/sandbox/hostile.sh
EXTRA_DIST += tests/sandbox/hostile.sh tests/sandbox/cases bench/sandbox
