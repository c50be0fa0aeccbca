/*
 * smtp.c - one email over SMTP (smtp.h): the message written by hand, as
 * RFC 5322 (headers) and RFC 2045-2047 (MIME parts, encoded words) say,
 * and handed to libcurl, which speaks the protocol.
 *
 * Bodies go as base64 so that no line is too long and no byte needs
 * 8BITMIME; headers that are not plain short ASCII go as UTF-8 encoded
 * words, which also keeps any CR or LF a tenant's name or a subject might
 * hold out of the header block.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "../common/buf.h"
#include "../common/err.h"
#include "smtp.h"
#include "xfer.h"

/* ---- checks ------------------------------------------------------------ */

int
smtp_address_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') ||
	    strlen(s) > 320)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || strchr("<>()[]\\,;:\"", *s))
			return 0;
	return 1;
}

int
smtp_server_check(const char *url, const char *from, char *err,
    size_t errlen)
{
	if (strncmp(url, "smtp://", 7) != 0 && strncmp(url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "COHORTD_SMTP_URL: \"%s\" is not an "
		    "smtp:// or smtps:// URL", url);
		return CD_ERR_CONFIG;
	}
	if (!smtp_address_ok(from)) {
		snprintf(err, errlen, "COHORTD_SMTP_FROM: \"%s\" is not an "
		    "address like noreply@example.com (needed with "
		    "COHORTD_SMTP_URL)", from);
		return CD_ERR_CONFIG;
	}
	return 0;
}

/* ---- the message ------------------------------------------------------- */

/* Fits in a header as it is: printable ASCII, short. */
static int
smtp_plain(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (*s < ' ' || *s >= 0x7f)
			return 0;
	return n <= max;
}

/*
 * s as UTF-8 "B" encoded words (RFC 2047), folded between words: each
 * takes at most 45 bytes (60 of base64, 72 with the frame) and never
 * splits a character.  Control characters become spaces first.
 */
static void
smtp_words(struct buf *b, const char *s)
{
	size_t n = strlen(s), off = 0, take;
	char chunk[48], b64[sodium_base64_ENCODED_LEN(45,
	    sodium_base64_VARIANT_ORIGINAL)];

	if (n == 0)
		return;
	while (off < n) {
		take = n - off > 45 ? 45 : n - off;
		/* Back off to a character's first byte. */
		while (take < n - off && take > 1 &&
		    ((unsigned char)s[off + take] & 0xc0) == 0x80)
			take--;
		for (size_t i = 0; i < take; i++)
			chunk[i] = (unsigned char)s[off + i] < ' ' ||
			    s[off + i] == 0x7f ? ' ' : s[off + i];
		sodium_bin2base64(b64, sizeof(b64), (unsigned char *)chunk,
		    take, sodium_base64_VARIANT_ORIGINAL);
		buf_addf(b, "%s=?UTF-8?B?%s?=", off > 0 ? "\r\n " : "", b64);
		off += take;
	}
}

/* A display name: a quoted string when plain, else encoded words. */
static void
smtp_phrase(struct buf *b, const char *s)
{
	if (!smtp_plain(s, 60)) {
		smtp_words(b, s);
		return;
	}
	buf_adds(b, "\"");
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_adds(b, "\\");
		buf_add(b, s, 1);
	}
	buf_adds(b, "\"");
}

/* A body part: base64 in lines of 76. */
static void
smtp_part(struct buf *b, const char *boundary, const char *type,
    const char *body)
{
	size_t n = strlen(body);
	char line[77 + 1];

	buf_addf(b, "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n", boundary, type);
	/* 57 bytes make 76 characters of base64. */
	for (size_t off = 0; off < n || off == 0; off += 57) {
		size_t take = n - off > 57 ? 57 : n - off;

		sodium_bin2base64(line, sizeof(line), (const unsigned char *)
		    body + off, take, sodium_base64_VARIANT_ORIGINAL);
		buf_adds(b, line);
		buf_adds(b, "\r\n");
		if (n == 0)
			break;
	}
}

char *
smtp_format(const struct smtp_server *s, const struct smtp_msg *m,
    time_t now)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct buf b = BUF_INIT;
	unsigned char rnd[12];
	char boundary[64], hex[25];
	const char *domain = strchr(s->from, '@');
	struct tm tm;

	gmtime_r(&now, &tm);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(boundary, sizeof(boundary), "=_cohortd_%s", hex);

	buf_adds(&b, "From: ");
	if (m->from_name != NULL && m->from_name[0] != '\0') {
		smtp_phrase(&b, m->from_name);
		buf_adds(&b, " ");
	}
	buf_addf(&b, "<%s>\r\nTo: <%s>\r\nSubject: ", s->from, m->to);
	if (smtp_plain(m->subject, 70))
		buf_adds(&b, m->subject);
	else
		smtp_words(&b, m->subject);
	buf_addf(&b, "\r\nDate: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	/* The outbox row's id: a message sent again keeps its identity. */
	buf_addf(&b, "Message-ID: <%s@%s>\r\n", m->id, domain ? domain + 1 :
	    "cohortd.invalid");
	buf_adds(&b, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n");
	buf_addf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
	    "\r\n", boundary);
	smtp_part(&b, boundary, "text/plain", m->text ? m->text : "");
	if (m->html != NULL)
		smtp_part(&b, boundary, "text/html", m->html);
	buf_addf(&b, "--%s--\r\n", boundary);
	if (buf_error(&b) != 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_take(&b);
}

/* ---- sending ------------------------------------------------------------ */

struct smtp_reader {
	const char	*p;
	size_t		 left;
};

static size_t
smtp_read(char *buf, size_t size, size_t n, void *arg)
{
	struct smtp_reader *r = arg;
	size_t take = size * n < r->left ? size * n : r->left;

	memcpy(buf, r->p, take);
	r->p += take;
	r->left -= take;
	return take;
}

int
smtp_send(const struct smtp_server *s, const struct smtp_msg *m, char *why,
    size_t whylen)
{
	struct curl_slist *rcpt = NULL;
	struct smtp_reader rd;
	char addr[340];
	char *msg = NULL;
	CURL *h = NULL;
	CURLcode cc;
	long code = 0;
	int rc = CD_ERR_UNAVAILABLE;

	snprintf(why, whylen, "out of memory");
	if (!smtp_address_ok(m->to)) {
		snprintf(why, whylen, "not an address we can send to");
		return CD_ERR_INVALID;
	}
	if ((msg = smtp_format(s, m, time(NULL))) == NULL ||
	    (h = curl_easy_init()) == NULL)
		goto out;
	snprintf(addr, sizeof(addr), "<%s>", m->to);
	if ((rcpt = curl_slist_append(NULL, addr)) == NULL)
		goto out;
	snprintf(addr, sizeof(addr), "<%s>", s->from);
	rd.p = msg;
	rd.left = strlen(msg);
	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &rd);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rd.left);
	/* Plain smtp:// still upgrades when the server offers STARTTLS. */
	curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	if (s->user != NULL && s->user[0] != '\0') {
		curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->password ?
		    s->password : "");
	}
	cc = xfer_perform(h, (long)s->timeout_s, s->abandon, s->arg, &code,
	    why, whylen);
	if (cc == CURLE_OK) {
		rc = 0;
		goto out;
	}
	if (code >= 500 && code < 600 && cc != CURLE_LOGIN_DENIED)
		rc = CD_ERR_INVALID;	/* refused for good */
 out:
	curl_slist_free_all(rcpt);
	if (h != NULL)
		curl_easy_cleanup(h);
	free(msg);
	return rc;
}
