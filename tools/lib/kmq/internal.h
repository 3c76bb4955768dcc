/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libkmq internals: the handle, the backend interface (one implementation
 * over kmq.ko, one over kmqd's shared memory, as OVS's dpif_class), and the
 * fast path on a struct kmq_view, exposed here so unit tests can drive it on
 * plain memory without a kernel. Nothing here is exported from libkmq.so.
 */
#ifndef KMQ_INTERNAL_H
#define KMQ_INTERNAL_H

#include <stdbool.h>
#include <time.h>
#include <sys/uio.h>
#include <kmq.h>
#include <kmq/ring.h>
#include <kmq/wire.h>

#define KMQ_HIDDEN	__attribute__((visibility("hidden")))
#define KMQ_EXPORT	__attribute__((visibility("default")))

/* Tunables. How long a waiter spins re-checking the ring before it sleeps:
 * a peer that answers within this time costs no system call on either
 * side. To be measured with kmq-bench. */
#define KMQ_WAIT_SPIN_NS	3000
/* Tries of a push that finds its cell still held by a popper (-EBUSY)
 * before yielding the CPU between tries: the holder may be preempted. */
#define KMQ_PUT_SPINS		128
/* Then this many sched_yield()s before giving up: the holder may also be
 * stopped, or dead until the kernel repairs, and user space never waits
 * unboundedly on shared memory. The caller's timeout takes over. */
#define KMQ_PUT_YIELDS		8
/* Naps of a waiter whose condition is held up by a stalled popper, whose
 * release wakes nobody: it looks again after 1 ms, doubling up to 20 ms
 * (the kernel's KMQ_STALL_POLL_NS). */
#define KMQ_STALL_NAP_MIN_NS	1000000
#define KMQ_STALL_NAP_MAX_NS	20000000
/* Slots a handle keeps when the free ring's tail cell is held by a stalled
 * popper, to push later (struct kmq_fast.defer). */
#define KMQ_DEFER_MAX		16
/* Defaults of struct kmq_qattr. */
#define KMQ_DEFAULT_CAPACITY	1024
#define KMQ_DEFAULT_MSG_SIZE	65536
#define KMQ_DEFAULT_MODE	0600

/* struct kmq_msg.slot of a message that holds no slot. */
#define KMQ_MSG_NOSLOT		0xffffffffU
/* struct kmq_msg.slot of a copying-path borrow: data is a private buffer. */
#define KMQ_MSG_COPYBUF		0xfffffffeU

/* Message ids: the client id above KMQ_ID_SEQ_BITS of a per-handle count,
 * so ids are unique per queue without a shared counter. */
#define KMQ_ID_SEQ_BITS		40

/*
 * The fast path's state: a view of mapped queue memory plus who we are on
 * it. Everything in it is per handle; the view points at shared memory.
 */
struct kmq_fast {
	struct kmq_view v;
	__u32 client_id;	/* owner id written into cells and slots */
	__u32 pid;		/* reported in the slots we send */
	__u32 uid;
	__u32 pad;
	__u64 seq;		/* last message id sequence used */
	__u64 corrupt;		/* invalid entries this handle skipped */
	/* Slots given back (header: state FREE, owner us) whose push onto
	 * the free ring found the tail cell held by a stalled popper. They
	 * are pushed at the start of every later fast-path call and at
	 * close; if still held then, the kernel's crash repair returns them,
	 * as it does with those that found this list full (stranded). */
	__u32 defer[KMQ_DEFER_MAX];
	__u32 ndefer;
	__u32 pad2;
	__u64 deferred;		/* slots ever put on the list */
	__u64 stranded;		/* slots left held for the repair */
	const char *name;	/* the queue's, for the USDT probes; or NULL */
};

struct kmq;

/*
 * A backend serves queues by name and moves messages for handles that are
 * not mapped. Mapped handles share one fast path (fastpath.c) whatever the
 * backend, because the memory layout is the same; the backend only sleeps
 * and wakes for them. All return 0 (or a count) or -errno.
 */
struct kmq_backend {
	const char *name;

	int (*create)(const char *name, const struct kmq_qattr *attr);
	int (*destroy)(const char *name);
	int (*info)(const char *name, struct kmq_info *info);
	int (*list)(struct kmq_info *infos, unsigned int n, unsigned int start,
		    unsigned int *total);

	/* open: fill q->fd, q->max_msg_size, q->client_id and, when it maps
	 * the queue, q->map/q->map_size/q->fast with q->mapped = true. */
	int (*open)(struct kmq *q, const char *name, unsigned int flags);
	/* close: undo open; the owner of the queue repairs what q held. */
	void (*close)(struct kmq *q);
	int (*qinfo)(const struct kmq *q, struct kmq_info *info);

	/* wake: KMQ_WAKE_READERS and/or KMQ_WAKE_WRITERS sleepers. */
	int (*wake)(struct kmq *q, unsigned int who);
	/* wait: sleep once until one of @events (KMQ_READABLE/WRITABLE)
	 * holds or @timeout passes (NULL: no limit, zero: just look); arms the
	 * need-wakeup flags and rechecks before sleeping. Returns the events
	 * that hold, 0 on timeout, -EINTR on a signal. May return early.
	 * @events 0: just sleep for @timeout (a nap), signals still end it. */
	int (*wait)(struct kmq *q, int events, const struct timespec *timeout);
	/* prepare_wait: kmq_prepare_wait() on a mapped handle when the
	 * backend needs more than arming the flags (NULL: just arm). */
	int (*prepare_wait)(struct kmq *q, int events);

	/* The copying path: move up to @n messages, waiting as kmq_send/recv
	 * describe. ids may be NULL. */
	int (*send_copy)(struct kmq *q, const struct kmq_iov *msgs,
			 unsigned int n, __u64 *ids, int64_t timeout_ns);
	int (*recv_copy)(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
			 int64_t timeout_ns);

	/* SQS semantics (kmq.h's "SQS semantics"), checked by sqs.c first. A
	 * backend that leaves these NULL does not serve them: -EOPNOTSUPP.
	 * sqs_send gets the messages that cannot take the fast path, checked,
	 * with their attributes encoded in @attrs[i] (@alen[i] bytes), and
	 * sets their status/id/seq/duplicate; it returns 0 or the -errno of
	 * the whole call. */
	int (*get_policy)(const char *name, struct kmq_policy *p);
	int (*set_policy)(const struct kmq_policy *p);
	int (*purge)(const char *name);
	int (*move)(const char *src, const char *dst, unsigned int max);
	int (*sqs_send)(struct kmq *q, struct kmq_out *const *msgs,
			const void *const *attrs, const __u32 *alen,
			unsigned int n);
	int (*sqs_recv)(struct kmq *q, struct kmq_in *msgs, unsigned int n,
			int visibility_s, int64_t timeout_ns);
	/* @visibility_s < 0: delete; else change the visibility. */
	int (*sqs_settle)(struct kmq *q, const uint64_t *receipts, int *status,
			  unsigned int n, int visibility_s);
};

/* A copying-path borrow: the private buffer that kmq_msg.data points at. */
struct kmq_copybuf {
	struct kmq_copybuf *next, **pprev;
	unsigned char data[];
};

/* An open queue. */
struct kmq {
	const struct kmq_backend *be;
	int fd;			/* queue fd, -1 when the backend has none */
	unsigned int flags;	/* KMQ_SEND | KMQ_RECV | KMQ_COPY as opened */
	bool mapped;		/* fast path on q->fast */
	void *map;		/* the mapping, NULL when not mapped */
	size_t map_size;
	__u32 max_msg_size;
	__u32 client_id;
	struct kmq_fast fast;
	struct kmq_copybuf *copies;	/* outstanding copying-path borrows */
	void *priv;		/* the backend's per-handle state */
	char name[KMQ_NAME_LEN];
};

/* backend.c */
KMQ_HIDDEN int kmq_backend_get(const struct kmq_backend **be);
extern const struct kmq_backend kmq_kernel_backend KMQ_HIDDEN;
extern const struct kmq_backend kmq_shm_backend KMQ_HIDDEN;

/* queue.c: a handle on @be not yet opened (tests attach memory to it). */
KMQ_HIDDEN struct kmq *kmq_alloc(const struct kmq_backend *be,
				 unsigned int flags);
/* Attach mapped queue memory laid out as @l to @q as client @client_id. */
KMQ_HIDDEN void kmq_attach(struct kmq *q, void *base,
			   const struct kmq_layout *l, __u32 client_id);

/* name.c: copy a valid name into a KMQ_NAME_LEN field, zero-padded. */
KMQ_HIDDEN int kmq_name_copy(char dst[KMQ_NAME_LEN], const char *name);
/* The request structs both backends send: zeroed, filled, name checked. */
KMQ_HIDDEN int kmq_create_args(struct kmq_create *c, const char *name,
			       const struct kmq_qattr *a);
KMQ_HIDDEN int kmq_name_args(struct kmq_name *n, const char *name);

/* map.c: geometry from what the owner reported, and the header check. */
KMQ_HIDDEN int kmq_layout_from_info(struct kmq_layout *l,
				    const struct kmq_info *info);
KMQ_HIDDEN int kmq_hdr_check(const struct kmq_hdr *h,
			     const struct kmq_layout *l);
/* map.c: map @fd at @off as @info says, check it, attach it to @q. */
KMQ_HIDDEN int kmq_map_queue(struct kmq *q, int fd, __u64 off,
			     const struct kmq_info *info);

/* fastpath.c: the mapped data path. None makes a system call; those that
 * push OR KMQ_WAKE_* into *@wake when a sleeper must be woken, which the
 * caller does (once per call, so a batch pays for at most one). Return 0 or
 * a count, -EAGAIN when the ring they need is empty (for a send: or when
 * the ready ring's tail cell stays held by a stalled popper), -EMSGSIZE,
 * -EIO. None waits unboundedly: spins and yields are bounded by
 * KMQ_PUT_SPINS and KMQ_PUT_YIELDS, and the caller's timeout does the rest. */
KMQ_HIDDEN void kmq_fast_init(struct kmq_fast *f, void *base,
			      const struct kmq_layout *l, __u32 client_id);
KMQ_HIDDEN int kmq_fast_send(struct kmq_fast *f, const struct kmq_iov *msgs,
			     unsigned int n, __u64 *ids, unsigned int *wake);
/* In-place send: claim a slot, publish it once written, or give it back.
 * A reserved slot is CLAIMED by this client (the kernel's repair frees it
 * if the client goes away); commit and abort return -EINVAL for a slot that
 * is not. Commit leaves the slot reserved on -EMSGSIZE and -EAGAIN. */
KMQ_HIDDEN int kmq_fast_reserve(struct kmq_fast *f, __u32 *idx,
				unsigned int *wake);
KMQ_HIDDEN int kmq_fast_commit(struct kmq_fast *f, __u32 idx, size_t len,
			       __u64 *id, unsigned int *wake);
KMQ_HIDDEN int kmq_fast_abort(struct kmq_fast *f, __u32 idx,
			      unsigned int *wake);
/* Send one message of kmq_send_msgs() in place: @attrs (@nattrs, already
 * checked to encode in @alen bytes) then @len body bytes, in one slot.
 * -EMSGSIZE when they do not fit, -EAGAIN as kmq_fast_send(). */
KMQ_HIDDEN int kmq_fast_send_attrs(struct kmq_fast *f,
				   const struct kmq_attr *attrs,
				   unsigned int nattrs, __u32 alen,
				   const void *body, size_t len, __u64 *id,
				   unsigned int *wake);
KMQ_HIDDEN int kmq_fast_recv(struct kmq_fast *f, struct kmq_rbuf *bufs,
			     unsigned int n, unsigned int *wake);
KMQ_HIDDEN int kmq_fast_borrow(struct kmq_fast *f, struct kmq_msg *msg,
			       unsigned int *wake);
KMQ_HIDDEN int kmq_fast_release(struct kmq_fast *f, struct kmq_msg *msg,
				unsigned int *wake);
/* Push the deferred slots (struct kmq_fast.defer) that the free ring now
 * takes. Returns how many are still deferred. */
KMQ_HIDDEN unsigned int kmq_fast_flush(struct kmq_fast *f, unsigned int *wake);
/* The KMQ_READABLE/KMQ_WRITABLE @events that the rings show now. Writable
 * means a free slot AND a ready-ring tail cell that a push can take. */
KMQ_HIDDEN int kmq_fast_events(struct kmq_fast *f, int events);
/* True when @events has KMQ_WRITABLE held up only by a stalled popper: a
 * free slot is there but the ready ring's tail cell is still held. Its
 * release wakes nobody, so a waiter naps and looks again. */
KMQ_HIDDEN bool kmq_fast_stalled(struct kmq_fast *f, int events);
/* Arm the need-wakeup flags for @events, then recheck. */
KMQ_HIDDEN int kmq_fast_arm(struct kmq_fast *f, int events);

/* attrs.c: the size @n attributes encode to (uapi "Message attributes"),
 * after checking every rule there: -EINVAL. */
KMQ_HIDDEN int kmq_attrs_size(const struct kmq_attr *attrs, unsigned int n,
			      size_t *size);

/* kernel.c: one ioctl on a fresh control fd (-ENODEV without kmq.ko). */
KMQ_HIDDEN int kmq_ctl_ioctl(unsigned long req, void *arg);

/* kernel_sqs.c: the kernel backend's SQS ops, over the SQS ioctls. */
KMQ_HIDDEN int kmq_kernel_get_policy(const char *name, struct kmq_policy *p);
KMQ_HIDDEN int kmq_kernel_set_policy(const struct kmq_policy *p);
KMQ_HIDDEN int kmq_kernel_purge(const char *name);
KMQ_HIDDEN int kmq_kernel_move(const char *src, const char *dst,
			       unsigned int max);
KMQ_HIDDEN int kmq_kernel_sqs_send(struct kmq *q, struct kmq_out *const *msgs,
				   const void *const *attrs, const __u32 *alen,
				   unsigned int n);
KMQ_HIDDEN int kmq_kernel_sqs_recv(struct kmq *q, struct kmq_in *msgs,
				   unsigned int n, int visibility_s,
				   int64_t timeout_ns);
KMQ_HIDDEN int kmq_kernel_sqs_settle(struct kmq *q, const uint64_t *receipts,
				     int *status, unsigned int n,
				     int visibility_s);

/* shm.c: one request to kmqd on a fresh connection (the reply must be
 * exactly @rlen bytes when @reply is given), or on @q's connection (the
 * reply's body in *@reply, valid until the next call). */
KMQ_HIDDEN int kmq_shm_call_once(unsigned int cmd, const void *body,
				 size_t len, void *reply, size_t rlen);
KMQ_HIDDEN int kmq_shm_call(struct kmq *q, unsigned int cmd,
			    const struct iovec *iov, int n,
			    const unsigned char **reply, size_t *rlen);

/* shm_sqs.c: the shm backend's SQS ops, over kmqd's SQS commands. */
KMQ_HIDDEN int kmq_shm_get_policy(const char *name, struct kmq_policy *p);
KMQ_HIDDEN int kmq_shm_set_policy(const struct kmq_policy *p);
KMQ_HIDDEN int kmq_shm_purge(const char *name);
KMQ_HIDDEN int kmq_shm_move(const char *src, const char *dst,
			    unsigned int max);
KMQ_HIDDEN int kmq_shm_sqs_send(struct kmq *q, struct kmq_out *const *msgs,
				const void *const *attrs, const __u32 *alen,
				unsigned int n);
KMQ_HIDDEN int kmq_shm_sqs_recv(struct kmq *q, struct kmq_in *msgs,
				unsigned int n, int visibility_s,
				int64_t timeout_ns);
KMQ_HIDDEN int kmq_shm_sqs_settle(struct kmq *q, const uint64_t *receipts,
				  int *status, unsigned int n,
				  int visibility_s);

/* copy.c: the copying path over KMQ_IOC_SEND/RECV, and borrows on it. */
KMQ_HIDDEN int kmq_ioc_send(struct kmq *q, const struct kmq_iov *msgs,
			    unsigned int n, __u64 *ids, int64_t timeout_ns);
KMQ_HIDDEN int kmq_ioc_recv(struct kmq *q, struct kmq_rbuf *bufs,
			    unsigned int n, int64_t timeout_ns);
KMQ_HIDDEN int kmq_copy_borrow(struct kmq *q, struct kmq_msg *msg,
			       int64_t timeout_ns);
KMQ_HIDDEN int kmq_copy_release(struct kmq *q, struct kmq_msg *msg);
/* Copying-path reservations: a private max_msg_size buffer on q->copies,
 * sent by commit through send_copy, freed by commit, abort or close. */
KMQ_HIDDEN int kmq_copy_reserve(struct kmq *q, struct kmq_wbuf *w);
KMQ_HIDDEN int kmq_copy_commit(struct kmq *q, struct kmq_wbuf *w, size_t len,
			       __u64 *id);
KMQ_HIDDEN int kmq_copy_abort(struct kmq *q, struct kmq_wbuf *w);
KMQ_HIDDEN void kmq_copy_free_all(struct kmq *q);

/* wait.c: a deadline for the timeouts of kmq.h, started on first use. */
struct kmq_deadline {
	int64_t timeout_ns;	/* as given: 0 never sleeps, < 0 no limit */
	bool started;
	struct timespec at;	/* CLOCK_MONOTONIC */
};

static inline void kmq_deadline_init(struct kmq_deadline *d, int64_t ns)
{
	d->timeout_ns = ns;
	d->started = false;
}

/* Wait for @events on @q until @d passes. Returns the events that hold,
 * -EAGAIN (timeout 0) or -ETIMEDOUT when it passed, or -errno. */
KMQ_HIDDEN int kmq_wait_deadline(struct kmq *q, int events,
				 struct kmq_deadline *d);
/* Nanoseconds left before @d (0 when passed); -1 when no limit. */
KMQ_HIDDEN int64_t kmq_deadline_left(struct kmq_deadline *d);

/* wire.c: the client side of kmqd's socket (include/kmq/wire.h). */
struct kmq_wire_conn {
	int fd;			/* -1: not connected (or lost) */
	__u32 seq;
	unsigned char *buf;	/* the last reply's body */
	size_t cap;
};
/* The socket path: $KMQ_SOCKET, else KMQ_WIRE_SOCKET. */
KMQ_HIDDEN const char *kmq_wire_socket(void);
/* Connect; -ECONNREFUSED when kmqd is not running. */
KMQ_HIDDEN int kmq_wire_open(struct kmq_wire_conn *c);
KMQ_HIDDEN void kmq_wire_close(struct kmq_wire_conn *c);
/* True when kmqd closed its end (it stopped or restarted). */
KMQ_HIDDEN bool kmq_wire_hung_up(const struct kmq_wire_conn *c);
/* One request @cmd with a body of @nbody pieces; returns the
 * reply's status (0 or kmqd's -errno) with its body in c->buf, *@rlen
 * bytes, and up to @maxfds passed fds in @fds (*@nfds). Transport failures:
 * -EPIPE (connection lost; c->fd is then -1) or -EPROTO (a reply that
 * breaks the protocol; also closes). */
KMQ_HIDDEN int kmq_wire_call(struct kmq_wire_conn *c, unsigned int cmd,
			     const struct iovec *body, int nbody, size_t *rlen,
			     int *fds, int maxfds, int *nfds);

#endif /* KMQ_INTERNAL_H */
