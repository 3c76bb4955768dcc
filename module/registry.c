// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: queue names (a hash table for lookups, a list for LIST's
 * creation order), and the accounting behind the module's limits. Queue
 * memory is charged when a queue is created and given back when the queue
 * is freed (its last fd and mapping gone), not when its name is deleted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/stringhash.h>

#include "netlink.h"
#include "queue.h"
#include "registry.h"

/* Bytes charged to one owner. */
struct kmq_user {
	struct list_head node;
	kuid_t uid;
	u64 bytes;
};

static DEFINE_MUTEX(kmq_registry_lock);
static DEFINE_HASHTABLE(kmq_names, 8);
static LIST_HEAD(kmq_order);		/* registered queues, oldest first */
static u64 kmq_nr_names;
static u64 kmq_last_id;			/* registry ids given out */
static LIST_HEAD(kmq_users);
static unsigned int kmq_nr_queues;	/* queue objects alive */
static u64 kmq_bytes;
static struct kmq_limits kmq_limits;

static u32 kmq_name_hash(const char *name)
{
	return full_name_hash(NULL, name, strnlen(name, KMQ_NAME_LEN));
}

static struct kmq_queue *kmq_registry_find(const char *name)
{
	struct kmq_queue *q;

	lockdep_assert_held(&kmq_registry_lock);
	hash_for_each_possible(kmq_names, q, hnode, kmq_name_hash(name))
		if (!strncmp(q->name, name, KMQ_NAME_LEN))
			return q;
	return NULL;
}

static struct kmq_user *kmq_user_find(kuid_t uid)
{
	struct kmq_user *u;

	list_for_each_entry(u, &kmq_users, node)
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* Charge @bytes and one queue to @uid, or say which limit forbids it. */
static int kmq_registry_charge(kuid_t uid, u64 bytes)
{
	struct kmq_user *u;

	lockdep_assert_held(&kmq_registry_lock);
	if (kmq_nr_queues >= kmq_limits.max_queues)
		return -ENOSPC;
	if (bytes > kmq_limits.max_bytes ||
	    kmq_bytes > kmq_limits.max_bytes - bytes)
		return -ENOSPC;
	u = kmq_user_find(uid);
	if (bytes > kmq_limits.max_user_bytes ||
	    (u && u->bytes > kmq_limits.max_user_bytes - bytes))
		return -EDQUOT;
	if (!u) {
		u = kzalloc(sizeof(*u), GFP_KERNEL);
		if (!u)
			return -ENOMEM;
		u->uid = uid;
		list_add(&u->node, &kmq_users);
	}
	u->bytes += bytes;
	kmq_bytes += bytes;
	kmq_nr_queues++;
	return 0;
}

static void __kmq_registry_uncharge(kuid_t uid, u64 bytes)
{
	struct kmq_user *u;

	lockdep_assert_held(&kmq_registry_lock);
	u = kmq_user_find(uid);
	if (u) {
		u->bytes -= min(u->bytes, bytes);
		if (!u->bytes) {
			list_del(&u->node);
			kfree(u);
		}
	}
	kmq_bytes -= min(kmq_bytes, bytes);
	if (kmq_nr_queues)
		kmq_nr_queues--;
}

void kmq_registry_uncharge(kuid_t uid, u64 bytes)
{
	mutex_lock(&kmq_registry_lock);
	__kmq_registry_uncharge(uid, bytes);
	mutex_unlock(&kmq_registry_lock);
}

/* An existing queue answers a create: same geometry and no EXCL is fine. */
static int kmq_registry_existing(struct kmq_queue *q, u32 type,
				 const struct kmq_layout *l, bool excl,
				 struct kmq_queue **qp)
{
	if (excl || !kmq_queue_same_geometry(q, type, l))
		return -EEXIST;
	*qp = kmq_queue_get(q);
	return 0;
}

int kmq_registry_create(const char *name, u32 type, const struct kmq_layout *l,
			u32 mode, bool excl, struct kmq_queue **qp,
			bool *created)
{
	kuid_t uid = current_fsuid();
	struct kmq_queue *q, *found;
	int err;

	*created = false;
	mutex_lock(&kmq_registry_lock);
	found = kmq_registry_find(name);
	if (found)
		err = kmq_registry_existing(found, type, l, excl, qp);
	else
		err = kmq_registry_charge(uid, l->size);
	mutex_unlock(&kmq_registry_lock);
	if (found || err)
		return err;

	/* Allocating may take long (up to max_bytes of pages): not under the
	 * lock. A racing create of the same name may win meanwhile. */
	q = kmq_queue_create(name, l, mode);
	if (IS_ERR(q)) {
		kmq_registry_uncharge(uid, l->size);
		return PTR_ERR(q);
	}

	mutex_lock(&kmq_registry_lock);
	found = kmq_registry_find(name);
	if (found) {
		err = kmq_registry_existing(found, type, l, excl, qp);
	} else {
		hash_add(kmq_names, &q->hnode, kmq_name_hash(name));
		list_add_tail(&q->lnode, &kmq_order);
		kmq_nr_names++;
		q->reg_id = ++kmq_last_id;
		*qp = kmq_queue_get(q);	/* the registry keeps the first */
		*created = true;
		/* Under the lock: listeners see creations and deletions of
		 * one name in the order they happened. */
		kmq_nl_queue_created(q);
		trace_kmq_queue_create(q->name, q->type, q->layout.capacity);
	}
	mutex_unlock(&kmq_registry_lock);
	if (found)
		kmq_queue_put(q);	/* gives its charge back */
	return err;
}

static bool kmq_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

int kmq_name_check(const char name[KMQ_NAME_LEN])
{
	size_t len = strnlen(name, KMQ_NAME_LEN), i;

	if (!len || len > KMQ_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!kmq_name_char(name[i]))
			return -EINVAL;
	for (; i < KMQ_NAME_LEN; i++)
		if (name[i])
			return -EINVAL;
	return 0;
}

int kmq_registry_new(const char name[KMQ_NAME_LEN], u32 type, u32 capacity,
		     u32 max_msg_size, u32 mode, u32 flags,
		     struct kmq_queue **qp, bool *created)
{
	struct kmq_layout layout;
	int err;

	*created = false;
	/* A FIFO queue is one whose name ends in ".fifo": the flag and the
	 * name must agree, as SQS's FifoQueue attribute and name do. */
	if (kmq_name_check(name) || type != KMQ_TYPE_QUEUE || mode & ~0777U ||
	    flags & ~(KMQ_CREATE_EXCL | KMQ_CREATE_FIFO) ||
	    !(flags & KMQ_CREATE_FIFO) != !kmq_queue_fifo_name(name))
		return -EINVAL;
	err = kmq_layout_compute(&layout, capacity, max_msg_size);
	if (err)
		return err;
	return kmq_registry_create(name, type, &layout, mode,
				   flags & KMQ_CREATE_EXCL, qp, created);
}

struct kmq_queue *kmq_registry_lookup(const char *name)
{
	struct kmq_queue *q;

	mutex_lock(&kmq_registry_lock);
	q = kmq_registry_find(name);
	if (q)
		kmq_queue_get(q);
	mutex_unlock(&kmq_registry_lock);
	return q;
}

static void kmq_registry_unlink(struct kmq_queue *q)
{
	hash_del(&q->hnode);
	list_del_init(&q->lnode);
	kmq_nr_names--;
}

int kmq_registry_delete(const char *name)
{
	struct kmq_queue *q;

	mutex_lock(&kmq_registry_lock);
	q = kmq_registry_find(name);
	if (!q) {
		mutex_unlock(&kmq_registry_lock);
		return -ENOENT;
	}
	if (!uid_eq(current_fsuid(), q->uid) && !capable(CAP_SYS_ADMIN)) {
		mutex_unlock(&kmq_registry_lock);
		return -EPERM;
	}
	kmq_registry_unlink(q);
	kmq_nl_queue_deleted(q);
	trace_kmq_queue_delete(q->name, q->type, q->layout.capacity);
	mutex_unlock(&kmq_registry_lock);
	kmq_queue_put(q);
	return 0;
}

int kmq_registry_walk(u64 after, int (*fn)(struct kmq_queue *q, void *arg),
		      void *arg)
{
	struct kmq_queue *q;
	int ret = 0;

	mutex_lock(&kmq_registry_lock);
	list_for_each_entry(q, &kmq_order, lnode) {
		if (q->reg_id <= after)
			continue;
		ret = fn(q, arg);
		if (ret)
			break;
	}
	mutex_unlock(&kmq_registry_lock);
	return ret;
}

void kmq_registry_list(struct kmq_info *infos, u32 room, u64 start,
		       u32 *filled, u64 *total)
{
	struct kmq_queue *q;
	u64 i = 0;
	u32 n = 0;

	mutex_lock(&kmq_registry_lock);
	list_for_each_entry(q, &kmq_order, lnode) {
		if (n >= room)
			break;
		if (i++ < start)
			continue;
		kmq_queue_info(q, &infos[n++]);
	}
	*total = kmq_nr_names;
	mutex_unlock(&kmq_registry_lock);
	*filled = n;
}

struct kmq_queue **kmq_registry_snapshot(unsigned int *n)
{
	struct kmq_queue **qs, *q;
	unsigned int room, i = 0;

	*n = 0;
	mutex_lock(&kmq_registry_lock);
	room = kmq_nr_names;
	qs = room ? kvmalloc_array(room, sizeof(*qs), GFP_KERNEL) : NULL;
	if (qs)
		list_for_each_entry(q, &kmq_order, lnode)
			if (i < room)
				qs[i++] = kmq_queue_get(q);
	mutex_unlock(&kmq_registry_lock);
	*n = i;
	return qs;
}

int kmq_registry_init(const struct kmq_limits *limits)
{
	kmq_limits = *limits;
	return 0;
}

void kmq_registry_uninit(void)
{
	struct kmq_queue *q, *tmp;
	struct kmq_user *u, *utmp;
	LIST_HEAD(doomed);

	mutex_lock(&kmq_registry_lock);
	list_for_each_entry_safe(q, tmp, &kmq_order, lnode) {
		hash_del(&q->hnode);
		list_move_tail(&q->lnode, &doomed);
		kmq_nr_names--;
	}
	mutex_unlock(&kmq_registry_lock);

	/* No queue fd can be open (each pins the module): these are the last
	 * references, and dropping them frees the queues. */
	list_for_each_entry_safe(q, tmp, &doomed, lnode) {
		list_del_init(&q->lnode);
		kmq_queue_put(q);
	}

	mutex_lock(&kmq_registry_lock);
	if (kmq_nr_queues || kmq_bytes)
		pr_err("exit: %u queues, %llu bytes still charged\n",
		       kmq_nr_queues, kmq_bytes);
	list_for_each_entry_safe(u, utmp, &kmq_users, node) {
		list_del(&u->node);
		kfree(u);
	}
	mutex_unlock(&kmq_registry_lock);
}
