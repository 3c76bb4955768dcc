// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The shm backend: queues served by kmqd (daemon/) from files in its state
 * directory, reached over its Unix socket (include/kmq/wire.h). A handle is
 * one connection: kmqd repairs the handle's client id when it hangs up. A
 * mapped handle uses the common fast path and sleeps on futexes in the
 * queue header (the need-wakeup protocol, done by the parties themselves);
 * a copying handle sends SEND/RECV/WAIT to kmqd. kmq_fd() is the queue's
 * wake FIFO. Mapped handles work on while kmqd is down; after it restarts,
 * closing a handle re-attaches its id first so that kmqd repairs it.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "internal.h"

struct shm_handle {
	struct kmq_wire_conn conn;
	int notify_fd;		/* mapped: kmqd's notify FIFO, -1 otherwise */
	unsigned int open_flags;	/* KMQ_OPEN_* granted */
};

static struct shm_handle *H(const struct kmq *q)
{
	return q->priv;
}

/* call - one request on a fresh connection (names: create, delete...). */
static int call_once(unsigned int cmd, const void *body, size_t len,
		     void *reply, size_t rcap, size_t *rlen)
{
	struct kmq_wire_conn c = { .fd = -1 };
	struct iovec iov = { (void *)body, len };
	size_t n = 0;
	int err;

	err = kmq_wire_open(&c);
	if (err)
		return err;
	err = kmq_wire_call(&c, cmd, &iov, 1, &n, NULL, 0, NULL);
	if (!err && reply) {
		if (n != rcap)
			err = -EPROTO;
		else
			memcpy(reply, c.buf, n);
	}
	if (rlen)
		*rlen = n;
	kmq_wire_close(&c);
	return err;
}

int kmq_shm_call_once(unsigned int cmd, const void *body, size_t len,
		      void *reply, size_t rlen)
{
	return call_once(cmd, body, len, reply, rlen, NULL);
}

static int shm_create(const char *name, const struct kmq_qattr *attr)
{
	struct kmq_create k;
	int err;

	err = kmq_create_args(&k, name, attr);
	return err ? err : call_once(KMQ_WIRE_CREATE, &k, sizeof(k), NULL, 0, NULL);
}

static int shm_destroy(const char *name)
{
	struct kmq_name n;
	int err;

	err = kmq_name_args(&n, name);
	return err ? err : call_once(KMQ_WIRE_DELETE, &n, sizeof(n), NULL, 0, NULL);
}

static int shm_info(const char *name, struct kmq_info *info)
{
	struct kmq_name n;
	int err;

	err = kmq_name_args(&n, name);
	return err ? err : call_once(KMQ_WIRE_INFO, &n, sizeof(n), info,
					sizeof(*info), NULL);
}

static int shm_list(struct kmq_info *infos, unsigned int n, unsigned int start,
		    unsigned int *total)
{
	struct kmq_wire_conn c = { .fd = -1 };
	unsigned int got = 0, all = 0;
	int err;

	err = kmq_wire_open(&c);
	if (err)
		return err;
	do {
		struct kmq_wire_list l = { 0 }, r;
		struct iovec iov = { &l, sizeof(l) };
		size_t len = 0;

		l.start = start + got;
		l.count = n - got > KMQ_WIRE_LIST_MAX ? KMQ_WIRE_LIST_MAX : n - got;
		err = kmq_wire_call(&c, KMQ_WIRE_LIST, &iov, 1, &len, NULL, 0, NULL);
		if (err)
			break;
		memcpy(&r, c.buf, len < sizeof(r) ? len : sizeof(r));
		if (len < sizeof(r) || r.count > l.count ||
		    len != sizeof(r) + r.count * sizeof(*infos)) {
			err = -EPROTO;
			break;
		}
		if (r.count)
			memcpy(infos + got, c.buf + sizeof(r), r.count * sizeof(*infos));
		got += r.count;
		all = r.total;
		if (!r.count)
			break;
	} while (got < n);
	kmq_wire_close(&c);
	if (err)
		return err;
	if (total)
		*total = all;
	return (int)got;
}

/* do_open - OPEN on h's connection; fills the handle. With @keep_fd the
 * wake FIFO replaces the fd at q->fd (a reopen keeps kmq_fd() stable). */
static int do_open(struct kmq *q, unsigned int flags, bool keep_fd)
{
	struct shm_handle *h = H(q);
	struct kmq_info info;
	struct kmq_open o;
	struct iovec iov = { &o, sizeof(o) };
	int fds[4], nfds = 0, err, i;
	size_t len = 0;

	memset(&o, 0, sizeof(o));
	memcpy(o.name, q->name, sizeof(o.name));
	o.flags = flags;
	err = kmq_wire_call(&h->conn, KMQ_WIRE_OPEN, &iov, 1, &len, fds, 4, &nfds);
	if (err)
		goto err_fds;
	err = -EPROTO;
	if (len != sizeof(info))
		goto err_fds;
	memcpy(&info, h->conn.buf, sizeof(info));
	if (info.open_flags != flags || nfds != ((flags & KMQ_OPEN_MAP) ? 3 : 1) ||
	    !info.max_msg_size || info.max_msg_size > KMQ_MSG_MAX)
		goto err_fds;
	if (flags & KMQ_OPEN_MAP) {
		err = kmq_map_queue(q, fds[1], 0, &info);
		if (err)
			goto err_fds;
		close(fds[1]);
		h->notify_fd = fds[2];
	}
	if (keep_fd && q->fd >= 0) {
		dup3(fds[0], q->fd, O_CLOEXEC);
		close(fds[0]);
	} else {
		q->fd = fds[0];
	}
	h->open_flags = flags;
	q->max_msg_size = info.max_msg_size;
	q->client_id = info.client_id;
	return 0;

err_fds:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	return err;
}

static int shm_open_queue(struct kmq *q, const char *name, unsigned int flags)
{
	unsigned int o = flags & (KMQ_OPEN_SEND | KMQ_OPEN_RECV);
	struct shm_handle *h;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->notify_fd = -1;
	q->priv = h;
	err = kmq_wire_open(&h->conn);
	if (err)
		goto err_free;
	if (!(flags & KMQ_COPY)) {
		err = do_open(q, o | KMQ_OPEN_MAP, false);
		if (err != -EACCES && err != -EOPNOTSUPP)
			goto out;
		/* Not trusted with both directions, or a FIFO queue (never
		 * mapped): copy instead. */
	}
	err = do_open(q, o, false);
out:
	if (!err)
		return 0;
	kmq_wire_close(&h->conn);
err_free:
	free(h);
	q->priv = NULL;
	return err;
}

/*
 * reattach - after a kmqd restart: bind this handle's client id to a new
 * connection (REATTACH), so that kmqd repairs it when we close. Copying
 * handles hold nothing between calls: they simply open again.
 */
static int reconnect(struct kmq *q)
{
	struct shm_handle *h = H(q);
	int err;

	kmq_wire_close(&h->conn);
	err = kmq_wire_open(&h->conn);
	if (err)
		return err;
	if (q->mapped) {
		struct kmq_wire_reattach r;
		struct iovec iov = { &r, sizeof(r) };
		size_t len;

		memset(&r, 0, sizeof(r));
		memcpy(r.name, q->name, sizeof(r.name));
		r.client_id = q->client_id;
		return kmq_wire_call(&h->conn, KMQ_WIRE_REATTACH, &iov, 1, &len,
				     NULL, 0, NULL);
	}
	return do_open(q, h->open_flags, true);
}

/* call - a request on the handle's connection, reconnecting once when
 * kmqd went away since the last one. */
static int call(struct kmq *q, unsigned int cmd, const struct iovec *iov,
		int n, size_t *rlen)
{
	struct shm_handle *h = H(q);
	int err;

	if (h->conn.fd < 0 || kmq_wire_hung_up(&h->conn)) {
		err = reconnect(q);
		if (err)
			return err;
	}
	err = kmq_wire_call(&h->conn, cmd, iov, n, rlen, NULL, 0, NULL);
	if (err == -EPIPE) {
		err = reconnect(q);
		if (!err)
			err = kmq_wire_call(&h->conn, cmd, iov, n, rlen, NULL, 0,
					    NULL);
	}
	return err;
}

int kmq_shm_call(struct kmq *q, unsigned int cmd, const struct iovec *iov,
		 int n, const unsigned char **reply, size_t *rlen)
{
	int err = call(q, cmd, iov, n, rlen);

	*reply = H(q)->conn.buf;
	return err;
}

static void shm_close_queue(struct kmq *q)
{
	struct shm_handle *h = H(q);

	if (!h)
		return;
	if (q->map)
		munmap(q->map, q->map_size);
	/* kmqd restarted since we opened: let the new one know whose id it
	 * is to repair (it would also notice when this process exits). */
	if (q->mapped && kmq_wire_hung_up(&h->conn))
		reconnect(q);
	kmq_wire_close(&h->conn);
	if (h->notify_fd >= 0)
		close(h->notify_fd);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(h);
	q->priv = NULL;
}

static int shm_qinfo(const struct kmq *q, struct kmq_info *info)
{
	struct kmq_name n;
	struct iovec iov = { &n, sizeof(n) };
	size_t len = 0;
	int err;

	memset(&n, 0, sizeof(n));
	err = call((struct kmq *)q, KMQ_WIRE_INFO, &iov, 1, &len);
	if (err)
		return err;
	if (len != sizeof(*info))
		return -EPROTO;
	memcpy(info, H(q)->conn.buf, sizeof(*info));
	return 0;
}

static void futex_wake_all(__u32 *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int shm_wake(struct kmq *q, unsigned int who)
{
	struct shm_handle *h = H(q);
	char one = 1;

	if (!q->mapped)
		return 0;
	/* kmqd first: on a topic's inbox it is the one asleep. EAGAIN: the
	 * pipe is full of wake-ups nobody read yet: enough. */
	if (write(h->notify_fd, &one, 1) < 0 && errno != EAGAIN)
		return -errno;
	if (who & KMQ_WAKE_READERS)
		futex_wake_all(&q->fast.v.hdr->rd_wait);
	if (who & KMQ_WAKE_WRITERS)
		futex_wake_all(&q->fast.v.hdr->wr_wait);
	if (write(q->fd, &one, 1) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

/* pass_on - we armed @events' flags and found them holding: if a flag is
 * still armed, another sleeper may have armed it too; wake it to look. */
static void pass_on(struct kmq *q, int events)
{
	unsigned int who = 0;

	if ((events & KMQ_READABLE) && kmq_need_wake(&q->fast.v.hdr->rd_wait))
		who |= KMQ_WAKE_READERS;
	if ((events & KMQ_WRITABLE) && kmq_need_wake(&q->fast.v.hdr->wr_wait))
		who |= KMQ_WAKE_WRITERS;
	if (who)
		shm_wake(q, who);
}

/* copy_wait - WAIT through kmqd (copying handles). */
static int copy_wait(struct kmq *q, int events, int64_t timeout_ns)
{
	struct kmq_wire_wait w = { .events = (__u32)events,
				   .timeout_ns = timeout_ns };
	struct iovec iov = { &w, sizeof(w) };
	size_t len = 0;
	int err;

	err = call(q, KMQ_WIRE_WAIT, &iov, 1, &len);
	if (err)
		return err;
	if (len != sizeof(w))
		return -EPROTO;
	memcpy(&w, H(q)->conn.buf, sizeof(w));
	return (int)(w.events & (__u32)events);
}

/* The longest sleep while the rings say "soon" (see in_flight). */
#define NAP_NS	1000000L

/* in_flight - do the rings hold what @events wants, though not where a
 * peek at the head cell looks? */
static bool in_flight(struct kmq *q, int events)
{
	return ((events & KMQ_READABLE) && kmq_ring_count(&q->fast.v.ready)) ||
	       ((events & KMQ_WRITABLE) && kmq_ring_count(&q->fast.v.free));
}

static int shm_wait(struct kmq *q, int events, const struct timespec *timeout)
{
	static const struct timespec nap = { 0, NAP_NS };
	struct kmq_hdr *hdr;
	long ret;
	int ev;

	if (!q->mapped) {
		int64_t ns = timeout ? (int64_t)timeout->tv_sec * 1000000000LL +
				       timeout->tv_nsec : -1;

		if (!events) {	/* a nap */
			if (timeout && nanosleep(timeout, NULL) < 0)
				return -errno;
			return 0;
		}
		return copy_wait(q, events, ns);
	}
	hdr = q->fast.v.hdr;
	if (events) {
		ev = kmq_fast_arm(&q->fast, events);
		if (ev) {
			pass_on(q, ev);
			return ev;
		}
		if (timeout && !timeout->tv_sec && !timeout->tv_nsec)
			return 0;
		if (in_flight(q, events)) {
			/* The ring holds what we want behind a popper that has
			 * not moved on; its progress wakes nobody: nap. */
			if (!timeout || timeout->tv_sec || timeout->tv_nsec > NAP_NS)
				timeout = &nap;
		}
	}
	if (!events) {
		if (timeout && nanosleep(timeout, NULL) < 0)
			return -errno;
		return 0;
	}
	if (events == (KMQ_READABLE | KMQ_WRITABLE)) {
		struct futex_waitv w[2] = {
			{ .val = 1, .uaddr = (__u64)(uintptr_t)&hdr->rd_wait,
			  .flags = FUTEX_32 },
			{ .val = 1, .uaddr = (__u64)(uintptr_t)&hdr->wr_wait,
			  .flags = FUTEX_32 },
		};
		struct timespec at;

		if (timeout) {
			clock_gettime(CLOCK_MONOTONIC, &at);
			at.tv_sec += timeout->tv_sec;
			at.tv_nsec += timeout->tv_nsec;
			if (at.tv_nsec >= 1000000000L) {
				at.tv_sec++;
				at.tv_nsec -= 1000000000L;
			}
		}
		ret = syscall(SYS_futex_waitv, w, 2, 0, timeout ? &at : NULL,
			      CLOCK_MONOTONIC);
	} else {
		__u32 *flag = events & KMQ_READABLE ? &hdr->rd_wait : &hdr->wr_wait;

		ret = syscall(SYS_futex, flag, FUTEX_WAIT, 1, timeout, NULL, 0);
	}
	if (ret < 0 && errno == EINTR)
		return -EINTR;
	/* Woken, timed out, or the flag was no longer 1: look. */
	return kmq_fast_events(&q->fast, events);
}

/* kmq_prepare_wait on the shm backend: drain the wake FIFO (kmq_fd), arm,
 * look. A waker writes the FIFO after it clears an armed flag. */
static int shm_prepare_wait(struct kmq *q, int events)
{
	char buf[256];
	int ev;

	if (!q->mapped)
		return copy_wait(q, events, 0);
	while (read(q->fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
	ev = kmq_fast_arm(&q->fast, events);
	if (ev)
		pass_on(q, ev);
	return ev;
}

/* ---- the copying path ---------------------------------------------------- */

/* copy_retry - after a SEND/RECV that got @err: 0 to try again once
 * @events may hold (waited for through kmqd until @dl), else the error to
 * return (-ETIMEDOUT, or -EAGAIN with no timeout). */
static int copy_retry(struct kmq *q, int err, int events,
		      struct kmq_deadline *dl)
{
	int64_t left;

	if (err != -EAGAIN)
		return err;
	left = kmq_deadline_left(dl);
	if (!left)
		return dl->timeout_ns ? -ETIMEDOUT : -EAGAIN;
	err = copy_wait(q, events, left);
	return err < 0 ? err : 0;
}

static int shm_send(struct kmq *q, const struct kmq_iov *msgs, unsigned int n,
		    __u64 *ids, int64_t timeout_ns)
{
	static const char zeros[8];
	struct kmq_wire_msg wm[KMQ_BATCH_MAX];
	struct kmq_deadline dl;
	unsigned int i, k;
	size_t body;
	int err;

	if (n > KMQ_BATCH_MAX)
		n = KMQ_BATCH_MAX;
	/* As many as fit in one frame (at least one: a 1 MiB message does). */
	body = sizeof(struct kmq_wire_io);
	for (k = 0; k < n; k++) {
		size_t add = sizeof(wm[0]) + KMQ_WIRE_PAD8(msgs[k].len);

		if (body + add > KMQ_WIRE_BODY_MAX)
			break;
		body += add;
	}
	kmq_deadline_init(&dl, timeout_ns);
	for (;;) {
		struct kmq_wire_io io = { .count = k };
		struct iovec *iov;
		size_t len = 0;
		unsigned int v = 0;
		struct kmq_wire_io r;

		iov = calloc(1 + 3 * k, sizeof(*iov));
		if (!iov)
			return -ENOMEM;
		iov[v++] = (struct iovec){ &io, sizeof(io) };
		for (i = 0; i < k; i++) {
			memset(&wm[i], 0, sizeof(wm[i]));
			wm[i].len = (__u32)msgs[i].len;
			iov[v++] = (struct iovec){ &wm[i], sizeof(wm[i]) };
			iov[v++] = (struct iovec){ (void *)msgs[i].data, msgs[i].len };
			iov[v++] = (struct iovec){ (void *)zeros,
				KMQ_WIRE_PAD8(msgs[i].len) - msgs[i].len };
		}
		err = call(q, KMQ_WIRE_SEND, iov, (int)v, &len);
		free(iov);
		if (!err) {
			if (len < sizeof(r))
				return -EPROTO;
			memcpy(&r, H(q)->conn.buf, sizeof(r));
			if (!r.count || r.count > k ||
			    len != sizeof(r) + r.count * sizeof(__u64))
				return -EPROTO;
			if (ids)
				memcpy(ids, H(q)->conn.buf + sizeof(r),
				       r.count * sizeof(__u64));
			return (int)r.count;
		}
		err = copy_retry(q, err, KMQ_WRITABLE, &dl);
		if (err)
			return err;
	}
}

static int shm_recv(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
		    int64_t timeout_ns)
{
	__u32 rooms[KMQ_BATCH_MAX + 1] = { 0 };
	struct kmq_deadline dl;
	unsigned int i;
	int err;

	if (n > KMQ_BATCH_MAX)
		n = KMQ_BATCH_MAX;
	for (i = 0; i < n; i++)
		rooms[i] = bufs[i].cap > UINT32_MAX ? UINT32_MAX : (__u32)bufs[i].cap;
	kmq_deadline_init(&dl, timeout_ns);
	for (;;) {
		struct kmq_wire_io io = { .count = n }, r;
		struct iovec iov[2] = {
			{ &io, sizeof(io) },
			{ rooms, KMQ_WIRE_PAD8(4ULL * n) },
		};
		unsigned char *b;
		size_t len = 0, off;

		err = call(q, KMQ_WIRE_RECV, iov, 2, &len);
		b = H(q)->conn.buf;
		if (err == -EMSGSIZE) {
			struct kmq_wire_msg m;

			if (len == sizeof(r) + sizeof(m)) {
				memcpy(&m, b + sizeof(r), sizeof(m));
				bufs[0].msg.len = m.len;
			}
			return err;
		}
		if (!err) {
			if (len < sizeof(r))
				return -EPROTO;
			memcpy(&r, b, sizeof(r));
			if (!r.count || r.count > n)
				return -EPROTO;
			off = sizeof(r);
			for (i = 0; i < r.count; i++) {
				struct kmq_wire_msg m;
				struct kmq_msg *msg = &bufs[i].msg;

				if (len - off < sizeof(m))
					return -EPROTO;
				memcpy(&m, b + off, sizeof(m));
				off += sizeof(m);
				if (m.len > bufs[i].cap ||
				    len - off < KMQ_WIRE_PAD8(m.len))
					return -EPROTO;
				if (m.len)
					memcpy(bufs[i].buf, b + off, m.len);
				off += KMQ_WIRE_PAD8(m.len);
				msg->data = bufs[i].buf;
				msg->len = m.len;
				msg->id = m.id;
				msg->sent_ns = m.sent_ns;
				msg->sender_pid = m.sender_pid;
				msg->sender_uid = m.sender_uid;
				msg->slot = KMQ_MSG_NOSLOT;
			}
			return (int)r.count;
		}
		err = copy_retry(q, err, KMQ_READABLE, &dl);
		if (err)
			return err;
	}
}

const struct kmq_backend kmq_shm_backend = {
	.name = "shm",
	.create = shm_create,
	.destroy = shm_destroy,
	.info = shm_info,
	.list = shm_list,
	.open = shm_open_queue,
	.close = shm_close_queue,
	.qinfo = shm_qinfo,
	.wake = shm_wake,
	.wait = shm_wait,
	.prepare_wait = shm_prepare_wait,
	.send_copy = shm_send,
	.recv_copy = shm_recv,
	.get_policy = kmq_shm_get_policy,
	.set_policy = kmq_shm_set_policy,
	.purge = kmq_shm_purge,
	.move = kmq_shm_move,
	.sqs_send = kmq_shm_sqs_send,
	.sqs_recv = kmq_shm_sqs_recv,
	.sqs_settle = kmq_shm_sqs_settle,
};
