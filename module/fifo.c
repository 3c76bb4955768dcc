// SPDX-License-Identifier: GPL-2.0
/*
 * FIFO queues: the kernel keeps every visible message of a FIFO queue in
 * its message group (state KMQ_SLOT_QUEUED, owner 0, in no ring), groups
 * hashed by name, each an ordered list of slots linked through the per-slot
 * state of sqs.c. A group with a message in flight is blocked; the groups
 * with messages and none in flight wait in a list, oldest first, for
 * receivers. Deduplication ids (given, or the SHA-256 of the body) are kept
 * for dedup_window_ms in a bounded table. Everything here runs under the
 * queue's sqs.lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/unaligned.h>
#include <crypto/sha2.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fifo.h"
#include "qfd.h"
#include "queue.h"
#include "sqs.h"

static unsigned int dedup_window_ms = KMQ_DEDUP_WINDOW_S * 1000;
module_param(dedup_window_ms, uint, 0644);
MODULE_PARM_DESC(dedup_window_ms, "FIFO deduplication window in ms (default 300000)");

/*
 * Most deduplication entries per queue: 16 per slot, at least 1024, at most
 * 256 Ki. An entry outlives its message (it lasts the window), so without a
 * bound a fast sender would make the kernel keep one per message sent in
 * five minutes; with it, a queue's table stays proportional to the memory
 * its owner was charged for (~100 bytes per entry). Past the bound the
 * oldest entry goes first: deduplication then covers the last entries only.
 */
#define KMQ_DEDUP_MIN		1024U
#define KMQ_DEDUP_MAX		(256U * 1024)
#define KMQ_DEDUP_PER_SLOT	16U

struct kmq_fifo_group {
	struct hlist_node hnode;	/* fifo->groups */
	struct list_head ready;		/* fifo->ready while ready */
	u32 head, tail;			/* queued slots, by sequence */
	u32 inflight;			/* leased: blocks the group */
	u32 delayed;			/* delayed: keeps the group */
	char name[KMQ_GROUP_LEN];
};

struct kmq_dedup {
	struct hlist_node hnode;	/* fifo->dedup */
	struct list_head lru;		/* fifo->dedup_lru, oldest first */
	u64 expires;			/* ktime_get_ns() */
	u64 id, seq;
	u8 key[SHA256_DIGEST_SIZE];
};

struct kmq_fifo {
	DECLARE_HASHTABLE(groups, 8);
	DECLARE_HASHTABLE(dedup, 10);
	struct list_head ready;		/* ready groups, oldest first */
	struct list_head dedup_lru;
	u32 ndedup, max_dedup;
	u64 seq;			/* last sequence number given */
	atomic_t nready;		/* ready groups: waiters' hint */
};

void kmq_fifo_state_init(struct kmq_sqs *st)
{
	st->fifo = NULL;
}

static int kmq_fifo_alloc(struct kmq_sqs *st)
{
	struct kmq_fifo *f;

	if (st->fifo)
		return 0;
	f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);
	if (!f)
		return -ENOMEM;
	hash_init(f->groups);
	hash_init(f->dedup);
	INIT_LIST_HEAD(&f->ready);
	INIT_LIST_HEAD(&f->dedup_lru);
	f->max_dedup = clamp(st->q->layout.capacity * KMQ_DEDUP_PER_SLOT,
			     KMQ_DEDUP_MIN, KMQ_DEDUP_MAX);
	atomic_set(&f->nready, 0);
	smp_store_release(&st->fifo, f);	/* poll() reads it unlocked */
	return 0;
}

void kmq_fifo_state_free(struct kmq_sqs *st)
{
	struct kmq_fifo *f = st->fifo;
	struct kmq_fifo_group *g;
	struct kmq_dedup *e, *etmp;
	struct hlist_node *tmp;
	int bkt;

	if (!f)
		return;
	hash_for_each_safe(f->groups, bkt, tmp, g, hnode)
		kfree(g);
	list_for_each_entry_safe(e, etmp, &f->dedup_lru, lru)
		kfree(e);
	kfree(f);
	st->fifo = NULL;
}

/* ---- groups --------------------------------------------------------------- */

/* 1..KMQ_GROUP_LEN-1 printable ASCII characters, then zeros. */
static int kmq_fifo_id_check(const char id[KMQ_GROUP_LEN])
{
	size_t len = strnlen(id, KMQ_GROUP_LEN), i;

	if (!len || len >= KMQ_GROUP_LEN)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (id[i] < 0x21 || id[i] > 0x7e)
			return -EINVAL;
	return memchr_inv(id + len, 0, KMQ_GROUP_LEN - len) ? -EINVAL : 0;
}

static u32 kmq_fifo_hash(const char *name)
{
	return jhash(name, strnlen(name, KMQ_GROUP_LEN), 0);
}

static struct kmq_fifo_group *kmq_fifo_group_get(struct kmq_fifo *f,
						 const char *name)
{
	struct kmq_fifo_group *g;
	u32 h = kmq_fifo_hash(name);

	hash_for_each_possible(f->groups, g, hnode, h)
		if (!strncmp(g->name, name, KMQ_GROUP_LEN))
			return g;
	g = kzalloc(sizeof(*g), GFP_KERNEL_ACCOUNT);
	if (!g)
		return NULL;
	memcpy(g->name, name, KMQ_GROUP_LEN);
	g->head = KMQ_SQS_NONE;
	g->tail = KMQ_SQS_NONE;
	INIT_LIST_HEAD(&g->ready);
	hash_add(f->groups, &g->hnode, h);
	return g;
}

/* After any change to @g: make it ready, block it, or free it. */
static void kmq_fifo_settle(struct kmq_fifo *f, struct kmq_fifo_group *g,
			    struct kmq_sqs_ctx *ctx)
{
	bool ready = g->head != KMQ_SQS_NONE && !g->inflight;

	if (ready && list_empty(&g->ready)) {
		list_add_tail(&g->ready, &f->ready);
		atomic_inc(&f->nready);
		if (ctx)
			ctx->to_ready = true;
	} else if (!ready && !list_empty(&g->ready)) {
		list_del_init(&g->ready);
		atomic_dec(&f->nready);
	}
	if (g->head == KMQ_SQS_NONE && !g->inflight && !g->delayed) {
		hash_del(&g->hnode);
		kfree(g);
	}
}

/* Put @idx into its group in sequence order, as QUEUED. */
static void kmq_fifo_enqueue(struct kmq_queue *q, struct kmq_fifo_group *g,
			     u32 idx)
{
	struct kmq_sqs_slot *slots = q->sqs.st->slots, *ls = &slots[idx];
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);
	u32 *link = &g->head;

	/* Sends append; expired leases go back before the rest. */
	if (g->tail != KMQ_SQS_NONE && slots[g->tail].seq < ls->seq)
		link = &slots[g->tail].next;
	else
		while (*link != KMQ_SQS_NONE && slots[*link].seq < ls->seq)
			link = &slots[*link].next;
	ls->next = *link;
	*link = idx;
	if (ls->next == KMQ_SQS_NONE)
		g->tail = idx;
	ls->group = g;
	ls->state = KMQ_LS_QUEUED;
	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_QUEUED);
	atomic64_inc(&q->sqs.queued);
}

/* Take the first message of @g out of its list. */
static u32 kmq_fifo_unlink_head(struct kmq_queue *q, struct kmq_fifo_group *g)
{
	struct kmq_sqs_slot *ls;
	u32 idx = g->head;

	ls = &q->sqs.st->slots[idx];
	g->head = ls->next;
	if (g->head == KMQ_SQS_NONE)
		g->tail = KMQ_SQS_NONE;
	ls->next = KMQ_SQS_NONE;
	ls->state = KMQ_LS_NONE;
	atomic64_dec(&q->sqs.queued);
	return idx;
}

void kmq_fifo_gone(struct kmq_queue *q, u32 idx, bool lease,
		   struct kmq_sqs_ctx *ctx)
{
	struct kmq_sqs_slot *ls = &q->sqs.st->slots[idx];
	struct kmq_fifo_group *g = ls->group;

	if (!g)
		return;
	ls->group = NULL;
	if (lease)
		g->inflight--;
	else
		g->delayed--;
	kmq_fifo_settle(q->sqs.st->fifo, g, ctx);
}

void kmq_fifo_requeue(struct kmq_queue *q, u32 idx, bool lease,
		      struct kmq_sqs_ctx *ctx)
{
	struct kmq_sqs_slot *ls = &q->sqs.st->slots[idx];
	struct kmq_fifo_group *g = ls->group;

	if (!g) {			/* cannot be: free it rather than lose it */
		kmq_sqs_push(q, idx, false, ctx);
		return;
	}
	if (lease)
		g->inflight--;
	else
		g->delayed--;
	kmq_fifo_enqueue(q, g, idx);
	kmq_fifo_settle(q->sqs.st->fifo, g, ctx);
}

void kmq_fifo_purged(struct kmq_queue *q)
{
	struct kmq_fifo *f = q->sqs.st->fifo;
	struct kmq_fifo_group *g;
	struct hlist_node *tmp;
	int bkt;

	if (!f)
		return;
	hash_for_each_safe(f->groups, bkt, tmp, g, hnode) {
		hash_del(&g->hnode);
		kfree(g);
	}
	INIT_LIST_HEAD(&f->ready);
	atomic_set(&f->nready, 0);
}

/* ---- deduplication --------------------------------------------------------- */

static void kmq_dedup_expire(struct kmq_fifo *f, u64 now)
{
	struct kmq_dedup *e, *tmp;

	list_for_each_entry_safe(e, tmp, &f->dedup_lru, lru) {
		if (e->expires > now && f->ndedup <= f->max_dedup)
			break;
		hash_del(&e->hnode);
		list_del(&e->lru);
		kfree(e);
		f->ndedup--;
	}
}

/* The live entry of @key. The list is in insertion order, which is expiry
 * order only while dedup_window_ms stays the same: an entry past its time
 * behind a younger one goes here. */
static struct kmq_dedup *kmq_dedup_find(struct kmq_fifo *f, const u8 *key,
					u64 now)
{
	struct kmq_dedup *e;

	hash_for_each_possible(f->dedup, e, hnode,
			       get_unaligned((const u32 *)key)) {
		if (memcmp(e->key, key, SHA256_DIGEST_SIZE))
			continue;
		if (e->expires > now)
			return e;
		hash_del(&e->hnode);
		list_del(&e->lru);
		kfree(e);
		f->ndedup--;
		return NULL;
	}
	return NULL;
}

/* The deduplication key of @m: SHA-256 of its id, or of its body. */
static int kmq_dedup_key(struct kmq_queue *q, const struct kmq_sqsmsg *m,
			 u8 *key)
{
	u8 *body;

	if (m->dedup[0]) {
		if (kmq_fifo_id_check(m->dedup))
			return -EINVAL;
		sha256((const u8 *)m->dedup, strnlen(m->dedup, KMQ_GROUP_LEN),
		       key);
		return 0;
	}
	if (!(READ_ONCE(q->sqs.policy.flags) & KMQ_POL_CONTENT_DEDUP) ||
	    memchr_inv(m->dedup, 0, KMQ_GROUP_LEN))
		return -EINVAL;
	body = kvmalloc(max_t(u32, m->len, 1), GFP_KERNEL);
	if (!body)
		return -ENOMEM;
	if (copy_from_user(body, u64_to_user_ptr(m->body), m->len)) {
		kvfree(body);
		return -EFAULT;
	}
	sha256(body, m->len, key);
	kvfree(body);
	return 0;
}

/* ---- send ------------------------------------------------------------------ */

int kmq_fifo_send_one(struct kmq_client *c, struct kmq_sqsmsg *m,
		      const u8 *abuf)
{
	struct kmq_queue *q = c->q;
	struct kmq_sqs_ctx ctx = { };
	struct kmq_fifo_group *g;
	struct kmq_sqs_slot *ls;
	struct kmq_dedup *e, *dup;
	struct kmq_fifo *f;
	struct kmq_sqs *st;
	u8 key[SHA256_DIGEST_SIZE];
	u32 idx, delay;
	u64 now, id, sent;
	int err;

	if (m->flags & KMQ_SQSMSG_DELAY || kmq_fifo_id_check(m->group))
		return -EINVAL;
	err = kmq_dedup_key(q, m, key);
	if (err)
		return err;
	/* A duplicate is answered even when the queue is full. */
	mutex_lock(&q->sqs.lock);
	st = q->sqs.st;
	f = st ? st->fifo : NULL;
	dup = f ? kmq_dedup_find(f, key, ktime_get_ns()) : NULL;
	if (dup) {
		m->id = dup->id;
		m->seq = dup->seq;
		m->flags |= KMQ_SQSMSG_DUPLICATE;
		atomic64_inc(&q->sqs.deduplicated);
		trace_kmq_drop(q->name, dup->id, 0, m->len, 0, KMQ_DROP_DEDUP);
	}
	mutex_unlock(&q->sqs.lock);
	if (dup)
		return 0;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return -ENOMEM;
	/* Written before the lock: no lock is held across a user copy (a
	 * faulting or userfaultfd-stalled sender must not stall the queue). */
	err = kmq_queue_take(q, &q->view.free, c->id, KMQ_SLOT_CLAIMED, &idx);
	if (err)
		goto out_free;
	id = kmq_client_next_id(c);
	err = kmq_sqs_fill(q, idx, m, abuf, id);
	sent = kmq_load(&kmq_slot_at(&q->view, idx)->sent_ns);

	mutex_lock(&q->sqs.lock);
	st = kmq_sqs_state(q);
	if (!err && (!st || kmq_fifo_alloc(st)))
		err = -ENOMEM;
	if (err)
		goto out_give_back;
	f = st->fifo;
	now = ktime_get_ns();
	kmq_dedup_expire(f, now);
	dup = kmq_dedup_find(f, key, now);
	if (dup) {
		m->id = dup->id;
		m->seq = dup->seq;
		m->flags |= KMQ_SQSMSG_DUPLICATE;
		atomic64_inc(&q->sqs.deduplicated);
		trace_kmq_drop(q->name, dup->id, 0, m->len, 0, KMQ_DROP_DEDUP);
		goto out_give_back;	/* raced with its twin; err is 0 */
	}
	g = kmq_fifo_group_get(f, m->group);
	if (!g) {
		err = -ENOMEM;
		goto out_give_back;
	}
	ls = &st->slots[idx];
	ls->seq = ++f->seq;
	ls->group = g;
	ls->requeued = false;
	delay = READ_ONCE(q->sqs.policy.delay_s);
	if (delay) {
		g->delayed++;
		kmq_sqs_delay(q, idx, delay);
	} else {
		kmq_fifo_enqueue(q, g, idx);
	}
	kmq_fifo_settle(f, g, &ctx);

	memcpy(e->key, key, sizeof(e->key));
	e->id = id;
	e->seq = ls->seq;
	e->expires = now + (u64)READ_ONCE(dedup_window_ms) * NSEC_PER_MSEC;
	hash_add(f->dedup, &e->hnode, get_unaligned((const u32 *)key));
	/* Insertion order is eviction order past the bound. */
	list_add_tail(&e->lru, &f->dedup_lru);
	f->ndedup++;
	kmq_dedup_expire(f, now);	/* past the bound: the oldest goes */
	e = NULL;
	m->id = id;
	m->seq = ls->seq;
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
	trace_kmq_send(q->name, id, sent, m->len, 0, 0);
	return 0;

out_give_back:
	if (st)
		kmq_sqs_push(q, idx, false, &ctx);
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
	if (!st && kmq_queue_put_slot(q, &q->view.free, idx, KMQ_SLOT_FREE))
		atomic64_inc(&q->corrupt);	/* no memory to retry it */
out_free:
	kfree(e);
	return err;
}

/* ---- receive --------------------------------------------------------------- */

bool kmq_fifo_ready(struct kmq_queue *q)
{
	struct kmq_sqs *st = READ_ONCE(q->sqs.st);
	struct kmq_fifo *f = st ? READ_ONCE(st->fifo) : NULL;

	return f && atomic_read(&f->nready) > 0;
}

static int kmq_fifo_try_ready(struct kmq_queue *q, void *arg)
{
	return kmq_fifo_ready(q) ? 0 : -EAGAIN;
}

/*
 * Take the next message of @g for a receiver at @now: drops (and counts)
 * what is too old or damaged on the way. Returns the slot or KMQ_SQS_NONE,
 * with its lengths.
 */
static u32 kmq_fifo_next(struct kmq_queue *q, struct kmq_fifo_group *g,
			 u32 *len, u32 *alen, const struct kmq_sqs_now *now,
			 struct kmq_sqs_ctx *ctx)
{
	u32 idx;

	while (g->head != KMQ_SQS_NONE) {
		struct kmq_slot *s = kmq_slot_at(&q->view, g->head);

		*len = kmq_load(&s->len);
		*alen = kmq_load(&s->attr_len);
		if ((u64)*len + *alen > q->layout.max_msg_size) {
			ctx->corrupt++;
		} else if (kmq_sqs_too_old(q, s, now->real)) {
			atomic64_inc(&q->sqs.expired);
		} else {
			return g->head;
		}
		idx = kmq_fifo_unlink_head(q, g);
		q->sqs.st->slots[idx].group = NULL;
		kmq_sqs_push(q, idx, false, ctx);
	}
	return KMQ_SQS_NONE;
}

/* Wait for a ready group, then lock: the first ready group, or NULL when
 * another receiver took it (the caller waits again). */
static int kmq_fifo_wait(struct kmq_queue *q, bool block, ktime_t deadline)
{
	return kmq_sqs_wait(q, block, deadline, &q->view.hdr->rd_wait,
			    kmq_fifo_try_ready, NULL);
}

int kmq_fifo_recv(struct kmq_client *c, struct kmq_sqsmsg *msgs, u32 count,
		  u32 vis, bool block, ktime_t deadline, u32 *done)
{
	struct kmq_queue *q = c->q;
	u32 idxs[KMQ_SQS_BATCH_MAX], lens[KMQ_SQS_BATCH_MAX];
	u32 alens[KMQ_SQS_BATCH_MAX];
	u32 n, i;
	int err;

	for (;;) {
		struct kmq_sqs_ctx ctx = { };
		struct kmq_fifo_group *g;
		struct kmq_sqs_now now;
		struct kmq_fifo *f;

		err = kmq_fifo_wait(q, block, deadline);
		if (err)
			return err;
		n = 0;
		kmq_sqs_now(&now);
		mutex_lock(&q->sqs.lock);
		f = q->sqs.st->fifo;
		g = f ? list_first_entry_or_null(&f->ready,
						 struct kmq_fifo_group, ready) :
			NULL;
		while (g && n < count) {
			struct kmq_sqsmsg *m = &msgs[n];
			u32 idx = kmq_fifo_next(q, g, &lens[n], &alens[n],
						&now, &ctx);

			if (idx == KMQ_SQS_NONE)
				break;
			kmq_fifo_unlink_head(q, g);
			g->inflight++;
			kmq_sqs_lease(q, idx, vis, m, &now);
			m->seq = q->sqs.st->slots[idx].seq;
			memcpy(m->group, g->name, KMQ_GROUP_LEN);
			memset(m->dedup, 0, sizeof(m->dedup));
			idxs[n++] = idx;
		}
		if (g)
			kmq_fifo_settle(f, g, &ctx);
		mutex_unlock(&q->sqs.lock);
		kmq_sqs_ctx_end(q, &ctx);
		for (i = 0; i < n; i++)
			msgs[i].status = kmq_sqs_copy_out(q, idxs[i], lens[i],
							  alens[i], &msgs[i]);
		if (n) {
			*done = n;
			return 0;
		}
		if (!block)
			return -EAGAIN;
	}
}

long kmq_fifo_plain_recv(struct kmq_client *c, bool nonblock,
			 struct kmq_io __user *uarg)
{
	struct kmq_iomsg __user *umsgs;
	struct kmq_queue *q = c->q;
	u32 idxs[KMQ_BATCH_MAX], lens[KMQ_BATCH_MAX], alens[KMQ_BATCH_MAX];
	u64 gens[KMQ_BATCH_MAX];
	struct kmq_sqs_ctx ctx = { };
	struct kmq_iomsg *msgs;
	ktime_t deadline = KTIME_MAX;
	struct kmq_io io;
	u32 n = 0, i, done = 0;
	bool block;
	long err;

	if (!(c->flags & KMQ_OPEN_RECV))
		return -EBADF;
	if (copy_from_user(&io, uarg, sizeof(io)))
		return -EFAULT;
	if (!io.count || io.count > KMQ_BATCH_MAX ||
	    io.flags & ~KMQ_IO_NONBLOCK || io.reserved0 || io.reserved[0] ||
	    io.reserved[1])
		return -EINVAL;
	umsgs = u64_to_user_ptr(io.msgs);
	msgs = kmalloc_array(io.count, sizeof(*msgs), GFP_KERNEL);
	if (!msgs)
		return -ENOMEM;
	err = -EFAULT;
	if (copy_from_user(msgs, umsgs, io.count * sizeof(*msgs)))
		goto out_free;
	err = -EINVAL;
	for (i = 0; i < io.count; i++)
		if (msgs[i].flags || msgs[i].reserved[0] || msgs[i].reserved[1])
			goto out_free;
	block = !nonblock && !(io.flags & KMQ_IO_NONBLOCK) && io.timeout_ns;
	if (block && io.timeout_ns > 0)
		deadline = ktime_add_safe(ktime_get(),
					  ns_to_ktime(io.timeout_ns));
	if (!kmq_sqs_state_get(q)) {
		err = -ENOMEM;
		goto out_free;
	}

	/*
	 * Lease what fits from one ready group (so the group is blocked as
	 * for SQS_RECV), copy it out with no lock held, then delete what
	 * was copied and make visible again what was not.
	 */
	while (!n) {
		struct kmq_fifo_group *g;
		struct kmq_sqs_now now;
		struct kmq_fifo *f;

		err = kmq_fifo_wait(q, block, deadline);
		if (err)
			break;
		kmq_sqs_now(&now);
		mutex_lock(&q->sqs.lock);
		f = q->sqs.st->fifo;
		g = f ? list_first_entry_or_null(&f->ready,
						 struct kmq_fifo_group, ready) :
			NULL;
		while (g && n < io.count) {
			struct kmq_sqsmsg m;
			u32 idx = kmq_fifo_next(q, g, &lens[n], &alens[n],
						&now, &ctx);

			if (idx == KMQ_SQS_NONE)
				break;
			if (lens[n] > msgs[n].len) {
				/* Stays first in its group. */
				if (!n) {
					msgs[0].len = lens[0];
					err = -EMSGSIZE;
				}
				break;
			}
			kmq_fifo_unlink_head(q, g);
			g->inflight++;
			kmq_sqs_lease(q, idx, KMQ_VISIBILITY_DEFAULT, &m, &now);
			gens[n] = m.receipt;
			idxs[n++] = idx;
		}
		if (g)
			kmq_fifo_settle(f, g, &ctx);
		mutex_unlock(&q->sqs.lock);
		if (err || !block)
			break;
	}

	for (i = 0; i < n; i++) {
		struct kmq_iomsg *m = &msgs[i];
		struct kmq_slot *s = kmq_slot_at(&q->view, idxs[i]);

		m->len = lens[i];
		m->id = kmq_load(&s->id);
		m->sent_ns = kmq_load(&s->sent_ns);
		m->sender_pid = kmq_load(&s->sender_pid);
		m->sender_uid = kmq_load(&s->sender_uid);
		if (done == i &&
		    !copy_to_user(u64_to_user_ptr(m->buf),
				  (u8 *)kmq_slot_data(s) + alens[i], lens[i]) &&
		    !copy_to_user(&umsgs[i], m, sizeof(*m)))
			done++;
	}
	mutex_lock(&q->sqs.lock);
	for (i = 0; i < n; i++) {
		struct kmq_sqs_slot *ls = &q->sqs.st->slots[idxs[i]];

		/* Ours unless a guessed receipt settled it meanwhile. */
		if (ls->state != KMQ_LS_LEASED ||
		    ls->gen != gens[i] >> KMQ_RECEIPT_SHIFT)
			continue;
		if (i >= done) {
			kmq_sqs_due(q, idxs[i], false, &ctx);	/* back */
			continue;
		}
		kmq_sqs_settle_delete(q, idxs[i], &ctx);
	}
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);

	if (done)
		err = 0;
	else if (n)
		err = -EFAULT;
	else if (!err)
		err = -EAGAIN;
	if (!done && err == -EMSGSIZE &&
	    put_user(msgs[0].len, &umsgs[0].len))
		err = -EFAULT;
	if (put_user(done, &uarg->done))
		err = -EFAULT;
out_free:
	kfree(msgs);
	return err;
}
