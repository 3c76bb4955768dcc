/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The registry: queue names, and the limits on how many queues and how much
 * queue memory exist, globally and per owner.
 */
#ifndef _KMQ_REGISTRY_H
#define _KMQ_REGISTRY_H

#include <linux/types.h>
#include <linux/uidgid.h>
#include <kmq/ring.h>

struct kmq_queue;

struct kmq_limits {
	unsigned int max_queues;	/* queue objects alive: -ENOSPC */
	u64 max_bytes;			/* their memory in total: -ENOSPC */
	u64 max_user_bytes;		/* their memory per owner: -EDQUOT */
};

int kmq_registry_init(const struct kmq_limits *limits);
/* Drops the registry's reference on every queue. */
void kmq_registry_uninit(void);

/*
 * kmq_registry_create - create queue @name laid out as @l, or find it.
 * An existing queue of the same @type and geometry is returned unless
 * @excl (-EEXIST), so is one with another geometry (-EEXIST). A new queue
 * is charged to the caller's fsuid first (-ENOSPC, -EDQUOT). On success
 * *@qp holds a reference for the caller and *@created says which case.
 */
int kmq_registry_create(const char *name, u32 type, const struct kmq_layout *l,
			u32 mode, bool excl, struct kmq_queue **qp,
			bool *created);

/*
 * kmq_name_check - 1..KMQ_NAME_MAX characters of [A-Za-z0-9_.-], then zeros
 * to the end of the KMQ_NAME_LEN field. Returns 0 or -EINVAL.
 */
int kmq_name_check(const char name[KMQ_NAME_LEN]);

/*
 * kmq_registry_new - what KMQ_IOC_CREATE and netlink's CREATE share: check
 * @name (kmq_name_check), @type, @mode (0..0777), @flags (KMQ_CREATE_*: FIFO
 * exactly when the name ends in ".fifo"), lay out @capacity slots of
 * @max_msg_size bytes (-EINVAL for any of them), then create or find as
 * kmq_registry_create(), exclusively with KMQ_CREATE_EXCL. A new queue is announced on netlink.
 */
int kmq_registry_new(const char name[KMQ_NAME_LEN], u32 type, u32 capacity,
		     u32 max_msg_size, u32 mode, u32 flags,
		     struct kmq_queue **qp, bool *created);

/* kmq_registry_lookup - the queue named @name with a reference, or NULL. */
struct kmq_queue *kmq_registry_lookup(const char *name);

/* kmq_registry_delete - remove @name if the caller owns it or has
 * CAP_SYS_ADMIN, and announce it on netlink. Returns 0, -ENOENT or -EPERM. */
int kmq_registry_delete(const char *name);

/*
 * kmq_registry_list - snapshot at most @room queues into @infos, starting
 * at index @start in creation order. Sets *@filled and *@total (queues that
 * exist). @infos is kernel memory: copy it out after this returns.
 */
void kmq_registry_list(struct kmq_info *infos, u32 room, u64 start,
		       u32 *filled, u64 *total);

/*
 * kmq_registry_walk - call @fn for each registered queue whose registry id
 * (q->reg_id: creation order, never reused) is above @after, oldest first,
 * until it returns nonzero, which is returned. @fn runs under the registry
 * lock: it must not sleep or call back into the registry. The walk a dump
 * resumes by id, so that creations and deletions between its parts neither
 * repeat nor skip the queues that stay.
 */
int kmq_registry_walk(u64 after, int (*fn)(struct kmq_queue *q, void *arg),
		      void *arg);

/*
 * kmq_registry_snapshot - every registered queue, each with a reference,
 * in a kvmalloc()ed array of *@n (kvfree() it after putting them), or NULL.
 */
struct kmq_queue **kmq_registry_snapshot(unsigned int *n);

/* kmq_registry_uncharge - give back @bytes charged to @uid by a create. */
void kmq_registry_uncharge(kuid_t uid, u64 bytes);

#endif /* _KMQ_REGISTRY_H */
