/* SPDX-License-Identifier: MIT */
/*
 * kmq, three ways.
 *
 * "kmq (fast path, memfd)": the queue is laid out by the benchmark in a
 * memfd (kmq_layout_compute/kmq_layout_init of include/kmq/ring.h, as the
 * kernel or kmqd would), every process maps it and attaches a libkmq handle
 * to it (kmq_alloc + kmq_attach from tools/lib/kmq/internal.h), and then
 * moves messages through libkmq's public calls: kmq_reserve() +
 * kmq_commit() (the payload is written in place in the claimed slot),
 * kmq_borrow() + kmq_release() (reads the body in place). So the measured code is
 * libkmq's real fast path: argument checks, the ring protocol, the
 * need-wakeup flags and the library's wait policy (spin KMQ_WAIT_SPIN_NS,
 * then sleep). What the kernel would do on a sleep or a wake is stood in by
 * a tiny backend here: FUTEX_WAIT on the armed hdr.rd_wait / hdr.wr_wait
 * word and FUTEX_WAKE on it, which is what a shm backend can do too.
 *
 * "kmq /dev/kmq (mapped)" and "kmq /dev/kmq (copy)": kmq_create() +
 * kmq_open() through the module, the mapped fast path (woken by the
 * kernel: in place as above) and the copying path (KMQ_COPY: kmq_send and
 * kmq_recv over ioctls). Only where /dev/kmq
 * exists (the VM, `make bench-vm`).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"	/* tools/lib/kmq: struct kmq, kmq_alloc, kmq_attach */
#include "bench.h"

#define RECV_TIMEOUT_NS	200000000LL	/* blocking receivers look up this often */

/* ---- a stand-in backend: futexes on the need-wakeup words ------------- */

static long futex(__u32 *uaddr, int op, __u32 val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static int memfd_wait(struct kmq *q, int events, const struct timespec *timeout)
{
	struct kmq_hdr *h = q->fast.v.hdr;
	__u32 *word;
	int ev;

	ev = kmq_fast_arm(&q->fast, events);	/* arm, full barrier, recheck */
	if (ev)
		return ev;
	if (timeout && !timeout->tv_sec && !timeout->tv_nsec)
		return 0;
	/* one waiter kind at a time in this benchmark */
	word = (events & KMQ_READABLE) ? &h->rd_wait : &h->wr_wait;
	if (futex(word, FUTEX_WAIT, 1, timeout) && errno == EINTR)
		return -EINTR;
	return kmq_fast_events(&q->fast, events);
}

static int memfd_wake(struct kmq *q, unsigned int who)
{
	struct kmq_hdr *h = q->fast.v.hdr;

	if (who & KMQ_WAKE_READERS)
		futex(&h->rd_wait, FUTEX_WAKE, INT_MAX, NULL);
	if (who & KMQ_WAKE_WRITERS)
		futex(&h->wr_wait, FUTEX_WAKE, INT_MAX, NULL);
	return 0;
}

static const struct kmq_backend memfd_backend = {
	.name = "bench-memfd",
	.wait = memfd_wait,
	.wake = memfd_wake,
};

/* ---- shared by the three ---------------------------------------------- */

struct kq_chan {
	int fd;			/* memfd, or -1 for /dev/kmq queues */
	struct kmq_layout l;
	char name[64];
};

struct kq_ep {
	struct kmq *q;
	void *base;
	size_t map_size;
	int64_t snd_tmo, rcv_tmo;
	bool borrow;		/* mapped: read in place */
	bool inplace;		/* mapped: write in place (kmq_reserve) */
	struct kmq_wbuf w;	/* the sender's reservation */
	struct kmq_msg msg;
	unsigned char *buf;	/* the sender's message, the copy receiver's */
	size_t size;
};

static const char *kq_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	return NULL;
}

static void kq_timeouts(struct kq_ep *e, enum wait_mode m)
{
	e->snd_tmo = m == WAIT_SPIN ? 0 : KMQ_FOREVER;
	e->rcv_tmo = m == WAIT_SPIN ? 0 : RECV_TIMEOUT_NS;
}

static void kq_close(void *ep)
{
	struct kq_ep *e = ep;

	if (e->base) {
		free(e->q);	/* not opened through a backend: nothing else */
		munmap(e->base, e->map_size);
	} else {
		kmq_close(e->q);
	}
	free(e->buf);
	free(e);
}

static bool kq_retry(int err)
{
	return err == -EAGAIN || err == -ETIMEDOUT || err == -EINTR;
}

static void *kq_loan(void *ep, size_t len)
{
	struct kq_ep *e = ep;
	int err;

	if (!e->inplace)
		return e->buf;
	while ((err = kmq_reserve(e->q, &e->w, e->snd_tmo)) < 0) {
		if (!kq_retry(err))
			bench_die("kmq: kmq_reserve: %s", strerror(-err));
		cpu_relax();
	}
	return e->w.data;
}

static void kq_send(void *ep, void *buf, size_t len)
{
	struct kq_ep *e = ep;
	int err;

	if (e->inplace) {
		/* -EAGAIN: a stalled receiver holds the next place; the
		 * reservation stays, try again. */
		while ((err = kmq_commit(e->q, &e->w, len, NULL)) < 0) {
			if (err != -EAGAIN)
				bench_die("kmq: kmq_commit: %s",
					  strerror(-err));
			cpu_relax();
		}
		return;
	}
	while ((err = kmq_send(e->q, buf, len, e->snd_tmo)) < 0) {
		if (err == -EAGAIN || err == -ETIMEDOUT || err == -EINTR) {
			cpu_relax();
			continue;
		}
		bench_die("kmq: kmq_send: %s", strerror(-err));
	}
}

static const void *kq_recv(void *ep, size_t *len)
{
	struct kq_ep *e = ep;
	int err;

	if (e->borrow)
		err = kmq_borrow(e->q, &e->msg, e->rcv_tmo);
	else
		err = kmq_recv(e->q, e->buf, e->size, &e->msg, e->rcv_tmo);
	if (err < 0) {
		if (err == -EAGAIN || err == -ETIMEDOUT || err == -EINTR)
			return NULL;
		bench_die("kmq: %s: %s", e->borrow ? "kmq_borrow" : "kmq_recv",
			  strerror(-err));
	}
	*len = e->msg.len;
	return e->borrow ? e->msg.data : e->buf;
}

static void kq_release(void *ep, const void *buf)
{
	struct kq_ep *e = ep;
	int err;

	if (!e->borrow)
		return;
	err = kmq_release(e->q, &e->msg);
	if (err)
		bench_die("kmq: kmq_release: %s", strerror(-err));
}

static struct kq_ep *kq_ep_new(struct chan *ch, enum role r)
{
	struct kq_ep *e = calloc(1, sizeof(*e));

	if (!e || !(e->buf = malloc(ch->cfg.size)))
		bench_die("kmq: out of memory");
	e->size = ch->cfg.size;
	kq_timeouts(e, ch->cfg.mode);
	return e;
}

/* ---- kmq (fast path, memfd) ------------------------------------------- */

static int fast_create(struct chan *ch)
{
	struct kq_chan *kc = calloc(1, sizeof(*kc));
	void *base;
	int err;

	if (!kc)
		return -ENOMEM;
	kc->fd = -1;
	err = kmq_layout_compute(&kc->l, ch->cfg.depth, (__u32)ch->cfg.size);
	if (err)
		goto fail;
	kc->fd = memfd_create(ch->cfg.tag, MFD_CLOEXEC);
	if (kc->fd < 0 || ftruncate(kc->fd, (off_t)kc->l.size)) {
		err = -errno;
		goto fail;
	}
	base = mmap(NULL, kc->l.size, PROT_READ | PROT_WRITE, MAP_SHARED, kc->fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto fail;
	}
	kmq_layout_init(base, &kc->l, KMQ_FEAT_RINGS, 0);
	munmap(base, kc->l.size);
	ch->priv = kc;
	return 0;
fail:
	if (kc->fd >= 0)
		close(kc->fd);
	free(kc);
	return err;
}

static void fast_destroy(struct chan *ch)
{
	struct kq_chan *kc = ch->priv;

	close(kc->fd);
	free(kc);
}

static void *fast_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct kq_chan *kc = ch->priv;
	struct kq_ep *e = kq_ep_new(ch, r);
	/* distinct client ids: receivers 1.., senders 17.. */
	__u32 client = (r == ROLE_RECV ? 1 : 17) + idx;

	e->map_size = kc->l.size;
	e->base = mmap(NULL, kc->l.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       kc->fd, 0);
	if (e->base == MAP_FAILED)
		bench_die("kmq: mmap: %s", strerror(errno));
	e->q = kmq_alloc(&memfd_backend, r == ROLE_SEND ? KMQ_SEND : KMQ_RECV);
	if (!e->q)
		bench_die("kmq: out of memory");
	kmq_attach(e->q, e->base, &kc->l, client);
	e->borrow = true;
	e->inplace = true;
	return e;
}

const struct sys_ops sys_kmq = {
	.name = "kmq",
	.label = "kmq (fast path, memfd)",
	.how = "libkmq kmq_reserve + kmq_commit / kmq_borrow + kmq_release on a handle attached to a memfd queue (kmq_alloc + kmq_attach); futex wait/wake on the need-wakeup words",
	.unsupported = kq_unsupported,
	.chan_create = fast_create,
	.chan_destroy = fast_destroy,
	.open = fast_open,
	.close = kq_close,
	.loan = kq_loan,
	.send = kq_send,
	.recv = kq_recv,
	.release = kq_release,
};

/* ---- kmq through /dev/kmq --------------------------------------------- */

static int dev_global_init(const char *outdir, const char **why)
{
	if (access(KMQ_DEVICE, R_OK | W_OK)) {
		*why = "no " KMQ_DEVICE " (kmq.ko not loaded: run make bench-vm)";
		return -1;
	}
	return 0;
}

static int dev_create(struct chan *ch)
{
	struct kq_chan *kc = calloc(1, sizeof(*kc));
	struct kmq_qattr a = {
		.capacity = ch->cfg.depth,
		.max_msg_size = (uint32_t)ch->cfg.size,
		.mode = 0600,
		.flags = KMQ_CREATE_EXCL,
	};
	int err;

	if (!kc)
		return -ENOMEM;
	kc->fd = -1;
	snprintf(kc->name, sizeof(kc->name), "%s", ch->cfg.tag);
	err = kmq_create(kc->name, &a);
	if (err) {
		free(kc);
		return err;
	}
	ch->priv = kc;
	return 0;
}

static void dev_destroy(struct chan *ch)
{
	struct kq_chan *kc = ch->priv;

	kmq_delete(kc->name);
	free(kc);
}

static void *dev_open(struct chan *ch, enum role r, bool copy)
{
	struct kq_chan *kc = ch->priv;
	struct kq_ep *e = kq_ep_new(ch, r);
	unsigned int flags = (r == ROLE_SEND ? KMQ_SEND : KMQ_RECV) | (copy ? KMQ_COPY : 0);
	int err = kmq_open(kc->name, flags, &e->q);

	if (err)
		bench_die("kmq: kmq_open(%s): %s", kc->name, strerror(-err));
	if (!copy && !kmq_mapped(e->q))
		bench_die("kmq: %s is not mapped", kc->name);
	e->borrow = !copy;
	e->inplace = !copy;
	return e;
}

static void *dev_open_map(struct chan *ch, enum role r, unsigned int idx)
{
	return dev_open(ch, r, false);
}

static void *dev_open_copy(struct chan *ch, enum role r, unsigned int idx)
{
	return dev_open(ch, r, true);
}

const struct sys_ops sys_kmq_dev_map = {
	.name = "kmq-dev",
	.label = "kmq /dev/kmq (mapped)",
	.how = "kmq_open() through kmq.ko, mapped fast path: kmq_reserve + kmq_commit / kmq_borrow + kmq_release, woken by the kernel",
	.unsupported = kq_unsupported,
	.global_init = dev_global_init,
	.chan_create = dev_create,
	.chan_destroy = dev_destroy,
	.open = dev_open_map,
	.close = kq_close,
	.loan = kq_loan,
	.send = kq_send,
	.recv = kq_recv,
	.release = kq_release,
};

const struct sys_ops sys_kmq_dev_copy = {
	.name = "kmq-copy",
	.label = "kmq /dev/kmq (copy)",
	.how = "kmq_open(KMQ_COPY) through kmq.ko: kmq_send / kmq_recv over the SEND/RECV ioctls",
	.unsupported = kq_unsupported,
	.global_init = dev_global_init,
	.chan_create = dev_create,
	.chan_destroy = dev_destroy,
	.open = dev_open_copy,
	.close = kq_close,
	.loan = kq_loan,
	.send = kq_send,
	.recv = kq_recv,
	.release = kq_release,
};
