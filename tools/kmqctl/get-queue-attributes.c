// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl get-queue-attributes --queue NAME [--attribute-names All|A,B]:
 * the queue's configuration, counters and geometry as {"Attributes": {...}}
 * with string values, aws's names where aws has one (RedrivePolicy as a
 * JSON string, FifoQueue and ContentBasedDeduplication on FIFO queues
 * only), kmq's own otherwise. The kernel answers over netlink where it
 * offers the family, else through libkmq. */
#include <stdio.h>
#include <string.h>
#include "kmqctl.h"
#include "kmqnl.h"

struct qstate {
	struct kmq_info i;
	struct kmq_policy p;
};

enum kind { NUM, OCTAL, TEXT };

struct attr {
	const char *name;
	enum kind kind;
	uint64_t (*get)(const struct qstate *s);
	/* TEXT: the value, or NULL when the queue has none to show */
	struct json_object *(*text)(const struct qstate *s, const char *name);
};

#define FIELD(fn, expr)							\
	static uint64_t fn(const struct qstate *s) { return (expr); }
FIELD(a_visible, s->i.ready + s->i.queued)
FIELD(a_notvisible, s->i.leased + s->i.held)
FIELD(a_delayed, s->i.delayed)
FIELD(a_created, s->i.created_ns / 1000000000ULL)
FIELD(a_vis, s->p.visibility_s)
FIELD(a_ret, s->p.retention_s)
FIELD(a_delay, s->p.delay_s)
FIELD(a_wait, s->p.wait_s)
FIELD(a_msgsize, s->p.max_msg_size)
FIELD(a_capacity, s->i.capacity)
FIELD(a_slotsize, s->i.slot_size)
FIELD(a_slotmsg, s->i.max_msg_size)
FIELD(a_mode, s->i.mode)
FIELD(a_uid, s->i.uid)
FIELD(a_gid, s->i.gid)
FIELD(a_clients, s->i.clients)
FIELD(a_sent, s->i.sent)
FIELD(a_received, s->i.received)
FIELD(a_repaired, s->i.repaired)
FIELD(a_corrupt, s->i.corrupt)
FIELD(a_expired_leases, s->i.lease_expired)
FIELD(a_dead, s->i.dead_lettered)
FIELD(a_dlqfail, s->i.dlq_failed)
FIELD(a_expired, s->i.expired)
FIELD(a_dedup, s->i.deduplicated)

static struct json_object *t_arn(const struct qstate *s, const char *name)
{
	char buf[KMQ_NAME_LEN + 40];

	return json_object_new_string(queue_arn(buf, sizeof(buf), name));
}

static struct json_object *t_redrive(const struct qstate *s, const char *name)
{
	char buf[KMQ_NAME_LEN + 40], json[KMQ_NAME_LEN + 128];

	if (!s->p.dlq[0] || !s->p.max_receive)
		return NULL;
	snprintf(json, sizeof(json),
		 "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%u}",
		 queue_arn(buf, sizeof(buf), s->p.dlq), s->p.max_receive);
	return json_object_new_string(json);
}

static struct json_object *t_fifo(const struct qstate *s, const char *name)
{
	return s->p.flags & KMQ_POL_FIFO ? json_object_new_string("true") : NULL;
}

static struct json_object *t_cbd(const struct qstate *s, const char *name)
{
	if (!(s->p.flags & KMQ_POL_FIFO))
		return NULL;
	return json_object_new_string(s->p.flags & KMQ_POL_CONTENT_DEDUP ?
				      "true" : "false");
}

static const struct attr attrs[] = {
	{ "QueueArn", TEXT, NULL, t_arn },
	{ "ApproximateNumberOfMessages", NUM, a_visible, NULL },
	{ "ApproximateNumberOfMessagesNotVisible", NUM, a_notvisible, NULL },
	{ "ApproximateNumberOfMessagesDelayed", NUM, a_delayed, NULL },
	{ "CreatedTimestamp", NUM, a_created, NULL },
	{ "VisibilityTimeout", NUM, a_vis, NULL },
	{ "MessageRetentionPeriod", NUM, a_ret, NULL },
	{ "DelaySeconds", NUM, a_delay, NULL },
	{ "ReceiveMessageWaitTimeSeconds", NUM, a_wait, NULL },
	{ "MaximumMessageSize", NUM, a_msgsize, NULL },
	{ "RedrivePolicy", TEXT, NULL, t_redrive },
	{ "FifoQueue", TEXT, NULL, t_fifo },
	{ "ContentBasedDeduplication", TEXT, NULL, t_cbd },
	{ "Capacity", NUM, a_capacity, NULL },
	{ "SlotSize", NUM, a_slotsize, NULL },
	{ "SlotMessageSize", NUM, a_slotmsg, NULL },
	{ "Mode", OCTAL, a_mode, NULL },
	{ "OwnerUid", NUM, a_uid, NULL },
	{ "OwnerGid", NUM, a_gid, NULL },
	{ "Clients", NUM, a_clients, NULL },
	{ "MessagesSent", NUM, a_sent, NULL },
	{ "MessagesReceived", NUM, a_received, NULL },
	{ "MessagesRepaired", NUM, a_repaired, NULL },
	{ "CorruptEntries", NUM, a_corrupt, NULL },
	{ "LeasesExpired", NUM, a_expired_leases, NULL },
	{ "MessagesDeadLettered", NUM, a_dead, NULL },
	{ "DeadLetterFailures", NUM, a_dlqfail, NULL },
	{ "MessagesExpired", NUM, a_expired, NULL },
	{ "MessagesDeduplicated", NUM, a_dedup, NULL },
};

#define NATTRS	(sizeof(attrs) / sizeof(attrs[0]))

int get_queue_attributes_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "attribute-names", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *name;
	struct json_object *out, *obj;
	bool want[NATTRS] = { false }, some = false;
	const char *names[NATTRS];
	struct qstate st;
	struct kmqnl *nl;
	char buf[32];
	size_t i;
	int c, err;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'a':
			for (i = 0; i < NATTRS; i++)
				names[i] = attrs[i].name;
			if (parse_names_list(cmd, "--attribute-names", optarg,
					     names, NATTRS, want))
				return EXIT_USAGE;
			some = true;
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

	c = ctl_netlink(cmd, &nl);
	if (c)
		return c;
	if (nl) {
		err = kmqnl_get(nl, name, &st.i);
		if (err)
			return ctl_netlink_fail(cmd, nl, err, name);
		kmqnl_close(nl);
	} else {
		err = kmq_info(name, &st.i);
		if (err)
			return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	}
	err = kmq_get_policy(name, &st.p);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	obj = json_object_new_object();
	for (i = 0; i < NATTRS; i++) {
		uint64_t v;

		if (some && !want[i])
			continue;
		if (attrs[i].kind == TEXT) {
			struct json_object *t = attrs[i].text(&st, name);

			if (t)
				json_object_object_add(obj, attrs[i].name, t);
			continue;
		}
		v = attrs[i].get(&st);
		if (attrs[i].kind == OCTAL) {
			snprintf(buf, sizeof(buf), "%04llo", (unsigned long long)v);
			json_object_object_add(obj, attrs[i].name,
					       json_object_new_string(buf));
		} else {
			json_object_object_add(obj, attrs[i].name, json_u64(v));
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "Attributes", obj);
	return print_json(cmd, out);
}
