// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl delete-message-batch --queue NAME --entries JSON: ends the leases
 * of up to 10 received messages ([{"Id", "ReceiptHandle"}]); prints
 * {"Successful": [{"Id"}], "Failed": [...]} as aws does. A garbled handle
 * fails its entry only (ReceiptHandleIsInvalid). */
#include <stdio.h>
#include "kmqctl.h"

static struct json_object *failed(const char *id, int err, const char *msg)
{
	return batch_failed(id, true, sqs_error_code(err), msg);
}

int delete_message_batch_main(int argc, char **argv)
{
	const char *cmd = argv[0], *entries, *name;
	struct receipt_entry e[KMQ_SQS_BATCH_MAX];
	uint64_t r[KMQ_SQS_BATCH_MAX];
	int st[KMQ_SQS_BATCH_MAX], idx[KMQ_SQS_BATCH_MAX];
	bool valid[KMQ_SQS_BATCH_MAX];
	struct json_object *root = NULL, *ok, *bad;
	struct kmq *q;
	int i, n, nr = 0, err, ret = EXIT_FAIL;

	err = queue_and(argc, argv, "entries", &name, &entries);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	n = parse_receipt_entries(cmd, entries, e, &root);
	if (n < 0)
		return EXIT_USAGE;
	for (i = 0; i < n; i++) {
		valid[i] = !receipt_decode(e[i].handle, &r[nr]);
		if (valid[i])
			idx[nr++] = i;
	}
	if (nr) {
		err = kmq_open(name, KMQ_RECV | KMQ_COPY, &q);
		if (err) {
			fail(EXIT_FAIL, err, "%s: %s", cmd, name);
			goto out;
		}
		err = kmq_delete_msgs(q, r, st, (unsigned int)nr);
		kmq_close(q);
		if (err < 0) {
			fail(EXIT_FAIL, err, "%s: %s", cmd, name);
			goto out;
		}
	}
	ok = json_object_new_array();
	bad = json_object_new_array();
	for (i = 0; i < n; i++) {
		int j, s = -EINVAL;

		if (!valid[i]) {
			json_object_array_add(bad, failed(e[i].id, -ENOENT,
				"not a receipt handle that receive-message printed"));
			continue;
		}
		for (j = 0; j < nr; j++)
			if (idx[j] == i)
				s = st[j];
		if (s) {
			json_object_array_add(bad, failed(e[i].id, -ENOENT,
				s == -ENOENT ? "the message is not in flight (deleted, expired or received again)"
					     : kmq_strerror(s)));
			continue;
		}
		{
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "Id", json_object_new_string(e[i].id));
			json_object_array_add(ok, o);
		}
	}
	ret = print_batch(cmd, ok, bad);
out:
	json_object_put(root);
	return ret;
}
