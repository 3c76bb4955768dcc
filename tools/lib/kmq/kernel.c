// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The kernel backend: queues served by kmq.ko through /dev/kmq. Names are
 * handled with ioctls on a control fd, each open queue is a queue fd that is
 * mapped for the fast path (or used with the copying ioctls), and sleeping
 * is ppoll() on the queue fd, whose poll() arms the need-wakeup flags.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "internal.h"

/* ctl_open - the control fd; -ENODEV when the module is not there. */
static int ctl_open(void)
{
	int fd = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENXIO || errno == ENODEV)
		return -ENODEV;
	return -errno;
}

/* kmq_ctl_ioctl - one ioctl on a fresh control fd. */
int kmq_ctl_ioctl(unsigned long req, void *arg)
{
	int fd, ret;

	fd = ctl_open();
	if (fd < 0)
		return fd;
	ret = ioctl(fd, req, arg);
	if (ret < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int kernel_create(const char *name, const struct kmq_qattr *attr)
{
	struct kmq_create c;
	int err;

	err = kmq_create_args(&c, name, attr);
	return err ? err : kmq_ctl_ioctl(KMQ_IOC_CREATE, &c);
}

static int kernel_destroy(const char *name)
{
	struct kmq_name n;
	int err;

	err = kmq_name_args(&n, name);
	return err ? err : kmq_ctl_ioctl(KMQ_IOC_DELETE, &n);
}

static int kernel_info(const char *name, struct kmq_info *info)
{
	int err;

	memset(info, 0, sizeof(*info));
	err = kmq_name_copy(info->name, name);
	if (err)
		return err;
	return kmq_ctl_ioctl(KMQ_IOC_INFO, info);
}

static int kernel_list(struct kmq_info *infos, unsigned int n,
		       unsigned int start, unsigned int *total)
{
	struct kmq_list l;
	int err;

	if (n)
		memset(infos, 0, n * sizeof(*infos));
	memset(&l, 0, sizeof(l));
	l.infos = (__u64)(uintptr_t)infos;
	l.count = n;
	l.start = start;
	err = kmq_ctl_ioctl(KMQ_IOC_LIST, &l);
	if (err)
		return err;
	if (total)
		*total = l.total > UINT32_MAX ? UINT32_MAX : (unsigned int)l.total;
	return (int)(l.count < n ? l.count : n);
}

static int kernel_qinfo(const struct kmq *q, struct kmq_info *info)
{
	memset(info, 0, sizeof(*info));
	if (ioctl(q->fd, KMQ_IOC_INFO, info) < 0)
		return -errno;
	return 0;
}

static int kernel_open(struct kmq *q, const char *name, unsigned int flags)
{
	struct kmq_info info;
	struct kmq_open o;
	int ctl, fd, err;

	memset(&o, 0, sizeof(o));
	err = kmq_name_copy(o.name, name);
	if (err)
		return err;
	o.flags = (flags & (KMQ_OPEN_SEND | KMQ_OPEN_RECV)) | KMQ_OPEN_CLOEXEC;
	if (!(flags & KMQ_COPY))
		o.flags |= KMQ_OPEN_MAP;

	ctl = ctl_open();
	if (ctl < 0)
		return ctl;
	fd = ioctl(ctl, KMQ_IOC_OPEN, &o);
	if (fd < 0 && (errno == EACCES || errno == EOPNOTSUPP) &&
	    (o.flags & KMQ_OPEN_MAP)) {
		/* Not trusted with both directions, or a queue that is served
		 * by the kernel only (FIFO): copy instead. */
		o.flags &= ~KMQ_OPEN_MAP;
		fd = ioctl(ctl, KMQ_IOC_OPEN, &o);
	}
	err = fd < 0 ? -errno : 0;
	close(ctl);
	if (err)
		return err;
	q->fd = fd;

	err = kernel_qinfo(q, &info);
	if (err)
		goto err_close;
	if (!info.max_msg_size || info.max_msg_size > KMQ_MSG_MAX) {
		err = -EPROTO;
		goto err_close;
	}
	q->max_msg_size = info.max_msg_size;
	q->client_id = info.client_id;
	if (o.flags & KMQ_OPEN_MAP) {
		err = kmq_map_queue(q, fd, KMQ_OFF_QUEUE, &info);
		if (err)
			goto err_close;
	}
	return 0;

err_close:
	close(fd);
	q->fd = -1;
	return err;
}

/* The kernel repairs whatever this client still holds (borrowed slots go
 * back to the ready ring) once both the mapping and the fd are gone. */
static void kernel_close(struct kmq *q)
{
	if (q->map)
		munmap(q->map, q->map_size);
	if (q->fd >= 0)
		close(q->fd);
}

static int kernel_wake(struct kmq *q, unsigned int who)
{
	if (ioctl(q->fd, KMQ_IOC_WAKE, (unsigned long)who) < 0)
		return -errno;
	return 0;
}

static int kernel_wait(struct kmq *q, int events, const struct timespec *timeout)
{
	struct pollfd p = { .fd = q->fd };
	int n, ev = 0;

	if (events & KMQ_READABLE)
		p.events |= POLLIN;
	if (events & KMQ_WRITABLE)
		p.events |= POLLOUT;
	n = ppoll(&p, 1, timeout, NULL);
	if (n < 0)
		return -errno;
	if (!n)
		return 0;
	if (p.revents & POLLNVAL)
		return -EBADF;
	if (p.revents & POLLERR)
		return -EIO;
	if (p.revents & POLLIN)
		ev |= KMQ_READABLE;
	if (p.revents & POLLOUT)
		ev |= KMQ_WRITABLE;
	if (!ev && (p.revents & POLLHUP))
		return -EPIPE;
	return ev;
}

const struct kmq_backend kmq_kernel_backend = {
	.name = "kernel",
	.create = kernel_create,
	.destroy = kernel_destroy,
	.info = kernel_info,
	.list = kernel_list,
	.open = kernel_open,
	.close = kernel_close,
	.qinfo = kernel_qinfo,
	.wake = kernel_wake,
	.wait = kernel_wait,
	.send_copy = kmq_ioc_send,
	.recv_copy = kmq_ioc_recv,
	.get_policy = kmq_kernel_get_policy,
	.set_policy = kmq_kernel_set_policy,
	.purge = kmq_kernel_purge,
	.move = kmq_kernel_move,
	.sqs_send = kmq_kernel_sqs_send,
	.sqs_recv = kmq_kernel_sqs_recv,
	.sqs_settle = kmq_kernel_sqs_settle,
};
