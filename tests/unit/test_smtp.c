/* test_smtp.c - the email's form: addresses, headers, MIME parts. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "daemon/smtp.h"
#include "unit.h"

START_TEST(addresses)
{
	char err[256];

	ck_assert_int_eq(smtp_address_ok("lea@ecole.test"), 1);
	ck_assert_int_eq(smtp_address_ok("lea"), 0);
	ck_assert_int_eq(smtp_address_ok("@ecole.test"), 0);
	ck_assert_int_eq(smtp_address_ok("lea@"), 0);
	ck_assert_int_eq(smtp_address_ok("a@b@c"), 0);
	/* Nothing that could end an envelope command or a header. */
	ck_assert_int_eq(smtp_address_ok("lea@ecole.test>\r\nRCPT"), 0);
	ck_assert_int_eq(smtp_address_ok("l ea@ecole.test"), 0);
	ck_assert_int_eq(smtp_address_ok("l\xc3\xa9@ecole.test"), 0);
	ck_assert_int_eq(smtp_server_check("smtp://mx:25", "a@b.test", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(smtp_server_check("smtps://mx:465", "a@b.test", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(smtp_server_check("http://mx", "a@b.test", err,
	    sizeof(err)), CD_ERR_CONFIG);
	ck_assert_int_eq(smtp_server_check("smtp://mx", "", err, sizeof(err)),
	    CD_ERR_CONFIG);
}
END_TEST

START_TEST(message)
{
	struct smtp_server s = { .url = "smtp://mx:25", .from =
	    "noreply@ecole.test" };
	struct smtp_msg m = { .id = "0b0e3c1e-6b1a-4d4e-9d7e-2f6a1c0e9a11",
	    .to = "lea@ecole.test", .from_name = "\xc3\x89" "cole\r\nBcc: x",
	    .subject = "Hi\r\nBcc: evil@x.test", .text = "hello",
	    .html = "<p>hello</p>" };
	char *msg = smtp_format(&s, &m, 0), *head, *end;

	ck_assert_ptr_nonnull(msg);
	end = strstr(msg, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	head = strndup(msg, (size_t)(end - msg) + 2);
	/* No header smuggled through a name or a subject. */
	ck_assert_ptr_null(strstr(head, "\r\nBcc:"));
	ck_assert_ptr_nonnull(strstr(head, "From: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(head, "<noreply@ecole.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nTo: <lea@ecole.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nSubject: =?UTF-8?B?"));
	ck_assert_ptr_nonnull(strstr(head,
	    "\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
	ck_assert_ptr_nonnull(strstr(head, "\r\nMessage-ID: "
	    "<0b0e3c1e-6b1a-4d4e-9d7e-2f6a1c0e9a11@ecole.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(head,
	    "\r\nContent-Type: multipart/alternative; boundary="));
	/* Both parts, base64: "hello" and "<p>hello</p>". */
	ck_assert_ptr_nonnull(strstr(end, "text/plain; charset=utf-8"));
	ck_assert_ptr_nonnull(strstr(end, "\r\n\r\naGVsbG8=\r\n"));
	ck_assert_ptr_nonnull(strstr(end, "text/html; charset=utf-8"));
	ck_assert_ptr_nonnull(strstr(end, "\r\n\r\nPHA+aGVsbG88L3A+\r\n"));
	free(head);
	free(msg);

	/* A plain name is a quoted string; no HTML, no HTML part. */
	m.from_name = "Acme \"Corp\"";
	m.subject = "Plain";
	m.html = NULL;
	msg = smtp_format(&s, &m, 0);
	ck_assert_ptr_nonnull(strstr(msg,
	    "From: \"Acme \\\"Corp\\\"\" <noreply@ecole.test>\r\n"));
	ck_assert_ptr_nonnull(strstr(msg, "\r\nSubject: Plain\r\n"));
	ck_assert_ptr_null(strstr(msg, "text/html"));
	free(msg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("smtp");
	TCase *tc = tcase_create("smtp");

	if (sodium_init() < 0)
		return 1;
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, message);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
