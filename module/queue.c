// SPDX-License-Identifier: GPL-2.0
/*
 * The queue object: its shared memory (a shmem file, pages allocated up front
 * in the creator's context, pinned and vmap()ed), its trusted geometry and
 * the ring operations the copying path and crash repair build on.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/vmalloc.h>

#include "queue.h"
#include "registry.h"
#include "repair.h"

static atomic64_t kmq_queues_created, kmq_queues_destroyed;
static atomic64_t kmq_slots_created, kmq_slots_destroyed;

/* How long kmq_queue_put_slot() waits for a previous-lap popper. */
#define KMQ_PUT_TRIES	20

static void kmq_queue_free_pages(struct kmq_queue *q)
{
	unsigned long i;

	if (q->base)
		vunmap(q->base);
	if (q->pages) {
		for (i = 0; i < q->nr_pages && q->pages[i]; i++)
			put_page(q->pages[i]);
		kvfree(q->pages);
	}
	if (q->shm)
		fput(q->shm);
}

/* Allocate every page of the shmem file now, so the queue never faults in
 * memory later and a failure is a clean -ENOMEM at creation. */
static int kmq_queue_alloc_pages(struct kmq_queue *q)
{
	const gfp_t gfp = GFP_KERNEL_ACCOUNT | __GFP_NORETRY | __GFP_NOWARN;
	char fname[KMQ_NAME_LEN + 8];
	struct address_space *mapping;
	unsigned long i;

	q->nr_pages = PAGE_ALIGN(q->layout.size) >> PAGE_SHIFT;
	snprintf(fname, sizeof(fname), "kmq:%s", q->name);
	q->shm = shmem_file_setup(fname, PAGE_ALIGN(q->layout.size), 0);
	if (IS_ERR(q->shm)) {
		int err = PTR_ERR(q->shm);

		q->shm = NULL;
		return err;
	}
	mapping = q->shm->f_mapping;
	/* Pinned for the queue's life: keep them off the evictable LRUs. */
	mapping_set_unevictable(mapping);

	q->pages = kvcalloc(q->nr_pages, sizeof(*q->pages),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!q->pages)
		return -ENOMEM;
	for (i = 0; i < q->nr_pages; i++) {
		struct page *page;

		if (fatal_signal_pending(current))
			return -EINTR;
		page = shmem_read_mapping_page_gfp(mapping, i, gfp);
		if (IS_ERR(page))
			return PTR_ERR(page);
		q->pages[i] = page;
		cond_resched();
	}
	q->base = vmap(q->pages, q->nr_pages, VM_MAP, PAGE_KERNEL);
	if (!q->base)
		return -ENOMEM;
	return 0;
}

struct kmq_queue *kmq_queue_create(const char *name, const struct kmq_layout *l,
				   u32 mode)
{
	struct kmq_queue *q;
	int err;

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	kref_init(&q->ref);
	INIT_HLIST_NODE(&q->hnode);
	INIT_LIST_HEAD(&q->lnode);
	strscpy(q->name, name, sizeof(q->name));
	q->type = KMQ_TYPE_QUEUE;
	q->mode = mode;
	q->uid = current_fsuid();
	q->gid = current_fsgid();
	q->created_ns = ktime_get_real_ns();
	q->layout = *l;
	ida_init(&q->ids);
	q->next_id = 1;
	atomic64_set(&q->seq, 0);
	atomic_set(&q->clients, 0);
	init_waitqueue_head(&q->wq);
	mutex_init(&q->repair_lock);
	kmq_repair_queue_init(q);
	atomic64_set(&q->repaired, 0);
	atomic64_set(&q->corrupt, 0);
	q->full_next = jiffies;
	atomic_set(&q->full_suppressed, 0);

	q->repair_map = bitmap_zalloc(l->capacity, GFP_KERNEL_ACCOUNT);
	if (!q->repair_map) {
		err = -ENOMEM;
		goto err_free;
	}
	err = kmq_queue_alloc_pages(q);
	if (err)
		goto err_free;
	kmq_layout_init(q->base, &q->layout, KMQ_FEATURES, q->created_ns);
	kmq_view_init(&q->view, q->base, &q->layout);
	kmq_sqs_queue_init(q, kmq_queue_fifo_name(name));

	atomic64_inc(&kmq_queues_created);
	atomic64_add(q->layout.capacity, &kmq_slots_created);
	return q;

err_free:
	kmq_queue_free_pages(q);
	bitmap_free(q->repair_map);
	ida_destroy(&q->ids);
	kfree(q);
	return ERR_PTR(err);
}

static void kmq_queue_release(struct kref *ref)
{
	struct kmq_queue *q = container_of(ref, struct kmq_queue, ref);

	kmq_sqs_queue_uninit(q);	/* its timer and work first */
	kmq_queue_free_pages(q);
	bitmap_free(q->repair_map);
	ida_destroy(&q->ids);
	kmq_registry_uncharge(q->uid, q->layout.size);
	atomic64_inc(&kmq_queues_destroyed);
	atomic64_add(q->layout.capacity, &kmq_slots_destroyed);
	kfree(q);
}

void kmq_queue_put(struct kmq_queue *q)
{
	might_sleep();
	kref_put(&q->ref, kmq_queue_release);
}

bool kmq_queue_fifo_name(const char *name)
{
	size_t len = strnlen(name, KMQ_NAME_LEN);

	return len >= 5 && !memcmp(name + len - 5, ".fifo", 5);
}

bool kmq_queue_same_geometry(const struct kmq_queue *q, u32 type,
			     const struct kmq_layout *l)
{
	return q->type == type && q->layout.capacity == l->capacity &&
	       q->layout.max_msg_size == l->max_msg_size;
}

int kmq_queue_permission(const struct kmq_queue *q, u32 flags)
{
	u32 want = 0, bits;

	if (flags & (KMQ_OPEN_SEND | KMQ_OPEN_MAP))
		want |= 2;
	if (flags & (KMQ_OPEN_RECV | KMQ_OPEN_MAP))
		want |= 4;
	if (uid_eq(current_fsuid(), q->uid))
		bits = q->mode >> 6;
	else if (in_group_p(q->gid))
		bits = q->mode >> 3;
	else
		bits = q->mode;
	if ((want & ~bits & 7) && !capable(CAP_DAC_OVERRIDE))
		return -EACCES;
	return 0;
}

void kmq_queue_info(struct kmq_queue *q, struct kmq_info *info)
{
	struct kmq_view *v = &q->view;
	u64 nfree, nready, head, tail;

	memset(info, 0, sizeof(*info));
	memcpy(info->name, q->name, sizeof(info->name));
	info->features = KMQ_FEATURES;
	info->type = q->type;
	info->capacity = q->layout.capacity;
	info->max_msg_size = q->layout.max_msg_size;
	info->slot_size = q->layout.slot_size;
	info->mode = q->mode;
	info->uid = from_kuid_munged(current_user_ns(), q->uid);
	info->gid = from_kgid_munged(current_user_ns(), q->gid);
	info->clients = atomic_read(&q->clients);
	info->size = q->layout.size;
	info->free_off = q->layout.free_off;
	info->ready_off = q->layout.ready_off;
	info->slots_off = q->layout.slots_off;
	info->created_ns = q->created_ns;

	/* Shared counters: snapshots a mapper can falsify, so clamp them. */
	nfree = kmq_ring_count(&v->free);
	nready = kmq_ring_count(&v->ready);
	info->ready = nready;
	info->held = nfree + nready >= q->layout.capacity ?
		     0 : q->layout.capacity - nfree - nready;
	head = kmq_load_acq(&v->hdr->ready.head);
	tail = kmq_load_acq(&v->hdr->ready.tail);
	info->sent = tail;
	info->received = min(head, tail);
	info->repaired = atomic64_read(&q->repaired);
	info->corrupt = atomic64_read(&q->corrupt);
	kmq_sqs_info(q, info);
}

int kmq_queue_take(struct kmq_queue *q, struct kmq_ring *ring, u32 me,
		   u32 state, u32 *idx)
{
	u64 corrupt = 0;
	int err;

	err = kmq_take(&q->view, ring, me, state, idx, &corrupt);
	if (corrupt)
		atomic64_add(corrupt, &q->corrupt);
	return err;
}

int kmq_queue_take_fit(struct kmq_queue *q, u32 me, u32 room, u32 *idx,
		       u32 *need)
{
	u64 corrupt = 0;
	int err;

	err = kmq_take_fit(&q->view, me, room, idx, need, &corrupt);
	if (corrupt)
		atomic64_add(corrupt, &q->corrupt);
	return err;
}

int kmq_queue_client_id(struct kmq_queue *q)
{
	u32 next = READ_ONCE(q->next_id);
	int id;

	/* Racing opens may start from the same place: the IDA still hands
	 * out distinct ids, and next_id is only a hint. */
	if (next < 1 || next > KMQ_CLIENT_MAX)
		next = 1;
	id = ida_alloc_range(&q->ids, next, KMQ_CLIENT_MAX, GFP_KERNEL);
	if (id == -ENOSPC && next > 1)
		id = ida_alloc_range(&q->ids, 1, next - 1, GFP_KERNEL);
	if (id < 0)
		return id == -ENOSPC ? -EMFILE : id;
	WRITE_ONCE(q->next_id, id == KMQ_CLIENT_MAX ? 1 : id + 1);
	return id;
}

int kmq_queue_put_slot(struct kmq_queue *q, struct kmq_ring *ring, u32 idx,
		       u32 state)
{
	unsigned int tries;
	int err = -EBUSY;

	for (tries = 0; tries < KMQ_PUT_TRIES; tries++) {
		u64 corrupt = 0;

		if (tries)
			usleep_range(500, 1000);
		err = kmq_put(&q->view, ring, idx, state, &corrupt);
		if (corrupt)
			atomic64_add(corrupt, &q->corrupt);
		if (err != -EBUSY)
			break;
	}
	return err;
}

/* Enough to step over every popper caught between its cell CAS and its head
 * CAS; a damaged ring is reported ready rather than risk a missed wake-up. */
#define KMQ_READY_STEPS	64

bool kmq_queue_ring_ready(struct kmq_ring *r)
{
	unsigned int i;

	for (i = 0; i < KMQ_READY_STEPS; i++) {
		u64 h = kmq_load_acq(&r->ctl->head);
		u64 c = kmq_load_acq(&r->cells[h & r->mask]);

		if (kmq_cell_is_full(c, h))
			return true;
		if (kmq_cell_is_taken(c, h) ||
		    kmq_cell_is_empty(c, h + r->cap)) {
			kmq_cas(&r->ctl->head, h, h + 1);	/* help */
			continue;
		}
		if (kmq_load_acq(&r->ctl->head) == h)
			return false;
	}
	return true;
}

void kmq_queue_stats(u64 *queues_created, u64 *queues_destroyed,
		     u64 *slots_created, u64 *slots_destroyed)
{
	*queues_created = atomic64_read(&kmq_queues_created);
	*queues_destroyed = atomic64_read(&kmq_queues_destroyed);
	*slots_created = atomic64_read(&kmq_slots_created);
	*slots_destroyed = atomic64_read(&kmq_slots_destroyed);
}

int kmq_queue_init(void)
{
	/* Prove that ring.h pulled in the project's uapi header, and that the
	 * shared layout is what the specification says. */
	BUILD_BUG_ON(sizeof(struct kmq_hdr) != KMQ_HDR_SIZE);
	BUILD_BUG_ON(sizeof(struct kmq_slot) != KMQ_SLOT_HDR_SIZE);
	BUILD_BUG_ON(offsetof(struct kmq_hdr, policy_max_msg_size) != 80);
	BUILD_BUG_ON(offsetof(struct kmq_hdr, free) != 128);
	BUILD_BUG_ON(offsetof(struct kmq_hdr, ready) != 384);
	BUILD_BUG_ON(offsetof(struct kmq_hdr, rd_wait) != 640);
	BUILD_BUG_ON(offsetof(struct kmq_hdr, wr_wait) != 768);
	BUILD_BUG_ON(KMQ_CAPACITY_MAX - 1 > KMQ_CELL_IDX_MASK);
	BUILD_BUG_ON(KMQ_CLIENT_MAX > KMQ_CELL_OWNER_MASK);

	atomic64_set(&kmq_queues_created, 0);
	atomic64_set(&kmq_queues_destroyed, 0);
	atomic64_set(&kmq_slots_created, 0);
	atomic64_set(&kmq_slots_destroyed, 0);
	return 0;
}

void kmq_queue_uninit(void)
{
}
