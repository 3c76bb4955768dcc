/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of kmq.ko, system "kmq": the life of queues and of the
 * messages that cross the kernel (copying path, leases, deadlines, DLQ,
 * drops). Disabled, each costs a static-key no-op. bpf/kmq.bpf.c reads them
 * with hand-declared contexts (no module BTF needed): the layouts below are
 * ABI for it, so a change here is a change there (and of the pin version).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kmq

#if !defined(_KMQ_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KMQ_TRACE_H

#include <linux/tracepoint.h>
#include <uapi/linux/kmq.h>

/* Why a message left without being received and deleted (kmq_drop). */
#define KMQ_DROP_RETENTION	1	/* older than the retention period */
#define KMQ_DROP_PURGE		2	/* purged */
#define KMQ_DROP_DEDUP		3	/* a duplicate of a FIFO send */
#define KMQ_DROP_CORRUPT	4	/* a slot no sender could have written */

DECLARE_EVENT_CLASS(kmq_queue_class,
	TP_PROTO(const char *name, u32 type, u32 capacity),
	TP_ARGS(name, type, capacity),
	TP_STRUCT__entry(
		__array(char, name, KMQ_NAME_LEN)
		__field(u32, type)
		__field(u32, capacity)
	),
	TP_fast_assign(
		memcpy(__entry->name, name, KMQ_NAME_LEN);
		__entry->type = type;
		__entry->capacity = capacity;
	),
	TP_printk("queue=%.96s type=%u capacity=%u", __entry->name,
		  __entry->type, __entry->capacity)
);

DEFINE_EVENT(kmq_queue_class, kmq_queue_create,
	TP_PROTO(const char *name, u32 type, u32 capacity),
	TP_ARGS(name, type, capacity));
DEFINE_EVENT(kmq_queue_class, kmq_queue_delete,
	TP_PROTO(const char *name, u32 type, u32 capacity),
	TP_ARGS(name, type, capacity));

/* One message: @aux is the visibility (s) of kmq_lease, the reason of
 * kmq_drop, 0 elsewhere. */
DECLARE_EVENT_CLASS(kmq_msg_class,
	TP_PROTO(const char *name, u64 id, u64 sent_ns, u32 bytes, u32 rcount,
		 u32 aux),
	TP_ARGS(name, id, sent_ns, bytes, rcount, aux),
	TP_STRUCT__entry(
		__array(char, name, KMQ_NAME_LEN)
		__field(u64, id)
		__field(u64, sent_ns)
		__field(u32, bytes)
		__field(u32, receive_count)
		__field(u32, aux)
	),
	TP_fast_assign(
		memcpy(__entry->name, name, KMQ_NAME_LEN);
		__entry->id = id;
		__entry->sent_ns = sent_ns;
		__entry->bytes = bytes;
		__entry->receive_count = rcount;
		__entry->aux = aux;
	),
	TP_printk("queue=%.96s id=%#llx sent_ns=%llu bytes=%u receive_count=%u aux=%u",
		  __entry->name, __entry->id, __entry->sent_ns, __entry->bytes,
		  __entry->receive_count, __entry->aux)
);

#define KMQ_MSG_EVENT(ev)						\
	DEFINE_EVENT(kmq_msg_class, ev,					\
		TP_PROTO(const char *name, u64 id, u64 sent_ns, u32 bytes,	\
			 u32 rcount, u32 aux),				\
		TP_ARGS(name, id, sent_ns, bytes, rcount, aux))

KMQ_MSG_EVENT(kmq_send);		/* sent on the copying path */
KMQ_MSG_EVENT(kmq_recv);		/* received (and consumed) */
KMQ_MSG_EVENT(kmq_lease);		/* received under a lease */
KMQ_MSG_EVENT(kmq_lease_expired);	/* its lease ran out */
KMQ_MSG_EVENT(kmq_delete);		/* deleted by its receipt */
KMQ_MSG_EVENT(kmq_drop);		/* gone unreceived: aux = reason */

TRACE_EVENT(kmq_dlq,
	TP_PROTO(const char *name, const char *dlq, u64 id, u64 sent_ns,
		 u32 rcount),
	TP_ARGS(name, dlq, id, sent_ns, rcount),
	TP_STRUCT__entry(
		__array(char, name, KMQ_NAME_LEN)
		__array(char, dlq, KMQ_NAME_LEN)
		__field(u64, id)
		__field(u64, sent_ns)
		__field(u32, receive_count)
	),
	TP_fast_assign(
		memcpy(__entry->name, name, KMQ_NAME_LEN);
		memcpy(__entry->dlq, dlq, KMQ_NAME_LEN);
		__entry->id = id;
		__entry->sent_ns = sent_ns;
		__entry->receive_count = rcount;
	),
	TP_printk("queue=%.96s dlq=%.96s id=%#llx sent_ns=%llu receive_count=%u",
		  __entry->name, __entry->dlq, __entry->id, __entry->sent_ns,
		  __entry->receive_count)
);

TRACE_EVENT(kmq_wake,
	TP_PROTO(const char *name, u32 events),
	TP_ARGS(name, events),
	TP_STRUCT__entry(
		__array(char, name, KMQ_NAME_LEN)
		__field(u32, events)
	),
	TP_fast_assign(
		memcpy(__entry->name, name, KMQ_NAME_LEN);
		__entry->events = events;
	),
	TP_printk("queue=%.96s events=%#x", __entry->name, __entry->events)
);

#endif /* _KMQ_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
