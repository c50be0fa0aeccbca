/*
 * webhook.h - one webhook delivery: an HTTP POST of a JSON body, signed
 * as the Standard Webhooks specification says, to an address checked
 * against private networks and pinned for the connection.  Used by the
 * outbox's dispatcher (outbox.c) and, for the URL rules, by the API.
 */
#ifndef COHORTD_WEBHOOK_H
#define COHORTD_WEBHOOK_H

#include <stddef.h>

/* The events an endpoint may subscribe to (NULL-terminated). */
extern const char *const webhook_events[];

/*
 * May an endpoint have this URL?  https://, or http:// for a host in
 * allow (COHORTD_WEBHOOK_ALLOW: host names or addresses, commas); and not
 * a host that is plainly loopback, private or link-local (a literal
 * address or "localhost") unless allowed.  Names are resolved only when
 * sending.  1 yes; 0 no, with why written.
 */
int	webhook_url_ok(const char *url, const char *allow, char *why,
	    size_t whylen);

/* A new secret: "whsec_" and the base64 of 24 random bytes. */
void	webhook_secret_new(char *out, size_t len);

/*
 * The webhook-signature value for id, timestamp and body under secret
 * ("v1,<base64 HMAC-SHA256>").  0, or CD_ERR_INVALID for a bad secret.
 */
int	webhook_sign(const char *secret, const char *id, long timestamp,
	    const char *body, char *out, size_t len);

struct webhook_post {
	const char	*url;
	const char	*secret;
	const char	*id;		/* webhook-id: the message's id */
	const char	*body;		/* JSON */
	const char	*allow;		/* COHORTD_WEBHOOK_ALLOW */
	int		 timeout_s;
	int		(*abandon)(void *arg);	/* polled; non-zero stops */
	void		*arg;
};

/*
 * Deliver: resolve the host, refuse if any address is loopback, private,
 * link-local (or otherwise not public) unless allowed, connect to the
 * address checked (never a second resolution), POST, and want a 2xx.
 * 0 delivered; CD_ERR_INVALID refused for good (a URL or an address not
 * allowed); CD_ERR_UNAVAILABLE anything that may pass.  why on failure.
 */
int	webhook_deliver(const struct webhook_post *w, char *why,
	    size_t whylen);

#endif
