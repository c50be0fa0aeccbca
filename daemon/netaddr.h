/*
 * netaddr.h - client addresses: lists of addresses and networks
 * (COHORTD_TRUSTED_PROXIES), and who the client is behind a proxy.
 */
#ifndef COHORTD_NETADDR_H
#define COHORTD_NETADDR_H

#include <stddef.h>

/*
 * Is list a valid list of addresses or networks (IPv4 or IPv6, each
 * optionally /prefix), separated by commas or spaces?  "" is valid and
 * empty.  1 yes, 0 no.
 */
int	netaddr_list_ok(const char *list);

/* Is the textual address ip in list?  1 yes, 0 no (or not an address). */
int	netaddr_in_list(const char *ip, const char *list);

/*
 * The client's address: peer itself unless peer is in trusted; then the
 * rightmost address in the X-Forwarded-For value xff (may be NULL) that
 * is not itself in trusted, or peer when xff names none.  Only the proxies
 * we trust append to the header, so reading right to left stops at the
 * first address that one of them saw; anything left of it the client
 * wrote.  Written to out (len bytes; INET6_ADDRSTRLEN is enough).
 */
void	netaddr_client(const char *peer, const char *xff, const char *trusted,
	    char *out, size_t len);

#endif
