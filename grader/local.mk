# grader/local.mk - build rules of the grading pipeline, included by Makefile.am.

# The library the daemon links: grade.h is its whole interface.
noinst_LIBRARIES += grader/libgrader.a
grader_libgrader_a_SOURCES = \
	grader/grade.h grader/grade-int.h \
	grader/grade.c grader/bench.c grader/exercise.c grader/check.c \
	grader/python.c
nodist_grader_libgrader_a_SOURCES = grader/embedded-python.c
grader_libgrader_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir) -I$(top_builddir)
grader_libgrader_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS)

# Link order: the grader needs the sandbox, which needs err and log.
GRADER_LIBS = grader/libgrader.a $(SANDBOX_LIBS) $(SODIUM_LIBS) -lm

bin_PROGRAMS += cohort-grade
cohort_grade_SOURCES = grader/cohort-grade.c
cohort_grade_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
cohort_grade_LDADD = $(GRADER_LIBS)

# The real pipeline on the learner fixtures; needs root, like the sandbox.
TESTS += tests/grader/grade.sh
EXTRA_DIST += tests/grader/grade.sh tests/grader/lib.sh tests/fixtures/solutions exercises

# The Python runner and screen, compiled into the grader (python.c).
GRADER_PY_FILES = $(srcdir)/grader/python/runner.py $(srcdir)/grader/python/screen.py
grader/embedded-python.c: build-aux/embed$(EXEEXT) $(GRADER_PY_FILES)
	$(AM_V_GEN)$(MKDIR_P) grader && build-aux/embed$(EXEEXT) embedded_grader_python $(srcdir)/grader/python $(GRADER_PY_FILES) > $@.tmp && mv $@.tmp $@
CLEANFILES += grader/embedded-python.c
EXTRA_DIST += grader/python

# Python exercises through the real pipeline; needs root, like grade.sh.
TESTS += tests/grader/python.sh
EXTRA_DIST += tests/grader/python.sh
