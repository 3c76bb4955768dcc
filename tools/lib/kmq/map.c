// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Checking a queue before mapping it: the geometry comes from what the
 * queue's owner reported (struct kmq_info), never from the shared header,
 * which anyone who maps the queue can overwrite; the header must agree.
 */
#include "internal.h"

static bool pow2(__u32 x)
{
	return x && !(x & (x - 1));
}

/* [off, off + len) inside [KMQ_HDR_SIZE, size), 8-byte aligned. */
static bool region_ok(__u64 off, __u64 len, __u64 size)
{
	return off >= KMQ_HDR_SIZE && !(off & 7) && off <= size &&
	       len <= size - off;
}

static bool disjoint(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a + alen <= b || b + blen <= a;
}

/*
 * kmq_layout_from_info - the layout of the queue @info describes, after
 * checking that its rings and slots lie inside the mapping without
 * overlapping. -EPROTO when they do not.
 */
int kmq_layout_from_info(struct kmq_layout *l, const struct kmq_info *info)
{
	__u64 cap = info->capacity, rings = 8ULL * cap, pool;

	if (!pow2(info->capacity) || info->capacity > KMQ_CAPACITY_MAX ||
	    !info->max_msg_size || info->max_msg_size > KMQ_MSG_MAX ||
	    info->slot_size < KMQ_SLOT_HDR_SIZE + (__u64)info->max_msg_size ||
	    info->slot_size & 7 || info->size < KMQ_HDR_SIZE ||
	    info->size > (1ULL << 48))
		return -EPROTO;
	pool = (__u64)info->slot_size * cap;
	if (!region_ok(info->free_off, rings, info->size) ||
	    !region_ok(info->ready_off, rings, info->size) ||
	    !region_ok(info->slots_off, pool, info->size) ||
	    !disjoint(info->free_off, rings, info->ready_off, rings) ||
	    !disjoint(info->free_off, rings, info->slots_off, pool) ||
	    !disjoint(info->ready_off, rings, info->slots_off, pool))
		return -EPROTO;
	l->capacity = info->capacity;
	l->max_msg_size = info->max_msg_size;
	l->slot_size = info->slot_size;
	l->pad = 0;
	l->free_off = info->free_off;
	l->ready_off = info->ready_off;
	l->slots_off = info->slots_off;
	l->size = info->size;
	return 0;
}

/* kmq_hdr_check - 0 when the mapped header @h describes layout @l. */
int kmq_hdr_check(const struct kmq_hdr *h, const struct kmq_layout *l)
{
	if (kmq_load(&h->magic) != KMQ_MAGIC ||
	    kmq_load(&h->abi) != KMQ_ABI_VERSION ||
	    kmq_load(&h->capacity) != l->capacity ||
	    kmq_load(&h->slot_size) != l->slot_size ||
	    kmq_load(&h->max_msg_size) != l->max_msg_size ||
	    kmq_load(&h->free_off) != l->free_off ||
	    kmq_load(&h->ready_off) != l->ready_off ||
	    kmq_load(&h->slots_off) != l->slots_off ||
	    kmq_load(&h->size) != l->size)
		return -EPROTO;
	return 0;
}
