// SPDX-License-Identifier: GPL-2.0
/*
 * Crash repair in kmqd (the uapi header's "Crash repair"), the user-space
 * twin of module/repair.c on the same ring primitives (include/kmq/ring.h):
 * when a client id's connection hangs up (close or death), finish the pops
 * it left TAKEN and give back every slot whose header names it. kmqd is
 * single-threaded, but the clients still race on the rings, so everything
 * goes through the ring protocol and everything read is checked. A push
 * that finds its cell held by a stalled popper is retried on a backoff
 * timer; the id stays reserved until every slot is back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kmqd.h"
#include "probes.h"

#define DELAY_MIN_MS	1U
#define DELAY_MAX_MS	1024U

/* Step 1: finish every pop of @r that client @me left TAKEN. */
static void repair_cells(struct kmq_view *v, struct kmq_ring *r, __u32 me,
			 __u32 state, __u64 *corrupt)
{
	__u32 i;

	for (i = 0; i < r->cap; i++) {
		__u64 *cell = &r->cells[i];
		__u64 c = kmq_load_acq(cell);
		__u64 h, p;
		__u32 idx;

		if (kmq_cell_kind(c) != KMQ_CELL_TAKEN || kmq_cell_owner(c) != me)
			continue;
		/* Popped at p, head - cap <= p <= head, p = i mod cap; the
		 * client is gone, so the cell cannot change under us. */
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
			struct kmq_slot *s = kmq_slot_at(v, idx);

			kmq_store(&s->owner, me);
			kmq_store(&s->state, state);
		} else {
			(*corrupt)++;
		}
		if (kmq_cas(cell, c, kmq_cell_empty(p + r->cap)))
			kmq_cas(&r->ctl->head, p, p + 1);
		else
			(*corrupt)++;
	}
}

static void mark(struct kmq_ring *r, unsigned char *map)
{
	__u32 i;

	for (i = 0; i < r->cap; i++) {
		__u64 c = kmq_load_acq(&r->cells[i]);
		__u32 kind = kmq_cell_kind(c), idx = kmq_cell_idx(c);

		if ((kind == KMQ_CELL_FULL || kind == KMQ_CELL_TAKEN) &&
		    idx < r->cap)
			map[idx / 8] |= (unsigned char)(1U << (idx % 8));
	}
}

/* put - push @idx onto @r in @state; with @force a tail cell that a popper
 * of the previous lap still holds is damage (nobody is left to release it):
 * release it, count it, try again. */
static int put(struct kmq_view *v, struct kmq_ring *r, __u32 idx, __u32 state,
	       bool force, __u64 *corrupt)
{
	__u32 tries;
	int err;

	if (!force)
		return kmq_put(v, r, idx, state, corrupt);
	kmq_store(&kmq_slot_at(v, idx)->state, state);
	for (tries = 0; tries <= r->cap; tries++) {
		__u64 t, c, *cell;

		err = kmq_ring_push(r, idx, corrupt);
		if (err != -EBUSY)
			return err;
		t = kmq_load_acq(&r->ctl->tail);
		cell = &r->cells[t & r->mask];
		c = kmq_load_acq(cell);
		if (kmq_cell_is_taken(c, t - r->cap) &&
		    kmq_cas(cell, c, kmq_cell_empty(t)))
			(*corrupt)++;
	}
	return -EIO;
}

unsigned int repair_client(struct kmq_view *v, struct sqs *st, uint32_t me,
			   bool force, __u64 *repaired, __u64 *corrupt)
{
	__u32 cap = v->free.cap, busy = 0, j;
	int err_free = 0, err_ready = 0;
	unsigned char *map;

	repair_cells(v, &v->free, me, KMQ_SLOT_CLAIMED, corrupt);
	repair_cells(v, &v->ready, me, KMQ_SLOT_BORROWED, corrupt);

	map = calloc(cap / 8 + 1, 1);
	if (!map)
		return cap;	/* try again later */
	mark(&v->free, map);
	mark(&v->ready, map);
	/* Cells before slot owners: a slot popped since the scan has had its
	 * owner rewritten by its popper before the cell was freed. */
	kmq_mb();
	for (j = 0; j < cap; j++) {
		struct kmq_slot *s = kmq_slot_at(v, j);
		struct kmq_ring *dst;
		__u32 state, to;
		int *derr, err;
		bool bad = false;

		if (kmq_load(&s->owner) != me || (map[j / 8] & (1U << (j % 8))))
			continue;
		/* Held by kmqd (sqs.c: owner 0): a client id here is a
		 * scribble, and pushing the slot would put it in two places. */
		if (sqs_held(st, j)) {
			(*corrupt)++;
			continue;
		}
		state = kmq_load(&s->state);
		switch (state) {
		case KMQ_SLOT_CLAIMED:
		case KMQ_SLOT_FREE:
			dst = &v->free, derr = &err_free, to = KMQ_SLOT_FREE;
			break;
		case KMQ_SLOT_READY:
		case KMQ_SLOT_BORROWED:
			dst = &v->ready, derr = &err_ready, to = KMQ_SLOT_READY;
			break;
		default:
			bad = true;
			dst = &v->free, derr = &err_free, to = KMQ_SLOT_FREE;
			break;
		}
		if (*derr == -EBUSY) {
			busy++;
			continue;
		}
		if (*derr) {
			(*corrupt)++;
			continue;
		}
		kmq_store(&s->owner, 0);
		err = put(v, dst, j, to, force, corrupt);
		if (err == -EBUSY) {
			kmq_store(&s->state, state);
			kmq_store(&s->owner, me);	/* next pass */
			busy++;
		} else if (err || bad) {
			(*corrupt)++;
		} else {
			(*repaired)++;
		}
		*derr = err;
	}
	free(map);
	return busy;
}

/* Is any client of @q other than orphans left (live, or detached)? */
static bool anyone_left(struct queue *q)
{
	unsigned int i, n;
	struct qclient *cl = queue_clients(q, &n);

	for (i = 0; i < n; i++)
		if (cl[i].state == QC_LIVE || cl[i].state == QC_DETACHED)
			return true;
	return false;
}

bool repair_orphan(struct kmqd *d, struct queue *q, struct qclient *qc)
{
	__u64 repaired = 0, corrupt = 0;
	unsigned int busy;
	char detail[128];
	uint32_t id = qc->id;
	pid_t pid = qc->pid;

	busy = repair_client(queue_view(q), queue_sqs(q), id, !anyone_left(q),
			     &repaired, &corrupt);
	queue_count(q, repaired, corrupt);
	if (repaired || corrupt)
		store_wake(q, KMQ_WAKE_READERS | KMQ_WAKE_WRITERS);
	if (repaired || corrupt || busy) {
		snprintf(detail, sizeof(detail),
			 "client %u (pid %d): %llu slots given back, %llu corrupt, %u waiting",
			 id, (int)pid, (unsigned long long)repaired,
			 (unsigned long long)corrupt, busy);
		kmqd_event_publish(d, "repair", queue_name(q), detail);
	}
	if (repaired)
		KMQD_PROBE2(repair, queue_name(q), (uint32_t)repaired);
	if (!busy)
		queue_client_done(q, qc);
	return busy;
}
