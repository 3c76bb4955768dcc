// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The ring protocol of include/kmq/ring.h on plain memory: cell encodings,
 * push/pop with wrap-around, empty and full, helping a lagging head or
 * tail, corrupt cells counted and skipped, the need-wakeup flags, and an
 * MPMC stress proving exactly-once delivery and per-producer order.
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <kmq/ring.h>

struct qmem {
	void *base;
	struct kmq_layout l;
	struct kmq_view v;
	__u64 corrupt;
};

static void q_new(struct qmem *q, __u32 capacity, __u32 msg_size)
{
	ck_assert_int_eq(kmq_layout_compute(&q->l, capacity, msg_size), 0);
	q->base = aligned_alloc(4096, q->l.size);
	ck_assert_ptr_nonnull(q->base);
	memset(q->base, 0, q->l.size);
	kmq_layout_init(q->base, &q->l, KMQ_FEAT_RINGS, 1);
	kmq_view_init(&q->v, q->base, &q->l);
	q->corrupt = 0;
}

static void q_free(struct qmem *q)
{
	free(q->base);
}

START_TEST(cell_encodings)
{
	__u64 c;

	c = kmq_cell_empty(5);
	ck_assert_uint_eq(c, 5ULL << 2);
	ck_assert_uint_eq(kmq_cell_kind(c), KMQ_CELL_EMPTY);
	ck_assert(kmq_cell_is_empty(c, 5));
	ck_assert(!kmq_cell_is_empty(c, 6));
	ck_assert(!kmq_cell_is_full(c, 5));

	c = kmq_cell_full(7, 123);
	ck_assert_uint_eq(c, (7ULL << 22) | (123ULL << 2) | 1);
	ck_assert_uint_eq(kmq_cell_kind(c), KMQ_CELL_FULL);
	ck_assert_uint_eq(kmq_cell_idx(c), 123);
	ck_assert(kmq_cell_is_full(c, 7));
	ck_assert(!kmq_cell_is_full(c, 8));
	ck_assert(!kmq_cell_is_taken(c, 7));
	/* positions are truncated to 42 bits in a FULL cell */
	ck_assert(kmq_cell_is_full(c, 7 + (1ULL << 42)));

	c = kmq_cell_taken(9, KMQ_CLIENT_MAX, KMQ_CELL_IDX_MASK);
	ck_assert_uint_eq(kmq_cell_kind(c), KMQ_CELL_TAKEN);
	ck_assert_uint_eq(kmq_cell_owner(c), KMQ_CLIENT_MAX);
	ck_assert_uint_eq(kmq_cell_idx(c), KMQ_CELL_IDX_MASK);
	ck_assert(kmq_cell_is_taken(c, 9));
	ck_assert(kmq_cell_is_taken(c, 9 + (1ULL << 22)));
	ck_assert(!kmq_cell_is_taken(c, 10));
	ck_assert(!kmq_cell_is_full(c, 9));

	/* the three kinds never alias at the same position */
	ck_assert_uint_ne(kmq_cell_empty(0), kmq_cell_full(0, 0));
	ck_assert_uint_ne(kmq_cell_full(0, 0), kmq_cell_taken(0, 0, 0));
}
END_TEST

START_TEST(layout)
{
	struct kmq_layout l;
	struct qmem q;
	__u32 i;

	ck_assert_int_eq(kmq_layout_compute(&l, 0, 1), -EINVAL);
	ck_assert_int_eq(kmq_layout_compute(&l, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_layout_compute(&l, KMQ_CAPACITY_MAX + 1, 1), -EINVAL);
	ck_assert_int_eq(kmq_layout_compute(&l, 1, KMQ_MSG_MAX + 1), -EINVAL);
	ck_assert_int_eq(kmq_layout_compute(&l, 1000, 100), 0);
	ck_assert_uint_eq(l.capacity, 1024);
	ck_assert_uint_eq(l.slot_size % 64, 0);
	ck_assert_uint_ge(l.slot_size, KMQ_SLOT_HDR_SIZE + 100);
	ck_assert_uint_eq(l.free_off, KMQ_HDR_SIZE);
	ck_assert_uint_ge(l.ready_off, l.free_off + 8 * 1024);
	ck_assert_uint_ge(l.slots_off, l.ready_off + 8 * 1024);
	ck_assert_uint_eq(l.size % 4096, 0);
	ck_assert_uint_ge(l.size, l.slots_off + (__u64)l.slot_size * 1024);

	q_new(&q, 8, 32);
	ck_assert_uint_eq(q.v.hdr->magic, KMQ_MAGIC);
	ck_assert_uint_eq(kmq_ring_count(&q.v.free), 8);
	ck_assert_uint_eq(kmq_ring_count(&q.v.ready), 0);
	for (i = 0; i < 8; i++) {
		ck_assert_uint_eq(q.v.free.cells[i], kmq_cell_full(i, i));
		ck_assert_uint_eq(q.v.ready.cells[i], kmq_cell_empty(i));
	}
	q_free(&q);
}
END_TEST

/* Push/pop through kmq_take/kmq_put for several laps: FIFO order, counts,
 * slot ownership, empty at both ends, and cells left EMPTY(pos + cap). */
START_TEST(push_pop_wrap)
{
	const __u32 cap = 8;
	struct qmem q;
	__u32 idx, i, lap, got[8];
	__u64 pos;

	q_new(&q, cap, 16);
	ck_assert_int_eq(kmq_ring_pop(&q.v.ready, 1, &idx, &pos, NULL), -EAGAIN);
	for (lap = 0; lap < 5; lap++) {
		/* free ring -> held: all slots, in order, then empty */
		for (i = 0; i < cap; i++) {
			ck_assert_int_eq(kmq_take(&q.v, &q.v.free, 3,
						  KMQ_SLOT_CLAIMED, &got[i],
						  &q.corrupt), 0);
			ck_assert_uint_eq(kmq_slot_at(&q.v, got[i])->owner, 3);
			ck_assert_uint_eq(kmq_slot_at(&q.v, got[i])->state,
					  KMQ_SLOT_CLAIMED);
		}
		ck_assert_int_eq(kmq_take(&q.v, &q.v.free, 3, KMQ_SLOT_CLAIMED,
					  &idx, &q.corrupt), -EAGAIN);
		ck_assert_uint_eq(kmq_ring_count(&q.v.free), 0);
		ck_assert(!kmq_ring_peek(&q.v.free));
		/* held -> ready ring, reversed so the order is visible */
		for (i = 0; i < cap; i++)
			ck_assert_int_eq(kmq_put(&q.v, &q.v.ready,
						 got[cap - 1 - i], KMQ_SLOT_READY,
						 &q.corrupt), 0);
		ck_assert_uint_eq(kmq_ring_count(&q.v.ready), cap);
		ck_assert(kmq_ring_peek(&q.v.ready));
		for (i = 0; i < cap; i++) {
			ck_assert_int_eq(kmq_take(&q.v, &q.v.ready, 4,
						  KMQ_SLOT_BORROWED, &idx,
						  &q.corrupt), 0);
			ck_assert_uint_eq(idx, got[cap - 1 - i]);
			ck_assert_int_eq(kmq_put(&q.v, &q.v.free, idx,
						 KMQ_SLOT_FREE, &q.corrupt), 0);
		}
		ck_assert_int_eq(kmq_take(&q.v, &q.v.ready, 4,
					  KMQ_SLOT_BORROWED, &idx, &q.corrupt),
				 -EAGAIN);
	}
	ck_assert_uint_eq(q.v.hdr->ready.head, 5 * cap);
	ck_assert_uint_eq(q.v.hdr->ready.tail, 5 * cap);
	ck_assert_uint_eq(q.v.hdr->free.tail, 6 * cap);
	for (i = 0; i < cap; i++)
		ck_assert_uint_eq(q.v.ready.cells[i],
				  kmq_cell_empty(5 * cap + i));
	ck_assert_uint_eq(q.corrupt, 0);
	q_free(&q);
}
END_TEST

/* A popper that CASed a cell to TAKEN and was preempted before releasing
 * it: the pusher a lap later gets -EBUSY, and a popper sees empty. */
START_TEST(taken_previous_lap)
{
	const __u32 cap = 4;
	struct kmq_ring *r;
	struct qmem q;
	__u32 idx, i;
	__u64 pos, p0;

	q_new(&q, cap, 16);
	r = &q.v.ready;
	for (i = 0; i < cap; i++)
		ck_assert_int_eq(kmq_ring_push(r, i, &q.corrupt), 0);
	ck_assert_int_eq(kmq_ring_pop(r, 9, &idx, &p0, &q.corrupt), 0);
	ck_assert_uint_eq(r->cells[0], kmq_cell_taken(0, 9, 0));
	for (i = 1; i < cap; i++) {
		ck_assert_int_eq(kmq_ring_pop(r, 9, &idx, &pos, &q.corrupt), 0);
		kmq_ring_release(r, pos);
	}
	/* head == tail == cap; cell 0 is TAKEN(0) == TAKEN(head - cap) */
	ck_assert_int_eq(kmq_ring_pop(r, 9, &idx, &pos, &q.corrupt), -EAGAIN);
	ck_assert_int_eq(kmq_ring_push(r, 0, &q.corrupt), -EBUSY);
	kmq_ring_release(r, p0);
	ck_assert_int_eq(kmq_ring_push(r, 2, &q.corrupt), 0);
	ck_assert_int_eq(kmq_ring_pop(r, 9, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 2);
	ck_assert_uint_eq(pos, cap);
	ck_assert_uint_eq(q.corrupt, 0);
	q_free(&q);
}
END_TEST

/* A pusher that CASed its cell but died before advancing the tail, and a
 * popper that CASed but did not advance the head: others help them on. */
START_TEST(helping)
{
	const __u32 cap = 8;
	struct kmq_ring *r;
	struct qmem q;
	__u32 idx;
	__u64 pos;

	q_new(&q, cap, 16);
	r = &q.v.ready;
	/* tail lags behind a FULL cell */
	r->cells[0] = kmq_cell_full(0, 5);
	ck_assert_uint_eq(r->ctl->tail, 0);
	ck_assert_int_eq(kmq_ring_push(r, 6, &q.corrupt), 0);
	ck_assert_uint_eq(r->ctl->tail, 2);
	ck_assert_uint_eq(r->cells[1], kmq_cell_full(1, 6));

	/* head lags behind a TAKEN cell: its popper holds slot 5 */
	r->cells[0] = kmq_cell_taken(0, 7, 5);
	ck_assert_int_eq(kmq_ring_pop(r, 8, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 6);
	ck_assert_uint_eq(pos, 1);
	kmq_ring_release(r, pos);
	ck_assert_uint_eq(r->ctl->head, 2);
	kmq_ring_release(r, 0);		/* the slow popper finishes */

	/* head lags behind a released cell, EMPTY(pos + cap) */
	ck_assert_int_eq(kmq_ring_push(r, 3, &q.corrupt), 0);	/* pos 2 */
	ck_assert_int_eq(kmq_ring_push(r, 4, &q.corrupt), 0);	/* pos 3 */
	r->cells[2] = kmq_cell_empty(2 + cap);	/* popped, head not moved */
	ck_assert_int_eq(kmq_ring_pop(r, 8, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 4);
	kmq_ring_release(r, pos);

	/* tail lags behind a cell already popped and released */
	r->cells[4] = kmq_cell_empty(4 + cap);
	r->ctl->head = 5;
	ck_assert_uint_eq(r->ctl->tail, 4);
	ck_assert_int_eq(kmq_ring_push(r, 1, &q.corrupt), 0);
	ck_assert_uint_eq(r->ctl->tail, 6);
	ck_assert_uint_eq(r->cells[5], kmq_cell_full(5, 1));
	ck_assert_int_eq(kmq_ring_pop(r, 8, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 1);
	ck_assert_uint_eq(q.corrupt, 0);
	q_free(&q);
}
END_TEST

/* Cells no protocol step can produce are counted and skipped. */
START_TEST(corrupt_cells)
{
	const __u32 cap = 8;
	struct kmq_ring *r;
	struct qmem q;
	__u32 idx;
	__u64 pos;

	q_new(&q, cap, 16);
	r = &q.v.ready;
	/* at a stable tail: overwritten by the next push */
	r->cells[0] = 0xdeadbeefdeadbeefULL | 3;
	ck_assert_int_eq(kmq_ring_push(r, 2, &q.corrupt), 0);
	ck_assert_uint_eq(q.corrupt, 1);
	ck_assert_uint_eq(r->cells[0], kmq_cell_full(0, 2));
	/* a FULL cell of a previous lap at the tail is corruption too */
	r->cells[1] = kmq_cell_full(1 - (__u64)cap, 3);
	ck_assert_int_eq(kmq_ring_push(r, 3, &q.corrupt), 0);
	ck_assert_uint_eq(q.corrupt, 2);
	ck_assert_int_eq(kmq_ring_pop(r, 1, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 2);
	kmq_ring_release(r, pos);

	/* a FULL cell naming a slot beyond the pool: dropped */
	r->cells[1] = kmq_cell_full(1, cap + 5);
	ck_assert_int_eq(kmq_ring_pop(r, 1, &idx, &pos, &q.corrupt), -EAGAIN);
	ck_assert_uint_eq(q.corrupt, 3);
	ck_assert_uint_eq(r->ctl->head, 2);
	ck_assert_uint_eq(r->cells[1], kmq_cell_empty(1 + cap));

	/* garbage at a stable head: skipped, the ring goes on working */
	ck_assert_int_eq(kmq_ring_push(r, 4, &q.corrupt), 0);	/* pos 2 */
	ck_assert_int_eq(kmq_ring_push(r, 5, &q.corrupt), 0);	/* pos 3 */
	r->cells[2] = 0x123456789abcdef3ULL;
	ck_assert_int_eq(kmq_ring_pop(r, 1, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 5);
	kmq_ring_release(r, pos);
	ck_assert_uint_eq(q.corrupt, 4);
	ck_assert_int_eq(kmq_ring_push(r, 6, &q.corrupt), 0);
	ck_assert_int_eq(kmq_ring_pop(r, 1, &idx, &pos, &q.corrupt), 0);
	ck_assert_uint_eq(idx, 6);
	kmq_ring_release(r, pos);
	/* NULL counter is allowed */
	r->cells[r->ctl->tail & r->mask] = 7;
	ck_assert_int_eq(kmq_ring_push(r, 7, NULL), 0);
	q_free(&q);
}
END_TEST

START_TEST(need_wake)
{
	__u32 flag = 0;

	ck_assert(!kmq_need_wake(&flag));
	kmq_arm_wake(&flag);
	ck_assert_uint_eq(flag, 1);
	ck_assert(kmq_need_wake(&flag));	/* this caller owns the wake */
	ck_assert_uint_eq(flag, 0);
	ck_assert(!kmq_need_wake(&flag));	/* nobody else does */
}
END_TEST

/* ---- MPMC stress ------------------------------------------------------ */

#define PRODUCERS	4
#define CONSUMERS	4
#define PER_PRODUCER	200000U
#define STRESS_CAP	256

struct payload {
	__u32 producer;
	__u32 pad;
	__u64 seq;
};

struct stress {
	struct qmem q;
	__u8 *seen;			/* [PRODUCERS * PER_PRODUCER] */
	__u64 received;			/* atomic */
	__u64 corrupt;			/* atomic, summed at the end */
	int order_errors;		/* atomic */
	int bad_payloads;		/* atomic */
	int errors;			/* atomic: take/put failures */
};

struct worker {
	struct stress *s;
	__u32 id;			/* client id, 1.. */
	__u32 n;			/* producer or consumer number */
};

static void backoff(unsigned int *spins)
{
	if (++*spins < 64)
		kmq_relax();
	else
		sched_yield();
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct kmq_view *v = &w->s->q.v;
	__u64 seq, corrupt = 0;

	for (seq = 0; seq < PER_PRODUCER; seq++) {
		struct payload *p;
		unsigned int spins = 0;
		__u32 idx;
		int err;

		while ((err = kmq_take(v, &v->free, w->id, KMQ_SLOT_CLAIMED,
				       &idx, &corrupt)) == -EAGAIN)
			backoff(&spins);
		if (err)
			goto fail;
		p = kmq_slot_data(kmq_slot_at(v, idx));
		p->producer = w->n;
		p->seq = seq;
		while ((err = kmq_put(v, &v->ready, idx, KMQ_SLOT_READY,
				      &corrupt)) == -EBUSY)
			sched_yield();
		if (err)
			goto fail;
	}
	__atomic_fetch_add(&w->s->corrupt, corrupt, __ATOMIC_RELAXED);
	return NULL;
fail:	/* no ck_assert here: in a thread, and each one is a syscall */
	__atomic_fetch_add(&w->s->errors, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->s->corrupt, corrupt, __ATOMIC_RELAXED);
	return NULL;
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct kmq_view *v = &s->q.v;
	const __u64 total = (__u64)PRODUCERS * PER_PRODUCER;
	__u64 next[PRODUCERS] = { 0 }, corrupt = 0;
	unsigned int spins = 0;
	int err = 0;

	for (;;) {
		struct payload p;
		__u32 idx;

		err = kmq_take(v, &v->ready, w->id, KMQ_SLOT_BORROWED, &idx,
			       &corrupt);
		if (err == -EAGAIN) {
			if (__atomic_load_n(&s->received, __ATOMIC_ACQUIRE) >=
			    total)
				break;
			backoff(&spins);
			continue;
		}
		if (err)
			break;
		spins = 0;
		memcpy(&p, kmq_slot_data(kmq_slot_at(v, idx)), sizeof(p));
		while ((err = kmq_put(v, &v->free, idx, KMQ_SLOT_FREE,
				      &corrupt)) == -EBUSY)
			sched_yield();
		if (err)
			break;
		if (p.producer >= PRODUCERS || p.seq >= PER_PRODUCER) {
			__atomic_fetch_add(&s->bad_payloads, 1, __ATOMIC_RELAXED);
			continue;
		}
		/* FIFO: what one consumer sees of one producer is in order */
		if (p.seq < next[p.producer])
			__atomic_fetch_add(&s->order_errors, 1, __ATOMIC_RELAXED);
		next[p.producer] = p.seq + 1;
		__atomic_fetch_add(&s->seen[p.producer * PER_PRODUCER + p.seq],
				   1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->received, 1, __ATOMIC_RELEASE);
	}
	if (err && err != -EAGAIN)
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->corrupt, corrupt, __ATOMIC_RELAXED);
	return NULL;
}

START_TEST(mpmc_stress)
{
	const __u64 total = (__u64)PRODUCERS * PER_PRODUCER;
	pthread_t threads[PRODUCERS + CONSUMERS];
	struct worker w[PRODUCERS + CONSUMERS];
	struct timespec t0, t1;
	struct stress s;
	__u64 i, dups = 0, lost = 0;
	double secs;
	__u32 n;

	memset(&s, 0, sizeof(s));
	q_new(&s.q, STRESS_CAP, sizeof(struct payload));
	s.seen = calloc(total, 1);
	ck_assert_ptr_nonnull(s.seen);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < PRODUCERS + CONSUMERS; n++) {
		w[n].s = &s;
		w[n].id = n + 1;
		w[n].n = n < PRODUCERS ? n : n - PRODUCERS;
		ck_assert_int_eq(pthread_create(&threads[n], NULL,
						n < PRODUCERS ? producer : consumer,
						&w[n]), 0);
	}
	for (n = 0; n < PRODUCERS + CONSUMERS; n++)
		pthread_join(threads[n], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	for (i = 0; i < total; i++) {
		if (!s.seen[i])
			lost++;
		else if (s.seen[i] > 1)
			dups++;
	}
	printf("mpmc_stress: %u producers x %u consumers, %llu messages in "
	       "%.3f s: %.0f msgs/s\n", PRODUCERS, CONSUMERS,
	       (unsigned long long)total, secs, (double)total / secs);
	ck_assert_int_eq(s.errors, 0);
	ck_assert_uint_eq(s.received, total);
	ck_assert_uint_eq(lost, 0);
	ck_assert_uint_eq(dups, 0);
	ck_assert_int_eq(s.order_errors, 0);
	ck_assert_int_eq(s.bad_payloads, 0);
	ck_assert_uint_eq(s.corrupt, 0);
	/* every slot is back in the free ring, the ready ring is empty */
	ck_assert_uint_eq(kmq_ring_count(&s.q.v.free), s.q.l.capacity);
	ck_assert_uint_eq(kmq_ring_count(&s.q.v.ready), 0);
	for (n = 0; n < s.q.l.capacity; n++)
		ck_assert_uint_eq(kmq_slot_at(&s.q.v, n)->state, KMQ_SLOT_FREE);
	free(s.seen);
	q_free(&s.q);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("protocol");
	TCase *st = tcase_create("stress");

	tcase_add_test(tc, cell_encodings);
	tcase_add_test(tc, layout);
	tcase_add_test(tc, push_pop_wrap);
	tcase_add_test(tc, taken_previous_lap);
	tcase_add_test(tc, helping);
	tcase_add_test(tc, corrupt_cells);
	tcase_add_test(tc, need_wake);
	suite_add_tcase(s, tc);
	tcase_set_timeout(st, 120);
	tcase_add_test(st, mpmc_stress);
	suite_add_tcase(s, st);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
