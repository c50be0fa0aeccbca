/* test_netaddr.c - address lists and the client behind trusted proxies. */
#include <string.h>

#include "daemon/netaddr.h"
#include "unit.h"

START_TEST(lists)
{
	ck_assert_int_eq(netaddr_list_ok(""), 1);
	ck_assert_int_eq(netaddr_list_ok("10.0.0.5"), 1);
	ck_assert_int_eq(netaddr_list_ok("10.0.0.0/8, ::1,fd00::/8"), 1);
	ck_assert_int_eq(netaddr_list_ok("10.0.0.0/33"), 0);
	ck_assert_int_eq(netaddr_list_ok("10.0.0.0/"), 0);
	ck_assert_int_eq(netaddr_list_ok("proxy.example"), 0);
	ck_assert_int_eq(netaddr_in_list("10.1.2.3", "10.0.0.0/8"), 1);
	ck_assert_int_eq(netaddr_in_list("11.1.2.3", "10.0.0.0/8"), 0);
	ck_assert_int_eq(netaddr_in_list("10.1.2.3", "10.1.2.2/31"), 1);
	ck_assert_int_eq(netaddr_in_list("10.1.2.4", "10.1.2.2/31"), 0);
	/* An IPv4-mapped peer is its IPv4 address. */
	ck_assert_int_eq(netaddr_in_list("::ffff:127.0.0.1", "127.0.0.1"), 1);
	ck_assert_int_eq(netaddr_in_list("::1", "::1"), 1);
	ck_assert_int_eq(netaddr_in_list("garbage", "0.0.0.0/0"), 0);
}
END_TEST

START_TEST(client)
{
	char out[64];

	/* Not from a trusted proxy: the header is the client's own words. */
	netaddr_client("192.0.2.9", "198.51.100.1", "10.0.0.0/8", out,
	    sizeof(out));
	ck_assert_str_eq(out, "192.0.2.9");
	/* From one: the rightmost address it did not add itself. */
	netaddr_client("10.0.0.1", "198.51.100.1", "10.0.0.0/8", out,
	    sizeof(out));
	ck_assert_str_eq(out, "198.51.100.1");
	netaddr_client("10.0.0.1", "203.0.113.7, 198.51.100.1, 10.0.0.2",
	    "10.0.0.0/8", out, sizeof(out));
	ck_assert_str_eq(out, "198.51.100.1");
	/* No header, or garbage in it: the peer. */
	netaddr_client("10.0.0.1", NULL, "10.0.0.0/8", out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.1");
	netaddr_client("10.0.0.1", "unknown", "10.0.0.0/8", out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.1");
	netaddr_client("10.0.0.1", "", "10.0.0.0/8", out, sizeof(out));
	ck_assert_str_eq(out, "10.0.0.1");
	netaddr_client("::1", "2001:db8::1", "::1", out, sizeof(out));
	ck_assert_str_eq(out, "2001:db8::1");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("netaddr");

	tcase_add_test(tc, lists);
	tcase_add_test(tc, client);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
