// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl's argument handling, by running build/bin/kmqctl (or $KMQCTL): a
 * bad argument of any kind exits non-zero with exactly one line on stderr,
 * "kmqctl: ...: <error>", and nothing on stdout, before touching a queue.
 * Needs `make tools` first; skips (77) when the binary is not there.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <kmq.h>

static const char *kmqctl;

struct run {
	int status;		/* exit status, or -1 if it did not exit */
	char out[8192];
	char err[8192];
};

static void slurp(int fd, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* run - kmqctl with @args (NULL-terminated), stdin from /dev/null. Output
 * is small, so reading stdout fully before stderr cannot deadlock. */
static void run(struct run *r, const char *const *args)
{
	const char *argv[32];
	int out[2], err[2], st, i;
	pid_t pid;

	argv[0] = kmqctl;
	for (i = 0; args[i] && i < 30; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execv(kmqctl, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	slurp(out[0], r->out, sizeof(r->out));
	slurp(err[0], r->err, sizeof(r->err));
	close(out[0]);
	close(err[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* bad - @args must fail as usage errors: status 2, one "kmqctl: " line
 * ending in the error text, stdout empty. Returns stderr for more checks. */
static const char *bad_(struct run *r, const char *const *args)
{
	char *nl;

	run(r, args);
	ck_assert_msg(r->status == 2, "%s %s: status %d, stderr '%s'", args[0],
		      args[1] ? args[1] : "", r->status, r->err);
	ck_assert_str_eq(r->out, "");
	ck_assert_msg(!strncmp(r->err, "kmqctl: ", 8), "stderr '%s'", r->err);
	nl = strchr(r->err, '\n');
	ck_assert_msg(nl && nl[1] == '\0', "not one line: '%s'", r->err);
	return r->err;
}

#define BAD(...)	bad_(&r, (const char *const[]){ __VA_ARGS__, NULL })
#define RUN(...)	run(&r, (const char *const[]){ __VA_ARGS__, NULL })

START_TEST(commands)
{
	struct run r;

	RUN("help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "receive-message"));
	RUN("--help");
	ck_assert_int_eq(r.status, 0);
	RUN("send-message", "--help");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--message-body"));
	RUN("help", "create-queue");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "--capacity"));

	run(&r, (const char *const[]){ NULL });
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(BAD("frobnicate"), "frobnicate"));
	BAD("help", "frobnicate");
	BAD("help", "a", "b");
	BAD("-x");

	setenv("KMQ_BACKEND", "pigeon", 1);
	ck_assert_ptr_nonnull(strstr(BAD("list-queues"), "KMQ_BACKEND"));
	setenv("KMQ_BACKEND", "shm", 1);
	setenv("KMQ_SOCKET", "/nonexistent/kmqd.sock", 1);
	RUN("list-queues");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "kmqd is not running"));
	unsetenv("KMQ_SOCKET");
	unsetenv("KMQ_BACKEND");
}
END_TEST

START_TEST(create_queue_args)
{
	struct run r;

	ck_assert_ptr_nonnull(strstr(BAD("create-queue"), "missing"));
	ck_assert_ptr_nonnull(strstr(BAD("create-queue", "a/b"),
				     "Invalid argument"));
	BAD("create-queue", "");
	BAD("create-queue", "kmq:///");
	BAD("create-queue", "q", "extra");
	BAD("create-queue", "q", "--queue-name", "p");
	ck_assert_ptr_nonnull(strstr(BAD("create-queue", "q", "--frob"),
				     "--frob"));
	BAD("create-queue", "q", "--capacity");
	BAD("create-queue", "q", "--capacity", "abc");
	BAD("create-queue", "q", "--capacity", "12abc");
	BAD("create-queue", "q", "--capacity", "");
	BAD("create-queue", "q", "--capacity", "-1");
	BAD("create-queue", "q", "--capacity", " 1");
	ck_assert_ptr_nonnull(strstr(BAD("create-queue", "q", "--capacity", "0"),
				     "out of range"));
	BAD("create-queue", "q", "--capacity", "1048577");
	BAD("create-queue", "q", "--capacity", "99999999999999999999999");
	BAD("create-queue", "q", "--max-message-size", "0");
	BAD("create-queue", "q", "--max-message-size", "1048577");
	BAD("create-queue", "q", "--mode", "0800");
	BAD("create-queue", "q", "--mode", "1000");
	BAD("create-queue", "q", "--mode", "rw");
	BAD("create-queue", "q", "--mode", "0");
}
END_TEST

START_TEST(other_args)
{
	struct run r;

	BAD("delete-queue");
	BAD("delete-queue", "a b");
	BAD("delete-queue", "q", "r");
	BAD("list-queues", "extra");
	BAD("list-queues", "--queue-name-prefix");
	ck_assert_ptr_nonnull(strstr(BAD("send-message", "--message-body", "x"),
				     "--queue"));
	ck_assert_ptr_nonnull(strstr(BAD("send-message", "--queue", "q"),
				     "--message-body"));
	BAD("send-message", "--queue", "bad/q", "--message-body", "x");
	BAD("send-message", "--queue", "q", "--message-body");
	BAD("send-message", "--queue", "q", "--message-body", "x", "y");
	BAD("receive-message");
	BAD("receive-message", "--queue", "q", "--max-number-of-messages", "0");
	BAD("receive-message", "--queue", "q", "--max-number-of-messages", "11");
	BAD("receive-message", "--queue", "q", "--max-number-of-messages", "x");
	BAD("receive-message", "--queue", "q", "--wait-time-seconds", "21");
	BAD("receive-message", "--queue", "q", "--wait-time-seconds", "-1");
	BAD("receive-message", "--queue", "q", "--frob", "5");
	BAD("get-queue-attributes");
	BAD("get-queue-attributes", "--queue", "q", "--attribute-names", "Nope");
	BAD("get-queue-attributes", "--queue", "q", "--attribute-names", "All,");
}
END_TEST

/* The SQS verbs: every bad argument named, with its range, before any
 * queue is touched (so these pass with or without the module). */
START_TEST(sqs_args)
{
	struct run r;

#define HAS(s, what)	ck_assert_msg(strstr((s), (what)), "'%s' lacks '%s'", (s), (what))
	HAS(BAD("receive-message", "--queue", "q", "--visibility-timeout", "43201"), "0-43200");
	HAS(BAD("receive-message", "--queue", "q", "--max-number-of-messages", "11"), "1-10");
	HAS(BAD("receive-message", "--queue", "q", "--wait-time-seconds", "21"), "0-20");
	HAS(BAD("receive-message", "--queue", "q", "--attribute-names", "Bogus"), "Bogus");
	HAS(BAD("send-message", "--queue", "q", "--message-body", "x", "--delay-seconds", "901"), "0-900");
	HAS(BAD("send-message", "--queue", "q", "--message-body", "x", "--message-attributes", "{\"k\": 1}"), "--message-attributes.k");
	HAS(BAD("send-message", "--queue", "q", "--message-body", "x", "--message-attributes", "{\"AWS.k\": {\"DataType\": \"String\", \"StringValue\": \"v\"}}"), "AWS.k");
	HAS(BAD("send-message", "--queue", "q", "--message-body", "x", "--message-attributes", "nope"), "not JSON");
	HAS(BAD("create-queue", "q", "--attributes", "{\"VisibilityTimeout\": \"43201\"}"), "0-43200");
	HAS(BAD("create-queue", "q", "--attributes", "VisibilityTimeout=-5"), "not a number");
	HAS(BAD("create-queue", "q", "--attributes", "{\"MessageRetentionPeriod\": \"59\"}"), "60-1209600");
	HAS(BAD("create-queue", "q", "--attributes", "{\"RedrivePolicy\": \"{\\\"deadLetterTargetArn\\\": \\\"d\\\", \\\"maxReceiveCount\\\": 0}\"}"), "1-1000");
	HAS(BAD("create-queue", "q", "--attributes", "FifoQueue=true"), ".fifo");
	HAS(BAD("create-queue", "q.fifo", "--attributes", "FifoQueue=false"), ".fifo");
	HAS(BAD("set-queue-attributes", "--queue", "q"), "--attributes");
	HAS(BAD("set-queue-attributes", "--queue", "q", "--attributes", "DelaySeconds=901"), "0-900");
	HAS(BAD("delete-message", "--queue", "q"), "--receipt-handle");
	HAS(BAD("delete-message", "--queue", "q", "--receipt-handle", "garbage"), "ReceiptHandleIsInvalid");
	HAS(BAD("delete-message", "--receipt-handle", "x"), "--queue");
	HAS(BAD("change-message-visibility", "--queue", "q", "--receipt-handle", "x"), "--visibility-timeout 0-43200");
	HAS(BAD("change-message-visibility", "--queue", "q", "--receipt-handle", "x", "--visibility-timeout", "43201"), "0-43200");
	HAS(BAD("change-message-visibility", "--queue", "q", "--receipt-handle", "AAAAAAAAAAAAAAAAAAAA", "--visibility-timeout", "1"), "ReceiptHandleIsInvalid");
	HAS(BAD("send-message-batch", "--queue", "q"), "--entries");
	HAS(BAD("send-message-batch", "--queue", "q", "--entries", "[]"), "1-10");
	HAS(BAD("send-message-batch", "--queue", "q", "--entries", "[{\"Id\": \"a\", \"MessageBody\": \"x\"}, {\"Id\": \"a\", \"MessageBody\": \"y\"}]"), "used twice");
	HAS(BAD("delete-message-batch", "--queue", "q", "--entries", "[{\"Id\": \"a\"}]"), "ReceiptHandle");
	HAS(BAD("purge-queue"), "--queue");
	HAS(BAD("purge-queue", "--queue", "a/b"), "bad queue name");
	HAS(BAD("start-message-move-task"), "--source");
	HAS(BAD("start-message-move-task", "--source", "arn:aws:sqs:x"), "REGION:ACCOUNT:NAME");
	HAS(BAD("start-message-move-task", "--source", "a", "--destination", "a"), "same queue");
	HAS(BAD("start-message-move-task", "--source", "a", "--destination", "b", "--max-number-of-messages-per-second", "501"), "1-500");
#undef HAS
}
END_TEST

/* Without the module, valid commands fail with exit 1 and say why. */
START_TEST(no_device)
{
	struct run r;

	if (access(KMQ_DEVICE, F_OK) == 0 || getenv("KMQ_BACKEND"))
		return;
	setenv("KMQ_SOCKET", "/nonexistent/kmqd.sock", 1);	/* no kmqd */
	RUN("list-queues");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, KMQ_DEVICE));
	ck_assert_ptr_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1);
	RUN("send-message", "--queue", "kmq:///q", "--message-body", "x");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, KMQ_DEVICE));
	RUN("create-queue", "q", "--capacity", "8", "--mode", "0660");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "kmqd is not running"));
	/* Netlink demanded where kmq.ko is not: says which family. */
	setenv("KMQ_NETLINK", "1", 1);
	RUN("get-queue-attributes", "--queue", "q");
	unsetenv("KMQ_NETLINK");
	ck_assert_int_eq(r.status, 1);
	ck_assert_str_eq(r.out, "");
	ck_assert_ptr_nonnull(strstr(r.err, "generic netlink family 'kmq'"));
	unsetenv("KMQ_SOCKET");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmqctl");
	TCase *tc = tcase_create("arguments");
	SRunner *sr;
	int failed;

	kmqctl = getenv("KMQCTL");
	if (!kmqctl)
		kmqctl = "build/bin/kmqctl";
	if (access(kmqctl, X_OK)) {
		printf("SKIP: %s not built (make tools)\n", kmqctl);
		return 77;
	}
	tcase_add_test(tc, commands);
	tcase_add_test(tc, create_queue_args);
	tcase_add_test(tc, other_args);
	tcase_add_test(tc, sqs_args);
	tcase_add_test(tc, no_device);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
