// SPDX-License-Identifier: GPL-2.0
/*
 * The shm queue store: each queue is a file in <state_dir>/queues laid out
 * exactly as the uapi header says (the ring layout of include/kmq/ring.h),
 * and its trusted metadata (owner, group, mode, geometry, creation time,
 * the client ids in use) is a file in <state_dir>/meta that no client can
 * open: both directories are 0700 and clients get only the queue file's fd.
 * kmqd re-adopts every queue it finds there when it starts, so a restart,
 * even after kill -9, loses no queue and no message; see daemon/README.md
 * for what happens to client ids across one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "internal.h"
#include "kmqd.h"
#include "topic.h"
#include "probes.h"

#define META_MAGIC	0x4d514d4bU	/* "KMQM" */
#define META_VERSION	1
#define FEATURES	(KMQ_FEAT_RINGS | KMQ_FEAT_COPY | KMQ_FEAT_MMAP | \
			 KMQ_FEAT_REPAIR | KMQ_FEAT_LEASES | KMQ_FEAT_DELAY | \
			 KMQ_FEAT_FIFO)
#define META_FIFO	(1U << 0)	/* meta_hdr.flags: a FIFO queue */
#define META_SQS_MAGIC	0x50514d4bU	/* "KMQP": the policy trailer */
#define REQUEUE_MAX	KMQ_BATCH_MAX

struct meta_hdr {
	__u32 magic, version;
	char name[KMQ_NAME_LEN];
	__u32 type, capacity, max_msg_size, mode, uid, gid;
	__u64 created_ns;
	__u32 nclients, flags;		/* META_* */
};

/* After the clients: the SQS policy (absent in files of older kmqds: the
 * defaults then). */
struct meta_sqs {
	__u32 magic, pad;
	struct kmq_policy policy;
};

struct meta_client {
	__u32 id, flags;
	__s32 pid;
	__u32 state;
	__u64 start;
};

struct queue {
	struct queue *next;		/* by name */
	struct kmqd *d;
	char name[KMQ_NAME_LEN];
	struct kmq_layout l;
	__u32 uid, gid, mode;
	__u64 created_ns;
	int fd;				/* the queue file, O_RDWR */
	void *base;
	int wake_fd;			/* FIFO wake/NAME: kmq_fd() of clients */
	int notify_fd;			/* FIFO notify/NAME: read by kmqd */
	struct kmq_fast fast;		/* kmqd's own handle: KMQ_WIRE_KMQD_ID */
	bool deleted;
	bool fifo;			/* a FIFO queue (".fifo") */
	struct sqs *sqs;		/* sqs.c's state */
	struct qclient *clients;
	unsigned int nclients;		/* entries used in clients[] */
	unsigned int ccap;
	__u64 repaired, corrupt;
	struct timer repair_timer;
	__u64 repair_delay_ms;
	struct conn_copy *waiters;
	struct queue *knext;		/* on kmqd's kicked list */
	bool kicked;
	__u32 requeue[REQUEUE_MAX];
	unsigned int nrequeue;
};

struct kmq_fast *queue_fast(struct queue *q) { return &q->fast; }
struct kmq_view *queue_view(struct queue *q) { return &q->fast.v; }
uint32_t queue_capacity(const struct queue *q) { return q->l.capacity; }
const char *queue_name(const struct queue *q) { return q->name; }
struct conn_copy **queue_waiters(struct queue *q) { return &q->waiters; }
struct sqs *queue_sqs(struct queue *q) { return q->sqs; }
uid_t queue_uid(const struct queue *q) { return q->uid; }
struct queue *queue_next(struct queue *q) { return q->next; }

struct qclient *queue_clients(struct queue *q, unsigned int *n)
{
	*n = q->nclients;
	return q->clients;
}

void queue_count(struct queue *q, uint64_t repaired, uint64_t corrupt)
{
	q->repaired += repaired;
	q->corrupt += corrupt;
}

static void futex_wake_all(__u32 *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

void store_wake(struct queue *q, unsigned int who)
{
	char one = 1;

	if (!who)
		return;
	if (who & KMQ_WAKE_READERS)
		futex_wake_all(&q->fast.v.hdr->rd_wait);
	if (who & KMQ_WAKE_WRITERS)
		futex_wake_all(&q->fast.v.hdr->wr_wait);
	/* A full pipe already says "look again": EAGAIN is fine. */
	if (write(q->wake_fd, &one, 1) < 0 && errno != EAGAIN)
		log_debug("queue %s: wake FIFO: %s", q->name, strerror(errno));
	/* kmqd's own handlers of this queue: in this process, after the
	 * current loop turn, not through the notify FIFO (a second epoll
	 * wake-up per delivered message). */
	if (!q->kicked) {
		q->kicked = true;
		q->knext = q->d->kicked;
		q->d->kicked = q;
	}
}

static void unkick(struct kmqd *d, struct queue *q)
{
	struct queue **p;

	if (!q->kicked)
		return;
	for (p = &d->kicked; *p; p = &(*p)->knext) {
		if (*p == q) {
			*p = q->knext;
			break;
		}
	}
	q->kicked = false;
	q->knext = NULL;
}

/* ---- metadata files ------------------------------------------------------ */

int queue_persist(struct queue *q)
{
	struct kmqd *d = q->d;
	struct meta_hdr h;
	struct meta_client *mc;
	struct meta_sqs ms;
	char tmp[KMQ_NAME_LEN + 8];
	unsigned int i, n = 0;
	size_t len;
	int fd, err = 0;

	if (q->deleted)
		return 0;
	memset(&h, 0, sizeof(h));
	h.magic = META_MAGIC;
	h.version = META_VERSION;
	memcpy(h.name, q->name, sizeof(h.name));
	h.type = KMQ_TYPE_QUEUE;
	h.capacity = q->l.capacity;
	h.max_msg_size = q->l.max_msg_size;
	h.mode = q->mode;
	h.uid = q->uid;
	h.gid = q->gid;
	h.created_ns = q->created_ns;
	h.flags = q->fifo ? META_FIFO : 0;
	mc = calloc(q->nclients + 1, sizeof(*mc));
	if (!mc)
		return -ENOMEM;
	for (i = 0; i < q->nclients; i++) {
		struct qclient *qc = &q->clients[i];

		if (qc->state == QC_FREE)
			continue;
		mc[n].id = qc->id;
		mc[n].flags = qc->flags;
		mc[n].pid = qc->pid;
		mc[n].state = qc->state;
		mc[n].start = qc->start;
		n++;
	}
	h.nclients = n;
	snprintf(tmp, sizeof(tmp), ".%s.tmp", q->name);
	fd = openat(d->meta_dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	len = n * sizeof(*mc);
	memset(&ms, 0, sizeof(ms));
	ms.magic = META_SQS_MAGIC;
	if (q->sqs)
		ms.policy = *sqs_policy(q->sqs);
	if (write(fd, &h, sizeof(h)) != sizeof(h) ||
	    (len && write(fd, mc, len) != (ssize_t)len) ||
	    write(fd, &ms, sizeof(ms)) != sizeof(ms))
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && renameat(d->meta_dir, tmp, d->meta_dir, q->name) < 0)
		err = -errno;
out:
	if (err)
		log_err("queue %s: cannot write its metadata: %s", q->name,
			strerror(-err));
	free(mc);
	return err;
}

/* ---- queues in memory ----------------------------------------------------- */

/* queue_event - the queue's rings moved: parked copying WAITs, a topic's
 * inbox, SQS pushes waiting for a stalled popper. */
static void queue_event(struct kmqd *d, struct queue *q)
{
	copy_queue_event(d, q);
	topic_queue_event(d, q);	/* a topic's inbox: drain it */
	sqs_queue_event(d, q);
}

static void on_queue_wake(struct kmqd *d, void *arg, uint32_t revents)
{
	struct queue *q = arg;
	char buf[256];

	/* A short read emptied the FIFO: no second read to see EAGAIN. */
	while (read(q->notify_fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		;
	unkick(d, q);
	queue_event(d, q);
}

/* Kicks handled per call; the rest wait for the next turn, which then
 * does not sleep. One at a time off the live list: a handler may free a
 * queue (queue_free unkicks it) or kick one again. */
#define KICKS_PER_TURN	256

bool store_run_kicked(struct kmqd *d)
{
	unsigned int n = KICKS_PER_TURN;

	while (d->kicked && n--) {
		struct queue *q = d->kicked;

		d->kicked = q->knext;
		q->kicked = false;
		q->knext = NULL;
		queue_event(d, q);
	}
	return d->kicked != NULL;
}

/* queue_forget_dedup - a FIFO queue's deduplication window on disk
 * (sqs.c), gone with the queue: groups/<name>.dedup. */
static void queue_forget_dedup(struct kmqd *d, const char *name)
{
	char f[KMQ_NAME_LEN + 8];

	snprintf(f, sizeof(f), "%s.dedup", name);
	unlinkat(d->groups_dir, f, 0);
}

static void queue_link(struct kmqd *d, struct queue *q)
{
	struct queue **p = &d->queues;

	while (*p && strcmp((*p)->name, q->name) < 0)
		p = &(*p)->next;
	q->next = *p;
	*p = q;
	d->nqueues++;
	d->bytes += q->l.size;
}

static void queue_unlink(struct kmqd *d, struct queue *q)
{
	struct queue **p;

	for (p = &d->queues; *p; p = &(*p)->next) {
		if (*p == q) {
			*p = q->next;
			d->nqueues--;
			return;
		}
	}
}

static void queue_free(struct kmqd *d, struct queue *q)
{
	unsigned int i;

	timer_cancel(d, &q->repair_timer);
	unkick(d, q);
	if (q->sqs)
		sqs_queue_free(d, q->sqs);
	for (i = 0; i < q->nclients; i++) {
		if (q->clients[i].pidfd >= 0) {
			kmqd_loop_del(d, q->clients[i].pidfd);
			close(q->clients[i].pidfd);
		}
	}
	free(q->clients);
	if (q->notify_fd >= 0) {
		kmqd_loop_del(d, q->notify_fd);
		close(q->notify_fd);
	}
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	if (q->base)
		munmap(q->base, q->l.size);
	if (q->fd >= 0)
		close(q->fd);
	d->bytes -= q->l.size;
	free(q);
}

/* queue_refs - client ids still in use (live, detached or orphaned). */
static unsigned int queue_refs(const struct queue *q)
{
	unsigned int i, n = 0;

	for (i = 0; i < q->nclients; i++)
		n += q->clients[i].state != QC_FREE;
	return n;
}

static void repair_tick(struct kmqd *d, void *arg);

/*
 * fifo_open - the FIFO @name in @dirfd, made if missing, open read-write
 * and non-blocking. FIFOs rather than eventfds because they outlive kmqd:
 * clients from before a restart keep writing the pipe the new kmqd reads.
 */
static int fifo_open(int dirfd, const char *name)
{
	int fd;

	if (mkfifoat(dirfd, name, 0600) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(dirfd, name, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* queue_setup - map @fd as @q's queue file and start serving it. */
static int queue_setup(struct kmqd *d, struct queue *q, int fd)
{
	int err;

	q->d = d;
	q->fd = fd;
	q->repair_timer.cb = repair_tick;
	q->repair_timer.arg = q;
	q->base = mmap(NULL, q->l.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (q->base == MAP_FAILED) {
		q->base = NULL;
		return -errno;
	}
	q->wake_fd = fifo_open(d->wake_dir, q->name);
	if (q->wake_fd < 0)
		return q->wake_fd;
	q->notify_fd = fifo_open(d->notify_dir, q->name);
	if (q->notify_fd < 0)
		return q->notify_fd;
	err = kmqd_loop_add(d, q->notify_fd, EPOLLIN, on_queue_wake, q);
	if (err)
		return err;
	kmq_fast_init(&q->fast, q->base, &q->l, KMQ_WIRE_KMQD_ID);
	q->sqs = sqs_queue_new(d, q, q->fifo);
	return q->sqs ? 0 : -ENOMEM;
}

struct queue *store_find(struct kmqd *d, const char *name)
{
	struct queue *q;

	for (q = d->queues; q; q = q->next)
		if (!strncmp(q->name, name, KMQ_NAME_LEN))
			return q;
	return NULL;
}

struct queue *store_nth(struct kmqd *d, unsigned int i, unsigned int *total)
{
	struct queue *q = d->queues;

	*total = d->nqueues;
	while (q && i--)
		q = q->next;
	return q;
}

void store_info(struct queue *q, struct kmq_info *info)
{
	struct kmq_view *v = &q->fast.v;
	__u64 nfree, nready, head, tail;
	unsigned int i, live = 0;

	memset(info, 0, sizeof(*info));
	memcpy(info->name, q->name, sizeof(info->name));
	info->features = FEATURES;
	info->type = KMQ_TYPE_QUEUE;
	info->capacity = q->l.capacity;
	info->max_msg_size = q->l.max_msg_size;
	info->slot_size = q->l.slot_size;
	info->mode = q->mode;
	info->uid = q->uid;
	info->gid = q->gid;
	for (i = 0; i < q->nclients; i++)
		live += q->clients[i].state == QC_LIVE ||
			q->clients[i].state == QC_DETACHED;
	info->clients = live;
	info->size = q->l.size;
	info->free_off = q->l.free_off;
	info->ready_off = q->l.ready_off;
	info->slots_off = q->l.slots_off;
	info->created_ns = q->created_ns;
	/* Shared counters: snapshots a mapper can falsify, so clamp them. */
	nfree = kmq_ring_count(&v->free);
	nready = kmq_ring_count(&v->ready);
	info->ready = nready;
	info->held = nfree + nready >= q->l.capacity ?
		     0 : q->l.capacity - nfree - nready;
	head = kmq_load_acq(&v->hdr->ready.head);
	tail = kmq_load_acq(&v->hdr->ready.tail);
	info->sent = tail;
	info->received = head < tail ? head : tail;
	info->repaired = q->repaired;
	info->corrupt = q->corrupt + q->fast.corrupt;
	sqs_info(q, info);
}

/* ---- permissions (as kmq.ko: uid 0 stands for the capabilities) ---------- */

int store_permission(const struct queue *q, struct conn *c, uint32_t flags)
{
	__u32 want = 0, bits;

	if (flags & (KMQ_OPEN_SEND | KMQ_OPEN_MAP))
		want |= 2;
	if (flags & (KMQ_OPEN_RECV | KMQ_OPEN_MAP))
		want |= 4;
	if (conn_uid(c) == q->uid)
		bits = q->mode >> 6;
	else if (conn_in_group(c, q->gid))
		bits = q->mode >> 3;
	else
		bits = q->mode;
	if ((want & ~bits & 7) && conn_uid(c) != 0)
		return -EACCES;
	return 0;
}

/* ---- requests --------------------------------------------------------------- */

void store_create(struct kmqd *d, struct conn *c, const struct kmq_create *k)
{
	char tmp[KMQ_NAME_LEN + 8], detail[128];
	struct kmq_layout l;
	struct queue *q;
	int fd, err;

	{
		size_t n = strnlen(k->name, KMQ_NAME_LEN);
		bool fifo_name = n > 5 && !strcmp(k->name + n - 5, ".fifo");

		if (fifo_name != !!(k->flags & KMQ_CREATE_FIFO)) {
			conn_reply_err(c, -EINVAL, "a FIFO queue needs KMQ_CREATE_FIFO and a name ending in .fifo, and only it");
			return;
		}
	}
	err = kmq_layout_compute(&l, k->capacity, k->max_msg_size);
	if (err) {
		conn_reply_err(c, err, "capacity must be 1..%u and max_msg_size 1..%u",
			       KMQ_CAPACITY_MAX, KMQ_MSG_MAX);
		return;
	}
	q = store_find(d, k->name);
	if (q) {
		if ((k->flags & KMQ_CREATE_EXCL) || q->l.capacity != l.capacity ||
		    q->l.max_msg_size != l.max_msg_size)
			conn_reply_err(c, -EEXIST, "queue %s exists%s", q->name,
				       k->flags & KMQ_CREATE_EXCL ? "" :
				       " with another geometry");
		else
			conn_reply(c, 0, NULL, 0, NULL, 0);
		return;
	}
	if (d->nqueues >= d->cfg.max_queues) {
		conn_reply_err(c, -ENOSPC, "kmqd serves max_queues (%u) queues already",
			       d->cfg.max_queues);
		return;
	}
	if (d->bytes + l.size > d->cfg.max_bytes) {
		conn_reply_err(c, -ENOSPC, "queue memory would pass max_bytes (%llu)",
			       d->cfg.max_bytes);
		return;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	q->wake_fd = q->notify_fd = -1;
	memcpy(q->name, k->name, sizeof(q->name));
	q->l = l;
	q->uid = conn_uid(c);
	q->gid = conn_gid(c);
	q->mode = k->mode;
	q->fifo = !!(k->flags & KMQ_CREATE_FIFO);
	q->created_ns = real_ns();
	snprintf(tmp, sizeof(tmp), ".%s.tmp", q->name);
	unlinkat(d->groups_dir, q->name, 0);	/* a stale one */
	queue_forget_dedup(d, q->name);
	fd = openat(d->queues_dir, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	/* Allocated up front, so a full tmpfs fails the create, not a send. */
	err = posix_fallocate(fd, 0, (off_t)l.size);
	if (err) {
		err = -err;
		close(fd);
		goto err_unlink;
	}
	err = queue_setup(d, q, fd);
	if (err)
		goto err_unlink;
	kmq_layout_init(q->base, &l, FEATURES, q->created_ns);
	sqs_policy_restore(q->sqs, sqs_policy(q->sqs));	/* header mirrors */
	err = queue_persist(q);
	if (err)
		goto err_unlink;
	if (renameat(d->queues_dir, tmp, d->queues_dir, q->name) < 0) {
		err = -errno;
		unlinkat(d->meta_dir, q->name, 0);
		goto err_unlink;
	}
	queue_link(d, q);
	conn_reply(c, 0, NULL, 0, NULL, 0);
	snprintf(detail, sizeof(detail), "capacity %u, max_msg_size %u, mode %04o, uid %u",
		 l.capacity, l.max_msg_size, q->mode, q->uid);
	kmqd_event_publish(d, "create", q->name, detail);
	KMQD_PROBE1(queue_create, q->name);
	return;

err_unlink:
	unlinkat(d->queues_dir, tmp, 0);
	unlinkat(d->wake_dir, q->name, 0);
	unlinkat(d->notify_dir, q->name, 0);
	d->bytes += q->l.size;	/* queue_free subtracts it */
	queue_free(d, q);
	q = NULL;
err_free:
	free(q);
	conn_reply_err(c, err, "cannot create the queue file: %s", strerror(-err));
}

void store_delete(struct kmqd *d, struct conn *c, const char *name)
{
	struct queue *q = store_find(d, name);

	if (!q) {
		conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN, name);
		return;
	}
	if (conn_uid(c) != q->uid && conn_uid(c) != 0) {
		conn_reply_err(c, -EPERM, "only the owner (uid %u) or root may delete %s",
			       q->uid, q->name);
		return;
	}
	unlinkat(d->queues_dir, q->name, 0);
	unlinkat(d->meta_dir, q->name, 0);
	unlinkat(d->wake_dir, q->name, 0);
	unlinkat(d->notify_dir, q->name, 0);
	unlinkat(d->groups_dir, q->name, 0);
	queue_forget_dedup(d, q->name);
	queue_unlink(d, q);
	q->deleted = true;
	conn_reply(c, 0, NULL, 0, NULL, 0);
	kmqd_event_publish(d, "delete", q->name, "");
	KMQD_PROBE1(queue_delete, q->name);
	queue_maybe_free(d, q);
}

void store_info_cmd(struct kmqd *d, struct conn *c, const char *name)
{
	struct queue *q;
	struct kmq_info info;

	if (!name[0]) {
		q = conn_queue(c);
		if (!q) {
			conn_reply_err(c, -EBADF, "no queue is open on this connection");
			return;
		}
	} else {
		q = store_find(d, name);
		if (!q) {
			conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN, name);
			return;
		}
	}
	store_info(q, &info);
	if (!name[0]) {
		info.client_id = conn_client_id(c);
		info.open_flags = conn_open_flags(c);
	}
	conn_reply(c, 0, &info, sizeof(info), NULL, 0);
}

void store_list_cmd(struct kmqd *d, struct conn *c,
		    const struct kmq_wire_list *l)
{
	struct kmq_info infos[KMQ_WIRE_LIST_MAX];
	struct kmq_wire_list r = { 0 };
	struct piece pc[2];
	unsigned int total, n = 0;
	struct queue *q = store_nth(d, l->start, &total);

	for (; q && n < l->count; q = q->next)
		store_info(q, &infos[n++]);
	r.start = l->start;
	r.count = n;
	r.total = total;
	pc[0] = (struct piece){ &r, sizeof(r) };
	pc[1] = (struct piece){ infos, n * sizeof(infos[0]) };
	conn_replyv(c, 0, pc, 2);
}

/* proc_start - a process's start time (field 22 of /proc/PID/stat), so a
 * pid reused by another process is not taken for the client; 0 if gone. */
static uint64_t proc_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2] || p[2] == 'Z' || p[2] == 'X')
		return 0;	/* a zombie has exited: it is not the client */
	/* After ") " comes field 3 (state). */
	for (field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%llu", &start);
	return start;
}

static struct qclient *client_alloc(struct queue *q)
{
	unsigned int i;
	__u32 id;
	bool used;

	/* The lowest id in use by nobody: ids are few and short-lived. */
	for (id = KMQ_WIRE_KMQD_ID + 1; id <= KMQ_CLIENT_MAX; id++) {
		used = false;
		for (i = 0; i < q->nclients && !used; i++)
			used = q->clients[i].state != QC_FREE &&
			       q->clients[i].id == id;
		if (!used)
			break;
	}
	if (id > KMQ_CLIENT_MAX)
		return NULL;
	for (i = 0; i < q->nclients; i++)
		if (q->clients[i].state == QC_FREE)
			break;
	if (i == q->nclients) {
		if (q->nclients == q->ccap) {
			unsigned int n = q->ccap ? q->ccap * 2 : 8;
			struct qclient *nc = realloc(q->clients, n * sizeof(*nc));

			if (!nc)
				return NULL;
			q->clients = nc;
			q->ccap = n;
			/* conns and pidfd watches point at queues, not at
			 * entries, so moving them is fine. */
		}
		q->nclients++;
	}
	memset(&q->clients[i], 0, sizeof(q->clients[i]));
	q->clients[i].id = id;
	q->clients[i].pidfd = -1;
	q->clients[i].q = q;
	return &q->clients[i];
}

static struct qclient *client_find(struct queue *q, __u32 id)
{
	unsigned int i;

	for (i = 0; i < q->nclients; i++)
		if (q->clients[i].state != QC_FREE && q->clients[i].id == id)
			return &q->clients[i];
	return NULL;
}

void store_open(struct kmqd *d, struct conn *c, const struct kmq_open *o)
{
	struct queue *q = store_find(d, o->name);
	struct kmq_info info;
	struct qclient *qc;
	int fds[3], nfds = 0, err;

	if (!q) {
		conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN, o->name);
		return;
	}
	err = store_permission(q, c, o->flags);
	if (err) {
		conn_reply_err(c, err, "uid %u may not %s%s%s queue %s (mode %04o, uid %u, gid %u)",
			       conn_uid(c),
			       o->flags & KMQ_OPEN_MAP ? "map " : "",
			       o->flags & KMQ_OPEN_SEND ? "send to " : "",
			       o->flags & KMQ_OPEN_RECV ? "receive from " : "",
			       q->name, q->mode, q->uid, q->gid);
		return;
	}
	if (q->fifo && (o->flags & KMQ_OPEN_MAP)) {
		conn_reply_err(c, -EOPNOTSUPP, "FIFO queue %s cannot be mapped: use the copying path",
			       q->name);
		return;
	}
	qc = client_alloc(q);
	if (!qc) {
		conn_reply_err(c, -ENOSPC, "queue %s has no client id left", q->name);
		return;
	}
	qc->state = QC_LIVE;
	qc->pid = conn_pid(c);
	qc->start = proc_start(qc->pid);
	qc->flags = o->flags;
	qc->conn = c;
	conn_set_queue(c, q, qc->id, o->flags);
	queue_persist(q);
	store_info(q, &info);
	info.client_id = qc->id;
	info.open_flags = o->flags;
	fds[nfds++] = q->wake_fd;
	if (o->flags & KMQ_OPEN_MAP) {
		fds[nfds++] = q->fd;
		fds[nfds++] = q->notify_fd;
	}
	conn_reply(c, 0, &info, sizeof(info), fds, nfds);
	log_debug("queue %s: client %u (pid %d) opened%s", q->name, qc->id,
		  (int)qc->pid, o->flags & KMQ_OPEN_MAP ? ", mapped" : "");
}

static void on_pidfd(struct kmqd *d, void *arg, uint32_t revents);

void store_reattach(struct kmqd *d, struct conn *c,
		    const struct kmq_wire_reattach *r)
{
	struct queue *q = store_find(d, r->name);
	struct kmq_info info;
	struct qclient *qc;

	if (!q) {
		conn_reply_err(c, -ENOENT, "no queue %.*s", KMQ_NAME_LEN, r->name);
		return;
	}
	qc = client_find(q, r->client_id);
	if (!qc || qc->state != QC_DETACHED || qc->pid != conn_pid(c) ||
	    qc->start != proc_start(conn_pid(c))) {
		conn_reply_err(c, -ESRCH, "client %u of queue %s is not a detached client of pid %d",
			       r->client_id, q->name, (int)conn_pid(c));
		return;
	}
	kmqd_loop_del(d, qc->pidfd);
	close(qc->pidfd);
	qc->pidfd = -1;
	qc->state = QC_LIVE;
	qc->conn = c;
	conn_set_queue(c, q, qc->id, qc->flags);
	queue_persist(q);
	store_info(q, &info);
	info.client_id = qc->id;
	info.open_flags = qc->flags;
	conn_reply(c, 0, &info, sizeof(info), NULL, 0);
	log_info("queue %s: client %u (pid %d) reattached", q->name, qc->id,
		 (int)qc->pid);
}

/* client_gone - @qc's process or connection went: repair its id. */
static void client_gone(struct kmqd *d, struct queue *q, struct qclient *qc)
{
	qc->state = QC_ORPHAN;
	qc->conn = NULL;
	if (repair_orphan(d, q, qc))
		repair_kick(d, q);
	else
		queue_maybe_free(d, q);
}

void store_hangup(struct kmqd *d, struct conn *c)
{
	struct queue *q = conn_queue(c);
	struct qclient *qc;

	if (!q)
		return;
	if (d->stopping) {
		/* A clean stop is no client's death: the next kmqd finds it
		 * in the metadata, alive, and watches it. */
		conn_set_queue(c, NULL, 0, 0);
		return;
	}
	qc = client_find(q, conn_client_id(c));
	conn_set_queue(c, NULL, 0, 0);
	if (qc && qc->conn == c)
		client_gone(d, q, qc);
}

void queue_client_done(struct queue *q, struct qclient *qc)
{
	struct kmqd *d = q->d;

	if (qc->pidfd >= 0) {
		kmqd_loop_del(d, qc->pidfd);
		close(qc->pidfd);
	}
	memset(qc, 0, sizeof(*qc));
	qc->pidfd = -1;
	qc->state = QC_FREE;
	queue_persist(q);
}

bool queue_maybe_free(struct kmqd *d, struct queue *q)
{
	if (!q->deleted || queue_refs(q))
		return false;
	queue_free(d, q);
	return true;
}

void repair_kick(struct kmqd *d, struct queue *q)
{
	q->repair_delay_ms = 1;
	timer_arm(d, &q->repair_timer, mono_ns() + 1000000ULL);
}

/* A detached client's process exited. The pidfd watch's arg is the queue
 * and the entry is found by its pidfd: entries move when clients[] grows. */
static void on_pidfd(struct kmqd *d, void *arg, uint32_t revents)
{
	struct queue *q = arg;
	unsigned int i;

	for (i = 0; i < q->nclients; i++) {
		struct qclient *qc = &q->clients[i];
		struct pollfd p;

		if (qc->state != QC_DETACHED || qc->pidfd < 0)
			continue;
		/* Which one fired: a pidfd is readable once its process
		 * has exited. */
		p.fd = qc->pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, 0) <= 0)
			continue;
		log_info("queue %s: client %u (pid %d) from before the restart exited",
			 q->name, qc->id, (int)qc->pid);
		client_gone(d, q, qc);
	}
}

void queue_requeue(struct kmqd *d, struct queue *q, uint32_t idx)
{
	if (q->nrequeue < REQUEUE_MAX) {
		q->requeue[q->nrequeue++] = idx;
	} else {
		log_warn("queue %s: slot %u stays held until kmqd restarts",
			 q->name, idx);
	}
	repair_kick(d, q);
}

/* The repair timer: orphans, and slots kmqd itself could not requeue. */
static void repair_tick(struct kmqd *d, void *arg)
{
	struct queue *q = arg;
	unsigned int i, n = 0;
	bool again = false;

	for (i = 0; i < q->nrequeue; i++) {
		int err = kmq_put(&q->fast.v, &q->fast.v.ready, q->requeue[i],
				  KMQ_SLOT_READY, &q->corrupt);

		if (err == -EBUSY)
			q->requeue[n++] = q->requeue[i];
		else
			store_wake(q, KMQ_WAKE_READERS);
	}
	q->nrequeue = n;
	for (i = 0; i < q->nclients; i++)
		if (q->clients[i].state == QC_ORPHAN &&
		    repair_orphan(d, q, &q->clients[i]))
			again = true;
	if (queue_maybe_free(d, q))
		return;
	if (again || q->nrequeue) {
		q->repair_delay_ms = q->repair_delay_ms * 2 > 1024 ?
				     1024 : q->repair_delay_ms * 2;
		timer_arm(d, &q->repair_timer,
			  mono_ns() + q->repair_delay_ms * 1000000ULL);
	}
}

/* ---- start-up: the state directory and re-adoption ----------------------- */

static int mkdir_0700(int dirfd, const char *path)
{
	struct stat st;

	if (mkdirat(dirfd, path, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (fstatat(dirfd, path, &st, 0) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((st.st_mode & 0777) != 0700 && fchmodat(dirfd, path, 0700, 0) < 0)
		return -errno;
	return 0;
}

static bool process_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start && proc_start(pid) == start;
}

/* adopt - serve the queue whose metadata file is @name again. */
static int adopt(struct kmqd *d, const char *name)
{
	struct meta_hdr h;
	struct meta_client mc;
	struct queue *q;
	struct stat st;
	unsigned int i;
	__u64 repaired = 0, corrupt = 0;
	int mfd, fd = -1, err = -EINVAL;

	mfd = openat(d->meta_dir, name, O_RDONLY | O_CLOEXEC);
	if (mfd < 0)
		return -errno;
	q = calloc(1, sizeof(*q));
	if (!q) {
		close(mfd);
		return -ENOMEM;
	}
	q->wake_fd = q->notify_fd = -1;
	q->fd = -1;
	if (read(mfd, &h, sizeof(h)) != sizeof(h) || h.magic != META_MAGIC ||
	    h.version != META_VERSION || !frame_name_ok(h.name) ||
	    strncmp(h.name, name, KMQ_NAME_LEN) || h.mode > 0777 ||
	    kmq_layout_compute(&q->l, h.capacity, h.max_msg_size) ||
	    q->l.capacity != h.capacity)
		goto err_free;
	memcpy(q->name, h.name, sizeof(q->name));
	q->uid = h.uid;
	q->gid = h.gid;
	q->mode = h.mode;
	q->fifo = !!(h.flags & META_FIFO);
	q->created_ns = h.created_ns;
	fd = openat(d->queues_dir, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = fd < 0 ? -errno : -EINVAL;
		if (fd >= 0)
			close(fd);
		goto err_free;
	}
	if ((__u64)st.st_size != q->l.size) {
		/* A mapper truncated it (which kills a kmqd that touches the
		 * lost pages): the trusted size wins, the contents may not. */
		log_warn("queue %s: file size %lld, not %llu; restored", name,
			 (long long)st.st_size, (unsigned long long)q->l.size);
		if (ftruncate(fd, (off_t)q->l.size) < 0) {
			err = -errno;
			close(fd);
			goto err_free;
		}
	}
	err = queue_setup(d, q, fd);
	if (err)
		goto err_setup;
	if (kmq_hdr_check(q->base, &q->l)) {
		/* Scribbled on by a mapper: the trusted copy wins. */
		struct kmq_hdr *hd = q->base;

		log_warn("queue %s: header did not match its metadata; rewritten",
			 q->name);
		hd->magic = KMQ_MAGIC;
		hd->abi = KMQ_ABI_VERSION;
		hd->features = FEATURES;
		hd->type = KMQ_TYPE_QUEUE;
		hd->capacity = q->l.capacity;
		hd->slot_size = q->l.slot_size;
		hd->max_msg_size = q->l.max_msg_size;
		hd->free_off = q->l.free_off;
		hd->ready_off = q->l.ready_off;
		hd->slots_off = q->l.slots_off;
		hd->size = q->l.size;
	}
	queue_link(d, q);
	for (i = 0; i < h.nclients; i++) {
		struct qclient *qc;

		if (read(mfd, &mc, sizeof(mc)) != sizeof(mc))
			break;
		if (mc.id <= KMQ_WIRE_KMQD_ID || mc.id > KMQ_CLIENT_MAX ||
		    client_find(q, mc.id))
			continue;
		qc = client_alloc(q);
		if (!qc)
			break;
		qc->id = mc.id;
		qc->pid = mc.pid;
		qc->start = mc.start;
		qc->flags = mc.flags;
		qc->state = QC_ORPHAN;
		if (mc.state != QC_ORPHAN && process_alive(mc.pid, mc.start)) {
			qc->pidfd = (int)syscall(SYS_pidfd_open, mc.pid, 0);
			if (qc->pidfd >= 0 &&
			    !kmqd_loop_add(d, qc->pidfd, EPOLLIN, on_pidfd, q))
				qc->state = QC_DETACHED;
			else if (qc->pidfd >= 0)
				close(qc->pidfd), qc->pidfd = -1;
		}
	}
	{
		struct meta_sqs ms;

		if (i == h.nclients && read(mfd, &ms, sizeof(ms)) == sizeof(ms) &&
		    ms.magic == META_SQS_MAGIC)
			sqs_policy_restore(q->sqs, &ms.policy);
		else
			sqs_policy_restore(q->sqs, sqs_policy(q->sqs));
	}
	close(mfd);
	/* kmqd's own id: whatever the last kmqd left mid-operation. Other
	 * clients may be alive, so a blocked push is retried, not forced. */
	if (repair_client(&q->fast.v, q->sqs, KMQ_WIRE_KMQD_ID, false, &repaired,
			  &corrupt))
		log_warn("queue %s: slots of the previous kmqd wait for a ring cell",
			 q->name);
	queue_count(q, repaired, corrupt);
	sqs_adopt(d, q);
	queue_persist(q);
	log_info("queue %s: adopted (%u clients from before the restart%s)",
		 q->name, queue_refs(q),
		 repaired ? ", repaired the previous kmqd's slots" : "");
	if (repaired)
		store_wake(q, KMQ_WAKE_READERS | KMQ_WAKE_WRITERS);
	for (i = 0; i < q->nclients; i++)
		if (q->clients[i].state == QC_ORPHAN &&
		    repair_orphan(d, q, &q->clients[i]))
			repair_kick(d, q);
	return 0;

err_setup:
	d->bytes += q->l.size;
	queue_free(d, q);
	close(mfd);
	return err;
err_free:
	free(q);
	close(mfd);
	return err;
}

/* sweep - remove leftovers of interrupted creates and deletes. */
static void sweep(struct kmqd *d)
{
	int fd = dup(d->queues_dir);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_name[0] == '.' || !store_find(d, e->d_name)) {
			log_warn("state dir: removing queues/%s (no metadata)",
				 e->d_name);
			unlinkat(d->queues_dir, e->d_name, 0);
		}
	}
	closedir(dir);
}

int store_init(struct kmqd *d)
{
	char path[sizeof(d->cfg.state_dir) + 300];
	int dirfd, err, fd;
	DIR *dir;
	struct dirent *e;

	if (mkdir(d->cfg.state_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	dirfd = open(d->cfg.state_dir, O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	err = mkdir_0700(dirfd, "queues");
	if (!err)
		err = mkdir_0700(dirfd, "meta");
	if (!err)
		err = mkdir_0700(dirfd, "wake");
	if (!err)
		err = mkdir_0700(dirfd, "notify");
	if (!err)
		err = mkdir_0700(dirfd, "groups");
	if (err) {
		close(dirfd);
		return err;
	}
	d->queues_dir = openat(dirfd, "queues", O_DIRECTORY | O_CLOEXEC);
	d->meta_dir = openat(dirfd, "meta", O_DIRECTORY | O_CLOEXEC);
	d->wake_dir = openat(dirfd, "wake", O_DIRECTORY | O_CLOEXEC);
	d->notify_dir = openat(dirfd, "notify", O_DIRECTORY | O_CLOEXEC);
	d->groups_dir = openat(dirfd, "groups", O_DIRECTORY | O_CLOEXEC);
	close(dirfd);
	if (d->queues_dir < 0 || d->meta_dir < 0 || d->wake_dir < 0 ||
	    d->notify_dir < 0 || d->groups_dir < 0)
		return -errno;

	err = sqs_init(d);
	if (err)
		return err;
	fd = dup(d->meta_dir);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.') {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(d->meta_dir, e->d_name, 0);
			continue;
		}
		err = adopt(d, e->d_name);
		if (err) {
			snprintf(path, sizeof(path), "%s/meta/%s", d->cfg.state_dir,
				 e->d_name);
			log_err("cannot adopt the queue of %s: %s; removing it",
				path, strerror(-err));
			unlinkat(d->meta_dir, e->d_name, 0);
			unlinkat(d->queues_dir, e->d_name, 0);
		}
	}
	closedir(dir);
	sweep(d);
	return 0;
}

void store_fini(struct kmqd *d)
{
	while (d->queues) {
		struct queue *q = d->queues;

		d->queues = q->next;
		d->nqueues--;
		queue_free(d, q);
	}
	if (d->queues_dir >= 0)
		close(d->queues_dir);
	if (d->meta_dir >= 0)
		close(d->meta_dir);
	if (d->wake_dir >= 0)
		close(d->wake_dir);
	if (d->notify_dir >= 0)
		close(d->notify_dir);
	if (d->groups_dir >= 0)
		close(d->groups_dir);
	sqs_fini(d);
}
