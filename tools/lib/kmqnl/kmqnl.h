/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqnl: the user-space side of the generic netlink family "kmq" (libnl-genl),
 * shared by kmqctl, kmqd and the tests: requests that answer with struct
 * kmq_info, and notifications of the "events" group. Functions return 0 (or
 * a count) or a negative errno; after a refused request kmqnl_errmsg() says
 * why, in the kernel's words (extended ack) where it gave some.
 */
#ifndef KMQNL_H
#define KMQNL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kmq.h>

struct kmqnl;
struct nl_msg;

/*
 * kmqnl_open - a request socket for the family. -ENOENT when the family is
 * not registered (kmq.ko not loaded, or too old), else 0 or -errno.
 * kmqnl_close - close it; NULL is fine.
 */
int kmqnl_open(struct kmqnl **nl);
void kmqnl_close(struct kmqnl *nl);

/* kmqnl_errmsg - why the last request failed: the extended ack message,
 * an explanation for the core's refusals, or "" when none is known. */
const char *kmqnl_errmsg(const struct kmqnl *nl);

/* kmqnl_create - KMQ_GENL_CMD_CREATE; @excl sets KMQ_CREATE_EXCL. */
int kmqnl_create(struct kmqnl *nl, const char *name, uint32_t capacity,
		 uint32_t max_msg_size, uint32_t mode, bool excl);
/* kmqnl_delete - KMQ_GENL_CMD_DELETE. */
int kmqnl_delete(struct kmqnl *nl, const char *name);
/* kmqnl_get - KMQ_GENL_CMD_GET of @name into *@info. */
int kmqnl_get(struct kmqnl *nl, const char *name, struct kmq_info *info);
/*
 * kmqnl_dump - every queue (whose name starts with @prefix, unless it is
 * NULL or ""), in creation order: @fn is called for each; a nonzero return
 * stops the calls (the dump is still read to its end) and is returned.
 */
int kmqnl_dump(struct kmqnl *nl, const char *prefix,
	       int (*fn)(const struct kmq_info *info, void *arg), void *arg);

/*
 * Raw requests, for tests and new commands. kmqnl_msg - a message for @cmd
 * with NLM_F_REQUEST | @flags (NLM_F_ACK is added unless @flags has
 * NLM_F_DUMP); add attributes with libnl's nla_put_*(). kmqnl_request -
 * send it (it is freed), call @reply for every reply message, and wait for
 * the ack, the error or the end of the dump. Returns 0, the request's
 * -errno, or @reply's first nonzero return.
 */
struct nl_msg *kmqnl_msg(struct kmqnl *nl, uint8_t cmd, int flags);
int kmqnl_request(struct kmqnl *nl, struct nl_msg *msg,
		  int (*reply)(struct nl_msg *msg, void *arg), void *arg);
/* kmqnl_parse_info - a GET reply (or dump part) into *@info (zeroed
 * first). -EPROTO when it is not one. */
int kmqnl_parse_info(struct nl_msg *msg, struct kmq_info *info);

/* ---- notifications ---- */

/* One notification; fields its type does not carry are zero. */
struct kmqnl_event {
	uint32_t type;			/* KMQ_GENL_EVENT_* */
	char name[KMQ_NAME_LEN];	/* the queue */
	uint32_t uid, gid, mode, capacity, max_msg_size;
	uint32_t suppressed;		/* QUEUE_FULL */
	uint64_t msg_id;		/* MSG_DEAD_LETTERED */
	uint32_t receive_count;		/* MSG_DEAD_LETTERED */
	char dlq_name[KMQ_NAME_LEN];	/* MSG_DEAD_LETTERED */
	uint64_t count;			/* LEASES_EXPIRED */
};

/* kmqnl_events_open - a socket joined to the "events" group, with
 * O_NONBLOCK when @nonblock. -ENOENT when the family is absent. */
int kmqnl_events_open(struct kmqnl **nl, bool nonblock);
/* kmqnl_fd - the socket, to poll for POLLIN. */
int kmqnl_fd(const struct kmqnl *nl);
/*
 * kmqnl_events_read - receive once (waiting unless the socket is
 * non-blocking) and call @fn for each notification read. Returns how many
 * messages were read, -EAGAIN when none was pending, -ENOBUFS when the
 * socket overflowed and notifications were lost (resynchronise with a
 * dump; the socket keeps working), or -errno.
 */
int kmqnl_events_read(struct kmqnl *nl,
		      void (*fn)(const struct kmqnl_event *ev, void *arg),
		      void *arg);
/* kmqnl_event_type - "queue-created", "queue-deleted", "queue-full",
 * "message-dead-lettered", "leases-expired", or "unknown". */
const char *kmqnl_event_type(uint32_t type);
/* kmqnl_event_detail - the event's other fields as "key=value ..." in
 * @buf; returns @buf. */
char *kmqnl_event_detail(const struct kmqnl_event *ev, char *buf,
			 size_t len);

#endif /* KMQNL_H */
