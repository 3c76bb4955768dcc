// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The copying path: messages moved by KMQ_IOC_SEND / KMQ_IOC_RECV on the
 * queue fd, for handles that do not map the queue; the kernel checks and
 * times everything. Borrows on such handles lend a private copy.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include "internal.h"

static void io_init(struct kmq_io *io, struct kmq_iomsg *m, unsigned int n,
		    int64_t timeout_ns)
{
	memset(io, 0, sizeof(*io));
	io->msgs = (__u64)(uintptr_t)m;
	io->count = n;
	io->flags = timeout_ns ? 0 : KMQ_IO_NONBLOCK;
	io->timeout_ns = timeout_ns < 0 ? -1 : timeout_ns;
}

int kmq_ioc_send(struct kmq *q, const struct kmq_iov *msgs, unsigned int n,
		 __u64 *ids, int64_t timeout_ns)
{
	struct kmq_iomsg m[KMQ_BATCH_MAX];
	struct kmq_io io;
	unsigned int i;

	if (n > KMQ_BATCH_MAX)
		n = KMQ_BATCH_MAX;
	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		m[i].buf = (__u64)(uintptr_t)msgs[i].data;
		m[i].len = (__u32)msgs[i].len;
	}
	io_init(&io, m, n, timeout_ns);
	if (ioctl(q->fd, KMQ_IOC_SEND, &io) < 0)
		return -errno;
	if (ids)
		for (i = 0; i < io.done && i < n; i++)
			ids[i] = m[i].id;
	return (int)io.done;
}

int kmq_ioc_recv(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
		 int64_t timeout_ns)
{
	struct kmq_iomsg m[KMQ_BATCH_MAX];
	struct kmq_io io;
	unsigned int i;
	int err = 0;

	if (n > KMQ_BATCH_MAX)
		n = KMQ_BATCH_MAX;
	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		m[i].buf = (__u64)(uintptr_t)bufs[i].buf;
		m[i].len = bufs[i].cap > UINT32_MAX ? UINT32_MAX
						    : (__u32)bufs[i].cap;
	}
	io_init(&io, m, n, timeout_ns);
	if (ioctl(q->fd, KMQ_IOC_RECV, &io) < 0) {
		err = -errno;
		io.done = 0;
	}
	/* With -EMSGSIZE, the first message's len says what it needs. */
	for (i = 0; i < n && (i < io.done || (err == -EMSGSIZE && i == 0));
	     i++) {
		struct kmq_msg *msg = &bufs[i].msg;

		msg->data = bufs[i].buf;
		msg->len = m[i].len;
		msg->id = m[i].id;
		msg->sent_ns = m[i].sent_ns;
		msg->sender_pid = m[i].sender_pid;
		msg->sender_uid = m[i].sender_uid;
		msg->slot = KMQ_MSG_NOSLOT;
	}
	return err ? err : (int)io.done;
}

int kmq_copy_borrow(struct kmq *q, struct kmq_msg *msg, int64_t timeout_ns)
{
	struct kmq_copybuf *cb;
	struct kmq_rbuf b;
	int n;

	cb = malloc(sizeof(*cb) + q->max_msg_size);
	if (!cb)
		return -ENOMEM;
	b.buf = cb->data;
	b.cap = q->max_msg_size;
	n = q->be->recv_copy(q, &b, 1, timeout_ns);
	if (n < 0) {
		free(cb);
		return n;
	}
	cb->next = q->copies;
	cb->pprev = &q->copies;
	if (cb->next)
		cb->next->pprev = &cb->next;
	q->copies = cb;
	*msg = b.msg;
	msg->slot = KMQ_MSG_COPYBUF;
	return 0;
}

static void copybuf_free(struct kmq_copybuf *cb)
{
	*cb->pprev = cb->next;
	if (cb->next)
		cb->next->pprev = cb->pprev;
	free(cb);
}

int kmq_copy_release(struct kmq *q, struct kmq_msg *msg)
{
	struct kmq_copybuf *cb;

	for (cb = q->copies; cb; cb = cb->next)
		if ((const void *)cb->data == msg->data)
			break;
	if (!cb)
		return -EINVAL;
	copybuf_free(cb);
	msg->data = NULL;
	msg->slot = KMQ_MSG_NOSLOT;
	return 0;
}

static struct kmq_copybuf *copybuf_find(struct kmq *q, const void *data)
{
	struct kmq_copybuf *cb;

	for (cb = q->copies; cb; cb = cb->next)
		if ((const void *)cb->data == data)
			return cb;
	return NULL;
}

int kmq_copy_reserve(struct kmq *q, struct kmq_wbuf *w)
{
	struct kmq_copybuf *cb;

	cb = malloc(sizeof(*cb) + q->max_msg_size);
	if (!cb)
		return -ENOMEM;
	cb->next = q->copies;
	cb->pprev = &q->copies;
	if (cb->next)
		cb->next->pprev = &cb->next;
	q->copies = cb;
	w->data = cb->data;
	w->cap = q->max_msg_size;
	w->slot = KMQ_MSG_COPYBUF;
	return 0;
}

/* Never waits: the reservation holds no slot in the queue, so a full queue
 * is -EAGAIN and the reservation stays, as for a stalled tail. */
int kmq_copy_commit(struct kmq *q, struct kmq_wbuf *w, size_t len, __u64 *id)
{
	struct kmq_copybuf *cb = copybuf_find(q, w->data);
	struct kmq_iov iov = { .data = w->data, .len = len };
	__u64 ids[1] = { 0 };
	int n;

	if (!cb)
		return -EINVAL;
	if (len > w->cap || len > q->max_msg_size)
		return -EMSGSIZE;
	n = q->be->send_copy(q, &iov, 1, ids, 0);
	if (n < 0)
		return n;
	if (n == 0)
		return -EAGAIN;
	copybuf_free(cb);
	if (id)
		*id = ids[0];
	return 0;
}

int kmq_copy_abort(struct kmq *q, struct kmq_wbuf *w)
{
	struct kmq_copybuf *cb = copybuf_find(q, w->data);

	if (!cb)
		return -EINVAL;
	copybuf_free(cb);
	return 0;
}

void kmq_copy_free_all(struct kmq *q)
{
	while (q->copies)
		copybuf_free(q->copies);
}
