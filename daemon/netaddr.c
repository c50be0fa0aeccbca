/*
 * netaddr.c - address lists and the client behind trusted proxies (the
 * contract is in netaddr.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

struct netaddr {
	int		family;
	unsigned char	bytes[16];
	int		bits;		/* prefix length */
};

/* An IPv4-mapped IPv6 address is the IPv4 address. */
static void
netaddr_unmap(struct netaddr *a)
{
	static const unsigned char pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->bytes, pre, 12) == 0) {
		memmove(a->bytes, a->bytes + 12, 4);
		a->family = AF_INET;
		a->bits = a->bits >= 96 ? a->bits - 96 : 0;
	}
}

/* Parse "addr" or "addr/bits" (n bytes of s).  0, or -1 if invalid. */
static int
netaddr_parse(const char *s, size_t n, struct netaddr *a)
{
	char buf[64], *slash, *end;
	long bits;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, a->bytes) == 1) {
		a->family = AF_INET;
		a->bits = 32;
	} else if (inet_pton(AF_INET6, buf, a->bytes) == 1) {
		a->family = AF_INET6;
		a->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		bits = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits < 0 ||
		    bits > a->bits)
			return -1;
		a->bits = (int)bits;
	}
	netaddr_unmap(a);
	return 0;
}

static int
netaddr_match(const struct netaddr *net, const struct netaddr *a)
{
	int full = net->bits / 8, rest = net->bits % 8;

	if (net->family != a->family)
		return 0;
	if (memcmp(net->bytes, a->bytes, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((net->bytes[full] ^ a->bytes[full]) &
	    (0xff << (8 - rest))) == 0;
}

/* Next item of a list separated by commas and spaces; NULL at the end. */
static const char *
netaddr_next(const char *p, size_t *n)
{
	p += strspn(p, ", \t");
	if (*p == '\0')
		return NULL;
	*n = strcspn(p, ", \t");
	return p;
}

int
netaddr_list_ok(const char *list)
{
	struct netaddr a;
	const char *p = list;
	size_t n;

	while ((p = netaddr_next(p, &n)) != NULL) {
		if (netaddr_parse(p, n, &a) != 0)
			return 0;
		p += n;
	}
	return 1;
}

static int
netaddr_in(const struct netaddr *a, const char *list)
{
	struct netaddr net;
	const char *p = list;
	size_t n;

	while (list != NULL && (p = netaddr_next(p, &n)) != NULL) {
		if (netaddr_parse(p, n, &net) == 0 && netaddr_match(&net, a))
			return 1;
		p += n;
	}
	return 0;
}

int
netaddr_in_list(const char *ip, const char *list)
{
	struct netaddr a;

	if (netaddr_parse(ip, strlen(ip), &a) != 0 || strchr(ip, '/'))
		return 0;
	return netaddr_in(&a, list);
}

void
netaddr_client(const char *peer, const char *xff, const char *trusted,
    char *out, size_t len)
{
	struct netaddr a;
	const char *end, *start;

	snprintf(out, len, "%s", peer);
	if (xff == NULL || trusted == NULL || !netaddr_in_list(peer, trusted))
		return;
	/* Right to left over "a, b, c". */
	end = xff + strlen(xff);
	while (end > xff) {
		while (end > xff && strchr(", \t", end[-1]) != NULL)
			end--;
		start = end;
		while (start > xff && strchr(", \t", start[-1]) == NULL)
			start--;
		if (start == end)
			break;
		if (netaddr_parse(start, (size_t)(end - start), &a) != 0 ||
		    memchr(start, '/', (size_t)(end - start)) != NULL)
			return;	/* garbage: believe only the peer */
		if (!netaddr_in(&a, trusted)) {
			char buf[INET6_ADDRSTRLEN];

			inet_ntop(a.family, a.bytes, buf, sizeof(buf));
			snprintf(out, len, "%s", buf);
			return;
		}
		end = start;
	}
}
