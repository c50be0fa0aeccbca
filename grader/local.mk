# grader/local.mk - build rules of the grading pipeline, included by Makefile.am.
