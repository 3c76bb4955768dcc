// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl publish-batch --topic NAME|ARN --entries JSON: up to 10 messages
 * ([{"Id", "Message", "Subject", "MessageAttributes", "MessageGroupId",
 * "MessageDeduplicationId"}], as aws sns publish-batch) published one by
 * one, so that a refused entry fails alone; prints {"Successful": [{"Id",
 * "MessageId"}], "Failed": [{"Id", "Code", "Message", "SenderFault"}]} as
 * aws does, exit 0 even when some failed. */
#include <stdio.h>
#include <string.h>
#include "kmqctl.h"

int publish_batch_main(int argc, char **argv)
{
	const char *cmd = argv[0], *topic = NULL, *entries = NULL, *p;
	const struct targ a[] = {
		{ "topic", "topic-arn", &topic, true, false, false },
		{ "entries", "publish-batch-request-entries", &entries, true, false, false },
	};
	struct pub_entry e[KMQ_PUBLISH_BATCH_MAX];
	struct json_object *root = NULL, *ok, *bad;
	struct kmq_topic *t = NULL;
	int i, n, err, ret = EXIT_USAGE;

	err = topic_args(argc, argv, a, 2);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	n = parse_publish_entries(cmd, entries, e, &root);
	if (n < 0)
		return EXIT_USAGE;
	p = strrchr(topic, ':');
	if (p)
		topic = p + 1;
	err = kmq_topic_open(topic, &t);
	if (err) {
		ret = fail(EXIT_FAIL, err, "%s: topic %s", cmd, topic);
		goto out;
	}
	ok = json_object_new_array();
	bad = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct kmq_pub_msg m = { .body = e[i].body, .len = e[i].len,
			.subject = e[i].subject, .attrs = e[i].attrs.a,
			.nattrs = e[i].attrs.n, .group = e[i].group,
			.dedup = e[i].dedup };
		struct json_object *o;

		err = kmq_publish(t, &m, 1, 5000000000LL);
		if (err < 0) {
			json_object_array_add(bad, batch_failed(e[i].id,
				err == -EINVAL || err == -EMSGSIZE, pub_error_code(err),
				kmq_strerror(err)));
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "Id", json_object_new_string(e[i].id));
		json_object_object_add(o, "MessageId", json_object_new_string(m.message_id));
		json_object_array_add(ok, o);
	}
	ret = print_batch(cmd, ok, bad);
out:
	kmq_topic_close(t);
	for (i = 0; i < n; i++)
		mattrs_free(&e[i].attrs);
	json_object_put(root);
	return ret;
}
