// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The mapped data path: send, receive, borrow and release on queue memory
 * through the ring protocol of include/kmq/ring.h, with no system call. The
 * caller wakes sleepers when these report that one asked for it. Whatever is
 * read from shared memory is read once and checked before use.
 */
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

void kmq_fast_init(struct kmq_fast *f, void *base, const struct kmq_layout *l,
		   __u32 client_id)
{
	memset(f, 0, sizeof(*f));
	kmq_view_init(&f->v, base, l);
	f->client_id = client_id;
	/* Ids are client id + count, and client ids are reused once their
	 * fd is closed: start the count at the clock, which no handle's
	 * count outruns (a send takes more than 1 ns), so a later handle
	 * with the same client id starts above every id of the earlier one
	 * (until the 40-bit count wraps, about every 18 minutes). */
	f->seq = now_ns() & ((1ULL << KMQ_ID_SEQ_BITS) - 1);
	f->pid = (__u32)getpid();
	f->uid = (__u32)getuid();	/* as the copying path reports */
}

/*
 * put - kmq_put() with a policy for user space: a push can find the cell
 * still held by the popper of the previous lap (-EBUSY), and that popper may
 * be preempted, so spin KMQ_PUT_SPINS times, then yield between tries
 * instead of spinning out kmq_put()'s kernel-sized budget while the holder
 * cannot run. The slot is never dropped: only success or a damaged ring
 * (-EIO) ends the loop, and the popper's release, or the kernel's repair if
 * it died, frees the cell.
 */
static int put(struct kmq_fast *f, struct kmq_ring *r, __u32 idx, __u32 state)
{
	unsigned int tries = 0;
	int err;

	kmq_store(&kmq_slot_at(&f->v, idx)->state, state);
	while ((err = kmq_ring_push(r, idx, &f->corrupt)) == -EBUSY) {
		if (++tries < KMQ_PUT_SPINS)
			kmq_relax();
		else
			sched_yield();
	}
	return err;
}

/*
 * kmq_fast_send - publish up to @n messages; stops at the first that finds
 * no free slot. Lengths are checked by the caller against max_msg_size and
 * again here. Returns how many were sent, their ids in @ids (may be NULL).
 */
int kmq_fast_send(struct kmq_fast *f, const struct kmq_iov *msgs,
		  unsigned int n, __u64 *ids, unsigned int *wake)
{
	__u64 sent_ns = 0;
	unsigned int i;
	int err = 0;

	for (i = 0; i < n; i++) {
		struct kmq_slot *s;
		__u32 idx;
		__u64 id;

		if (msgs[i].len > f->v.max_msg_size) {
			err = -EMSGSIZE;
			break;
		}
		err = kmq_take(&f->v, &f->v.free, f->client_id,
			       KMQ_SLOT_CLAIMED, &idx, &f->corrupt);
		if (err)
			break;
		if (!sent_ns)
			sent_ns = now_ns();	/* one clock read per batch */
		s = kmq_slot_at(&f->v, idx);
		if (msgs[i].len)
			memcpy(kmq_slot_data(s), msgs[i].data, msgs[i].len);
		id = (__u64)f->client_id << KMQ_ID_SEQ_BITS |
		     (++f->seq & ((1ULL << KMQ_ID_SEQ_BITS) - 1));
		s->len = (__u32)msgs[i].len;
		s->attr_len = 0;
		s->id = id;
		s->sent_ns = sent_ns;
		s->sender_pid = f->pid;
		s->sender_uid = f->uid;
		err = put(f, &f->v.ready, idx, KMQ_SLOT_READY);
		if (err)	/* damaged ring: the slot stays ours until close */
			break;
		if (ids)
			ids[i] = id;
	}
	if (i && kmq_need_wake(&f->v.hdr->rd_wait))
		*wake |= KMQ_WAKE_READERS;
	return i ? (int)i : err;
}

/*
 * take_msg - pop the next message, skipping (and counting) slots whose
 * lengths no sender could have written; those go back to the free ring.
 * Returns 0 with the slot index and its checked attribute/body lengths.
 */
static int take_msg(struct kmq_fast *f, __u32 *idx, __u32 *alen, __u32 *len,
		    unsigned int *wake)
{
	for (;;) {
		struct kmq_slot *s;
		int err;

		err = kmq_take(&f->v, &f->v.ready, f->client_id,
			       KMQ_SLOT_BORROWED, idx, &f->corrupt);
		if (err)
			return err;
		s = kmq_slot_at(&f->v, *idx);
		*alen = kmq_load(&s->attr_len);
		*len = kmq_load(&s->len);
		if ((__u64)*alen + *len <= f->v.max_msg_size)
			return 0;
		f->corrupt++;
		err = put(f, &f->v.free, *idx, KMQ_SLOT_FREE);
		if (err)
			return err;
		*wake |= KMQ_WAKE_WRITERS;	/* checked by the caller */
	}
}

static void describe(struct kmq_msg *m, struct kmq_slot *s, __u32 len)
{
	m->len = len;
	m->id = kmq_load(&s->id);
	m->sent_ns = kmq_load(&s->sent_ns);
	m->sender_pid = kmq_load(&s->sender_pid);
	m->sender_uid = kmq_load(&s->sender_uid);
}

/* wake_check - resolve the wakes a call may owe into *@wake: a bit set
 * tentatively means "we pushed there"; keep it only if a sleeper asked. */
static void wake_check(struct kmq_fast *f, unsigned int *wake,
		       unsigned int pushed)
{
	if ((pushed & KMQ_WAKE_WRITERS) && kmq_need_wake(&f->v.hdr->wr_wait))
		*wake |= KMQ_WAKE_WRITERS;
	if ((pushed & KMQ_WAKE_READERS) && kmq_need_wake(&f->v.hdr->rd_wait))
		*wake |= KMQ_WAKE_READERS;
}

/*
 * kmq_fast_recv - copy up to @n messages into @bufs. A message larger than
 * its buffer goes back to the ready ring (behind those queued meanwhile)
 * with its length in msg.len; it ends the batch, and fails it with
 * -EMSGSIZE when it is the first. Returns how many were received.
 */
int kmq_fast_recv(struct kmq_fast *f, struct kmq_rbuf *bufs, unsigned int n,
		  unsigned int *wake)
{
	unsigned int i, pushed = 0;
	int err = 0;

	for (i = 0; i < n; i++) {
		struct kmq_rbuf *b = &bufs[i];
		struct kmq_slot *s;
		__u32 idx, alen, len;

		err = take_msg(f, &idx, &alen, &len, &pushed);
		if (err)
			break;
		s = kmq_slot_at(&f->v, idx);
		if (len > b->cap) {
			b->msg.len = len;
			err = put(f, &f->v.ready, idx, KMQ_SLOT_READY);
			pushed |= KMQ_WAKE_READERS;
			if (!err)
				err = -EMSGSIZE;
			break;
		}
		if (len)
			memcpy(b->buf, (unsigned char *)kmq_slot_data(s) + alen,
			       len);
		describe(&b->msg, s, len);
		b->msg.data = b->buf;
		b->msg.slot = KMQ_MSG_NOSLOT;
		err = put(f, &f->v.free, idx, KMQ_SLOT_FREE);
		if (err)
			break;
		pushed |= KMQ_WAKE_WRITERS;
	}
	wake_check(f, wake, pushed);
	return i ? (int)i : err;
}

/* kmq_fast_borrow - lend the next message in place until release. */
int kmq_fast_borrow(struct kmq_fast *f, struct kmq_msg *msg,
		    unsigned int *wake)
{
	unsigned int pushed = 0;
	__u32 idx, alen, len;
	struct kmq_slot *s;
	int err;

	err = take_msg(f, &idx, &alen, &len, &pushed);
	wake_check(f, wake, pushed);
	if (err)
		return err;
	s = kmq_slot_at(&f->v, idx);
	describe(msg, s, len);
	msg->data = (unsigned char *)kmq_slot_data(s) + alen;
	msg->slot = idx;
	return 0;
}

/* kmq_fast_release - give a borrowed slot back to the free ring. -EINVAL
 * when @msg does not name a slot this client borrowed. */
int kmq_fast_release(struct kmq_fast *f, struct kmq_msg *msg,
		     unsigned int *wake)
{
	struct kmq_slot *s;
	int err;

	if (msg->slot >= f->v.free.cap)
		return -EINVAL;
	s = kmq_slot_at(&f->v, msg->slot);
	if (kmq_load(&s->owner) != f->client_id ||
	    kmq_load(&s->state) != KMQ_SLOT_BORROWED)
		return -EINVAL;
	err = put(f, &f->v.free, msg->slot, KMQ_SLOT_FREE);
	if (err)
		return err;
	msg->slot = KMQ_MSG_NOSLOT;
	msg->data = NULL;
	wake_check(f, wake, KMQ_WAKE_WRITERS);
	return 0;
}

int kmq_fast_events(struct kmq_fast *f, int events)
{
	int ev = 0;

	if ((events & KMQ_READABLE) && kmq_ring_peek(&f->v.ready))
		ev |= KMQ_READABLE;
	if ((events & KMQ_WRITABLE) && kmq_ring_peek(&f->v.free))
		ev |= KMQ_WRITABLE;
	return ev;
}

int kmq_fast_arm(struct kmq_fast *f, int events)
{
	if (events & KMQ_READABLE)
		kmq_arm_wake(&f->v.hdr->rd_wait);
	if (events & KMQ_WRITABLE)
		kmq_arm_wake(&f->v.hdr->wr_wait);
	return kmq_fast_events(f, events);
}
