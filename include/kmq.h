/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * libkmq: the C API applications link to use kmq queues. Queues are shared
 * memory rings created and guarded by kmq.ko (/dev/kmq); a mapped queue moves
 * messages with no system call while the peer is awake. Every function that
 * can fail returns 0 (or a count) on success and a negative errno on failure;
 * none sets errno as its result. Handles are not thread-safe: give each
 * thread its own, or serialise.
 *
 * Queues are served by a backend: "kernel" (kmq.ko through /dev/kmq; every
 * call returns -ENODEV when it is not loaded) or "shm" (kmqd serves them
 * from shared memory; libkmq reaches it at $KMQ_SOCKET, else
 * /run/kmq/kmqd.sock, and every call returns -ECONNREFUSED when kmqd is not
 * running there). KMQ_BACKEND=kernel|shm in the environment chooses; unset,
 * it is kernel when /dev/kmq exists, else shm; another value makes every
 * call that needs a backend return -EINVAL. The API is the same on both;
 * what differs is in daemon/README.md (shm: a mapped client that scribbles
 * is not stopped by a kernel, kmq_fd() is a wake-up FIFO rather than a
 * level-triggered fd, repair of a dead client needs kmqd running).
 */
#ifndef KMQ_H
#define KMQ_H

#include <stddef.h>
#include <stdint.h>
#include <linux/kmq.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An open queue. */
struct kmq;

/* Queue geometry for kmq_create(); zeroed fields take the defaults. */
struct kmq_qattr {
	uint32_t capacity;	/* messages, default 1024 (power of two) */
	uint32_t max_msg_size;	/* bytes, default 65536, at most 1 MiB */
	uint32_t mode;		/* default 0600 */
	uint32_t flags;		/* KMQ_CREATE_EXCL, KMQ_CREATE_FIFO */
};

/* kmq_open() flags */
#define KMQ_SEND	KMQ_OPEN_SEND	/* will send */
#define KMQ_RECV	KMQ_OPEN_RECV	/* will receive */
#define KMQ_COPY	(1U << 16)	/* use the copying path, do not map */

/* A message: what kmq_recv() fills, and what kmq_borrow() lends. */
struct kmq_msg {
	const void *data;	/* body; borrowed: valid until kmq_release() */
	uint32_t len;		/* body bytes */
	uint32_t sender_pid;
	uint32_t sender_uid;
	uint32_t slot;		/* private: the slot borrowed */
	uint64_t id;		/* unique per queue */
	uint64_t sent_ns;	/* CLOCK_REALTIME ns */
};

/* One message to send in a batch. */
struct kmq_iov {
	const void *data;
	size_t len;
};

/* One message to receive in a batch: buf/cap in, msg out. */
struct kmq_rbuf {
	void *buf;
	size_t cap;
	struct kmq_msg msg;	/* msg.data == buf on success */
};

/* A message being written in place: kmq_reserve() fills data/cap. */
struct kmq_wbuf {
	void *data;		/* where to write the body: cap bytes */
	uint32_t cap;		/* the queue's max_msg_size */
	uint32_t slot;		/* private: the slot reserved */
};

/* Timeouts are in nanoseconds: 0 never sleeps (-EAGAIN), < 0 waits with no
 * limit, > 0 waits at most that long (-ETIMEDOUT). */
#define KMQ_FOREVER	(-1LL)

/* kmq_create - create queue @name with @attr (NULL: defaults). -EEXIST if it
 * exists with another geometry (or at all, with KMQ_CREATE_EXCL), -EINVAL
 * for a bad name or geometry, or for KMQ_CREATE_FIFO without a name ending
 * in ".fifo" or such a name without it, -ENOSPC/-EDQUOT past the module's
 * (or kmqd's) limits, -ENODEV when kmq.ko is not loaded, -ECONNREFUSED when
 * kmqd is not running (shm backend). */
int kmq_create(const char *name, const struct kmq_qattr *attr);

/* kmq_delete - remove the name; open handles keep working until closed. */
int kmq_delete(const char *name);

/* kmq_open - open queue @name for KMQ_SEND and/or KMQ_RECV. Maps the queue
 * when the caller may (read and write permission) and the queue allows it
 * (FIFO queues do not) unless KMQ_COPY is given; otherwise falls back to the
 * copying path. *@out is set on success. */
int kmq_open(const char *name, unsigned int flags, struct kmq **out);

/* kmq_close - release everything @q holds and free it. NULL is fine.
 * Messages borrowed on a mapped queue and not released go back to the
 * queue for redelivery (as when a process dies); on a copying queue a
 * borrow was a private copy, already taken from the queue: it is freed.
 * Reservations (kmq_reserve) not committed are given back unsent, the same
 * way: their slots by the queue's repair, copying buffers freed. */
void kmq_close(struct kmq *q);

/* kmq_fd - the queue fd, for poll()/epoll: EPOLLIN when a message is ready,
 * EPOLLOUT when a slot is free. With EPOLLET, call kmq_prepare_wait() before
 * each epoll_wait(). On the shm backend it is a wake-up FIFO: call
 * kmq_prepare_wait() (which drains it and says what holds already) before
 * each poll, and poll for EPOLLIN only; it becomes readable when a peer
 * wakes the events prepared for. */
int kmq_fd(const struct kmq *q);

/* kmq_mapped - 1 when @q uses the shared-memory fast path, 0 if copying. */
int kmq_mapped(const struct kmq *q);

/* kmq_send - send @len bytes from @data. -EMSGSIZE above max_msg_size,
 * -EAGAIN/-ETIMEDOUT when full past @timeout_ns (or when a receiver that
 * stalled mid-receive keeps the queue's next place), -EPERM without KMQ_SEND. */
int kmq_send(struct kmq *q, const void *data, size_t len, int64_t timeout_ns);

/* kmq_recv - copy the next message into @buf (@cap bytes) and describe it in
 * @msg (may be NULL). Returns the body length. -EMSGSIZE (message left in
 * the queue) when it does not fit, -EAGAIN/-ETIMEDOUT when empty. */
int kmq_recv(struct kmq *q, void *buf, size_t cap, struct kmq_msg *msg,
	     int64_t timeout_ns);

/* kmq_borrow - lend the next message in place (mapped queues; copying
 * queues get a private copy, taken from the queue at once). Must be given
 * back with kmq_release(); -EINVAL if @msg is not a borrow of @q. */
int kmq_borrow(struct kmq *q, struct kmq_msg *msg, int64_t timeout_ns);

/* kmq_release - return a borrowed message's slot to the queue (at once, or
 * on a later call or close if a stalled sender holds its place). */
int kmq_release(struct kmq *q, struct kmq_msg *msg);

/* kmq_send_id - kmq_send() that also stores the message's id in *@id (if
 * not NULL): the id a receiver sees in struct kmq_msg.id. */
int kmq_send_id(struct kmq *q, const void *data, size_t len, uint64_t *id,
		int64_t timeout_ns);

/* kmq_reserve - claim a free slot to write a message in place, with no copy:
 * @w->data points into the slot (mapped queues) or to a private buffer that
 * kmq_commit() sends by copy (copying queues), @w->cap bytes long. Until
 * kmq_commit() or kmq_abort(), the slot is this handle's: a handle that
 * closes or a process that dies holding it gives it back unsent.
 * -EAGAIN/-ETIMEDOUT when full past @timeout_ns (or when a receiver that
 * stalled mid-receive keeps the queue's next place; copying queues do not
 * wait here), -EPERM without KMQ_SEND, -EINVAL for NULL. */
int kmq_reserve(struct kmq *q, struct kmq_wbuf *w, int64_t timeout_ns);

/* kmq_commit - send the first @len bytes written at @w->data as one message
 * and end the reservation; stores its id in *@id if not NULL. Never waits.
 * -EMSGSIZE when @len > @w->cap, or -EAGAIN when a receiver that stalled
 * mid-receive keeps the queue's next place (copying queues: also when the
 * queue is full): the reservation stays, to commit again later or abort.
 * -EINVAL for NULL or a @w that is not a reservation of @q (never reserved,
 * already committed or aborted). Wakes receivers as kmq_send() does. */
int kmq_commit(struct kmq *q, struct kmq_wbuf *w, size_t len, uint64_t *id);

/* kmq_abort - end the reservation @w without sending: the slot goes back to
 * the queue. -EINVAL as for kmq_commit(). */
int kmq_abort(struct kmq *q, struct kmq_wbuf *w);

/* kmq_send_batch - send up to @n messages; returns how many were sent (at
 * least one, waiting up to @timeout_ns for the first) or -errno. */
int kmq_send_batch(struct kmq *q, const struct kmq_iov *msgs, unsigned int n,
		   int64_t timeout_ns);

/* kmq_recv_batch - receive up to @n messages; returns how many (at least
 * one, waiting up to @timeout_ns for the first) or -errno. */
int kmq_recv_batch(struct kmq *q, struct kmq_rbuf *bufs, unsigned int n,
		   int64_t timeout_ns);

/* kmq_wait events */
#define KMQ_READABLE	1
#define KMQ_WRITABLE	2

/* kmq_wait - sleep until one of @events holds or @timeout_ns passes.
 * Returns the events that hold, 0 on timeout, or -errno (-EINTR). */
int kmq_wait(struct kmq *q, int events, int64_t timeout_ns);

/* kmq_prepare_wait - arm the wake-up flags before an external sleep
 * (epoll_wait with EPOLLET). Returns the events already holding. */
int kmq_prepare_wait(struct kmq *q, int events);

/* kmq_info - describe queue @name (kernel: struct kmq_info). */
int kmq_info(const char *name, struct kmq_info *info);

/* kmq_qinfo - describe the open queue @q, including its client id. */
int kmq_qinfo(const struct kmq *q, struct kmq_info *info);

/* kmq_list - fill up to @n infos starting at queue index @start; returns
 * how many were filled, and the number that exist in *@total if not NULL. */
int kmq_list(struct kmq_info *infos, unsigned int n, unsigned int start,
	     unsigned int *total);

/* kmq_name_valid - 1 if @name is 1..KMQ_NAME_MAX of [A-Za-z0-9_.-]. */
int kmq_name_valid(const char *name);

/* kmq_strerror - a message for a negative errno that libkmq returned,
 * worded for kmq where that helps (-ENODEV: kmq.ko is not loaded). Static
 * storage, thread-safe. */
const char *kmq_strerror(int err);

/* ---- SQS semantics (uapi header: "SQS semantics") ------------------------
 *
 * Leases, visibility, dead letters, delay, retention, FIFO groups and
 * deduplication. Plain kmq_send/kmq_recv keep working on standard queues
 * and pay nothing for any of it: a plain receive is a receive and delete at
 * once, and a plain send is never delayed nor held to the policy's
 * max_msg_size (as KMQ_IOC_SEND); use kmq_send_msgs() for the queue's
 * DelaySeconds and MaximumMessageSize. The calls below go through the queue's owner (kmq.ko's SQS ioctls, or kmqd)
 * except kmq_send_msgs() on a mapped standard queue without delay, which
 * writes attributes and body in place on the fast path.
 * Backend "shm": kmqd serves them (its SQS commands) with the same rules.
 */

/* kmq_receive() timeout that means "the queue's ReceiveMessageWaitTimeSeconds"
 * (policy.wait_s, read at each such call: a few more system calls). */
#define KMQ_WAIT_QUEUE	(-2LL)

/* A message attribute: @type is "String", "Number" or "Binary", optionally
 * with ".suffix" (printable ASCII); String/Number values are text (not
 * NUL-terminated), 1 byte or more. Names are 1..255 characters (the
 * encoding's length is one byte), types at most 255; the rest as the uapi
 * header's "Message attributes" says. Decoded names and types point into the
 * buffer and are not NUL-terminated either: use name_len and type_len. */
struct kmq_attr {
	const char *name;
	const char *type;
	const void *value;
	uint32_t len;
	uint32_t name_len;	/* decode fills; encode: 0 means strlen */
	uint32_t type_len;	/* decode fills; encode: 0 means strlen */
};

/* One message to send with SQS options (kmq_send_msgs). */
struct kmq_out {
	const void *body;
	size_t len;
	const struct kmq_attr *attrs;	/* up to KMQ_ATTR_MAX */
	unsigned int nattrs;
	int delay_s;		/* 0..KMQ_DELAY_MAX, or -1: the queue's default
				 * (FIFO queues take only that: -1) */
	const char *group;	/* FIFO: MessageGroupId, required */
	const char *dedup;	/* FIFO: MessageDeduplicationId; NULL:
				 * content-based (KMQ_POL_CONTENT_DEDUP) */
	/* out */
	int status;		/* 0 or this message's -errno */
	int duplicate;		/* FIFO: 1 when deduplicated */
	uint64_t id;
	uint64_t seq;		/* FIFO sequence number */
};

/* One message received with a lease (kmq_receive): the caller's buffers in,
 * the message out. */
struct kmq_in {
	void *buf;		/* body: cap bytes */
	size_t cap;
	void *abuf;		/* encoded attributes: acap bytes (may be NULL
				 * with acap 0 when none are wanted) */
	size_t acap;
	/* out */
	int status;		/* 0, or -EMSGSIZE (len/attr_len say what is
				 * needed; the message is leased: receipt is
				 * valid) */
	uint32_t len;
	uint32_t attr_len;
	uint32_t receive_count;
	uint32_t sender_pid;
	uint32_t sender_uid;
	uint64_t id;
	uint64_t receipt;	/* for kmq_delete_msgs/kmq_change_visibility */
	uint64_t sent_ns;	/* CLOCK_REALTIME */
	uint64_t first_receive_ns;
	uint64_t seq;		/* FIFO */
	char group[KMQ_GROUP_LEN];	/* FIFO */
};

/* kmq_get_policy / kmq_set_policy - a queue's policy (struct kmq_policy):
 * read it, change fields, write it back. Setting needs the owner; -EINVAL
 * for out-of-range values, -ENOENT for a redrive target that does not
 * exist. */
int kmq_get_policy(const char *name, struct kmq_policy *p);
int kmq_set_policy(const struct kmq_policy *p);

/* kmq_send_msgs - send up to KMQ_SQS_BATCH_MAX messages with attributes,
 * delays, group and deduplication ids. Every message gets its own status;
 * returns how many were accepted (duplicates count as accepted), or -errno
 * when none could be tried. Needs KMQ_SEND. Never waits for room (-EAGAIN).
 * On a mapped standard queue whose policy has no delay, messages without
 * a delay, group or deduplication id go by the fast path (in place, no
 * system call; checked against the policy's max_msg_size as the kernel
 * mirrors it in the queue header), the others through the owner; a
 * batch's order may then change. */
int kmq_send_msgs(struct kmq *q, struct kmq_out *msgs, unsigned int n);

/* kmq_receive - receive up to @n (<= KMQ_SQS_BATCH_MAX) messages with a
 * lease of @visibility_s seconds (-1: the queue's default), waiting up to
 * @timeout_ns for the first (KMQ_WAIT_QUEUE: the queue's wait_s). Returns
 * how many were received, -EAGAIN/-ETIMEDOUT when none came. */
int kmq_receive(struct kmq *q, struct kmq_in *msgs, unsigned int n,
		int visibility_s, int64_t timeout_ns);

/* kmq_delete_msgs - end the leases of @n receipts: the messages are gone.
 * @status (may be NULL) gets 0, -ENOENT (not in flight: deleted, expired,
 * or a stale handle) or -EINVAL per receipt. Returns how many were deleted. */
int kmq_delete_msgs(struct kmq *q, const uint64_t *receipts, int *status,
		    unsigned int n);

/* kmq_change_visibility - make the leases of @n receipts end
 * @visibility_s (0..KMQ_VISIBILITY_MAX) seconds from now; 0 makes them
 * visible at once. Statuses and result as kmq_delete_msgs(). */
int kmq_change_visibility(struct kmq *q, const uint64_t *receipts,
			  unsigned int visibility_s, int *status,
			  unsigned int n);

/* kmq_purge - drop every visible, delayed and leased message of @name. */
int kmq_purge(const char *name);

/* kmq_move - move up to @max visible messages from @src to @dst, keeping
 * their attributes, ids and sent times (redrive). Returns how many moved. */
int kmq_move(const char *src, const char *dst, unsigned int max);

/* kmq_attrs_encode - encode @n attributes (checked as the uapi header
 * says: -EINVAL) into @buf; returns the bytes used, -ENOSPC if @cap is
 * too small. kmq_attrs_decode - parse @len bytes (from kmq_in.abuf) into
 * up to @max attributes pointing into @buf; returns how many (0 for @len
 * 0), -ENOSPC when there are more than @max, -EINVAL when malformed or
 * breaking any rule of the encoding (a mapped sender may write anything). */
int kmq_attrs_encode(const struct kmq_attr *attrs, unsigned int n, void *buf,
		     size_t cap);
int kmq_attrs_decode(const void *buf, size_t len, struct kmq_attr *attrs,
		     unsigned int max);

/* ---- Topics (kmqd: SNS-style fan-out; include/kmq/topic.h) ---------------
 *
 * A topic fans each published message out to its subscriptions (queues,
 * HTTP endpoints, local handlers), each filtered by its filter policy.
 * kmqd serves topics on both backends; publishing goes through the topic's
 * inbox queue on the shared-memory fast path, not through kmqd's socket.
 */

/* A topic opened for publishing. */
struct kmq_topic;

#define KMQ_PUBLISH_BATCH_MAX	10

/* One message to publish. */
struct kmq_pub_msg {
	const void *body;
	size_t len;
	const char *subject;		/* NULL: none; at most 100 bytes */
	const struct kmq_attr *attrs;	/* up to KMQ_ATTR_MAX, as kmq_out */
	unsigned int nattrs;
	const char *group;		/* FIFO topics: MessageGroupId (required) */
	const char *dedup;		/* FIFO topics: MessageDeduplicationId
					 * (required unless the topic has
					 * ContentBasedDeduplication: kmqd
					 * drops a record with neither) */
	/* out */
	int status;			/* 0 or this message's -errno */
	uint64_t id;			/* the inbox message id */
	char message_id[37];		/* the SNS MessageId every subscriber
					 * sees (envelope, x-amz-sns-message-id,
					 * KMQ_MESSAGE_ID): 36 characters */
};

/* kmq_topic_create - create topic @name (1..74 of [A-Za-z0-9_-], FIFO
 * topics ending in ".fifo") and its inbox queue with @inbox's geometry
 * and mode (NULL or zeroes: 256 messages of up to 64 KiB, mode 0600: who
 * may publish is who may send to the inbox). @attributes_json: NULL or a
 * JSON object of string attributes (DisplayName, FifoTopic, ...). Creating
 * an existing topic succeeds. -ECONNREFUSED when kmqd is not running;
 * -EINVAL with kmqd's reason available through kmq_topic_call(). */
int kmq_topic_create(const char *name, const struct kmq_qattr *inbox,
		     const char *attributes_json);

/* kmq_topic_delete - delete topic @name, its subscriptions and its inbox
 * (with what it holds undelivered). */
int kmq_topic_delete(const char *name);

/* kmq_topic_open - open topic @name for publishing (its inbox, mapped
 * when the caller may). kmq_topic_close - close it; NULL is fine. */
int kmq_topic_open(const char *name, struct kmq_topic **out);
void kmq_topic_close(struct kmq_topic *t);

/* kmq_publish - publish up to KMQ_PUBLISH_BATCH_MAX messages in order. A
 * message counts as published once kmqd is responsible for it (on the
 * inbox; it survives a kmqd crash); kmqd delivers at least once. Returns
 * how many were published (they are the first ones; each has its status,
 * its inbox id and its MessageId),
 * waiting up to @timeout_ns for inbox room for each, or -errno when the
 * first was not: -EMSGSIZE (larger than the inbox takes), -EINVAL (bad
 * attributes, subject or ids), -EAGAIN/-ETIMEDOUT (the inbox is full:
 * kmqd is behind or not running). */
int kmq_publish(struct kmq_topic *t, struct kmq_pub_msg *msgs, unsigned int n,
		int64_t timeout_ns);

/* kmq_topic_call - one administrative request to kmqd: @request is a JSON
 * object {"op": ...} (include/kmq/topic.h lists them). Returns kmqd's
 * status; *@reply (free() it) is the JSON reply on success, kmqd's reason
 * on failure (NULL when there is none). */
int kmq_topic_call(const char *request, char **reply);

#ifdef __cplusplus
}
#endif

#endif /* KMQ_H */
