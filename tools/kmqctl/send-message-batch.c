// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl send-message-batch --queue NAME --entries JSON: up to 10 messages
 * ([{"Id", "MessageBody", "DelaySeconds", "MessageAttributes",
 * "MessageGroupId", "MessageDeduplicationId"}]) in one call; prints
 * {"Successful": [...], "Failed": [...]} as aws does, exit 0 even when some
 * failed (each failure names its entry). */
#include <inttypes.h>
#include <stdio.h>
#include "kmqctl.h"

int send_message_batch_main(int argc, char **argv)
{
	const char *cmd = argv[0], *entries, *name;
	struct send_entry e[KMQ_SQS_BATCH_MAX];
	struct kmq_out m[KMQ_SQS_BATCH_MAX];
	struct json_object *root = NULL, *ok, *bad;
	struct kmq *q;
	int i, n, err, ret = EXIT_USAGE;

	err = queue_and(argc, argv, "entries", &name, &entries);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	n = parse_send_entries(cmd, entries, e, &root);
	if (n < 0)
		return EXIT_USAGE;
	for (i = 0; i < n; i++)
		m[i] = (struct kmq_out){ .body = e[i].body, .len = e[i].len,
			.attrs = e[i].attrs.a, .nattrs = e[i].attrs.n,
			.delay_s = e[i].delay_s, .group = e[i].group,
			.dedup = e[i].dedup };
	err = kmq_open(name, KMQ_SEND, &q);
	if (err) {
		ret = fail(EXIT_FAIL, err, "%s: %s", cmd, name);
		goto out;
	}
	err = kmq_send_msgs(q, m, (unsigned int)n);
	kmq_close(q);
	if (err < 0) {
		ret = fail(EXIT_FAIL, err, "%s: %s", cmd, name);
		goto out;
	}
	ok = json_object_new_array();
	bad = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		char buf[40];

		json_object_object_add(o, "Id", json_object_new_string(e[i].id));
		if (m[i].status) {
			json_object_put(o);
			json_object_array_add(bad, batch_failed(e[i].id, m[i].status != -EAGAIN,
				sqs_error_code(m[i].status), kmq_strerror(m[i].status)));
			continue;
		}
		snprintf(buf, sizeof(buf), "%016" PRIx64, m[i].id);
		json_object_object_add(o, "MessageId", json_object_new_string(buf));
		md5_hex(m[i].body, m[i].len, buf);
		json_object_object_add(o, "MD5OfMessageBody", json_object_new_string(buf));
		if (m[i].nattrs) {
			md5_attrs_hex(m[i].attrs, m[i].nattrs, buf);
			json_object_object_add(o, "MD5OfMessageAttributes",
					       json_object_new_string(buf));
		}
		if (m[i].seq)
			json_object_object_add(o, "SequenceNumber", json_u64(m[i].seq));
		json_object_array_add(ok, o);
	}
	ret = print_batch(cmd, ok, bad);
out:
	for (i = 0; i < n; i++)
		mattrs_free(&e[i].attrs);
	json_object_put(root);
	return ret;
}
