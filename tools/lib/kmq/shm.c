// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The shm backend: queues served by kmqd from memfd-backed shared memory,
 * reached over its unix socket. Not written yet: every operation reports
 * -ENOTSUP, so KMQ_BACKEND=shm fails clearly instead of falling through.
 */
#include "internal.h"

static int shm_create(const char *name, const struct kmq_qattr *attr)
{
	return -ENOTSUP;
}

static int shm_destroy(const char *name)
{
	return -ENOTSUP;
}

static int shm_info(const char *name, struct kmq_info *info)
{
	return -ENOTSUP;
}

static int shm_list(struct kmq_info *infos, unsigned int n, unsigned int start,
		    unsigned int *total)
{
	return -ENOTSUP;
}

static int shm_open(struct kmq *q, const char *name, unsigned int flags)
{
	return -ENOTSUP;
}

static void shm_close(struct kmq *q)
{
}

static int shm_qinfo(const struct kmq *q, struct kmq_info *info)
{
	return -ENOTSUP;
}

static int shm_wake(struct kmq *q, unsigned int who)
{
	return -ENOTSUP;
}

static int shm_wait(struct kmq *q, int events, const struct timespec *timeout)
{
	return -ENOTSUP;
}

static int shm_send(struct kmq *q, const struct kmq_iov *msgs, unsigned int n,
		    __u64 *ids, int64_t timeout_ns)
{
	return -ENOTSUP;
}

static int shm_recv(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
		    int64_t timeout_ns)
{
	return -ENOTSUP;
}

const struct kmq_backend kmq_shm_backend = {
	.name = "shm",
	.create = shm_create,
	.destroy = shm_destroy,
	.info = shm_info,
	.list = shm_list,
	.open = shm_open,
	.close = shm_close,
	.qinfo = shm_qinfo,
	.wake = shm_wake,
	.wait = shm_wait,
	.send_copy = shm_send,
	.recv_copy = shm_recv,
};
