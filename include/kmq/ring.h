/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The kmq ring protocol (specified in include/uapi/linux/kmq.h), written once
 * and compiled twice: into kmq.ko (copying path, crash repair) and into
 * libkmq (the fast path). Every value read from the shared cells is read
 * once, checked, and never used to index memory unchecked: the kernel runs
 * this code on memory that user space can scribble on.
 *
 * The includer provides nothing: atomics come from the kernel's primitives
 * under __KERNEL__ and from the compiler's __atomic builtins otherwise.
 */
#ifndef KMQ_RING_H
#define KMQ_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/atomic.h>
#include <asm/processor.h>
#include <uapi/linux/kmq.h>
#define kmq_load(p)		READ_ONCE(*(p))
#define kmq_load_acq(p)		smp_load_acquire(p)
#define kmq_store(p, v)		WRITE_ONCE(*(p), (v))
#define kmq_store_rel(p, v)	smp_store_release((p), (v))
#define kmq_cas(p, o, n)	kmq_cas_u64((p), (o), (n))
#define kmq_xchg32(p, v)	xchg((p), (v))
#define kmq_mb()		smp_mb()
#define kmq_rmb()		smp_rmb()
#define kmq_relax()		cpu_relax()
/* A function, not a bare comparison: helpers discard the result, and a
 * discarded comparison is a warning in the module's W=1 build. */
static inline bool kmq_cas_u64(__u64 *p, __u64 o, __u64 n)
{
	return cmpxchg64(p, o, n) == o;
}
#else
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <linux/kmq.h>
#define kmq_load(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define kmq_load_acq(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define kmq_store(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define kmq_store_rel(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define kmq_cas(p, o, n)	({ __u64 __o = (o); \
	__atomic_compare_exchange_n((p), &__o, (n), false, \
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED); })
#define kmq_xchg32(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define kmq_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define kmq_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#if defined(__x86_64__) || defined(__i386__)
#define kmq_relax()		__builtin_ia32_pause()
#elif defined(__aarch64__)
#define kmq_relax()		__asm__ __volatile__("yield" ::: "memory")
#else
#define kmq_relax()		__asm__ __volatile__("" ::: "memory")
#endif
#endif

#define KMQ_POS62	((1ULL << 62) - 1)
#define KMQ_POS42	((1ULL << 42) - 1)
#define KMQ_POS22	((1ULL << 22) - 1)

/* Retries of one push or pop before it reports the ring as corrupt. Every
 * retry means another party made progress or the ring is damaged. */
#define KMQ_RING_SPINS	(1U << 16)

/* A view of one ring: where its cells and counters are, and its size. The
 * kernel builds it from its own trusted copy of the geometry. */
struct kmq_ring {
	__u64 *cells;
	struct kmq_ring_ctl *ctl;
	__u32 mask;		/* capacity - 1 */
	__u32 cap;
};

/*
 * A view of a whole queue: both rings and the slot pool. The kernel fills it
 * from its trusted geometry, libkmq from kmq_info.
 */
struct kmq_view {
	struct kmq_hdr *hdr;
	struct kmq_ring free;
	struct kmq_ring ready;
	unsigned char *slots;
	__u32 slot_size;
	__u32 max_msg_size;
};

static inline struct kmq_slot *kmq_slot_at(const struct kmq_view *v, __u32 idx)
{
	return (struct kmq_slot *)(v->slots + (__u64)idx * v->slot_size);
}

static inline void *kmq_slot_data(struct kmq_slot *s)
{
	return (unsigned char *)s + KMQ_SLOT_HDR_SIZE;
}

static inline __u64 kmq_cell_empty(__u64 pos)
{
	return (pos & KMQ_POS62) << KMQ_CELL_EMPTY_SHIFT | KMQ_CELL_EMPTY;
}

static inline __u64 kmq_cell_full(__u64 pos, __u32 idx)
{
	return (pos & KMQ_POS42) << KMQ_CELL_FULL_SHIFT |
	       (__u64)(idx & KMQ_CELL_IDX_MASK) << KMQ_CELL_IDX_SHIFT |
	       KMQ_CELL_FULL;
}

static inline __u64 kmq_cell_taken(__u64 pos, __u32 owner, __u32 idx)
{
	return (pos & KMQ_POS22) << KMQ_CELL_TAKEN_SHIFT |
	       (__u64)(owner & KMQ_CELL_OWNER_MASK) << KMQ_CELL_OWNER_SHIFT |
	       (__u64)(idx & KMQ_CELL_IDX_MASK) << KMQ_CELL_IDX_SHIFT |
	       KMQ_CELL_TAKEN;
}

static inline __u32 kmq_cell_kind(__u64 c)
{
	return (__u32)(c & KMQ_CELL_KIND_MASK);
}

static inline __u32 kmq_cell_idx(__u64 c)
{
	return (__u32)((c >> KMQ_CELL_IDX_SHIFT) & KMQ_CELL_IDX_MASK);
}

static inline __u32 kmq_cell_owner(__u64 c)
{
	return (__u32)((c >> KMQ_CELL_OWNER_SHIFT) & KMQ_CELL_OWNER_MASK);
}

static inline bool kmq_cell_is_empty(__u64 c, __u64 pos)
{
	return c == kmq_cell_empty(pos);
}

static inline bool kmq_cell_is_full(__u64 c, __u64 pos)
{
	return kmq_cell_kind(c) == KMQ_CELL_FULL &&
	       (c >> KMQ_CELL_FULL_SHIFT) == (pos & KMQ_POS42);
}

static inline bool kmq_cell_is_taken(__u64 c, __u64 pos)
{
	return kmq_cell_kind(c) == KMQ_CELL_TAKEN &&
	       (c >> KMQ_CELL_TAKEN_SHIFT) == (pos & KMQ_POS22);
}

/*
 * kmq_ring_push - publish slot @idx at the ring's tail.
 * Returns 0, or -EBUSY when the tail cell is still held by the popper of
 * the previous lap (retry after it releases it; it may be preempted, or
 * dead until the kernel repairs), or -EIO after KMQ_RING_SPINS retries
 * (the ring is damaged). A corrupt cell at a stable tail is overwritten and
 * counted in *@corrupt when @corrupt is not NULL.
 */
static inline int kmq_ring_push(struct kmq_ring *r, __u32 idx, __u64 *corrupt)
{
	__u32 spins;

	for (spins = 0; spins < KMQ_RING_SPINS; spins++) {
		__u64 t = kmq_load_acq(&r->ctl->tail);
		__u64 *cell = &r->cells[t & r->mask];
		__u64 c = kmq_load_acq(cell);

		if (kmq_cell_is_empty(c, t)) {
			if (kmq_cas(cell, c, kmq_cell_full(t, idx))) {
				kmq_cas(&r->ctl->tail, t, t + 1);
				return 0;
			}
			continue;
		}
		if (kmq_cell_is_full(c, t) || kmq_cell_is_taken(c, t) ||
		    kmq_cell_is_empty(c, t + r->cap)) {
			kmq_cas(&r->ctl->tail, t, t + 1);	/* help */
			continue;
		}
		if (kmq_cell_is_taken(c, t - r->cap))
			return -EBUSY;
		if (kmq_load_acq(&r->ctl->tail) != t)
			continue;				/* stale */
		/* A stable tail over a cell no protocol step can produce. */
		if (kmq_cas(cell, c, kmq_cell_empty(t)) && corrupt)
			(*corrupt)++;
	}
	return -EIO;
}

/*
 * A length check that a pop makes between reading the head cell and the CAS
 * that takes it, so that a message too big for the caller is never taken:
 * it stays first in line. The slot cannot change while a FULL cell names it
 * (it belongs to the ring), and a cell holds FULL(p) at most once, so
 * rereading the cell after the slot makes the check exact.
 */
struct kmq_fit {
	const struct kmq_view *v;	/* the queue whose slots the ring names */
	__u32 room;			/* body bytes the caller can take */
	__u32 need;			/* out, with -EMSGSIZE: the body's length */
};

/*
 * kmq_ring_pop_fit - kmq_ring_pop() that, when @fit is not NULL, first checks
 * the message at the head: if its body is longer than fit->room it is left
 * where it is and -EMSGSIZE is returned with its length in fit->need. A
 * length no sender can have written (attr_len + len > max_msg_size) is not
 * a reason to refuse: such a slot is popped, for the caller to drop.
 */
static inline int kmq_ring_pop_fit(struct kmq_ring *r, __u32 owner,
				   __u32 *idx, __u64 *pos, __u64 *corrupt,
				   struct kmq_fit *fit)
{
	__u32 spins;

	for (spins = 0; spins < KMQ_RING_SPINS; spins++) {
		__u64 h = kmq_load_acq(&r->ctl->head);
		__u64 *cell = &r->cells[h & r->mask];
		__u64 c = kmq_load_acq(cell);

		if (kmq_cell_is_full(c, h)) {
			__u32 i = kmq_cell_idx(c);

			if (fit && i < r->cap) {
				struct kmq_slot *s = kmq_slot_at(fit->v, i);
				__u32 len = kmq_load(&s->len);
				__u32 alen = kmq_load(&s->attr_len);

				if ((__u64)len + alen <= fit->v->max_msg_size &&
				    len > fit->room) {
					kmq_rmb();	/* slot, then cell again */
					if (kmq_load_acq(cell) != c)
						continue;	/* popped meanwhile */
					fit->need = len;
					return -EMSGSIZE;
				}
			}
			if (!kmq_cas(cell, c, kmq_cell_taken(h, owner, i)))
				continue;
			kmq_cas(&r->ctl->head, h, h + 1);
			if (i >= r->cap) {	/* names no slot: drop it */
				kmq_store_rel(cell, kmq_cell_empty(h + r->cap));
				if (corrupt)
					(*corrupt)++;
				continue;
			}
			*idx = i;
			*pos = h;
			return 0;
		}
		if (kmq_cell_is_taken(c, h) ||
		    kmq_cell_is_empty(c, h + r->cap)) {
			kmq_cas(&r->ctl->head, h, h + 1);	/* help */
			continue;
		}
		if (kmq_cell_is_empty(c, h) || kmq_cell_is_taken(c, h - r->cap))
			return -EAGAIN;
		if (kmq_load_acq(&r->ctl->head) != h)
			continue;				/* stale */
		/* Damaged cell at a stable head: a lost position. Releasing it
		 * lets the ring move on; the tail may be behind, so only the
		 * cell is rewritten and the head helped. */
		if (kmq_cas(cell, c, kmq_cell_empty(h + r->cap))) {
			kmq_cas(&r->ctl->head, h, h + 1);
			if (corrupt)
				(*corrupt)++;
		}
	}
	return -EIO;
}

/*
 * kmq_ring_pop - take the slot at the ring's head for client @owner.
 * On success returns 0 with the slot in *@idx (< r->cap) and its position
 * in *@pos: the caller records ownership in the slot header, then calls
 * kmq_ring_release(r, *pos). Returns -EAGAIN when the ring is empty, -EIO
 * after KMQ_RING_SPINS retries. Cells naming a slot beyond the ring, or that
 * no protocol step can produce, are dropped and counted in *@corrupt.
 */
static inline int kmq_ring_pop(struct kmq_ring *r, __u32 owner, __u32 *idx,
			       __u64 *pos, __u64 *corrupt)
{
	return kmq_ring_pop_fit(r, owner, idx, pos, corrupt, NULL);
}

/* kmq_ring_release - hand back the cell of position @pos that this client
 * popped (TAKEN) once the slot header records the new holder. */
static inline void kmq_ring_release(struct kmq_ring *r, __u64 pos)
{
	kmq_store_rel(&r->cells[pos & r->mask], kmq_cell_empty(pos + r->cap));
}

/* kmq_ring_peek - true when the cell at the head shows a message to pop.
 * A hint for poll() and waits: another consumer may take it first. */
static inline bool kmq_ring_peek(struct kmq_ring *r)
{
	__u64 h = kmq_load_acq(&r->ctl->head);

	return kmq_cell_is_full(kmq_load_acq(&r->cells[h & r->mask]), h);
}

/* kmq_ring_pushable - true unless the cell at the tail is still held by
 * the popper of the previous lap (the case where a push returns -EBUSY).
 * A hint, like kmq_ring_peek(): the tail may move on at once. */
static inline bool kmq_ring_pushable(struct kmq_ring *r)
{
	__u64 t = kmq_load_acq(&r->ctl->tail);

	return !kmq_cell_is_taken(kmq_load_acq(&r->cells[t & r->mask]),
				  t - r->cap);
}

/* kmq_ring_count - entries between head and tail, clamped to [0, cap]. */
static inline __u64 kmq_ring_count(struct kmq_ring *r)
{
	__u64 h = kmq_load_acq(&r->ctl->head);
	__u64 t = kmq_load_acq(&r->ctl->tail);

	if (t < h)
		return 0;
	return t - h > r->cap ? r->cap : t - h;
}


/*
 * kmq_take - pop @ring for client @me and record the slot as held in state
 * @state (KMQ_SLOT_CLAIMED from the free ring, KMQ_SLOT_BORROWED from the
 * ready ring). Returns 0 with *@idx, -EAGAIN when the ring is empty, -EIO.
 */
static inline int kmq_take(struct kmq_view *v, struct kmq_ring *ring,
			   __u32 me, __u32 state, __u32 *idx, __u64 *corrupt)
{
	struct kmq_slot *s;
	__u64 pos;
	int err;

	err = kmq_ring_pop(ring, me, idx, &pos, corrupt);
	if (err)
		return err;
	s = kmq_slot_at(v, *idx);
	kmq_store(&s->owner, me);
	kmq_store(&s->state, state);
	kmq_ring_release(ring, pos);
	return 0;
}

/*
 * kmq_take_fit - kmq_take() of the ready ring (state KMQ_SLOT_BORROWED) for
 * a caller with room for @room body bytes: a message with a longer body is
 * not taken, stays first in line, and the call returns -EMSGSIZE with its
 * length in *@need. Returns 0 with *@idx, -EAGAIN when empty, -EIO.
 */
static inline int kmq_take_fit(struct kmq_view *v, __u32 me, __u32 room,
			       __u32 *idx, __u32 *need, __u64 *corrupt)
{
	struct kmq_fit fit = { .v = v, .room = room, .need = 0 };
	struct kmq_slot *s;
	__u64 pos;
	int err;

	err = kmq_ring_pop_fit(&v->ready, me, idx, &pos, corrupt, &fit);
	if (err == -EMSGSIZE)
		*need = fit.need;
	if (err)
		return err;
	s = kmq_slot_at(v, *idx);
	kmq_store(&s->owner, me);
	kmq_store(&s->state, KMQ_SLOT_BORROWED);
	kmq_ring_release(&v->ready, pos);
	return 0;
}

/*
 * kmq_put - mark held slot @idx as @state (KMQ_SLOT_READY to publish it,
 * KMQ_SLOT_FREE to give it back) and push it onto @ring, waiting out a cell
 * still held by a preempted popper for at most KMQ_RING_SPINS tries.
 * Returns 0, -EBUSY (still held: the caller keeps the slot and retries
 * later), or -EIO.
 */
static inline int kmq_put(struct kmq_view *v, struct kmq_ring *ring,
			  __u32 idx, __u32 state, __u64 *corrupt)
{
	__u32 spins;
	int err;

	kmq_store(&kmq_slot_at(v, idx)->state, state);
	for (spins = 0; spins < KMQ_RING_SPINS; spins++) {
		err = kmq_ring_push(ring, idx, corrupt);
		if (err != -EBUSY)
			return err;
		kmq_relax();
	}
	return -EBUSY;
}

/*
 * kmq_need_wake - after a push: true when a sleeper armed @flag, which this
 * caller then owns the duty of waking (KMQ_IOC_WAKE or a direct wake).
 */
static inline bool kmq_need_wake(__u32 *flag)
{
	kmq_mb();
	return kmq_load(flag) && kmq_xchg32(flag, 0);
}

/* kmq_arm_wake - before sleeping: ask for a wake, then recheck the ring. */
static inline void kmq_arm_wake(__u32 *flag)
{
	kmq_store(flag, 1);
	kmq_mb();
}


/* The geometry of a queue: what the kernel (or the shm backend) decides at
 * creation and reports in kmq_info. */
struct kmq_layout {
	__u32 capacity;		/* power of two */
	__u32 max_msg_size;
	__u32 slot_size;
	__u32 pad;
	__u64 free_off;
	__u64 ready_off;
	__u64 slots_off;
	__u64 size;		/* page-aligned */
};

#define KMQ_PAGE_ALIGN(x)	(((x) + 4095ULL) & ~4095ULL)
#define KMQ_LINE_ALIGN(x)	(((x) + 63ULL) & ~63ULL)

/*
 * kmq_layout_compute - lay out a queue of @capacity messages (rounded up to
 * a power of two) of at most @max_msg_size bytes. Returns 0 or -EINVAL when
 * either is 0 or beyond KMQ_CAPACITY_MAX / KMQ_MSG_MAX.
 */
static inline int kmq_layout_compute(struct kmq_layout *l, __u32 capacity,
				     __u32 max_msg_size)
{
	__u32 cap = 1;

	if (!capacity || capacity > KMQ_CAPACITY_MAX ||
	    !max_msg_size || max_msg_size > KMQ_MSG_MAX)
		return -EINVAL;
	while (cap < capacity)
		cap <<= 1;
	l->capacity = cap;
	l->max_msg_size = max_msg_size;
	l->slot_size = (__u32)KMQ_LINE_ALIGN(KMQ_SLOT_HDR_SIZE + (__u64)max_msg_size);
	l->pad = 0;
	l->free_off = KMQ_HDR_SIZE;
	l->ready_off = KMQ_LINE_ALIGN(l->free_off + 8ULL * cap);
	l->slots_off = KMQ_PAGE_ALIGN(l->ready_off + 8ULL * cap);
	l->size = KMQ_PAGE_ALIGN(l->slots_off + (__u64)l->slot_size * cap);
	return 0;
}

/*
 * kmq_layout_init - format zeroed queue memory @base laid out as @l: the
 * header, a free ring holding every slot, an empty ready ring.
 */
static inline void kmq_layout_init(void *base, const struct kmq_layout *l,
				   __u64 features, __u64 created_ns)
{
	struct kmq_hdr *h = (struct kmq_hdr *)base;
	__u64 *free_cells = (__u64 *)((unsigned char *)base + l->free_off);
	__u64 *ready_cells = (__u64 *)((unsigned char *)base + l->ready_off);
	__u32 i;

	h->magic = KMQ_MAGIC;
	h->abi = KMQ_ABI_VERSION;
	h->features = features;
	h->type = KMQ_TYPE_QUEUE;
	h->capacity = l->capacity;
	h->slot_size = l->slot_size;
	h->max_msg_size = l->max_msg_size;
	h->policy_max_msg_size = l->max_msg_size;	/* the default policy */
	h->free_off = l->free_off;
	h->ready_off = l->ready_off;
	h->slots_off = l->slots_off;
	h->size = l->size;
	h->created_ns = created_ns;
	for (i = 0; i < l->capacity; i++) {
		free_cells[i] = kmq_cell_full(i, i);
		ready_cells[i] = kmq_cell_empty(i);
	}
	h->free.head = 0;
	h->free.tail = l->capacity;
	h->ready.head = 0;
	h->ready.tail = 0;
}

/* kmq_view_init - point @v at queue memory @base laid out as @l. */
static inline void kmq_view_init(struct kmq_view *v, void *base,
				 const struct kmq_layout *l)
{
	unsigned char *b = (unsigned char *)base;

	v->hdr = (struct kmq_hdr *)base;
	v->free.cells = (__u64 *)(b + l->free_off);
	v->free.ctl = &v->hdr->free;
	v->free.cap = l->capacity;
	v->free.mask = l->capacity - 1;
	v->ready.cells = (__u64 *)(b + l->ready_off);
	v->ready.ctl = &v->hdr->ready;
	v->ready.cap = l->capacity;
	v->ready.mask = l->capacity - 1;
	v->slots = b + l->slots_off;
	v->slot_size = l->slot_size;
	v->max_msg_size = l->max_msg_size;
}

#endif /* KMQ_RING_H */
