// SPDX-License-Identifier: GPL-2.0
/*
 * The copying path of the shm backend: SEND and RECV for clients that may
 * not map a queue (kmqd does the ring operations as its own client id,
 * KMQ_WIRE_KMQD_ID, with libkmq's fast path, and reports the peer's pid and
 * uid as sender), and WAIT, parked until the queue's wake eventfd or a
 * timer says. A received message's slot is given back only once the reply
 * carrying it has left kmqd: a kmqd killed in between delivers it again
 * after its restart (at least once), never loses it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "kmqd.h"

void copy_send(struct kmqd *d, struct conn *c, const void *body, size_t len)
{
	struct queue *q = conn_queue(c);
	struct kmq_fast *f = queue_fast(q);
	const unsigned char *b = body;
	struct kmq_wire_io io;
	struct kmq_iov iov[KMQ_BATCH_MAX];
	__u64 ids[KMQ_BATCH_MAX];
	struct piece pc[2];
	unsigned int i, who = 0;
	size_t off;
	int n;

	if (!(conn_open_flags(c) & KMQ_OPEN_SEND)) {
		conn_reply_err(c, -EPERM, "opened without KMQ_OPEN_SEND");
		return;
	}
	if (sqs_fifo_queue(q)) {
		conn_reply_err(c, -EINVAL, "a FIFO queue takes SQS sends only (a group id is required)");
		return;
	}
	memcpy(&io, b, sizeof(io));
	off = sizeof(io);
	for (i = 0; i < io.count; i++) {	/* lengths checked in frame.c */
		struct kmq_wire_msg m;

		memcpy(&m, b + off, sizeof(m));
		off += sizeof(m);
		iov[i].data = b + off;
		iov[i].len = m.len;
		if (m.len > f->v.max_msg_size) {
			if (!i) {
				conn_reply_err(c, -EMSGSIZE, "message of %u bytes, queue takes %u",
					       m.len, f->v.max_msg_size);
				return;
			}
			break;
		}
		off += KMQ_WIRE_PAD8(m.len);
	}
	f->pid = (__u32)conn_pid(c);
	f->uid = (__u32)conn_uid(c);
	n = kmq_fast_send(f, iov, i, ids, &who);
	store_wake(q, who);
	if (n < 0) {
		conn_reply_err(c, n, n == -EAGAIN ? "queue full" : "send failed");
		return;
	}
	memset(&io, 0, sizeof(io));
	io.count = (__u32)n;
	pc[0] = (struct piece){ &io, sizeof(io) };
	pc[1] = (struct piece){ ids, n * sizeof(ids[0]) };
	conn_replyv(c, 0, pc, 2);
}

/* take - pop the next message that fits @room for kmqd; skips (gives back
 * and counts) slots whose lengths no sender could have written. */
static int take(struct kmq_fast *f, __u32 room, __u32 *idx, __u32 *need,
		unsigned int *who)
{
	unsigned int skips;

	for (skips = 0; skips <= 2 * KMQ_BATCH_MAX; skips++) {
		struct kmq_slot *s;
		struct kmq_msg m;
		int err;

		err = kmq_take_fit(&f->v, f->client_id, room, idx, need,
				   &f->corrupt);
		if (err)
			return err;
		s = kmq_slot_at(&f->v, *idx);
		if ((__u64)kmq_load(&s->attr_len) + kmq_load(&s->len) <=
		    f->v.max_msg_size)
			return 0;
		f->corrupt++;
		m.slot = *idx;
		kmq_fast_release(f, &m, who);
	}
	return -EIO;
}

void copy_recv(struct kmqd *d, struct conn *c, const void *body, size_t len)
{
	struct queue *q = conn_queue(c);
	struct kmq_fast *f = queue_fast(q);
	struct conn_copy *cc = conn_copy(c);
	struct kmq_wire_io io;
	const __u32 *rooms = (const __u32 *)((const unsigned char *)body +
					     sizeof(io));
	size_t budget = KMQ_WIRE_BODY_MAX - sizeof(io), off;
	unsigned char *out;
	unsigned int i, who = 0;
	int err = 0;

	if (!(conn_open_flags(c) & KMQ_OPEN_RECV)) {
		conn_reply_err(c, -EPERM, "opened without KMQ_OPEN_RECV");
		return;
	}
	if (sqs_fifo_queue(q)) {
		sqs_fifo_plain_recv(d, c, body, len);
		return;
	}
	memcpy(&io, body, sizeof(io));
	out = malloc(KMQ_WIRE_BODY_MAX);
	if (!out) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	off = sizeof(io);
	cc->nheld = 0;
	for (i = 0; i < io.count; i++) {
		struct kmq_wire_msg m = { 0 };
		__u32 room = rooms[i], idx, need = 0, alen;
		struct kmq_slot *s;
		size_t fits = budget - sizeof(m);

		if (room > fits)
			room = (__u32)fits;
		err = take(f, room, &idx, &need, &who);
		if (err == -EMSGSIZE && i == 0) {
			m.len = need;
			memset(&io, 0, sizeof(io));
			memcpy(out, &io, sizeof(io));
			memcpy(out + sizeof(io), &m, sizeof(m));
			conn_reply(c, -EMSGSIZE, out, sizeof(io) + sizeof(m),
				   NULL, 0);
			free(out);
			store_wake(q, who);
			return;
		}
		if (err)
			break;
		s = kmq_slot_at(&f->v, idx);
		alen = kmq_load(&s->attr_len);
		m.len = kmq_load(&s->len);
		if (m.len > room) {
			/* Rewritten by a mapper since the check: it goes back
			 * (as the fast path does), and the batch ends. */
			queue_requeue(d, q, idx);
			break;
		}
		m.id = kmq_load(&s->id);
		m.sent_ns = kmq_load(&s->sent_ns);
		m.sender_pid = kmq_load(&s->sender_pid);
		m.sender_uid = kmq_load(&s->sender_uid);
		memcpy(out + off, &m, sizeof(m));
		off += sizeof(m);
		memcpy(out + off, (unsigned char *)kmq_slot_data(s) + alen, m.len);
		memset(out + off + m.len, 0, KMQ_WIRE_PAD8(m.len) - m.len);
		off += KMQ_WIRE_PAD8(m.len);
		budget -= sizeof(m) + KMQ_WIRE_PAD8(m.len);
		cc->held[cc->nheld++] = idx;
	}
	store_wake(q, who);
	if (!cc->nheld) {
		free(out);
		conn_reply_err(c, err ? err : -EAGAIN, err == -EAGAIN || !err ?
			       "queue empty" : "receive failed");
		return;
	}
	memset(&io, 0, sizeof(io));
	io.count = cc->nheld;
	memcpy(out, &io, sizeof(io));
	conn_reply(c, 0, out, off, NULL, 0);
	free(out);
}

void copy_flushed(struct conn *c)
{
	struct conn_copy *cc = conn_copy(c);
	struct queue *q = conn_queue(c);
	unsigned int i, who = 0;

	if (!q || !cc->nheld)
		return;
	for (i = 0; i < cc->nheld; i++) {
		struct kmq_msg m = { .slot = cc->held[i] };

		kmq_fast_release(queue_fast(q), &m, &who);
	}
	cc->nheld = 0;
	store_wake(q, who);
}

void copy_abandon(struct kmqd *qd, struct conn *c)
{
	struct conn_copy *cc = conn_copy(c);
	struct queue *q = conn_queue(c);
	unsigned int i;

	if (!q)
		return;
	for (i = 0; i < cc->nheld; i++) {
		struct kmq_fast *f = queue_fast(q);
		int err = kmq_put(&f->v, &f->v.ready, cc->held[i],
				  KMQ_SLOT_READY, &f->corrupt);

		if (err == -EBUSY)
			queue_requeue(qd, q, cc->held[i]);
		else
			store_wake(q, KMQ_WAKE_READERS);
	}
	cc->nheld = 0;
}

/* ---- WAIT ------------------------------------------------------------------ */

static int arm(struct queue *q, __u32 events);

static int events_now(struct queue *q, __u32 events)
{
	struct kmq_view *v = queue_view(q);
	int ev = 0;

	if ((events & KMQ_READABLE) && (kmq_ring_peek(&v->ready) ||
					sqs_readable(q)))
		ev |= KMQ_READABLE;
	if ((events & KMQ_WRITABLE) && kmq_ring_peek(&v->free) &&
	    kmq_ring_pushable(&v->ready))
		ev |= KMQ_WRITABLE;
	return ev;
}

/* arm - ask the next producer (consumer) to wake, then look again. */
static int arm(struct queue *q, __u32 events)
{
	struct kmq_view *v = queue_view(q);

	if (events & KMQ_READABLE)
		kmq_arm_wake(&v->hdr->rd_wait);
	if (events & KMQ_WRITABLE)
		kmq_arm_wake(&v->hdr->wr_wait);
	return events_now(q, events);
}

static void unpark(struct conn_copy *cc)
{
	struct queue *q = conn_queue(cc->conn);
	struct conn_copy **p;

	if (!cc->waiting)
		return;
	for (p = queue_waiters(q); *p; p = &(*p)->wnext) {
		if (*p == cc) {
			*p = cc->wnext;
			break;
		}
	}
	cc->waiting = false;
	cc->wnext = NULL;
}

static void answer(struct kmqd *d, struct conn_copy *cc, int ev)
{
	struct kmq_wire_wait w = { .events = (__u32)ev };

	timer_cancel(d, &cc->timer);
	timer_cancel(d, &cc->stall);
	unpark(cc);
	conn_reply(cc->conn, 0, &w, sizeof(w), NULL, 0);
	conn_resume(cc->conn);
}

static void on_timeout(struct kmqd *d, void *arg)
{
	answer(d, arg, 0);
}

static void on_stall(struct kmqd *d, void *arg);

/*
 * check_stall - the rings hold what the waiter wants, but not where a peek
 * looks: the head cell is still TAKEN by a popper that has not moved the
 * head on, or the ready ring's tail cell is held by a popper of the
 * previous lap. Their progress wakes nobody, so look again after 1 ms,
 * doubling to 20 ms (as libkmq's waiters nap).
 */
static void check_stall(struct kmqd *d, struct queue *q, struct conn_copy *cc)
{
	struct kmq_view *v = queue_view(q);
	bool maybe = false;

	if (cc->wait.events & KMQ_WRITABLE)
		maybe |= kmq_ring_count(&v->free) > 0;
	if (cc->wait.events & KMQ_READABLE)
		maybe |= kmq_ring_count(&v->ready) > 0;
	if (!maybe)
		return;
	cc->stall_ns = cc->stall_ns ? cc->stall_ns * 2 : 1000000;
	if (cc->stall_ns > 20000000)
		cc->stall_ns = 20000000;
	cc->stall.cb = on_stall;
	cc->stall.arg = cc;
	timer_arm(d, &cc->stall, mono_ns() + cc->stall_ns);
}

static void on_stall(struct kmqd *d, void *arg)
{
	struct conn_copy *cc = arg;
	struct queue *q = conn_queue(cc->conn);
	int ev;

	if (!q || !cc->waiting)
		return;
	ev = arm(q, cc->wait.events);
	if (ev)
		answer(d, cc, ev);
	else
		check_stall(d, q, cc);
}

void copy_wait(struct kmqd *d, struct conn *c, const struct kmq_wire_wait *w)
{
	struct queue *q = conn_queue(c);
	struct conn_copy *cc = conn_copy(c);
	struct kmq_wire_wait r = { 0 };
	int ev;

	ev = events_now(q, w->events);
	if (!ev)
		ev = arm(q, w->events);	/* also for poll()ers of the eventfd */
	if (ev || !w->timeout_ns) {
		r.events = (__u32)ev;
		conn_reply(c, 0, &r, sizeof(r), NULL, 0);
		return;
	}
	cc->conn = c;
	cc->wait = *w;
	cc->waiting = true;
	cc->stall_ns = 0;
	cc->wnext = *queue_waiters(q);
	*queue_waiters(q) = cc;
	if (w->timeout_ns > 0) {
		cc->timer.cb = on_timeout;
		cc->timer.arg = cc;
		timer_arm(d, &cc->timer, mono_ns() + (uint64_t)w->timeout_ns);
	}
	check_stall(d, q, cc);
}

void copy_queue_event(struct kmqd *d, struct queue *q)
{
	struct conn_copy *cc, *next;

	for (cc = *queue_waiters(q); cc; cc = next) {
		int ev = arm(q, cc->wait.events);

		next = cc->wnext;
		if (ev)
			answer(d, cc, ev);
		else if (!cc->stall.at)
			check_stall(d, q, cc);
	}
}

void copy_cancel(struct kmqd *d, struct conn *c)
{
	struct conn_copy *cc = conn_copy(c);

	timer_cancel(d, &cc->timer);
	timer_cancel(d, &cc->stall);
	if (cc->waiting)
		unpark(cc);
}
