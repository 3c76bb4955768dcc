// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Checking a queue before mapping it: the geometry comes from what the
 * queue's owner reported (struct kmq_info), never from the shared header,
 * which anyone who maps the queue can overwrite; the header must agree.
 */
#include <sys/mman.h>
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

/*
 * kmq_map_queue - map the queue behind @fd (at offset @off) as its owner
 * described it in @info, check the header against that, and attach it to
 * @q as client info->client_id. Returns 0, -EPROTO, or mmap's -errno.
 */
int kmq_map_queue(struct kmq *q, int fd, __u64 off, const struct kmq_info *info)
{
	struct kmq_layout l;
	void *base;
	int err;

	err = kmq_layout_from_info(&l, info);
	if (err)
		return err;
	if (!info->client_id || info->client_id > KMQ_CLIENT_MAX ||
	    !(info->features & KMQ_FEAT_RINGS))
		return -EPROTO;
	base = mmap(NULL, (size_t)l.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    fd, (off_t)off);
	if (base == MAP_FAILED)
		return -errno;
	err = kmq_hdr_check(base, &l);
	if (err) {
		munmap(base, (size_t)l.size);
		return err;
	}
	q->map = base;
	q->map_size = (size_t)l.size;
	kmq_attach(q, base, &l, info->client_id);
	return 0;
}
