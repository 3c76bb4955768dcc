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
#include "probes.h"

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
 * push_bounded - kmq_ring_push() with a policy for user space: a push can
 * find the cell still held by the popper of the previous lap (-EBUSY), and
 * that popper may be preempted, so try KMQ_PUT_SPINS times, then yield
 * between KMQ_PUT_YIELDS more tries instead of spinning while the holder
 * cannot run. It may also be stopped, or dead until the kernel's repair,
 * so the budget ends there: -EBUSY, and the caller still holds the slot.
 */
static int push_bounded(struct kmq_fast *f, struct kmq_ring *r, __u32 idx)
{
	unsigned int tries;
	int err;

	for (tries = 0;; tries++) {
		err = kmq_ring_push(r, idx, &f->corrupt);
		if (err != -EBUSY || tries >= KMQ_PUT_SPINS + KMQ_PUT_YIELDS)
			return err;
		if (tries < KMQ_PUT_SPINS)
			kmq_relax();
		else
			sched_yield();
	}
}

/* pushable_soon - does @r's tail cell become free of a previous-lap popper
 * within push_bounded()'s budget? A hint, as kmq_ring_pushable() is. */
static bool pushable_soon(struct kmq_ring *r)
{
	unsigned int tries;

	for (tries = 0;; tries++) {
		if (kmq_ring_pushable(r))
			return true;
		if (tries >= KMQ_PUT_SPINS + KMQ_PUT_YIELDS)
			return false;
		if (tries < KMQ_PUT_SPINS)
			kmq_relax();
		else
			sched_yield();
	}
}

/*
 * give_back - return held slot @idx to the free ring (state FREE). When the
 * ring's tail cell stays held by a stalled popper the slot is kept on the
 * deferred list (header: FREE, owner us), or, with the list full, left held
 * for the kernel's repair at close: either way the caller's operation is
 * done. ORs KMQ_WAKE_WRITERS into *@pushed when it went onto the ring.
 * Returns 0, or -EIO (damaged ring: the slot stays held until close).
 */
static int give_back(struct kmq_fast *f, __u32 idx, unsigned int *pushed)
{
	int err;

	kmq_store(&kmq_slot_at(&f->v, idx)->state, KMQ_SLOT_FREE);
	err = push_bounded(f, &f->v.free, idx);
	if (!err) {
		*pushed |= KMQ_WAKE_WRITERS;
		return 0;
	}
	if (err != -EBUSY)
		return err;
	if (f->ndefer < KMQ_DEFER_MAX) {
		f->defer[f->ndefer++] = idx;
		f->deferred++;
	} else {
		f->stranded++;
	}
	return 0;
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

unsigned int kmq_fast_flush(struct kmq_fast *f, unsigned int *wake)
{
	unsigned int i, pushed = 0;

	for (i = 0; i < f->ndefer; i++) {
		int err = kmq_ring_push(&f->v.free, f->defer[i], &f->corrupt);

		if (err == -EBUSY)
			break;		/* the same cell for all: later */
		if (!err)
			pushed = KMQ_WAKE_WRITERS;
		else
			f->stranded++;	/* damaged ring: the repair's */
	}
	if (i) {
		memmove(f->defer, f->defer + i,
			(f->ndefer - i) * sizeof(f->defer[0]));
		f->ndefer -= i;
	}
	wake_check(f, wake, pushed);
	return f->ndefer;
}

/* flush - at the start of every fast-path call: the deferred slots first. */
static inline void flush(struct kmq_fast *f, unsigned int *wake)
{
	if (f->ndefer)
		kmq_fast_flush(f, wake);
}

/*
 * claim - take a free slot for a message (state CLAIMED, owner us). Claims
 * no slot that could not be published: -EAGAIN when the ready ring's tail
 * cell stays held by a stalled popper, or when no slot is free; -EIO.
 */
static int claim(struct kmq_fast *f, __u32 *idx)
{
	if (!pushable_soon(&f->v.ready))
		return -EAGAIN;
	return kmq_take(&f->v, &f->v.free, f->client_id, KMQ_SLOT_CLAIMED, idx,
			&f->corrupt);
}

/* fill - write the header of claimed slot @s for @alen attribute bytes and
 * a @len-byte body already in place; returns the message's new id. */
static inline __u64 fill(struct kmq_fast *f, struct kmq_slot *s, __u32 alen,
			 __u32 len, __u64 sent_ns)
{
	__u64 id = (__u64)f->client_id << KMQ_ID_SEQ_BITS |
		   (++f->seq & ((1ULL << KMQ_ID_SEQ_BITS) - 1));

	s->len = len;
	s->attr_len = alen;
	s->id = id;
	s->sent_ns = sent_ns;
	s->sender_pid = f->pid;
	s->sender_uid = f->uid;
	return id;
}

/*
 * publish - mark filled slot @idx READY and push it onto the ready ring;
 * ORs KMQ_WAKE_READERS into *@pushed. On -EBUSY (the tail was taken by a
 * popper that stalled since claim() looked) the slot is CLAIMED again and
 * still ours: the caller gives it back or keeps it. -EIO: damaged ring, the
 * slot stays ours until close.
 */
static int publish(struct kmq_fast *f, __u32 idx, unsigned int *pushed)
{
	struct kmq_slot *s = kmq_slot_at(&f->v, idx);
	int err;

	kmq_store(&s->state, KMQ_SLOT_READY);
	err = push_bounded(f, &f->v.ready, idx);
	if (err == -EBUSY)
		kmq_store(&s->state, KMQ_SLOT_CLAIMED);
	else if (!err)
		*pushed |= KMQ_WAKE_READERS;
	return err;
}

/*
 * kmq_fast_send - publish up to @n messages; stops at the first that finds
 * no free slot, or a ready ring whose tail cell stays held by a stalled
 * popper (-EAGAIN: the caller's timeout decides how long to try again).
 * Lengths are checked by the caller against max_msg_size and again here.
 * Returns how many were sent, their ids in @ids (may be NULL).
 */
int kmq_fast_send(struct kmq_fast *f, const struct kmq_iov *msgs,
		  unsigned int n, __u64 *ids, unsigned int *wake)
{
	unsigned int i, pushed = 0;
	__u64 sent_ns = 0;
	int err = 0;

	flush(f, wake);
	for (i = 0; i < n; i++) {
		struct kmq_slot *s;
		__u32 idx;
		__u64 id;

		if (msgs[i].len > f->v.max_msg_size) {
			err = -EMSGSIZE;
			break;
		}
		err = claim(f, &idx);
		if (err)
			break;
		if (!sent_ns)
			sent_ns = now_ns();	/* one clock read per batch */
		s = kmq_slot_at(&f->v, idx);
		if (msgs[i].len)
			memcpy(kmq_slot_data(s), msgs[i].data, msgs[i].len);
		id = fill(f, s, 0, (__u32)msgs[i].len, sent_ns);
		err = publish(f, idx, &pushed);
		if (err == -EBUSY) {
			/* Not sent: the slot goes back. */
			err = give_back(f, idx, &pushed);
			if (!err)
				err = -EAGAIN;
			break;
		}
		if (err)	/* damaged ring: the slot stays ours until close */
			break;
		if (ids)
			ids[i] = id;
		KMQ_PROBE4(send, f->name, id, sent_ns, (__u32)msgs[i].len);
	}
	wake_check(f, wake, pushed);
	return i ? (int)i : err;
}

/* kmq_fast_send_attrs - one message with attributes, written in place:
 * the encoded attributes, then the body, in a slot claimed here. */
int kmq_fast_send_attrs(struct kmq_fast *f, const struct kmq_attr *attrs,
			unsigned int nattrs, __u32 alen, const void *body,
			size_t len, __u64 *id, unsigned int *wake)
{
	unsigned int pushed = 0;
	struct kmq_slot *s;
	unsigned char *p;
	__u64 mid, sent_ns;
	__u32 idx;
	int err;

	flush(f, wake);
	if (len > f->v.max_msg_size || alen > f->v.max_msg_size - len)
		return -EMSGSIZE;
	err = claim(f, &idx);
	if (err)
		return err;
	s = kmq_slot_at(&f->v, idx);
	p = kmq_slot_data(s);
	if (alen && kmq_attrs_encode(attrs, nattrs, p, alen) != (int)alen) {
		err = give_back(f, idx, &pushed);	/* checked before: cannot */
		wake_check(f, wake, pushed);
		return err ? err : -EINVAL;
	}
	if (len)
		memcpy(p + alen, body, len);
	sent_ns = now_ns();
	mid = fill(f, s, alen, (__u32)len, sent_ns);
	err = publish(f, idx, &pushed);
	if (err == -EBUSY) {
		err = give_back(f, idx, &pushed);
		if (!err)
			err = -EAGAIN;
	}
	if (!err)
		KMQ_PROBE4(send, f->name, mid, sent_ns, (__u32)len);
	wake_check(f, wake, pushed);
	if (!err && id)
		*id = mid;
	return err;
}

/* kmq_fast_reserve - claim a free slot to be written in place: its index in
 * *@idx. -EAGAIN as kmq_fast_send() finds it, -EIO. */
int kmq_fast_reserve(struct kmq_fast *f, __u32 *idx, unsigned int *wake)
{
	flush(f, wake);
	return claim(f, idx);
}

/* reserved - is @idx a slot this client claimed (a reservation)? */
static struct kmq_slot *reserved(struct kmq_fast *f, __u32 idx)
{
	struct kmq_slot *s;

	if (idx >= f->v.free.cap)
		return NULL;
	s = kmq_slot_at(&f->v, idx);
	if (kmq_load(&s->owner) != f->client_id ||
	    kmq_load(&s->state) != KMQ_SLOT_CLAIMED)
		return NULL;
	return s;
}

/* kmq_fast_commit - publish reserved slot @idx with @len body bytes written
 * in place, its id in *@id. -EINVAL when @idx is not reserved by this
 * client, -EMSGSIZE above max_msg_size, -EAGAIN when the ready ring's tail
 * cell stays held by a stalled popper: in all three the slot stays reserved.
 * -EIO: damaged ring (the slot stays held until close). */
int kmq_fast_commit(struct kmq_fast *f, __u32 idx, size_t len, __u64 *id,
		    unsigned int *wake)
{
	unsigned int pushed = 0;
	struct kmq_slot *s;
	__u64 mid, sent_ns;
	int err;

	flush(f, wake);
	s = reserved(f, idx);
	if (!s)
		return -EINVAL;
	if (len > f->v.max_msg_size)
		return -EMSGSIZE;
	sent_ns = now_ns();
	mid = fill(f, s, 0, (__u32)len, sent_ns);
	err = publish(f, idx, &pushed);
	wake_check(f, wake, pushed);
	if (err == -EBUSY)
		return -EAGAIN;
	if (!err)
		KMQ_PROBE4(send, f->name, mid, sent_ns, (__u32)len);
	if (!err && id)
		*id = mid;
	return err;
}

/* kmq_fast_abort - give reserved slot @idx back unsent. -EINVAL when it is
 * not reserved by this client, -EIO. */
int kmq_fast_abort(struct kmq_fast *f, __u32 idx, unsigned int *wake)
{
	unsigned int pushed = 0;
	int err;

	flush(f, wake);
	if (!reserved(f, idx))
		return -EINVAL;
	err = give_back(f, idx, &pushed);
	wake_check(f, wake, pushed);
	return err;
}

/* Corrupt messages one call may skip before it gives up with -EIO. */
#define KMQ_RECV_SKIPS	(2 * KMQ_BATCH_MAX)

/*
 * take_msg - pop the next message, skipping (and counting) slots whose
 * lengths no sender could have written; those go back to the free ring.
 * With @room, a message whose body is longer is not taken (-EMSGSIZE, its
 * length in *@need): it stays first in line. Returns 0 with the slot index
 * and its checked attribute/body lengths.
 */
static int take_msg(struct kmq_fast *f, const __u32 *room, __u32 *idx,
		    __u32 *alen, __u32 *len, __u32 *need, unsigned int *pushed)
{
	unsigned int skips;

	for (skips = 0; skips <= KMQ_RECV_SKIPS; skips++) {
		struct kmq_slot *s;
		int err;

		if (room)
			err = kmq_take_fit(&f->v, f->client_id, *room, idx,
					   need, &f->corrupt);
		else
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
		err = give_back(f, *idx, pushed);
		if (err)
			return err;
	}
	return -EIO;
}

static void describe(struct kmq_msg *m, struct kmq_slot *s, __u32 len)
{
	m->len = len;
	m->id = kmq_load(&s->id);
	m->sent_ns = kmq_load(&s->sent_ns);
	m->sender_pid = kmq_load(&s->sender_pid);
	m->sender_uid = kmq_load(&s->sender_uid);
}

/*
 * kmq_fast_recv - copy up to @n messages into @bufs. A message larger than
 * its buffer is not taken: it stays first in line, its length goes in
 * msg.len, and it ends the batch (failing it with -EMSGSIZE when it is the
 * first). Returns how many were received.
 */
int kmq_fast_recv(struct kmq_fast *f, struct kmq_rbuf *bufs, unsigned int n,
		  unsigned int *wake)
{
	unsigned int i, pushed = 0;
	int err = 0;

	flush(f, wake);
	for (i = 0; i < n; i++) {
		struct kmq_rbuf *b = &bufs[i];
		__u32 room = b->cap > UINT32_MAX ? UINT32_MAX : (__u32)b->cap;
		struct kmq_slot *s;
		__u32 idx, alen, len, need = 0;

		err = take_msg(f, &room, &idx, &alen, &len, &need, &pushed);
		if (err == -EMSGSIZE)
			b->msg.len = need;
		if (err)
			break;
		s = kmq_slot_at(&f->v, idx);
		if (len > room) {
			/* Rewritten by a mapper since it was checked: it goes
			 * back, behind the others (as in the kernel). If even
			 * that stays blocked, it is held as READY and the
			 * kernel's repair delivers it at close. */
			b->msg.len = len;
			kmq_store(&s->state, KMQ_SLOT_READY);
			if (!push_bounded(f, &f->v.ready, idx))
				pushed |= KMQ_WAKE_READERS;
			err = -EMSGSIZE;
			break;
		}
		if (len)
			memcpy(b->buf, (unsigned char *)kmq_slot_data(s) + alen,
			       len);
		describe(&b->msg, s, len);
		KMQ_PROBE4(recv, f->name, b->msg.id, b->msg.sent_ns, len);
		b->msg.data = b->buf;
		b->msg.slot = KMQ_MSG_NOSLOT;
		err = give_back(f, idx, &pushed);
		if (err) {
			i++;	/* delivered all the same */
			break;
		}
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

	flush(f, wake);
	err = take_msg(f, NULL, &idx, &alen, &len, NULL, &pushed);
	wake_check(f, wake, pushed);
	if (err)
		return err;
	s = kmq_slot_at(&f->v, idx);
	describe(msg, s, len);
	KMQ_PROBE4(recv, f->name, msg->id, msg->sent_ns, len);
	msg->data = (unsigned char *)kmq_slot_data(s) + alen;
	msg->slot = idx;
	return 0;
}

/* kmq_fast_release - give a borrowed slot back to the free ring (later, if
 * a stalled popper holds its tail cell: the message is consumed anyway).
 * -EINVAL when @msg does not name a slot this client borrowed. */
int kmq_fast_release(struct kmq_fast *f, struct kmq_msg *msg,
		     unsigned int *wake)
{
	unsigned int pushed = 0;
	struct kmq_slot *s;
	int err;

	flush(f, wake);
	if (msg->slot >= f->v.free.cap)
		return -EINVAL;
	s = kmq_slot_at(&f->v, msg->slot);
	if (kmq_load(&s->owner) != f->client_id ||
	    kmq_load(&s->state) != KMQ_SLOT_BORROWED)
		return -EINVAL;
	err = give_back(f, msg->slot, &pushed);
	if (err)
		return err;
	KMQ_PROBE3(release, f->name, msg->id, msg->sent_ns);
	msg->slot = KMQ_MSG_NOSLOT;
	msg->data = NULL;
	wake_check(f, wake, pushed);
	return 0;
}

int kmq_fast_events(struct kmq_fast *f, int events)
{
	int ev = 0;

	if ((events & KMQ_READABLE) && kmq_ring_peek(&f->v.ready))
		ev |= KMQ_READABLE;
	if ((events & KMQ_WRITABLE) && kmq_ring_peek(&f->v.free) &&
	    kmq_ring_pushable(&f->v.ready))
		ev |= KMQ_WRITABLE;
	return ev;
}

bool kmq_fast_stalled(struct kmq_fast *f, int events)
{
	return (events & KMQ_WRITABLE) && kmq_ring_peek(&f->v.free) &&
	       !kmq_ring_pushable(&f->v.ready);
}

int kmq_fast_arm(struct kmq_fast *f, int events)
{
	if (events & KMQ_READABLE)
		kmq_arm_wake(&f->v.hdr->rd_wait);
	if (events & KMQ_WRITABLE)
		kmq_arm_wake(&f->v.hdr->wr_wait);
	return kmq_fast_events(f, events);
}
