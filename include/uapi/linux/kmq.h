/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmq: kernel-assisted message queues. This header is the ABI and its
 * specification: the ioctls of /dev/kmq, the memory layout of a queue shared
 * between the kernel and every process that maps it, and the protocol that
 * producers and consumers follow on that memory.
 *
 * == Objects ==
 *
 * /dev/kmq (the "control fd") names queues: KMQ_IOC_CREATE, KMQ_IOC_OPEN,
 * KMQ_IOC_DELETE, KMQ_IOC_LIST, KMQ_IOC_INFO. KMQ_IOC_OPEN (or CREATE with
 * open_flags) returns a "queue fd", one per opener. A queue fd is the unit of
 * trust and of crash repair: it carries a client id (1..KMQ_CLIENT_MAX) that
 * the opener writes into the slots it holds, and when the last reference to
 * it goes away (close and munmap, or process death) the kernel gives back
 * whatever that client left half-done. Each process should open its own
 * queue fd; a child sharing its parent's fd shares its client id.
 *
 * Queue fd operations: KMQ_IOC_SEND / KMQ_IOC_RECV (the copying path, for
 * clients that do not map the queue), KMQ_IOC_WAKE, KMQ_IOC_INFO, poll()
 * (EPOLLIN: a message is ready, EPOLLOUT: a slot is free) and mmap() of the
 * whole queue at offset KMQ_OFF_QUEUE when opened with KMQ_OPEN_MAP.
 *
 * Names are 1..KMQ_NAME_MAX characters of [A-Za-z0-9_.-], NUL-terminated in
 * a KMQ_NAME_LEN byte field whose remaining bytes must be zero.
 *
 * Permissions follow POSIX message queues: sending needs write permission,
 * receiving needs read permission, mapping needs both (a mapping can do
 * anything to the queue's contents, so it is given only to clients trusted
 * with both directions). Owner uid/gid are the creator's fsuid/fsgid.
 * Deleting needs to be the owner or CAP_SYS_ADMIN. Deleting removes the name;
 * the memory goes when the last queue fd and mapping are gone.
 *
 * All reserved fields must be zero on input (else -EINVAL) and are zeroed on
 * output. Unknown flag bits are rejected with -EINVAL. New capabilities are
 * announced with KMQ_FEAT_* bits in struct kmq_info.features, never with a
 * version bump; reserved fields become meaningful only under a feature bit.
 *
 * == Memory layout (struct kmq_hdr at offset 0 of the mapping) ==
 *
 *   [0, 4096)                         struct kmq_hdr
 *   [free_off,  free_off  + 8*cap)    free ring: cells naming free slots
 *   [ready_off, ready_off + 8*cap)    ready ring: cells naming published slots
 *   [slots_off, slots_off + slot_size*cap)
 *                                     the slot pool: struct kmq_slot + payload
 *
 * cap (capacity) is a power of two, 1..KMQ_CAPACITY_MAX. There are exactly
 * cap slots, so neither ring can hold more entries than it has cells. Every
 * slot is, at any time, in exactly one place: a free-ring cell, a ready-ring
 * cell, held by a client (struct kmq_slot.owner), or held by the kernel
 * (later: leases, delays). Offsets and sizes are the kernel's to choose: read
 * them from struct kmq_info (or the header, which mirrors it), never assume.
 *
 * == Ring protocol ==
 *
 * A ring is cap 64-bit cells plus two 64-bit counters, head (next position
 * to pop) and tail (next position to push), each on its own cache line.
 * Position p lives in cell p & (cap - 1). A cell holds one of three kinds:
 *
 *   EMPTY  (p << 2) | 0                 position p may be pushed into it
 *   FULL   (p << 22) | (idx << 2) | 1   position p holds slot idx
 *   TAKEN  (p << 42) | (owner << 22) | (idx << 2) | 2
 *                                       position p's slot idx was popped by
 *                                       client owner, who has not yet
 *                                       recorded it in the slot header
 *
 * (positions are truncated to the bits available: 62, 42 and 22 bits). The
 * single linearisation point of push and pop is a 64-bit compare-and-swap on
 * the cell; head and tail are hints that anyone may advance by one with a
 * CAS once the cell at that position shows it was used ("helping"), so a
 * process that dies at any instant never leaves a ring stalled:
 *
 *   push(idx):  T = tail; c = cell[T]
 *               c == EMPTY(T)           CAS c -> FULL(T, idx); CAS tail T -> T+1
 *               c == FULL(T)/TAKEN(T)/EMPTY(T + cap)   help: CAS tail T -> T+1
 *               c == TAKEN(T - cap)     the popper of T - cap has not
 *                                       released the cell yet: retry later
 *   pop():      H = head; c = cell[H]
 *               c == FULL(H, idx)       CAS c -> TAKEN(H, me, idx);
 *                                       CAS head H -> H+1; then write
 *                                       slot[idx].owner/state, then
 *                                       store-release cell = EMPTY(H + cap)
 *               c == TAKEN(H)/EMPTY(H + cap)          help: CAS head H -> H+1
 *               c == EMPTY(H) or TAKEN(H - cap)       ring is empty
 *
 * Anything else means the position read was stale: reread it. A ring never
 * overflows (cap slots, cap cells), so a FULL cell at the tail position of a
 * previous lap can only come from corruption.
 *
 * Memory ordering: the cell CAS is a full barrier (acquire + release). A
 * producer's payload and slot header stores happen before its push CAS; a
 * consumer reads them after its pop CAS. The TAKEN -> EMPTY store is a
 * release that orders the popper's slot-header stores before the cell can
 * be reused.
 *
 * Sending:   pop the free ring, set slot.owner = me, slot.state =
 *            KMQ_SLOT_CLAIMED, release the cell; write the payload and the
 *            header fields; set slot.state = KMQ_SLOT_READY; push the slot
 *            onto the ready ring; then wake readers if hdr.rd_wait says so.
 * Receiving: pop the ready ring, set slot.owner = me, slot.state =
 *            KMQ_SLOT_BORROWED, release the cell; read the payload in place
 *            (zero-copy borrow) or copy it out; set slot.state =
 *            KMQ_SLOT_FREE; push the slot onto the free ring; then wake
 *            writers if hdr.wr_wait says so.
 *
 * Waking (the need-wakeup protocol): a process about to sleep for messages
 * sets hdr.rd_wait = 1, issues a full barrier, checks the ring once more and
 * only then sleeps (poll() on the queue fd does exactly this in the kernel).
 * A producer, after its push and a full barrier, reads hdr.rd_wait; only if
 * it is set does it atomically exchange it with 0 and, if it got 1, call
 * KMQ_IOC_WAKE(KMQ_WAKE_READERS). A busy peer therefore costs no system
 * call. hdr.wr_wait and KMQ_WAKE_WRITERS are the same for free slots.
 *
 * Crash repair: when a queue fd is released the kernel, under the queue's
 * repair lock, (1) finishes every TAKEN cell owned by that client by
 * recording it in the slot header and releasing the cell, then (2) for every
 * slot whose header names that client and that is in no ring cell: a
 * KMQ_SLOT_CLAIMED or KMQ_SLOT_FREE slot goes back to the free ring, a
 * KMQ_SLOT_READY slot (written, push not done) or KMQ_SLOT_BORROWED slot
 * (received, not released) goes to the ready ring: such messages are
 * delivered again, at least once, possibly out of their original order.
 * A push that must wait for a popper of the previous lap to release its
 * cell (that popper may be stopped) is retried in the background until it
 * is done, after the release has returned: a slot is never given up for
 * being blocked, and the client id stays reserved until all are back.
 *
 * Trust: the kernel reads every cell and header field once, bounds-checks
 * slot indices, lengths and states, and skips (and counts, in
 * kmq_info.corrupt) whatever is not valid. A process that scribbles over a
 * queue it mapped can lose or garble that queue's messages, never harm the
 * kernel or another queue.
 */
#ifndef _UAPI_LINUX_KMQ_H
#define _UAPI_LINUX_KMQ_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define KMQ_DEVICE		"/dev/kmq"
#define KMQ_ABI_VERSION		1
#define KMQ_MAGIC		0x314d514bU	/* "KMQ1" little endian */

#define KMQ_NAME_MAX		80	/* characters, NUL not included */
#define KMQ_NAME_LEN		96	/* bytes of a name field */
#define KMQ_MSG_MAX		(1U << 20)	/* largest max_msg_size */
#define KMQ_CAPACITY_MAX	(1U << 20)	/* most slots in a queue */
#define KMQ_CLIENT_MAX		((1U << 20) - 1)	/* client ids 1..MAX */
#define KMQ_BATCH_MAX		64	/* messages per SEND/RECV ioctl */

/* Features: set in kmq_info.features by a kernel that supports them. */
#define KMQ_FEAT_RINGS		(1ULL << 0)	/* this ring protocol, v1 */
#define KMQ_FEAT_COPY		(1ULL << 1)	/* SEND/RECV ioctls */
#define KMQ_FEAT_MMAP		(1ULL << 2)	/* KMQ_OPEN_MAP + mmap */
#define KMQ_FEAT_REPAIR		(1ULL << 3)	/* crash repair on release */
/* Reserved for the next capabilities, in this order of arrival:
 * leases/visibility/DLQ, delay/retention, FIFO groups, streams. */

/* Queue types (kmq_create.type). Streams will get their own type. */
#define KMQ_TYPE_QUEUE		0

/* ---- Shared memory ---------------------------------------------------- */

#define KMQ_OFF_QUEUE		0ULL	/* mmap offset of the whole queue */
#define KMQ_HDR_SIZE		4096
#define KMQ_SLOT_HDR_SIZE	64
#define KMQ_CACHELINE		64

/* Cell encoding, see the ring protocol above. */
#define KMQ_CELL_EMPTY		0ULL
#define KMQ_CELL_FULL		1ULL
#define KMQ_CELL_TAKEN		2ULL
#define KMQ_CELL_KIND_MASK	3ULL
#define KMQ_CELL_IDX_SHIFT	2
#define KMQ_CELL_IDX_MASK	0xfffffULL	/* 20 bits */
#define KMQ_CELL_OWNER_SHIFT	22
#define KMQ_CELL_OWNER_MASK	0xfffffULL	/* 20 bits */
#define KMQ_CELL_EMPTY_SHIFT	2	/* EMPTY: 62-bit position */
#define KMQ_CELL_FULL_SHIFT	22	/* FULL: 42-bit position */
#define KMQ_CELL_TAKEN_SHIFT	42	/* TAKEN: 22-bit position */

/* Slot states (struct kmq_slot.state). */
#define KMQ_SLOT_FREE		0	/* in the free ring (or being put back) */
#define KMQ_SLOT_CLAIMED	1	/* held by a producer writing it */
#define KMQ_SLOT_READY		2	/* written; in (or going to) the ready ring */
#define KMQ_SLOT_BORROWED	3	/* held by a consumer reading it */
/* 4.. reserved: kernel-held states (leased, delayed, dead-lettered). */

/* Two counters of one ring, each alone on a pair of cache lines so that
 * adjacent-line prefetch does not make producers and consumers share. */
struct kmq_ring_ctl {
	__u64 head;			/* next position to pop */
	__u64 pad0[15];
	__u64 tail;			/* next position to push */
	__u64 pad1[15];
};

/*
 * The queue header, at offset 0 of the mapping. The first block is written
 * by the kernel at creation and mirrors kmq_info; the kernel never reads it
 * back (it keeps its own copy). The rest is shared, hot, and untrusted.
 */
struct kmq_hdr {
	__u32 magic;			/* KMQ_MAGIC */
	__u32 abi;			/* KMQ_ABI_VERSION */
	__u64 features;			/* KMQ_FEAT_* */
	__u32 type;			/* KMQ_TYPE_* */
	__u32 capacity;			/* slots, power of two */
	__u32 slot_size;		/* stride of the slot pool, bytes */
	__u32 max_msg_size;		/* largest payload, bytes */
	__u64 free_off;			/* offset of the free ring's cells */
	__u64 ready_off;		/* offset of the ready ring's cells */
	__u64 slots_off;		/* offset of slot 0 */
	__u64 size;			/* bytes of the whole mapping */
	__u64 created_ns;		/* CLOCK_REALTIME at creation */
	__u64 reserved0[7];		/* up to 128 bytes */

	struct kmq_ring_ctl free;	/* at 128 */
	struct kmq_ring_ctl ready;	/* at 384 */

	__u32 rd_wait;			/* at 640: readers asleep, need a wake */
	__u32 pad2[31];
	__u32 wr_wait;			/* at 768: writers asleep, need a wake */
	__u32 pad3[31];
	__u64 reserved1[400];		/* up to KMQ_HDR_SIZE */
};

/*
 * Slot header: the first 64 bytes of every slot; the payload follows at
 * offset KMQ_SLOT_HDR_SIZE. The payload is attr_len bytes of message
 * attributes (none yet: 0) followed by len bytes of body.
 */
struct kmq_slot {
	__u32 state;			/* KMQ_SLOT_* */
	__u32 owner;			/* client id holding it, 0: none */
	__u32 len;			/* body bytes */
	__u32 attr_len;			/* attribute bytes before the body: 0 */
	__u64 id;			/* message id, unique per queue */
	__u64 sent_ns;			/* CLOCK_REALTIME at send */
	__u32 sender_pid;		/* sender's tgid in its own pid namespace */
	__u32 sender_uid;		/* sender's uid: self-reported on the fast
					 * path; on the copy path as the initial
					 * user namespace sees it */
	__u32 gen;			/* reserved: receipt generation (leases) */
	__u32 receive_count;		/* reserved: leases */
	__u64 first_receive_ns;		/* reserved: leases */
	__u64 reserved;
};

/* ---- ioctls ----------------------------------------------------------- */

/* kmq_create.flags */
#define KMQ_CREATE_EXCL		(1U << 0)	/* -EEXIST if it exists (else
						 * an existing queue with the
						 * same geometry is fine) */
/* kmq_open.flags (also kmq_create.open_flags) */
#define KMQ_OPEN_SEND		(1U << 0)	/* may send (needs write) */
#define KMQ_OPEN_RECV		(1U << 1)	/* may receive (needs read) */
#define KMQ_OPEN_MAP		(1U << 2)	/* may mmap (needs both) */
#define KMQ_OPEN_NONBLOCK	(1U << 3)	/* O_NONBLOCK on the fd */
#define KMQ_OPEN_CLOEXEC	(1U << 4)	/* O_CLOEXEC on the fd */
#define KMQ_OPEN_MASK		0x1fU

struct kmq_create {
	char name[KMQ_NAME_LEN];
	__u32 type;			/* KMQ_TYPE_QUEUE */
	__u32 capacity;			/* messages, 1..KMQ_CAPACITY_MAX,
					 * rounded up to a power of two */
	__u32 max_msg_size;		/* bytes, 1..KMQ_MSG_MAX */
	__u32 mode;			/* permission bits, 0..0777 */
	__u32 flags;			/* KMQ_CREATE_* */
	__u32 open_flags;		/* nonzero: also open; the ioctl
					 * returns the queue fd */
	__u64 reserved[16];		/* queue policy of later features */
};

struct kmq_open {
	char name[KMQ_NAME_LEN];
	__u32 flags;			/* KMQ_OPEN_* */
	__u32 reserved0;
	__u64 reserved[2];
};

struct kmq_name {
	char name[KMQ_NAME_LEN];
	__u64 reserved[2];
};

/*
 * What a queue is and how it is doing. Counters from shared memory are
 * clamped snapshots: a process with a writable mapping can make them lie.
 */
struct kmq_info {
	char name[KMQ_NAME_LEN];	/* in: name (control fd); out: name */
	__u64 features;			/* KMQ_FEAT_* this kernel supports */
	__u32 type;
	__u32 capacity;
	__u32 max_msg_size;
	__u32 slot_size;
	__u32 mode;
	__u32 uid;
	__u32 gid;
	__u32 client_id;		/* queue fd only: this fd's client id */
	__u32 open_flags;		/* queue fd only: its KMQ_OPEN_* */
	__u32 clients;			/* queue fds open now */
	__u64 size;			/* bytes to mmap */
	__u64 free_off;
	__u64 ready_off;
	__u64 slots_off;
	__u64 created_ns;
	__u64 ready;			/* messages waiting in the ready ring */
	__u64 held;			/* slots held by clients (in flight) */
	__u64 sent;			/* pushes onto the ready ring, ever */
	__u64 received;			/* pops from the ready ring, ever */
	__u64 repaired;			/* slots given back by crash repair */
	__u64 corrupt;			/* invalid entries skipped */
	__u64 reserved[8];
};

struct kmq_list {
	__u64 infos;			/* user pointer to struct kmq_info[] */
	__u32 count;			/* in: room in infos; out: filled */
	__u32 flags;			/* 0 */
	__u64 start;			/* in: index to start from (0 first) */
	__u64 total;			/* out: queues that exist */
	__u64 reserved[2];
};

/* One message of a SEND or RECV batch. */
struct kmq_iomsg {
	__u64 buf;			/* user pointer to the body */
	__u32 len;			/* SEND: body bytes; RECV in: room in
					 * buf, out: body bytes (needed bytes
					 * with -EMSGSIZE) */
	__u32 flags;			/* 0 */
	__u64 id;			/* out: message id */
	__u64 sent_ns;			/* RECV out */
	__u32 sender_pid;		/* RECV out */
	__u32 sender_uid;		/* RECV out */
	__u64 reserved[2];
};

/* kmq_io.flags */
#define KMQ_IO_NONBLOCK		(1U << 0)	/* never sleep (also O_NONBLOCK) */

struct kmq_io {
	__u64 msgs;			/* user pointer to struct kmq_iomsg[] */
	__u32 count;			/* 1..KMQ_BATCH_MAX */
	__u32 flags;			/* KMQ_IO_* */
	__s64 timeout_ns;		/* < 0: no limit; else relative limit
					 * for the first message (-ETIMEDOUT) */
	__u32 done;			/* out: messages transferred */
	__u32 reserved0;
	__u64 reserved[2];
};

/* KMQ_IOC_WAKE argument bits */
#define KMQ_WAKE_READERS	(1U << 0)
#define KMQ_WAKE_WRITERS	(1U << 1)

#define KMQ_IOC_MAGIC		0xb7

/* control fd */
#define KMQ_IOC_CREATE	_IOW(KMQ_IOC_MAGIC, 0x01, struct kmq_create)
#define KMQ_IOC_OPEN	_IOW(KMQ_IOC_MAGIC, 0x02, struct kmq_open)
#define KMQ_IOC_DELETE	_IOW(KMQ_IOC_MAGIC, 0x03, struct kmq_name)
#define KMQ_IOC_LIST	_IOWR(KMQ_IOC_MAGIC, 0x04, struct kmq_list)
/* both: on the control fd by kmq_info.name, on a queue fd for that queue */
#define KMQ_IOC_INFO	_IOWR(KMQ_IOC_MAGIC, 0x05, struct kmq_info)
/* queue fd; SEND/RECV return 0 when io.done > 0 messages moved */
#define KMQ_IOC_SEND	_IOWR(KMQ_IOC_MAGIC, 0x10, struct kmq_io)
#define KMQ_IOC_RECV	_IOWR(KMQ_IOC_MAGIC, 0x11, struct kmq_io)
#define KMQ_IOC_WAKE	_IO(KMQ_IOC_MAGIC, 0x12)	/* arg: KMQ_WAKE_* */

/* ---- Generic netlink ---------------------------------------------------- */

/*
 * The generic netlink family "kmq" (KMQ_GENL_NAME, version KMQ_GENL_VERSION)
 * names queues as /dev/kmq does, for tools and daemons that speak netlink:
 * the same registry, rules and errors as the ioctls, plus notifications.
 * Resolve the family id with the "nlctrl" family (genl-ctrl-list shows it).
 * It is usable from every network namespace; queues are host-wide.
 *
 * Validation is strict: an attribute the command does not take, a wrong
 * type or length, a value out of range or trailing data is refused with
 * -EINVAL (-ERANGE for out-of-range values) and an extended ack message
 * (NLMSGERR_ATTR_MSG, set NETLINK_EXT_ACK) naming the attribute
 * (NLMSGERR_ATTR_OFFS). Every other refusal carries a message too.
 *
 * Commands (request attributes; "[x]" optional):
 *
 *   KMQ_GENL_CMD_CREATE  NAME, CAPACITY, MAX_MSG_SIZE, [MODE], [TYPE],
 *                        [FLAGS]
 *       as KMQ_IOC_CREATE: owner = the caller's fsuid/fsgid, MODE defaults
 *       to 0600, TYPE to KMQ_TYPE_QUEUE. FLAGS (KMQ_CREATE_* bits) as in
 *       struct kmq_create: with KMQ_CREATE_EXCL, -EEXIST if the queue
 *       exists; without it an existing queue of the same geometry is
 *       success (no event), another geometry -EEXIST. (nlmsg_flags such as
 *       NLM_F_EXCL are refused by the generic netlink core: only
 *       NLM_F_REQUEST, NLM_F_ACK, NLM_F_ECHO and NLM_F_DUMP are allowed.)
 *       -ENOSPC, -EDQUOT, -ENOMEM as the ioctl. Needs
 *       CAP_NET_ADMIN in the user namespace of the socket's network
 *       namespace (-EPERM). Replies with an ack only.
 *   KMQ_GENL_CMD_DELETE  NAME
 *       as KMQ_IOC_DELETE: -ENOENT, -EPERM unless the caller owns the
 *       queue or has CAP_SYS_ADMIN; and, as CREATE, CAP_NET_ADMIN (-EPERM).
 *   KMQ_GENL_CMD_GET     NAME
 *       anyone: replies with one KMQ_GENL_CMD_GET message carrying the
 *       queue attributes below (struct kmq_info's fields), or -ENOENT.
 *   KMQ_GENL_CMD_GET with NLM_F_DUMP: [NAME]
 *       anyone: every queue (only those whose name starts with NAME when
 *       it is given), one message each, in creation order, over as many
 *       reads as it takes. A queue that exists for the whole dump is
 *       reported exactly once; one created or deleted meanwhile may or may
 *       not be.
 *
 * Queue attributes of a GET reply: NAME, TYPE, CAPACITY, MAX_MSG_SIZE,
 * SLOT_SIZE, MODE, UID, GID (as the requester's user namespace sees them),
 * CLIENTS (u32); FEATURES, SIZE, FREE_OFF, READY_OFF, SLOTS_OFF, CREATED_NS,
 * READY, HELD, SENT, RECEIVED, REPAIRED, CORRUPT (u64, 8-byte aligned with
 * KMQ_GENL_A_PAD as nla_put_u64_64bit does; readers skip PAD).
 *
 * Notifications: multicast group KMQ_GENL_MCGRP_EVENTS ("events"), anyone
 * may join. Each is a KMQ_GENL_CMD_EVENT message with KMQ_GENL_A_EVENT (u32,
 * enum kmq_genl_event) and NAME, then per type:
 *
 *   QUEUE_CREATED  UID, GID, MODE, CAPACITY, MAX_MSG_SIZE: a create made a
 *                  new queue (by ioctl or netlink).
 *   QUEUE_DELETED  UID: a delete removed the name.
 *   QUEUE_FULL     UID, CAPACITY, SUPPRESSED: a sender found no free slot
 *                  (a copying-path send, or poll() for EPOLLOUT). At most
 *                  one per queue per KMQ_GENL_FULL_INTERVAL_MS; SUPPRESSED
 *                  (u32) counts the ones left out since the last sent.
 *   MSG_DEAD_LETTERED  reserved (SQS): MSG_ID (u64), RECEIVE_COUNT (u32),
 *                  DLQ_NAME: a message moved to the queue's DLQ.
 *   LEASES_EXPIRED reserved (SQS): COUNT (u64) leases expired in one sweep.
 *
 * UID/GID in notifications are as the initial user namespace sees them.
 * Notifications are best effort: a listener that reads too slowly gets
 * ENOBUFS on its socket and should resynchronise with a dump.
 */
#define KMQ_GENL_NAME		"kmq"
#define KMQ_GENL_VERSION	1
#define KMQ_GENL_MCGRP_EVENTS	"events"
#define KMQ_GENL_FULL_INTERVAL_MS	1000

enum kmq_genl_cmd {
	KMQ_GENL_CMD_UNSPEC,
	KMQ_GENL_CMD_CREATE,
	KMQ_GENL_CMD_DELETE,
	KMQ_GENL_CMD_GET,
	KMQ_GENL_CMD_EVENT,		/* notifications only */
	__KMQ_GENL_CMD_MAX
};
#define KMQ_GENL_CMD_MAX	(__KMQ_GENL_CMD_MAX - 1)

enum kmq_genl_attr {
	KMQ_GENL_A_UNSPEC,
	KMQ_GENL_A_PAD,			/* alignment of the u64s */
	KMQ_GENL_A_NAME,		/* NUL-terminated, 1..KMQ_NAME_MAX chars */
	KMQ_GENL_A_TYPE,		/* u32, KMQ_TYPE_* */
	KMQ_GENL_A_CAPACITY,		/* u32, 1..KMQ_CAPACITY_MAX */
	KMQ_GENL_A_MAX_MSG_SIZE,	/* u32, 1..KMQ_MSG_MAX */
	KMQ_GENL_A_MODE,		/* u32, 0..0777 */
	KMQ_GENL_A_FLAGS,		/* u32, KMQ_CREATE_* */
	KMQ_GENL_A_SLOT_SIZE,		/* u32 */
	KMQ_GENL_A_UID,			/* u32 */
	KMQ_GENL_A_GID,			/* u32 */
	KMQ_GENL_A_CLIENTS,		/* u32 */
	KMQ_GENL_A_FEATURES,		/* u64, KMQ_FEAT_* */
	KMQ_GENL_A_SIZE,		/* u64 */
	KMQ_GENL_A_FREE_OFF,		/* u64 */
	KMQ_GENL_A_READY_OFF,		/* u64 */
	KMQ_GENL_A_SLOTS_OFF,		/* u64 */
	KMQ_GENL_A_CREATED_NS,		/* u64 */
	KMQ_GENL_A_READY,		/* u64 */
	KMQ_GENL_A_HELD,		/* u64 */
	KMQ_GENL_A_SENT,		/* u64 */
	KMQ_GENL_A_RECEIVED,		/* u64 */
	KMQ_GENL_A_REPAIRED,		/* u64 */
	KMQ_GENL_A_CORRUPT,		/* u64 */
	KMQ_GENL_A_EVENT,		/* u32, enum kmq_genl_event */
	KMQ_GENL_A_SUPPRESSED,		/* u32: QUEUE_FULL events left out */
	KMQ_GENL_A_MSG_ID,		/* u64 */
	KMQ_GENL_A_RECEIVE_COUNT,	/* u32 */
	KMQ_GENL_A_DLQ_NAME,		/* string */
	KMQ_GENL_A_COUNT,		/* u64 */
	__KMQ_GENL_A_MAX
};
#define KMQ_GENL_A_MAX		(__KMQ_GENL_A_MAX - 1)

enum kmq_genl_event {
	KMQ_GENL_EVENT_UNSPEC,
	KMQ_GENL_EVENT_QUEUE_CREATED,
	KMQ_GENL_EVENT_QUEUE_DELETED,
	KMQ_GENL_EVENT_QUEUE_FULL,
	KMQ_GENL_EVENT_MSG_DEAD_LETTERED,	/* reserved: SQS */
	KMQ_GENL_EVENT_LEASES_EXPIRED,		/* reserved: SQS */
	__KMQ_GENL_EVENT_MAX
};
#define KMQ_GENL_EVENT_MAX	(__KMQ_GENL_EVENT_MAX - 1)

#endif /* _UAPI_LINUX_KMQ_H */
