/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The queue object: trusted geometry, the shared memory (a shmem file whose
 * pages are pinned and vmap()ed), client ids, waiters and counters.
 */
#ifndef _KMQ_QUEUE_H
#define _KMQ_QUEUE_H

#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <kmq/ring.h>

#include "sqs.h"
#include "trace.h"

#define KMQ_FEATURES	(KMQ_FEAT_RINGS | KMQ_FEAT_COPY | KMQ_FEAT_MMAP | \
			 KMQ_FEAT_REPAIR | KMQ_FEAT_LEASES | KMQ_FEAT_DELAY | \
			 KMQ_FEAT_FIFO)

struct kmq_queue {
	struct kref ref;
	struct hlist_node hnode;	/* registry: by name */
	struct list_head lnode;		/* registry: in creation order */
	char name[KMQ_NAME_LEN];
	u32 type;
	u32 mode;
	kuid_t uid;
	kgid_t gid;
	u64 created_ns;

	struct kmq_layout layout;	/* the kernel's copy: never read back */
	struct kmq_view view;		/* built from layout, immutable */
	struct file *shm;
	struct page **pages;
	unsigned long nr_pages;
	void *base;

	struct ida ids;			/* client ids 1..KMQ_CLIENT_MAX */
	u32 next_id;			/* where the cyclic id search starts */
	atomic64_t seq;			/* copy-path message ids */
	atomic_t clients;		/* fds not released; changed under
					 * repair_lock */
	wait_queue_head_t wq;		/* readers and writers, poll too */
	struct mutex repair_lock;
	unsigned long *repair_map;	/* cap bits, under repair_lock */
	struct list_head orphans;	/* released clients with slots not
					 * back yet, under repair_lock */
	struct delayed_work repair_work;	/* repairs orphans */
	unsigned int repair_delay_ms;	/* backoff, under repair_lock */
	struct list_head repair_node;	/* repair.c's list while orphans */
	atomic64_t repaired;
	atomic64_t corrupt;

	u64 reg_id;			/* registry: creation order, from 1 */
	unsigned long full_next;	/* netlink: jiffies of the next
					 * QUEUE_FULL event allowed */
	atomic_t full_suppressed;	/* netlink: QUEUE_FULL left out */
	struct kmq_sqs_queue sqs;	/* SQS semantics (sqs.h) */
};

int kmq_queue_init(void);
void kmq_queue_uninit(void);

/* kmq_queue_fifo_name - does @name end in ".fifo" (a FIFO queue's)? */
bool kmq_queue_fifo_name(const char *name);

/*
 * kmq_queue_create - allocate and format a queue laid out as @l, owned by
 * the caller's fsuid/fsgid with permission bits @mode. The pages are
 * allocated now, charged to the caller's memory cgroup, without invoking the
 * OOM killer. The caller has charged l->size to the owner with the registry;
 * on success the queue owns that charge and gives it back when freed, on
 * failure (ERR_PTR) the caller still owns it. Returns the queue with one
 * reference. A name ending in ".fifo" makes a FIFO queue.
 */
struct kmq_queue *kmq_queue_create(const char *name, const struct kmq_layout *l,
				   u32 mode);

static inline struct kmq_queue *kmq_queue_get(struct kmq_queue *q)
{
	kref_get(&q->ref);
	return q;
}

/* kmq_queue_put - drop a reference; the last one frees the queue. May
 * sleep; never call it with the registry lock held. */
void kmq_queue_put(struct kmq_queue *q);

/* kmq_queue_same_geometry - would creating @l of @type give this queue? */
bool kmq_queue_same_geometry(const struct kmq_queue *q, u32 type,
			     const struct kmq_layout *l);

/*
 * kmq_queue_permission - may the caller open @q with KMQ_OPEN_* @flags?
 * SEND needs write, RECV needs read, MAP needs both; owner, group, other
 * bits as for files; CAP_DAC_OVERRIDE bypasses. Returns 0 or -EACCES.
 */
int kmq_queue_permission(const struct kmq_queue *q, u32 flags);

/* kmq_queue_info - fill @info (zeroed first) with what @q is and does. */
void kmq_queue_info(struct kmq_queue *q, struct kmq_info *info);

/*
 * kmq_queue_take - pop @ring of @q for client @me and record the slot as
 * held in @state. Returns 0 with *@idx, -EAGAIN (empty), -EIO (damaged).
 * Never sleeps: usable inside a wait_event() condition.
 */
int kmq_queue_take(struct kmq_queue *q, struct kmq_ring *ring, u32 me,
		   u32 state, u32 *idx);

/*
 * kmq_queue_take_fit - pop the ready ring of @q for client @me, as
 * kmq_queue_take(), but only if the message at the head has at most @room
 * body bytes: else it stays where it is, first in line, and the call returns
 * -EMSGSIZE with its length in *@need (kmq_take_fit() of kmq/ring.h, which
 * libkmq's mapped receive uses too). Never sleeps.
 */
int kmq_queue_take_fit(struct kmq_queue *q, u32 me, u32 room, u32 *idx,
		       u32 *need);

/*
 * kmq_queue_client_id - allocate a client id of @q, cyclically: an id
 * given back is not handed out again before the others have been, so
 * message ids made of (client id << 40 | the client's sequence) stay
 * unique across reopens. Returns the id or -EMFILE / -ENOMEM.
 */
int kmq_queue_client_id(struct kmq_queue *q);

/*
 * kmq_queue_put_slot - push held slot @idx onto @ring in @state, waiting a
 * bounded time (it may sleep) for a cell still held by a popper of the
 * previous lap. Returns 0, -EBUSY (the caller still holds the slot) or -EIO.
 */
int kmq_queue_put_slot(struct kmq_queue *q, struct kmq_ring *ring, u32 idx,
		       u32 state);

/* kmq_queue_ring_ready - does @ring show an entry to pop? Helps a lagging
 * head along; a hint, as another popper may take it first. */
bool kmq_queue_ring_ready(struct kmq_ring *ring);

/* kmq_queue_wake - wake sleepers and pollers of @q for @events. */
static inline void kmq_queue_wake(struct kmq_queue *q, __poll_t events)
{
	trace_kmq_wake(q->name, (__force u32)events);
	wake_up_interruptible_poll(&q->wq, events);
}

/* Totals since load, for the unload accounting line. */
void kmq_queue_stats(u64 *queues_created, u64 *queues_destroyed,
		     u64 *slots_created, u64 *slots_destroyed);

#endif /* _KMQ_QUEUE_H */
