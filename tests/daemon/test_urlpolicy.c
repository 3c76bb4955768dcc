// SPDX-License-Identifier: GPL-2.0
/*
 * [topics] http_allow (daemon/urlpolicy.c), table-driven: the default
 * rules, prefixes with ports and paths, wildcards, and hostile URLs
 * (credentials that try to look like the allowed host, case, ports, IPv6,
 * numeric IPv4 forms, dot segments, other schemes, encoded hosts).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kmqd.h"
#include "urlpolicy.h"

#define DEF	TOPICS_HTTP_ALLOW_DEFAULT

static const struct {
	const char *allow, *url;
	int want;
} cases[] = {
	/* the default: loopback, any port, http and https */
	{ DEF, "http://127.0.0.1:8080/hook", 0 },
	{ DEF, "https://localhost/x", 0 },
	{ DEF, "http://[::1]:9/", 0 },
	{ DEF, "HTTP://LOCALHOST:80/", 0 },		/* case */
	{ DEF, "http://LocalHost./", -EACCES },		/* trailing dot: another name */
	{ DEF, "http://example.com/", -EACCES },
	{ DEF, "http://169.254.169.254/latest/meta-data/", -EACCES },
	{ DEF, "http://127.0.0.2/", -EACCES },
	{ DEF, "http://[::ffff:127.0.0.1]/", -EACCES },
	/* userinfo tricks: refused, whatever they look like */
	{ DEF, "http://127.0.0.1@evil.example/", -EINVAL },
	{ DEF, "http://localhost:80@evil.example/", -EINVAL },
	{ DEF, "http://user:pw@127.0.0.1/", -EINVAL },
	{ DEF, "http://evil.example#@127.0.0.1/", -EACCES },
	{ DEF, "http://evil.example?@127.0.0.1/", -EACCES },
	{ DEF, "http://evil.example\\@127.0.0.1/", -EINVAL },
	/* numeric IPv4 forms: curl's parser says what it connects to */
	{ DEF, "http://2130706433/", 0 },		/* 127.0.0.1 */
	{ DEF, "http://0x7f.1/", 0 },			/* 127.0.0.1 */
	{ DEF, "http://3232235777/", -EACCES },		/* 192.168.1.1 */
	/* schemes */
	{ DEF, "file:///etc/shadow", -EINVAL },
	{ DEF, "gopher://127.0.0.1/", -EINVAL },
	{ DEF, "ftp://127.0.0.1/", -EINVAL },
	{ DEF, "127.0.0.1/x", -EINVAL },
	{ DEF, "", -EINVAL },
	/* an encoded host is decoded by curl's parser: checked as such */
	{ DEF, "http://127%2e0.0.1/", 0 },
	{ DEF, "http://evil%2eexample/", -EACCES },
	/* prefixes with a port and a path */
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com:8443/orders", 0 },
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com:8443/orders/42", 0 },
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com:8443/ordersx", -EACCES },
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com:8443/orders/../admin", -EACCES },
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com/orders", -EACCES },
	{ "https://hooks.example.com:8443/orders", "http://hooks.example.com:8443/orders", -EACCES },
	{ "https://hooks.example.com:8443/orders", "https://hooks.example.com.evil.net:8443/orders", -EACCES },
	{ "https://hooks.example.com/", "https://hooks.example.com:443/a", 0 },	/* no port: any */
	{ "https://hooks.example.com:443/", "https://hooks.example.com/a", 0 },	/* the default */
	{ "https://hooks.example.com/a/", "https://hooks.example.com/a/b/../c", 0 },
	{ "https://hooks.example.com/a/", "https://hooks.example.com/a/../b", -EACCES },
	/* wildcards */
	{ "https://*.example.com", "https://a.b.example.com/", 0 },
	{ "https://*.example.com", "https://example.com/", -EACCES },
	{ "https://*.example.com", "https://badexample.com/", -EACCES },
	{ "https://*.example.com", "https://a.example.com.evil/", -EACCES },
	/* IPv6 with a port */
	{ "http://[2001:db8::1]:8080/", "http://[2001:DB8::1]:8080/x", 0 },
	{ "http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8081/x", -EACCES },
	/* a zone id only scopes the address the rule names */
	{ "http://[2001:db8::1]:8080/", "http://[2001:db8::1%25eth0]:8080/x", 0 },
	{ "http://[2001:db8::1]:8080/", "http://[2001:db8::2%25eth0]:8080/x", -EACCES },
	/* a list; "*"; nothing */
	{ "http://a.example, https://b.example/x", "https://b.example/x/y", 0 },
	{ "*", "https://anything.example:1/", 0 },
	{ "*", "http://u@anything.example/", -EINVAL },
	{ "", "http://127.0.0.1/", -EACCES },
	{ "not-a-rule, http://127.0.0.1", "http://127.0.0.1/", 0 },
};

START_TEST(matcher)
{
	char why[1400], *norm = NULL;
	int err = url_allowed(cases[_i].allow, cases[_i].url, &norm, why, sizeof(why));

	ck_assert_msg(err == cases[_i].want, "allow '%s' url '%s': %d, wanted %d (%s)",
		      cases[_i].allow, cases[_i].url, err, cases[_i].want, err ? why : norm);
	if (!err)
		ck_assert_ptr_nonnull(norm);
	else
		ck_assert_msg(strstr(why, err == -EACCES ? "http_allow" : "'"),
			      "no reason: '%s'", why);
	free(norm);
}
END_TEST

START_TEST(normalized)
{
	char why[1400], *norm = NULL;

	ck_assert_int_eq(url_allowed(DEF, "HTTP://127.0.0.1:8080/a/./b/../c", &norm, why,
				     sizeof(why)), 0);
	ck_assert_str_eq(norm, "http://127.0.0.1:8080/a/c");
	free(norm);
}
END_TEST

START_TEST(config_rules)
{
	struct config c;
	char err[256];

	config_defaults(&c);
	ck_assert_str_eq(c.http_allow, DEF);
	ck_assert_int_eq(config_set(&c, "topics", "http_allow", "https://h.example/x, *", err,
				    sizeof(err)), 0);
	ck_assert_int_eq(config_set(&c, "topics", "http_allow", "ftp://h.example/", err,
				    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "ftp://h.example/"), "%s", err);
	ck_assert_int_eq(config_set(&c, "topics", "http_allow", "http://u@h.example/", err,
				    sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "credentials"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("urlpolicy");
	TCase *tc = tcase_create("urlpolicy");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, matcher, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, normalized);
	tcase_add_test(tc, config_rules);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
