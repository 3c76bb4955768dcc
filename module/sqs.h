/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SQS semantics (the uapi header's "SQS semantics"): queue policy, leases,
 * visibility deadlines, dead-letter moves, delays, retention, purge, move.
 */
#ifndef _KMQ_SQS_H
#define _KMQ_SQS_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <uapi/linux/kmq.h>

struct kmq_client;
struct kmq_queue;
struct kmq_sqs;

/*
 * What every queue carries for SQS semantics, embedded in struct
 * kmq_queue: the policy and counters. The per-slot lease state, the
 * deadline tree, the timer and FIFO groups are allocated on first use
 * (struct kmq_sqs), so a plain queue pays nothing for them.
 */
struct kmq_sqs_queue {
	struct mutex lock;		/* policy, st and all it holds */
	struct kmq_policy policy;	/* name[] unused; dlq[] as set */
	bool fifo;			/* created FIFO: fixed for life */
	struct kmq_sqs *st;		/* NULL until first use */
	/* kmq_info counters, read without the lock. */
	atomic64_t leased, delayed, queued;
	atomic64_t lease_expired, dead_lettered, dlq_failed, expired;
	atomic64_t deduplicated;
};

int kmq_sqs_init(void);
/* Stops the retention sweep. Before the registry lets its queues go. */
void kmq_sqs_stop(void);
/* After every queue is freed. */
void kmq_sqs_uninit(void);

/* kmq_sqs_queue_init - default policy of a new queue @q; @fifo as created. */
void kmq_sqs_queue_init(struct kmq_queue *q, bool fifo);
/* kmq_sqs_queue_uninit - stop @q's timer and work and free its SQS state.
 * Called by the last reference, so nothing else can use @q. Sleeps. */
void kmq_sqs_queue_uninit(struct kmq_queue *q);
/* kmq_sqs_kernel_held - does the kernel hold slot @idx of @q (leased,
 * delayed, queued, or a push pending)? Lockless: for crash repair, which
 * must never give back such a slot whatever its header says. */
bool kmq_sqs_kernel_held(struct kmq_queue *q, u32 idx);
/* kmq_sqs_info - fill the SQS counters of @info. Lockless. */
void kmq_sqs_info(struct kmq_queue *q, struct kmq_info *info);

/* Control fd ioctls: argument copied in and validated here. */
long kmq_sqs_get_policy(struct kmq_policy __user *uarg);
long kmq_sqs_set_policy(struct kmq_policy __user *uarg);
long kmq_sqs_purge(struct kmq_name __user *uarg);
long kmq_sqs_move(struct kmq_move __user *uarg);

/* Queue fd ioctls; @nonblock: the fd is O_NONBLOCK. */
long kmq_sqs_send(struct kmq_client *c, bool nonblock,
		  struct kmq_sqsio __user *uarg);
long kmq_sqs_recv(struct kmq_client *c, bool nonblock,
		  struct kmq_sqsio __user *uarg);
long kmq_sqs_delete(struct kmq_client *c, struct kmq_receipts __user *uarg);
long kmq_sqs_chvis(struct kmq_client *c, struct kmq_receipts __user *uarg);

/*
 * Netlink events, in process context (they may sleep and allocate with
 * GFP_KERNEL), sent as the generic netlink family's MSG_DEAD_LETTERED and
 * LEASES_EXPIRED notifications. kmq_sqs_note_dlq_move() runs under the source queue's
 * sqs.lock (once per message moved), so it must not take that lock or call
 * back into sqs.c; kmq_sqs_note_leases_expired() runs with no lock held,
 * once per pass of the deadline work that expired leases.
 */
void kmq_sqs_note_dlq_move(struct kmq_queue *q, const char *dlq, u64 id,
			   u32 receive_count);
void kmq_sqs_note_leases_expired(struct kmq_queue *q, u64 count);

/* ---- shared with fifo.c ------------------------------------------------ */

#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/rbtree.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#define KMQ_SQS_NONE	U32_MAX		/* no slot */
/* Receipt handles: generation << 20 | slot. */
#define KMQ_RECEIPT_SHIFT	20
#define KMQ_RECEIPT_IDX		((1ULL << KMQ_RECEIPT_SHIFT) - 1)

/* Kernel-private state of a slot (struct kmq_sqs_slot.state). */
enum {
	KMQ_LS_NONE = 0,		/* not held by the kernel */
	KMQ_LS_LEASED = KMQ_SLOT_LEASED,
	KMQ_LS_DELAYED = KMQ_SLOT_DELAYED,
	KMQ_LS_QUEUED = KMQ_SLOT_QUEUED,
	KMQ_LS_PUSH_READY = 16,		/* push blocked by a stalled popper */
	KMQ_LS_PUSH_FREE,
};

struct kmq_fifo_group;

/* One per slot, in struct kmq_sqs.slots[]. */
struct kmq_sqs_slot {
	struct rb_node node;		/* deadlines, while in the tree */
	u64 deadline;			/* CLOCK_MONOTONIC ns */
	u64 first_receive_ns;
	u64 id;				/* message id of the last lease */
	u64 seq;			/* FIFO sequence number */
	struct kmq_fifo_group *group;	/* FIFO: its group */
	u32 next;			/* FIFO: next in its group */
	u32 gen;			/* lease generation, 1.. */
	u32 receive_count;
	u8 state;			/* KMQ_LS_* */
	bool requeued;			/* came back from a lease as id */
};

/* What a queue allocates on first SQS use. */
struct kmq_sqs {
	struct kmq_queue *q;
	struct kmq_sqs_slot *slots;	/* capacity entries */
	struct rb_root_cached deadlines;
	struct hrtimer timer;		/* at or before the earliest deadline */
	u64 armed;			/* the timer's expiry as last started;
					 * 0: fired (or never started) */
	struct work_struct work;	/* serves the due deadlines */
	bool dying;			/* rearm nothing */
	struct kmq_fifo *fifo;		/* FIFO queues only */
};

/* What one locked section did, acted on after the unlock. */
struct kmq_sqs_ctx {
	bool to_ready, to_free;		/* pushed: wake that side */
	u64 corrupt;
	u64 leases_expired;
	struct kmq_queue *dlq;		/* looked up once, put at the end */
	bool dlq_looked;
};

/*
 * The clock readings of one SQS call, shared by every message of its batch.
 * Deadlines (leases, delays) and retention are whole seconds, so they run
 * on the coarse clocks: the time of the last tick, read from memory, where
 * a clocksource read can cost microseconds (an emulated hpet) and costs
 * tens of nanoseconds at best. Only a first receive time reads the fine
 * clock, once per call, when the coarse one would put it before the
 * message's sent time (a message sent within the current tick).
 */
struct kmq_sqs_now {
	u64 mono;			/* ktime_get_coarse_ns() */
	u64 real;			/* ktime_get_coarse_real_ns() */
	u64 fine;			/* ktime_get_real_ns() once read, else 0 */
};

static inline void kmq_sqs_now(struct kmq_sqs_now *now)
{
	now->mono = ktime_get_coarse_ns();
	now->real = ktime_get_coarse_real_ns();
	now->fine = 0;
}

/* The deadline @s seconds after coarse monotonic time @mono. The coarse
 * clock lags by up to a tick: one more tick, so that no lease or delay
 * ends before its time (it may end up to about two ticks late). */
static inline u64 kmq_sqs_deadline(u64 mono, u32 s)
{
	return mono + TICK_NSEC + (u64)s * NSEC_PER_SEC;
}

struct kmq_sqs *kmq_sqs_state(struct kmq_queue *q);
/* The same without sqs.lock held: it is taken only to allocate. */
struct kmq_sqs *kmq_sqs_state_get(struct kmq_queue *q);
void kmq_sqs_push(struct kmq_queue *q, u32 idx, bool ready,
		  struct kmq_sqs_ctx *ctx);
void kmq_sqs_delay(struct kmq_queue *q, u32 idx, u32 delay_s);
void kmq_sqs_lease(struct kmq_queue *q, u32 idx, u32 vis,
		   struct kmq_sqsmsg *m, struct kmq_sqs_now *now);
int kmq_sqs_copy_out(struct kmq_queue *q, u32 idx, u32 len, u32 alen,
		     struct kmq_sqsmsg *m);
int kmq_sqs_fill(struct kmq_queue *q, u32 idx, const struct kmq_sqsmsg *m,
		 const u8 *abuf, u64 id);
int kmq_sqs_wait(struct kmq_queue *q, bool block, ktime_t deadline, u32 *flag,
		 int (*try)(struct kmq_queue *q, void *arg), void *arg);
void kmq_sqs_ctx_end(struct kmq_queue *q, struct kmq_sqs_ctx *ctx);
/* Leased @idx is due now (@expiry: by its deadline, else made visible). */
void kmq_sqs_due(struct kmq_queue *q, u32 idx, bool expiry,
		 struct kmq_sqs_ctx *ctx);
/* Delete leased @idx, as KMQ_IOC_SQS_DELETE does. */
void kmq_sqs_settle_delete(struct kmq_queue *q, u32 idx,
			   struct kmq_sqs_ctx *ctx);
bool kmq_sqs_too_old(struct kmq_queue *q, struct kmq_slot *s, u64 now);

#endif /* _KMQ_SQS_H */
