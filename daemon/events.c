// SPDX-License-Identifier: GPL-2.0
/*
 * Events: what happened (a queue created or deleted, a client's slots
 * repaired, the configuration reloaded, ...), logged and sent as
 * KMQ_WIRE_EVENT frames to every connection that sent SUBSCRIBE. The
 * netlink client and later features publish through kmqd_event_publish().
 */
#include <string.h>
#include "kmqd.h"

struct publish {
	const struct kmq_wire_event *ev;
};

static void send_one(struct conn *c, void *arg)
{
	struct publish *p = arg;

	if (conn_subscribed(c))
		conn_send_event(c, p->ev);
}

static void copy_field(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	memset(dst, 0, n);
	if (len > n - 1)
		len = n - 1;
	if (len)
		memcpy(dst, src, len);
}

void kmqd_event_publish(struct kmqd *d, const char *type, const char *queue,
			const char *detail)
{
	struct kmq_wire_event ev;
	struct publish p = { &ev };

	copy_field(ev.type, sizeof(ev.type), type);
	copy_field(ev.queue, sizeof(ev.queue), queue);
	copy_field(ev.detail, sizeof(ev.detail), detail);
	ev.time_ns = real_ns();
	log_info("event %s%s%s%s%s", ev.type, ev.queue[0] ? " " : "", ev.queue,
		 ev.detail[0] ? ": " : "", ev.detail);
	conn_for_each(d, send_one, &p);
}

void events_subscribe(struct kmqd *d, struct conn *c,
		      const struct kmq_wire_sub *s)
{
	conn_subscribe(c);
	conn_reply(c, 0, NULL, 0, NULL, 0);
}
