/* SPDX-License-Identifier: MIT */
/*
 * The floor: a bare single-producer single-consumer ring in a memfd mapped
 * by both processes. Fixed-size slots written and read in place; the
 * producer publishes with a release store of its tail, the consumer frees
 * with a release store of its head, and each side caches the other's index
 * so the shared counters are touched only when the cached view runs out
 * (Lamport's queue with cached indices, as in FastForward/Folly/rigtorp).
 * It spins; it has no wake-up, no crash repair, no multi-party support: the
 * least any shared-memory queue on this machine can cost.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

struct ring_shm {
	_Alignas(128) uint64_t head;	/* consumer: next to read */
	_Alignas(128) uint64_t tail;	/* producer: next to write */
	_Alignas(128) unsigned char slots[];
};

struct ring_chan {
	int fd;
	size_t bytes, slot;
	unsigned int depth;
};

struct ring_ep {
	struct ring_shm *q;
	size_t bytes, slot, size;
	uint64_t mask, depth;
	uint64_t mine;		/* my index (tail or head), private copy */
	uint64_t theirs;	/* cached view of the other's index */
};

static const char *ring_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	if (t != TOPO_1_1)
		return "single producer, single consumer";
	if (m != WAIT_SPIN)
		return "spins only (the floor)";
	return NULL;
}

static int ring_create(struct chan *ch)
{
	struct ring_chan *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return -ENOMEM;
	rc->depth = ch->cfg.depth;
	rc->slot = (ch->cfg.size + 63) & ~(size_t)63;
	rc->bytes = sizeof(struct ring_shm) + rc->slot * rc->depth;
	rc->fd = memfd_create(ch->cfg.tag, MFD_CLOEXEC);
	if (rc->fd < 0 || ftruncate(rc->fd, (off_t)rc->bytes)) {
		int err = -errno;

		if (rc->fd >= 0)
			close(rc->fd);
		free(rc);
		return err;
	}
	ch->priv = rc;
	return 0;
}

static void ring_destroy(struct chan *ch)
{
	struct ring_chan *rc = ch->priv;

	close(rc->fd);
	free(rc);
}

static void *ring_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct ring_chan *rc = ch->priv;
	struct ring_ep *e = calloc(1, sizeof(*e));

	if (!e)
		bench_die("ring: out of memory");
	e->q = mmap(NULL, rc->bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    rc->fd, 0);
	if (e->q == MAP_FAILED)
		bench_die("ring: mmap failed");
	e->bytes = rc->bytes;
	e->slot = rc->slot;
	e->depth = rc->depth;
	e->mask = rc->depth - 1;
	e->mine = 0;
	e->size = ch->cfg.size;
	return e;
}

static void ring_close(void *ep)
{
	struct ring_ep *e = ep;

	munmap(e->q, e->bytes);
	free(e);
}

static void *ring_loan(void *ep, size_t len)
{
	struct ring_ep *e = ep;

	while (e->mine - e->theirs >= e->depth) {
		e->theirs = __atomic_load_n(&e->q->head, __ATOMIC_ACQUIRE);
		if (e->mine - e->theirs >= e->depth)
			cpu_relax();
	}
	return e->q->slots + (e->mine & e->mask) * e->slot;
}

static void ring_send(void *ep, void *buf, size_t len)
{
	struct ring_ep *e = ep;

	__atomic_store_n(&e->q->tail, ++e->mine, __ATOMIC_RELEASE);
}

static const void *ring_recv(void *ep, size_t *len)
{
	struct ring_ep *e = ep;

	if (e->mine == e->theirs) {
		e->theirs = __atomic_load_n(&e->q->tail, __ATOMIC_ACQUIRE);
		if (e->mine == e->theirs)
			return NULL;
	}
	*len = e->size;		/* fixed per channel: no length field */
	return e->q->slots + (e->mine & e->mask) * e->slot;
}

static void ring_release(void *ep, const void *buf)
{
	struct ring_ep *e = ep;

	__atomic_store_n(&e->q->head, ++e->mine, __ATOMIC_RELEASE);
}

const struct sys_ops sys_ring = {
	.name = "ring",
	.label = "bare SPSC ring (floor)",
	.how = "memfd SPSC ring, cached indices, in-place slots, spinning",
	.unsupported = ring_unsupported,
	.chan_create = ring_create,
	.chan_destroy = ring_destroy,
	.open = ring_open,
	.close = ring_close,
	.loan = ring_loan,
	.send = ring_send,
	.recv = ring_recv,
	.release = ring_release,
};
