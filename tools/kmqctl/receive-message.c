// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl receive-message --queue NAME [--max-number-of-messages 1-10]
 * [--wait-time-seconds 0-20] [--visibility-timeout 0-43200]
 * [--attribute-names All|A,B] [--message-attribute-names All|N,prefix.*]:
 * receives with a lease, as SQS does: each message stays in the queue,
 * invisible, until delete-message with its ReceiptHandle, or comes back
 * when its visibility timeout ends. Prints {"Messages": [...]} as aws does,
 * or nothing when no message came within the wait (default: the queue's
 * ReceiveMessageWaitTimeSeconds). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kmqctl.h"

enum { A_SENT, A_COUNT, A_FIRST, A_SENDER, A_SEQ, A_GROUP, NSYS };

static const char *const sys_names[NSYS] = {
	"SentTimestamp", "ApproximateReceiveCount",
	"ApproximateFirstReceiveTimestamp", "SenderId", "SequenceNumber",
	"MessageGroupId",
};

/* mattr_wanted - is attribute @a selected by --message-attribute-names
 * (@list: NULL none, "All"/".*", names, or "prefix.*")? */
static bool mattr_wanted(const char *list, const struct kmq_attr *a)
{
	const char *p = list;

	if (!list)
		return false;
	for (;;) {
		size_t len = strcspn(p, ",");

		if ((len == 3 && !strncmp(p, "All", 3)) ||
		    (len == 2 && !strncmp(p, ".*", 2)))
			return true;
		if (len > 2 && !strncmp(p + len - 2, ".*", 2)) {
			if (a->name_len >= len - 1 && !memcmp(a->name, p, len - 1))
				return true;
		} else if (len == a->name_len && !memcmp(a->name, p, len)) {
			return true;
		}
		p += len;
		if (!*p)
			return false;
		p++;
	}
}

static struct json_object *message_json(const struct kmq_in *m,
					const bool *want, const char *mlist)
{
	struct json_object *o, *attrs, *body;
	struct kmq_attr a[KMQ_ATTR_MAX], sel[KMQ_ATTR_MAX];
	char buf[64], md5[33], handle[RECEIPT_STR_LEN + 1];
	int n, i, nsel = 0;
	bool base64;

	body = json_body(m->buf, m->len, &base64);
	if (!body)
		return NULL;
	o = json_object_new_object();
	snprintf(buf, sizeof(buf), "%016" PRIx64, m->id);
	json_object_object_add(o, "MessageId", json_object_new_string(buf));
	receipt_encode(m->receipt, handle);
	json_object_object_add(o, "ReceiptHandle", json_object_new_string(handle));
	md5_hex(m->buf, m->len, md5);
	json_object_object_add(o, "MD5OfBody", json_object_new_string(md5));
	json_object_object_add(o, "Body", body);
	if (base64)
		json_object_object_add(o, "BodyEncoding",
				       json_object_new_string("base64"));
	attrs = json_object_new_object();
	if (want[A_SENDER]) {
		snprintf(buf, sizeof(buf), "%u:%u", m->sender_uid, m->sender_pid);
		json_object_object_add(attrs, "SenderId", json_object_new_string(buf));
	}
	if (want[A_SENT])
		json_object_object_add(attrs, "SentTimestamp",
				       json_u64(m->sent_ns / 1000000));
	if (want[A_COUNT])
		json_object_object_add(attrs, "ApproximateReceiveCount",
				       json_u64(m->receive_count));
	if (want[A_FIRST])
		json_object_object_add(attrs, "ApproximateFirstReceiveTimestamp",
				       json_u64(m->first_receive_ns / 1000000));
	if (want[A_SEQ] && m->seq)
		json_object_object_add(attrs, "SequenceNumber", json_u64(m->seq));
	if (want[A_GROUP] && m->group[0])
		json_object_object_add(attrs, "MessageGroupId",
				       json_object_new_string(m->group));
	if (json_object_object_length(attrs))
		json_object_object_add(o, "Attributes", attrs);
	else
		json_object_put(attrs);
	/* Attributes a mapped sender garbled are not shown (nor counted). */
	n = kmq_attrs_decode(m->abuf, m->attr_len, a, KMQ_ATTR_MAX);
	for (i = 0; i < n; i++)
		if (mattr_wanted(mlist, &a[i]))
			sel[nsel++] = a[i];
	if (nsel) {
		md5_attrs_hex(sel, (unsigned int)nsel, md5);
		json_object_object_add(o, "MD5OfMessageAttributes",
				       json_object_new_string(md5));
		json_object_object_add(o, "MessageAttributes",
				       json_mattrs(sel, (unsigned int)nsel));
	}
	return o;
}

int receive_message_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "max-number-of-messages", required_argument, NULL, 'n' },
		{ "wait-time-seconds", required_argument, NULL, 'w' },
		{ "visibility-timeout", required_argument, NULL, 'v' },
		{ "attribute-names", required_argument, NULL, 'a' },
		{ "message-attribute-names", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *name, *mlist = NULL;
	struct kmq_in in[KMQ_SQS_BATCH_MAX];
	bool want[NSYS] = { false };
	int64_t timeout = KMQ_WAIT_QUEUE;
	struct json_object *out, *msgs;
	uint64_t n = 1, v;
	int vis = -1;
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
				       10, 1, KMQ_SQS_BATCH_MAX, &n))
				return EXIT_USAGE;
			break;
		case 'w':
			if (parse_uint(cmd, "--wait-time-seconds", optarg, 10, 0,
				       KMQ_WAIT_MAX, &v))
				return EXIT_USAGE;
			timeout = (int64_t)v * 1000000000LL;
			break;
		case 'v':
			if (parse_uint(cmd, "--visibility-timeout", optarg, 10,
				       0, KMQ_VISIBILITY_MAX, &v))
				return EXIT_USAGE;
			vis = (int)v;
			break;
		case 'a':
			if (parse_names_list(cmd, "--attribute-names", optarg,
					     sys_names, NSYS, want))
				return EXIT_USAGE;
			break;
		case 'm':
			mlist = optarg;
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

	/* Leased receives go through the queue's owner: no need to map. */
	got = kmq_open(name, KMQ_RECV | KMQ_COPY, &q);
	if (got)
		return fail(EXIT_FAIL, got, "%s: %s", cmd, name);
	memset(in, 0, sizeof(in));
	got = kmq_qinfo(q, &info);
	if (got) {
		fail(EXIT_FAIL, got, "%s: %s", cmd, name);
		goto out_close;
	}
	for (i = 0; i < (int)n; i++) {
		in[i].cap = in[i].acap = info.max_msg_size;
		in[i].buf = malloc(info.max_msg_size ? info.max_msg_size : 1);
		in[i].abuf = malloc(info.max_msg_size ? info.max_msg_size : 1);
		if (!in[i].buf || !in[i].abuf) {
			fail(EXIT_FAIL, ENOMEM, "%s", cmd);
			goto out_free;
		}
	}
	got = kmq_receive(q, in, (unsigned int)n, vis, timeout);
	if (got == -EAGAIN || got == -ETIMEDOUT || got == 0) {
		ret = 0;	/* no message: print nothing, like aws */
		goto out_free;
	}
	if (got < 0) {
		fail(EXIT_FAIL, got, "%s: %s", cmd, name);
		goto out_free;
	}
	msgs = json_object_new_array();
	for (i = 0; i < got; i++) {
		struct json_object *m = message_json(&in[i], want, mlist);

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
	for (i = 0; i < KMQ_SQS_BATCH_MAX; i++) {
		free(in[i].buf);
		free(in[i].abuf);
	}
out_close:
	kmq_close(q);
	return ret;
}
