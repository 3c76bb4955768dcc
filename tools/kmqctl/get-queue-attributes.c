// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl get-queue-attributes --queue NAME [--attribute-names All|A,B]:
 * the queue's geometry and counters as {"Attributes": {...}} with string
 * values, aws's names where aws has one, kmq's own otherwise. The kernel
 * answers over netlink where it offers the family, else through libkmq. */
#include <stdio.h>
#include <string.h>
#include "kmqctl.h"
#include "kmqnl.h"

struct attr {
	const char *name;
	bool octal;
	uint64_t (*get)(const struct kmq_info *i);
};

#define FIELD(fn, expr)							\
	static uint64_t fn(const struct kmq_info *i) { return (expr); }
FIELD(a_ready, i->ready)
FIELD(a_held, i->held)
FIELD(a_created, i->created_ns / 1000000000ULL)
FIELD(a_msgsize, i->max_msg_size)
FIELD(a_capacity, i->capacity)
FIELD(a_slotsize, i->slot_size)
FIELD(a_mode, i->mode)
FIELD(a_uid, i->uid)
FIELD(a_gid, i->gid)
FIELD(a_clients, i->clients)
FIELD(a_sent, i->sent)
FIELD(a_received, i->received)
FIELD(a_repaired, i->repaired)
FIELD(a_corrupt, i->corrupt)

static const struct attr attrs[] = {
	{ "ApproximateNumberOfMessages", false, a_ready },
	{ "ApproximateNumberOfMessagesNotVisible", false, a_held },
	{ "CreatedTimestamp", false, a_created },
	{ "MaximumMessageSize", false, a_msgsize },
	{ "Capacity", false, a_capacity },
	{ "SlotSize", false, a_slotsize },
	{ "Mode", true, a_mode },
	{ "OwnerUid", false, a_uid },
	{ "OwnerGid", false, a_gid },
	{ "Clients", false, a_clients },
	{ "MessagesSent", false, a_sent },
	{ "MessagesReceived", false, a_received },
	{ "MessagesRepaired", false, a_repaired },
	{ "CorruptEntries", false, a_corrupt },
};

#define NATTRS	(sizeof(attrs) / sizeof(attrs[0]))

/* select_attrs - mark the attributes named in the comma-separated @list
 * ("All" for every one). */
static int select_attrs(const char *cmd, const char *list, bool *want)
{
	const char *p = list;
	size_t i, len;

	for (;;) {
		len = strcspn(p, ",");
		if (len == 3 && !strncmp(p, "All", 3)) {
			for (i = 0; i < NATTRS; i++)
				want[i] = true;
		} else {
			for (i = 0; i < NATTRS; i++)
				if (strlen(attrs[i].name) == len &&
				    !strncmp(attrs[i].name, p, len))
					break;
			if (i == NATTRS || !len) {
				fail(EXIT_USAGE, EINVAL,
				     "%s: unknown attribute name '%.*s'", cmd,
				     (int)len, p);
				return -1;
			}
			want[i] = true;
		}
		p += len;
		if (!*p)
			return 0;
		p++;	/* past the comma: a name must follow */
	}
}

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
	struct kmq_info info;
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
			if (select_attrs(cmd, optarg, want))
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
		err = kmqnl_get(nl, name, &info);
		if (err)
			return ctl_netlink_fail(cmd, nl, err, name);
		kmqnl_close(nl);
	} else {
		err = kmq_info(name, &info);
		if (err)
			return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	}
	obj = json_object_new_object();
	for (i = 0; i < NATTRS; i++) {
		uint64_t v = attrs[i].get(&info);

		if (some && !want[i])
			continue;
		if (attrs[i].octal) {
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
