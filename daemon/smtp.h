/*
 * smtp.h - one email, written as RFC 5322 and MIME say, handed to a mail
 * server over SMTP (libcurl).  Used by the outbox's dispatcher (outbox.c).
 */
#ifndef COHORTD_SMTP_H
#define COHORTD_SMTP_H

#include <stddef.h>
#include <time.h>

struct smtp_server {
	const char	*url;		/* smtp://host:port or smtps://host:port */
	const char	*from;		/* envelope and From address */
	const char	*user;		/* SMTP AUTH; NULL or "": none */
	const char	*password;
	int		 timeout_s;	/* the whole exchange */
	/* Polled while sending: non-zero abandons the exchange. */
	int		(*abandon)(void *arg);
	void		*arg;
};

struct smtp_msg {
	const char	*id;		/* unique: the Message-ID's left part */
	const char	*to;		/* one address */
	const char	*from_name;	/* display name of From; NULL: none */
	const char	*subject;
	const char	*text;		/* plain text, final (links put in) */
	const char	*html;		/* NULL: none */
};

/* Is s a plain address we will put in a header and an envelope
 * (local@domain, printable ASCII, no spaces or brackets)?  1 or 0. */
int	 smtp_address_ok(const char *s);

/*
 * Check the configuration: url's scheme and from's form.  0, or
 * CD_ERR_CONFIG with err saying why.
 */
int	 smtp_server_check(const char *url, const char *from, char *err,
	    size_t errlen);

/*
 * The whole message (headers, CRLF line ends, a multipart/alternative
 * body with base64 parts), dated now; malloc'd, the caller frees it.
 * NULL when out of memory.
 */
char	*smtp_format(const struct smtp_server *s, const struct smtp_msg *m,
	    time_t now);

/*
 * Send m.  0 when the server accepted it; CD_ERR_INVALID when it refused
 * it for good (a 5xx reply, a bad address): no use trying again;
 * CD_ERR_UNAVAILABLE for anything that may pass (no connection, a 4xx
 * reply, a timeout, abandoned).  why (a short reason) is written on
 * failure.
 */
int	 smtp_send(const struct smtp_server *s, const struct smtp_msg *m,
	    char *why, size_t whylen);

#endif
