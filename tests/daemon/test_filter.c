// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmqd's filter policies (daemon/filter.c), table-driven: the
 * examples of the SNS documentation (the "example_corp" order message),
 * their edge cases (a missing attribute with exists:false, numeric bounds,
 * nested body keys, arrays, $or), and invalid policies rejected with the
 * reason.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "filter.h"

/* The SNS documentation's example message, as attributes: name|Type|value. */
#define DOC_ATTRS "store|String|example_corp;" \
	"event|String|order_placed;" \
	"customer_interests|String.Array|[\"soccer\", \"rugby\", \"hockey\"];" \
	"price_usd|Number|210.75;" \
	"source_ip|String|10.0.1.17;" \
	"encrypted|String.bool|false;" \
	"blob|Binary|xyz"
/* ... and as a body. */
#define DOC_BODY "{\"store\": \"example_corp\", \"event\": \"order_placed\", " \
	"\"customer_interests\": [\"soccer\", \"rugby\", \"hockey\"], " \
	"\"price_usd\": 210.75, \"encrypted\": false, \"coupon\": null, " \
	"\"order\": {\"id\": 42, \"lines\": [{\"sku\": \"A-1\", \"qty\": 2}, " \
	"{\"sku\": \"B-7\", \"qty\": 10}], \"shipping\": {\"country\": \"DE\"}}}"

struct mcase {
	const char *policy;
	bool match;
};

static const struct mcase attr_cases[] = {
	/* SNS docs: the combined example policy. */
	{ "{\"store\":[\"example_corp\"],\"event\":[{\"anything-but\":\"order_cancelled\"}],"
	  "\"customer_interests\":[\"rugby\",\"football\",\"baseball\"],"
	  "\"price_usd\":[{\"numeric\":[\">=\",100]}]}", true },
	{ "{\"store\":[\"example_corp\"],\"event\":[\"order_cancelled\"]}", false },
	/* exact strings, OR within a key, AND across keys */
	{ "{\"store\":[\"example_corp\"]}", true },
	{ "{\"store\":[\"Example_Corp\"]}", false },
	{ "{\"store\":[\"other\",\"example_corp\"]}", true },
	{ "{\"store\":[\"example_corp\"],\"event\":[\"order_placed\"]}", true },
	{ "{\"store\":[\"example_corp\"],\"event\":[\"nope\"]}", false },
	/* exact numbers compare as numbers */
	{ "{\"price_usd\":[210.75]}", true },
	{ "{\"price_usd\":[210.7500]}", true },
	{ "{\"price_usd\":[210]}", false },
	{ "{\"price_usd\":[\"210.75\"]}", false },	/* a string never matches a Number */
	/* numeric ranges and their bounds */
	{ "{\"price_usd\":[{\"numeric\":[\">\",0,\"<=\",210.75]}]}", true },
	{ "{\"price_usd\":[{\"numeric\":[\">\",0,\"<\",210.75]}]}", false },
	{ "{\"price_usd\":[{\"numeric\":[\">=\",210.75]}]}", true },
	{ "{\"price_usd\":[{\"numeric\":[\">\",210.75]}]}", false },
	{ "{\"price_usd\":[{\"numeric\":[\"=\",210.75]}]}", true },
	{ "{\"price_usd\":[{\"numeric\":[\"<\",-5]}]}", false },
	{ "{\"store\":[{\"numeric\":[\">\",0]}]}", false },	/* a String is not a number */
	/* prefix, suffix, equals-ignore-case, wildcard */
	{ "{\"event\":[{\"prefix\":\"order_\"}]}", true },
	{ "{\"event\":[{\"prefix\":\"bed\"}]}", false },
	{ "{\"event\":[{\"suffix\":\"_placed\"}]}", true },
	{ "{\"event\":[{\"suffix\":\"_cancelled\"}]}", false },
	{ "{\"store\":[{\"equals-ignore-case\":\"EXAMPLE_Corp\"}]}", true },
	{ "{\"store\":[{\"equals-ignore-case\":\"example\"}]}", false },
	{ "{\"store\":[{\"wildcard\":\"ex*corp\"}]}", true },
	{ "{\"store\":[{\"wildcard\":\"*_c*p\"}]}", true },
	{ "{\"store\":[{\"wildcard\":\"*corps\"}]}", false },
	/* anything-but: values, numbers, prefix, suffix; needs the attribute */
	{ "{\"event\":[{\"anything-but\":[\"order_cancelled\",\"order_failed\"]}]}", true },
	{ "{\"event\":[{\"anything-but\":[\"order_placed\"]}]}", false },
	{ "{\"price_usd\":[{\"anything-but\":[100,200]}]}", true },
	{ "{\"price_usd\":[{\"anything-but\":210.75}]}", false },
	{ "{\"event\":[{\"anything-but\":{\"prefix\":\"order\"}}]}", false },
	{ "{\"event\":[{\"anything-but\":{\"prefix\":\"refund\"}}]}", true },
	{ "{\"event\":[{\"anything-but\":{\"suffix\":\"placed\"}}]}", false },
	{ "{\"missing\":[{\"anything-but\":\"x\"}]}", false },
	/* exists */
	{ "{\"store\":[{\"exists\":true}]}", true },
	{ "{\"missing\":[{\"exists\":true}]}", false },
	{ "{\"missing\":[{\"exists\":false}]}", true },
	{ "{\"store\":[{\"exists\":false}]}", false },
	{ "{\"blob\":[{\"exists\":true}]}", true },
	{ "{\"missing\":[\"x\"]}", false },
	/* String.Array: one element is enough */
	{ "{\"customer_interests\":[\"rugby\"]}", true },
	{ "{\"customer_interests\":[\"tennis\",\"hockey\"]}", true },
	{ "{\"customer_interests\":[\"tennis\"]}", false },
	{ "{\"customer_interests\":[{\"prefix\":\"soc\"}]}", true },
	{ "{\"customer_interests\":[{\"anything-but\":[\"soccer\"]}]}", false },
	/* custom type suffix: String.bool is a String */
	{ "{\"encrypted\":[\"false\"]}", true },
	/* Binary never matches a value */
	{ "{\"blob\":[\"xyz\"]}", false },
	/* cidr */
	{ "{\"source_ip\":[{\"cidr\":\"10.0.0.0/16\"}]}", true },
	{ "{\"source_ip\":[{\"cidr\":\"10.0.1.16/31\"}]}", true },
	{ "{\"source_ip\":[{\"cidr\":\"10.0.1.18/31\"}]}", false },
	{ "{\"source_ip\":[{\"cidr\":\"2001:db8::/32\"}]}", false },
	/* $or */
	{ "{\"store\":[\"example_corp\"],\"$or\":[{\"event\":[\"x\"]},{\"price_usd\":[{\"numeric\":[\">\",100]}]}]}", true },
	{ "{\"store\":[\"example_corp\"],\"$or\":[{\"event\":[\"x\"]},{\"price_usd\":[{\"numeric\":[\"<\",100]}]}]}", false },
	{ "{\"$or\":[{\"missing\":[{\"exists\":true}]},{\"store\":[{\"prefix\":\"example\"}]}]}", true },
};

static const struct mcase body_cases[] = {
	{ "{\"store\":[\"example_corp\"],\"price_usd\":[{\"numeric\":[\">=\",100]}]}", true },
	{ "{\"order\":{\"shipping\":{\"country\":[\"DE\",\"FR\"]}}}", true },
	{ "{\"order\":{\"shipping\":{\"country\":[\"US\"]}}}", false },
	{ "{\"order\":{\"id\":[42]}}", true },
	{ "{\"order\":{\"id\":[{\"numeric\":[\">\",42]}]}}", false },
	/* arrays of objects: any element */
	{ "{\"order\":{\"lines\":{\"sku\":[\"B-7\"]}}}", true },
	{ "{\"order\":{\"lines\":{\"qty\":[{\"numeric\":[\">=\",10]}]}}}", true },
	{ "{\"order\":{\"lines\":{\"qty\":[{\"numeric\":[\">\",10]}]}}}", false },
	{ "{\"customer_interests\":[\"hockey\"]}", true },
	/* true / false / null */
	{ "{\"encrypted\":[false]}", true },
	{ "{\"encrypted\":[true]}", false },
	{ "{\"coupon\":[null]}", true },
	{ "{\"store\":[null]}", false },
	/* exists on nested keys; an object is not a leaf */
	{ "{\"order\":{\"gift\":[{\"exists\":false}]}}", true },
	{ "{\"order\":{\"id\":[{\"exists\":true}]}}", true },
	{ "{\"order\":[{\"exists\":true}]}", false },
	{ "{\"nothing\":{\"here\":[{\"exists\":false}]}}", true },
	{ "{\"$or\":[{\"order\":{\"id\":[1]}},{\"event\":[{\"suffix\":\"placed\"}]}]}", true },
};

struct bcase {
	enum filter_scope scope;
	const char *policy;
	const char *why;	/* a substring of the reason */
};

static const struct bcase bad_cases[] = {
	{ FILTER_ATTRIBUTES, "", "not valid JSON" },
	{ FILTER_ATTRIBUTES, "{\"a\":[\"x\"]", "not valid JSON" },
	{ FILTER_ATTRIBUTES, "{\"a\":[\"x\"]} x", "not valid JSON" },
	{ FILTER_ATTRIBUTES, "[\"x\"]", "a policy is a JSON object" },
	{ FILTER_ATTRIBUTES, "{}", "empty" },
	{ FILTER_ATTRIBUTES, "{\"a\":[]}", "Empty arrays are not allowed" },
	{ FILTER_ATTRIBUTES, "{\"a\":\"x\"}", "must be an array" },
	{ FILTER_ATTRIBUTES, "{\"a\":{\"b\":[\"x\"]}}", "nested keys need FilterPolicyScope MessageBody" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"begins\":\"x\"}]}", "Unrecognized match type begins" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"prefix\":\"x\",\"suffix\":\"y\"}]}", "Only one key" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"prefix\":5}]}", "must be a string" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"exists\":\"yes\"}]}", "either true or false" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"numeric\":[\">\"]}]}", "numeric" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"numeric\":[\"~\",1]}]}", "Unrecognized numeric range operator" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"numeric\":[\">\",10,\"<\",5]}]}", "bottom must be less than top" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"numeric\":[\"<\",10,\">\",5]}]}", "a range starts with" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"numeric\":[\">\",\"5\"]}]}", "must be a number" },
	{ FILTER_ATTRIBUTES, "{\"a\":[2e9]}", "out of range" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"cidr\":\"10.0.0.0\"}]}", "Malformed CIDR" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"cidr\":\"10.0.0.0/33\"}]}", "Malformed CIDR" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"anything-but\":[]}]}", "empty array" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"anything-but\":{\"numeric\":[\">\",1]}}]}", "Unsupported anything-but" },
	{ FILTER_ATTRIBUTES, "{\"a\":[{\"wildcard\":\"a**b\"}]}", "consecutive" },
	{ FILTER_ATTRIBUTES, "{\"a\":[true]}", "MessageBody scope" },
	{ FILTER_ATTRIBUTES, "{\"$or\":[{\"a\":[\"x\"]}]}", "$or needs" },
	{ FILTER_ATTRIBUTES, "{\"a\":[\"1\"],\"b\":[\"1\"],\"c\":[\"1\"],\"d\":[\"1\"],\"e\":[\"1\"],\"f\":[\"1\"]}",
	  "can not have more than 5 keys" },
	/* 6 * 5 * 6 = 180 combinations */
	{ FILTER_ATTRIBUTES, "{\"a\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"],\"b\":[\"1\",\"2\",\"3\",\"4\",\"5\"],"
	  "\"c\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"]}", "too complex" },
	{ FILTER_BODY, "{\"a\":{\"b\":{\"c\":[\"1\"]}},\"d\":[\"1\"],\"e\":[\"1\"],\"f\":{\"g\":[\"1\"],\"h\":[\"1\"],\"i\":[\"1\"]}}",
	  "can not have more than 5 keys" },
};

static unsigned int parse_attrs(char *spec, struct kmq_attr *a, unsigned int max)
{
	unsigned int n = 0;
	char *save = NULL, *item;

	for (item = strtok_r(spec, ";", &save); item && n < max;
	     item = strtok_r(NULL, ";", &save)) {
		char *t = strchr(item, '|'), *v;

		*t++ = 0;
		v = strchr(t, '|');
		*v++ = 0;
		a[n] = (struct kmq_attr){ .name = item, .type = t, .value = v,
			.len = (uint32_t)strlen(v),
			.name_len = (uint32_t)strlen(item),
			.type_len = (uint32_t)strlen(t) };
		n++;
	}
	return n;
}

START_TEST(attribute_policies)
{
	const struct mcase *m = &attr_cases[_i];
	char spec[] = DOC_ATTRS, err[256] = "";
	struct kmq_attr a[16];
	unsigned int n = parse_attrs(spec, a, 16);
	struct filter *f = NULL;

	ck_assert_msg(!filter_compile(m->policy, FILTER_ATTRIBUTES, &f, err, sizeof(err)),
		      "%s: %s", m->policy, err);
	ck_assert_msg(filter_match(f, a, n, "x", 1) == m->match,
		      "%s should %smatch", m->policy, m->match ? "" : "not ");
	filter_free(f);
}
END_TEST

START_TEST(body_policies)
{
	const struct mcase *m = &body_cases[_i];
	char err[256] = "";
	struct filter *f = NULL;

	ck_assert_msg(!filter_compile(m->policy, FILTER_BODY, &f, err, sizeof(err)),
		      "%s: %s", m->policy, err);
	ck_assert_msg(filter_match(f, NULL, 0, DOC_BODY, strlen(DOC_BODY)) == m->match,
		      "%s should %smatch", m->policy, m->match ? "" : "not ");
	filter_free(f);
}
END_TEST

START_TEST(invalid_policies)
{
	const struct bcase *b = &bad_cases[_i];
	char err[256] = "";
	struct filter *f = NULL;

	ck_assert_int_eq(filter_compile(b->policy, b->scope, &f, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(f);
	ck_assert_msg(strstr(err, b->why), "%s: reason '%s' lacks '%s'",
		      b->policy, err, b->why);
	ck_assert_msg(!strncmp(err, "Invalid parameter: FilterPolicy: ", 33), "%s", err);
}
END_TEST

START_TEST(edges)
{
	struct filter *f = NULL;
	char err[256];
	struct kmq_attr a = { .name = "n", .type = "Number", .value = "abc", .len = 3 };
	/* exactly 5 keys and 150 combinations are allowed */
	const char *five = "{\"a\":[\"1\",\"2\",\"3\",\"4\",\"5\"],\"b\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\"],"
			   "\"c\":[\"1\",\"2\",\"3\",\"4\",\"5\"],\"d\":[\"1\"],\"e\":[\"1\"]}";

	ck_assert_int_eq(filter_compile(five, FILTER_ATTRIBUTES, &f, err, sizeof(err)), 0);
	filter_free(f);
	/* a NULL filter passes everything */
	ck_assert(filter_match(NULL, NULL, 0, "", 0));
	/* a Number attribute that is not a number matches no numeric condition */
	ck_assert_int_eq(filter_compile("{\"n\":[{\"numeric\":[\">\",0]}]}", FILTER_ATTRIBUTES,
					&f, err, sizeof(err)), 0);
	a.name_len = 1;
	a.type_len = 6;
	ck_assert(!filter_match(f, &a, 1, "", 0));
	filter_free(f);
	/* body scope: a body that is not a JSON object matches nothing, not
	 * even exists:false */
	ck_assert_int_eq(filter_compile("{\"x\":[{\"exists\":false}]}", FILTER_BODY,
					&f, err, sizeof(err)), 0);
	ck_assert(!filter_match(f, NULL, 0, "plain text", 10));
	ck_assert(!filter_match(f, NULL, 0, "[1,2]", 5));
	ck_assert(filter_match(f, NULL, 0, "{}", 2));
	filter_free(f);
	ck_assert_int_eq(filter_scope_parse("MessageBody"), FILTER_BODY);
	ck_assert_int_eq(filter_scope_parse("MessageAttributes"), FILTER_ATTRIBUTES);
	ck_assert_int_eq(filter_scope_parse("Body"), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("policies");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, attribute_policies, 0,
			    sizeof(attr_cases) / sizeof(attr_cases[0]));
	tcase_add_loop_test(tc, body_policies, 0,
			    sizeof(body_cases) / sizeof(body_cases[0]));
	tcase_add_loop_test(tc, invalid_policies, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, edges);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
