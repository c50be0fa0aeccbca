/*
 * utf8.h - the one UTF-8 decoder: what the sandbox's JSON results, the
 * CSV reader and the HTTP layer's query text each check.
 */
#ifndef COHORTD_UTF8_H
#define COHORTD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length (1 to 4) of the well-formed UTF-8 sequence at p, which has n
 * bytes left (n >= 1), storing its code point in *cp when cp is not NULL;
 * 0 when it is not well-formed: a stray or truncated continuation, an
 * overlong form, a surrogate or a value past U+10FFFF.  NUL is a
 * well-formed character here; callers that refuse it say so.
 */
size_t	utf8_len(const unsigned char *p, size_t n, uint32_t *cp);

#endif
