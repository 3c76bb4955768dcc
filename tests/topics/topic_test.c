// SPDX-License-Identifier: GPL-2.0
/*
 * Topics end to end, through kmq.h only, against a kmqd this test starts
 * (backend: $KMQ_BACKEND, default shm; $KMQD names the binary): fan-out to
 * 8 queue subscribers with mixed filter policies delivers each message to
 * exactly the matching ones; the SNS envelope carries what SNS's does;
 * invalid policies are refused with the reason; a changed filter applies
 * to the next message; topics and subscriptions survive a restart; and a
 * kill -9 of kmqd during a publish burst loses no acknowledged message.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <kmq.h>

#define SEC	1000000000LL
#define SLACK	0.9	/* seconds a retry may come late on a loaded host */

static pid_t kmqd_pid;
static char dir[64], sock[128], kd_conf[128];	/* kd_conf: -c FILE, or "" */
/* What a test made, deleted at its end: on the kernel backend queues
 * outlive kmqd (and count against the module's per-user memory). */
static char made_queues[32][KMQ_NAME_LEN], made_topics[8][KMQ_NAME_LEN];
static int nmade_queues, nmade_topics;

static void topic_made(const char *name)
{
	if (nmade_topics < 8)
		snprintf(made_topics[nmade_topics++], KMQ_NAME_LEN, "%s", name);
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The backend: $KMQ_BACKEND, else kernel where /dev/kmq is (the VM). */
static const char *backend(void)
{
	const char *b = getenv("KMQ_BACKEND");

	if (b && *b)
		return strcmp(b, "kernel") ? "shm" : "kernel";
	return access("/dev/kmq", F_OK) ? "shm" : "kernel";
}

/* kd_dir - the test's private directory (socket, state, logs). */
static void kd_dir(void)
{
	if (!dir[0]) {
		strcpy(dir, "/tmp/kmqd-topic.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(dir));
		chmod(dir, 0755);
		snprintf(sock, sizeof(sock), "%s/kmqd.sock", dir);
		setenv("KMQ_SOCKET", sock, 1);
		setenv("KMQ_BACKEND", backend(), 1);
	}
}

/* kd_start - kmqd on a private socket and state dir, answering. */
static void kd_start(void)
{
	const char *bin = getenv("KMQD") ? getenv("KMQD") : "build/bin/kmqd";
	int i;

	kd_dir();
	kmqd_pid = fork();
	ck_assert_int_ge(kmqd_pid, 0);
	if (!kmqd_pid) {
		char state[128], log[128];
		int fd;

		snprintf(state, sizeof(state), "%s/state", dir);
		snprintf(log, sizeof(log), "%s/kmqd.log", dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		if (kd_conf[0])
			execl(bin, bin, "--no-trace", "-s", sock, "-d", state, "-b",
			      backend(), "-c", kd_conf, (char *)NULL);
		else
			execl(bin, bin, "--no-trace", "-s", sock, "-d", state, "-b",
			      backend(), (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		char *r = NULL;
		int err = kmq_topic_call("{\"op\":\"list-topics\"}", &r);

		free(r);
		if (!err)
			return;
		msleep(10);
	}
	ck_abort_msg("kmqd did not come up at %s", sock);
}

static void kd_kill(int sig)
{
	int status;

	kill(kmqd_pid, sig);
	ck_assert_int_eq(waitpid(kmqd_pid, &status, 0), kmqd_pid);
	kmqd_pid = 0;
}

static void kd_cleanup(void)
{
	char cmd[128];
	int i;

	for (i = 0; i < nmade_topics; i++)
		kmq_topic_delete(made_topics[i]);
	for (i = 0; i < nmade_queues; i++)
		kmq_delete(made_queues[i]);
	nmade_topics = nmade_queues = 0;

	if (kmqd_pid > 0)
		kd_kill(SIGKILL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	dir[0] = 0;
	kd_conf[0] = 0;
}

/* call - a TOPIC request; returns the status, the reply in *@out. */
static int call(char **out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int call(char **out, const char *fmt, ...)
{
	char req[4096];
	va_list ap;
	char *r = NULL;
	int err;

	va_start(ap, fmt);
	vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	err = kmq_topic_call(req, &r);
	if (out)
		*out = r;
	else
		free(r);
	return err;
}

/* subscribe - a queue subscription with @attrs (a JSON object); its ARN
 * into @arn. */
static void subscribe(const char *topic, const char *queue, const char *attrs,
		      char *arn, size_t len)
{
	char *r = NULL;
	json_object *o, *v;
	int err;

	err = call(&r, "{\"op\":\"subscribe\",\"topic\":\"%s\",\"protocol\":\"queue\","
		   "\"endpoint\":\"%s\",\"attributes\":%s}", topic, queue, attrs);
	ck_assert_msg(!err, "subscribe %s: %d %s", queue, err, r ? r : "");
	o = json_tokener_parse(r);
	ck_assert(o && json_object_object_get_ex(o, "SubscriptionArn", &v));
	if (arn)
		snprintf(arn, len, "%s", json_object_get_string(v));
	json_object_put(o);
	free(r);
}

static void make_queue(const char *name, uint32_t capacity)
{
	struct kmq_qattr a = { .capacity = capacity, .max_msg_size = 4096, .mode = 0600 };

	kmq_delete(name);
	ck_assert_int_eq(kmq_create(name, &a), 0);
	if (nmade_queues < 32)
		snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "%s", name);
}

/* ---- fan-out ------------------------------------------------------------ */

#define NSUB	8
#define NMSG	200

static const char *colors[] = { "red", "blue", "green", NULL };

static const struct {
	const char *queue;
	const char *attrs;
	bool raw;
} subs[NSUB] = {
	{ "fan0", "{\"RawMessageDelivery\":\"true\"}", true },
	{ "fan1", "{}", false },
	{ "fan2", "{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{\\\"color\\\":[\\\"red\\\"]}\"}", true },
	{ "fan3", "{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{\\\"color\\\":[{\\\"anything-but\\\":\\\"red\\\"}]}\"}", true },
	{ "fan4", "{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{\\\"size\\\":[{\\\"numeric\\\":[\\\">=\\\",10]}]}\"}", true },
	{ "fan5", "{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{\\\"color\\\":[{\\\"exists\\\":false}]}\"}", true },
	{ "fan6", "{\"RawMessageDelivery\":\"true\",\"FilterPolicyScope\":\"MessageBody\","
		  "\"FilterPolicy\":\"{\\\"kind\\\":[{\\\"prefix\\\":\\\"a\\\"}]}\"}", true },
	{ "fan7", "{\"FilterPolicy\":\"{\\\"$or\\\":[{\\\"color\\\":[\\\"blue\\\"]},{\\\"size\\\":[{\\\"numeric\\\":[\\\"<\\\",5]}]}]}\"}", false },
};

static bool has_size(int i) { return i % 5 != 0; }

static bool expected(int s, int i)
{
	const char *color = colors[i % 4];
	int size = i % 20;

	switch (s) {
	case 0: case 1: return true;
	case 2: return color && !strcmp(color, "red");
	case 3: return color && strcmp(color, "red");
	case 4: return has_size(i) && size >= 10;
	case 5: return !color;
	case 6: return i % 3 == 0;
	case 7: return (color && !strcmp(color, "blue")) || (has_size(i) && size < 5);
	}
	return false;
}

static void publish_one(struct kmq_topic *t, int i, const char *subject)
{
	char body[128], size[16];
	struct kmq_attr a[3];
	unsigned int n = 0;
	struct kmq_pub_msg m = { 0 };

	snprintf(body, sizeof(body), "{\"seq\":%d,\"kind\":\"%c%d\"}", i,
		 i % 3 == 0 ? 'a' : 'b', i);
	snprintf(size, sizeof(size), "%d", i % 20);
	if (colors[i % 4])
		a[n++] = (struct kmq_attr){ .name = "color", .type = "String",
			.value = colors[i % 4], .len = (uint32_t)strlen(colors[i % 4]) };
	if (has_size(i))
		a[n++] = (struct kmq_attr){ .name = "size", .type = "Number",
			.value = size, .len = (uint32_t)strlen(size) };
	a[n++] = (struct kmq_attr){ .name = "blob", .type = "Binary",
		.value = "\x01\x02\x03", .len = 3 };
	m.body = body;
	m.len = strlen(body);
	m.attrs = a;
	m.nattrs = n;
	m.subject = subject;
	ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
	ck_assert_int_eq(m.status, 0);
}

/* seq_of - the "seq" of a raw body, or of an envelope's Message. */
static int seq_of(const char *buf, size_t len, bool raw, json_object **env)
{
	json_object *o = json_tokener_parse(buf), *msg, *v;
	int seq = -1;

	(void)len;
	ck_assert_ptr_nonnull(o);
	if (!raw) {
		ck_assert(json_object_object_get_ex(o, "Message", &msg));
		v = json_tokener_parse(json_object_get_string(msg));
		if (env)
			*env = json_object_get(o);
		json_object_put(o);
		o = v;
	}
	if (o && json_object_object_get_ex(o, "seq", &v))
		seq = json_object_get_int(v);
	json_object_put(o);
	return seq;
}

/* drain - receive what @queue holds (waiting @wait_ms for the first and
 * 200 ms for each next) into counts per seq. */
static int drain(const char *queue, bool raw, int *count, int nseq, int wait_ms,
		 json_object **first_env)
{
	struct kmq *q;
	char buf[4096];
	int n = 0, got;

	ck_assert_int_eq(kmq_open(queue, KMQ_RECV, &q), 0);
	for (;;) {
		got = kmq_recv(q, buf, sizeof(buf) - 1, NULL,
			       (int64_t)(n ? 200 : wait_ms) * 1000000LL);
		if (got == -ETIMEDOUT || got == -EAGAIN)
			break;
		ck_assert_int_ge(got, 0);
		buf[got] = 0;
		{
			int s = seq_of(buf, (size_t)got, raw,
				       first_env && !*first_env ? first_env : NULL);

			ck_assert_msg(s >= 0 && s < nseq, "%s: bad seq in '%s'", queue, buf);
			count[s]++;
		}
		n++;
	}
	kmq_close(q);
	return n;
}

START_TEST(fan_out_filters)
{
	struct kmq_topic *t;
	int s, i, count[NMSG];

	kd_start();
	topic_made("fan");
	ck_assert_int_eq(kmq_topic_create("fan", NULL, NULL), 0);
	for (s = 0; s < NSUB; s++) {
		make_queue(subs[s].queue, 1024);
		subscribe("fan", subs[s].queue, subs[s].attrs, NULL, 0);
	}
	ck_assert_int_eq(kmq_topic_open("fan", &t), 0);
	for (i = 0; i < NMSG; i++)
		publish_one(t, i, i % 2 ? "odd" : NULL);
	kmq_topic_close(t);
	for (s = 0; s < NSUB; s++) {
		int want = 0, n;
		json_object *env = NULL;

		memset(count, 0, sizeof(count));
		n = drain(subs[s].queue, subs[s].raw, count, NMSG, 5000, &env);
		for (i = 0; i < NMSG; i++) {
			ck_assert_msg(count[i] == (expected(s, i) ? 1 : 0),
				      "%s: message %d delivered %d times, expected %d",
				      subs[s].queue, i, count[i], expected(s, i) ? 1 : 0);
			want += expected(s, i);
		}
		ck_assert_int_eq(n, want);
		ck_assert_int_gt(n, 0);
		if (!subs[s].raw) {
			json_object *v, *ma, *e;

			ck_assert_ptr_nonnull(env);
			ck_assert(json_object_object_get_ex(env, "Type", &v));
			ck_assert_str_eq(json_object_get_string(v), "Notification");
			ck_assert(json_object_object_get_ex(env, "TopicArn", &v));
			ck_assert_str_eq(json_object_get_string(v), "arn:kmq:sns:local:fan");
			ck_assert(json_object_object_get_ex(env, "MessageId", &v));
			ck_assert_int_eq(strlen(json_object_get_string(v)), 36);
			ck_assert(json_object_object_get_ex(env, "Timestamp", &v));
			ck_assert_int_eq(strlen(json_object_get_string(v)), 24);
			ck_assert(json_object_object_get_ex(env, "MessageAttributes", &ma));
			ck_assert(json_object_object_get_ex(ma, "blob", &e));
			ck_assert(json_object_object_get_ex(e, "Value", &v));
			ck_assert_str_eq(json_object_get_string(v), "AQID");
			json_object_put(env);
		}
	}
	kd_cleanup();
}
END_TEST

START_TEST(bad_policies_and_changes)
{
	char *r = NULL, arn[256];
	struct kmq_topic *t;
	int count[4] = { 0 };

	kd_start();
	topic_made("chg");
	ck_assert_int_eq(kmq_topic_create("chg", NULL, NULL), 0);
	make_queue("chgq", 64);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"chg\",\"protocol\":\"queue\","
			      "\"endpoint\":\"chgq\",\"attributes\":{\"FilterPolicy\":"
			      "\"{\\\"a\\\":[\\\"1\\\"],\\\"b\\\":[\\\"1\\\"],\\\"c\\\":[\\\"1\\\"],"
			      "\\\"d\\\":[\\\"1\\\"],\\\"e\\\":[\\\"1\\\"],\\\"f\\\":[\\\"1\\\"]}\"}}"), -EINVAL);
	ck_assert_msg(r && strstr(r, "more than 5 keys"), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"chg\",\"protocol\":\"queue\","
			      "\"endpoint\":\"nosuchq\",\"attributes\":{}}"), -ENOENT);
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"nosuch\",\"protocol\":\"queue\","
			      "\"endpoint\":\"chgq\"}"), -ENOENT);
	free(r);
	subscribe("chg", "chgq", "{\"RawMessageDelivery\":\"true\",\"FilterPolicy\":\"{\\\"color\\\":[\\\"red\\\"]}\"}",
		  arn, sizeof(arn));
	ck_assert_int_eq(kmq_topic_open("chg", &t), 0);
	publish_one(t, 0, NULL);	/* red: delivered */
	publish_one(t, 1, NULL);	/* blue: not */
	ck_assert_int_eq(drain("chgq", true, count, 4, 3000, NULL), 1);
	ck_assert_int_eq(count[0], 1);
	ck_assert_int_eq(call(&r, "{\"op\":\"set-subscription-attributes\",\"subscription\":\"%s\","
			      "\"name\":\"FilterPolicy\",\"value\":\"{\\\"color\\\":[\\\"blue\\\"]}\"}", arn), 0);
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"set-subscription-attributes\",\"subscription\":\"%s\","
			      "\"name\":\"FilterPolicy\",\"value\":\"{\\\"color\\\":[{\\\"bogus\\\":1}]}\"}", arn), -EINVAL);
	ck_assert_msg(r && strstr(r, "Unrecognized match type bogus"), "%s", r ? r : "");
	free(r);
	publish_one(t, 2, NULL);	/* green: not */
	publish_one(t, 1, NULL);	/* blue: now delivered */
	ck_assert_int_eq(drain("chgq", true, count, 4, 3000, NULL), 1);
	ck_assert_int_eq(count[1], 1);
	kmq_topic_close(t);
	/* Restart: the topic and its changed subscription are still there. */
	kd_kill(SIGTERM);
	kd_start();
	ck_assert_int_eq(call(&r, "{\"op\":\"list-subscriptions\",\"topic\":\"chg\"}"), 0);
	ck_assert_msg(r && strstr(r, arn), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(kmq_topic_open("chg", &t), 0);
	publish_one(t, 0, NULL);
	publish_one(t, 1, NULL);
	memset(count, 0, sizeof(count));
	ck_assert_int_eq(drain("chgq", true, count, 4, 3000, NULL), 1);
	ck_assert_int_eq(count[1], 1);
	kmq_topic_close(t);
	ck_assert_int_eq(kmq_topic_delete("chg"), 0);
	ck_assert_int_eq(call(&r, "{\"op\":\"list-subscriptions\",\"topic\":\"chg\"}"), -ENOENT);
	free(r);
	kd_cleanup();
}
END_TEST

/* ---- kill -9 during a burst ------------------------------------------------ */

#define BURST	3000

START_TEST(kill9_loses_no_acked_message)
{
	volatile int *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static int count[BURST];
	pid_t pub;
	int i, status, missing = 0, dups = 0, n, rounds;

	kd_start();
	topic_made("burst");
	ck_assert_int_eq(kmq_topic_create("burst", NULL, NULL), 0);
	make_queue("sink", 4096);
	subscribe("burst", "sink", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	*acked = 0;
	pub = fork();
	ck_assert_int_ge(pub, 0);
	if (!pub) {
		struct kmq_topic *t;

		if (kmq_topic_open("burst", &t))
			_exit(2);
		for (i = 0; i < BURST; i++) {
			char body[64];
			struct kmq_pub_msg m = { .body = body };

			m.len = (size_t)snprintf(body, sizeof(body), "{\"seq\":%d}", i);
			if (kmq_publish(t, &m, 1, 20 * SEC) != 1)
				_exit(3);
			__atomic_store_n(acked, i + 1, __ATOMIC_RELEASE);
		}
		kmq_topic_close(t);
		_exit(0);
	}
	while (__atomic_load_n(acked, __ATOMIC_ACQUIRE) < BURST / 4)
		msleep(1);
	kd_kill(SIGKILL);
	msleep(200);		/* the publisher goes on into the inbox */
	kd_start();
	ck_assert_int_eq(waitpid(pub, &status, 0), pub);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status),
		      "publisher failed: status %d", status);
	n = *acked;
	ck_assert_int_eq(n, BURST);
	memset(count, 0, sizeof(count));
	for (rounds = 0; rounds < 20; rounds++) {
		missing = 0;
		drain("sink", true, count, BURST, 500, NULL);
		for (i = 0; i < n; i++)
			missing += !count[i];
		if (!missing)
			break;
	}
	for (i = 0; i < n; i++)
		dups += count[i] > 1;
	ck_assert_msg(!missing, "%d acknowledged messages lost", missing);
	/* At least once: a record in mid-delivery at the kill comes again. */
	ck_assert_int_le(dups, 1);
	munmap((void *)acked, 4096);
	kd_cleanup();
}
END_TEST


/* ---- queue subscriptions: retries and dead letters ------------------------------ */

static void queue_geom(const char *name, uint32_t capacity, uint32_t max_msg)
{
	struct kmq_qattr a = { .capacity = capacity, .max_msg_size = max_msg, .mode = 0600 };

	kmq_delete(name);
	ck_assert_int_eq(kmq_create(name, &a), 0);
	if (nmade_queues < 32)
		snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "%s", name);
}

/* sub_attr - a subscription's attribute (its counters) as a number. */
static long long sub_attr(const char *arn, const char *name)
{
	char *r = NULL;
	json_object *o, *a, *v;
	long long n = -1;

	ck_assert_int_eq(call(&r, "{\"op\":\"get-subscription-attributes\",\"subscription\":\"%s\"}",
			      arn), 0);
	o = json_tokener_parse(r);
	if (o && json_object_object_get_ex(o, "Attributes", &a) &&
	    json_object_object_get_ex(a, name, &v))
		n = atoll(json_object_get_string(v));
	json_object_put(o);
	free(r);
	return n;
}

START_TEST(queue_retries_and_dead_letters)
{
	char full[256], slow[256], small[256], gone[256], ok[256], *r = NULL;
	char buf[4096];
	struct kmq_topic *t;
	int i, n, count[16] = { 0 };

	kd_start();
	topic_made("dl");
	ck_assert_int_eq(kmq_topic_create("dl", NULL, NULL), 0);
	queue_geom("dlfull", 4, 4096);
	queue_geom("dlslow", 4, 4096);
	queue_geom("dlsmall", 16, 64);
	queue_geom("dlgone", 16, 4096);
	queue_geom("dlok", 64, 4096);
	queue_geom("dlq1", 64, 4096);
	queue_geom("dlq2", 64, 4096);
	/* full: 3 retries 1 ms apart, then its DLQ */
	subscribe("dl", "dlfull", "{\"RawMessageDelivery\":\"true\",\"RedrivePolicy\":"
		  "\"{\\\"deadLetterTargetArn\\\":\\\"kmq:///dlq1\\\"}\",\"DeliveryPolicy\":"
		  "\"{\\\"healthyRetryPolicy\\\":{\\\"minDelayTarget\\\":0,\\\"maxDelayTarget\\\":0,"
		  "\\\"numRetries\\\":3}}\"}", full, sizeof(full));
	/* full too, the default policy: holds its own line, nobody else's */
	subscribe("dl", "dlslow", "{\"RawMessageDelivery\":\"true\"}", slow, sizeof(slow));
	/* too small for the messages: its DLQ at once (with the envelope) */
	subscribe("dl", "dlsmall", "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":"
		  "\\\"arn:kmq:sqs:local:dlq2\\\"}\"}", small, sizeof(small));
	/* deleted after subscribing, no RedrivePolicy: dropped, counted */
	subscribe("dl", "dlgone", "{\"RawMessageDelivery\":\"true\"}", gone, sizeof(gone));
	subscribe("dl", "dlok", "{\"RawMessageDelivery\":\"true\"}", ok, sizeof(ok));
	/* a bad RedrivePolicy or DeliveryPolicy is refused, with the reason */
	ck_assert_int_eq(call(&r, "{\"op\":\"set-subscription-attributes\",\"subscription\":\"%s\","
			      "\"name\":\"RedrivePolicy\",\"value\":\"{\\\"deadLetterTargetArn\\\":\\\"no/such\\\"}\"}",
			      ok), -EINVAL);
	ck_assert_msg(r && strstr(r, "RedrivePolicy"), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"set-subscription-attributes\",\"subscription\":\"%s\","
			      "\"name\":\"DeliveryPolicy\",\"value\":\"{\\\"healthyRetryPolicy\\\":"
			      "{\\\"numRetries\\\":1000}}\"}", ok), -EINVAL);
	ck_assert_msg(r && strstr(r, "numRetries"), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(kmq_delete("dlgone"), 0);
	msleep(100);	/* kernel: kmqd looks at its handle's queue every 20 ms */
	ck_assert_int_eq(kmq_topic_open("dl", &t), 0);
	for (i = 0; i < 10; i++) {
		char body[128];
		struct kmq_attr a = { .name = "color", .type = "String", .value = "red", .len = 3 };
		struct kmq_pub_msg m = { .body = body, .attrs = &a, .nattrs = 1 };

		/* 70+ bytes: too large for dlsmall */
		m.len = (size_t)snprintf(body, sizeof(body),
					 "{\"seq\":%d,\"pad\":\"%060d\"}", i, 0);
		ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
	}
	kmq_topic_close(t);
	/* dlok has them all, while dlslow is still full */
	ck_assert_int_eq(drain("dlok", true, count, 16, 5000, NULL), 10);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(count[i], 1);
	memset(count, 0, sizeof(count));
	{	/* a raw subscription's dead letter keeps its attributes */
		unsigned char ab[256];
		struct kmq_in in = { .buf = buf, .cap = sizeof(buf) - 1, .abuf = ab,
				     .acap = sizeof(ab) };
		struct kmq_attr got[4];
		struct kmq *q;

		ck_assert_int_eq(kmq_open("dlq1", KMQ_RECV, &q), 0);
		ck_assert_int_eq(kmq_receive(q, &in, 1, 30, 3 * SEC), 1);
		buf[in.len] = 0;
		count[seq_of(buf, in.len, true, NULL)]++;
		ck_assert_int_eq(kmq_attrs_decode(ab, in.attr_len, got, 4), 1);
		ck_assert_int_eq(got[0].name_len, 5);
		ck_assert(!memcmp(got[0].name, "color", 5));
		ck_assert_int_eq(kmq_delete_msgs(q, &in.receipt, NULL, 1), 1);
		kmq_close(q);
	}
	ck_assert_int_eq(drain("dlq1", true, count, 16, 3000, NULL), 5);
	ck_assert_int_eq(drain("dlfull", true, count, 16, 1000, NULL), 4);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(count[i], 1);
	memset(count, 0, sizeof(count));
	ck_assert_int_eq(drain("dlq2", false, count, 16, 3000, NULL), 10);
	ck_assert_int_eq(sub_attr(full, "kmq.DeadLettered"), 6);
	ck_assert_int_eq(sub_attr(full, "kmq.Retries"), 6 * 3);
	ck_assert_int_eq(sub_attr(small, "kmq.DeadLettered"), 10);
	ck_assert_int_eq(sub_attr(gone, "kmq.Dropped"), 10);
	ck_assert_int_eq(sub_attr(gone, "kmq.Failed"), 10);
	ck_assert_int_eq(sub_attr(gone, "kmq.Delivered"), 0);
	ck_assert_int_eq(sub_attr(ok, "kmq.Delivered"), 10);
	/* dlslow: 4 in, 6 waiting for it; drained, it gets the rest, in order */
	ck_assert_int_eq(sub_attr(slow, "kmq.Pending"), 6);
	memset(count, 0, sizeof(count));
	for (n = 0, i = 0; i < 40 && n < 10; i++)
		n += drain("dlslow", true, count, 16, 500, NULL);
	ck_assert_int_eq(n, 10);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(count[i], 1);
	ck_assert_int_eq(sub_attr(slow, "kmq.DeadLettered"), 0);
	ck_assert_int_eq(sub_attr(slow, "kmq.Pending"), 0);
	kd_cleanup();
}
END_TEST

/* A subscriber queue deleted and made again by another user under the
 * same name: kmqd (root) must not send the subscription's owner's
 * messages into it; they go to the owner's dead-letter queue. */
START_TEST(queue_remade_by_another_user)
{
	struct kmq_qattr a = { .capacity = 16, .max_msg_size = 4096, .mode = 0600 };
	char *r = NULL, arn[256] = "";
	json_object *o, *arr, *v;
	struct kmq_topic *t;
	int status, count[4] = { 0 };
	pid_t pid;

	kd_start();
	topic_made("perm");
	kmq_delete("permq");
	kmq_delete("permdlq");
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "permq");
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "permdlq");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {	/* user 65534: its topic, its queue, its DLQ */
		char *rr = NULL;

		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		if (kmq_topic_create("perm", NULL, NULL) || kmq_create("permq", &a) ||
		    kmq_create("permdlq", &a))
			_exit(3);
		if (kmq_topic_call("{\"op\":\"subscribe\",\"topic\":\"perm\",\"protocol\":\"queue\","
				   "\"endpoint\":\"permq\",\"attributes\":{\"RawMessageDelivery\":\"true\","
				   "\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"permdlq\\\"}\"}}",
				   &rr))
			_exit(4);
		free(rr);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "child: status %d", status);
	ck_assert_int_eq(call(&r, "{\"op\":\"list-subscriptions\",\"topic\":\"perm\"}"), 0);
	o = json_tokener_parse(r);
	ck_assert(o && json_object_object_get_ex(o, "Subscriptions", &arr));
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(arr, 0), "SubscriptionArn", &v));
	snprintf(arn, sizeof(arn), "%s", json_object_get_string(v));
	json_object_put(o);
	free(r);
	/* root (another user) takes the name */
	ck_assert_int_eq(kmq_delete("permq"), 0);
	ck_assert_int_eq(kmq_create("permq", &a), 0);
	msleep(100);	/* kmqd looks again every 20 ms */
	ck_assert_int_eq(kmq_topic_open("perm", &t), 0);
	publish_one(t, 0, NULL);
	kmq_topic_close(t);
	ck_assert_int_eq(drain("permdlq", true, count, 4, 5000, NULL), 1);
	ck_assert_int_eq(count[0], 1);
	ck_assert_int_eq(drain("permq", true, count, 4, 300, NULL), 0);
	ck_assert_int_eq(sub_attr(arn, "kmq.DeadLettered"), 1);
	ck_assert_int_eq(sub_attr(arn, "kmq.Delivered"), 0);
	kd_cleanup();
}
END_TEST

/* ---- http: a real local server ------------------------------------------------ */

static const char http_server[] =
	"import http.server, socketserver, sys, time, threading\n"
	"log = open(sys.argv[2], 'a', buffering=1)\n"
	"count = {}\n"
	"lock = threading.Lock()\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_POST(self):\n"
	"        body = self.rfile.read(int(self.headers['Content-Length']))\n"
	"        with lock:\n"
	"            count[self.path] = count.get(self.path, 0) + 1\n"
	"            n = count[self.path]\n"
	"            log.write('%s %d %.6f %s %s\\n' % (self.path, n, time.monotonic(),\n"
	"                      self.headers.get('x-amz-sns-message-type'), body.decode()[:60].replace(' ', '')))\n"
	"        if self.path == '/slow':\n"
	"            time.sleep(4)\n"
	"        ok = self.path == '/flaky' and n > 2 or self.path == '/slow' or self.path.startswith('/ok')\n"
	"        self.send_response(200 if ok else 500)\n"
	"        self.send_header('Content-Length', '0')\n"
	"        self.end_headers()\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"class S(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
	"    daemon_threads = True\n"
	"s = S(('127.0.0.1', 0), H)\n"
	"open(sys.argv[1], 'w').write(str(s.server_address[1]))\n"
	"s.serve_forever()\n";

struct hit {
	char path[16];
	int n;
	double t;
};

static int read_hits(const char *log, struct hit *h, int max)
{
	FILE *f = fopen(log, "r");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	while (n < max && fgets(line, sizeof(line), f))
		if (sscanf(line, "%15s %d %lf", h[n].path, &h[n].n, &h[n].t) == 3)
			n++;
	fclose(f);
	return n;
}

/* server_start - the server above, its log at *@logf; its port. */
static pid_t server_start(char *logf, size_t len, int *port)
{
	char portf[128];
	pid_t srv;
	FILE *f;
	int i;

	kd_dir();
	snprintf(portf, sizeof(portf), "%s/port", dir);
	snprintf(logf, len, "%s/http.log", dir);
	srv = fork();
	ck_assert_int_ge(srv, 0);
	if (!srv) {
		execlp("python3", "python3", "-c", http_server, portf, logf, (char *)NULL);
		_exit(127);
	}
	*port = 0;
	for (i = 0; i < 3000 && !*port; i++) {	/* python3 under TCG: seconds */
		msleep(10);
		f = fopen(portf, "r");
		if (f) {
			if (fscanf(f, "%d", port) != 1)
				*port = 0;
			fclose(f);
		}
	}
	ck_assert_int_gt(*port, 0);
	return srv;
}

/* file_has - does file @path hold @s (within @ms, looking every 50 ms)? */
static bool file_has(const char *path, const char *s, int ms)
{
	char buf[65536];
	int i;

	for (i = 0; i <= ms / 50; i++) {
		FILE *f = fopen(path, "r");
		size_t n = 0;

		if (f) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
		}
		buf[n] = 0;
		if (strstr(buf, s))
			return true;
		if (i < ms / 50)
			msleep(50);
	}
	return false;
}

static void write_conf(const char *fmt, int port)
{
	FILE *f;

	snprintf(kd_conf, sizeof(kd_conf), "%s/kmqd.conf", dir);
	f = fopen(kd_conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, fmt, port, port);
	fclose(f);
}

/* [topics] http_allow: refused at subscribe with the rule named; a
 * subscription a SIGHUP'd configuration no longer takes is logged and its
 * deliveries go to its DLQ, never POSTed. */
START_TEST(http_allow_policy)
{
	char logf[128], klog[160], *r = NULL;
	struct kmq_topic *t;
	int port, count[4] = { 0 };
	pid_t srv;

	srv = server_start(logf, sizeof(logf), &port);
	write_conf("[topics]\nhttp_allow = http://127.0.0.1:%d/ok/, http://127.0.0.1:%d/gone/\n", port);
	kd_start();
	snprintf(klog, sizeof(klog), "%s/kmqd.log", dir);
	topic_made("pol");
	ck_assert_int_eq(kmq_topic_create("pol", NULL, NULL), 0);
	make_queue("poldlq", 64);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"http\","
			      "\"endpoint\":\"http://127.0.0.1:%d/ok/a\",\"attributes\":"
			      "{\"RawMessageDelivery\":\"true\"}}", port), 0);
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"http\","
			      "\"endpoint\":\"http://127.0.0.1:%d/gone/b\",\"attributes\":"
			      "{\"RawMessageDelivery\":\"true\",\"RedrivePolicy\":"
			      "\"{\\\"deadLetterTargetArn\\\":\\\"poldlq\\\"}\"}}", port), 0);
	free(r);
	/* refused, with the rule named */
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"http\","
			      "\"endpoint\":\"http://127.0.0.1:%d/okay\"}", port), -EACCES);
	ck_assert_msg(r && strstr(r, "http_allow") && strstr(r, "/ok/"), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"http\","
			      "\"endpoint\":\"http://127.0.0.1:%d/ok/../admin\"}", port), -EACCES);
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"http\","
			      "\"endpoint\":\"http://127.0.0.1:%d@evil.invalid/ok/\"}", port), -EINVAL);
	ck_assert_msg(r && strstr(r, "credentials"), "%s", r ? r : "");
	free(r);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"pol\",\"protocol\":\"https\","
			      "\"endpoint\":\"https://127.0.0.1:%d/ok/\"}", port), -EACCES);
	free(r);
	/* /gone/ is taken out; SIGHUP */
	write_conf("[topics]\nhttp_allow = http://127.0.0.1:%d/ok/, http://127.0.0.1:%d/ok/b\n", port);
	kill(kmqd_pid, SIGHUP);
	ck_assert_msg(file_has(klog, "is no longer allowed", 10000), "no reload warning in %s", klog);
	ck_assert_int_eq(kmq_topic_open("pol", &t), 0);
	publish_one(t, 0, NULL);
	kmq_topic_close(t);
	ck_assert_msg(file_has(logf, "/ok/a 1", 10000), "/ok/a was not called");
	ck_assert_int_eq(drain("poldlq", true, count, 4, 5000, NULL), 1);
	ck_assert_int_eq(count[0], 1);
	msleep(200);
	ck_assert_msg(!file_has(logf, "/gone/", 0), "/gone/b was called");
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	kd_cleanup();
}
END_TEST

START_TEST(http_retries_and_dead_letters)
{
	char logf[128], url[128], attrs[1024], *r = NULL;
	struct hit hits[64];
	struct kmq_topic *t;
	int port = 0, i, n = 0, flaky = 0, dead = 0, count[4] = { 0 };
	double ft[8], dt[8];
	pid_t srv;

	kd_start();
	srv = server_start(logf, sizeof(logf), &port);
	topic_made("web");
	ck_assert_int_eq(kmq_topic_create("web", NULL, NULL), 0);
	make_queue("webdlq", 64);
	make_queue("webq", 64);
	/* fails twice, then succeeds: one immediate retry, then 1 s. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/flaky", port);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"web\",\"protocol\":\"http\","
			      "\"endpoint\":\"%s\",\"attributes\":{\"DeliveryPolicy\":"
			      "\"{\\\"healthyRetryPolicy\\\":{\\\"minDelayTarget\\\":1,\\\"maxDelayTarget\\\":1,"
			      "\\\"numRetries\\\":3,\\\"numNoDelayRetries\\\":1}}\"}}", url), 0);
	free(r);
	/* always fails: two retries 1 then 2 s apart, then the DLQ. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/dead", port);
	snprintf(attrs, sizeof(attrs), "{\"RawMessageDelivery\":\"true\",\"RedrivePolicy\":"
		 "\"{\\\"deadLetterTargetArn\\\":\\\"kmq:///webdlq\\\"}\",\"DeliveryPolicy\":"
		 "\"{\\\"healthyRetryPolicy\\\":{\\\"minDelayTarget\\\":1,\\\"maxDelayTarget\\\":2,"
		 "\\\"numRetries\\\":2,\\\"backoffFunction\\\":\\\"exponential\\\"}}\"}");
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"web\",\"protocol\":\"http\","
			      "\"endpoint\":\"%s\",\"attributes\":%s}", url, attrs), 0);
	free(r);
	/* slow: must not delay the queue subscriber. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", port);
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"web\",\"protocol\":\"http\","
			      "\"endpoint\":\"%s\",\"attributes\":{}}", url), 0);
	free(r);
	subscribe("web", "webq", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	/* an https endpoint that is not a URL of its scheme is refused */
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"web\",\"protocol\":\"https\","
			      "\"endpoint\":\"http://x\"}"), -EINVAL);
	free(r);
	ck_assert_int_eq(kmq_topic_open("web", &t), 0);
	publish_one(t, 0, "hello");
	kmq_topic_close(t);
	ck_assert_int_eq(drain("webq", true, count, 4, 1000, NULL), 1);
	for (i = 0; i < 100; i++) {
		msleep(100);
		n = read_hits(logf, hits, 64);
		flaky = dead = 0;
		for (int k = 0; k < n; k++) {
			if (!strcmp(hits[k].path, "/flaky") && flaky < 8)
				ft[flaky++] = hits[k].t;
			if (!strcmp(hits[k].path, "/dead") && dead < 8)
				dt[dead++] = hits[k].t;
		}
		if (flaky >= 3 && dead >= 3)
			break;
	}
	ck_assert_int_eq(flaky, 3);
	ck_assert_int_eq(dead, 3);
	fprintf(stderr, "http: /flaky attempts at +0, +%.3f, +%.3f s; /dead at +0, +%.3f, +%.3f s\n",
		ft[1] - ft[0], ft[2] - ft[0], dt[1] - dt[0], dt[2] - dt[0]);
	ck_assert_msg(ft[1] - ft[0] < 0.5, "immediate retry took %.3f s", ft[1] - ft[0]);
	/* Nominal delays: 1 s (flaky, minDelayTarget), 1.33 and 2 s (dead,
	 * exponential from 1 to 2 s over 2 retries); jitter +-10%, and the
	 * request itself and a busy (or emulated) CPU add, never subtract. */
	ck_assert_msg(ft[2] - ft[1] > 0.89 && ft[2] - ft[1] < 1.1 + SLACK, "retry 2 after %.3f s",
		      ft[2] - ft[1]);
	ck_assert_msg(dt[1] - dt[0] > 1.19 && dt[1] - dt[0] < 1.47 + SLACK, "retry 1 after %.3f s",
		      dt[1] - dt[0]);
	ck_assert_msg(dt[2] - dt[1] > 1.79 && dt[2] - dt[1] < 2.2 + SLACK, "retry 2 after %.3f s",
		      dt[2] - dt[1]);
	memset(count, 0, sizeof(count));
	ck_assert_int_eq(drain("webdlq", true, count, 4, 3000, NULL), 1);
	ck_assert_int_eq(count[0], 1);
	msleep(300);
	ck_assert_int_eq(read_hits(logf, hits, 64), 7);	/* and no more */
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	kd_cleanup();
}
END_TEST

/* ---- exec: crash, timeout, success ------------------------------------------ */

START_TEST(exec_crash_timeout_success)
{
	char script[128], out[128], attrs[1024], cmd[512], buf[256], *r = NULL;
	struct kmq_topic *t;
	int i, count[4] = { 0 };
	FILE *f;

	kd_start();
	snprintf(script, sizeof(script), "%s/handler.sh", dir);
	snprintf(out, sizeof(out), "%s/handled", dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n"
		"echo \"$KMQ_ATTEMPT $(date +%%s.%%N)\" >> %s.attempts\n"
		"case $KMQ_ATTEMPT in\n"
		"1) kill -SEGV $$ ;;\n"
		"2) sleep 30 ;;\n"
		"*) cat > %s.tmp && echo \"$KMQ_ATTR_color $KMQ_SUBJECT\" >> %s.tmp && mv %s.tmp %s ;;\n"
		"esac\n", out, out, out, out, out);
	fclose(f);
	chmod(script, 0755);
	topic_made("jobs");
	ck_assert_int_eq(kmq_topic_create("jobs", NULL, NULL), 0);
	make_queue("jobsdlq", 64);
	snprintf(cmd, sizeof(cmd), "%s", script);
	snprintf(attrs, sizeof(attrs), "{\"RawMessageDelivery\":\"true\",\"DeliveryPolicy\":"
		 "\"{\\\"healthyRetryPolicy\\\":{\\\"minDelayTarget\\\":0,\\\"maxDelayTarget\\\":0,"
		 "\\\"numRetries\\\":3},\\\"execPolicy\\\":{\\\"timeoutSeconds\\\":3,\\\"maxConcurrency\\\":2}}\"}");
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"jobs\",\"protocol\":\"exec\","
			      "\"endpoint\":\"%s\",\"attributes\":%s}", cmd, attrs), 0);
	free(r);
	/* a handler that always fails: the DLQ after its retries */
	snprintf(attrs, sizeof(attrs), "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"jobsdlq\\\"}\","
		 "\"DeliveryPolicy\":\"{\\\"healthyRetryPolicy\\\":{\\\"minDelayTarget\\\":0,"
		 "\\\"maxDelayTarget\\\":0,\\\"numRetries\\\":2}}\"}");
	ck_assert_int_eq(call(&r, "{\"op\":\"subscribe\",\"topic\":\"jobs\",\"protocol\":\"exec\","
			      "\"endpoint\":\"exit 3\",\"attributes\":%s}", attrs), 0);
	free(r);
	ck_assert_int_eq(kmq_topic_open("jobs", &t), 0);
	publish_one(t, 0, "subj");	/* color red */
	kmq_topic_close(t);
	for (i = 0; i < 600 && access(out, F_OK); i++)	/* TCG: slow forks */
		msleep(100);
	f = fopen(out, "r");
	ck_assert_msg(f != NULL, "the handler never succeeded");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	ck_assert_str_eq(buf, "{\"seq\":0,\"kind\":\"a0\"}red subj\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s.attempts", out);
	f = fopen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	for (i = 0; fgets(buf, sizeof(buf), f); i++)
		;
	fclose(f);
	ck_assert_int_eq(i, 3);	/* crashed, timed out, succeeded */
	ck_assert_int_eq(drain("jobsdlq", false, count, 4, 3000, NULL), 1);
	ck_assert_int_eq(count[0], 1);
	kd_cleanup();
}
END_TEST

/* ---- FIFO topics -------------------------------------------------------------- */

START_TEST(fifo_topic_order_and_dedup)
{
	static const char *groups[] = { "g0", "g1", "g2" };
	struct kmq_qattr fa = { .capacity = 64, .max_msg_size = 4096, .mode = 0600,
				.flags = KMQ_CREATE_FIFO };
	struct kmq_topic *t;
	char body[64], dd[32], buf[4096], *r = NULL;
	int i, n, last[3] = { -1, -1, -1 }, count[40] = { 0 };
	char ids[30][37];
	struct kmq *q;

	kd_start();
	topic_made("ord.fifo");
	ck_assert_int_eq(kmq_topic_create("ord.fifo", NULL, "{\"FifoTopic\":\"true\"}"), 0);
	ck_assert_int_eq(call(&r, "{\"op\":\"create-topic\",\"name\":\"bad\",\"attributes\":"
			      "{\"FifoTopic\":\"true\"}}"), -EINVAL);
	free(r);
	make_queue("ordstd", 64);
	subscribe("ord.fifo", "ordstd", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	/* A FIFO queue subscriber, on both backends: kmqd delivers through
	 * the queue's owner's FIFO send (kmq.ko, or kmqd's own sqs.c). */
	kmq_delete("ordq.fifo");
	ck_assert_int_eq(kmq_create("ordq.fifo", &fa), 0);
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "ordq.fifo");
	subscribe("ord.fifo", "ordq.fifo", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	/* and one with the envelope: it carries the group and dedup ids */
	kmq_delete("orde.fifo");
	ck_assert_int_eq(kmq_create("orde.fifo", &fa), 0);
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "orde.fifo");
	subscribe("ord.fifo", "orde.fifo", "{}", NULL, 0);
	ck_assert_int_eq(kmq_topic_open("ord.fifo", &t), 0);
	for (i = 0; i < 30; i++) {
		struct kmq_pub_msg m = { .body = body };

		m.len = (size_t)snprintf(body, sizeof(body), "{\"seq\":%d}", i);
		m.group = groups[i % 3];
		/* every 10th repeats the previous deduplication id */
		snprintf(dd, sizeof(dd), "d%d", i % 10 == 9 ? i - 1 : i);
		m.dedup = dd;
		ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
		ck_assert_int_eq(strlen(m.message_id), 36);
		memcpy(ids[i], m.message_id, 37);
	}
	{	/* a FIFO topic needs a group */
		struct kmq_pub_msg m = { .body = "x", .len = 1 };

		ck_assert_int_eq(kmq_publish(t, &m, 1, 0), -EINVAL);
	}
	kmq_topic_close(t);
	n = drain("ordstd", true, count, 40, 5000, NULL);
	ck_assert_int_eq(n, 27);
	for (i = 0; i < 30; i++)
		ck_assert_int_eq(count[i], i % 10 == 9 ? 0 : 1);
	{
		struct kmq_in in[10];
		int got = 0;

		ck_assert_int_eq(kmq_open("ordq.fifo", KMQ_RECV, &q), 0);
		while (got < 27) {
			uint64_t rc[10];

			for (i = 0; i < 10; i++)
				in[i] = (struct kmq_in){ .buf = buf + 400 * i, .cap = 400 };
			n = kmq_receive(q, in, 10, 30, 3 * SEC);
			ck_assert_int_gt(n, 0);
			for (i = 0; i < n; i++) {
				int g = in[i].group[1] - '0', s;

				((char *)in[i].buf)[in[i].len] = 0;
				s = seq_of(in[i].buf, in[i].len, true, NULL);
				/* the group id is the publisher's */
				ck_assert_str_eq(in[i].group, groups[s % 3]);
				ck_assert_int_eq(s % 3, g);
				ck_assert_msg(s > last[g], "group %d: %d after %d", g, s, last[g]);
				last[g] = s;
				rc[i] = in[i].receipt;
				got++;
			}
			ck_assert_int_eq(kmq_delete_msgs(q, rc, NULL, (unsigned int)n), n);
		}
		ck_assert_int_eq(got, 27);
		/* nothing more: the duplicates stayed out */
		n = kmq_receive(q, in, 10, 30, SEC / 4);
		ck_assert_msg(n == 0 || n == -EAGAIN || n == -ETIMEDOUT, "got %d more", n);
		kmq_close(q);
	}
	{	/* the envelope: MessageId as kmq_publish said, the group and
		 * the deduplication id of the publish */
		struct kmq_in in = { .buf = buf, .cap = sizeof(buf) - 1 };
		json_object *o, *v;
		int s;

		ck_assert_int_eq(kmq_open("orde.fifo", KMQ_RECV, &q), 0);
		ck_assert_int_eq(kmq_receive(q, &in, 1, 30, 3 * SEC), 1);
		buf[in.len] = 0;
		o = json_tokener_parse(buf);
		ck_assert_ptr_nonnull(o);
		s = seq_of(buf, in.len, false, NULL);
		ck_assert_int_eq(s, 0);
		ck_assert_str_eq(in.group, "g0");
		ck_assert(json_object_object_get_ex(o, "MessageId", &v));
		ck_assert_str_eq(json_object_get_string(v), ids[0]);
		ck_assert(json_object_object_get_ex(o, "MessageGroupId", &v));
		ck_assert_str_eq(json_object_get_string(v), "g0");
		ck_assert(json_object_object_get_ex(o, "MessageDeduplicationId", &v));
		ck_assert_str_eq(json_object_get_string(v), "d0");
		json_object_put(o);
		kmq_close(q);
	}
	ck_assert_int_eq(call(&r, "{\"op\":\"get-topic-attributes\",\"name\":\"ord.fifo\"}"), 0);
	ck_assert_msg(r && strstr(r, "\"kmq.Deduplicated\":\"3\""), "%s", r ? r : "");
	free(r);
	kd_cleanup();
}
END_TEST

/* A full FIFO queue subscriber holds its own line, not the others': the
 * standard subscriber gets everything while it waits; drained, it gets the
 * rest, each group in order, nothing twice. */
/*
 * fifo_take - receive (and delete) from FIFO queue @queue until @n raw
 * records {"seq":S} of groups "g0"/"g1" (S % 2) arrived or a minute
 * passed: each group in order, each seq once. Returns how many arrived.
 */
static int fifo_take(const char *queue, int n)
{
	int i, k, got = 0, last[2] = { -1, -1 };
	static char seen[4096];
	char buf[4000];
	struct kmq *q;

	ck_assert_int_le(n, (int)sizeof(seen));
	memset(seen, 0, sizeof(seen));
	ck_assert_int_eq(kmq_open(queue, KMQ_RECV, &q), 0);
	for (i = 0; i < 120 && got < n; i++) {
		struct kmq_in in[10];
		uint64_t rc[10];

		for (k = 0; k < 10; k++)
			in[k] = (struct kmq_in){ .buf = buf + 400 * k, .cap = 399 };
		k = kmq_receive(q, in, 10, 30, SEC / 2);
		if (k == -EAGAIN || k == -ETIMEDOUT || k == 0)
			continue;
		ck_assert_int_gt(k, 0);
		for (int j = 0; j < k; j++) {
			int s, g;

			((char *)in[j].buf)[in[j].len] = 0;
			s = seq_of(in[j].buf, in[j].len, true, NULL);
			ck_assert(s >= 0 && s < n);
			g = s % 2;
			ck_assert_str_eq(in[j].group, g ? "g1" : "g0");
			ck_assert_msg(s > last[g], "%s: group %d: %d after %d", queue,
				      g, s, last[g]);
			last[g] = s;
			ck_assert_int_eq(seen[s]++, 0);
			rc[j] = in[j].receipt;
			got++;
		}
		ck_assert_int_eq(kmq_delete_msgs(q, rc, NULL, (unsigned int)k), k);
	}
	kmq_close(q);
	return got;
}

START_TEST(fifo_sub_holds_only_its_line)
{
	struct kmq_qattr fa = { .capacity = 4, .max_msg_size = 4096, .mode = 0600,
				.flags = KMQ_CREATE_FIFO };
	int i, got, count[16] = { 0 };
	char body[64], dd[16], arn[256];
	struct kmq_topic *t;

	kd_start();
	topic_made("hold.fifo");
	ck_assert_int_eq(kmq_topic_create("hold.fifo", NULL, "{\"FifoTopic\":\"true\"}"), 0);
	kmq_delete("holdq.fifo");
	ck_assert_int_eq(kmq_create("holdq.fifo", &fa), 0);
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "holdq.fifo");
	make_queue("holdstd", 64);
	subscribe("hold.fifo", "holdq.fifo", "{\"RawMessageDelivery\":\"true\"}", arn, sizeof(arn));
	subscribe("hold.fifo", "holdstd", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	ck_assert_int_eq(kmq_topic_open("hold.fifo", &t), 0);
	for (i = 0; i < 12; i++) {
		struct kmq_pub_msg m = { .body = body, .group = i % 2 ? "g1" : "g0", .dedup = dd };

		m.len = (size_t)snprintf(body, sizeof(body), "{\"seq\":%d}", i);
		snprintf(dd, sizeof(dd), "h%d", i);
		ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
	}
	kmq_topic_close(t);
	ck_assert_int_eq(drain("holdstd", true, count, 16, 5000, NULL), 12);
	ck_assert_int_eq(sub_attr(arn, "kmq.Pending"), 8);
	got = fifo_take("holdq.fifo", 12);
	ck_assert_int_eq(got, 12);
	ck_assert_int_eq(sub_attr(arn, "kmq.DeadLettered"), 0);
	ck_assert_int_eq(sub_attr(arn, "kmq.Dropped"), 0);
	kd_cleanup();
}
END_TEST

/* A FIFO topic whose FIFO queue subscriber is full when kmqd is killed:
 * kmqd holds a window of records, the crash repair puts them back behind
 * those still in the inbox, and the restarted kmqd must still deliver each
 * group in publish order, each message once. */
#define KO_N	200

START_TEST(fifo_kill9_keeps_group_order)
{
	struct kmq_qattr fa = { .capacity = 16, .max_msg_size = 4096, .mode = 0600,
				.flags = KMQ_CREATE_FIFO };
	int i, got;
	char body[64], dd[16], arn[256];
	struct kmq_topic *t;

	kd_start();
	topic_made("ko.fifo");
	ck_assert_int_eq(kmq_topic_create("ko.fifo", NULL, "{\"FifoTopic\":\"true\"}"), 0);
	kmq_delete("koq.fifo");
	ck_assert_int_eq(kmq_create("koq.fifo", &fa), 0);
	snprintf(made_queues[nmade_queues++], KMQ_NAME_LEN, "koq.fifo");
	subscribe("ko.fifo", "koq.fifo", "{\"RawMessageDelivery\":\"true\"}", arn, sizeof(arn));
	ck_assert_int_eq(kmq_topic_open("ko.fifo", &t), 0);
	for (i = 0; i < KO_N; i++) {
		struct kmq_pub_msg m = { .body = body, .group = i % 2 ? "g1" : "g0", .dedup = dd };

		m.len = (size_t)snprintf(body, sizeof(body), "{\"seq\":%d}", i);
		snprintf(dd, sizeof(dd), "k%d", i);
		ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
	}
	kmq_topic_close(t);
	/* The queue is full and kmqd's window holds what follows. */
	for (i = 0; i < 500 && sub_attr(arn, "kmq.Pending") < 100; i++)
		msleep(10);
	ck_assert_int_ge(sub_attr(arn, "kmq.Pending"), 100);
	kd_kill(SIGKILL);
	kd_start();
	got = fifo_take("koq.fifo", KO_N);
	ck_assert_int_eq(got, KO_N);
	kd_cleanup();
}
END_TEST

/* A FIFO topic's deduplication window survives kmqd: a publish retried
 * with the same MessageDeduplicationId after a kill -9 (and after a clean
 * restart) is still a duplicate. */
static void dd_publish(const char *topic, int seq, const char *dedup)
{
	struct kmq_topic *t;
	char body[32];
	struct kmq_pub_msg m = { .body = body, .group = "g", .dedup = dedup };

	m.len = (size_t)snprintf(body, sizeof(body), "{\"seq\":%d}", seq);
	ck_assert_int_eq(kmq_topic_open(topic, &t), 0);
	ck_assert_int_eq(kmq_publish(t, &m, 1, 5 * SEC), 1);
	kmq_topic_close(t);
}

START_TEST(fifo_dedup_survives_restarts)
{
	int count[8] = { 0 };
	char *r = NULL;

	kd_start();
	topic_made("dd.fifo");
	ck_assert_int_eq(kmq_topic_create("dd.fifo", NULL, "{\"FifoTopic\":\"true\"}"), 0);
	make_queue("ddq", 64);
	subscribe("dd.fifo", "ddq", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	dd_publish("dd.fifo", 0, "same");
	ck_assert_int_eq(drain("ddq", true, count, 8, 3000, NULL), 1);
	kd_kill(SIGKILL);
	kd_start();
	dd_publish("dd.fifo", 1, "same");	/* the retry: a duplicate */
	dd_publish("dd.fifo", 2, "other");
	ck_assert_int_eq(drain("ddq", true, count, 8, 3000, NULL), 1);
	ck_assert_int_eq(count[1], 0);
	ck_assert_int_eq(count[2], 1);
	ck_assert_int_eq(call(&r, "{\"op\":\"get-topic-attributes\",\"name\":\"dd.fifo\"}"), 0);
	ck_assert_msg(r && strstr(r, "\"kmq.Deduplicated\":\"1\""), "%s", r ? r : "");
	free(r);
	kd_kill(SIGTERM);
	kd_start();
	dd_publish("dd.fifo", 3, "other");	/* after a clean stop too */
	dd_publish("dd.fifo", 4, "new");
	ck_assert_int_eq(drain("ddq", true, count, 8, 3000, NULL), 1);
	ck_assert_int_eq(count[3], 0);
	ck_assert_int_eq(count[4], 1);
	/* A topic deleted and made again starts with an empty window. */
	ck_assert_int_eq(kmq_topic_delete("dd.fifo"), 0);
	ck_assert_int_eq(kmq_topic_create("dd.fifo", NULL, "{\"FifoTopic\":\"true\"}"), 0);
	subscribe("dd.fifo", "ddq", "{\"RawMessageDelivery\":\"true\"}", NULL, 0);
	dd_publish("dd.fifo", 5, "same");
	ck_assert_int_eq(drain("ddq", true, count, 8, 3000, NULL), 1);
	ck_assert_int_eq(count[5], 1);
	kd_cleanup();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("topics");
	TCase *tc = tcase_create("topics");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fan_out_filters);
	tcase_add_test(tc, bad_policies_and_changes);
	tcase_add_test(tc, kill9_loses_no_acked_message);
	tcase_add_test(tc, queue_retries_and_dead_letters);
	tcase_add_test(tc, queue_remade_by_another_user);
	tcase_add_test(tc, http_retries_and_dead_letters);
	tcase_add_test(tc, http_allow_policy);
	tcase_add_test(tc, exec_crash_timeout_success);
	tcase_add_test(tc, fifo_topic_order_and_dedup);
	tcase_add_test(tc, fifo_sub_holds_only_its_line);
	tcase_add_test(tc, fifo_kill9_keeps_group_order);
	tcase_add_test(tc, fifo_dedup_survives_restarts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
