/*
 * xfer.h - the one libcurl transfer the daemon's two clients make (smtp.c
 * sends mail, webhook.c posts deliveries): bounded in time, abandoned on
 * request, its failure put in a sentence.
 */
#ifndef COHORTD_XFER_H
#define COHORTD_XFER_H

#include <stddef.h>

#include <curl/curl.h>

/*
 * Run the transfer h is set up for: 5 s to connect, timeout_s in all, no
 * signals (threads), stopped as soon as abandon(arg) (may be NULL) returns
 * non-zero.  *code receives the server's response code (0: none).  On
 * failure why (whylen bytes) receives libcurl's reason.  The CURLcode.
 */
CURLcode xfer_perform(CURL *h, long timeout_s, int (*abandon)(void *),
	    void *arg, long *code, char *why, size_t whylen);

#endif
