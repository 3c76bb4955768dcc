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
	const char *cmd = argv[0], *topic = NULL, *body = NULL, *mattr = NULL, *p;
	struct kmq_pub_msg m = { 0 };
	const struct targ a[] = {
		{ "topic", "topic-arn", &topic, true, false, false },
		{ "message", NULL, &body, true, false, false },
		{ "subject", NULL, &m.subject, false, false, false },
		{ "message-attributes", NULL, &mattr, false, false, false },
		{ "message-group-id", NULL, &m.group, false, false, false },
		{ "message-deduplication-id", NULL, &m.dedup, false, false, false },
	};
	struct mattrs attrs = { .n = 0 };
	unsigned char *data = NULL;
	struct kmq_topic *t = NULL;
	struct json_object *out;
	ssize_t len;
	int err, ret = EXIT_USAGE;

	err = topic_args(argc, argv, a, 6);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	if (mattr && parse_mattrs(cmd, "--message-attributes", mattr, &attrs))
		goto out;
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
