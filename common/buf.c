/*
 * buf.c - the growable byte string.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

int
buf_reserve(struct buf *b, size_t n)
{
	size_t cap;
	char *np;

	if (b->broken)
		return CD_ERR_NOMEM;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n + 1) {
		if (cap > ((size_t)-1) / 2)
			goto broken;
		cap *= 2;
	}
	if ((np = realloc(b->p, cap)) == NULL)
		goto broken;
	b->p = np;
	b->cap = cap;
	return 0;
broken:
	b->broken = 1;
	return CD_ERR_NOMEM;
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) != 0)
		return;
	if (n > 0)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->broken = 1;
		return;
	}
	if (buf_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

int
buf_error(const struct buf *b)
{
	return b->broken ? CD_ERR_NOMEM : 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->broken = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

char *
buf_take(struct buf *b)
{
	char *p = b->p;

	b->p = NULL;
	b->len = b->cap = 0;
	b->broken = 0;
	return p;
}

void
buf_free(struct buf *b)
{
	free(buf_take(b));
}
