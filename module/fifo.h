/* SPDX-License-Identifier: GPL-2.0 */
/* FIFO queues: message groups in send order, and deduplication. */
#ifndef _KMQ_FIFO_H
#define _KMQ_FIFO_H

#include <linux/ktime.h>
#include <linux/types.h>
#include <uapi/linux/kmq.h>

struct kmq_client;
struct kmq_queue;
struct kmq_sqs;
struct kmq_sqs_ctx;

/* kmq_fifo_state_init / _free - the FIFO part of @st (a FIFO queue's). */
void kmq_fifo_state_init(struct kmq_sqs *st);
void kmq_fifo_state_free(struct kmq_sqs *st);

/*
 * kmq_fifo_send_one - send @m (checked, its attributes in @abuf) to the
 * FIFO queue of @c: group and deduplication rules. Never waits for a free
 * slot (-EAGAIN). Returns the message's status; fills m->id, m->seq and
 * KMQ_SQSMSG_DUPLICATE.
 */
int kmq_fifo_send_one(struct kmq_client *c, struct kmq_sqsmsg *m,
		      const u8 *abuf);

/*
 * kmq_fifo_recv - lease up to @count messages of one ready group into
 * @msgs, in order, for @vis seconds; waits for a ready group as SQS_RECV
 * does. *@done is how many. Returns 0 or -errno (when none).
 */
int kmq_fifo_recv(struct kmq_client *c, struct kmq_sqsmsg *msgs, u32 count,
		  u32 vis, bool block, ktime_t deadline, u32 *done);

/* kmq_fifo_ready - does FIFO queue @q have a group ready to receive? A
 * hint for poll(), lockless. */
bool kmq_fifo_ready(struct kmq_queue *q);

/* Plain KMQ_IOC_RECV on a FIFO queue: receive and delete. */
long kmq_fifo_plain_recv(struct kmq_client *c, bool nonblock,
			 struct kmq_io __user *uarg);

/* Under sqs.lock, for sqs.c: a leased (@lease) or delayed message @idx
 * leaves its group for good (deleted, dropped, dead-lettered) ... */
void kmq_fifo_gone(struct kmq_queue *q, u32 idx, bool lease,
		   struct kmq_sqs_ctx *ctx);
/* ... or goes back into it, in sequence order. */
void kmq_fifo_requeue(struct kmq_queue *q, u32 idx, bool lease,
		      struct kmq_sqs_ctx *ctx);
/* Every message was just dropped by a purge: forget every group. */
void kmq_fifo_purged(struct kmq_queue *q);

#endif /* _KMQ_FIFO_H */
