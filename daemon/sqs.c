// SPDX-License-Identifier: GPL-2.0
/*
 * SQS semantics on the shm backend: kmqd does what module/sqs.c and
 * module/fifo.c do in the kernel (the uapi header's "SQS semantics"), with
 * the same rules, errors, counters and receipt handles (gen << 20 | slot).
 * Kernel-held slots (LEASED, DELAYED, QUEUED) are held by kmqd here, owner
 * 0, in no ring cell; their deadlines live in a min-heap of slot indices
 * (one array per queue, no allocation per message) driven by one loop
 * timer per queue. What a restart needs is in the slot headers (gen,
 * receive_count, first_receive_ns mirrors; `reserved` holds a delayed
 * message's due time, CLOCK_REALTIME, and a FIFO message's sequence
 * number) and in the metadata file (the policy): see sqs_adopt().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "internal.h"
#include "kmqd.h"
#include "probes.h"
#include "journal.h"

#define NSEC		1000000000ULL
#define MSEC		1000000ULL
#define RECEIPT_SHIFT	20
#define RECEIPT_IDX	((1ULL << RECEIPT_SHIFT) - 1)
#define NONE		0xffffffffU
/* Retry of a push whose ring cell a stalled popper holds (the kernel's
 * KMQ_SQS_RETRY_NS). */
#define RETRY_NS	(1 * MSEC)
/* Corrupt or expired messages one receive may drop before it stops. */
#define SKIPS		64
/* A parked receiver looks again this often even without a wake: a ring
 * held up by a stalled popper wakes nobody. */
#define PARK_LOOK_NS	(20 * MSEC)
/* How often the knob files are read again at most. */
#define KNOB_NS		(100 * MSEC)
#define DEDUP_PER_SLOT	16
#define DEDUP_MIN	1024
#define DEDUP_MAX	(256 * 1024)

enum ls_state {
	LS_NONE = 0,
	LS_LEASED,
	LS_DELAYED,
	LS_QUEUED,	/* FIFO: in its group's list */
	LS_PUSH_READY,	/* a push that waits for a ring cell */
	LS_PUSH_FREE,
};

/* What kmqd knows of one slot that it holds (the kernel's kmq_sqs_slot). */
struct lslot {
	__u64 deadline;		/* monotonic ns, while in the heap */
	__u64 id;		/* the message a requeue was for */
	__u64 first_receive_ns;
	__u64 seq;		/* FIFO sequence number */
	__u32 gen, receive_count;
	__u32 heap;		/* position in the heap + 1; 0: not there */
	__u32 next;		/* FIFO: next in its group, NONE */
	struct group *group;	/* FIFO: its group while QUEUED or LEASED */
	unsigned char state;	/* enum ls_state */
	bool requeued;		/* came back from a lease: counts go on */
};

/* A FIFO message group: its queued messages in order, and in flight. */
struct group {
	struct group *next;	/* all groups of the queue */
	struct group *rnext;	/* the queue's ready groups, in order */
	__u32 head, tail;	/* queued slots, NONE */
	__u32 inflight;		/* leased messages of the group */
	__u32 delayed;		/* delayed messages that will join it */
	bool ready;		/* on the ready list */
	char id[KMQ_GROUP_LEN];
};

/* A deduplication entry (FIFO): a ring of the latest, oldest forgotten. */
struct dedup {
	__u8 key[32];		/* SHA-256 of the id, or of the body */
	bool body;		/* which of the two */
	__u32 hnext;		/* next in its hash bucket, NONE */
	__u64 at;		/* monotonic ns accepted */
	__u64 id, seq;
};

struct sqs {
	struct kmqd *d;
	struct queue *q;
	struct kmq_policy pol;	/* name zero */
	bool fifo;
	__u32 cap;
	struct lslot *ls;
	__u32 *heap;		/* slot indices, min-heap by deadline */
	__u32 nheap;
	struct timer timer;
	__u64 leased, delayed, queued, lease_expired, dead_lettered,
	      dlq_failed, expired, deduplicated;
	struct conn_sqs *parked;	/* long-polling receivers */
	bool retrying, again;		/* parked_retry() is running */
	/* FIFO */
	struct group *groups, *rhead, **rtail;
	__u64 seq;
	struct dedup *dd;
	__u32 ndd, dcap, dnext;
	__u32 *buckets, nbuckets;
	struct journal ddj;	/* the window on disk: groups/<name>.dedup */
	struct fifo_rec *recs;	/* the groups file, mapped: per slot */
	size_t recs_size;
};

/*
 * The groups file of a FIFO queue, <state_dir>/groups/NAME: one record per
 * slot, written when a message is accepted, read back by a restarted kmqd
 * (sqs_adopt) to put held messages back in their groups in order. Outside
 * any memory a client maps.
 */
struct fifo_rec {
	__u64 seq;
	char group[KMQ_GROUP_LEN];
};

/* ---- test knobs: <state_dir>/params ----------------------------------- */

struct knob {
	const char *name;
	unsigned long value, def;
	__u64 read_at;
};

static struct knob retention_unit_ms = { "retention_unit_ms", 1000, 1000, 0 };
static struct knob dedup_window_ms = { "dedup_window_ms", 300000, 300000, 0 };
static int params_fd = -1;

/* knob - the value of @k: its file in the params directory, read again at
 * most every KNOB_NS (a test writes it as it writes the module's
 * parameter); the default when missing or not a number. */
static unsigned long knob(struct knob *k)
{
	__u64 now = mono_ns();
	char buf[32];
	ssize_t n;
	int fd;

	if (k->read_at && now - k->read_at < KNOB_NS)
		return k->value;
	k->read_at = now;
	k->value = k->def;
	fd = params_fd < 0 ? -1 : openat(params_fd, k->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return k->value;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		char *end;
		unsigned long v;

		buf[n] = 0;
		v = strtoul(buf, &end, 10);
		if (end != buf && (*end == '\n' || !*end))
			k->value = v;
	}
	return k->value;
}

static void knob_file(struct knob *k)
{
	char buf[32];
	int fd, n;

	fd = openat(params_fd, k->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return;		/* there already: keep what it says */
	n = snprintf(buf, sizeof(buf), "%lu\n", k->def);
	if (write(fd, buf, (size_t)n) != n)
		log_warn("params/%s: %s", k->name, strerror(errno));
	close(fd);
}

/* ---- the deadline heap ------------------------------------------------- */

static bool before(struct sqs *st, __u32 a, __u32 b)
{
	return st->ls[a].deadline < st->ls[b].deadline;
}

static void heap_set(struct sqs *st, __u32 pos, __u32 idx)
{
	st->heap[pos] = idx;
	st->ls[idx].heap = pos + 1;
}

static void heap_up(struct sqs *st, __u32 pos)
{
	__u32 idx = st->heap[pos];

	while (pos) {
		__u32 parent = (pos - 1) / 2;

		if (!before(st, idx, st->heap[parent]))
			break;
		heap_set(st, pos, st->heap[parent]);
		pos = parent;
	}
	heap_set(st, pos, idx);
}

static void heap_down(struct sqs *st, __u32 pos)
{
	__u32 idx = st->heap[pos];

	for (;;) {
		__u32 l = 2 * pos + 1, r = l + 1, m = pos;
		__u32 mi = idx;

		if (l < st->nheap && before(st, st->heap[l], mi))
			m = l, mi = st->heap[l];
		if (r < st->nheap && before(st, st->heap[r], mi))
			m = r, mi = st->heap[r];
		if (m == pos)
			break;
		heap_set(st, pos, mi);
		pos = m;
	}
	heap_set(st, pos, idx);
}

static void arm(struct sqs *st)
{
	if (st->nheap)
		timer_arm(st->d, &st->timer, st->ls[st->heap[0]].deadline);
	else
		timer_cancel(st->d, &st->timer);
}

static void heap_del(struct sqs *st, __u32 idx)
{
	__u32 pos = st->ls[idx].heap, last;

	if (!pos)
		return;
	pos--;
	st->ls[idx].heap = 0;
	last = st->heap[--st->nheap];
	if (pos < st->nheap) {
		heap_set(st, pos, last);
		heap_up(st, pos);
		heap_down(st, st->ls[last].heap - 1);
	}
	if (!pos)
		arm(st);
}

/* heap_add - (re)insert @idx at @deadline (monotonic ns). */
static void heap_add(struct sqs *st, __u32 idx, __u64 deadline)
{
	heap_del(st, idx);
	st->ls[idx].deadline = deadline;
	heap_set(st, st->nheap++, idx);
	heap_up(st, st->nheap - 1);
	if (st->heap[0] == idx)
		arm(st);
}

/* ---- pushes kmqd makes ------------------------------------------------- */

/* A batch of work: whom to wake at its end. */
struct ctx {
	bool to_ready, to_free;
	__u64 corrupt, leases_expired;
};

static void parked_retry(struct sqs *st);

static void ctx_end(struct sqs *st, struct ctx *ctx)
{
	struct kmq_hdr *hdr = queue_view(st->q)->hdr;
	unsigned int who = 0;

	if (ctx->corrupt)
		queue_count(st->q, 0, ctx->corrupt);
	if (ctx->to_ready && kmq_need_wake(&hdr->rd_wait))
		who |= KMQ_WAKE_READERS;
	if (ctx->to_free && kmq_need_wake(&hdr->wr_wait))
		who |= KMQ_WAKE_WRITERS;
	store_wake(st->q, who);
	if (ctx->to_ready || (st->fifo && st->rhead))
		parked_retry(st);
	if (st->fifo && st->rhead)
		copy_queue_event(st->d, st->q);	/* parked WAITs */
	if (ctx->leases_expired) {
		char detail[64];

		snprintf(detail, sizeof(detail), "%llu leases expired",
			 (unsigned long long)ctx->leases_expired);
		kmqd_event_publish(st->d, "leases-expired", queue_name(st->q),
				   detail);
	}
	memset(ctx, 0, sizeof(*ctx));
}

/*
 * push - put kmqd-held slot @idx onto the ready (@ready) or free ring. A
 * tail cell held by a popper of the previous lap makes it a pending push
 * in the heap, retried: never lost. Until it is done the slot's header
 * says LEASED (for the ready ring) or FREE (for the free ring), owner 0,
 * so that a restart finds it (sqs_adopt).
 */
static void push(struct sqs *st, __u32 idx, bool ready, struct ctx *ctx)
{
	struct kmq_view *v = queue_view(st->q);
	struct kmq_slot *s = kmq_slot_at(v, idx);
	struct lslot *ls = &st->ls[idx];
	int err;

	kmq_store(&s->owner, 0);
	err = kmq_put(v, ready ? &v->ready : &v->free, idx,
		      ready ? KMQ_SLOT_READY : KMQ_SLOT_FREE, &ctx->corrupt);
	if (err == -EBUSY) {
		kmq_store(&s->state, ready ? KMQ_SLOT_LEASED : KMQ_SLOT_FREE);
		ls->state = ready ? LS_PUSH_READY : LS_PUSH_FREE;
		heap_add(st, idx, mono_ns() + RETRY_NS);
		return;
	}
	heap_del(st, idx);
	ls->state = LS_NONE;
	if (err) {
		ctx->corrupt++;		/* the ring is damaged: slot lost */
		return;
	}
	if (ready)
		ctx->to_ready = true;
	else
		ctx->to_free = true;
}

/* ---- per-queue state ---------------------------------------------------- */

static __u64 retention_ns(struct sqs *st)
{
	return (__u64)st->pol.retention_s * knob(&retention_unit_ms) * MSEC;
}

/* too_old - is the message in @s older than the retention at @now? A sent
 * time of 0 (a mapped sender did not write one) never expires. */
static bool too_old(struct sqs *st, struct kmq_slot *s, __u64 now)
{
	__u64 sent = kmq_load(&s->sent_ns);

	return sent && sent < now && now - sent > retention_ns(st);
}

static void on_deadline(struct kmqd *d, void *arg);
static void groups_open(struct sqs *st);
static void dedup_load(struct sqs *st);
static void dedup_compact(struct sqs *st);
static int receipt_slot(struct sqs *st, __u64 receipt, __u32 *idx);

struct sqs *sqs_queue_new(struct kmqd *d, struct queue *q, bool fifo)
{
	struct sqs *st = calloc(1, sizeof(*st));
	__u32 i, cap = queue_capacity(q);

	if (!st)
		return NULL;
	st->ls = calloc(cap, sizeof(*st->ls));
	st->heap = calloc(cap, sizeof(*st->heap));
	if (!st->ls || !st->heap) {
		free(st->ls);
		free(st->heap);
		free(st);
		return NULL;
	}
	for (i = 0; i < cap; i++)
		st->ls[i].next = NONE;
	st->d = d;
	st->q = q;
	st->cap = cap;
	st->fifo = fifo;
	st->pol.flags = fifo ? KMQ_POL_FIFO : 0;
	st->pol.visibility_s = KMQ_VISIBILITY_DEFAULT;
	st->pol.retention_s = KMQ_RETENTION_DEFAULT;
	st->pol.max_msg_size = queue_view(q)->max_msg_size;
	st->timer.cb = on_deadline;
	st->timer.arg = st;
	st->rtail = &st->rhead;
	st->ddj.fd = -1;
	if (fifo) {
		groups_open(st);
		dedup_load(st);
	}
	return st;
}

void sqs_queue_free(struct kmqd *d, struct sqs *st)
{
	struct group *g;

	timer_cancel(d, &st->timer);
	while (st->parked) {
		struct conn_sqs *cs = st->parked;

		st->parked = cs->next;
		cs->waiting = false;
		timer_cancel(d, &cs->timer);
	}
	while ((g = st->groups)) {
		st->groups = g->next;
		free(g);
	}
	if (st->recs)
		munmap(st->recs, st->recs_size);
	journal_close(&st->ddj);	/* store.c removes it with the queue */
	free(st->dd);
	free(st->buckets);
	free(st->ls);
	free(st->heap);
	free(st);
}

const struct kmq_policy *sqs_policy(struct sqs *st)
{
	return &st->pol;
}

bool sqs_fifo(struct sqs *st)
{
	return st->fifo;
}

bool sqs_held(struct sqs *st, uint32_t idx)
{
	return st && idx < st->cap && st->ls[idx].state != LS_NONE;
}

/* sqs_policy_restore - take @p (checked when set, or read back from our
 * own metadata: checked again, defaults where it does not hold) and write
 * the header mirrors that libkmq's fast path reads. */
void sqs_policy_restore(struct sqs *st, const struct kmq_policy *p)
{
	struct kmq_hdr *hdr = queue_view(st->q)->hdr;
	struct kmq_policy n = *p;

	memset(n.name, 0, sizeof(n.name));
	n.flags = (n.flags & KMQ_POL_CONTENT_DEDUP) |
		  (st->fifo ? KMQ_POL_FIFO : 0);
	if (!st->fifo)
		n.flags = 0;
	if (n.visibility_s <= KMQ_VISIBILITY_MAX &&
	    n.retention_s >= KMQ_RETENTION_MIN &&
	    n.retention_s <= KMQ_RETENTION_MAX && n.delay_s <= KMQ_DELAY_MAX &&
	    n.wait_s <= KMQ_WAIT_MAX && n.max_msg_size &&
	    n.max_msg_size <= queue_view(st->q)->max_msg_size &&
	    n.max_receive <= KMQ_RECEIVES_MAX)
		st->pol = n;
	kmq_store(&hdr->policy_delay_s, st->pol.delay_s);
	kmq_store(&hdr->policy_flags, st->pol.flags);
	kmq_store(&hdr->policy_max_msg_size, st->pol.max_msg_size);
}

void sqs_info(struct queue *q, struct kmq_info *info)
{
	struct sqs *st = queue_sqs(q);
	__u64 held;

	if (!st)
		return;
	info->leased = st->leased;
	info->delayed = st->delayed;
	info->queued = st->queued;
	info->lease_expired = st->lease_expired;
	info->dead_lettered = st->dead_lettered;
	info->dlq_failed = st->dlq_failed;
	info->expired = st->expired;
	info->deduplicated = st->deduplicated;
	/* kmqd-held slots are no client's */
	held = st->leased + st->delayed + st->queued;
	info->held -= info->held < held ? info->held : held;
}

/* ---- FIFO groups (module/fifo.c) ---------------------------------------- */

static struct group *group_get(struct sqs *st, const char *id, bool make)
{
	struct group *g;

	for (g = st->groups; g; g = g->next)
		if (!strncmp(g->id, id, KMQ_GROUP_LEN))
			return g;
	if (!make)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	strncpy(g->id, id, KMQ_GROUP_LEN - 1);
	g->head = g->tail = NONE;
	g->next = st->groups;
	st->groups = g;
	return g;
}

/* group_check - put @g on the ready list if it has a queued message and
 * nothing in flight; free it when it holds nothing at all. */
static void group_check(struct sqs *st, struct group *g)
{
	if (g->head != NONE && !g->inflight && !g->ready) {
		g->ready = true;
		g->rnext = NULL;
		*st->rtail = g;
		st->rtail = &g->rnext;
	}
	if (g->head == NONE && !g->inflight && !g->ready && !g->delayed) {
		struct group **p;

		for (p = &st->groups; *p; p = &(*p)->next) {
			if (*p == g) {
				*p = g->next;
				break;
			}
		}
		free(g);
	}
}

/* fifo_queue - queue kmqd-held @idx at the end (or, @front, the front) of
 * group @g: state QUEUED, owner 0. */
static void fifo_queue(struct sqs *st, __u32 idx, struct group *g, bool front)
{
	struct lslot *ls = &st->ls[idx];
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);

	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_QUEUED);
	ls->state = LS_QUEUED;
	ls->group = g;
	if (front) {
		ls->next = g->head;
		g->head = idx;
		if (g->tail == NONE)
			g->tail = idx;
	} else {
		ls->next = NONE;
		if (g->tail != NONE)
			st->ls[g->tail].next = idx;
		else
			g->head = idx;
		g->tail = idx;
	}
	st->queued++;
	group_check(st, g);
}

/* fifo_pop - the first queued message of the first ready group, or NONE;
 * @want: only of that group. */
static __u32 fifo_pop(struct sqs *st, struct group *want)
{
	struct group *g = want;
	struct lslot *ls;
	__u32 idx;

	if (!g) {
		g = st->rhead;
		if (!g)
			return NONE;
	} else if (g->head == NONE || (!g->ready && g->inflight == 0)) {
		return NONE;
	}
	idx = g->head;
	if (idx == NONE)
		return NONE;
	ls = &st->ls[idx];
	g->head = ls->next;
	if (g->head == NONE)
		g->tail = NONE;
	ls->next = NONE;
	ls->state = LS_NONE;
	st->queued--;
	return idx;
}

/* fifo_block - group @g has a message in flight now: off the ready list. */
static void fifo_block(struct sqs *st, struct group *g)
{
	struct group **p;

	g->inflight++;
	if (!g->ready)
		return;
	for (p = &st->rhead; *p; p = &(*p)->rnext) {
		if (*p == g) {
			*p = g->rnext;
			if (st->rtail == &g->rnext)
				st->rtail = p;
			break;
		}
	}
	g->ready = false;
	g->rnext = NULL;
}

/* fifo_gone - a leased message of @idx's group left (deleted, dead-lettered,
 * expired by retention): unblock the group. */
static void fifo_gone(struct sqs *st, __u32 idx)
{
	struct group *g = st->ls[idx].group;

	st->ls[idx].group = NULL;
	if (!g)
		return;
	if (g->inflight)
		g->inflight--;
	group_check(st, g);
}

/* ---- dead letters and copies to another queue ---------------------------- */

/*
 * copy_to - copy the message in @s (body @len, attributes @alen, checked)
 * to the ready ring of standard queue @dq, keeping its id, sender and sent
 * time. 0, -EAGAIN (no room, or the ring blocked), -EMSGSIZE, -EINVAL (FIFO).
 */
static int copy_to(struct queue *dq, struct kmq_slot *s, __u32 len, __u32 alen)
{
	struct kmq_view *dv = queue_view(dq);
	struct kmq_fast *df = queue_fast(dq);
	struct sqs *dst = queue_sqs(dq);
	struct kmq_slot *t;
	__u32 didx;
	int err;

	if (dst->fifo)
		return -EINVAL;
	if ((__u64)len + alen > dv->max_msg_size)
		return -EMSGSIZE;
	err = kmq_take(dv, &dv->free, KMQ_WIRE_KMQD_ID, KMQ_SLOT_CLAIMED, &didx,
		       &df->corrupt);
	if (err)
		return err == -EIO ? err : -EAGAIN;
	t = kmq_slot_at(dv, didx);
	memcpy(kmq_slot_data(t), kmq_slot_data(s), (size_t)alen + len);
	kmq_store(&t->len, len);
	kmq_store(&t->attr_len, alen);
	kmq_store(&t->id, kmq_load(&s->id));
	kmq_store(&t->sent_ns, kmq_load(&s->sent_ns));
	kmq_store(&t->sender_pid, kmq_load(&s->sender_pid));
	kmq_store(&t->sender_uid, kmq_load(&s->sender_uid));
	kmq_store(&t->gen, 0);
	kmq_store(&t->receive_count, 0);
	kmq_store(&t->first_receive_ns, 0);
	kmq_store(&t->reserved, 0);
	err = kmq_put(dv, &dv->ready, didx, KMQ_SLOT_READY, &df->corrupt);
	if (err == -EBUSY) {
		/* Owned by kmqd's id: the repair timer pushes it later, and a
		 * restart's repair of id 1 would too. */
		queue_requeue(dst->d, dq, didx);
		err = 0;
	} else if (err) {
		return -EAGAIN;
	}
	if (kmq_need_wake(&dv->hdr->rd_wait))
		store_wake(dq, KMQ_WAKE_READERS);
	parked_retry(dst);
	return 0;
}

static int dead_letter(struct sqs *st, __u32 idx)
{
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	__u32 len = kmq_load(&s->len), alen = kmq_load(&s->attr_len);
	struct queue *dq;
	char detail[160];
	int err;

	if (!st->pol.dlq[0])
		return -ENOENT;
	dq = store_find(st->d, st->pol.dlq);
	if (!dq || dq == st->q)
		return -ENOENT;
	if ((__u64)len + alen > queue_view(st->q)->max_msg_size)
		return -EIO;
	err = copy_to(dq, s, len, alen);
	if (!err) {
		st->dead_lettered++;
		KMQD_PROBE5(dead_letter, queue_name(st->q), st->pol.dlq, kmq_load(&s->id),
			    kmq_load(&s->sent_ns), st->ls[idx].receive_count);
		snprintf(detail, sizeof(detail), "message %llu, received %u times, to %s",
			 (unsigned long long)kmq_load(&s->id),
			 st->ls[idx].receive_count, st->pol.dlq);
		kmqd_event_publish(st->d, "dead-lettered", queue_name(st->q),
				   detail);
	}
	return err;
}

/* ---- deadlines ------------------------------------------------------------ */

/*
 * requeue - a leased (@lease) or delayed message in @idx is due: dropped if
 * retention says so, dead-lettered if it was received max_receive times,
 * else visible again (FIFO: at the front of its group after a lease).
 */
static void requeue(struct sqs *st, __u32 idx, bool lease, struct ctx *ctx)
{
	struct lslot *ls = &st->ls[idx];
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	__u32 max = st->pol.max_receive;

	if (st->fifo && !lease && ls->group) {
		/* a delayed FIFO message: it joins its group now */
		ls->group->delayed--;
	}
	if (too_old(st, s, real_ns())) {
		st->expired++;
		KMQD_PROBE_SLOT(drop, queue_name(st->q), s, ls->receive_count, KMQD_DROP_RETENTION);
		ls->requeued = false;
		if (st->fifo && lease)
			fifo_gone(st, idx);
		else if (st->fifo && ls->group)
			group_check(st, ls->group), ls->group = NULL;
		push(st, idx, false, ctx);
		return;
	}
	if (lease && max && ls->receive_count >= max) {
		if (!dead_letter(st, idx)) {
			ls->requeued = false;
			if (st->fifo)
				fifo_gone(st, idx);	/* leased: in flight */
			push(st, idx, false, ctx);
			return;
		}
		st->dlq_failed++;
	}
	ls->requeued = lease;
	ls->id = kmq_load(&s->id);
	if (st->fifo) {
		struct group *g = ls->group;

		if (lease) {
			char gid[KMQ_GROUP_LEN] = "";

			if (g)
				memcpy(gid, g->id, sizeof(gid));
			fifo_gone(st, idx);	/* may free g */
			g = group_get(st, gid, true);
		}
		if (!g) {		/* no memory for its group: dropped */
			st->expired++;
			push(st, idx, false, ctx);
			return;
		}
		fifo_queue(st, idx, g, lease);
		ctx->to_ready = true;
		return;
	}
	kmq_store(&s->state, KMQ_SLOT_LEASED);	/* until pushed */
	push(st, idx, true, ctx);
}

/* due - @idx's deadline passed (or CHVIS 0 made it visible now). */
static void due(struct sqs *st, __u32 idx, bool expiry, struct ctx *ctx)
{
	struct lslot *ls = &st->ls[idx];

	heap_del(st, idx);
	switch (ls->state) {
	case LS_LEASED:
		st->leased--;
		if (expiry) {
			st->lease_expired++;
			ctx->leases_expired++;
			KMQD_PROBE_SLOT(lease_expired, queue_name(st->q),
					kmq_slot_at(queue_view(st->q), idx),
					ls->receive_count, 0);
		}
		ls->state = LS_NONE;
		requeue(st, idx, true, ctx);
		break;
	case LS_DELAYED:
		st->delayed--;
		ls->state = LS_NONE;
		requeue(st, idx, false, ctx);
		break;
	case LS_PUSH_READY:
		push(st, idx, true, ctx);
		break;
	case LS_PUSH_FREE:
		push(st, idx, false, ctx);
		break;
	default:
		break;
	}
}

static void on_deadline(struct kmqd *d, void *arg)
{
	struct sqs *st = arg;
	struct ctx ctx = { 0 };
	__u64 now = mono_ns();

	(void)d;
	st->timer.at = 0;
	while (st->nheap && st->ls[st->heap[0]].deadline <= now)
		due(st, st->heap[0], true, &ctx);
	arm(st);
	ctx_end(st, &ctx);
}

/* ---- policy ------------------------------------------------------------------ */

static bool may_admin(struct queue *q, struct conn *c)
{
	return conn_uid(c) == queue_uid(q) || conn_uid(c) == 0;
}

static struct queue *lookup(struct kmqd *d, struct conn *c, const char *name)
{
	struct queue *q = store_find(d, name);

	if (!q)
		conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN, name);
	return q;
}

void sqs_get_policy(struct kmqd *d, struct conn *c, const struct kmq_name *n)
{
	struct queue *q = lookup(d, c, n->name);
	struct kmq_policy p;

	if (!q)
		return;
	p = queue_sqs(q)->pol;
	memcpy(p.name, queue_name(q), sizeof(p.name));
	conn_reply(c, 0, &p, sizeof(p), NULL, 0);
}

void sqs_set_policy(struct kmqd *d, struct conn *c, const struct kmq_policy *p)
{
	struct queue *q = lookup(d, c, p->name), *dq;
	struct sqs *st;
	__u32 fifo;

	if (!q)
		return;
	st = queue_sqs(q);
	fifo = st->fifo ? KMQ_POL_FIFO : 0;
	if (!may_admin(q, c)) {
		conn_reply_err(c, -EPERM, "only the owner (uid %u) or root may set the policy of %s",
			       queue_uid(q), queue_name(q));
		return;
	}
	if (p->flags & ~(KMQ_POL_FIFO | KMQ_POL_CONTENT_DEDUP) ||
	    (p->flags & KMQ_POL_FIFO) != fifo ||
	    (p->flags & KMQ_POL_CONTENT_DEDUP && !fifo) ||
	    p->visibility_s > KMQ_VISIBILITY_MAX ||
	    p->retention_s < KMQ_RETENTION_MIN ||
	    p->retention_s > KMQ_RETENTION_MAX ||
	    p->delay_s > KMQ_DELAY_MAX || p->wait_s > KMQ_WAIT_MAX ||
	    !p->max_msg_size || p->max_msg_size > queue_view(q)->max_msg_size ||
	    p->max_receive > KMQ_RECEIVES_MAX ||
	    (!p->max_receive && p->dlq[0]) ||
	    (p->max_receive && (!p->dlq[0] ||
				!strncmp(p->dlq, queue_name(q), KMQ_NAME_LEN)))) {
		conn_reply_err(c, -EINVAL, "policy value out of range");
		return;
	}
	if (p->max_receive) {
		dq = store_find(d, p->dlq);
		if (!dq) {
			conn_reply_err(c, -ENOENT, "no dead-letter queue %.*s",
				       KMQ_NAME_LEN, p->dlq);
			return;
		}
		if (queue_sqs(dq)->fifo) {
			conn_reply_err(c, -EINVAL, "a dead-letter queue must be a standard queue");
			return;
		}
	}
	sqs_policy_restore(st, p);
	queue_persist(q);
	conn_reply(c, 0, NULL, 0, NULL, 0);
}

/* ---- send ---------------------------------------------------------------------- */

/* id_ok - a group or deduplication id: 1..127 printable ASCII (0x21..0x7e). */
static bool id_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return i > 0;
}

static int check_send(struct sqs *st, const struct kmq_sqsmsg *m,
		      const void *attrs)
{
	struct kmq_attr dec[KMQ_ATTR_MAX];

	if (m->flags & ~KMQ_SQSMSG_DELAY)
		return -EINVAL;
	if (m->flags & KMQ_SQSMSG_DELAY ? m->delay_s > KMQ_DELAY_MAX :
					   m->delay_s != 0)
		return -EINVAL;
	if (!st->fifo && (m->group[0] || m->dedup[0]))
		return -EINVAL;
	if (st->fifo && ((m->flags & KMQ_SQSMSG_DELAY) || !id_ok(m->group) ||
			 (m->dedup[0] && !id_ok(m->dedup)) ||
			 (!m->dedup[0] &&
			  !(st->pol.flags & KMQ_POL_CONTENT_DEDUP))))
		return -EINVAL;
	if ((__u64)m->len + m->attr_len > st->pol.max_msg_size)
		return -EMSGSIZE;
	/* libkmq's validator: the uapi "Message attributes" rules */
	if (m->attr_len && kmq_attrs_decode(attrs, m->attr_len, dec,
					    KMQ_ATTR_MAX) <= 0)
		return -EINVAL;
	return 0;
}

/* fill - write message @m into kmqd-held slot @idx. */
static void fill(struct sqs *st, struct conn *c, __u32 idx,
		 const struct kmq_sqsmsg *m, const unsigned char *attrs,
		 const unsigned char *body, __u64 id)
{
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	unsigned char *data = kmq_slot_data(s);

	memcpy(data, attrs, m->attr_len);
	memcpy(data + m->attr_len, body, m->len);
	kmq_store(&s->len, m->len);
	kmq_store(&s->attr_len, m->attr_len);
	kmq_store(&s->id, id);
	kmq_store(&s->sent_ns, real_ns());
	/* c NULL: kmqd's own send (topic delivery, sqs_send_local) */
	kmq_store(&s->sender_pid, (__u32)(c ? conn_pid(c) : getpid()));
	kmq_store(&s->sender_uid, (__u32)(c ? conn_uid(c) : getuid()));
	kmq_store(&s->gen, 0);
	kmq_store(&s->receive_count, 0);
	kmq_store(&s->first_receive_ns, 0);
	kmq_store(&s->reserved, 0);
}

static __u64 next_id(struct sqs *st)
{
	struct kmq_fast *f = queue_fast(st->q);

	return ((__u64)f->client_id << KMQ_ID_SEQ_BITS) |
	       (++f->seq & ((1ULL << KMQ_ID_SEQ_BITS) - 1));
}

/* delay - hold written slot @idx for @delay_s seconds. The due time
 * (CLOCK_REALTIME) goes into the slot header's reserved field, so that a
 * restart keeps it delayed until then. */
static void delay(struct sqs *st, __u32 idx, __u32 delay_s)
{
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	struct lslot *ls = &st->ls[idx];

	kmq_store(&s->reserved, real_ns() + (__u64)delay_s * NSEC);
	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_DELAYED);
	ls->state = LS_DELAYED;
	ls->requeued = false;
	st->delayed++;
	heap_add(st, idx, mono_ns() + (__u64)delay_s * NSEC);
}

/* Give a slot kmqd holds as its client id back to the free ring. */
static void give_back(struct sqs *st, __u32 idx, struct ctx *ctx)
{
	push(st, idx, false, ctx);
}

static int send_one(struct sqs *st, struct conn *c, struct kmq_sqsmsg *m,
		    const unsigned char *attrs, const unsigned char *body,
		    struct ctx *ctx);

void sqs_send(struct kmqd *d, struct conn *c, const void *body, size_t len)
{
	struct queue *q = conn_queue(c);
	struct sqs *st = queue_sqs(q);
	const unsigned char *b = body;
	struct kmq_sqsmsg out[KMQ_SQS_BATCH_MAX];
	struct kmq_sqsio io;
	struct ctx ctx = { 0 };
	struct piece pc[2];
	size_t off;
	__u32 i;

	(void)d;
	(void)len;
	if (!(conn_open_flags(c) & KMQ_OPEN_SEND)) {
		conn_reply_err(c, -EPERM, "opened without KMQ_OPEN_SEND");
		return;
	}
	memcpy(&io, b, sizeof(io));
	off = sizeof(io);
	for (i = 0; i < io.count; i++) {	/* lengths checked in frame.c */
		struct kmq_sqsmsg *m = &out[i];
		const unsigned char *a, *p;

		memcpy(m, b + off, sizeof(*m));
		off += sizeof(*m);
		a = b + off;
		off += KMQ_WIRE_PAD8(m->attr_len);
		p = b + off;
		off += KMQ_WIRE_PAD8(m->len);
		m->id = 0;
		m->seq = 0;
		m->status = check_send(st, m, a);
		if (!m->status)
			m->status = send_one(st, c, m, a, p, &ctx);
	}
	ctx_end(st, &ctx);
	io.done = io.count;
	pc[0] = (struct piece){ &io, sizeof(io) };
	pc[1] = (struct piece){ out, io.count * sizeof(out[0]) };
	conn_replyv(c, 0, pc, 2);
}

/* sqs_send_local - kmqd's own send of @m (body and encoded attributes at
 * @body and @attrs; m->body and m->attrs are not read) into @q, with the
 * rules and the FIFO group and deduplication a client's SQS_SEND gets: a
 * topic's delivery to a FIFO queue subscriber. Returns m->status: 0 (a
 * duplicate sets KMQ_SQSMSG_DUPLICATE), -EAGAIN (full), -EINVAL,
 * -EMSGSIZE. */
int sqs_send_local(struct queue *q, struct kmq_sqsmsg *m, const void *attrs,
		   const void *body)
{
	struct sqs *st = queue_sqs(q);
	struct ctx ctx = { 0 };

	if (!st)
		return -EINVAL;
	/* as sqs_send() does for each message of a client's batch */
	m->id = 0;
	m->seq = 0;
	m->status = check_send(st, m, attrs);
	if (!m->status)
		m->status = send_one(st, NULL, m, attrs, body, &ctx);
	ctx_end(st, &ctx);
	return m->status;
}

/* ---- FIFO send: deduplication ------------------------------------------------ */


static __u32 dedup_bucket(struct sqs *st, const __u8 key[32])
{
	__u32 h;

	memcpy(&h, key, sizeof(h));	/* SHA-256: uniform already */
	return h & (st->nbuckets - 1);
}

/* dedup_find - the entry of @key accepted within the window, or NULL. As
 * the kernel, ids and bodies share one key space. */
static struct dedup *dedup_find(struct sqs *st, const __u8 key[32], bool body,
				__u64 now)
{
	__u64 window = (__u64)knob(&dedup_window_ms) * MSEC;
	__u32 i;

	if (!st->dd)
		return NULL;
	for (i = st->buckets[dedup_bucket(st, key)]; i != NONE;
	     i = st->dd[i].hnext) {
		struct dedup *e = &st->dd[i];

		if (now - e->at <= window && !memcmp(e->key, key, 32))
			return e;
	}
	return NULL;
}

static void dedup_unlink(struct sqs *st, __u32 i)
{
	__u32 *p = &st->buckets[dedup_bucket(st, st->dd[i].key)];

	while (*p != NONE && *p != i)
		p = &st->dd[*p].hnext;
	if (*p == i)
		*p = st->dd[i].hnext;
}

/* dedup_add - remember @key: a ring of dcap entries (16 per slot, 1 Ki to
 * 256 Ki, allocated at the first FIFO send) indexed by a hash table; when
 * it is full the oldest is forgotten first. */
static void dedup_add(struct sqs *st, const __u8 key[32], bool body,
		      __u64 now, __u64 id, __u64 seq)
{
	struct dedup *e;
	__u32 i, b;

	if (!st->dd) {
		__u64 n = (__u64)st->cap * DEDUP_PER_SLOT;

		st->dcap = n < DEDUP_MIN ? DEDUP_MIN : n > DEDUP_MAX ? DEDUP_MAX : (__u32)n;
		st->nbuckets = st->dcap;	/* a power of two */
		st->dd = calloc(st->dcap, sizeof(*st->dd));
		st->buckets = malloc(st->nbuckets * sizeof(*st->buckets));
		if (!st->dd || !st->buckets) {
			free(st->dd);
			free(st->buckets);
			st->dd = NULL;
			st->buckets = NULL;
			return;
		}
		memset(st->buckets, 0xff, st->nbuckets * sizeof(*st->buckets));
	}
	if (st->ndd < st->dcap) {
		i = st->ndd++;
	} else {
		i = st->dnext++ % st->dcap;	/* the oldest goes */
		dedup_unlink(st, i);
	}
	e = &st->dd[i];
	memcpy(e->key, key, 32);
	e->body = body;
	e->at = now;
	e->id = id;
	e->seq = seq;
	b = dedup_bucket(st, key);
	e->hnext = st->buckets[b];
	st->buckets[b] = i;
}

/*
 * The window on disk, so that a send retried after a kmqd crash (same
 * MessageDeduplicationId, or body) is still a duplicate, as kmq.ko's
 * window outlives any client: <state_dir>/groups/<name>.dedup, a journal
 * (journal.h) of what dedup_add took, rewritten when mostly stale.
 */
struct dd_rec {
	__u64 at_real_ns;	/* CLOCK_REALTIME accepted */
	__u64 id, seq;
	__u8 key[32];
	__u8 body;
	__u8 pad[7];
};

static void dedup_log(struct sqs *st, const __u8 key[32], bool body,
		      __u64 id, __u64 seq)
{
	struct dd_rec r = { .at_real_ns = real_ns(), .id = id, .seq = seq,
			    .body = body };
	int err;

	if (st->ddj.fd < 0)
		return;
	memcpy(r.key, key, sizeof(r.key));
	err = journal_append(&st->ddj, &r);
	if (err)
		log_warn("queue %s: deduplication window not kept on disk: %s",
			 queue_name(st->q), strerror(-err));
	else if (st->ddj.nrec > 2UL * st->dcap + DEDUP_MIN)
		dedup_compact(st);
}

struct dd_load {
	struct sqs *st;
	__u64 mono, real, window;
	__u32 n;		/* dedup_compact: entries written */
};

static void dd_load_one(void *arg, const void *rec)
{
	const struct dd_rec *r = rec;
	struct dd_load *l = arg;
	__u64 age = l->real - r->at_real_ns;

	if (r->at_real_ns > l->real || age > l->window || age > l->mono)
		return;		/* stale, or from a clock that jumped */
	dedup_add(l->st, r->key, r->body, l->mono - age, r->id, r->seq);
}

static void dd_fill(void *arg, unsigned long i, void *buf)
{
	struct dd_load *l = arg;
	struct sqs *st = l->st;
	struct dd_rec *r = buf;
	struct dedup *e;

	/* the i-th live entry: dedup_compact counted them in this order */
	while (l->mono - st->dd[l->n].at > l->window)
		l->n++;
	e = &st->dd[l->n++];
	r->at_real_ns = l->real - (l->mono - e->at);
	r->id = e->id;
	r->seq = e->seq;
	memcpy(r->key, e->key, sizeof(r->key));
	r->body = e->body;
	(void)i;
}

/* dedup_compact - rewrite the journal with the entries still in the
 * window (the ring forgets the oldest; the file only grows). */
static void dedup_compact(struct sqs *st)
{
	struct dd_load l = { .st = st, .mono = mono_ns(), .real = real_ns(),
			     .window = (__u64)knob(&dedup_window_ms) * MSEC };
	unsigned long live = 0;
	__u32 i;
	int err;

	for (i = 0; i < st->ndd; i++)
		live += l.mono - st->dd[i].at <= l.window;
	err = journal_rewrite(&st->ddj, live, dd_fill, &l);
	if (err)
		log_warn("queue %s: cannot rewrite %s: %s", queue_name(st->q),
			 st->ddj.path, strerror(-err));
}

/* dedup_load - a FIFO queue at start: the window a previous kmqd accepted
 * (killed or stopped), back in memory; then the journal takes appends. */
static void dedup_load(struct sqs *st)
{
	struct dd_load l = { .st = st, .mono = mono_ns(), .real = real_ns(),
			     .window = (__u64)knob(&dedup_window_ms) * MSEC };
	char path[sizeof(st->ddj.path)];
	int err;

	if (snprintf(path, sizeof(path), "%s/groups/%s.dedup",
		     st->d->cfg.state_dir, queue_name(st->q)) >= (int)sizeof(path))
		err = -ENAMETOOLONG;
	else
		err = journal_open(&st->ddj, path, sizeof(struct dd_rec),
				   dd_load_one, &l);
	if (err) {
		log_warn("queue %s: %s: its deduplication window lives in memory only",
			 queue_name(st->q), strerror(-err));
		return;
	}
	if (st->ndd)
		log_info("queue %s: %u deduplication ids of the window taken back",
			 queue_name(st->q), st->ndd);
	if (st->ddj.nrec > 2UL * st->dcap + DEDUP_MIN)
		dedup_compact(st);
}

static int fifo_send_one(struct sqs *st, struct conn *c, struct kmq_sqsmsg *m,
			 const unsigned char *attrs, const unsigned char *body,
			 struct ctx *ctx)
{
	struct kmq_view *v = queue_view(st->q);
	struct kmq_fast *f = queue_fast(st->q);
	__u8 key[EVP_MAX_MD_SIZE];
	__u64 now = mono_ns(), id;
	bool by_body;
	struct dedup *e;
	struct group *g;
	__u32 idx;
	int err;

	/* SHA-256 (OpenSSL's libcrypto) of the id given, or of the body */
	by_body = !m->dedup[0];
	if (!EVP_Digest(by_body ? (const void *)body : (const void *)m->dedup,
			by_body ? m->len : strlen(m->dedup), key, NULL,
			EVP_sha256(), NULL))
		return -ENOMEM;
	e = dedup_find(st, key, by_body, now);
	if (e) {
		st->deduplicated++;
		KMQD_PROBE6(drop, queue_name(st->q), e->id, 0, m->len, 0, KMQD_DROP_DEDUP);
		m->id = e->id;
		m->seq = e->seq;
		m->flags |= KMQ_SQSMSG_DUPLICATE;
		return 0;
	}
	g = group_get(st, m->group, true);
	if (!g)
		return -ENOMEM;
	err = kmq_take(v, &v->free, KMQ_WIRE_KMQD_ID, KMQ_SLOT_CLAIMED, &idx,
		       &f->corrupt);
	if (err) {
		group_check(st, g);
		return err == -EIO ? err : -EAGAIN;
	}
	id = next_id(st);
	fill(st, c, idx, m, attrs, body, id);
	st->ls[idx].seq = ++st->seq;
	st->ls[idx].requeued = false;
	m->id = id;
	m->seq = st->seq;
	dedup_add(st, key, by_body, now, id, st->seq);
	dedup_log(st, key, by_body, id, st->seq);
	KMQD_PROBE4(send, queue_name(st->q), id, kmq_load(&kmq_slot_at(v, idx)->sent_ns), m->len);
	if (st->recs) {
		st->recs[idx].seq = st->seq;
		memcpy(st->recs[idx].group, g->id, KMQ_GROUP_LEN);
	}
	if (st->pol.delay_s) {
		/* FIFO queues follow the queue's delay: held, then queued. */
		st->ls[idx].group = g;
		g->delayed++;
		delay(st, idx, st->pol.delay_s);
		return 0;
	}
	fifo_queue(st, idx, g, false);
	ctx->to_ready = true;
	return 0;
}

static int send_one(struct sqs *st, struct conn *c, struct kmq_sqsmsg *m,
		    const unsigned char *attrs, const unsigned char *body,
		    struct ctx *ctx)
{
	struct kmq_view *v = queue_view(st->q);
	struct kmq_fast *f = queue_fast(st->q);
	__u32 idx, dl;
	__u64 id;
	int err;

	if (st->fifo)
		return fifo_send_one(st, c, m, attrs, body, ctx);
	dl = m->flags & KMQ_SQSMSG_DELAY ? m->delay_s : st->pol.delay_s;
	err = kmq_take(v, &v->free, KMQ_WIRE_KMQD_ID, KMQ_SLOT_CLAIMED, &idx,
		       &f->corrupt);
	if (err)
		return err == -EIO ? err : -EAGAIN;
	id = next_id(st);
	fill(st, c, idx, m, attrs, body, id);
	m->id = id;
	if (dl) {
		delay(st, idx, dl);
		KMQD_PROBE4(send, queue_name(st->q), id,
			    kmq_load(&kmq_slot_at(v, idx)->sent_ns), m->len);
		return 0;
	}
	err = kmq_put(v, &v->ready, idx, KMQ_SLOT_READY, &f->corrupt);
	if (err) {
		give_back(st, idx, ctx);
		return -EAGAIN;
	}
	KMQD_PROBE4(send, queue_name(st->q), id, kmq_load(&kmq_slot_at(v, idx)->sent_ns), m->len);
	ctx->to_ready = true;
	return 0;
}

/* ---- receive ---------------------------------------------------------------------- */

/*
 * lease - lease @idx (held by kmqd) for @vis seconds: count the receive,
 * set the deadline, mirror the lease into the slot header and fill the out
 * fields of @m but the payload.
 */
static void lease(struct sqs *st, __u32 idx, __u32 vis, struct kmq_sqsmsg *m)
{
	struct lslot *ls = &st->ls[idx];
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	__u64 id = kmq_load(&s->id);

	if (!ls->requeued || ls->id != id) {
		ls->receive_count = 0;
		ls->first_receive_ns = 0;
	}
	ls->requeued = false;
	ls->id = id;
	if (!++ls->gen)
		ls->gen = 1;
	ls->receive_count++;
	if (!ls->first_receive_ns)
		ls->first_receive_ns = real_ns();
	ls->state = LS_LEASED;
	st->leased++;
	heap_add(st, idx, mono_ns() + (__u64)vis * NSEC);

	kmq_store(&s->gen, ls->gen);
	kmq_store(&s->receive_count, ls->receive_count);
	kmq_store(&s->first_receive_ns, ls->first_receive_ns);
	kmq_store(&s->owner, 0);
	kmq_store(&s->state, KMQ_SLOT_LEASED);

	m->id = id;
	m->receipt = (__u64)ls->gen << RECEIPT_SHIFT | idx;
	m->receive_count = ls->receive_count;
	m->first_receive_ns = ls->first_receive_ns;
	m->sent_ns = kmq_load(&s->sent_ns);
	m->sender_pid = kmq_load(&s->sender_pid);
	m->sender_uid = kmq_load(&s->sender_uid);
	m->seq = st->fifo ? ls->seq : 0;
	memset(m->group, 0, sizeof(m->group));
	memset(m->dedup, 0, sizeof(m->dedup));
	if (st->fifo && ls->group)
		memcpy(m->group, ls->group->id, sizeof(m->group));
	KMQD_PROBE_SLOT(lease, queue_name(st->q), s, ls->receive_count, vis);
}

/* A reply under construction. */
struct rbuf {
	unsigned char *p;
	size_t len;
};

/* emit - @m and, when it fits the rooms asked, its payload into @r. */
static void emit(struct sqs *st, __u32 idx, struct kmq_sqsmsg *m,
		 __u32 room, __u32 aroom, struct rbuf *r)
{
	struct kmq_slot *s = kmq_slot_at(queue_view(st->q), idx);
	unsigned char *data = kmq_slot_data(s);
	__u32 len = kmq_load(&s->len), alen = kmq_load(&s->attr_len);
	size_t at = r->len;

	m->len = len;
	m->attr_len = alen;
	m->status = len <= room && alen <= aroom ? 0 : -EMSGSIZE;
	r->len += sizeof(*m);
	if (!m->status) {
		memcpy(r->p + r->len, data, alen);
		memset(r->p + r->len + alen, 0, KMQ_WIRE_PAD8(alen) - alen);
		r->len += KMQ_WIRE_PAD8(alen);
		memcpy(r->p + r->len, data + alen, len);
		memset(r->p + r->len + len, 0, KMQ_WIRE_PAD8(len) - len);
		r->len += KMQ_WIRE_PAD8(len);
	}
	memcpy(r->p + at, m, sizeof(*m));
}

/* reply_size - the most a reply of @count messages of @st can take. */
static size_t reply_size(struct sqs *st, __u32 count)
{
	size_t one = sizeof(struct kmq_sqsmsg) +
		     queue_view(st->q)->max_msg_size + 16;
	size_t n = sizeof(struct kmq_sqsio) + (size_t)count * one;

	return n < KMQ_WIRE_BODY_MAX ? n : KMQ_WIRE_BODY_MAX;
}

/* room_left - can one more message of @q go into a reply of @len bytes? */
static bool room_left(struct sqs *st, size_t len)
{
	return len + sizeof(struct kmq_sqsmsg) +
	       queue_view(st->q)->max_msg_size + 16 <= KMQ_WIRE_BODY_MAX;
}

/* try_recv - one attempt at a SQS_RECV request @req: messages into @r,
 * returns how many, or -EAGAIN / -errno. */
static int try_recv(struct sqs *st, const unsigned char *req, struct rbuf *r)
{
	struct kmq_view *v = queue_view(st->q);
	struct kmq_fast *f = queue_fast(st->q);
	struct kmq_sqsio io;
	struct ctx ctx = { 0 };
	__u32 i = 0, vis, skips = 0;
	struct group *g = NULL;
	int err = 0;

	memcpy(&io, req, sizeof(io));
	vis = io.flags & KMQ_SQSIO_VISIBILITY ? io.visibility_s :
	      st->pol.visibility_s;
	r->len = sizeof(io);
	while (i < io.count && (!i || room_left(st, r->len))) {
		struct kmq_sqsmsg in, m;
		struct kmq_slot *s;
		__u32 idx, len, alen;

		memcpy(&in, req + sizeof(io) + i * sizeof(in), sizeof(in));
		if (st->fifo) {
			idx = fifo_pop(st, g);
			if (idx == NONE) {
				err = -EAGAIN;
				break;
			}
		} else {
			err = kmq_take(v, &v->ready, KMQ_WIRE_KMQD_ID,
				       KMQ_SLOT_BORROWED, &idx, &f->corrupt);
			if (err)
				break;
		}
		s = kmq_slot_at(v, idx);
		len = kmq_load(&s->len);
		alen = kmq_load(&s->attr_len);
		if ((__u64)len + alen > v->max_msg_size ||
		    too_old(st, s, real_ns())) {
			if ((__u64)len + alen > v->max_msg_size)
				ctx.corrupt++;
			else
				st->expired++;
			KMQD_PROBE_SLOT(drop, queue_name(st->q), s, 0,
					(__u64)len + alen > v->max_msg_size ?
					KMQD_DROP_CORRUPT : KMQD_DROP_RETENTION);
			if (st->fifo) {
				struct group *og = st->ls[idx].group;

				st->ls[idx].group = NULL;
				if (og)
					group_check(st, og);
			}
			give_back(st, idx, &ctx);
			if (++skips > SKIPS) {
				err = -EAGAIN;
				break;
			}
			continue;
		}
		memset(&m, 0, sizeof(m));
		if (st->fifo) {
			g = st->ls[idx].group;
			if (g)
				fifo_block(st, g);
		}
		lease(st, idx, vis, &m);
		emit(st, idx, &m, in.len, in.attr_len, r);
		i++;
	}
	if (st->fifo && g)
		group_check(st, g);
	ctx_end(st, &ctx);
	if (i) {
		memset(&io, 0, sizeof(io));
		io.count = 0;
		io.done = i;
		memcpy(r->p, &io, sizeof(io));
		return (int)i;
	}
	return err ? err : -EAGAIN;
}

static void park_answer(struct kmqd *d, struct conn_sqs *cs, int err);

static void unpark(struct sqs *st, struct conn_sqs *cs)
{
	struct conn_sqs **p;

	for (p = &st->parked; *p; p = &(*p)->next) {
		if (*p == cs) {
			*p = cs->next;
			break;
		}
	}
	cs->waiting = false;
	cs->next = NULL;
}

/* look - try a parked receiver again; answer it when something came or
 * its time is up. Returns true when answered. */
static bool look(struct kmqd *d, struct sqs *st, struct conn_sqs *cs)
{
	struct kmq_hdr *hdr = queue_view(st->q)->hdr;
	struct kmq_sqsio io;
	struct rbuf r;
	int n;

	memcpy(&io, cs->req, sizeof(io));
	r.p = malloc(reply_size(st, io.count));
	if (!r.p) {
		unpark(st, cs);
		park_answer(d, cs, -ENOMEM);
		return true;
	}
	kmq_arm_wake(&hdr->rd_wait);	/* the next sender wakes kmqd */
	n = try_recv(st, cs->req, &r);
	if (n > 0) {
		/* Others may have armed the flag too: pass the wake on. */
		if (kmq_need_wake(&hdr->rd_wait))
			store_wake(st->q, KMQ_WAKE_READERS);
		unpark(st, cs);
		timer_cancel(d, &cs->timer);
		conn_reply(cs->conn, 0, r.p, r.len, NULL, 0);
		free(r.p);
		conn_resume(cs->conn);
		return true;
	}
	free(r.p);
	if (n != -EAGAIN || (cs->deadline && mono_ns() >= cs->deadline)) {
		unpark(st, cs);
		park_answer(d, cs, n == -EAGAIN ? -ETIMEDOUT : n);
		return true;
	}
	return false;
}

static void park_answer(struct kmqd *d, struct conn_sqs *cs, int err)
{
	timer_cancel(d, &cs->timer);
	conn_reply_err(cs->conn, err, err == -ETIMEDOUT ? "no message came" :
		       "receive failed");
	conn_resume(cs->conn);
}

static void park_timer_arm(struct kmqd *d, struct conn_sqs *cs)
{
	__u64 at = mono_ns() + PARK_LOOK_NS;

	if (cs->deadline && cs->deadline < at)
		at = cs->deadline;
	timer_arm(d, &cs->timer, at);
}

static void on_park_timer(struct kmqd *d, void *arg)
{
	struct conn_sqs *cs = arg;
	struct queue *q = conn_queue(cs->conn);

	cs->timer.at = 0;
	if (!cs->waiting || !q)
		return;
	if (!look(d, queue_sqs(q), cs))
		park_timer_arm(d, cs);
}

/* parked_retry - something became visible: let the parked receivers look
 * (each look takes what it can; the others stay parked). */
static void parked_retry(struct sqs *st)
{
	struct conn_sqs *cs;

	if (st->retrying) {
		st->again = true;
		return;
	}
	st->retrying = true;
	do {
		st->again = false;
		/* From the head again after each answer: answering may
		 * run the next request of that connection. */
		for (cs = st->parked; cs; cs = cs->next) {
			if (look(st->d, st, cs)) {
				st->again = true;
				break;
			}
		}
	} while (st->again && st->parked);
	st->retrying = false;
}

void sqs_queue_event(struct kmqd *d, struct queue *q)
{
	(void)d;
	if (queue_sqs(q))
		parked_retry(queue_sqs(q));
}

void sqs_recv(struct kmqd *d, struct conn *c, const void *body, size_t len)
{
	struct queue *q = conn_queue(c);
	struct sqs *st = queue_sqs(q);
	struct conn_sqs *cs = conn_sqs(c);
	struct kmq_sqsio io;
	struct rbuf r;
	int n;

	if (!(conn_open_flags(c) & KMQ_OPEN_RECV)) {
		conn_reply_err(c, -EPERM, "opened without KMQ_OPEN_RECV");
		return;
	}
	memcpy(&io, body, sizeof(io));
	r.p = malloc(reply_size(st, io.count));
	if (!r.p) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	n = try_recv(st, body, &r);
	if (n > 0) {
		conn_reply(c, 0, r.p, r.len, NULL, 0);
		free(r.p);
		return;
	}
	free(r.p);
	if (n != -EAGAIN || (io.flags & KMQ_IO_NONBLOCK) || !io.timeout_ns) {
		conn_reply_err(c, n, "%s", n == -EAGAIN ? "queue empty" :
			       "receive failed");
		return;
	}
	/* Long polling: parked until a message comes or the time is up. */
	memcpy(cs->req, body, len);
	cs->conn = c;
	cs->waiting = true;
	cs->deadline = io.timeout_ns > 0 ? mono_ns() + (__u64)io.timeout_ns : 0;
	cs->timer.cb = on_park_timer;
	cs->timer.arg = cs;
	cs->next = st->parked;
	st->parked = cs;
	/* Armed and looked again: a send since the first look is seen. */
	if (!look(d, st, cs))
		park_timer_arm(d, cs);
}

/* settle_held - what a plain FIFO receive held for @cs: deleted (@gone)
 * or visible again. Receipts settled meanwhile are left alone. */
static void settle_held(struct sqs *st, struct conn_sqs *cs, bool gone)
{
	struct ctx ctx = { 0 };
	unsigned int i;

	for (i = 0; i < cs->nheld; i++) {
		__u32 idx;

		if (receipt_slot(st, cs->held[i], &idx))
			continue;
		if (!gone) {
			due(st, idx, false, &ctx);
			continue;
		}
		KMQD_PROBE_SLOT(delete, queue_name(st->q),
				kmq_slot_at(queue_view(st->q), idx),
				st->ls[idx].receive_count, 0);
		heap_del(st, idx);
		st->leased--;
		st->ls[idx].state = LS_NONE;
		st->ls[idx].requeued = false;
		fifo_gone(st, idx);
		push(st, idx, false, &ctx);
	}
	cs->nheld = 0;
	ctx_end(st, &ctx);
}

void sqs_cancel(struct kmqd *d, struct conn *c)
{
	struct conn_sqs *cs = conn_sqs(c);
	struct queue *q = conn_queue(c);

	timer_cancel(d, &cs->timer);
	if (cs->waiting && q)
		unpark(queue_sqs(q), cs);
	cs->waiting = false;
	if (cs->nheld && q)
		settle_held(queue_sqs(q), cs, false);
}

void sqs_flushed(struct conn *c)
{
	struct conn_sqs *cs = conn_sqs(c);
	struct queue *q = conn_queue(c);

	if (cs->nheld && q)
		settle_held(queue_sqs(q), cs, true);
}

bool sqs_fifo_queue(struct queue *q)
{
	return queue_sqs(q) && queue_sqs(q)->fifo;
}

bool sqs_readable(struct queue *q)
{
	return queue_sqs(q) && queue_sqs(q)->rhead;
}

/*
 * sqs_fifo_plain_recv - RECV (the copying path) on a FIFO queue: receive
 * and delete under the group rules (module/fifo.c's plain receive): what
 * fits from one ready group is leased, sent, and deleted once the reply
 * has left kmqd (a kmqd killed in between delivers it again).
 */
void sqs_fifo_plain_recv(struct kmqd *d, struct conn *c, const void *body,
			 size_t len)
{
	struct sqs *st = queue_sqs(conn_queue(c));
	struct conn_sqs *cs = conn_sqs(c);
	struct kmq_view *v = queue_view(st->q);
	struct kmq_wire_io io;
	const __u32 *rooms = (const __u32 *)((const unsigned char *)body +
					     sizeof(io));
	struct group *g = st->rhead;
	struct ctx ctx = { 0 };
	unsigned char *out;
	size_t off = sizeof(io);
	unsigned int n = 0;

	(void)d;
	(void)len;
	memcpy(&io, body, sizeof(io));
	out = malloc(reply_size(st, io.count));
	if (!out) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	cs->nheld = 0;
	while (g && n < io.count && (!n || room_left(st, off))) {
		struct kmq_wire_msg wm = { 0 };
		struct kmq_sqsmsg m;
		struct kmq_slot *s;
		__u32 idx = g->head, l, alen;

		if (idx == NONE)
			break;
		s = kmq_slot_at(v, idx);
		l = kmq_load(&s->len);
		alen = kmq_load(&s->attr_len);
		if ((__u64)l + alen > v->max_msg_size)
			l = 0, alen = 0;	/* garbage: delivered empty */
		if (l > rooms[n]) {
			if (!n) {	/* stays first in its group */
				wm.len = l;
				memset(&io, 0, sizeof(io));
				memcpy(out, &io, sizeof(io));
				memcpy(out + sizeof(io), &wm, sizeof(wm));
				conn_reply(c, -EMSGSIZE, out,
					   sizeof(io) + sizeof(wm), NULL, 0);
				free(out);
				ctx_end(st, &ctx);
				return;
			}
			break;
		}
		idx = fifo_pop(st, g);
		fifo_block(st, g);
		lease(st, idx, KMQ_VISIBILITY_DEFAULT, &m);
		cs->held[cs->nheld++] = m.receipt;
		wm.len = l;
		wm.id = m.id;
		wm.sent_ns = m.sent_ns;
		wm.sender_pid = m.sender_pid;
		wm.sender_uid = m.sender_uid;
		memcpy(out + off, &wm, sizeof(wm));
		off += sizeof(wm);
		memcpy(out + off, (unsigned char *)kmq_slot_data(s) + alen, l);
		memset(out + off + l, 0, KMQ_WIRE_PAD8(l) - l);
		off += KMQ_WIRE_PAD8(l);
		n++;
	}
	if (g)
		group_check(st, g);
	ctx_end(st, &ctx);
	if (!n) {
		free(out);
		conn_reply_err(c, -EAGAIN, "queue empty");
		return;
	}
	memset(&io, 0, sizeof(io));
	io.count = n;
	memcpy(out, &io, sizeof(io));
	conn_reply(c, 0, out, off, NULL, 0);
	free(out);
}

/* ---- delete and change visibility ---------------------------------------------- */

static int receipt_slot(struct sqs *st, __u64 receipt, __u32 *idx)
{
	__u64 i = receipt & RECEIPT_IDX, gen = receipt >> RECEIPT_SHIFT;

	if (i >= st->cap)
		return -EINVAL;
	if (gen > 0xffffffffULL || st->ls[i].state != LS_LEASED ||
	    st->ls[i].gen != gen)
		return -ENOENT;
	*idx = (__u32)i;
	return 0;
}

void sqs_settle(struct kmqd *d, struct conn *c, const void *body, size_t len,
		bool chvis)
{
	struct queue *q = conn_queue(c);
	struct sqs *st = queue_sqs(q);
	struct kmq_receipt rs[KMQ_SQS_BATCH_MAX];
	struct kmq_receipts hdr;
	struct ctx ctx = { 0 };
	struct piece pc[2];
	__u32 i;

	(void)d;
	(void)len;
	if (!(conn_open_flags(c) & KMQ_OPEN_RECV)) {
		conn_reply_err(c, -EPERM, "opened without KMQ_OPEN_RECV");
		return;
	}
	memcpy(&hdr, body, sizeof(hdr));
	memcpy(rs, (const unsigned char *)body + sizeof(hdr),
	       hdr.count * sizeof(rs[0]));
	hdr.done = 0;
	for (i = 0; i < hdr.count; i++) {
		struct kmq_receipt *r = &rs[i];
		__u32 idx;

		r->status = receipt_slot(st, r->receipt, &idx);
		if (!r->status && chvis && r->visibility_s > KMQ_VISIBILITY_MAX)
			r->status = -EINVAL;
		if (r->status)
			continue;
		hdr.done++;
		if (chvis && r->visibility_s) {
			heap_add(st, idx, mono_ns() + (__u64)r->visibility_s * NSEC);
		} else if (chvis) {
			due(st, idx, false, &ctx);	/* visible now */
		} else {
			KMQD_PROBE_SLOT(delete, queue_name(q),
					kmq_slot_at(queue_view(q), idx),
					st->ls[idx].receive_count, 0);
			heap_del(st, idx);
			st->leased--;
			st->ls[idx].state = LS_NONE;
			st->ls[idx].requeued = false;
			if (st->fifo)
				fifo_gone(st, idx);
			push(st, idx, false, &ctx);
		}
	}
	ctx_end(st, &ctx);
	pc[0] = (struct piece){ &hdr, sizeof(hdr) };
	pc[1] = (struct piece){ rs, hdr.count * sizeof(rs[0]) };
	conn_replyv(c, 0, pc, 2);
}

/* ---- retention sweep, purge, move ---------------------------------------------- */

/*
 * pop_old - pop the head of the ready ring if its message was sent before
 * @cutoff (realtime ns); a sent time of 0 is kept but by a purge (@cutoff
 * ~0: everything). As the kernel's kmq_sqs_pop_old(): the slot cannot
 * change while a FULL cell names it, so rereading the cell after the slot
 * makes the check exact. Returns 0 with *@idx held by kmqd (owner 0), or
 * -EAGAIN.
 */
static int pop_old(struct sqs *st, __u64 cutoff, __u32 *idx)
{
	struct kmq_view *v = queue_view(st->q);
	struct kmq_ring *r = &v->ready;
	unsigned int spins;

	for (spins = 0; spins < 64; spins++) {
		__u64 h = kmq_load_acq(&r->ctl->head);
		__u64 *cell = &r->cells[h & r->mask];
		__u64 c = kmq_load_acq(cell), sent;
		struct kmq_slot *s;
		__u32 i;

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
			return -EAGAIN;		/* a popper drops it */
		s = kmq_slot_at(v, i);
		sent = kmq_load(&s->sent_ns);
		if (sent >= cutoff || (!sent && cutoff != ~0ULL))
			return -EAGAIN;
		kmq_mb();
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

static void sweep_queue(struct sqs *st)
{
	__u64 now = real_ns(), keep = retention_ns(st);
	struct ctx ctx = { 0 };
	__u32 n, idx;

	if (now <= keep)
		return;
	if (st->fifo) {
		/* FIFO: the heads of the groups */
		struct group *g, *next;

		for (g = st->groups; g; g = next) {
			next = g->next;
			while (g->head != NONE &&
			       too_old(st, kmq_slot_at(queue_view(st->q), g->head), now)) {
				__u32 i = g->head;

				g->head = st->ls[i].next;
				if (g->head == NONE)
					g->tail = NONE;
				st->ls[i].next = NONE;
				st->ls[i].state = LS_NONE;
				st->ls[i].group = NULL;
				st->queued--;
				st->expired++;
				KMQD_PROBE_SLOT(drop, queue_name(st->q),
						kmq_slot_at(queue_view(st->q), i), 0,
						KMQD_DROP_RETENTION);
				push(st, i, false, &ctx);
			}
			if (g->head == NONE && g->ready) {
				struct group **p;

				for (p = &st->rhead; *p; p = &(*p)->rnext) {
					if (*p == g) {
						*p = g->rnext;
						if (st->rtail == &g->rnext)
							st->rtail = p;
						break;
					}
				}
				g->ready = false;
			}
			group_check(st, g);
		}
		ctx_end(st, &ctx);
		return;
	}
	for (n = 0; n < st->cap; n++) {
		if (pop_old(st, now - keep, &idx))
			break;
		st->expired++;
		KMQD_PROBE_SLOT(drop, queue_name(st->q),
				kmq_slot_at(queue_view(st->q), idx), 0,
				KMQD_DROP_RETENTION);
		give_back(st, idx, &ctx);
	}
	ctx_end(st, &ctx);
}

static void on_sweep(struct kmqd *d, void *arg)
{
	struct queue *q;
	unsigned int total;

	(void)arg;
	for (q = store_nth(d, 0, &total); q; q = queue_next(q))
		if (queue_sqs(q))
			sweep_queue(queue_sqs(q));
	timer_arm(d, &d->sweep, mono_ns() + NSEC);
}

void sqs_purge(struct kmqd *d, struct conn *c, const struct kmq_name *n)
{
	struct queue *q = lookup(d, c, n->name);
	struct ctx ctx = { 0 };
	struct sqs *st;
	struct group *g;
	__u32 i, idx;

	if (!q)
		return;
	st = queue_sqs(q);
	if (!may_admin(q, c)) {
		conn_reply_err(c, -EPERM, "only the owner (uid %u) or root may purge %s",
			       queue_uid(q), queue_name(q));
		return;
	}
	for (i = 0; i < st->cap; i++) {
		if (pop_old(st, ~0ULL, &idx))
			break;
		st->expired++;
		KMQD_PROBE_SLOT(drop, queue_name(q), kmq_slot_at(queue_view(q), idx), 0,
				KMQD_DROP_PURGE);
		give_back(st, idx, &ctx);
	}
	for (i = 0; i < st->cap; i++) {
		struct lslot *ls = &st->ls[i];

		switch (ls->state) {
		case LS_LEASED:
			st->leased--;
			break;
		case LS_DELAYED:
			st->delayed--;
			break;
		case LS_QUEUED:
			st->queued--;
			break;
		case LS_PUSH_READY:
			break;
		default:
			continue;
		}
		st->expired++;
		KMQD_PROBE_SLOT(drop, queue_name(q), kmq_slot_at(queue_view(q), i),
				ls->receive_count, KMQD_DROP_PURGE);
		ls->state = LS_NONE;
		ls->requeued = false;
		ls->group = NULL;
		ls->next = NONE;
		heap_del(st, i);
		push(st, i, false, &ctx);
	}
	while ((g = st->groups)) {
		st->groups = g->next;
		free(g);
	}
	st->rhead = NULL;
	st->rtail = &st->rhead;
	ctx_end(st, &ctx);
	conn_reply(c, 0, NULL, 0, NULL, 0);
}

void sqs_move(struct kmqd *d, struct conn *c, const struct kmq_move *mv)
{
	struct queue *src, *dst;
	struct kmq_move r = *mv;
	struct ctx ctx = { 0 };
	struct sqs *ss;
	__u32 moved = 0;
	int err = 0;

	if (!strncmp(mv->src, mv->dst, KMQ_NAME_LEN)) {
		conn_reply_err(c, -EINVAL, "source and destination are one queue");
		return;
	}
	src = store_find(d, mv->src);
	dst = store_find(d, mv->dst);
	if (!src || !dst) {
		conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN,
			       src ? mv->dst : mv->src);
		return;
	}
	if (store_permission(src, c, KMQ_OPEN_RECV) ||
	    store_permission(dst, c, KMQ_OPEN_SEND)) {
		conn_reply_err(c, -EACCES, "moving needs receive rights on %s and send rights on %s",
			       queue_name(src), queue_name(dst));
		return;
	}
	ss = queue_sqs(src);
	if (ss->fifo || queue_sqs(dst)->fifo) {
		conn_reply_err(c, -EINVAL, "FIFO queues take no moves");
		return;
	}
	while (moved < mv->count && moved < ss->cap) {
		struct kmq_view *v = queue_view(src);
		struct kmq_fast *f = queue_fast(src);
		struct kmq_slot *s;
		__u32 idx, len, alen;
		int e;

		if (kmq_take(v, &v->ready, KMQ_WIRE_KMQD_ID, KMQ_SLOT_BORROWED,
			     &idx, &f->corrupt))
			break;
		s = kmq_slot_at(v, idx);
		len = kmq_load(&s->len);
		alen = kmq_load(&s->attr_len);
		e = (__u64)len + alen > v->max_msg_size ? -EIO :
		    copy_to(dst, s, len, alen);
		if (e == -EIO) {
			ctx.corrupt++;
		} else if (e) {
			/* No room: back to the end of the line. */
			if (kmq_put(v, &v->ready, idx, KMQ_SLOT_READY,
				    &f->corrupt))
				queue_requeue(d, src, idx);
			else
				ctx.to_ready = true;
			if (!moved)
				err = e;
			break;
		}
		give_back(ss, idx, &ctx);
		if (!e)
			moved++;
	}
	ctx_end(ss, &ctx);
	if (moved)
		err = 0;
	if (err) {
		conn_reply_err(c, err, "no room in %s", queue_name(dst));
		return;
	}
	r.count = moved;
	conn_reply(c, 0, &r, sizeof(r), NULL, 0);
}

/* ---- restart ---------------------------------------------------------------------- */

/* rec_group - the group the groups file names for slot @idx (made if
 * needed), NULL when it names none. */
static struct group *rec_group(struct sqs *st, __u32 idx)
{
	struct fifo_rec *r;

	if (!st->recs)
		return NULL;
	r = &st->recs[idx];
	r->group[KMQ_GROUP_LEN - 1] = 0;
	if (!id_ok(r->group))
		return NULL;
	st->ls[idx].seq = r->seq;
	return group_get(st, r->group, true);
}

/* sqs_groups_open - map the groups file of FIFO queue @q (made if missing,
 * sized to its capacity; sparse). Without it FIFO works, but a restart
 * drops the held messages whose group it cannot tell. */
static void groups_open(struct sqs *st)
{
	size_t size = (size_t)st->cap * sizeof(struct fifo_rec);
	int fd;

	fd = openat(st->d->groups_dir, queue_name(st->q),
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		log_warn("queue %s: groups file: %s", queue_name(st->q),
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	st->recs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (st->recs == MAP_FAILED) {
		st->recs = NULL;
		return;
	}
	st->recs_size = size;
}

static void mark(struct kmq_ring *r, unsigned char *map)
{
	__u32 i;

	for (i = 0; i < r->cap; i++) {
		__u64 c = kmq_load_acq(&r->cells[i]);
		__u32 kind = kmq_cell_kind(c), idx = kmq_cell_idx(c);

		if ((kind == KMQ_CELL_FULL || kind == KMQ_CELL_TAKEN) &&
		    idx < r->cap)
			map[idx / 8] |= (unsigned char)(1U << (idx % 8));
	}
}

/*
 * sqs_adopt - the slots the previous kmqd held (owner 0, in no ring cell):
 *   LEASED (and a visible message whose push was pending): visible again,
 *     its receive count, first receive time and generation kept (so old
 *     receipts stay stale): delivered again, at least once;
 *   DELAYED: delayed until the due time in its header (CLOCK_REALTIME),
 *     then visible; a FIFO one is queued in its group when due;
 *   QUEUED (FIFO): back in its group, in sequence-number order;
 *   READY (kmqd's push cut by the crash): visible;
 *   FREE, BORROWED (kmqd was dropping it: expired or purged): free.
 * FIFO messages that were leased come back first in their groups.
 */
void sqs_adopt(struct kmqd *d, struct queue *q)
{
	struct sqs *st = queue_sqs(q);
	struct kmq_view *v = queue_view(q);
	struct ctx ctx = { 0 };
	unsigned char *map;
	__u64 now = real_ns(), n = 0;
	__u32 i, *order = NULL, norder = 0;

	(void)d;
	map = calloc(st->cap / 8 + 1, 1);
	if (st->fifo)
		order = calloc(st->cap, sizeof(*order));
	if (!map || (st->fifo && !order)) {
		log_err("queue %s: no memory to adopt its held messages", queue_name(q));
		free(map);
		free(order);
		return;
	}
	mark(&v->free, map);
	mark(&v->ready, map);
	for (i = 0; i < st->cap; i++) {
		struct kmq_slot *s = kmq_slot_at(v, i);
		struct lslot *ls = &st->ls[i];
		__u32 state = kmq_load(&s->state);
		__u64 at;

		if (kmq_load(&s->owner) || (map[i / 8] & (1U << (i % 8))))
			continue;
		ls->gen = kmq_load(&s->gen);
		ls->receive_count = kmq_load(&s->receive_count);
		ls->first_receive_ns = kmq_load(&s->first_receive_ns);
		ls->id = kmq_load(&s->id);
		switch (state) {
		case KMQ_SLOT_LEASED:
			ls->requeued = true;
			n++;
			if (st->fifo) {
				order[norder++] = i;
				break;
			}
			push(st, i, true, &ctx);
			break;
		case KMQ_SLOT_DELAYED:
			n++;
			at = kmq_load(&s->reserved);
			if (st->fifo) {
				ls->group = rec_group(st, i);
				if (!ls->group) {
					push(st, i, false, &ctx);
					break;
				}
				ls->group->delayed++;
			}
			ls->state = LS_DELAYED;
			st->delayed++;
			heap_add(st, i, mono_ns() + (at > now ? at - now : 0));
			break;
		case KMQ_SLOT_QUEUED:
			n++;
			order[norder++] = i;
			break;
		case KMQ_SLOT_READY:	/* kmqd's push, cut */
			push(st, i, true, &ctx);
			break;
		case KMQ_SLOT_FREE:
		case KMQ_SLOT_BORROWED:	/* dropped by retention or purge */
			push(st, i, false, &ctx);
			break;
		default:
			break;	/* garbage: not ours */
		}
	}
	if (st->fifo) {
		__u32 j, k;

		for (j = 0; j < norder; j++)
			st->ls[order[j]].seq = st->recs ? st->recs[order[j]].seq : 0;
		for (j = 0; j < st->cap && st->recs; j++)
			if (st->recs[j].seq > st->seq)
				st->seq = st->recs[j].seq;
		/* by sequence number: insertion sort of what was held */
		for (j = 1; j < norder; j++) {
			__u32 x = order[j];

			for (k = j; k && st->ls[order[k - 1]].seq > st->ls[x].seq; k--)
				order[k] = order[k - 1];
			order[k] = x;
		}
		for (j = 0; j < norder; j++) {
			struct group *g = rec_group(st, order[j]);

			if (g)
				fifo_queue(st, order[j], g, false);
			else
				push(st, order[j], false, &ctx);
		}
	}
	free(order);
	free(map);
	if (n)
		log_info("queue %s: %llu held messages adopted", queue_name(q),
			 (unsigned long long)n);
	ctx_end(st, &ctx);
}

/* ---- start ------------------------------------------------------------------------ */

int sqs_init(struct kmqd *d)
{
	int dirfd;

	dirfd = open(d->cfg.state_dir, O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	if (mkdirat(dirfd, "params", 0755) < 0 && errno != EEXIST) {
		close(dirfd);
		return -errno;
	}
	d->params_dir = openat(dirfd, "params", O_DIRECTORY | O_CLOEXEC);
	close(dirfd);
	if (d->params_dir < 0)
		return -errno;
	params_fd = d->params_dir;
	knob_file(&retention_unit_ms);
	knob_file(&dedup_window_ms);
	retention_unit_ms.read_at = dedup_window_ms.read_at = 0;
	d->sweep.cb = on_sweep;
	d->sweep.arg = NULL;
	timer_arm(d, &d->sweep, mono_ns() + NSEC);
	return 0;
}

void sqs_fini(struct kmqd *d)
{
	timer_cancel(d, &d->sweep);
	if (d->params_dir >= 0)
		close(d->params_dir);
	d->params_dir = -1;
	params_fd = -1;
}
