// SPDX-License-Identifier: GPL-2.0
/*
 * SQS semantics on kernel queues: policy, leases with visibility deadlines,
 * dead-letter moves, delayed sends, retention, purge and move.
 *
 * A leased or delayed message stays in its slot, held by the kernel (owner
 * 0, state KMQ_SLOT_LEASED or _DELAYED, in no ring cell). Its kernel-private
 * state is one struct kmq_sqs_slot per slot, in an array allocated on the
 * queue's first SQS use; deadlines are an rbtree of nodes embedded in that
 * array (nothing is allocated per message), served by one hrtimer per queue
 * whose callback only queues work: the work, in process context under the
 * queue's sqs.lock, makes expired leases visible again (or dead-letters
 * them) and delayed messages due.
 *
 * A push the kernel makes may find the ring's tail cell still held by a
 * popper of the previous lap (stopped, or dead until its repair). Such a
 * slot is never given up: it stays in the tree as a pending push, retried
 * every KMQ_SQS_RETRY_NS by the same work.
 *
 * Lock order: sqs.lock of a queue, then the registry's lock (dead-letter
 * lookups). Nothing takes a queue's sqs.lock under the registry's lock:
 * kmq_info counters are atomics for that reason. A dead-letter move writes
 * the dead-letter queue through its rings only, without its sqs.lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "attrs.h"
#include "dev.h"
#include "fifo.h"
#include "netlink.h"
#include "qfd.h"
#include "queue.h"
#include "registry.h"
#include "sqs.h"

static unsigned int retention_unit_ms = 1000;
module_param(retention_unit_ms, uint, 0644);
MODULE_PARM_DESC(retention_unit_ms, "Length of one second of retention_s, in ms (default 1000; for tests: 10 makes the 60 s minimum 600 ms)");

/* Retry interval of a push blocked by a stalled popper. */
#define KMQ_SQS_RETRY_NS	(10 * NSEC_PER_MSEC)
/* Corrupt or expired messages one receive may drop before it stops. */
#define KMQ_SQS_SKIPS		128

static struct workqueue_struct *kmq_sqs_wq;
static struct delayed_work kmq_sqs_sweep_work;
static bool kmq_sqs_stopped;

/* ---- per-queue state --------------------------------------------------- */

static u64 kmq_sqs_retention_ns(struct kmq_queue *q)
{
	return (u64)READ_ONCE(q->sqs.policy.retention_s) *
	       READ_ONCE(retention_unit_ms) * NSEC_PER_MSEC;
}

/* Is the message in @s older than the retention of @q at @now (realtime)?
 * A sent time of 0 is one a mapped sender did not write: kept. */
bool kmq_sqs_too_old(struct kmq_queue *q, struct kmq_slot *s, u64 now)
{
	u64 sent = kmq_load(&s->sent_ns);

	return sent && sent < now && now - sent > kmq_sqs_retention_ns(q);
}

static enum hrtimer_restart kmq_sqs_timer_fn(struct hrtimer *t)
{
	struct kmq_sqs *st = container_of(t, struct kmq_sqs, timer);

	queue_work(kmq_sqs_wq, &st->work);
	return HRTIMER_NORESTART;
}

static void kmq_sqs_work_fn(struct work_struct *w);

/* The SQS state of @q, allocated on first use. Under sqs.lock. */
struct kmq_sqs *kmq_sqs_state(struct kmq_queue *q)
{
	struct kmq_sqs *st = q->sqs.st;
	u32 i, cap = q->layout.capacity;

	lockdep_assert_held(&q->sqs.lock);
	if (st)
		return st;
	st = kzalloc(sizeof(*st), GFP_KERNEL_ACCOUNT);
	if (!st)
		return NULL;
	st->slots = kvcalloc(cap, sizeof(*st->slots), GFP_KERNEL_ACCOUNT);
	if (!st->slots) {
		kfree(st);
		return NULL;
	}
	for (i = 0; i < cap; i++) {
		RB_CLEAR_NODE(&st->slots[i].node);
		st->slots[i].next = KMQ_SQS_NONE;
	}
	st->q = q;
	st->deadlines = RB_ROOT_CACHED;
	hrtimer_init(&st->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	st->timer.function = kmq_sqs_timer_fn;
	INIT_WORK(&st->work, kmq_sqs_work_fn);
	kmq_fifo_state_init(st);
	/* Published whole: poll() and crash repair read it unlocked. */
	smp_store_release(&q->sqs.st, st);
	return st;
}

/*
 * Make the timer fire no later than @deadline, the new earliest one. A
 * timer that will fire earlier is left alone: its work finds nothing due
 * and starts it again for the earliest deadline then. So a lease that
 * lands behind the timer (the common case: every lease is taken later than
 * the one before, and deleted early) costs no hrtimer_start(), which takes
 * the timer base's lock and may reprogram the clock event device. Deleting
 * the earliest entry leaves the timer as it is, for the same reason.
 */
static void kmq_sqs_arm(struct kmq_sqs *st, u64 deadline)
{
	if (st->dying || (st->armed && st->armed <= deadline))
		return;
	st->armed = deadline;
	hrtimer_start(&st->timer, ns_to_ktime(deadline), HRTIMER_MODE_ABS);
}

struct kmq_sqs *kmq_sqs_state_get(struct kmq_queue *q)
{
	struct kmq_sqs *st = smp_load_acquire(&q->sqs.st);

	if (st)
		return st;
	mutex_lock(&q->sqs.lock);
	st = kmq_sqs_state(q);
	mutex_unlock(&q->sqs.lock);
	return st;
}

static void kmq_sqs_tree_del(struct kmq_sqs *st, struct kmq_sqs_slot *ls)
{
	if (RB_EMPTY_NODE(&ls->node))
		return;
	rb_erase_cached(&ls->node, &st->deadlines);
	RB_CLEAR_NODE(&ls->node);
}

/* (Re)insert @ls at @deadline (monotonic ns) and arm the timer for the
 * earliest deadline. */
static void kmq_sqs_tree_add(struct kmq_sqs *st, struct kmq_sqs_slot *ls,
			     u64 deadline)
{
	struct rb_node **link = &st->deadlines.rb_root.rb_node, *parent = NULL;
	bool leftmost = true;

	kmq_sqs_tree_del(st, ls);
	ls->deadline = deadline;
	while (*link) {
		struct kmq_sqs_slot *o = rb_entry(*link, struct kmq_sqs_slot,
						  node);

		parent = *link;
		if (deadline < o->deadline) {
			link = &parent->rb_left;
		} else {
			link = &parent->rb_right;
			leftmost = false;
		}
	}
	rb_link_node(&ls->node, parent, link);
	rb_insert_color_cached(&ls->node, &st->deadlines, leftmost);
	if (leftmost)
		kmq_sqs_arm(st, deadline);
}

static u32 kmq_sqs_idx(struct kmq_sqs *st, struct kmq_sqs_slot *ls)
{
	return ls - st->slots;
}

/* ---- pushes the kernel makes ----------------------------------------- */

/*
 * Push kernel-held slot @idx of @q onto the ready (@ready) or free ring.
 * A tail cell held by a popper of the previous lap makes it a pending push
 * in the deadline tree, retried by the work: never lost. Under sqs.lock.
 */
void kmq_sqs_push(struct kmq_queue *q, u32 idx, bool ready,
		  struct kmq_sqs_ctx *ctx)
{
	struct kmq_view *v = &q->view;
	struct kmq_sqs *st = q->sqs.st;
	struct kmq_sqs_slot *ls = &st->slots[idx];
	struct kmq_slot *s = kmq_slot_at(v, idx);
	int err;

	kmq_store(&s->owner, 0);
	err = kmq_put(v, ready ? &v->ready : &v->free, idx,
		      ready ? KMQ_SLOT_READY : KMQ_SLOT_FREE, &ctx->corrupt);
	if (err == -EBUSY) {
		ls->state = ready ? KMQ_LS_PUSH_READY : KMQ_LS_PUSH_FREE;
		kmq_sqs_tree_add(st, ls, ktime_get_coarse_ns() +
				 KMQ_SQS_RETRY_NS);
		return;
	}
	kmq_sqs_tree_del(st, ls);
	ls->state = KMQ_LS_NONE;
	if (err) {
		ctx->corrupt++;		/* the ring is damaged: slot lost */
		return;
	}
	if (ready)
		ctx->to_ready = true;
	else
		ctx->to_free = true;
}

void kmq_sqs_ctx_end(struct kmq_queue *q, struct kmq_sqs_ctx *ctx)
{
	struct kmq_hdr *hdr = q->view.hdr;

	if (ctx->corrupt)
		atomic64_add(ctx->corrupt, &q->corrupt);
	if (ctx->to_ready && kmq_need_wake(&hdr->rd_wait))
		kmq_queue_wake(q, EPOLLIN | EPOLLRDNORM);
	/* FIFO groups made ready: their waiters sleep on rd_wait too. */
	if (ctx->to_ready && q->sqs.fifo)
		kmq_queue_wake(q, EPOLLIN | EPOLLRDNORM);
	if (ctx->to_free && kmq_need_wake(&hdr->wr_wait))
		kmq_queue_wake(q, EPOLLOUT | EPOLLWRNORM);
	if (ctx->leases_expired)
		kmq_sqs_note_leases_expired(q, ctx->leases_expired);
	if (ctx->dlq)
		kmq_queue_put(ctx->dlq);
}

/* ---- copying a message to another queue ------------------------------- */

/*
 * Copy the message in slot @s (body @len, attributes @alen, already
 * checked) to the ready ring of standard queue @dst, keeping its id, sender
 * and sent time. Returns 0, -EAGAIN (@dst full or its ready ring blocked),
 * -EMSGSIZE (too big for @dst), -EINVAL (@dst is FIFO). Sleeps briefly.
 */
static int kmq_sqs_copy_to(struct kmq_queue *dst, struct kmq_slot *s, u32 len,
			   u32 alen)
{
	struct kmq_view *dv = &dst->view;
	struct kmq_slot *d;
	u32 didx;
	int err;

	if (dst->sqs.fifo)
		return -EINVAL;
	if ((u64)len + alen > dst->layout.max_msg_size)
		return -EMSGSIZE;
	err = kmq_queue_take(dst, &dv->free, 0, KMQ_SLOT_CLAIMED, &didx);
	if (err)
		return err == -EIO ? err : -EAGAIN;
	d = kmq_slot_at(dv, didx);
	memcpy(kmq_slot_data(d), kmq_slot_data(s), (size_t)alen + len);
	WRITE_ONCE(d->len, len);
	WRITE_ONCE(d->attr_len, alen);
	WRITE_ONCE(d->id, kmq_load(&s->id));
	WRITE_ONCE(d->sent_ns, kmq_load(&s->sent_ns));
	WRITE_ONCE(d->sender_pid, kmq_load(&s->sender_pid));
	WRITE_ONCE(d->sender_uid, kmq_load(&s->sender_uid));
	WRITE_ONCE(d->gen, 0);
	WRITE_ONCE(d->receive_count, 0);
	WRITE_ONCE(d->first_receive_ns, 0);
	WRITE_ONCE(d->reserved, 0);
	kmq_store(&d->owner, 0);
	err = kmq_queue_put_slot(dst, &dv->ready, didx, KMQ_SLOT_READY);
	if (err == -EBUSY && mutex_trylock(&dst->sqs.lock)) {
		struct kmq_sqs_ctx dctx = { };

		/* A stalled popper holds the tail cell: the push waits in
		 * @dst's deadline tree. Only a trylock: the caller may hold
		 * its own queue's lock, and @dst may redrive to it. */
		if (kmq_sqs_state(dst)) {
			kmq_sqs_push(dst, didx, true, &dctx);
			err = 0;
		}
		mutex_unlock(&dst->sqs.lock);
		kmq_sqs_ctx_end(dst, &dctx);
		if (!err)
			return 0;
	}
	if (err) {
		if (kmq_queue_put_slot(dst, &dv->free, didx, KMQ_SLOT_FREE))
			atomic64_inc(&dst->corrupt);	/* lost: damaged */
		return -EAGAIN;
	}
	if (kmq_need_wake(&dv->hdr->rd_wait))
		kmq_queue_wake(dst, EPOLLIN | EPOLLRDNORM);
	return 0;
}

/* Move the leased message in @idx to the dead-letter queue of @q.
 * Returns 0 when moved (the caller frees the source slot). */
static int kmq_sqs_dead_letter(struct kmq_queue *q, u32 idx,
			       struct kmq_sqs_ctx *ctx)
{
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);
	u32 len = kmq_load(&s->len), alen = kmq_load(&s->attr_len);
	int err;

	if (!ctx->dlq_looked) {
		ctx->dlq_looked = true;
		if (q->sqs.policy.dlq[0])
			ctx->dlq = kmq_registry_lookup(q->sqs.policy.dlq);
	}
	if (!ctx->dlq || ctx->dlq == q)
		return -ENOENT;
	if ((u64)len + alen > q->layout.max_msg_size)
		return -EIO;
	err = kmq_sqs_copy_to(ctx->dlq, s, len, alen);
	if (!err) {
		atomic64_inc(&q->sqs.dead_lettered);
		trace_kmq_dlq(q->name, ctx->dlq->name, kmq_load(&s->id),
			      kmq_load(&s->sent_ns),
			      q->sqs.st->slots[idx].receive_count);
		kmq_sqs_note_dlq_move(q, ctx->dlq->name, kmq_load(&s->id),
				      q->sqs.st->slots[idx].receive_count);
	}
	return err;
}

/* ---- deadlines --------------------------------------------------------- */

/*
 * A leased (@lease) or delayed message in @idx is due: drop it if retention
 * says so, dead-letter it if it was received max_receive times, else make
 * it visible. Under sqs.lock, @idx out of the tree's lease/delay state.
 */
static void kmq_sqs_requeue(struct kmq_queue *q, u32 idx, bool lease,
			    struct kmq_sqs_ctx *ctx)
{
	struct kmq_sqs_slot *ls = &q->sqs.st->slots[idx];
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);
	u32 max = q->sqs.policy.max_receive;

	if (kmq_sqs_too_old(q, s, ktime_get_coarse_real_ns())) {
		atomic64_inc(&q->sqs.expired);
		trace_kmq_drop(q->name, kmq_load(&s->id), kmq_load(&s->sent_ns),
			       kmq_load(&s->len), ls->receive_count,
			       KMQ_DROP_RETENTION);
		ls->requeued = false;
		if (q->sqs.fifo)
			kmq_fifo_gone(q, idx, lease, ctx);
		kmq_sqs_push(q, idx, false, ctx);
		return;
	}
	if (lease && max && ls->receive_count >= max) {
		int err = kmq_sqs_dead_letter(q, idx, ctx);

		if (!err) {
			ls->requeued = false;
			if (q->sqs.fifo)
				kmq_fifo_gone(q, idx, true, ctx);
			kmq_sqs_push(q, idx, false, ctx);
			return;
		}
		atomic64_inc(&q->sqs.dlq_failed);
	}
	ls->requeued = lease;
	ls->id = kmq_load(&s->id);
	if (q->sqs.fifo) {
		kmq_fifo_requeue(q, idx, lease, ctx);
		return;
	}
	kmq_sqs_push(q, idx, true, ctx);
}

/* Entry @idx of the tree is due (or made visible at once by CHVIS 0). */
void kmq_sqs_due(struct kmq_queue *q, u32 idx, bool expiry,
			struct kmq_sqs_ctx *ctx)
{
	struct kmq_sqs *st = q->sqs.st;
	struct kmq_sqs_slot *ls = &st->slots[idx];

	kmq_sqs_tree_del(st, ls);
	switch (ls->state) {
	case KMQ_LS_LEASED:
		atomic64_dec(&q->sqs.leased);
		if (expiry) {
			struct kmq_slot *s = kmq_slot_at(&q->view, idx);

			atomic64_inc(&q->sqs.lease_expired);
			trace_kmq_lease_expired(q->name, kmq_load(&s->id),
						kmq_load(&s->sent_ns),
						kmq_load(&s->len),
						ls->receive_count, 0);
			ctx->leases_expired++;
		}
		ls->state = KMQ_LS_NONE;
		kmq_sqs_requeue(q, idx, true, ctx);
		break;
	case KMQ_LS_DELAYED:
		atomic64_dec(&q->sqs.delayed);
		ls->state = KMQ_LS_NONE;
		kmq_sqs_requeue(q, idx, false, ctx);
		break;
	case KMQ_LS_PUSH_READY:
		kmq_sqs_push(q, idx, true, ctx);
		break;
	case KMQ_LS_PUSH_FREE:
		kmq_sqs_push(q, idx, false, ctx);
		break;
	default:
		break;
	}
}

static void kmq_sqs_work_fn(struct work_struct *w)
{
	struct kmq_sqs *st = container_of(w, struct kmq_sqs, work);
	struct kmq_queue *q = st->q;
	struct kmq_sqs_ctx ctx = { };
	struct rb_node *node;
	unsigned int n = 0;
	u64 now;

	mutex_lock(&q->sqs.lock);
	/* The timer fired (only it queues this work): nothing is armed. */
	st->armed = 0;
	now = ktime_get_ns();
	/* Each entry leaves the tree or goes back with a later deadline. */
	while (!st->dying && (node = rb_first_cached(&st->deadlines))) {
		struct kmq_sqs_slot *ls = rb_entry(node, struct kmq_sqs_slot,
						   node);

		if (ls->deadline > now) {
			kmq_sqs_arm(st, ls->deadline);
			break;
		}
		kmq_sqs_due(q, kmq_sqs_idx(st, ls), true, &ctx);
		if (!(++n & 63))
			cond_resched();
	}
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
}

/* ---- queue life -------------------------------------------------------- */

void kmq_sqs_queue_init(struct kmq_queue *q, bool fifo)
{
	struct kmq_sqs_queue *sq = &q->sqs;
	struct kmq_policy *p = &sq->policy;

	mutex_init(&sq->lock);
	memset(p, 0, sizeof(*p));
	p->flags = fifo ? KMQ_POL_FIFO : 0;
	p->visibility_s = KMQ_VISIBILITY_DEFAULT;
	p->retention_s = KMQ_RETENTION_DEFAULT;
	p->max_msg_size = q->layout.max_msg_size;
	sq->fifo = fifo;
	sq->st = NULL;
	atomic64_set(&sq->leased, 0);
	atomic64_set(&sq->delayed, 0);
	atomic64_set(&sq->queued, 0);
	atomic64_set(&sq->lease_expired, 0);
	atomic64_set(&sq->dead_lettered, 0);
	atomic64_set(&sq->dlq_failed, 0);
	atomic64_set(&sq->expired, 0);
	atomic64_set(&sq->deduplicated, 0);
	if (q->base) {
		q->view.hdr->policy_flags = p->flags;
		q->view.hdr->policy_delay_s = 0;
		q->view.hdr->policy_max_msg_size = p->max_msg_size;
	}
}

void kmq_sqs_queue_uninit(struct kmq_queue *q)
{
	struct kmq_sqs *st = q->sqs.st;

	if (!st)
		goto out;
	/* No reference is left: no ioctl can run. The timer may fire and
	 * queue the work until both are stopped; a dying work rearms
	 * nothing. */
	mutex_lock(&q->sqs.lock);
	st->dying = true;
	mutex_unlock(&q->sqs.lock);
	hrtimer_cancel(&st->timer);
	cancel_work_sync(&st->work);
	hrtimer_cancel(&st->timer);
	kmq_fifo_state_free(st);
	kvfree(st->slots);
	kfree(st);
	q->sqs.st = NULL;
out:
	mutex_destroy(&q->sqs.lock);
}

bool kmq_sqs_kernel_held(struct kmq_queue *q, u32 idx)
{
	struct kmq_sqs *st = READ_ONCE(q->sqs.st);

	return st && idx < q->layout.capacity &&
	       READ_ONCE(st->slots[idx].state) != KMQ_LS_NONE;
}

void kmq_sqs_info(struct kmq_queue *q, struct kmq_info *info)
{
	struct kmq_sqs_queue *sq = &q->sqs;

	info->leased = atomic64_read(&sq->leased);
	info->delayed = atomic64_read(&sq->delayed);
	info->queued = atomic64_read(&sq->queued);
	info->lease_expired = atomic64_read(&sq->lease_expired);
	info->dead_lettered = atomic64_read(&sq->dead_lettered);
	info->dlq_failed = atomic64_read(&sq->dlq_failed);
	info->expired = atomic64_read(&sq->expired);
	info->deduplicated = atomic64_read(&sq->deduplicated);
	/* Kernel-held slots are no client's. */
	info->held -= min(info->held, info->leased + info->delayed +
				      info->queued);
}

/* ---- policy ------------------------------------------------------------ */

static bool kmq_sqs_zero(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static bool kmq_sqs_may_admin(struct kmq_queue *q)
{
	return uid_eq(current_fsuid(), q->uid) || capable(CAP_SYS_ADMIN);
}

long kmq_sqs_get_policy(struct kmq_policy __user *uarg)
{
	struct kmq_policy p;
	struct kmq_queue *q;

	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	if (kmq_dev_name_check(p.name) || p.reserved0 ||
	    !kmq_sqs_zero(p.reserved, sizeof(p.reserved)))
		return -EINVAL;
	q = kmq_registry_lookup(p.name);
	if (!q)
		return -ENOENT;
	mutex_lock(&q->sqs.lock);
	p = q->sqs.policy;
	mutex_unlock(&q->sqs.lock);
	memcpy(p.name, q->name, sizeof(p.name));
	kmq_queue_put(q);
	return copy_to_user(uarg, &p, sizeof(p)) ? -EFAULT : 0;
}

/* Ranges of the header; the redrive target is checked by the caller. */
static int kmq_sqs_policy_check(struct kmq_queue *q, const struct kmq_policy *p)
{
	u32 fifo = q->sqs.fifo ? KMQ_POL_FIFO : 0;

	if (p->flags & ~(KMQ_POL_FIFO | KMQ_POL_CONTENT_DEDUP) ||
	    (p->flags & KMQ_POL_FIFO) != fifo ||
	    (p->flags & KMQ_POL_CONTENT_DEDUP && !fifo))
		return -EINVAL;
	if (p->visibility_s > KMQ_VISIBILITY_MAX ||
	    p->retention_s < KMQ_RETENTION_MIN ||
	    p->retention_s > KMQ_RETENTION_MAX ||
	    p->delay_s > KMQ_DELAY_MAX || p->wait_s > KMQ_WAIT_MAX ||
	    !p->max_msg_size || p->max_msg_size > q->layout.max_msg_size ||
	    p->max_receive > KMQ_RECEIVES_MAX)
		return -EINVAL;
	if (!p->max_receive)
		return kmq_sqs_zero(p->dlq, sizeof(p->dlq)) ? 0 : -EINVAL;
	if (kmq_dev_name_check(p->dlq) ||
	    !strncmp(p->dlq, q->name, KMQ_NAME_LEN))
		return -EINVAL;
	return 0;
}

long kmq_sqs_set_policy(struct kmq_policy __user *uarg)
{
	struct kmq_queue *q, *dlq = NULL;
	struct kmq_policy p;
	long err;

	if (copy_from_user(&p, uarg, sizeof(p)))
		return -EFAULT;
	if (kmq_dev_name_check(p.name) || p.reserved0 ||
	    !kmq_sqs_zero(p.reserved, sizeof(p.reserved)))
		return -EINVAL;
	q = kmq_registry_lookup(p.name);
	if (!q)
		return -ENOENT;
	err = -EPERM;
	if (!kmq_sqs_may_admin(q))
		goto out;
	err = kmq_sqs_policy_check(q, &p);
	if (err)
		goto out;
	if (p.max_receive) {
		dlq = kmq_registry_lookup(p.dlq);
		err = -ENOENT;
		if (!dlq)
			goto out;
		err = -EINVAL;
		if (dlq->sqs.fifo)
			goto out;
	}
	mutex_lock(&q->sqs.lock);
	memset(p.name, 0, sizeof(p.name));
	q->sqs.policy = p;
	WRITE_ONCE(q->view.hdr->policy_delay_s, p.delay_s);
	WRITE_ONCE(q->view.hdr->policy_flags, p.flags);
	WRITE_ONCE(q->view.hdr->policy_max_msg_size, p.max_msg_size);
	mutex_unlock(&q->sqs.lock);
	err = 0;
out:
	if (dlq)
		kmq_queue_put(dlq);
	kmq_queue_put(q);
	return err;
}

/* ---- waiting ----------------------------------------------------------- */

/*
 * Try @try (which never sleeps) and, when it finds nothing (-EAGAIN) and
 * @block, sleep on the queue's wait queue until it finds something, the
 * absolute monotonic @deadline passes (-ETIMEDOUT; KTIME_MAX: never) or a
 * signal comes (-EINTR with a deadline, else -ERESTARTSYS). @flag is the
 * need-wakeup flag to arm before sleeping.
 */
int kmq_sqs_wait(struct kmq_queue *q, bool block, ktime_t deadline, u32 *flag,
		 int (*try)(struct kmq_queue *q, void *arg), void *arg)
{
	ktime_t left = KTIME_MAX;
	long ret;
	int err;

	err = try(q, arg);
	if (err != -EAGAIN || !block)
		return err;
	if (deadline != KTIME_MAX) {
		left = ktime_sub(deadline, ktime_get());
		if (left <= 0)
			return -ETIMEDOUT;
	}
	ret = wait_event_interruptible_hrtimeout(q->wq,
		(kmq_arm_wake(flag), (err = try(q, arg)) != -EAGAIN), left);
	if (ret == -ETIME)
		return -ETIMEDOUT;
	if (ret)
		return deadline == KTIME_MAX ? -ERESTARTSYS : -EINTR;
	return err;
}

struct kmq_sqs_take {
	struct kmq_ring *ring;
	u32 me, state, idx;
};

static int kmq_sqs_try_take(struct kmq_queue *q, void *arg)
{
	struct kmq_sqs_take *t = arg;

	return kmq_queue_take(q, t->ring, t->me, t->state, &t->idx);
}

/* Block rules of kmq_io / kmq_sqsio: the deadline from @timeout_ns. */
static bool kmq_sqs_block(bool nonblock, u32 flags, s64 timeout_ns,
			  ktime_t *deadline)
{
	bool block = !nonblock && !(flags & KMQ_IO_NONBLOCK) && timeout_ns;

	*deadline = KTIME_MAX;
	if (block && timeout_ns > 0)
		*deadline = ktime_add_safe(ktime_get(),
					   ns_to_ktime(timeout_ns));
	return block;
}

/* ---- send ---------------------------------------------------------------- */

static int kmq_sqs_msg_check_send(struct kmq_queue *q,
				  const struct kmq_sqsmsg *m)
{
	if (m->flags & ~KMQ_SQSMSG_DELAY ||
	    !kmq_sqs_zero(m->reserved, sizeof(m->reserved)))
		return -EINVAL;
	if (m->flags & KMQ_SQSMSG_DELAY ? m->delay_s > KMQ_DELAY_MAX :
					   m->delay_s != 0)
		return -EINVAL;
	if (!q->sqs.fifo && (!kmq_sqs_zero(m->group, sizeof(m->group)) ||
			     !kmq_sqs_zero(m->dedup, sizeof(m->dedup))))
		return -EINVAL;
	if ((u64)m->len + m->attr_len > READ_ONCE(q->sqs.policy.max_msg_size))
		return -EMSGSIZE;
	return 0;
}

/*
 * Write message @m (attributes already checked, in @abuf) into held slot
 * @idx of @q with id @id. Returns 0 or -EFAULT (the slot is still held).
 */
int kmq_sqs_fill(struct kmq_queue *q, u32 idx, const struct kmq_sqsmsg *m,
		 const u8 *abuf, u64 id)
{
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);
	u8 *data = kmq_slot_data(s);

	if (copy_from_user(data + m->attr_len, u64_to_user_ptr(m->body),
			   m->len))
		return -EFAULT;
	if (m->attr_len)
		memcpy(data, abuf, m->attr_len);
	WRITE_ONCE(s->len, m->len);
	WRITE_ONCE(s->attr_len, m->attr_len);
	WRITE_ONCE(s->id, id);
	WRITE_ONCE(s->sent_ns, ktime_get_real_ns());
	WRITE_ONCE(s->sender_pid, task_tgid_vnr(current));
	WRITE_ONCE(s->sender_uid, from_kuid_munged(&init_user_ns,
						   current_uid()));
	WRITE_ONCE(s->gen, 0);
	WRITE_ONCE(s->receive_count, 0);
	WRITE_ONCE(s->first_receive_ns, 0);
	WRITE_ONCE(s->reserved, 0);
	return 0;
}

/* Give held slot @idx back to the free ring: at once, or through the
 * deadline tree when its tail cell is held. */
static void kmq_sqs_give_back(struct kmq_queue *q, u32 idx)
{
	struct kmq_sqs_ctx ctx = { };

	if (!kmq_queue_put_slot(q, &q->view.free, idx, KMQ_SLOT_FREE)) {
		if (kmq_need_wake(&q->view.hdr->wr_wait))
			kmq_queue_wake(q, EPOLLOUT | EPOLLWRNORM);
		return;
	}
	mutex_lock(&q->sqs.lock);
	if (kmq_sqs_state(q))
		kmq_sqs_push(q, idx, false, &ctx);
	else
		ctx.corrupt++;	/* no memory to remember it: counted lost */
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
}

/* Send one message of a standard queue; its status. */
static int kmq_sqs_send_one(struct kmq_client *c, struct kmq_sqsmsg *m,
			    const u8 *abuf, bool block, ktime_t deadline)
{
	struct kmq_queue *q = c->q;
	struct kmq_sqs_take t = { &q->view.free, c->id, KMQ_SLOT_CLAIMED, 0 };
	struct kmq_sqs_ctx ctx = { };
	u32 delay = m->flags & KMQ_SQSMSG_DELAY ? m->delay_s :
		    READ_ONCE(q->sqs.policy.delay_s);
	u64 id, sent;
	int err;

	err = kmq_sqs_wait(q, block, deadline, &q->view.hdr->wr_wait,
			   kmq_sqs_try_take, &t);
	if (err)
		return err;
	id = kmq_client_next_id(c);
	err = kmq_sqs_fill(q, t.idx, m, abuf, id);
	if (err) {
		kmq_sqs_give_back(q, t.idx);
		return err;
	}
	m->id = id;
	sent = kmq_load(&kmq_slot_at(&q->view, t.idx)->sent_ns);
	if (!delay) {
		err = kmq_queue_put_slot(q, &q->view.ready, t.idx,
					 KMQ_SLOT_READY);
		if (err) {
			kmq_sqs_give_back(q, t.idx);
			return -EAGAIN;
		}
		trace_kmq_send(q->name, id, sent, m->len, 0, 0);
		if (kmq_need_wake(&q->view.hdr->rd_wait))
			kmq_queue_wake(q, EPOLLIN | EPOLLRDNORM);
		return 0;
	}
	mutex_lock(&q->sqs.lock);
	if (!kmq_sqs_state(q)) {
		mutex_unlock(&q->sqs.lock);
		kmq_sqs_give_back(q, t.idx);
		return -ENOMEM;
	}
	kmq_sqs_delay(q, t.idx, delay);
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
	trace_kmq_send(q->name, id, sent, m->len, 0, 0);
	return 0;
}

/* Hold message @idx (held by its sender, written) for @delay_s seconds.
 * Under sqs.lock, with the state allocated. */
void kmq_sqs_delay(struct kmq_queue *q, u32 idx, u32 delay_s)
{
	struct kmq_sqs *st = q->sqs.st;
	struct kmq_sqs_slot *ls = &st->slots[idx];
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);

	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_DELAYED);
	ls->state = KMQ_LS_DELAYED;
	ls->requeued = false;
	atomic64_inc(&q->sqs.delayed);
	kmq_sqs_tree_add(st, ls, kmq_sqs_deadline(ktime_get_coarse_ns(),
						  delay_s));
}

/*
 * The message array of one SQS_SEND or SQS_RECV of @c: the client's own,
 * allocated on its first such call and kept until its fd is released, so
 * that a call allocates nothing (under slab debugging an allocation also
 * records a stack trace). Threads sharing the fd in such calls at the same
 * time get one of @count entries of their own (*@own false).
 */
static struct kmq_sqsmsg *kmq_sqs_msgs_get(struct kmq_client *c, u32 count,
					   bool *own)
{
	*own = !test_and_set_bit_lock(KMQ_CLIENT_SQS_BUSY, &c->sqs_busy);
	if (!*own)
		return kmalloc_array(count, sizeof(struct kmq_sqsmsg),
				     GFP_KERNEL);
	if (!c->sqs_msgs)
		c->sqs_msgs = kmalloc_array(KMQ_SQS_BATCH_MAX,
					    sizeof(*c->sqs_msgs),
					    GFP_KERNEL_ACCOUNT);
	if (!c->sqs_msgs)
		clear_bit_unlock(KMQ_CLIENT_SQS_BUSY, &c->sqs_busy);
	return c->sqs_msgs;
}

static void kmq_sqs_msgs_put(struct kmq_client *c, struct kmq_sqsmsg *msgs,
			     bool own)
{
	if (own)
		clear_bit_unlock(KMQ_CLIENT_SQS_BUSY, &c->sqs_busy);
	else
		kfree(msgs);
}

/*
 * What SQS_RECV reads of a kmq_sqsmsg (buffers and lengths, then flags and
 * delay_s, which must be 0) and writes (len up to sender_uid). The rest is
 * SEND's or reserved: RECV copies 64 of the 376 bytes in and 328 out, in
 * copies of constant size, which hardened usercopy checks at build time.
 */
#define KMQ_SQSMSG_RECV_IN	offsetof(struct kmq_sqsmsg, group)
#define KMQ_SQSMSG_RECV_OUT	offsetof(struct kmq_sqsmsg, len)
#define KMQ_SQSMSG_RECV_OUT_LEN	(offsetofend(struct kmq_sqsmsg, sender_uid) - \
				 KMQ_SQSMSG_RECV_OUT)

/* Copy @n messages in from @um: whole for a SEND, what it reads for a
 * RECV (@recv). Returns 0 or -EFAULT. */
static int kmq_sqs_msgs_in(struct kmq_sqsmsg *msgs,
			   const struct kmq_sqsmsg __user *um, u32 n,
			   bool recv)
{
	u32 i;

	if (!recv)
		return copy_from_user(msgs, um, n * sizeof(*msgs)) ? -EFAULT : 0;
	for (i = 0; i < n; i++)
		if (copy_from_user(&msgs[i], &um[i], KMQ_SQSMSG_RECV_IN) ||
		    copy_from_user(msgs[i].reserved, um[i].reserved,
				   sizeof(msgs[i].reserved)))
			return -EFAULT;
	return 0;
}

/* Copy in and check the kmq_sqsio of a SEND or RECV (@recv) of @c and its
 * messages; give the array back with kmq_sqs_msgs_put(c, msgs, *@own). */
static struct kmq_sqsmsg *kmq_sqs_io_in(struct kmq_client *c,
					struct kmq_sqsio __user *uarg,
					struct kmq_sqsio *io, bool recv,
					bool *own, long *errp)
{
	u32 flags_ok = recv ? KMQ_IO_NONBLOCK | KMQ_SQSIO_VISIBILITY :
			      KMQ_IO_NONBLOCK;
	struct kmq_sqsmsg *msgs;

	*errp = -EFAULT;
	if (copy_from_user(io, uarg, sizeof(*io)))
		return NULL;
	*errp = -EINVAL;
	if (!io->count || io->count > KMQ_SQS_BATCH_MAX ||
	    io->flags & ~flags_ok ||
	    !kmq_sqs_zero(io->reserved, sizeof(io->reserved)))
		return NULL;
	if (io->flags & KMQ_SQSIO_VISIBILITY ?
	    io->visibility_s > KMQ_VISIBILITY_MAX : io->visibility_s != 0)
		return NULL;
	*errp = -ENOMEM;
	msgs = kmq_sqs_msgs_get(c, io->count, own);
	if (!msgs)
		return NULL;
	if (kmq_sqs_msgs_in(msgs, u64_to_user_ptr(io->msgs), io->count,
			    recv)) {
		kmq_sqs_msgs_put(c, msgs, *own);
		*errp = -EFAULT;
		return NULL;
	}
	*errp = 0;
	return msgs;
}

/* Copy the first @done messages out (a RECV's: what it writes) and the
 * count. Returns 0 or -EFAULT. */
static long kmq_sqs_io_out(struct kmq_sqsio __user *uarg,
			   const struct kmq_sqsio *io,
			   const struct kmq_sqsmsg *msgs, u32 done, bool recv)
{
	struct kmq_sqsmsg __user *um = u64_to_user_ptr(io->msgs);
	u32 i;

	if (!recv && done && copy_to_user(um, msgs, done * sizeof(*msgs)))
		return -EFAULT;
	for (i = 0; recv && i < done; i++)
		if (copy_to_user((u8 __user *)&um[i] + KMQ_SQSMSG_RECV_OUT,
				 (const u8 *)&msgs[i] + KMQ_SQSMSG_RECV_OUT,
				 KMQ_SQSMSG_RECV_OUT_LEN))
			return -EFAULT;
	return put_user(done, &uarg->done) ? -EFAULT : 0;
}

long kmq_sqs_send(struct kmq_client *c, bool nonblock,
		  struct kmq_sqsio __user *uarg)
{
	struct kmq_queue *q = c->q;
	struct kmq_sqsmsg *msgs;
	struct kmq_sqsio io;
	ktime_t deadline;
	u8 *abuf = NULL;
	bool block, own;
	long err;
	u32 i;

	if (!(c->flags & KMQ_OPEN_SEND))
		return -EBADF;
	msgs = kmq_sqs_io_in(c, uarg, &io, false, &own, &err);
	if (!msgs)
		return err;
	block = kmq_sqs_block(nonblock, io.flags, io.timeout_ns, &deadline);
	for (i = 0; i < io.count; i++) {
		struct kmq_sqsmsg *m = &msgs[i];

		m->id = 0;
		m->seq = 0;
		m->flags &= ~KMQ_SQSMSG_DUPLICATE;
		m->status = kmq_sqs_msg_check_send(q, m);
		if (m->status)
			continue;
		if (m->attr_len && !abuf) {
			abuf = kvmalloc(q->layout.max_msg_size, GFP_KERNEL);
			if (!abuf) {
				m->status = -ENOMEM;
				continue;
			}
		}
		if (copy_from_user(abuf, u64_to_user_ptr(m->attrs),
				   m->attr_len)) {
			m->status = -EFAULT;
			continue;
		}
		m->status = kmq_attrs_check(abuf, m->attr_len);
		if (m->status)
			continue;
		if (q->sqs.fifo)
			m->status = kmq_fifo_send_one(c, m, abuf);
		else
			m->status = kmq_sqs_send_one(c, m, abuf,
						     block && i == 0, deadline);
	}
	kvfree(abuf);
	err = kmq_sqs_io_out(uarg, &io, msgs, io.count, false);
	kmq_sqs_msgs_put(c, msgs, own);
	return err;
}

/* ---- receive ------------------------------------------------------------- */

/* The first receive time of a message sent at @sent, received at @now:
 * the coarse clock, unless that is before the sent time. */
static u64 kmq_sqs_first_receive(struct kmq_sqs_now *now, u64 sent)
{
	if (sent <= now->real)
		return now->real;
	if (!now->fine)
		now->fine = ktime_get_real_ns();
	return now->fine;
}

/*
 * Lease message @idx (held by the kernel or a receiver, checked) for @vis
 * seconds from @now: count the receive, set the deadline, mirror the lease
 * into the slot header and fill the out fields of @m but the payload.
 * Under sqs.lock with the state allocated.
 */
void kmq_sqs_lease(struct kmq_queue *q, u32 idx, u32 vis,
		   struct kmq_sqsmsg *m, struct kmq_sqs_now *now)
{
	struct kmq_sqs *st = q->sqs.st;
	struct kmq_sqs_slot *ls = &st->slots[idx];
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);
	u64 id = kmq_load(&s->id);

	if (!ls->requeued || ls->id != id) {
		/* A new message in this slot, not one that came back. */
		ls->receive_count = 0;
		ls->first_receive_ns = 0;
	}
	ls->requeued = false;
	ls->id = id;
	if (!++ls->gen)
		ls->gen = 1;
	ls->receive_count++;
	if (!ls->first_receive_ns)
		ls->first_receive_ns =
			kmq_sqs_first_receive(now, kmq_load(&s->sent_ns));
	ls->state = KMQ_LS_LEASED;
	atomic64_inc(&q->sqs.leased);
	kmq_sqs_tree_add(st, ls, kmq_sqs_deadline(now->mono, vis));

	kmq_store(&s->gen, ls->gen);
	kmq_store(&s->receive_count, ls->receive_count);
	kmq_store(&s->first_receive_ns, ls->first_receive_ns);
	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_LEASED);

	m->id = id;
	m->receipt = (u64)ls->gen << KMQ_RECEIPT_SHIFT | idx;
	m->receive_count = ls->receive_count;
	m->first_receive_ns = ls->first_receive_ns;
	m->sent_ns = kmq_load(&s->sent_ns);
	m->sender_pid = kmq_load(&s->sender_pid);
	m->sender_uid = kmq_load(&s->sender_uid);
	m->seq = 0;
	trace_kmq_lease(q->name, id, m->sent_ns, kmq_load(&s->len),
			ls->receive_count, vis);
}

/*
 * Copy the payload of leased slot @idx (body @len, attributes @alen) out to
 * the buffers of @m; a message too big for them gets -EMSGSIZE with the
 * sizes needed, and stays leased. Returns the message's status.
 */
int kmq_sqs_copy_out(struct kmq_queue *q, u32 idx, u32 len, u32 alen,
		     struct kmq_sqsmsg *m)
{
	u8 *data = kmq_slot_data(kmq_slot_at(&q->view, idx));
	bool fits = len <= m->len && alen <= m->attr_len;

	m->len = len;
	m->attr_len = alen;
	if (!fits)
		return -EMSGSIZE;
	if ((alen && copy_to_user(u64_to_user_ptr(m->attrs), data, alen)) ||
	    copy_to_user(u64_to_user_ptr(m->body), data + alen, len))
		return -EFAULT;
	return 0;
}

static int kmq_sqs_msg_check_recv(const struct kmq_sqsmsg *m)
{
	return m->flags || m->delay_s ||
	       !kmq_sqs_zero(m->reserved, sizeof(m->reserved)) ? -EINVAL : 0;
}

long kmq_sqs_recv(struct kmq_client *c, bool nonblock,
		  struct kmq_sqsio __user *uarg)
{
	struct kmq_queue *q = c->q;
	struct kmq_sqs_take t = { &q->view.ready, c->id, KMQ_SLOT_BORROWED, 0 };
	u32 idxs[KMQ_SQS_BATCH_MAX], lens[KMQ_SQS_BATCH_MAX];
	u32 alens[KMQ_SQS_BATCH_MAX];
	struct kmq_sqs_now now = { };
	unsigned int skips = 0;
	struct kmq_sqsmsg *msgs;
	struct kmq_sqsio io;
	ktime_t deadline;
	bool block, own;
	long err;
	u32 i = 0, n, vis;

	if (!(c->flags & KMQ_OPEN_RECV))
		return -EBADF;
	msgs = kmq_sqs_io_in(c, uarg, &io, true, &own, &err);
	if (!msgs)
		return err;
	for (i = 0; i < io.count; i++) {
		err = kmq_sqs_msg_check_recv(&msgs[i]);
		if (err)
			goto out_free;
	}
	vis = io.flags & KMQ_SQSIO_VISIBILITY ? io.visibility_s :
	      READ_ONCE(q->sqs.policy.visibility_s);
	block = kmq_sqs_block(nonblock, io.flags, io.timeout_ns, &deadline);
	if (!kmq_sqs_state_get(q)) {
		err = -ENOMEM;
		goto out_free;
	}
	i = 0;
	if (q->sqs.fifo) {
		err = kmq_fifo_recv(c, msgs, io.count, vis, block, deadline,
				    &i);
		goto out;
	}

	/*
	 * Take the batch off the ready ring (waiting for the first message
	 * only), lease all of it under one hold of sqs.lock, then copy it out
	 * with no lock held.
	 */
	n = 0;
	while (n < io.count) {
		struct kmq_slot *s;
		u32 len, alen;

		if (n) {
			err = kmq_queue_take(q, t.ring, t.me, t.state, &t.idx);
		} else {
			err = kmq_sqs_wait(q, block, deadline,
					   &q->view.hdr->rd_wait,
					   kmq_sqs_try_take, &t);
			if (!err)	/* after any wait: the batch's time */
				kmq_sqs_now(&now);
		}
		if (err)
			break;
		s = kmq_slot_at(&q->view, t.idx);
		len = kmq_load(&s->len);
		alen = kmq_load(&s->attr_len);
		if ((u64)len + alen > q->layout.max_msg_size ||
		    kmq_sqs_too_old(q, s, now.real)) {
			bool bad = (u64)len + alen > q->layout.max_msg_size;

			if (bad)
				atomic64_inc(&q->corrupt);
			else
				atomic64_inc(&q->sqs.expired);
			trace_kmq_drop(q->name, kmq_load(&s->id),
				       kmq_load(&s->sent_ns), len, 0,
				       bad ? KMQ_DROP_CORRUPT :
					     KMQ_DROP_RETENTION);
			kmq_sqs_give_back(q, t.idx);
			if (++skips > KMQ_SQS_SKIPS) {
				err = -EAGAIN;
				break;
			}
			continue;
		}
		idxs[n] = t.idx;
		lens[n] = len;
		alens[n] = alen;
		n++;
	}
	if (n) {
		mutex_lock(&q->sqs.lock);
		for (i = 0; i < n; i++)
			kmq_sqs_lease(q, idxs[i], vis, &msgs[i], &now);
		mutex_unlock(&q->sqs.lock);
	}
	for (i = 0; i < n; i++) {
		struct kmq_sqsmsg *m = &msgs[i];

		memset(m->group, 0, sizeof(m->group));
		memset(m->dedup, 0, sizeof(m->dedup));
		m->status = kmq_sqs_copy_out(q, idxs[i], lens[i], alens[i], m);
	}
out:
	if (i)
		err = 0;
	if (!err)
		err = kmq_sqs_io_out(uarg, &io, msgs, i, true);
	else if (put_user(0, &uarg->done))
		err = -EFAULT;
out_free:
	kmq_sqs_msgs_put(c, msgs, own);
	return err;
}

/* ---- delete and change visibility ------------------------------------- */

void kmq_sqs_settle_delete(struct kmq_queue *q, u32 idx,
			   struct kmq_sqs_ctx *ctx)
{
	struct kmq_sqs_slot *ls = &q->sqs.st->slots[idx];
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);

	trace_kmq_delete(q->name, kmq_load(&s->id), kmq_load(&s->sent_ns),
			 kmq_load(&s->len), ls->receive_count, 0);
	kmq_sqs_tree_del(q->sqs.st, ls);
	atomic64_dec(&q->sqs.leased);
	ls->state = KMQ_LS_NONE;
	ls->requeued = false;
	if (q->sqs.fifo)
		kmq_fifo_gone(q, idx, true, ctx);
	kmq_sqs_push(q, idx, false, ctx);
}

/* The leased slot that @receipt names: -EINVAL (no such slot), -ENOENT
 * (not in flight, or an older lease). Under sqs.lock. */
static int kmq_sqs_receipt(struct kmq_queue *q, u64 receipt, u32 *idx)
{
	struct kmq_sqs *st = q->sqs.st;
	u64 i = receipt & KMQ_RECEIPT_IDX, gen = receipt >> KMQ_RECEIPT_SHIFT;

	if (i >= q->layout.capacity)
		return -EINVAL;
	if (!st || gen > U32_MAX || st->slots[i].state != KMQ_LS_LEASED ||
	    st->slots[i].gen != gen)
		return -ENOENT;
	*idx = i;
	return 0;
}

static long kmq_sqs_receipts(struct kmq_client *c,
			     struct kmq_receipts __user *uarg, bool chvis)
{
	struct kmq_receipt rs[KMQ_SQS_BATCH_MAX];
	struct kmq_queue *q = c->q;
	struct kmq_sqs_ctx ctx = { };
	struct kmq_receipts hdr;
	u32 i, done = 0;
	u64 mono = 0;			/* one clock read per call */

	if (!(c->flags & KMQ_OPEN_RECV))
		return -EBADF;
	if (copy_from_user(&hdr, uarg, sizeof(hdr)))
		return -EFAULT;
	if (!hdr.count || hdr.count > KMQ_SQS_BATCH_MAX ||
	    !kmq_sqs_zero(hdr.reserved, sizeof(hdr.reserved)))
		return -EINVAL;
	if (copy_from_user(rs, u64_to_user_ptr(hdr.receipts),
			   hdr.count * sizeof(rs[0])))
		return -EFAULT;

	mutex_lock(&q->sqs.lock);
	for (i = 0; i < hdr.count; i++) {
		struct kmq_receipt *r = &rs[i];
		struct kmq_sqs_slot *ls;
		u32 idx;

		r->status = kmq_sqs_receipt(q, r->receipt, &idx);
		if (!r->status && chvis && r->visibility_s > KMQ_VISIBILITY_MAX)
			r->status = -EINVAL;
		if (r->status)
			continue;
		done++;
		ls = &q->sqs.st->slots[idx];
		if (chvis && r->visibility_s) {
			if (!mono)
				mono = ktime_get_coarse_ns();
			kmq_sqs_tree_add(q->sqs.st, ls,
					 kmq_sqs_deadline(mono, r->visibility_s));
		} else if (chvis) {
			kmq_sqs_due(q, idx, false, &ctx);	/* visible now */
		} else {
			kmq_sqs_settle_delete(q, idx, &ctx);
		}
	}
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);

	if (copy_to_user(u64_to_user_ptr(hdr.receipts), rs,
			 hdr.count * sizeof(rs[0])) ||
	    put_user(done, &uarg->done))
		return -EFAULT;
	return 0;
}

long kmq_sqs_delete(struct kmq_client *c, struct kmq_receipts __user *uarg)
{
	return kmq_sqs_receipts(c, uarg, false);
}

long kmq_sqs_chvis(struct kmq_client *c, struct kmq_receipts __user *uarg)
{
	return kmq_sqs_receipts(c, uarg, true);
}

/* ---- retention sweep, purge, move ------------------------------------- */

/*
 * Pop the head of @q's ready ring if its message was sent before @cutoff
 * (realtime ns), as kmq_ring_pop_fit() checks a length: the slot cannot
 * change while a FULL cell names it, so rereading the cell after the slot
 * makes the check exact. A sent time of 0 is kept, but by a purge
 * (@cutoff U64_MAX: everything). Returns 0 with *@idx held by the kernel,
 * or -EAGAIN (empty, or the head is young enough).
 */
static int kmq_sqs_pop_old(struct kmq_queue *q, u64 cutoff, u32 *idx)
{
	struct kmq_ring *r = &q->view.ready;
	unsigned int spins;

	for (spins = 0; spins < 64; spins++) {
		u64 h = kmq_load_acq(&r->ctl->head);
		u64 *cell = &r->cells[h & r->mask];
		u64 c = kmq_load_acq(cell);
		struct kmq_slot *s;
		u64 sent;
		u32 i;

		if (!kmq_cell_is_full(c, h)) {
			if (kmq_cell_is_taken(c, h) ||
			    kmq_cell_is_empty(c, h + r->cap)) {
				kmq_cas(&r->ctl->head, h, h + 1);
				continue;
			}
			return -EAGAIN;
		}
		i = kmq_cell_idx(c);
		if (i >= r->cap)
			return -EAGAIN;	/* a popper drops it */
		s = kmq_slot_at(&q->view, i);
		sent = kmq_load(&s->sent_ns);
		if (sent >= cutoff || (!sent && cutoff != U64_MAX))
			return -EAGAIN;	/* young, or no sent time */
		smp_rmb();
		if (kmq_load_acq(cell) != c)
			continue;
		if (!kmq_cas(cell, c, kmq_cell_taken(h, 0, i)))
			continue;
		kmq_cas(&r->ctl->head, h, h + 1);
		kmq_store(&s->owner, 0);
		kmq_store(&s->state, KMQ_SLOT_BORROWED);
		kmq_ring_release(r, h);
		*idx = i;
		return 0;
	}
	return -EAGAIN;
}

/* Trace the drop of held slot @idx for @reason. */
static void kmq_sqs_trace_drop(struct kmq_queue *q, u32 idx, u32 reason)
{
	struct kmq_slot *s = kmq_slot_at(&q->view, idx);

	trace_kmq_drop(q->name, kmq_load(&s->id), kmq_load(&s->sent_ns),
		       kmq_load(&s->len), 0, reason);
}

/* Drop the expired messages at the head of @q's ready ring. */
static void kmq_sqs_sweep_queue(struct kmq_queue *q)
{
	u64 now = ktime_get_real_ns(), keep = kmq_sqs_retention_ns(q);
	u32 n, idx;

	if (q->sqs.fifo || now <= keep)
		return;
	for (n = 0; n < q->layout.capacity; n++) {
		if (kmq_sqs_pop_old(q, now - keep, &idx))
			break;
		atomic64_inc(&q->sqs.expired);
		kmq_sqs_trace_drop(q, idx, KMQ_DROP_RETENTION);
		kmq_sqs_give_back(q, idx);
		if (!(n & 63))
			cond_resched();
	}
}

/*
 * One deferrable work for all queues, once a second: a per-queue timer
 * would wake the CPU once a second per queue, and the sweep of a queue
 * with nothing old at its head is one cell and one slot header read.
 */
static void kmq_sqs_sweep_fn(struct work_struct *w)
{
	struct kmq_queue **qs;
	unsigned int n, i;

	qs = kmq_registry_snapshot(&n);
	for (i = 0; qs && i < n; i++) {
		kmq_sqs_sweep_queue(qs[i]);
		kmq_queue_put(qs[i]);
	}
	kvfree(qs);
	if (!READ_ONCE(kmq_sqs_stopped))
		queue_delayed_work(kmq_sqs_wq, &kmq_sqs_sweep_work, HZ);
}

static struct kmq_queue *kmq_sqs_lookup_name(const struct kmq_name *n,
					     long *err)
{
	struct kmq_queue *q;

	*err = -EINVAL;
	if (kmq_dev_name_check(n->name) ||
	    !kmq_sqs_zero(n->reserved, sizeof(n->reserved)))
		return NULL;
	*err = -ENOENT;
	q = kmq_registry_lookup(n->name);
	if (q)
		*err = 0;
	return q;
}

long kmq_sqs_purge(struct kmq_name __user *uarg)
{
	struct kmq_sqs_ctx ctx = { };
	struct kmq_queue *q;
	struct kmq_name n;
	struct kmq_sqs *st;
	long err;
	u32 i, idx;

	if (copy_from_user(&n, uarg, sizeof(n)))
		return -EFAULT;
	q = kmq_sqs_lookup_name(&n, &err);
	if (!q)
		return err;
	err = -EPERM;
	if (!kmq_sqs_may_admin(q))
		goto out;
	err = 0;
	/* Visible: everything at the ready ring now. */
	for (i = 0; i < q->layout.capacity; i++) {
		if (kmq_sqs_pop_old(q, U64_MAX, &idx))
			break;
		atomic64_inc(&q->sqs.expired);
		kmq_sqs_trace_drop(q, idx, KMQ_DROP_PURGE);
		kmq_sqs_give_back(q, idx);
	}
	mutex_lock(&q->sqs.lock);
	st = q->sqs.st;
	for (i = 0; st && i < q->layout.capacity; i++) {
		struct kmq_sqs_slot *ls = &st->slots[i];

		switch (ls->state) {
		case KMQ_LS_LEASED:
			atomic64_dec(&q->sqs.leased);
			break;
		case KMQ_LS_DELAYED:
			atomic64_dec(&q->sqs.delayed);
			break;
		case KMQ_LS_QUEUED:
			atomic64_dec(&q->sqs.queued);
			break;
		case KMQ_LS_PUSH_READY:
			break;
		default:
			continue;
		}
		atomic64_inc(&q->sqs.expired);
		kmq_sqs_trace_drop(q, i, KMQ_DROP_PURGE);
		ls->state = KMQ_LS_NONE;
		ls->requeued = false;
		ls->group = NULL;
		ls->next = KMQ_SQS_NONE;
		kmq_sqs_tree_del(st, ls);
		kmq_sqs_push(q, i, false, &ctx);
		if (!(i & 1023))
			cond_resched();
	}
	if (st && q->sqs.fifo)
		kmq_fifo_purged(q);
	mutex_unlock(&q->sqs.lock);
	kmq_sqs_ctx_end(q, &ctx);
out:
	kmq_queue_put(q);
	return err;
}

long kmq_sqs_move(struct kmq_move __user *uarg)
{
	struct kmq_queue *src = NULL, *dst = NULL;
	struct kmq_move mv;
	long err;
	u32 moved = 0;

	if (copy_from_user(&mv, uarg, sizeof(mv)))
		return -EFAULT;
	if (kmq_dev_name_check(mv.src) || kmq_dev_name_check(mv.dst) ||
	    mv.flags || !kmq_sqs_zero(mv.reserved, sizeof(mv.reserved)) ||
	    !strncmp(mv.src, mv.dst, KMQ_NAME_LEN))
		return -EINVAL;
	err = -ENOENT;
	src = kmq_registry_lookup(mv.src);
	dst = kmq_registry_lookup(mv.dst);
	if (!src || !dst)
		goto out;
	err = kmq_queue_permission(src, KMQ_OPEN_RECV);
	if (!err)
		err = kmq_queue_permission(dst, KMQ_OPEN_SEND);
	if (err)
		goto out;
	err = -EINVAL;
	if (src->sqs.fifo || dst->sqs.fifo)
		goto out;
	err = 0;
	while (moved < mv.count && moved < src->layout.capacity) {
		struct kmq_slot *s;
		u32 idx, len, alen;
		int e;

		if (kmq_queue_take(src, &src->view.ready, 0, KMQ_SLOT_BORROWED,
				   &idx))
			break;
		s = kmq_slot_at(&src->view, idx);
		len = kmq_load(&s->len);
		alen = kmq_load(&s->attr_len);
		e = (u64)len + alen > src->layout.max_msg_size ? -EIO :
		    kmq_sqs_copy_to(dst, s, len, alen);
		if (e == -EIO) {
			atomic64_inc(&src->corrupt);
		} else if (e) {
			/* No room: it goes back to the end of the line. */
			if (kmq_queue_put_slot(src, &src->view.ready, idx,
					       KMQ_SLOT_READY))
				kmq_sqs_give_back(src, idx);
			if (!moved)
				err = e;
			break;
		}
		kmq_sqs_give_back(src, idx);
		if (!e)
			moved++;
		cond_resched();
	}
	if (moved)
		err = 0;
	if (!err && put_user(moved, &uarg->count))
		err = -EFAULT;
out:
	if (src)
		kmq_queue_put(src);
	if (dst)
		kmq_queue_put(dst);
	return err;
}

/* ---- netlink event hooks ----------------------------------------------- */

/* A lease of @q expired into the dead-letter queue @dlq: message @id. */
void kmq_sqs_note_dlq_move(struct kmq_queue *q, const char *dlq, u64 id,
			   u32 receive_count)
{
	kmq_nl_msg_dead_lettered(q, dlq, id, receive_count);
}

/* One pass of @q's deadline work made @count expired leases visible (or
 * dead-lettered them): one event per pass, not per message. */
void kmq_sqs_note_leases_expired(struct kmq_queue *q, u64 count)
{
	kmq_nl_leases_expired(q, count);
}

/* ---- module ------------------------------------------------------------ */

int kmq_sqs_init(void)
{
	kmq_sqs_wq = alloc_workqueue("kmq_sqs", WQ_UNBOUND, 0);
	if (!kmq_sqs_wq)
		return -ENOMEM;
	kmq_sqs_stopped = false;
	INIT_DEFERRABLE_WORK(&kmq_sqs_sweep_work, kmq_sqs_sweep_fn);
	queue_delayed_work(kmq_sqs_wq, &kmq_sqs_sweep_work, HZ);
	return 0;
}

void kmq_sqs_stop(void)
{
	WRITE_ONCE(kmq_sqs_stopped, true);
	cancel_delayed_work_sync(&kmq_sqs_sweep_work);
}

void kmq_sqs_uninit(void)
{
	destroy_workqueue(kmq_sqs_wq);
}
