// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl's SQS argument parsers, linked in (sqsargs.o, args.o, output.o)
 * with a stub usage(): --attributes as JSON and as shorthand, RedrivePolicy
 * and ARNs, --message-attributes, batch --entries, receipt handles and
 * MD5OfMessageAttributes, with hostile input. Every refusal is one line on
 * stderr that names the field and, for numbers, the valid range.
 */
#include "kmqctl.h"	/* before check.h, whose fail() macro it would meet */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void usage(const char *cmd)
{
}

static FILE *cap;
static int saved = -1;
static char errbuf[1 << 17];

static void cap_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	ck_assert_ptr_nonnull(cap);
	saved = dup(2);
	dup2(fileno(cap), 2);
}

static const char *cap_end(void)
{
	size_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	n = fread(errbuf, 1, sizeof(errbuf) - 1, cap);
	errbuf[n] = '\0';
	fclose(cap);
	return errbuf;
}

/* refused - @ret must be -1 (or < 0) with one "kmqctl: " line containing
 * @want on stderr. */
#define REFUSED(call, want) do {					\
	int __r;							\
	const char *__e;						\
	cap_start();							\
	__r = (call);							\
	__e = cap_end();						\
	ck_assert_msg(__r < 0, "%s accepted", #call);			\
	ck_assert_msg(!strncmp(__e, "kmqctl: ", 8) &&			\
		      strchr(__e, '\n') == __e + strlen(__e) - 1,	\
		      "%s: stderr '%s'", #call, __e);			\
	ck_assert_msg(strstr(__e, (want)), "%s: stderr '%s' lacks '%s'",\
		      #call, __e, (want));				\
} while (0)

#define ACCEPTED(call) do {						\
	int __r;							\
	const char *__e;						\
	cap_start();							\
	__r = (call);							\
	__e = cap_end();						\
	ck_assert_msg(__r >= 0 && !*__e, "%s: %d, stderr '%s'", #call,	\
		      __r, __e);					\
} while (0)

START_TEST(queue_attributes)
{
	struct qattrs a;
	struct kmq_policy p;

	ACCEPTED(parse_qattrs("t", "{\"VisibilityTimeout\": \"45\", "
			      "\"MessageRetentionPeriod\": \"60\", "
			      "\"DelaySeconds\": \"900\", "
			      "\"ReceiveMessageWaitTimeSeconds\": \"20\", "
			      "\"MaximumMessageSize\": \"1024\", "
			      "\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:123456789012:my-dlq\\\",\\\"maxReceiveCount\\\":\\\"3\\\"}\"}",
			      &a));
	ck_assert(a.has_vis && a.vis == 45 && a.has_ret && a.ret == 60);
	ck_assert(a.has_delay && a.delay == 900 && a.has_wait && a.wait == 20);
	ck_assert(a.has_size && a.size == 1024 && a.has_redrive);
	ck_assert_str_eq(a.dlq, "my-dlq");
	ck_assert_uint_eq(a.max_receive, 3);
	ck_assert(!a.has_fifo && !a.has_cbd);

	/* a plain name and a number for maxReceiveCount */
	ACCEPTED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"dlq\\\", \\\"maxReceiveCount\\\": 1000}\"}", &a));
	ck_assert_str_eq(a.dlq, "dlq");
	ck_assert_uint_eq(a.max_receive, 1000);
	/* "" removes it */
	ACCEPTED(parse_qattrs("t", "{\"RedrivePolicy\": \"\"}", &a));
	ck_assert(a.has_redrive && !a.dlq[0] && !a.max_receive);

	/* shorthand */
	ACCEPTED(parse_qattrs("t", "VisibilityTimeout=0,DelaySeconds=5,FifoQueue=true,ContentBasedDeduplication=FALSE", &a));
	ck_assert(a.has_vis && !a.vis && a.delay == 5 && a.fifo && a.has_cbd &&
		  !a.cbd);

	/* applying: onto a policy; FifoQueue cannot change */
	memset(&p, 0, sizeof(p));
	p.visibility_s = 30;
	ACCEPTED(parse_qattrs("t", "VisibilityTimeout=7", &a));
	ACCEPTED(qattrs_apply("t", &a, &p));
	ck_assert_uint_eq(p.visibility_s, 7);
	ACCEPTED(parse_qattrs("t", "FifoQueue=true", &a));
	REFUSED(qattrs_apply("t", &a, &p), "cannot change");
	ACCEPTED(parse_qattrs("t", "ContentBasedDeduplication=true", &a));
	REFUSED(qattrs_apply("t", &a, &p), "FIFO queues only");
	p.flags = KMQ_POL_FIFO;
	ACCEPTED(qattrs_apply("t", &a, &p));
	ck_assert(p.flags & KMQ_POL_CONTENT_DEDUP);
}
END_TEST

START_TEST(queue_attributes_hostile)
{
	struct qattrs a;
	char big[70000];

	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"43201\"}", &a), "0-43200");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"-1\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"1e3\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \" 5\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"99999999999999999999999\"}", &a), "0-43200");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": 45}", &a), "must be a string");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": null}", &a), "must be a string");
	REFUSED(parse_qattrs("t", "{\"MessageRetentionPeriod\": \"59\"}", &a), "60-1209600");
	REFUSED(parse_qattrs("t", "{\"MessageRetentionPeriod\": \"1209601\"}", &a), "60-1209600");
	REFUSED(parse_qattrs("t", "{\"DelaySeconds\": \"901\"}", &a), "0-900");
	REFUSED(parse_qattrs("t", "{\"ReceiveMessageWaitTimeSeconds\": \"21\"}", &a), "0-20");
	REFUSED(parse_qattrs("t", "{\"MaximumMessageSize\": \"0\"}", &a), "1-1048576");
	REFUSED(parse_qattrs("t", "{\"Frob\": \"1\"}", &a), "unknown attribute 'Frob'");
	REFUSED(parse_qattrs("t", "{\"FifoQueue\": \"yes\"}", &a), "true or false");
	REFUSED(parse_qattrs("t", "{\"VisibilityTimeout\": \"1\"", &a), "not a JSON object");
	REFUSED(parse_qattrs("t", "{\"a\" \"b\"}", &a), "not a JSON object");
	REFUSED(parse_qattrs("t", "{} trailing", &a), "not a JSON object");
	REFUSED(parse_qattrs("t", "", &a), "empty");
	REFUSED(parse_qattrs("t", "   ", &a), "empty");
	/* RedrivePolicy */
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"dlq\"}", &a), "RedrivePolicy is not a JSON object");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"[1]\"}", &a), "RedrivePolicy is not a JSON object");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"maxReceiveCount\\\": 3}\"}", &a), "needs deadLetterTargetArn");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": 0}\"}", &a), "1-1000");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": 1001}\"}", &a), "1-1000");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": -3}\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": 2.5}\"}", &a), "not a number");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"arn:aws:sqs:x:dlq\\\", \\\"maxReceiveCount\\\": 3}\"}", &a), "arn:aws:sqs:REGION:ACCOUNT:NAME");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"arn:aws:sqs:r:1:a/b\\\", \\\"maxReceiveCount\\\": 3}\"}", &a), "bad queue name");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": 7, \\\"maxReceiveCount\\\": 3}\"}", &a), "needs deadLetterTargetArn");
	REFUSED(parse_qattrs("t", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": 3, \\\"x\\\": 1}\"}", &a), "unknown key 'x'");
	/* shorthand */
	REFUSED(parse_qattrs("t", "=5", &a), "not Key=Value");
	REFUSED(parse_qattrs("t", "VisibilityTimeout", &a), "not Key=Value");
	REFUSED(parse_qattrs("t", "VisibilityTimeout=5,", &a), "after the last");
	REFUSED(parse_qattrs("t", ",", &a), "not Key=Value");
	REFUSED(parse_qattrs("t", "VisibilityTimeout=5,,DelaySeconds=1", &a), "not Key=Value");
	REFUSED(parse_qattrs("t", "VisibilityTimeout=5=6", &a), "not a number");
	REFUSED(parse_qattrs("t", "Nope=1", &a), "unknown attribute 'Nope'");
	/* deep nesting and a huge value: refused, not a crash */
	memset(big, '[', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '\0';
	REFUSED(parse_qattrs("t", big, &a), "not a JSON object");
	memset(big, '9', sizeof(big));
	memcpy(big, "{\"DelaySeconds\": \"", 18);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	REFUSED(parse_qattrs("t", big, &a), "0-900");
}
END_TEST

START_TEST(names_and_arns)
{
	char buf[200];

	ACCEPTED(parse_name_or_arn("t", "--source", "q") ? 0 : -1);
	ck_assert_str_eq(parse_name_or_arn("t", "--source", "kmq:///q1"), "q1");
	ck_assert_str_eq(parse_name_or_arn("t", "--source", "arn:aws:sqs:eu-west-1:123456789012:dlq.fifo"), "dlq.fifo");
	REFUSED(parse_name_or_arn("t", "--source", NULL) ? 0 : -1, "missing --source");
	REFUSED(parse_name_or_arn("t", "--source", "arn:aws:sqs:a:b:c:d") ? 0 : -1, "REGION:ACCOUNT:NAME");
	REFUSED(parse_name_or_arn("t", "--source", "arn:aws:sqs:") ? 0 : -1, "REGION:ACCOUNT:NAME");
	REFUSED(parse_name_or_arn("t", "--source", "arn:aws:sqs:a:b:") ? 0 : -1, "bad queue name");
	REFUSED(parse_name_or_arn("t", "--source", "a b") ? 0 : -1, "bad queue name");
	ck_assert_str_eq(queue_arn(buf, sizeof(buf), "q"), "arn:aws:sqs:local:000000000000:q");
}
END_TEST

START_TEST(message_attributes)
{
	struct mattrs m;
	char md5[33];

	ACCEPTED(parse_mattrs("t", "--message-attributes",
			      "{\"zeta\": {\"DataType\": \"String\", \"StringValue\": \"v\"},"
			      " \"alpha\": {\"DataType\": \"Number\", \"StringValue\": \"12\"},"
			      " \"img\": {\"DataType\": \"Binary.gif\", \"BinaryValue\": \"AP8=\"}}",
			      &m));
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(m.a[2].len, 2);
	ck_assert(!memcmp(m.a[2].value, "\x00\xff", 2));
	/* the SQS algorithm, computed independently (python) */
	md5_attrs_hex(m.a, m.n, md5);
	ck_assert_str_eq(md5, "1dbb8cc88294f7eecefd0543739c94de");
	mattrs_free(&m);
	ACCEPTED(parse_mattrs("t", "x", "{}", &m));
	ck_assert_uint_eq(m.n, 0);
	mattrs_free(&m);
}
END_TEST

START_TEST(message_attributes_hostile)
{
	struct mattrs m;
	char many[2048];
	int i, off;

	REFUSED(parse_mattrs("t", "--message-attributes", "[]", &m), "not a JSON object");
	REFUSED(parse_mattrs("t", "--message-attributes", "{", &m), "not JSON");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": \"v\"}", &m), "DataType and StringValue");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"StringValue\": \"v\"}}", &m), "DataType");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": 1, \"StringValue\": \"v\"}}", &m), "DataType");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"String\"}}", &m), "needs StringValue");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"String\", \"StringValue\": 5}}", &m), "needs StringValue");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"String\", \"StringValue\": \"v\", \"BinaryValue\": \"AA==\"}}", &m), "needs StringValue");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Binary\", \"StringValue\": \"v\"}}", &m), "BinaryValue, base64");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Binary\", \"BinaryValue\": \"abc\"}}", &m), "base64");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Binary\", \"BinaryValue\": \"a===\"}}", &m), "base64");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Binary\", \"BinaryValue\": \"@@@@\"}}", &m), "base64");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Binary\", \"BinaryValue\": \"A=AA\"}}", &m), "base64");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Number\", \"StringValue\": \"abc\"}}", &m), "decimal numbers");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"AWS.k\": {\"DataType\": \"String\", \"StringValue\": \"v\"}}", &m), "AWS.k");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"a..b\": {\"DataType\": \"String\", \"StringValue\": \"v\"}}", &m), "not valid");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"Blob\", \"StringValue\": \"v\"}}", &m), "not valid");
	REFUSED(parse_mattrs("t", "--message-attributes", "{\"k\": {\"DataType\": \"String\", \"StringValue\": \"v\", \"X\": 1}}", &m), "unknown key 'X'");
	off = snprintf(many, sizeof(many), "{");
	for (i = 0; i < KMQ_ATTR_MAX + 1; i++)
		off += snprintf(many + off, sizeof(many) - (size_t)off,
				"%s\"a%d\": {\"DataType\": \"String\", \"StringValue\": \"v\"}",
				i ? ", " : "", i);
	snprintf(many + off, sizeof(many) - (size_t)off, "}");
	REFUSED(parse_mattrs("t", "--message-attributes", many, &m), "at most 10");
}
END_TEST

START_TEST(batch_entries)
{
	struct send_entry e[KMQ_SQS_BATCH_MAX];
	struct receipt_entry r[KMQ_SQS_BATCH_MAX];
	struct json_object *root;
	char many[4096];
	int i, n, off;

	cap_start();
	n = parse_send_entries("t", "[{\"Id\": \"a-1\", \"MessageBody\": \"hi\\u0000there\", \"DelaySeconds\": 5,"
			       " \"MessageAttributes\": {\"k\": {\"DataType\": \"String\", \"StringValue\": \"v\"}}},"
			       " {\"Id\": \"b_2\", \"MessageBody\": \"\", \"MessageGroupId\": \"g\", \"MessageDeduplicationId\": \"d\"}]",
			       e, &root);
	ck_assert_str_eq(cap_end(), "");
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(e[0].id, "a-1");
	ck_assert_uint_eq(e[0].len, 8);	/* a NUL inside the body counts */
	ck_assert_int_eq(e[0].delay_s, 5);
	ck_assert_uint_eq(e[0].attrs.n, 1);
	ck_assert_int_eq(e[1].delay_s, -1);
	ck_assert_str_eq(e[1].group, "g");
	ck_assert_str_eq(e[1].dedup, "d");
	for (i = 0; i < n; i++)
		mattrs_free(&e[i].attrs);
	json_object_put(root);

	REFUSED(parse_send_entries("t", "{}", e, &root), "not a JSON array");
	REFUSED(parse_send_entries("t", "[", e, &root), "not a JSON array");
	REFUSED(parse_send_entries("t", "[]", e, &root), "not 1-10");
	REFUSED(parse_send_entries("t", "[1]", e, &root), "needs an Id");
	REFUSED(parse_send_entries("t", "[{\"MessageBody\": \"x\"}]", e, &root), "needs an Id");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a b\", \"MessageBody\": \"x\"}]", e, &root), "needs an Id");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"\", \"MessageBody\": \"x\"}]", e, &root), "needs an Id");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"MessageBody\": \"x\"}]", e, &root), "1-80");
	REFUSED(parse_send_entries("t", "[{\"Id\": 5, \"MessageBody\": \"x\"}]", e, &root), "needs an Id");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\"}]", e, &root), "no MessageBody");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": 1}]", e, &root), "MessageBody is not a string");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\"}, {\"Id\": \"a\", \"MessageBody\": \"y\"}]", e, &root), "used twice");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"DelaySeconds\": 901}]", e, &root), "0-900");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"DelaySeconds\": -1}]", e, &root), "0-900");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"DelaySeconds\": \"5\"}]", e, &root), "0-900");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"Frob\": 1}]", e, &root), "unknown key 'Frob'");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"MessageGroupId\": []}]", e, &root), "MessageGroupId is not a string");
	REFUSED(parse_send_entries("t", "[{\"Id\": \"a\", \"MessageBody\": \"x\", \"MessageAttributes\": {\"AWS.x\": {\"DataType\": \"String\", \"StringValue\": \"v\"}}}]", e, &root), "entry 1: MessageAttributes.AWS.x");
	off = snprintf(many, sizeof(many), "[");
	for (i = 0; i < KMQ_SQS_BATCH_MAX + 1; i++)
		off += snprintf(many + off, sizeof(many) - (size_t)off,
				"%s{\"Id\": \"m%d\", \"MessageBody\": \"x\"}",
				i ? ", " : "", i);
	snprintf(many + off, sizeof(many) - (size_t)off, "]");
	REFUSED(parse_send_entries("t", many, e, &root), "11 entries, not 1-10");

	cap_start();
	n = parse_receipt_entries("t", "[{\"Id\": \"1\", \"ReceiptHandle\": \"garbage\"}]", r, &root);
	ck_assert_str_eq(cap_end(), "");
	ck_assert_int_eq(n, 1);
	ck_assert_str_eq(r[0].handle, "garbage");	/* checked per entry later */
	json_object_put(root);
	REFUSED(parse_receipt_entries("t", "[{\"Id\": \"1\"}]", r, &root), "no ReceiptHandle");
	REFUSED(parse_receipt_entries("t", "[{\"Id\": \"1\", \"ReceiptHandle\": null}]", r, &root), "not a string");
	REFUSED(parse_receipt_entries("t", "[{\"Id\": \"1\", \"ReceiptHandle\": \"h\", \"VisibilityTimeout\": 1}]", r, &root), "unknown key");
}
END_TEST

START_TEST(receipt_handles)
{
	static const uint64_t vals[] = { 0, 1, (5ULL << 20) | 7, UINT64_MAX,
					 0x0123456789abcdefULL };
	char h[RECEIPT_STR_LEN + 1], bad[RECEIPT_STR_LEN + 2];
	uint64_t r;
	size_t i, k;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		receipt_encode(vals[i], h);
		ck_assert_uint_eq(strlen(h), RECEIPT_STR_LEN);
		ck_assert_int_eq(receipt_decode(h, &r), 0);
		ck_assert_uint_eq(r, vals[i]);
		/* every changed character is caught */
		for (k = 0; k < RECEIPT_STR_LEN; k++) {
			memcpy(bad, h, sizeof(h));
			bad[k] = bad[k] == 'A' ? 'B' : 'A';
			ck_assert_msg(receipt_decode(bad, &r) == -EINVAL,
				      "'%s' accepted", bad);
		}
	}
	ck_assert_int_eq(receipt_decode("", &r), -EINVAL);
	ck_assert_int_eq(receipt_decode(NULL, &r), -EINVAL);
	ck_assert_int_eq(receipt_decode("AAAAAAAAAAAAAAAAAAAA", &r), -EINVAL);
	ck_assert_int_eq(receipt_decode("AAAAAAAAAAAAAAAAAA==", &r), -EINVAL);
	ck_assert_int_eq(receipt_decode("!!!!!!!!!!!!!!!!!!!!", &r), -EINVAL);
	memcpy(bad, h, sizeof(h));
	strcat(bad, "A");
	ck_assert_int_eq(receipt_decode(bad, &r), -EINVAL);
}
END_TEST

START_TEST(name_lists)
{
	static const char *const names[] = { "A", "Bb", "Ccc" };
	bool want[3] = { false };

	ACCEPTED(parse_names_list("t", "--x", "Bb,Ccc", names, 3, want));
	ck_assert(!want[0] && want[1] && want[2]);
	ACCEPTED(parse_names_list("t", "--x", "All", names, 3, want));
	ck_assert(want[0]);
	REFUSED(parse_names_list("t", "--x", "B", names, 3, want), "unknown name 'B'");
	REFUSED(parse_names_list("t", "--x", "A,", names, 3, want), "unknown name ''");
	REFUSED(parse_names_list("t", "--x", ",A", names, 3, want), "unknown name ''");
	REFUSED(parse_names_list("t", "--x", "", names, 3, want), "unknown name ''");
}
END_TEST

static Suite *args_suite(void)
{
	Suite *s = suite_create("kmqctl-args");
	TCase *tc = tcase_create("parsers");

	tcase_add_test(tc, queue_attributes);
	tcase_add_test(tc, queue_attributes_hostile);
	tcase_add_test(tc, names_and_arns);
	tcase_add_test(tc, message_attributes);
	tcase_add_test(tc, message_attributes_hostile);
	tcase_add_test(tc, batch_entries);
	tcase_add_test(tc, receipt_handles);
	tcase_add_test(tc, name_lists);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(args_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
