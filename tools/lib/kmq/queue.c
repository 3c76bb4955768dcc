// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Queues by name and handles on them: create, delete, describe and list go
 * to the backend; open builds a handle (mapped or copying), close undoes it.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define OPEN_FLAGS	(KMQ_SEND | KMQ_RECV | KMQ_COPY)

struct kmq *kmq_alloc(const struct kmq_backend *be, unsigned int flags)
{
	struct kmq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->be = be;
	q->fd = -1;
	q->flags = flags;
	return q;
}

void kmq_attach(struct kmq *q, void *base, const struct kmq_layout *l,
		__u32 client_id)
{
	kmq_fast_init(&q->fast, base, l, client_id);
	q->fast.name = q->name;
	q->mapped = true;
	q->max_msg_size = l->max_msg_size;
	q->client_id = client_id;
}

/* fifo_name - a name ending in ".fifo", which FIFO queues and only they
 * have. */
static bool fifo_name(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && !strcmp(name + len - 5, ".fifo");
}

KMQ_EXPORT int kmq_create(const char *name, const struct kmq_qattr *attr)
{
	struct kmq_qattr a = { 0 };
	const struct kmq_backend *be;
	int err;

	if (attr)
		a = *attr;
	if (!kmq_name_valid(name) || a.capacity > KMQ_CAPACITY_MAX ||
	    a.max_msg_size > KMQ_MSG_MAX || a.mode > 0777 ||
	    (a.flags & ~(KMQ_CREATE_EXCL | KMQ_CREATE_FIFO)))
		return -EINVAL;
	if (!(a.flags & KMQ_CREATE_FIFO) != !fifo_name(name))
		return -EINVAL;
	if (!a.capacity)
		a.capacity = KMQ_DEFAULT_CAPACITY;
	if (!a.max_msg_size)
		a.max_msg_size = KMQ_DEFAULT_MSG_SIZE;
	if (!a.mode)
		a.mode = KMQ_DEFAULT_MODE;
	err = kmq_backend_get(&be);
	return err ? err : be->create(name, &a);
}

KMQ_EXPORT int kmq_delete(const char *name)
{
	const struct kmq_backend *be;
	int err;

	if (!kmq_name_valid(name))
		return -EINVAL;
	err = kmq_backend_get(&be);
	return err ? err : be->destroy(name);
}

KMQ_EXPORT int kmq_info(const char *name, struct kmq_info *info)
{
	const struct kmq_backend *be;
	int err;

	if (!kmq_name_valid(name) || !info)
		return -EINVAL;
	err = kmq_backend_get(&be);
	return err ? err : be->info(name, info);
}

KMQ_EXPORT int kmq_list(struct kmq_info *infos, unsigned int n,
			unsigned int start, unsigned int *total)
{
	const struct kmq_backend *be;
	int err;

	if (n && !infos)
		return -EINVAL;
	err = kmq_backend_get(&be);
	return err ? err : be->list(infos, n, start, total);
}

KMQ_EXPORT int kmq_open(const char *name, unsigned int flags, struct kmq **out)
{
	const struct kmq_backend *be;
	struct kmq *q;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!kmq_name_valid(name) || (flags & ~OPEN_FLAGS) ||
	    !(flags & (KMQ_SEND | KMQ_RECV)))
		return -EINVAL;
	err = kmq_backend_get(&be);
	if (err)
		return err;
	q = kmq_alloc(be, flags);
	if (!q)
		return -ENOMEM;
	memcpy(q->name, name, strlen(name));
	err = be->open(q, name, flags);
	if (err) {
		free(q);
		return err;
	}
	*out = q;
	return 0;
}

/* Borrowed slots are not put back here: closing the queue fd makes the
 * queue's owner repair them for redelivery, which is also what happens
 * when a process dies, so there is one path and it is always exercised.
 * Slots deferred behind a stalled popper get one more try first; those the
 * free ring still does not take are given back by the same repair. */
KMQ_EXPORT void kmq_close(struct kmq *q)
{
	if (!q)
		return;
	if (q->mapped && q->fast.ndefer) {
		unsigned int who = 0;

		kmq_fast_flush(&q->fast, &who);
		if (who && q->be->wake)
			q->be->wake(q, who);
	}
	if (q->be->close)
		q->be->close(q);
	kmq_copy_free_all(q);
	free(q);
}

KMQ_EXPORT int kmq_fd(const struct kmq *q)
{
	return q ? q->fd : -EINVAL;
}

KMQ_EXPORT int kmq_mapped(const struct kmq *q)
{
	return q ? q->mapped : -EINVAL;
}

KMQ_EXPORT int kmq_qinfo(const struct kmq *q, struct kmq_info *info)
{
	if (!q || !info)
		return -EINVAL;
	return q->be->qinfo(q, info);
}
