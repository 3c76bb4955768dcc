// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Sending and receiving on a handle: argument checks, then the fast path
 * (mapped) with waits and wakes around it, or the backend's copying path.
 */
#include <limits.h>
#include <string.h>
#include "internal.h"

/* wake - do the wakes the fast path said a sleeper asked for. The message
 * is already in the queue, so a failed wake is not the caller's error. */
static void wake(struct kmq *q, unsigned int who)
{
	if (who)
		q->be->wake(q, who);
}

static int check_send(struct kmq *q, const struct kmq_iov *msgs,
		      unsigned int n)
{
	unsigned int i;

	if (!q || !msgs || !n || n > INT_MAX)	/* counts are returned as int */
		return -EINVAL;
	if (!(q->flags & KMQ_SEND))
		return -EPERM;
	for (i = 0; i < n; i++) {
		if (!msgs[i].data && msgs[i].len)
			return -EINVAL;
		if (msgs[i].len > q->max_msg_size)
			return -EMSGSIZE;
	}
	return 0;
}

static int check_recv(struct kmq *q, const struct kmq_rbuf *bufs,
		      unsigned int n)
{
	unsigned int i;

	if (!q || !bufs || !n || n > INT_MAX)
		return -EINVAL;
	if (!(q->flags & KMQ_RECV))
		return -EPERM;
	for (i = 0; i < n; i++)
		if (!bufs[i].buf && bufs[i].cap)
			return -EINVAL;
	return 0;
}

static int send_msgs(struct kmq *q, const struct kmq_iov *msgs,
		     unsigned int n, __u64 *ids, int64_t timeout_ns)
{
	struct kmq_deadline d;
	int ret;

	ret = check_send(q, msgs, n);
	if (ret)
		return ret;
	if (!q->mapped)
		return q->be->send_copy(q, msgs, n, ids, timeout_ns);
	kmq_deadline_init(&d, timeout_ns);
	for (;;) {
		unsigned int who = 0;

		ret = kmq_fast_send(&q->fast, msgs, n, ids, &who);
		wake(q, who);
		if (ret != -EAGAIN)
			return ret;
		ret = kmq_wait_deadline(q, KMQ_WRITABLE, &d);
		if (ret < 0)
			return ret;
	}
}

static int recv_msgs(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
		     int64_t timeout_ns)
{
	struct kmq_deadline d;
	int ret;

	ret = check_recv(q, bufs, n);
	if (ret)
		return ret;
	if (!q->mapped)
		return q->be->recv_copy(q, bufs, n, timeout_ns);
	kmq_deadline_init(&d, timeout_ns);
	for (;;) {
		unsigned int who = 0;

		ret = kmq_fast_recv(&q->fast, bufs, n, &who);
		wake(q, who);
		if (ret != -EAGAIN)
			return ret;
		ret = kmq_wait_deadline(q, KMQ_READABLE, &d);
		if (ret < 0)
			return ret;
	}
}

KMQ_EXPORT int kmq_send(struct kmq *q, const void *data, size_t len,
			int64_t timeout_ns)
{
	return kmq_send_id(q, data, len, NULL, timeout_ns);
}

KMQ_EXPORT int kmq_send_id(struct kmq *q, const void *data, size_t len,
			   uint64_t *id, int64_t timeout_ns)
{
	struct kmq_iov iov = { .data = data, .len = len };
	__u64 ids[1] = { 0 };
	int ret;

	ret = send_msgs(q, &iov, 1, ids, timeout_ns);
	if (ret < 0)
		return ret;
	if (id)
		*id = ids[0];
	return 0;
}

KMQ_EXPORT int kmq_send_batch(struct kmq *q, const struct kmq_iov *msgs,
			      unsigned int n, int64_t timeout_ns)
{
	return send_msgs(q, msgs, n, NULL, timeout_ns);
}

KMQ_EXPORT int kmq_recv(struct kmq *q, void *buf, size_t cap,
			struct kmq_msg *msg, int64_t timeout_ns)
{
	struct kmq_rbuf b = { .buf = buf, .cap = cap };
	int ret;

	ret = recv_msgs(q, &b, 1, timeout_ns);
	if (ret == -EMSGSIZE && msg)
		msg->len = b.msg.len;
	if (ret < 0)
		return ret;
	if (msg)
		*msg = b.msg;
	return (int)b.msg.len;
}

KMQ_EXPORT int kmq_recv_batch(struct kmq *q, struct kmq_rbuf *bufs,
			      unsigned int n, int64_t timeout_ns)
{
	return recv_msgs(q, bufs, n, timeout_ns);
}

KMQ_EXPORT int kmq_borrow(struct kmq *q, struct kmq_msg *msg,
			  int64_t timeout_ns)
{
	struct kmq_deadline d;
	int ret;

	if (!q || !msg)
		return -EINVAL;
	if (!(q->flags & KMQ_RECV))
		return -EPERM;
	if (!q->mapped)
		return kmq_copy_borrow(q, msg, timeout_ns);
	kmq_deadline_init(&d, timeout_ns);
	for (;;) {
		unsigned int who = 0;

		ret = kmq_fast_borrow(&q->fast, msg, &who);
		wake(q, who);
		if (ret != -EAGAIN)
			return ret;
		ret = kmq_wait_deadline(q, KMQ_READABLE, &d);
		if (ret < 0)
			return ret;
	}
}

KMQ_EXPORT int kmq_release(struct kmq *q, struct kmq_msg *msg)
{
	unsigned int who = 0;
	int ret;

	if (!q || !msg)
		return -EINVAL;
	if (msg->slot == KMQ_MSG_COPYBUF)
		return kmq_copy_release(q, msg);
	if (!q->mapped)
		return -EINVAL;
	ret = kmq_fast_release(&q->fast, msg, &who);
	wake(q, who);
	return ret;
}

/* A wbuf that is no reservation: what commit and abort leave behind. */
static void wbuf_clear(struct kmq_wbuf *w)
{
	w->data = NULL;
	w->cap = 0;
	w->slot = KMQ_MSG_NOSLOT;
}

/* The reservation @w names on a mapped @q: its slot, whose body must be
 * where @w->data points (a stale or forged wbuf is refused). */
static bool wbuf_mapped_ok(struct kmq *q, const struct kmq_wbuf *w)
{
	return w->slot < q->fast.v.free.cap && w->data &&
	       w->data == kmq_slot_data(kmq_slot_at(&q->fast.v, w->slot));
}

KMQ_EXPORT int kmq_reserve(struct kmq *q, struct kmq_wbuf *w,
			   int64_t timeout_ns)
{
	struct kmq_deadline d;
	int ret;

	if (!q || !w)
		return -EINVAL;
	if (!(q->flags & KMQ_SEND))
		return -EPERM;
	if (!q->mapped)
		return kmq_copy_reserve(q, w);
	kmq_deadline_init(&d, timeout_ns);
	for (;;) {
		unsigned int who = 0;
		__u32 idx;

		ret = kmq_fast_reserve(&q->fast, &idx, &who);
		wake(q, who);
		if (!ret) {
			w->data = kmq_slot_data(kmq_slot_at(&q->fast.v, idx));
			w->cap = q->fast.v.max_msg_size;
			w->slot = idx;
			return 0;
		}
		if (ret != -EAGAIN)
			return ret;
		ret = kmq_wait_deadline(q, KMQ_WRITABLE, &d);
		if (ret < 0)
			return ret;
	}
}

KMQ_EXPORT int kmq_commit(struct kmq *q, struct kmq_wbuf *w, size_t len,
			  uint64_t *id)
{
	unsigned int who = 0;
	__u64 mid = 0;
	int ret;

	if (!q || !w)
		return -EINVAL;
	if (!(q->flags & KMQ_SEND))
		return -EPERM;
	if (w->slot == KMQ_MSG_COPYBUF) {
		ret = kmq_copy_commit(q, w, len, &mid);
	} else {
		if (!q->mapped || !wbuf_mapped_ok(q, w))
			return -EINVAL;
		if (len > w->cap)
			return -EMSGSIZE;
		ret = kmq_fast_commit(&q->fast, w->slot, len, &mid, &who);
		wake(q, who);
	}
	if (ret)
		return ret;
	wbuf_clear(w);
	if (id)
		*id = mid;
	return 0;
}

KMQ_EXPORT int kmq_abort(struct kmq *q, struct kmq_wbuf *w)
{
	unsigned int who = 0;
	int ret;

	if (!q || !w)
		return -EINVAL;
	if (w->slot == KMQ_MSG_COPYBUF) {
		ret = kmq_copy_abort(q, w);
	} else {
		if (!q->mapped || !wbuf_mapped_ok(q, w))
			return -EINVAL;
		ret = kmq_fast_abort(&q->fast, w->slot, &who);
		wake(q, who);
	}
	if (!ret)
		wbuf_clear(w);
	return ret;
}
