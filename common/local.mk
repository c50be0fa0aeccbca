# common/local.mk - the library every binary links: the error convention,
# the logger, the monotonic clock and the growable buffer.  It depends on
# nothing of cohortd's own (jansson only, for the logger's JSON lines).
noinst_LIBRARIES += common/libcommon.a
common_libcommon_a_SOURCES = \
	common/err.c common/err.h common/log.c common/log.h \
	common/clock.c common/clock.h common/buf.c common/buf.h \
	common/opt.c common/opt.h common/utf8.c common/utf8.h
common_libcommon_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
