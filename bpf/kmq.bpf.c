// SPDX-License-Identifier: GPL-2.0
/*
 * kmq's BPF programs: per-queue (and per-topic) counters and log2 latency
 * histograms, from kmq.ko's tracepoints and the USDT probes of libkmq and
 * kmqd; per-message records in a ring buffer only while "control" says
 * someone traces. Contexts of the tracepoints are declared by hand (they
 * mirror module/trace.h), so no module BTF is needed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "kmq_trace.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMQ_TRACE_MAX_KEYS);
	__type(key, struct kmq_key);
	__type(value, struct kmq_counters);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KMQ_TRACE_MAX_KEYS * KMQ_LAT_MAX);
	__type(key, struct kmq_hkey);
	__type(value, struct kmq_hist);
} latency SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmq_control);
} control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Scratch keys: too big for the stack next to everything else. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kmq_hkey);
} scratch SEC(".maps");

/* Mirrors of module/trace.h's records (after the 8-byte common header). */
struct tp_queue {
	__u64 common;
	char name[KMQ_TRACE_NAME_LEN];
	__u32 type;
	__u32 capacity;
};

struct tp_msg {
	__u64 common;
	char name[KMQ_TRACE_NAME_LEN];
	__u64 id;
	__u64 sent_ns;
	__u32 bytes;
	__u32 receive_count;
	__u32 aux;
};

struct tp_dlq {
	__u64 common;
	char name[KMQ_TRACE_NAME_LEN];
	char dlq[KMQ_TRACE_NAME_LEN];
	__u64 id;
	__u64 sent_ns;
	__u32 receive_count;
};

struct tp_wake {
	__u64 common;
	char name[KMQ_TRACE_NAME_LEN];
	__u32 events;
};

/* A message event, as each source reports it. */
struct kmq_msgev {
	__u64 id, sent_ns;
	__u32 bytes, rcount, aux, type, src, kind;
	const char *peer;	/* DLQ move: the DLQ's name, or NULL */
	bool peer_user;		/* @peer is a user pointer (kmqd), else kernel */
};

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline struct kmq_control *ctl(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&control, &zero);
}

/*
 * Does someone trace? See struct kmq_control: a reader of "events" other
 * than the loader holds a user reference to the map, which the kernel
 * counts in bpf_map.usercnt (and drops when that reader's files close, by
 * exit or SIGKILL). Programs may read a map's fields through BTF (5.10+).
 */
static __always_inline bool tracing(const struct kmq_control *cf)
{
	struct bpf_map *m = (struct bpf_map *)&events;
	__s64 users;

	if (cf->trace_on)
		return true;
	if (!cf->base_users || !bpf_core_field_exists(m->usercnt))
		return false;
	/* A direct load (CO-RE-relocated): the verifier lets programs
	 * read a map's fields, not compute pointers into it. */
	users = m->usercnt.counter;
	return users > (__s64)cf->base_users;
}

static __always_inline struct kmq_hkey *scratch_key(void)
{
	__u32 zero = 0;
	struct kmq_hkey *k = bpf_map_lookup_elem(&scratch, &zero);

	if (k)
		__builtin_memset(k, 0, sizeof(*k));
	return k;
}

static __always_inline struct kmq_counters *counters_of(struct kmq_key *k)
{
	struct kmq_counters *c = bpf_map_lookup_elem(&counters, k);
	static const struct kmq_counters zero;

	if (c)
		return c;
	bpf_map_update_elem(&counters, k, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&counters, k);
}

static __always_inline void hist_add(struct kmq_hkey *hk, __u32 what,
				     __u64 lat)
{
	static const struct kmq_hist zero;
	struct kmq_hist *h;
	__u64 slot;

	hk->what = what;
	h = bpf_map_lookup_elem(&latency, hk);
	if (!h) {
		bpf_map_update_elem(&latency, hk, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&latency, hk);
		if (!h)
			return;
	}
	/* 64 slots and a mask the compiler cannot move: 6.1's verifier
	 * loses the bounds of the OR in log2_u64(). */
	slot = lat ? log2_u64(lat) : 0;
	asm volatile("%[s] &= 63" : [s] "+r"(slot));
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, lat);
	__sync_fetch_and_add(&h->slot[slot], 1);
}

/* Account message event @m on queue/topic @hk->key. */
static __always_inline void account(struct kmq_hkey *hk, struct kmq_msgev *m)
{
	struct kmq_control *cf = ctl();
	struct kmq_counters *c;
	struct kmq_event *e;
	__u64 now = 0, lat = 0;

	if (!cf)
		return;
	hk->key.kind = m->kind;
	now = bpf_ktime_get_ns() + cf->realtime_off_ns;
	/* A send's latency would be the probe's own delay: none. */
	if (m->sent_ns && m->sent_ns < now && m->type != KMQ_EV_SEND &&
	    m->type != KMQ_EV_PUBLISH)
		lat = now - m->sent_ns;

	c = counters_of(&hk->key);
	if (c) {
		switch (m->type) {
		case KMQ_EV_SEND:
		case KMQ_EV_PUBLISH:
			__sync_fetch_and_add(&c->sent, 1);
			__sync_fetch_and_add(&c->bytes_sent, m->bytes);
			break;
		case KMQ_EV_RECV:
		case KMQ_EV_LEASE:
		case KMQ_EV_DELIVER:
			__sync_fetch_and_add(&c->received, 1);
			__sync_fetch_and_add(&c->bytes_received, m->bytes);
			break;
		case KMQ_EV_DELETE:
			__sync_fetch_and_add(&c->deleted, 1);
			break;
		case KMQ_EV_LEASE_EXPIRED:
			__sync_fetch_and_add(&c->expired, 1);
			break;
		case KMQ_EV_DLQ:
			__sync_fetch_and_add(&c->dead_lettered, 1);
			break;
		case KMQ_EV_DROP:
			__sync_fetch_and_add(&c->dropped, 1);
			if (m->aux == 1)
				__sync_fetch_and_add(&c->drop_retention, 1);
			else if (m->aux == 2)
				__sync_fetch_and_add(&c->drop_purge, 1);
			else if (m->aux == 3)
				__sync_fetch_and_add(&c->drop_dedup, 1);
			else if (m->aux == 4)
				__sync_fetch_and_add(&c->drop_corrupt, 1);
			break;
		case KMQ_EV_RELEASE:
			__sync_fetch_and_add(&c->released, 1);
			break;
		case KMQ_EV_QUEUE_CREATE:
			__sync_fetch_and_add(&c->created, 1);
			break;
		case KMQ_EV_QUEUE_DELETE:
			__sync_fetch_and_add(&c->deleted_queue, 1);
			break;
		case KMQ_EV_RETRY:
			__sync_fetch_and_add(&c->retries, 1);
			break;
		}
	}
	/* Latency: to the first receive only (a lease that comes back is
	 * the same message again). */
	if ((m->type == KMQ_EV_RECV || m->type == KMQ_EV_LEASE) && m->rcount <= 1)
		hist_add(hk, KMQ_LAT_SEND_RECV, lat);
	else if (m->type == KMQ_EV_DELETE)
		hist_add(hk, KMQ_LAT_SEND_DELETE, lat);
	else if (m->type == KMQ_EV_DELIVER)
		hist_add(hk, KMQ_LAT_PUBLISH_DELIVER, lat);

	if (!tracing(cf))
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return;
	e->ts_ns = now;
	e->id = m->id;
	e->sent_ns = m->sent_ns;
	e->latency_ns = lat;
	e->type = m->type;
	e->src = m->src;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->bytes = m->bytes;
	e->receive_count = m->rcount;
	e->aux = m->aux;
	e->kind = m->kind;
	e->pad = 0;
	__builtin_memcpy(e->name, hk->key.name, sizeof(e->name));
	__builtin_memset(e->peer, 0, sizeof(e->peer));
	if (m->peer && m->peer_user)
		bpf_probe_read_user_str(e->peer, sizeof(e->peer), m->peer);
	else if (m->peer)
		bpf_probe_read_kernel(e->peer, sizeof(e->peer), m->peer);
	bpf_ringbuf_submit(e, 0);
}

/* ---- kmq.ko tracepoints ---------------------------------------------- */

static __always_inline int tp_msg(struct tp_msg *ctx, __u32 type)
{
	struct kmq_hkey *hk = scratch_key();
	struct kmq_msgev m = { };

	if (!hk)
		return 0;
	bpf_probe_read_kernel(hk->key.name, sizeof(hk->key.name), ctx->name);
	m.id = ctx->id;
	m.sent_ns = ctx->sent_ns;
	m.bytes = ctx->bytes;
	m.rcount = ctx->receive_count;
	m.aux = ctx->aux;
	m.type = type;
	m.src = KMQ_SRC_KERNEL;
	account(hk, &m);
	return 0;
}

SEC("tracepoint/kmq/kmq_send")
int kmq_tp_send(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_SEND); }
SEC("tracepoint/kmq/kmq_recv")
int kmq_tp_recv(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_RECV); }
SEC("tracepoint/kmq/kmq_lease")
int kmq_tp_lease(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_LEASE); }
SEC("tracepoint/kmq/kmq_lease_expired")
int kmq_tp_expired(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_LEASE_EXPIRED); }
SEC("tracepoint/kmq/kmq_delete")
int kmq_tp_delete(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_DELETE); }
SEC("tracepoint/kmq/kmq_drop")
int kmq_tp_drop(struct tp_msg *ctx) { return tp_msg(ctx, KMQ_EV_DROP); }

SEC("tracepoint/kmq/kmq_dlq")
int kmq_tp_dlq(struct tp_dlq *ctx)
{
	struct kmq_hkey *hk = scratch_key();
	struct kmq_msgev m = { };

	if (!hk)
		return 0;
	bpf_probe_read_kernel(hk->key.name, sizeof(hk->key.name), ctx->name);
	m.id = ctx->id;
	m.sent_ns = ctx->sent_ns;
	m.rcount = ctx->receive_count;
	m.type = KMQ_EV_DLQ;
	m.src = KMQ_SRC_KERNEL;
	m.peer = ctx->dlq;
	account(hk, &m);
	return 0;
}

static __always_inline int tp_queue(struct tp_queue *ctx, __u32 type)
{
	struct kmq_hkey *hk = scratch_key();
	struct kmq_msgev m = { };

	if (!hk)
		return 0;
	bpf_probe_read_kernel(hk->key.name, sizeof(hk->key.name), ctx->name);
	m.type = type;
	m.aux = ctx->capacity;
	m.src = KMQ_SRC_KERNEL;
	account(hk, &m);
	return 0;
}

SEC("tracepoint/kmq/kmq_queue_create")
int kmq_tp_qcreate(struct tp_queue *ctx) { return tp_queue(ctx, KMQ_EV_QUEUE_CREATE); }
SEC("tracepoint/kmq/kmq_queue_delete")
int kmq_tp_qdelete(struct tp_queue *ctx) { return tp_queue(ctx, KMQ_EV_QUEUE_DELETE); }

SEC("tracepoint/kmq/kmq_wake")
int kmq_tp_wake(struct tp_wake *ctx)
{
	struct kmq_hkey *hk = scratch_key();
	struct kmq_counters *c;

	if (!hk)
		return 0;
	bpf_probe_read_kernel(hk->key.name, sizeof(hk->key.name), ctx->name);
	c = counters_of(&hk->key);
	if (c)
		__sync_fetch_and_add(&c->wakeups, 1);
	return 0;
}

/* ---- USDT: libkmq's fast path, kmqd ----------------------------------- */

/* One USDT message event: @m filled but for the key, @name a user string. */
static __always_inline int usdt_ev(const char *name, struct kmq_msgev *m)
{
	struct kmq_hkey *hk = scratch_key();

	if (!hk)
		return 0;
	if (name)
		bpf_probe_read_user_str(hk->key.name, sizeof(hk->key.name),
					name);
	account(hk, m);
	return 0;
}

static __always_inline int usdt_msg(const char *name, __u64 id, __u64 sent,
				    __u32 bytes, __u32 type, __u32 src,
				    __u32 kind)
{
	struct kmq_msgev m = { };

	m.id = id;
	m.sent_ns = sent;
	m.bytes = bytes;
	m.type = type;
	m.src = src;
	m.kind = kind;
	return usdt_ev(name, &m);
}

SEC("usdt")
int BPF_USDT(kmq_usdt_send, const char *name, __u64 id, __u64 sent, __u32 bytes)
{
	return usdt_msg(name, id, sent, bytes, KMQ_EV_SEND, KMQ_SRC_LIBKMQ,
			KMQ_KIND_QUEUE);
}

SEC("usdt")
int BPF_USDT(kmq_usdt_recv, const char *name, __u64 id, __u64 sent, __u32 bytes)
{
	return usdt_msg(name, id, sent, bytes, KMQ_EV_RECV, KMQ_SRC_LIBKMQ,
			KMQ_KIND_QUEUE);
}

SEC("usdt")
int BPF_USDT(kmq_usdt_release, const char *name, __u64 id, __u64 sent)
{
	return usdt_msg(name, id, sent, 0, KMQ_EV_RELEASE, KMQ_SRC_LIBKMQ,
			KMQ_KIND_QUEUE);
}

/* kmqd (daemon/probes.h): queue_create/queue_delete(name), repair(name,
 * slots); topics: publish/deliver(topic, id, sent_ns, bytes), retry(topic,
 * id, attempt); the shm backend's SQS machinery, as kmq.ko's tracepoints:
 * send(queue, id, sent_ns, bytes), lease/delete/lease_expired/drop(queue,
 * id, sent_ns, bytes, receive_count, aux), dead_letter(queue, dlq, id,
 * sent_ns, receive_count). */
SEC("usdt")
int BPF_USDT(kmqd_usdt_qcreate, const char *name)
{
	return usdt_msg(name, 0, 0, 0, KMQ_EV_QUEUE_CREATE, KMQ_SRC_KMQD,
			KMQ_KIND_QUEUE);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_qdelete, const char *name)
{
	return usdt_msg(name, 0, 0, 0, KMQ_EV_QUEUE_DELETE, KMQ_SRC_KMQD,
			KMQ_KIND_QUEUE);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_repair, const char *name, __u32 slots)
{
	return usdt_msg(name, 0, 0, slots, KMQ_EV_REPAIR, KMQ_SRC_KMQD,
			KMQ_KIND_QUEUE);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_publish, const char *topic, __u64 id, __u64 sent, __u32 bytes)
{
	return usdt_msg(topic, id, sent, bytes, KMQ_EV_PUBLISH, KMQ_SRC_KMQD,
			KMQ_KIND_TOPIC);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_deliver, const char *topic, __u64 id, __u64 sent, __u32 bytes)
{
	return usdt_msg(topic, id, sent, bytes, KMQ_EV_DELIVER, KMQ_SRC_KMQD,
			KMQ_KIND_TOPIC);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_retry, const char *topic, __u64 id, __u32 attempt)
{
	struct kmq_msgev m = { .id = id, .aux = attempt, .type = KMQ_EV_RETRY,
			       .src = KMQ_SRC_KMQD, .kind = KMQ_KIND_TOPIC };

	return usdt_ev(topic, &m);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_send, const char *queue, __u64 id, __u64 sent, __u32 bytes)
{
	return usdt_msg(queue, id, sent, bytes, KMQ_EV_SEND, KMQ_SRC_KMQD,
			KMQ_KIND_QUEUE);
}

static __always_inline int kmqd_sqs(const char *queue, __u64 id, __u64 sent,
				    __u32 bytes, __u32 rcount, __u32 aux,
				    __u32 type)
{
	struct kmq_msgev m = { .id = id, .sent_ns = sent, .bytes = bytes,
			       .rcount = rcount, .aux = aux, .type = type,
			       .src = KMQ_SRC_KMQD, .kind = KMQ_KIND_QUEUE };

	return usdt_ev(queue, &m);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_lease, const char *queue, __u64 id, __u64 sent,
	     __u32 bytes, __u32 rcount, __u32 vis)
{
	return kmqd_sqs(queue, id, sent, bytes, rcount, vis, KMQ_EV_LEASE);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_delete, const char *queue, __u64 id, __u64 sent,
	     __u32 bytes, __u32 rcount, __u32 aux)
{
	return kmqd_sqs(queue, id, sent, bytes, rcount, aux, KMQ_EV_DELETE);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_expired, const char *queue, __u64 id, __u64 sent,
	     __u32 bytes, __u32 rcount, __u32 aux)
{
	return kmqd_sqs(queue, id, sent, bytes, rcount, aux,
			KMQ_EV_LEASE_EXPIRED);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_drop, const char *queue, __u64 id, __u64 sent,
	     __u32 bytes, __u32 rcount, __u32 reason)
{
	return kmqd_sqs(queue, id, sent, bytes, rcount, reason, KMQ_EV_DROP);
}

SEC("usdt")
int BPF_USDT(kmqd_usdt_dlq, const char *queue, const char *dlq, __u64 id,
	     __u64 sent, __u32 rcount)
{
	struct kmq_msgev m = { .id = id, .sent_ns = sent, .rcount = rcount,
			       .type = KMQ_EV_DLQ, .src = KMQ_SRC_KMQD,
			       .kind = KMQ_KIND_QUEUE, .peer = dlq,
			       .peer_user = true };

	return usdt_ev(queue, &m);
}

/* kmqd:tick(n): the loader asks, once a second, whether someone traces
 * (only a program can read the events map's reference count). */
SEC("usdt")
int BPF_USDT(kmqd_usdt_tick, __u64 n)
{
	struct kmq_control *cf = ctl();

	if (cf)
		cf->tracing_seen = tracing(cf);
	return 0;
}
