/* test_auth.c - token format and hashing. */
#include <string.h>

#include <sodium.h>

#include "daemon/auth.h"
#include "unit.h"

START_TEST(token_shape)
{
	char a[AUTH_TOKEN_LEN + 1], b[AUTH_TOKEN_LEN + 1];

	auth_token_new(a);
	auth_token_new(b);
	ck_assert_uint_eq(strlen(a), AUTH_TOKEN_LEN);
	ck_assert_str_ne(a, b);
	for (size_t i = 0; i < AUTH_TOKEN_LEN; i++)
		ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", a[i]) != NULL, "not base64url");
}
END_TEST

START_TEST(hash_is_blake2b_256)
{
	char hex[AUTH_HASH_LEN * 2 + 1];

	/* BLAKE2b-256("abc"), RFC 7693 test vector family. */
	auth_token_hash_hex("abc", hex);
	ck_assert_str_eq(hex,
	    "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("auth");

	if (sodium_init() < 0)
		return 1;
	tcase_add_test(tc, token_shape);
	tcase_add_test(tc, hash_is_blake2b_256);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
