// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl send-message --queue NAME --message-body TEXT|- [--delay-seconds N]
 * [--message-attributes JSON] [--message-group-id G]
 * [--message-deduplication-id D]: sends one message without waiting for
 * room; prints MD5OfMessageBody, MD5OfMessageAttributes (with attributes),
 * MessageId and SequenceNumber (FIFO), as `aws sqs send-message` does. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kmqctl.h"

int send_message_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "message-body", required_argument, NULL, 'b' },
		{ "delay-seconds", required_argument, NULL, 'd' },
		{ "message-attributes", required_argument, NULL, 'a' },
		{ "message-group-id", required_argument, NULL, 'g' },
		{ "message-deduplication-id", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *body = NULL, *name;
	struct kmq_out m = { .delay_s = -1 };
	struct mattrs attrs = { .n = 0 };
	unsigned char *data = NULL;
	struct json_object *out;
	char md5[33], id_str[24];
	struct kmq *q;
	uint64_t v;
	ssize_t len;
	int c, err, ret = EXIT_USAGE;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		case 'd':
			if (parse_uint(cmd, "--delay-seconds", optarg, 10, 0,
				       KMQ_DELAY_MAX, &v))
				goto out;
			m.delay_s = (int)v;
			break;
		case 'a':
			mattrs_free(&attrs);
			if (parse_mattrs(cmd, "--message-attributes", optarg,
					 &attrs))
				goto out;
			break;
		case 'g':
			m.group = optarg;
			break;
		case 'D':
			m.dedup = optarg;
			break;
		case 'h':
			ret = 0;
			goto out;
		default:
			goto out;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		goto out;
	if (!body) {
		ret = fail(EXIT_USAGE, EINVAL, "%s: missing --message-body TEXT", cmd);
		goto out;
	}
	name = parse_queue(cmd, arg);
	if (!name)
		goto out;

	if (!strcmp(body, "-")) {
		len = read_all(STDIN_FILENO, KMQ_MSG_MAX, &data);
		if (len < 0) {
			ret = fail(EXIT_FAIL, (int)len, "%s: reading the body", cmd);
			goto out;
		}
	} else {
		len = (ssize_t)strlen(body);
	}
	m.body = data ? (void *)data : body;
	m.len = (size_t)len;
	m.attrs = attrs.a;
	m.nattrs = attrs.n;
	err = kmq_open(name, KMQ_SEND, &q);
	if (err) {
		ret = fail(EXIT_FAIL, err, "%s: %s", cmd, name);
		goto out;
	}
	err = kmq_send_msgs(q, &m, 1);
	kmq_close(q);
	if (err >= 0)
		err = m.status;
	if (err == -EAGAIN) {
		ret = fail(EXIT_FAIL, err, "%s: %s is full", cmd, name);
		goto out;
	}
	if (err == -EINVAL && !m.group && strstr(name, ".fifo")) {
		ret = fail(EXIT_USAGE, err,
			   "%s: %s is a FIFO queue: --message-group-id is required",
			   cmd, name);
		goto out;
	}
	if (err) {
		ret = fail(EXIT_FAIL, err, "%s: %s", cmd, name);
		goto out;
	}

	out = json_object_new_object();
	md5_hex(m.body, m.len, md5);
	json_object_object_add(out, "MD5OfMessageBody", json_object_new_string(md5));
	if (attrs.n) {
		md5_attrs_hex(attrs.a, attrs.n, md5);
		json_object_object_add(out, "MD5OfMessageAttributes",
				       json_object_new_string(md5));
	}
	snprintf(id_str, sizeof(id_str), "%016" PRIx64, m.id);
	json_object_object_add(out, "MessageId", json_object_new_string(id_str));
	if (m.seq)
		json_object_object_add(out, "SequenceNumber", json_u64(m.seq));
	ret = print_json(cmd, out);
out:
	mattrs_free(&attrs);
	free(data);
	return ret;
}
