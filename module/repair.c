// SPDX-License-Identifier: GPL-2.0
/*
 * Crash repair (the uapi header's "Crash repair"): when a queue fd is gone,
 * finish the pops its client left TAKEN and give back every slot it held, so
 * a client dying at any instant never stalls or shrinks the queue. All of it
 * runs on memory that mappers may have scribbled on: every loop is bounded by
 * the trusted capacity and every index is checked.
 *
 * Giving a slot back is a push, and a push must wait while the ring's tail
 * cell is still TAKEN by a popper of the previous lap, which may be stopped
 * for as long as it likes. So release makes one attempt and, if slots are
 * left, makes its client an orphan (q->orphans) that deferred work retries
 * with backoff until every slot is back. An orphan keeps its client id, so
 * no new client is given that id and has its live slots taken for the
 * orphan's, and its reference on the queue; both go when its repair is done.
 *
 * Once no client is left (q->clients is 0 under repair_lock) no cell can be
 * TAKEN legitimately: every client's own release finished its pops, and no
 * new one can act before open counts it under repair_lock. A cell still
 * blocking a push then is damage, released and counted. So the release of
 * the last client, and module exit, always see every repair through.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "qfd.h"
#include "queue.h"
#include "repair.h"

/* Backoff of deferred repair: 1 ms after a release, doubling to ~1 s while
 * nothing moves. A stalled popper's release of its cell wakes nobody. */
#define KMQ_REPAIR_DELAY_MIN_MS	1U
#define KMQ_REPAIR_DELAY_MAX_MS	1024U

static struct workqueue_struct *kmq_repair_wq;
/* Queues with orphans, so that module exit can hurry their repair. */
static LIST_HEAD(kmq_repair_queues);
static DEFINE_SPINLOCK(kmq_repair_queues_lock);
static DECLARE_WAIT_QUEUE_HEAD(kmq_repair_idle);

/* One repair pass: how it may push, and what it did. */
struct kmq_repair_ctx {
	bool spin;	/* wait out a preempted popper's cell (kmq_put) */
	bool force;	/* no client left: a blocking cell is damage */
	u64 repaired;
	u64 corrupt;
};

/* Step 1: finish every pop of @ring that client @me left TAKEN. */
static void kmq_repair_cells(struct kmq_queue *q, struct kmq_ring *r, u32 me,
			     u32 state, u64 *corrupt)
{
	u32 i;

	for (i = 0; i < r->cap; i++) {
		u64 *cell = &r->cells[i];
		u64 c = kmq_load_acq(cell);
		u64 h, p;
		u32 idx;

		if (kmq_cell_kind(c) != KMQ_CELL_TAKEN ||
		    kmq_cell_owner(c) != me)
			continue;
		/*
		 * The cell was popped at a position p with head - cap <= p <=
		 * head (the head cannot pass p + cap while the cell is TAKEN),
		 * p = i mod cap, and p's low 22 bits are the cell's tag. The
		 * client is gone, so the cell cannot change under us.
		 */
		h = kmq_load_acq(&r->ctl->head);
		p = h - ((h - i) & r->mask);
		if (!kmq_cell_is_taken(c, p)) {
			p -= r->cap;
			if (p + r->cap != h || !kmq_cell_is_taken(c, p)) {
				(*corrupt)++;
				continue;
			}
		}
		idx = kmq_cell_idx(c);
		if (idx < r->cap) {
			struct kmq_slot *s = kmq_slot_at(&q->view, idx);

			kmq_store(&s->owner, me);
			kmq_store(&s->state, state);
		} else {
			(*corrupt)++;
		}
		/* Full barrier: the slot header is written before the cell
		 * can be reused. */
		if (kmq_cas(cell, c, kmq_cell_empty(p + r->cap)))
			kmq_cas(&r->ctl->head, p, p + 1);
		else
			(*corrupt)++;
		if (!(i & 4095))
			cond_resched();
	}
}

/* Mark in @map every slot that a FULL or TAKEN cell of @r names. */
static void kmq_repair_mark(struct kmq_ring *r, unsigned long *map)
{
	u32 i;

	for (i = 0; i < r->cap; i++) {
		u64 c = kmq_load_acq(&r->cells[i]);
		u32 kind = kmq_cell_kind(c), idx = kmq_cell_idx(c);

		if ((kind == KMQ_CELL_FULL || kind == KMQ_CELL_TAKEN) &&
		    idx < r->cap)
			__set_bit(idx, map);
	}
}

/*
 * Push slot @idx onto @r in @state. A tail cell still TAKEN by a popper of
 * the previous lap gives -EBUSY (after spinning on it when ctx->spin), but
 * with ctx->force nobody can ever release it: it is released here, counted,
 * and the push tried again. Nothing else writes the ring then, so one such
 * release is enough; cap + 1 tries bound it anyway.
 */
static int kmq_repair_put(struct kmq_queue *q, struct kmq_ring *r, u32 idx,
			  u32 state, struct kmq_repair_ctx *ctx)
{
	u32 tries;
	int err;

	if (ctx->spin && !ctx->force)
		return kmq_put(&q->view, r, idx, state, &ctx->corrupt);
	kmq_store(&kmq_slot_at(&q->view, idx)->state, state);
	for (tries = 0; tries <= r->cap; tries++) {
		u64 t, c, *cell;

		err = kmq_ring_push(r, idx, &ctx->corrupt);
		if (err != -EBUSY || !ctx->force)
			return err;
		t = kmq_load_acq(&r->ctl->tail);
		cell = &r->cells[t & r->mask];
		c = kmq_load_acq(cell);
		if (kmq_cell_is_taken(c, t - r->cap) &&
		    kmq_cas(cell, c, kmq_cell_empty(t)))
			ctx->corrupt++;
	}
	return -EIO;
}

/* What pushing into one ring gave in this pass. */
struct kmq_repair_ring {
	struct kmq_ring *ring;
	int err;		/* 0, or the first -EBUSY / -EIO: stop trying */
};

/*
 * Step 2: give back every slot whose header names @me and that no cell
 * names. After a ring's first failed push no more are tried in this pass
 * (each try may spin KMQ_RING_SPINS times): those slots stay held by @me for
 * the next pass (-EBUSY) or are counted corrupt (-EIO: the ring is damaged).
 * Returns how many wait.
 */
static u32 kmq_repair_slots(struct kmq_queue *q, u32 me,
			    struct kmq_repair_ctx *ctx)
{
	struct kmq_view *v = &q->view;
	struct kmq_repair_ring to_free = { &v->free, 0 };
	struct kmq_repair_ring to_ready = { &v->ready, 0 };
	u32 cap = q->layout.capacity, busy = 0, j;

	bitmap_zero(q->repair_map, cap);
	kmq_repair_mark(&v->free, q->repair_map);
	kmq_repair_mark(&v->ready, q->repair_map);
	/* Cells read before slot owners: a slot popped since our scan has
	 * had its owner rewritten by its popper before the cell was freed. */
	smp_mb();

	for (j = 0; j < cap; j++) {
		struct kmq_slot *s = kmq_slot_at(v, j);
		struct kmq_repair_ring *dst;
		u32 state, to;
		bool bad = false;
		int err;

		if (!(j & 4095))
			cond_resched();
		if (kmq_load(&s->owner) != me || test_bit(j, q->repair_map))
			continue;
		/* Held by the kernel (sqs.c: owner 0): a client id here is a
		 * scribble, and pushing the slot would put it in two places. */
		if (kmq_sqs_kernel_held(q, j)) {
			ctx->corrupt++;
			continue;
		}
		state = kmq_load(&s->state);
		switch (state) {
		case KMQ_SLOT_CLAIMED:
		case KMQ_SLOT_FREE:
			dst = &to_free;
			to = KMQ_SLOT_FREE;
			break;
		case KMQ_SLOT_READY:
		case KMQ_SLOT_BORROWED:
			dst = &to_ready;	/* delivered again */
			to = KMQ_SLOT_READY;
			break;
		default:
			bad = true;		/* no state we know: free it */
			dst = &to_free;
			to = KMQ_SLOT_FREE;
			break;
		}
		if (dst->err == -EBUSY) {
			busy++;
			continue;
		}
		if (dst->err) {
			ctx->corrupt++;
			continue;
		}
		kmq_store(&s->owner, 0);
		err = kmq_repair_put(q, dst->ring, j, to, ctx);
		if (err == -EBUSY) {
			kmq_store(&s->state, state);
			kmq_store(&s->owner, me);	/* next pass */
			busy++;
		} else if (err || bad) {
			ctx->corrupt++;
		} else {
			ctx->repaired++;
		}
		dst->err = err;
	}
	return busy;
}

/* Steps 1 and 2 for client @me. Returns how many of its slots still wait
 * for a ring cell. */
static u32 kmq_repair_pass(struct kmq_queue *q, u32 me,
			   struct kmq_repair_ctx *ctx)
{
	lockdep_assert_held(&q->repair_lock);
	kmq_repair_cells(q, &q->view.free, me, KMQ_SLOT_CLAIMED, &ctx->corrupt);
	kmq_repair_cells(q, &q->view.ready, me, KMQ_SLOT_BORROWED,
			 &ctx->corrupt);
	return kmq_repair_slots(q, me, ctx);
}

/* Count what a pass did and, if it moved slots, wake both sides. */
static void kmq_repair_done(struct kmq_queue *q,
			    const struct kmq_repair_ctx *ctx)
{
	if (ctx->repaired)
		atomic64_add(ctx->repaired, &q->repaired);
	if (ctx->corrupt)
		atomic64_add(ctx->corrupt, &q->corrupt);
	if (ctx->repaired || ctx->corrupt)
		kmq_queue_wake(q, EPOLLIN | EPOLLRDNORM | EPOLLOUT |
				  EPOLLWRNORM);
}

/* The end of a client: its id may be given out again; its reference on
 * the queue goes, maybe the last. */
static void kmq_repair_free_client(struct kmq_client *c)
{
	struct kmq_queue *q = c->q;

	ida_free(&q->ids, c->id);
	kfree(c);
	kmq_queue_put(q);
}

/*
 * The deferred repair of a queue's orphans. Queued only while there are
 * orphans (under repair_lock), whose references keep the queue alive; when
 * the last is done, a run queued meanwhile is cancelled, so none is left
 * pending on a queue its last orphan's reference may free. That free may be
 * done here, from the work itself: nothing touches the queue after it.
 */
static void kmq_repair_work(struct work_struct *work)
{
	struct kmq_queue *q = container_of(to_delayed_work(work),
					   struct kmq_queue, repair_work);
	struct kmq_repair_ctx ctx = { .spin = false };
	struct kmq_client *c, *tmp;
	LIST_HEAD(done);

	mutex_lock(&q->repair_lock);
	ctx.force = !atomic_read(&q->clients);
	list_for_each_entry_safe(c, tmp, &q->orphans, orphan)
		if (!kmq_repair_pass(q, c->id, &ctx))
			list_move_tail(&c->orphan, &done);
	kmq_repair_done(q, &ctx);
	if (list_empty(&q->orphans)) {
		spin_lock(&kmq_repair_queues_lock);
		list_del_init(&q->repair_node);
		spin_unlock(&kmq_repair_queues_lock);
		cancel_delayed_work(&q->repair_work);
		wake_up_all(&kmq_repair_idle);
	} else {
		if (ctx.repaired || !list_empty(&done))
			q->repair_delay_ms = KMQ_REPAIR_DELAY_MIN_MS;
		else
			q->repair_delay_ms = min(q->repair_delay_ms * 2,
						 KMQ_REPAIR_DELAY_MAX_MS);
		/* Unless a release queued it sooner meanwhile. */
		queue_delayed_work(kmq_repair_wq, &q->repair_work,
				   msecs_to_jiffies(q->repair_delay_ms));
	}
	mutex_unlock(&q->repair_lock);

	list_for_each_entry_safe(c, tmp, &done, orphan)
		kmq_repair_free_client(c);
}

void kmq_repair_release(struct kmq_client *c)
{
	struct kmq_queue *q = c->q;
	struct kmq_repair_ctx ctx = { .spin = true };
	u32 busy;

	mutex_lock(&q->repair_lock);
	/* Under repair_lock, before the pass: whoever sees no client left
	 * sees this client's pops finished. */
	atomic_dec(&q->clients);
	ctx.force = !atomic_read(&q->clients);
	busy = kmq_repair_pass(q, c->id, &ctx);
	if (busy) {
		pr_info_ratelimited("queue %s: client %u: %u slots wait for a ring cell a popper holds; repair goes on in the background\n",
				    q->name, c->id, busy);
		if (list_empty(&q->orphans)) {
			spin_lock(&kmq_repair_queues_lock);
			list_add_tail(&q->repair_node, &kmq_repair_queues);
			spin_unlock(&kmq_repair_queues_lock);
		}
		list_add_tail(&c->orphan, &q->orphans);
	}
	if (!list_empty(&q->orphans)) {
		/* This client's pops, just finished, may have held the cells
		 * the orphans wait for: look again now (a new orphan, after
		 * the first step of the backoff). */
		q->repair_delay_ms = KMQ_REPAIR_DELAY_MIN_MS;
		mod_delayed_work(kmq_repair_wq, &q->repair_work, busy ?
				 msecs_to_jiffies(q->repair_delay_ms) : 0);
	}
	kmq_repair_done(q, &ctx);
	mutex_unlock(&q->repair_lock);

	/* An orphan now belongs to the work, which may free it (and the
	 * queue) at any time after the unlock. */
	if (!busy)
		kmq_repair_free_client(c);
}

void kmq_repair_queue_init(struct kmq_queue *q)
{
	INIT_LIST_HEAD(&q->orphans);
	INIT_LIST_HEAD(&q->repair_node);
	INIT_DELAYED_WORK(&q->repair_work, kmq_repair_work);
	q->repair_delay_ms = KMQ_REPAIR_DELAY_MIN_MS;
}

int kmq_repair_init(void)
{
	kmq_repair_wq = alloc_workqueue("kmq_repair", WQ_UNBOUND, 0);
	return kmq_repair_wq ? 0 : -ENOMEM;
}

static bool kmq_repair_none_pending(void)
{
	bool none;

	spin_lock(&kmq_repair_queues_lock);
	none = list_empty(&kmq_repair_queues);
	spin_unlock(&kmq_repair_queues_lock);
	return none;
}

void kmq_repair_uninit(void)
{
	struct kmq_queue *q;

	/*
	 * No queue fd is open (each pins the module), so no client is left
	 * and each pending repair completes in its next run: run them now.
	 * Then wait for the last orphan to go, and destroy_workqueue() for the
	 * runs still returning (maybe freeing their queue) before this code
	 * goes away. No run is queued any more: none is without orphans.
	 */
	spin_lock(&kmq_repair_queues_lock);
	list_for_each_entry(q, &kmq_repair_queues, repair_node)
		mod_delayed_work(kmq_repair_wq, &q->repair_work, 0);
	spin_unlock(&kmq_repair_queues_lock);
	wait_event(kmq_repair_idle, kmq_repair_none_pending());
	destroy_workqueue(kmq_repair_wq);
}
