/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The socket protocol between libkmq and kmqd, both built from this tree.
 * This header is its specification; a reader learns the protocol from it.
 *
 * == Transport ==
 *
 * A Unix SOCK_STREAM socket, default KMQ_WIRE_SOCKET (libkmq: $KMQ_SOCKET,
 * else the default). Stream rather than SEQPACKET because a frame may carry
 * a 1 MiB message (KMQ_MSG_MAX) and a datagram cannot exceed the socket's
 * send buffer, which an unprivileged client cannot raise that far; the
 * fixed header carries the length, so framing costs one read of
 * KMQ_WIRE_HDR_SIZE bytes. kmqd identifies the peer with SO_PEERCRED (and
 * SO_PEERGROUPS) when it connects; nothing in a frame claims an identity.
 *
 * == Frames ==
 *
 * Every frame is a struct kmq_wire_hdr followed by hdr.len body bytes
 * (0..KMQ_WIRE_BODY_MAX). A client sends a request and reads its reply
 * before it sends the next (one outstanding request per connection). A
 * reply has cmd = request cmd | KMQ_WIRE_REPLY, the request's seq, and
 * status 0 or a negative errno; a failed reply's body is empty or a
 * NUL-terminated message for humans (at most KMQ_WIRE_TEXT_MAX bytes).
 * All integers are host-endian (both ends are on one host); reserved fields
 * must be zero. File descriptors travel with SCM_RIGHTS on the first byte of
 * a reply (OPEN only).
 *
 * kmqd checks every request: magic, version, a known command, length within
 * bounds and exact for the command, zero reserved fields and flags, valid
 * names (1..KMQ_NAME_MAX of [A-Za-z0-9_.-], zero-padded). A frame that
 * fails (a frame libkmq never sends) is answered with KMQ_WIRE_ERROR (status
 * -EPROTO or -EINVAL, body: the reason) and the connection is closed; so is
 * a connection whose peer half-closes in the middle of a frame. Errors that
 * a valid request can meet (-ENOENT, -EACCES, -EAGAIN...) are plain replies
 * and the connection stays.
 *
 * == Commands (body of the request -> body of the reply) ==
 *
 * CREATE     struct kmq_create (open_flags 0)          -> empty
 * DELETE     struct kmq_name                           -> empty
 * INFO       struct kmq_name                           -> struct kmq_info
 *            (an all-zero name: this connection's open queue, with its
 *            client_id and open_flags)
 * LIST       struct kmq_wire_list                      -> struct
 *            kmq_wire_list then list.count struct kmq_info
 * OPEN       struct kmq_open (flags: SEND|RECV|MAP)    -> struct kmq_info,
 *            with SCM_RIGHTS: [wake FIFO, queue file (O_RDWR), notify
 *            FIFO] when KMQ_OPEN_MAP was granted, else [wake FIFO]
 *            (info.open_flags says which). At most one
 *            OPEN per connection: the connection is the opener's handle,
 *            and its hang-up (close or death) makes kmqd repair what the
 *            client id left (the uapi header's "Crash repair").
 * REATTACH   struct kmq_wire_reattach                  -> struct kmq_info
 *            after a kmqd restart, a mapped client binds its client id to
 *            this new connection; allowed only to the process (pid) that
 *            opened it.
 * SEND       struct kmq_wire_io, then io.count times (struct kmq_wire_msg,
 *            msg.len body bytes, zero padding to 8 bytes)
 *                                    -> struct kmq_wire_io (count: sent),
 *            then that many __u64 message ids. Never waits: -EAGAIN when
 *            no slot is free. Needs an OPEN with KMQ_OPEN_SEND.
 * RECV       struct kmq_wire_io, then io.count __u32 rooms (bytes each
 *            buffer can take), zero-padded to 8 bytes
 *                                    -> struct kmq_wire_io (count:
 *            received), then that many (struct kmq_wire_msg, body, padding).
 *            Never waits (-EAGAIN when empty). A message longer than its
 *            room stays first in line: -EMSGSIZE, and the body is an io
 *            with count 0 and one kmq_wire_msg whose len is the length.
 *            SEND and RECV are the copying path for clients that may not
 *            map: kmqd does the ring operations as its own client id
 *            (KMQ_WIRE_KMQD_ID) and reports the peer's pid and uid as sender.
 * WAIT       struct kmq_wire_wait (events: KMQ_READABLE|KMQ_WRITABLE,
 *            timeout_ns < 0: no limit) -> struct kmq_wire_wait (events that
 *            hold; 0 on timeout). kmqd arms the queue's need-wakeup flags
 *            for the caller, so a WAIT with timeout 0 also prepares the
 *            wake FIFO for poll().
 * SUBSCRIBE  struct kmq_wire_sub                        -> empty; then
 *            kmqd sends KMQ_WIRE_EVENT frames (seq 0, body struct
 *            kmq_wire_event) whenever something happens (queue created,
 *            deleted, a client repaired, config reloaded...). A subscriber
 *            that does not read loses events, not its connection.
 *
 * SQS semantics: the SQS ioctls of the uapi header, with the same rules,
 * errors and counters, served by kmqd. User pointers of the uapi structs
 * (kmq_sqsio.msgs, kmq_sqsmsg.body/attrs, kmq_receipts.receipts) must be 0:
 * the data follows in the frame instead.
 *
 * GET_POLICY struct kmq_name                           -> struct kmq_policy
 * SET_POLICY struct kmq_policy (name and dlq fields valid or, dlq, all
 *            zero; reserved zero)                      -> empty
 * PURGE      struct kmq_name                           -> empty
 * MOVE       struct kmq_move (count >= 1)              -> struct kmq_move
 *            (count: moved)
 * SQS_SEND   struct kmq_sqsio (flags: KMQ_IO_NONBLOCK; visibility_s 0),
 *            then io.count times (struct kmq_sqsmsg with its in fields,
 *            attr_len attribute bytes, zero padding to 8, len body bytes,
 *            zero padding to 8)  -> struct kmq_sqsio (done: count), then
 *            io.count struct kmq_sqsmsg (status, id, seq, flags). Needs an
 *            OPEN with KMQ_OPEN_SEND. Never waits for a free slot
 *            (status -EAGAIN). Batches are cut by the client to fit
 *            KMQ_WIRE_BODY_MAX.
 * SQS_RECV   struct kmq_sqsio (flags: KMQ_IO_NONBLOCK, KMQ_SQSIO_VISIBILITY;
 *            timeout_ns as kmq_sqsio: long polling, parked in kmqd as a
 *            WAIT is), then io.count struct kmq_sqsmsg whose len and
 *            attr_len are the rooms, every other field zero
 *                                    -> struct kmq_sqsio (done: received),
 *            then done times (struct kmq_sqsmsg, and when its status is 0:
 *            attr_len bytes, padding to 8, len bytes, padding to 8).
 *            -EAGAIN / -ETIMEDOUT when none came. kmqd may return fewer
 *            messages than asked to keep the reply within
 *            KMQ_WIRE_BODY_MAX. Needs KMQ_OPEN_RECV.
 * SQS_DELETE, SQS_CHVIS
 *            struct kmq_receipts, then count struct kmq_receipt (status 0)
 *                                    -> struct kmq_receipts (done), then
 *            count struct kmq_receipt (status). Needs KMQ_OPEN_RECV.
 *
 * With kmq.ko serving queues (the kernel backend) kmqd serves none itself:
 * every queue command is answered -EOPNOTSUPP; SUBSCRIBE works.
 *
 * == Waking (shm backend) ==
 *
 * The need-wakeup protocol of the uapi header, with the kernel's part done
 * by the parties themselves: a sleeper arms hdr.rd_wait (wr_wait), rechecks,
 * and FUTEX_WAITs (shared, not FUTEX_PRIVATE) on the flag while it is 1; a
 * waker that exchanged the flag from 1 to 0 FUTEX_WAKEs every sleeper on it
 * and writes one byte to each of the queue's two FIFOs (EAGAIN when full is
 * fine: the reader has not looked yet): the wake FIFO, which is kmq_fd() and
 * which only poll()ers drain (kmq_prepare_wait), and the notify FIFO, which
 * only kmqd drains (its parked WAITs). FIFOs, not eventfds: they live in the
 * state directory, so clients from before a kmqd restart and the new kmqd
 * still share them. A waiter that armed a flag and then found its event
 * holding passes the wake on (exchange, wake), so a sleeper that armed the
 * same flag just before is not left asleep beside a ready message.
 */
#ifndef KMQ_WIRE_H
#define KMQ_WIRE_H

#include <linux/types.h>
#include <linux/kmq.h>

#define KMQ_WIRE_SOCKET		"/run/kmq/kmqd.sock"
#define KMQ_WIRE_MAGIC		0x57514d4bU	/* "KMQW" little endian */
#define KMQ_WIRE_VERSION	1
#define KMQ_WIRE_HDR_SIZE	24
/* Largest body: one KMQ_MSG_MAX message with room to spare; SEND and RECV
 * batches are cut to fit. */
#define KMQ_WIRE_BODY_MAX	(2U << 20)
#define KMQ_WIRE_TEXT_MAX	256
#define KMQ_WIRE_LIST_MAX	64	/* infos per LIST reply */
#define KMQ_WIRE_FDS_MAX	3	/* fds on one reply */
/* The client id kmqd uses for the copying path on every queue. */
#define KMQ_WIRE_KMQD_ID	1

enum kmq_wire_cmd {
	KMQ_WIRE_UNSPEC = 0,
	KMQ_WIRE_CREATE,
	KMQ_WIRE_DELETE,
	KMQ_WIRE_INFO,
	KMQ_WIRE_LIST,
	KMQ_WIRE_OPEN,
	KMQ_WIRE_REATTACH,
	KMQ_WIRE_SEND,
	KMQ_WIRE_RECV,
	KMQ_WIRE_WAIT,
	KMQ_WIRE_SUBSCRIBE,
	/* SQS semantics (the uapi header's "SQS semantics"), shm backend */
	KMQ_WIRE_GET_POLICY,
	KMQ_WIRE_SET_POLICY,
	KMQ_WIRE_PURGE,
	KMQ_WIRE_MOVE,
	KMQ_WIRE_SQS_SEND,
	KMQ_WIRE_SQS_RECV,
	KMQ_WIRE_SQS_DELETE,
	KMQ_WIRE_SQS_CHVIS,
	__KMQ_WIRE_CMD_LAST,
	/* kmqd to client only */
	KMQ_WIRE_EVENT = 0x100,	/* an event for a subscriber */
	KMQ_WIRE_ERROR = 0x101,	/* protocol error; the connection closes */
};
#define KMQ_WIRE_CMD_MAX	(__KMQ_WIRE_CMD_LAST - 1)
#define KMQ_WIRE_REPLY		0x8000	/* ORed into a reply's cmd */

struct kmq_wire_hdr {
	__u32 magic;			/* KMQ_WIRE_MAGIC */
	__u16 version;			/* KMQ_WIRE_VERSION */
	__u16 cmd;			/* enum kmq_wire_cmd [| KMQ_WIRE_REPLY] */
	__u32 len;			/* body bytes that follow */
	__u32 seq;			/* request's, echoed in its reply */
	__s32 status;			/* reply: 0 or -errno; request: 0 */
	__u32 reserved;
};

struct kmq_wire_list {
	__u32 start;			/* request: index of the first queue */
	__u32 count;			/* request: room (<= LIST_MAX); reply:
					 * infos that follow */
	__u32 total;			/* reply: queues that exist; request 0 */
	__u32 reserved0;
	__u64 reserved[2];
};

struct kmq_wire_reattach {
	char name[KMQ_NAME_LEN];
	__u32 client_id;		/* the id the client was given */
	__u32 flags;			/* 0 */
	__u64 reserved[2];
};

struct kmq_wire_io {
	__u32 count;			/* 1..KMQ_BATCH_MAX in a request */
	__u32 flags;			/* 0 */
	__u64 reserved[2];
};

struct kmq_wire_msg {
	__u32 len;			/* body bytes that follow */
	__u32 flags;			/* 0 */
	__u64 id;			/* reply: message id */
	__u64 sent_ns;			/* RECV reply */
	__u32 sender_pid;		/* RECV reply */
	__u32 sender_uid;		/* RECV reply */
	__u64 reserved;
};

struct kmq_wire_wait {
	__u32 events;			/* KMQ_READABLE | KMQ_WRITABLE (kmq.h) */
	__u32 flags;			/* 0 */
	__s64 timeout_ns;		/* < 0: no limit; 0: just look (and arm) */
	__u64 reserved[2];
};

struct kmq_wire_sub {
	__u32 flags;			/* 0: every event */
	__u32 reserved0;
	__u64 reserved[2];
};

#define KMQ_WIRE_EVENT_TYPE	32
#define KMQ_WIRE_EVENT_DETAIL	160

struct kmq_wire_event {
	char type[KMQ_WIRE_EVENT_TYPE];		/* "create", "delete", ... */
	char queue[KMQ_NAME_LEN];		/* "" when about no queue */
	char detail[KMQ_WIRE_EVENT_DETAIL];	/* human-readable */
	__u64 time_ns;				/* CLOCK_REALTIME */
};

/* ==== Topics (daemon/topic.c) ============================================
 * Outside the enum above, so that commands added there do not move it.
 * TOPIC      a NUL-terminated JSON request -> a NUL-terminated JSON reply;
 *            served on both backends. include/kmq/topic.h specifies it. */
#define KMQ_WIRE_TOPIC		0x40
/* ==== end of topics ====================================================== */

/* Bytes of @len rounded up to the 8-byte padding between messages. */
#define KMQ_WIRE_PAD8(len)	(((__u64)(len) + 7) & ~7ULL)

#endif /* KMQ_WIRE_H */
