// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqd's netlink client: turns the kernel's notifications (kmqnl's events
 * socket) into on_event(type, queue, detail) calls for the event loop.
 */
#include <errno.h>
#include <stdlib.h>

#include "genl.h"
#include "kmqnl.h"

/* A burst of notifications is handled in rounds of this many reads, so
 * one busy kernel cannot starve the rest of the event loop for long. */
#define KMQD_GENL_READS	64

struct kmqd_genl {
	struct kmqnl *nl;
	kmqd_genl_event_fn on_event;
	void *arg;
};

int kmqd_genl_open(struct kmqd_genl **out, kmqd_genl_event_fn on_event,
		   void *arg)
{
	struct kmqd_genl *g;
	int err;

	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	err = kmqnl_events_open(&g->nl, true);
	if (err) {
		free(g);
		return err;
	}
	g->on_event = on_event;
	g->arg = arg;
	*out = g;
	return 0;
}

int kmqd_genl_fd(struct kmqd_genl *g)
{
	return kmqnl_fd(g->nl);
}

static void kmqd_genl_deliver(const struct kmqnl_event *ev, void *arg)
{
	struct kmqd_genl *g = arg;
	char detail[256];

	g->on_event(g->arg, kmqnl_event_type(ev->type), ev->name,
		    kmqnl_event_detail(ev, detail, sizeof(detail)));
}

void kmqd_genl_process(struct kmqd_genl *g)
{
	int i, n;

	for (i = 0; i < KMQD_GENL_READS; i++) {
		n = kmqnl_events_read(g->nl, kmqd_genl_deliver, g);
		if (n == -ENOBUFS) {
			g->on_event(g->arg, "events-lost", "",
				    "socket overflowed: resynchronise with a dump");
			continue;
		}
		if (n < 0)	/* -EAGAIN: all read; else nothing to do here */
			return;
	}
}

void kmqd_genl_close(struct kmqd_genl *g)
{
	if (!g)
		return;
	kmqnl_close(g->nl);
	free(g);
}
