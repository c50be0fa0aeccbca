/*
 * utf8.c - decoding one UTF-8 sequence (RFC 3629, section 4).
 */
#include "utf8.h"

size_t
utf8_len(const unsigned char *p, size_t n, uint32_t *cpp)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80) {
		len = 1;
		cp = p[0];
		goto out;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
 out:
	if (cpp != NULL)
		*cpp = cp;
	return len;
}
