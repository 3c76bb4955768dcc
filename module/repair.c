// SPDX-License-Identifier: GPL-2.0
/*
 * Crash repair (the uapi header's "Crash repair"): when a queue fd is gone,
 * finish the pops its client left TAKEN and give back every slot it held, so
 * a client dying at any instant never stalls or shrinks the queue. All of it
 * runs on memory that mappers may have scribbled on: every loop is bounded by
 * the trusted capacity and every index is checked.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/mutex.h>
#include <linux/sched.h>

#include "queue.h"
#include "repair.h"

/* Rounds of repair when a ring cell the repair must push into stays held by
 * another popper (maybe a client whose own repair waits for our lock). */
#define KMQ_REPAIR_ROUNDS	50

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

/* What pushing into one ring gave in this round. */
struct kmq_repair_ring {
	struct kmq_ring *ring;
	int err;		/* 0, or the first -EBUSY / -EIO: stop trying */
};

/*
 * Step 2: give back every slot whose header names @me and that no cell
 * names. After a ring's first failed push no more are tried in this round
 * (each try may spin KMQ_RING_SPINS times): those slots wait for the next
 * round (-EBUSY) or are counted corrupt (-EIO). Returns how many wait.
 */
static u32 kmq_repair_slots(struct kmq_queue *q, u32 me, u64 *repaired,
			    u64 *corrupt)
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
			(*corrupt)++;
			continue;
		}
		kmq_store(&s->owner, 0);
		err = kmq_put(v, dst->ring, j, to, corrupt);
		if (err == -EBUSY) {
			kmq_store(&s->state, state);
			kmq_store(&s->owner, me);	/* next round */
			busy++;
		} else if (err || bad) {
			(*corrupt)++;
		} else {
			(*repaired)++;
		}
		dst->err = err;
	}
	return busy;
}

void kmq_repair_client(struct kmq_queue *q, u32 me)
{
	u64 repaired = 0, corrupt = 0;
	unsigned int round;
	u32 busy = 0;

	for (round = 0; round < KMQ_REPAIR_ROUNDS; round++) {
		if (round)
			msleep(20);
		mutex_lock(&q->repair_lock);
		kmq_repair_cells(q, &q->view.free, me, KMQ_SLOT_CLAIMED,
				 &corrupt);
		kmq_repair_cells(q, &q->view.ready, me, KMQ_SLOT_BORROWED,
				 &corrupt);
		busy = kmq_repair_slots(q, me, &repaired, &corrupt);
		mutex_unlock(&q->repair_lock);
		if (!busy)
			break;
	}
	if (busy) {
		pr_warn_ratelimited("queue %s: client %u: %u slots not given back: a ring cell stays held\n",
				    q->name, me, busy);
		corrupt += busy;
	}
	if (repaired)
		atomic64_add(repaired, &q->repaired);
	if (corrupt)
		atomic64_add(corrupt, &q->corrupt);
	kmq_queue_wake(q, EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM);
}
