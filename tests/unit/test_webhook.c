/* test_webhook.c - webhook signatures and the URL rules. */
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "daemon/webhook.h"
#include "unit.h"

START_TEST(signature)
{
	char sig[128], secret[64];

	/* The Standard Webhooks specification's own example. */
	ck_assert_int_eq(webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
	    "{\"test\": 2432232314}", sig, sizeof(sig)), 0);
	ck_assert_str_eq(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	ck_assert_int_eq(webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "x",
	    1, "{}", sig, sizeof(sig)), CD_ERR_INVALID);
	webhook_secret_new(secret, sizeof(secret));
	ck_assert_int_eq(strncmp(secret, "whsec_", 6), 0);
	ck_assert_uint_eq(strlen(secret), 6 + 32);
	ck_assert_int_eq(webhook_sign(secret, "x", 1, "{}", sig, sizeof(sig)),
	    0);
}
END_TEST

START_TEST(urls)
{
	char why[256];

	ck_assert_int_eq(webhook_url_ok("https://hooks.example.com/x", "",
	    why, sizeof(why)), 1);
	ck_assert_int_eq(webhook_url_ok("http://hooks.example.com/x", "",
	    why, sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("ftp://hooks.example.com/x", "",
	    why, sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://127.0.0.1/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://localhost/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://10.1.2.3/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://192.168.1.1/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://169.254.169.254/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://[::1]/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://[fd00::1]/x", "", why,
	    sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://[::ffff:127.0.0.1]/x", "",
	    why, sizeof(why)), 0);
	ck_assert_int_eq(webhook_url_ok("https://8.8.8.8/x", "", why,
	    sizeof(why)), 1);
	/* Allowed: http, and private addresses, by name or network. */
	ck_assert_int_eq(webhook_url_ok("http://127.0.0.1:9/x", "127.0.0.1",
	    why, sizeof(why)), 1);
	ck_assert_int_eq(webhook_url_ok("http://hooks.internal/x",
	    "a.test, hooks.internal", why, sizeof(why)), 1);
	ck_assert_int_eq(webhook_url_ok("https://10.1.2.3/x", "10.1.0.0/16",
	    why, sizeof(why)), 1);
	ck_assert_int_eq(webhook_url_ok("https://10.2.2.3/x", "10.1.0.0/16",
	    why, sizeof(why)), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("webhook");
	TCase *tc = tcase_create("webhook");

	if (sodium_init() < 0)
		return 1;
	tcase_add_test(tc, signature);
	tcase_add_test(tc, urls);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
