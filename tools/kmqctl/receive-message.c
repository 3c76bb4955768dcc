// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl receive-message --queue NAME [--max-number-of-messages 1-10]
 * [--wait-time-seconds 0-20]: prints {"Messages": [...]} as aws does, or
 * nothing when no message came within the wait. Without leases (a later
 * feature) a received message is gone from the queue. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "kmqctl.h"

#define MAX_MESSAGES	10
#define MAX_WAIT_S	20

static struct json_object *message_json(const struct kmq_msg *m)
{
	struct json_object *o, *attrs, *body;
	char buf[40], md5[33];
	bool base64;

	body = json_body(m->data, m->len, &base64);
	if (!body)
		return NULL;
	md5_hex(m->data, m->len, md5);
	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "%016" PRIx64, m->id);
	json_object_object_add(o, "MessageId", json_object_new_string(buf));
	json_object_object_add(o, "MD5OfBody", json_object_new_string(md5));
	json_object_object_add(o, "Body", body);
	if (base64)
		json_object_object_add(o, "BodyEncoding",
				       json_object_new_string("base64"));
	attrs = json_object_new_object();
	json_object_object_add(attrs, "SentTimestamp",
			       json_u64(m->sent_ns / 1000000));
	snprintf(buf, sizeof(buf), "%u:%u", m->sender_uid, m->sender_pid);
	json_object_object_add(attrs, "SenderId", json_object_new_string(buf));
	json_object_object_add(o, "Attributes", attrs);
	return o;
}

int receive_message_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "max-number-of-messages", required_argument, NULL, 'n' },
		{ "wait-time-seconds", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *name;
	struct kmq_rbuf bufs[MAX_MESSAGES] = { { 0 } };
	uint64_t n = 1, wait_s = 0;
	struct json_object *out, *msgs;
	struct kmq_info info;
	struct kmq *q;
	int c, i, got, ret = EXIT_FAIL;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'n':
			if (parse_uint(cmd, "--max-number-of-messages", optarg,
				       10, 1, MAX_MESSAGES, &n))
				return EXIT_USAGE;
			break;
		case 'w':
			if (parse_uint(cmd, "--wait-time-seconds", optarg, 10, 0,
				       MAX_WAIT_S, &wait_s))
				return EXIT_USAGE;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return EXIT_USAGE;
	name = parse_queue(cmd, arg);
	if (!name)
		return EXIT_USAGE;

	got = kmq_open(name, KMQ_RECV, &q);
	if (got)
		return fail(EXIT_FAIL, got, "%s: %s", cmd, name);
	got = kmq_qinfo(q, &info);
	if (got) {
		fail(EXIT_FAIL, got, "%s: %s", cmd, name);
		goto out_close;
	}
	for (i = 0; i < (int)n; i++) {
		bufs[i].cap = info.max_msg_size;
		bufs[i].buf = malloc(info.max_msg_size ? info.max_msg_size : 1);
		if (!bufs[i].buf) {
			fail(EXIT_FAIL, ENOMEM, "%s", cmd);
			goto out_free;
		}
	}
	got = kmq_recv_batch(q, bufs, (unsigned int)n,
			     (int64_t)wait_s * 1000000000LL);
	if (got == -EAGAIN || got == -ETIMEDOUT) {
		ret = 0;	/* no message: print nothing, like aws */
		goto out_free;
	}
	if (got < 0) {
		fail(EXIT_FAIL, got, "%s: %s", cmd, name);
		goto out_free;
	}
	msgs = json_object_new_array();
	for (i = 0; i < got; i++) {
		struct json_object *m = message_json(&bufs[i].msg);

		if (!m) {
			json_object_put(msgs);
			fail(EXIT_FAIL, ENOMEM, "%s", cmd);
			goto out_free;
		}
		json_object_array_add(msgs, m);
	}
	out = json_object_new_object();
	json_object_object_add(out, "Messages", msgs);
	ret = print_json(cmd, out);
out_free:
	for (i = 0; i < MAX_MESSAGES; i++)
		free(bufs[i].buf);
out_close:
	kmq_close(q);
	return ret;
}
