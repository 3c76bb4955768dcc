/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue fd: one client of one queue, with its id, its rights, the
 * copying path (SEND/RECV), poll, mmap and crash repair on release.
 */
#ifndef _KMQ_QFD_H
#define _KMQ_QFD_H

#include <linux/list.h>
#include <linux/types.h>

struct kmq_queue;
struct kmq_sqsmsg;

/* kmq_client.sqs_busy: sqs_msgs is in use by an SQS_SEND or SQS_RECV. */
#define KMQ_CLIENT_SQS_BUSY	0

/*
 * One client of a queue: what a queue fd carries. It holds its client id
 * and a reference on the queue until crash repair has given back every
 * slot it held, which may be after its fd is released (see repair.h).
 */
struct kmq_client {
	struct kmq_queue *q;
	u32 id;
	u32 flags;		/* KMQ_OPEN_* */
	struct list_head orphan;	/* q->orphans while repair waits */
	/* SQS_SEND/SQS_RECV's message array (KMQ_SQS_BATCH_MAX entries),
	 * allocated on first use, freed at release; owned by whoever set
	 * the KMQ_CLIENT_SQS_BUSY bit of sqs_busy (sqs.c). */
	struct kmq_sqsmsg *sqs_msgs;
	unsigned long sqs_busy;
};

/*
 * kmq_qfd_open - open a new queue fd on @q with KMQ_OPEN_* @flags (already
 * validated and permission-checked by the caller). The fd takes its own
 * reference on @q and a new client id. Returns the fd or -errno.
 */
int kmq_qfd_open(struct kmq_queue *q, u32 flags);

/* kmq_client_next_id - a new copy-path message id of client @c. */
u64 kmq_client_next_id(struct kmq_client *c);

#endif /* _KMQ_QFD_H */
