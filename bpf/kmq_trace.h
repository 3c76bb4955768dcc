/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Types shared by bpf/kmq.bpf.c and its readers (daemon/trace.c, kmqctl top
 * and trace): the values of the maps pinned under KMQ_TRACE_PIN_DIR and the
 * records of the ring buffer. A change here is a change of KMQ_TRACE_PIN_DIR
 * (a pinned map of an old layout cannot be reused).
 */
#ifndef KMQ_TRACE_H
#define KMQ_TRACE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define KMQ_TRACE_PIN_ROOT	"/sys/fs/bpf/kmq"
#define KMQ_TRACE_PIN_DIR	KMQ_TRACE_PIN_ROOT "/v2"
#define KMQ_TRACE_NAME_LEN	96	/* = KMQ_NAME_LEN */
#define KMQ_TRACE_MAX_KEYS	4096	/* queues + topics counted at once */
#define KMQ_TRACE_HIST_SLOTS	64	/* log2(ns) buckets: every u64 */

/* What a counter or histogram is about (kmq_key.kind). */
enum kmq_trace_kind {
	KMQ_KIND_QUEUE = 0,
	KMQ_KIND_TOPIC = 1,
};

/* The key of map "counters" (and part of "latency"'s). */
struct kmq_key {
	char name[KMQ_TRACE_NAME_LEN];	/* zero-padded */
	__u32 kind;			/* enum kmq_trace_kind */
	__u32 pad;
};

/* The value of map "counters": totals since the programs were loaded. */
struct kmq_counters {
	__u64 sent;		/* copying path, fast path and publish */
	__u64 received;		/* plain receives and leases */
	__u64 deleted;		/* by receipt */
	__u64 expired;		/* leases that ran out */
	__u64 dead_lettered;	/* moved to the DLQ */
	__u64 dropped;		/* retention, purge, dedup, corrupt */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u64 released;		/* fast-path borrows given back */
	__u64 wakeups;		/* kernel wake-ups of sleepers */
	__u64 created;		/* queue creations seen */
	__u64 deleted_queue;	/* queue deletions seen */
	__u64 drop_retention;
	__u64 drop_purge;
	__u64 drop_dedup;
	__u64 drop_corrupt;
	/* New fields go here, at the end (v2: retries). */
	__u64 retries;		/* topics: endpoint deliveries retried */
};

/* Which latency (kmq_hkey.what). */
enum kmq_trace_lat {
	KMQ_LAT_SEND_RECV = 0,		/* sent -> (first) received */
	KMQ_LAT_SEND_DELETE = 1,	/* sent -> deleted */
	KMQ_LAT_PUBLISH_DELIVER = 2,	/* published -> delivered (topics) */
	KMQ_LAT_MAX
};

/* The key of map "latency". */
struct kmq_hkey {
	struct kmq_key key;
	__u32 what;			/* enum kmq_trace_lat */
	__u32 pad;
};

/* The value of map "latency": slot[i] counts latencies in [2^i, 2^(i+1))
 * ns (slot 0 also takes 0 and unknown send times). */
struct kmq_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 slot[KMQ_TRACE_HIST_SLOTS];
};

/*
 * The single value of map "control". Per-message events are written to
 * "events" while someone traces: while a process other than the loader has
 * "events" open (kmqctl trace does, to read it), i.e. while the map's user
 * reference count exceeds @base_users, the references the loader itself
 * holds (its fd and the pin). The kernel keeps that count: it needs no
 * bookkeeping by the tracers, two of them cannot undo each other, and one
 * killed with SIGKILL drops its reference when the kernel closes its files.
 * @trace_on > 0 forces the events on (bpftool map update, for tools that
 * read "events" some other way).
 */
struct kmq_control {
	__u32 trace_on;		/* > 0: events on, whoever reads them */
	__u32 base_users;	/* 0: the loader did not say; see above */
	__s64 realtime_off_ns;	/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	/* Written by the kmqd:tick program once a second: whether someone
	 * traced then. kmqd attaches its per-message probes while so. */
	__u32 tracing_seen;
	__u32 pad;
};

/* Why a message was dropped (kmq_event.aux of KMQ_EV_DROP): module/trace.h's
 * KMQ_DROP_*, and kmqd's on the shm backend (daemon/probes.h). */
enum kmq_trace_drop {
	KMQ_TRACE_DROP_RETENTION = 1,
	KMQ_TRACE_DROP_PURGE = 2,
	KMQ_TRACE_DROP_DEDUP = 3,
	KMQ_TRACE_DROP_CORRUPT = 4,
};

/* Record types of the ring buffer "events". */
enum kmq_trace_event {
	KMQ_EV_SEND = 1,
	KMQ_EV_RECV,
	KMQ_EV_LEASE,
	KMQ_EV_LEASE_EXPIRED,
	KMQ_EV_DELETE,
	KMQ_EV_DLQ,
	KMQ_EV_DROP,
	KMQ_EV_RELEASE,
	KMQ_EV_QUEUE_CREATE,
	KMQ_EV_QUEUE_DELETE,
	KMQ_EV_PUBLISH,
	KMQ_EV_DELIVER,
	KMQ_EV_REPAIR,
	KMQ_EV_RETRY,		/* topics: an endpoint delivery retried */
	KMQ_EV_MAX
};

/* Where an event was seen (kmq_event.src). */
enum kmq_trace_src {
	KMQ_SRC_KERNEL = 0,	/* tracepoint of kmq.ko */
	KMQ_SRC_LIBKMQ = 1,	/* USDT in libkmq (fast path) */
	KMQ_SRC_KMQD = 2,	/* USDT in kmqd */
};

/* One record of the ring buffer "events". */
struct kmq_event {
	__u64 ts_ns;		/* CLOCK_REALTIME when seen */
	__u64 id;
	__u64 sent_ns;
	__u64 latency_ns;	/* from sent_ns, 0 if unknown */
	__u32 type;		/* enum kmq_trace_event */
	__u32 src;		/* enum kmq_trace_src */
	__u32 pid;
	__u32 bytes;
	__u32 receive_count;
	__u32 aux;		/* drop reason, visibility, retry's attempt */
	__u32 kind;		/* enum kmq_trace_kind */
	__u32 pad;
	char name[KMQ_TRACE_NAME_LEN];
	char peer[KMQ_TRACE_NAME_LEN];	/* DLQ move: the DLQ */
};

#endif /* KMQ_TRACE_H */
