/*
 * webhook.c - webhook deliveries (webhook.h): the URL rules, the
 * signature, and the POST through libcurl.
 *
 * An endpoint's URL is the tenant's to choose, so a delivery must not
 * become a way into the host's own network (SSRF).  The host is resolved
 * here, every address it has is checked against the ranges that are not
 * the public internet, and libcurl is told to connect to the address
 * checked (CURLOPT_RESOLVE), so a DNS answer that changes between the
 * check and the connection changes nothing.  Redirects are not followed.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../common/err.h"
#include "netaddr.h"
#include "webhook.h"
#include "xfer.h"

const char *const webhook_events[] = { "enrollment.created",
	"enrollment.promoted", "enrollment.withdrawn", "enrollment.completed",
	"submission.graded", "quiz.submitted", "exercise.verified",
	"exercise.rejected", "report_job.done", "learner.nudged", NULL };

/* Not the public internet: this host, private and shared networks,
 * link-local, documentation, multicast, reserved, and NAT64's mapping. */
static const char webhook_blocked[] =
    "0.0.0.0/8, 10.0.0.0/8, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, "
    "172.16.0.0/12, 192.0.0.0/24, 192.0.2.0/24, 192.168.0.0/16, "
    "198.18.0.0/15, 198.51.100.0/24, 203.0.113.0/24, 224.0.0.0/4, "
    "240.0.0.0/4, ::/128, ::1/128, fe80::/10, fc00::/7, ff00::/8, "
    "64:ff9b::/96, 2001:db8::/32";

/* Is name (a host, or an address) one of allow's entries? */
static int
webhook_allowed(const char *name, const char *allow)
{
	const char *p = allow;
	size_t n, len = strlen(name);

	if (allow == NULL)
		return 0;
	while (*(p += strspn(p, ", \t")) != '\0') {
		n = strcspn(p, ", \t");
		if (n == len && strncasecmp(p, name, n) == 0)
			return 1;
		p += n;
	}
	/* An address inside an allowed network. */
	return netaddr_in_list(name, allow);
}

/* The URL's scheme, host (brackets gone) and port.  0, or -1. */
static int
webhook_parse(const char *url, char *scheme, size_t slen, char *host,
    size_t hlen, long *port)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL, *pt = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		goto out;
	snprintf(scheme, slen, "%s", s);
	if (h[0] == '[' && h[strlen(h) - 1] == ']')
		snprintf(host, hlen, "%.*s", (int)strlen(h) - 2, h + 1);
	else
		snprintf(host, hlen, "%s", h);
	*port = atol(pt);
	rc = 0;
 out:
	curl_free(s);
	curl_free(h);
	curl_free(pt);
	curl_url_cleanup(u);
	return rc;
}

int
webhook_url_ok(const char *url, const char *allow, char *why, size_t whylen)
{
	char scheme[16], host[256];
	long port;
	int allowed;

	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0) {
		snprintf(why, whylen, "the URL must start with https://");
		return 0;
	}
	if (webhook_parse(url, scheme, sizeof(scheme), host, sizeof(host),
	    &port) != 0 || host[0] == '\0') {
		snprintf(why, whylen, "not a URL");
		return 0;
	}
	allowed = webhook_allowed(host, allow);
	if (strcasecmp(scheme, "https") != 0 && !allowed) {
		snprintf(why, whylen, "the URL must start with https://");
		return 0;
	}
	if (!allowed && (strcasecmp(host, "localhost") == 0 ||
	    netaddr_in_list(host, webhook_blocked))) {
		snprintf(why, whylen, "%s is a loopback, private or link-local "
		    "address", host);
		return 0;
	}
	return 1;
}

void
webhook_secret_new(char *out, size_t len)
{
	unsigned char key[24];
	char b64[sodium_base64_ENCODED_LEN(24,
	    sodium_base64_VARIANT_ORIGINAL)];

	randombytes_buf(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), key, sizeof(key),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "whsec_%s", b64);
	sodium_memzero(key, sizeof(key));
}

int
webhook_sign(const char *secret, const char *id, long timestamp,
    const char *body, char *out, size_t len)
{
	unsigned char key[128], mac[crypto_auth_hmacsha256_BYTES];
	char ts[32], b64[sodium_base64_ENCODED_LEN(sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL)];
	crypto_auth_hmacsha256_state st;
	size_t klen;

	if (strncmp(secret, "whsec_", 6) != 0 ||
	    sodium_base642bin(key, sizeof(key), secret + 6, strlen(secret + 6),
	    NULL, &klen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return CD_ERR_INVALID;
	snprintf(ts, sizeof(ts), "%ld", timestamp);
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)id,
	    strlen(id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
	    strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
	    strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(key, sizeof(key));
	sodium_bin2base64(b64, sizeof(b64), mac, sizeof(mac),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "v1,%s", b64);
	return 0;
}

/*
 * Resolve host and check every address: the first, as text, in addr.
 * 0; CD_ERR_INVALID (not allowed); CD_ERR_UNAVAILABLE (no answer).
 */
static int
webhook_resolve(const char *host, const char *allow, char *addr,
    size_t alen, char *why, size_t whylen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char buf[INET6_ADDRSTRLEN];
	int rc = 0, host_ok = webhook_allowed(host, allow);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) {
		snprintf(why, whylen, "cannot resolve %s", host);
		return CD_ERR_UNAVAILABLE;
	}
	addr[0] = '\0';
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		const void *a = ai->ai_family == AF_INET ?
		    (const void *)&((struct sockaddr_in *)(void *)
		    ai->ai_addr)->sin_addr : (const void *)&((struct
		    sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    inet_ntop(ai->ai_family, a, buf, sizeof(buf)) == NULL)
			continue;
		if (!host_ok && !webhook_allowed(buf, allow) &&
		    netaddr_in_list(buf, webhook_blocked)) {
			snprintf(why, whylen, "%s resolves to %s, a loopback, "
			    "private or link-local address", host, buf);
			rc = CD_ERR_INVALID;
			break;
		}
		if (addr[0] == '\0')
			snprintf(addr, alen, ai->ai_family == AF_INET6 ?
			    "[%s]" : "%s", buf);
	}
	freeaddrinfo(res);
	if (rc == 0 && addr[0] == '\0') {
		snprintf(why, whylen, "no address for %s", host);
		rc = CD_ERR_UNAVAILABLE;
	}
	return rc;
}

static size_t
webhook_discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

int
webhook_deliver(const struct webhook_post *w, char *why, size_t whylen)
{
	struct curl_slist *hdrs = NULL, *pin = NULL;
	char scheme[16], host[256], addr[INET6_ADDRSTRLEN + 2], line[512];
	char sig[128];
	long port, code = 0, now = (long)time(NULL);
	CURL *h = NULL;
	CURLcode cc;
	int rc;

	if (!webhook_url_ok(w->url, w->allow, why, whylen) ||
	    webhook_parse(w->url, scheme, sizeof(scheme), host, sizeof(host),
	    &port) != 0)
		return CD_ERR_INVALID;
	if (webhook_sign(w->secret, w->id, now, w->body, sig,
	    sizeof(sig)) != 0) {
		snprintf(why, whylen, "the endpoint's secret is unusable");
		return CD_ERR_INVALID;
	}
	if ((rc = webhook_resolve(host, w->allow, addr, sizeof(addr), why,
	    whylen)) != 0)
		return rc;
	rc = CD_ERR_UNAVAILABLE;
	snprintf(why, whylen, "out of memory");
	snprintf(line, sizeof(line), "%s:%ld:%s", host, port, addr);
	if ((pin = curl_slist_append(NULL, line)) == NULL ||
	    (h = curl_easy_init()) == NULL)
		goto out;
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	snprintf(line, sizeof(line), "webhook-id: %s", w->id);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "webhook-timestamp: %ld", now);
	hdrs = curl_slist_append(hdrs, line);
	snprintf(line, sizeof(line), "webhook-signature: %s", sig);
	hdrs = curl_slist_append(hdrs, line);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (hdrs == NULL)
		goto out;
	curl_easy_setopt(h, CURLOPT_URL, w->url);
	curl_easy_setopt(h, CURLOPT_RESOLVE, pin);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP |
	    CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, w->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(w->body));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "cohortd-webhooks");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, webhook_discard);
	cc = xfer_perform(h, (long)w->timeout_s, w->abandon, w->arg, &code,
	    why, whylen);
	if (cc == CURLE_OK && code >= 200 && code <= 299)
		rc = 0;
	else if (cc == CURLE_OK)
		snprintf(why, whylen, "the endpoint answered %ld", code);
 out:
	curl_slist_free_all(hdrs);
	curl_slist_free_all(pin);
	if (h != NULL)
		curl_easy_cleanup(h);
	return rc;
}
