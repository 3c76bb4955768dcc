/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic netlink family "kmq": CREATE, DELETE, GET and its dump over
 * the registry, and the notifications of the "events" multicast group. The
 * family is specified in include/uapi/linux/kmq.h ("Generic netlink").
 */
#ifndef _KMQ_NETLINK_H
#define _KMQ_NETLINK_H

#include <linux/types.h>

struct kmq_queue;

/* Register the family; unregister it (waits for requests in flight). */
int kmq_nl_init(void);
void kmq_nl_uninit(void);

/*
 * Notifications. Each one is best effort: nothing is sent before
 * kmq_nl_init() or after kmq_nl_uninit(), and a failed allocation or a
 * listener with a full socket loses it (listeners resynchronise with a
 * dump). @q is only read: the caller keeps it alive for the call.
 */

/* Process context (they may sleep); the registry calls them under its
 * lock, so listeners see a name's creations and deletions in order. */
void kmq_nl_queue_created(struct kmq_queue *q);
void kmq_nl_queue_deleted(struct kmq_queue *q);

/* A sender found @q without a free slot. Any context (GFP_ATOMIC), never
 * sleeps; at most one event per queue per KMQ_GENL_FULL_INTERVAL_MS, the
 * ones left out are counted in the next. */
void kmq_nl_queue_full(struct kmq_queue *q);

/*
 * SQS semantics (sqs.c: dead-letter moves, lease expiry). Any context
 * (GFP_ATOMIC), never sleep. Call them after the state change is visible,
 * outside any lock that a netlink reader could need.
 *
 * kmq_nl_msg_dead_lettered - message @msg_id of @q, received
 * @receive_count times, was moved to the dead-letter queue @dlq_name.
 * kmq_nl_leases_expired - one expiry sweep of @q returned @count leased
 * messages to the ready ring (one event per sweep, not per message).
 */
void kmq_nl_msg_dead_lettered(struct kmq_queue *q, const char *dlq_name,
			      u64 msg_id, u32 receive_count);
void kmq_nl_leases_expired(struct kmq_queue *q, u64 count);

#endif /* _KMQ_NETLINK_H */
