// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl publish --topic NAME|ARN --message TEXT|- [--subject S]
 * [--message-attributes JSON] [--message-group-id G]
 * [--message-deduplication-id D]: publishes through the topic's inbox
 * (kmq_publish); prints {"MessageId"} once kmqd is responsible for it: the
 * MessageId every subscriber sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kmqctl.h"

int publish_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "topic-arn", required_argument, NULL, 't' },
		{ "message", required_argument, NULL, 'm' },
		{ "subject", required_argument, NULL, 's' },
		{ "message-attributes", required_argument, NULL, 'a' },
		{ "message-group-id", required_argument, NULL, 'g' },
		{ "message-deduplication-id", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *topic = NULL, *body = NULL, *p;
	struct kmq_pub_msg m = { 0 };
	struct mattrs attrs = { .n = 0 };
	unsigned char *data = NULL;
	struct kmq_topic *t = NULL;
	struct json_object *out;
	ssize_t len;
	int c, err, ret = EXIT_USAGE;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'm':
			body = optarg;
			break;
		case 's':
			m.subject = optarg;
			break;
		case 'a':
			mattrs_free(&attrs);
			if (parse_mattrs(cmd, "--message-attributes", optarg, &attrs))
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
	if (!topic || !body) {
		fail(EXIT_USAGE, EINVAL, "%s: --topic and --message are required", cmd);
		goto out;
	}
	p = strrchr(topic, ':');
	if (p)
		topic = p + 1;
	if (!strcmp(body, "-")) {
		len = read_all(0, KMQ_MSG_MAX, &data);
		if (len < 0) {
			ret = fail(EXIT_FAIL, (int)len, "%s: standard input", cmd);
			goto out;
		}
		m.body = data;
		m.len = (size_t)len;
	} else {
		m.body = body;
		m.len = strlen(body);
	}
	m.attrs = attrs.a;
	m.nattrs = attrs.n;
	err = kmq_topic_open(topic, &t);
	if (err) {
		ret = fail(EXIT_FAIL, err, "%s: topic %s", cmd, topic);
		goto out;
	}
	err = kmq_publish(t, &m, 1, 5000000000LL);
	if (err < 0) {
		ret = fail(EXIT_FAIL, err, "%s: topic %s", cmd, topic);
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "MessageId", json_object_new_string(m.message_id));
	ret = print_json(cmd, out);
out:
	kmq_topic_close(t);
	mattrs_free(&attrs);
	free(data);
	return ret;
}
