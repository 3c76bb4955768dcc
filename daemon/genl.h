/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqd's netlink client: the kernel's queue notifications (the "events"
 * group of the generic netlink family "kmq"), delivered into the daemon's
 * event loop. Requests (create, delete, get, dump) are in
 * tools/lib/kmqnl/kmqnl.h, shared with kmqctl.
 */
#ifndef KMQD_GENL_H
#define KMQD_GENL_H

struct kmqd_genl;

/*
 * A notification: @type is "queue-created", "queue-deleted", "queue-full",
 * "message-dead-lettered", "leases-expired" or "events-lost" (the socket
 * overflowed: resynchronise with kmqnl_dump(); @queue is then ""), @queue
 * the queue's name, @detail its other fields as "key=value ...". The
 * strings live until the callback returns.
 */
typedef void (*kmqd_genl_event_fn)(void *arg, const char *type,
				   const char *queue, const char *detail);

/*
 * kmqd_genl_open - join the kernel's "events" group with a non-blocking
 * socket; @on_event(@arg, ...) is called from kmqd_genl_process(). Returns
 * 0, -ENOENT when the family is absent (no kmq.ko: the shm backend serves
 * queues, and there are no kernel notifications), or -errno.
 */
int kmqd_genl_open(struct kmqd_genl **g, kmqd_genl_event_fn on_event,
		   void *arg);
/* kmqd_genl_fd - the socket to poll for POLLIN. */
int kmqd_genl_fd(struct kmqd_genl *g);
/* kmqd_genl_process - read pending notifications, calling on_event for
 * each, until none is left or a bounded number of reads was made (then the
 * fd stays readable: poll again). Never blocks. */
void kmqd_genl_process(struct kmqd_genl *g);
/* kmqd_genl_close - leave the group and free @g; NULL is fine. */
void kmqd_genl_close(struct kmqd_genl *g);

#endif /* KMQD_GENL_H */
