# sandbox/local.mk - build rules of the sandbox module, included by Makefile.am.
