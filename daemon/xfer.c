/*
 * xfer.c - a bounded, abandonable libcurl transfer (xfer.h).
 */
#include <stdio.h>

#include <curl/curl.h>

#include "xfer.h"

struct xfer_abandon {
	int	(*fn)(void *);
	void	 *arg;
};

static int
xfer_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	const struct xfer_abandon *a = arg;

	return a->fn != NULL && a->fn(a->arg);
}

CURLcode
xfer_perform(CURL *h, long timeout_s, int (*abandon)(void *), void *arg,
    long *code, char *why, size_t whylen)
{
	struct xfer_abandon a = { abandon, arg };
	char cerr[CURL_ERROR_SIZE] = "";
	CURLcode cc;

	*code = 0;
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	/* Threads: no signals for timeouts. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)&a);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	if (cc != CURLE_OK)
		snprintf(why, whylen, "%s%s%s", curl_easy_strerror(cc),
		    cerr[0] ? ": " : "", cerr);
	/* a and cerr end here: h must not point at them. */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	return cc;
}
