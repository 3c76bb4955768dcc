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
 *
 * == SQS semantics (KMQ_FEAT_LEASES, _DELAY, _FIFO) ==
 *
 * Every queue has a policy (struct kmq_policy; KMQ_IOC_SET_POLICY and
 * KMQ_IOC_GET_POLICY on the control fd; setting needs the owner or
 * CAP_SYS_ADMIN; -EPERM): default visibility timeout, retention, default delay,
 * default long-poll wait, maximum message size, and a redrive policy (a
 * dead-letter queue and maxReceiveCount). A new queue has the defaults:
 * visibility 30 s, retention 4 days, no delay, no wait, no redrive.
 *
 * Two ways to receive coexist on a standard queue:
 *   - plain: KMQ_IOC_RECV or the mapped fast path pop the ready ring and the
 *     message is gone once released ("receive and delete at once"). This
 *     path knows nothing of leases and pays nothing for them.
 *   - leased: KMQ_IOC_SQS_RECV pops the ready ring in the kernel, gives the
 *     slot to the kernel (state KMQ_SLOT_LEASED, owner 0) for the visibility
 *     timeout and returns a copy plus a receipt handle. KMQ_IOC_SQS_DELETE
 *     with that handle frees the slot; KMQ_IOC_SQS_CHVIS sets the deadline
 *     to now + a new timeout. When the deadline passes (a kernel timer,
 *     whether or not any process is alive) the message is pushed onto the
 *     ready ring again and its next receive counts one more. A receipt
 *     handle is (generation << 20 | slot): every lease increments the
 *     slot's generation, so a handle from an earlier lease (stale) is
 *     refused with -ENOENT and never touches the current one.
 *     -ENOENT is also what a handle of a message that is not in flight
 *     (deleted, expired, purged, dead-lettered) gets: SQS's
 *     MessageNotInflight / ReceiptHandleIsInvalid. A handle naming no slot
 *     is -EINVAL. A RECV message whose copy-out faults gets status -EFAULT
 *     and stays leased until its deadline.
 * The kernel's lease state (deadline, generation, receive count, first
 * receive time) is kernel memory; the slot header mirrors gen,
 * receive_count and first_receive_ns for readers, never read back.
 * Deadlines (leases, delays) and retention run on the kernel's coarse
 * clocks, at the resolution of a clock tick (1-10 ms): a lease or a delay
 * never ends before its time and may end up to about two ticks after it.
 * First receive times have that resolution too, but a message sent within
 * the current tick gets the exact time, never one before its sent time.
 *
 * Dead letters: with a redrive policy, a message whose lease expires when
 * it has been received max_receive times is moved to the dead-letter queue
 * (named by policy.dlq, which must exist, be a standard queue and not the
 * queue itself) instead of becoming visible again: copied with its
 * attributes, id, sender and sent time, then freed in the source. If the
 * dead-letter queue is gone or full the message becomes visible again and
 * the move is retried at its next expiry (counted in kmq_info.dlq_failed).
 * KMQ_IOC_SQS_MOVE moves up to a count of visible messages from one queue to
 * another the same way (redrive back from a dead-letter queue); both must
 * be standard queues and distinct (-EINVAL). A message that finds no room
 * in the destination stays in the source, at the end of its ready ring.
 *
 * Delay: KMQ_IOC_SQS_SEND with a delay (per message, or the queue's default
 * delay) keeps the message in the kernel (KMQ_SLOT_DELAYED) until it is due,
 * then pushes it onto the ready ring. A standard queue's SQS_SEND waits for
 * a free slot (first message only, as KMQ_IOC_SEND); a message that gets
 * none has status -EAGAIN or -ETIMEDOUT. Mapped senders must send through
 * KMQ_IOC_SQS_SEND while hdr.policy_delay_s is nonzero (libkmq does);
 * a mapped sender that does not only makes its own messages undelayed.
 * Plain sends (KMQ_IOC_SEND, the mapped fast path, libkmq's kmq_send)
 * ignore the queue's delay, and its policy's max_msg_size: they are bound
 * by the queue's max_msg_size only.
 *
 * Retention: a message older than policy.retention_s (by its sent time) is
 * dropped and counted (kmq_info.expired) instead of being delivered: by the
 * kernel's sweep of the ready ring's head (once a second, queues that have
 * a name), at leased receive, at lease expiry and when a delay ends. A
 * sent time of 0 (a mapped sender that did not write one) never expires;
 * the sweep stops at the first message that has not expired. The
 * module parameter retention_unit_ms (default 1000, root only) is the
 * length of one second of retention_s, so that tests can shorten it.
 * KMQ_IOC_SQS_PURGE drops every visible, delayed and leased message at once
 * (not those a plain receiver holds); it needs the owner or CAP_SYS_ADMIN.
 *
 * FIFO queues (created with KMQ_CREATE_FIFO; the name must end in ".fifo"
 * and such a name needs the flag) are served by the kernel only: send with
 * KMQ_IOC_SQS_SEND (a group id is required), receive with KMQ_IOC_SQS_RECV
 * (plain KMQ_IOC_RECV on a FIFO queue receives and deletes under the same
 * group rules; mapping is refused with -EOPNOTSUPP; KMQ_IOC_SEND is
 * refused with -EINVAL). Messages of one group are delivered in send order;
 * while any message of a group is in flight, no other message of that group
 * is delivered; an expired message goes back to the front of its group.
 * One receive returns messages of one group only. Each accepted message
 * gets a sequence number, increasing per queue. A FIFO queue's messages
 * follow the queue's delay only (KMQ_SQSMSG_DELAY is -EINVAL, as SQS), and
 * its SQS_SEND never waits for a free slot (-EAGAIN). Deduplication: a message
 * whose deduplication id (given, or the SHA-256 of its body with
 * KMQ_POL_CONTENT_DEDUP; neither is -EINVAL) was accepted in the last
 * deduplication window (5 minutes; the module parameter dedup_window_ms)
 * is accepted again but not enqueued: the reply carries the first one's
 * id and sequence number, and KMQ_SQSMSG_DUPLICATE. The kernel keeps at
 * most 16 deduplication entries per slot (at least 1024, at most 256 Ki)
 * per queue; past that the oldest is forgotten first.
 *
 * Message attributes: up to KMQ_ATTR_MAX per message, stored in the slot
 * before the body (attr_len bytes, struct kmq_slot.attr_len) in this
 * encoding, all integers little endian, no padding:
 *     u8 count (1..KMQ_ATTR_MAX); then count times:
 *       u8 name_len, u8 type_len, u32 value_len,
 *       name (name_len bytes), type (type_len), value (value_len)
 * and nothing after the last one (attr_len 0: no attributes).
 * name: 1..255 of [A-Za-z0-9_.-], not starting with "AWS." or "Amazon."
 * (any case), no "..", not starting or ending with "."; type (at most 255
 * bytes): "String", "Number" or "Binary", optionally followed by "." and a
 * custom suffix of 1 or more printable ASCII characters (0x21..0x7e);
 * value: 1 or more bytes; Number values are decimal numbers:
 * [+-]digits[.digits] or [+-].digits, at most 38 digits, then optionally
 * e or E, a sign and 1..3 digits. The names are unique (case-sensitive).
 * The kernel checks all of this on KMQ_IOC_SQS_SEND (-EINVAL); attr_len +
 * body length must fit in the policy's max_msg_size (-EMSGSIZE). A mapped
 * sender that follows these semantics checks the same against
 * hdr.policy_max_msg_size (libkmq's kmq_send_msgs does; 0 there: a kernel
 * that does not mirror it). A mapped sender may write anything in the
 * slot; receivers must parse it defensively.
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
#define KMQ_FEAT_LEASES		(1ULL << 4)	/* SQS_RECV/DELETE/CHVIS, policy,
						 * redrive, retention, purge */
#define KMQ_FEAT_DELAY		(1ULL << 5)	/* delayed sends */
#define KMQ_FEAT_FIFO		(1ULL << 6)	/* FIFO queues, deduplication */
/* Reserved for the next capabilities: streams. */

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
/* Kernel-held states: owner 0, in no ring cell, known to the kernel. */
#define KMQ_SLOT_LEASED		4	/* received with a lease, in flight */
#define KMQ_SLOT_DELAYED	5	/* sent with a delay, not yet due */
#define KMQ_SLOT_QUEUED		6	/* FIFO: waiting in its group */

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
 * back (it keeps its own copy). The policy_* mirrors (KMQ_FEAT_LEASES) are
 * written at creation and by every KMQ_IOC_SET_POLICY, for mapped senders,
 * and never read back either. The rest is shared, hot, and untrusted.
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
	__u32 policy_delay_s;		/* mirror of the policy's delay */
	__u32 policy_flags;		/* mirror of kmq_policy.flags */
	__u32 policy_max_msg_size;	/* mirror of kmq_policy.max_msg_size;
					 * 0: not mirrored, see max_msg_size */
	__u32 reserved2;
	__u64 reserved0[5];		/* up to 128 bytes */

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
	__u32 gen;			/* lease generation (kernel's mirror) */
	__u32 receive_count;		/* leased receives (kernel's mirror) */
	__u64 first_receive_ns;		/* CLOCK_REALTIME of the first leased
					 * receive, 0: none (kernel's mirror) */
	__u64 reserved;
};

/* ---- ioctls ----------------------------------------------------------- */

/* kmq_create.flags */
#define KMQ_CREATE_EXCL		(1U << 0)	/* -EEXIST if it exists (else
						 * an existing queue with the
						 * same geometry is fine) */
#define KMQ_CREATE_FIFO		(1U << 1)	/* a FIFO queue: the name must
						 * end in ".fifo" */
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
	char name[KMQ_NAME_LEN];	/* in: name (control fd); out: name.
					 * The only input: the rest is output,
					 * whatever it holds on input */
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
	__u64 held;			/* slots held by clients (in flight),
					 * not by the kernel */
	__u64 sent;			/* pushes onto the ready ring, ever */
	__u64 received;			/* pops from the ready ring, ever */
	__u64 repaired;			/* slots given back by crash repair */
	__u64 corrupt;			/* invalid entries skipped */
	/* KMQ_FEAT_LEASES and later: */
	__u64 leased;			/* in flight with a lease (NotVisible) */
	__u64 delayed;			/* waiting for their delay (Delayed) */
	__u64 queued;			/* FIFO: visible, held in groups; the
					 * visible total is ready + queued */
	__u64 lease_expired;		/* leases that expired, ever */
	__u64 dead_lettered;		/* moved to the dead-letter queue, ever */
	__u64 dlq_failed;		/* moves that found no room, ever */
	__u64 expired;			/* dropped by retention or purge, ever */
	__u64 deduplicated;		/* FIFO sends dropped as duplicates */
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

/* ---- SQS semantics ---------------------------------------------------- */

#define KMQ_VISIBILITY_MAX	43200		/* s, 12 hours */
#define KMQ_VISIBILITY_DEFAULT	30
#define KMQ_RETENTION_MIN	60		/* s */
#define KMQ_RETENTION_MAX	1209600		/* s, 14 days */
#define KMQ_RETENTION_DEFAULT	345600		/* s, 4 days */
#define KMQ_DELAY_MAX		900		/* s */
#define KMQ_WAIT_MAX		20		/* s, long polling */
#define KMQ_RECEIVES_MAX	1000		/* redrive maxReceiveCount */
#define KMQ_SQS_BATCH_MAX	10		/* messages per SQS_* call */
#define KMQ_GROUP_LEN		128		/* group/dedup id field bytes:
						 * up to 127 characters + NUL */
#define KMQ_ATTR_MAX		10		/* attributes per message */
#define KMQ_DEDUP_WINDOW_S	300		/* default deduplication window */

/* kmq_policy.flags */
#define KMQ_POL_FIFO		(1U << 0)	/* read-only: created FIFO */
#define KMQ_POL_CONTENT_DEDUP	(1U << 1)	/* FIFO: dedup id = SHA-256 of body */

/* A queue's policy: KMQ_IOC_GET_POLICY fills it by name;
 * KMQ_IOC_SET_POLICY replaces all of it (read, change, write). Out-of-range
 * values are -EINVAL (ranges above). */
struct kmq_policy {
	char name[KMQ_NAME_LEN];	/* the queue */
	__u32 flags;			/* KMQ_POL_*; FIFO cannot change */
	__u32 visibility_s;		/* default lease, 0..KMQ_VISIBILITY_MAX */
	__u32 retention_s;		/* KMQ_RETENTION_MIN..MAX */
	__u32 delay_s;			/* default delay, 0..KMQ_DELAY_MAX */
	__u32 wait_s;			/* default long-poll wait, 0..KMQ_WAIT_MAX
					 * (applied by libkmq) */
	__u32 max_msg_size;		/* largest attributes + body accepted,
					 * 1..the queue's max_msg_size (its
					 * default) */
	__u32 max_receive;		/* redrive: 1..KMQ_RECEIVES_MAX; 0: none */
	__u32 reserved0;
	char dlq[KMQ_NAME_LEN];		/* redrive: dead-letter queue, "" none */
	__u64 reserved[8];
};

/* struct kmq_sqsmsg.flags */
#define KMQ_SQSMSG_DELAY	(1U << 0)	/* SEND: delay_s overrides the
						 * queue's default */
#define KMQ_SQSMSG_DUPLICATE	(1U << 16)	/* SEND out: FIFO duplicate,
						 * not enqueued again */

/* One message of KMQ_IOC_SQS_SEND or KMQ_IOC_SQS_RECV. */
struct kmq_sqsmsg {
	__u64 body;			/* user pointer */
	__u64 attrs;			/* user pointer: encoded attributes */
	__u32 len;			/* SEND: body bytes. RECV in: room at
					 * body; out: body bytes */
	__u32 attr_len;			/* SEND: bytes at attrs (0: none). RECV
					 * in: room at attrs; out: bytes */
	__u32 flags;			/* KMQ_SQSMSG_* */
	__u32 delay_s;			/* SEND with KMQ_SQSMSG_DELAY */
	char group[KMQ_GROUP_LEN];	/* FIFO: MessageGroupId (SEND in, RECV
					 * out), 1..127 printable ASCII */
	char dedup[KMQ_GROUP_LEN];	/* FIFO SEND: MessageDeduplicationId,
					 * "" for content-based */
	__s32 status;			/* out: 0, or this message's -errno
					 * (SEND batches go on past a refused
					 * message) */
	__u32 receive_count;		/* RECV out */
	__u64 id;			/* out: message id */
	__u64 receipt;			/* RECV out: receipt handle */
	__u64 sent_ns;			/* RECV out: CLOCK_REALTIME */
	__u64 first_receive_ns;		/* RECV out */
	__u64 seq;			/* out: FIFO sequence number, else 0 */
	__u32 sender_pid;		/* RECV out */
	__u32 sender_uid;		/* RECV out */
	__u64 reserved[4];
};

/* KMQ_IOC_SQS_SEND / KMQ_IOC_SQS_RECV. RECV: a RECV message that does not
 * fit its buffers gets status -EMSGSIZE with the sizes needed, and stays
 * leased (its receipt is valid). */
struct kmq_sqsio {
	__u64 msgs;			/* user pointer to struct kmq_sqsmsg[] */
	__u32 count;			/* 1..KMQ_SQS_BATCH_MAX */
	__u32 flags;			/* KMQ_IO_NONBLOCK, KMQ_SQSIO_VISIBILITY */
	__s64 timeout_ns;		/* RECV: long poll, as kmq_io */
	__u32 visibility_s;		/* RECV with KMQ_SQSIO_VISIBILITY */
	__u32 done;			/* out: messages handled */
	__u64 reserved[2];
};

#define KMQ_SQSIO_VISIBILITY	(1U << 1)	/* visibility_s overrides */

/* One receipt of KMQ_IOC_SQS_DELETE or KMQ_IOC_SQS_CHVIS. */
struct kmq_receipt {
	__u64 receipt;
	__u32 visibility_s;		/* CHVIS: new timeout from now */
	__s32 status;			/* out: 0, -ENOENT (not in flight or
					 * stale), -EINVAL (no such slot) */
};

struct kmq_receipts {
	__u64 receipts;			/* user pointer to struct kmq_receipt[] */
	__u32 count;			/* 1..KMQ_SQS_BATCH_MAX */
	__u32 done;			/* out: entries with status 0 */
	__u64 reserved[2];
};

/* KMQ_IOC_SQS_MOVE on the control fd: move up to count visible messages
 * from src to dst (both by name; sending rights on dst, receiving on src:
 * -EACCES), as a dead-letter move does. Both standard, src != dst. */
struct kmq_move {
	char src[KMQ_NAME_LEN];
	char dst[KMQ_NAME_LEN];
	__u32 count;			/* in: at most; out: moved */
	__u32 flags;			/* 0 */
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

/* SQS semantics: control fd */
#define KMQ_IOC_SET_POLICY	_IOW(KMQ_IOC_MAGIC, 0x20, struct kmq_policy)
#define KMQ_IOC_GET_POLICY	_IOWR(KMQ_IOC_MAGIC, 0x21, struct kmq_policy)
#define KMQ_IOC_SQS_PURGE	_IOW(KMQ_IOC_MAGIC, 0x22, struct kmq_name)
#define KMQ_IOC_SQS_MOVE	_IOWR(KMQ_IOC_MAGIC, 0x23, struct kmq_move)
/* SQS semantics: queue fd (SEND needs KMQ_OPEN_SEND, the rest RECV) */
#define KMQ_IOC_SQS_SEND	_IOWR(KMQ_IOC_MAGIC, 0x30, struct kmq_sqsio)
#define KMQ_IOC_SQS_RECV	_IOWR(KMQ_IOC_MAGIC, 0x31, struct kmq_sqsio)
#define KMQ_IOC_SQS_DELETE	_IOWR(KMQ_IOC_MAGIC, 0x32, struct kmq_receipts)
#define KMQ_IOC_SQS_CHVIS	_IOWR(KMQ_IOC_MAGIC, 0x33, struct kmq_receipts)

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
 * READY, HELD, SENT, RECEIVED, REPAIRED, CORRUPT, and the SQS counters
 * LEASED, DELAYED, QUEUED, LEASE_EXPIRED, DEAD_LETTERED, DLQ_FAILED,
 * EXPIRED, DEDUPLICATED (u64, 8-byte aligned with
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
 *   MSG_DEAD_LETTERED  MSG_ID (u64), RECEIVE_COUNT (u32),
 *                  DLQ_NAME: a message moved to the queue's DLQ.
 *   LEASES_EXPIRED COUNT (u64): leases that expired in one pass of the
 *                  queue's deadline work (made visible or dead-lettered).
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
	/* SQS counters of struct kmq_info, all u64: */
	KMQ_GENL_A_LEASED,
	KMQ_GENL_A_DELAYED,
	KMQ_GENL_A_QUEUED,
	KMQ_GENL_A_LEASE_EXPIRED,
	KMQ_GENL_A_DEAD_LETTERED,
	KMQ_GENL_A_DLQ_FAILED,
	KMQ_GENL_A_EXPIRED,
	KMQ_GENL_A_DEDUPLICATED,
	__KMQ_GENL_A_MAX
};
#define KMQ_GENL_A_MAX		(__KMQ_GENL_A_MAX - 1)

enum kmq_genl_event {
	KMQ_GENL_EVENT_UNSPEC,
	KMQ_GENL_EVENT_QUEUE_CREATED,
	KMQ_GENL_EVENT_QUEUE_DELETED,
	KMQ_GENL_EVENT_QUEUE_FULL,
	KMQ_GENL_EVENT_MSG_DEAD_LETTERED,
	KMQ_GENL_EVENT_LEASES_EXPIRED,
	__KMQ_GENL_EVENT_MAX
};
#define KMQ_GENL_EVENT_MAX	(__KMQ_GENL_EVENT_MAX - 1)

#endif /* _UAPI_LINUX_KMQ_H */
