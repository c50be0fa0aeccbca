/*
 * buf.h - a growable byte string, after libpq's PQExpBuffer.
 *
 * A struct buf starts zeroed (BUF_INIT) and grows as text is appended;
 * its bytes are always NUL-terminated once anything was added.  Running
 * out of memory does not return at every call: the buffer is marked
 * broken, further appends do nothing, and buf_error() says so once, where
 * the caller is done building.  That keeps a run of appends free of error
 * checks, like PQExpBufferBroken.
 */
#ifndef COHORTD_BUF_H
#define COHORTD_BUF_H

#include <stddef.h>

struct buf {
	char	*p;		/* the bytes, NUL-terminated; NULL if empty */
	size_t	 len;		/* bytes used, not counting the NUL */
	size_t	 cap;		/* bytes allocated */
	int	 broken;	/* an allocation failed; p is as it was */
};

#define BUF_INIT	{ NULL, 0, 0, 0 }

void	buf_add(struct buf *b, const void *data, size_t n);
void	buf_adds(struct buf *b, const char *s);
void	buf_addf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Make room for n more bytes: 0, or CD_ERR_NOMEM (and b broken). */
int	buf_reserve(struct buf *b, size_t n);
/* 0, or CD_ERR_NOMEM if any append failed since the last reset. */
int	buf_error(const struct buf *b);
/* Empty it, keeping the memory. */
void	buf_reset(struct buf *b);
/* Hand the bytes to the caller (free(3) them); b is empty again. */
char	*buf_take(struct buf *b);
void	buf_free(struct buf *b);

#endif
