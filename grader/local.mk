# grader/local.mk - build rules of the grading pipeline, included by Makefile.am.

# The library the daemon links: grade.h is its whole interface.
noinst_LIBRARIES += grader/libgrader.a
grader_libgrader_a_SOURCES = \
	grader/grade.h grader/grade-int.h \
	grader/grade.c grader/exercise.c grader/check.c
grader_libgrader_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS)

# Link order: the grader needs the sandbox, which needs err and log.
GRADER_LIBS = grader/libgrader.a $(SANDBOX_LIBS) $(SODIUM_LIBS) -lm

bin_PROGRAMS += cohort-grade
cohort_grade_SOURCES = grader/cohort-grade.c
cohort_grade_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
cohort_grade_LDADD = $(GRADER_LIBS)

# The real pipeline on the learner fixtures; needs root, like the sandbox.
TESTS += tests/grader/grade.sh
EXTRA_DIST += tests/grader/grade.sh tests/fixtures/solutions exercises
