/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqd's USDT probes (provider "kmqd"), read by bpf/kmq.bpf.c when kmqd's
 * executable is attached (daemon/trace.c attaches its own). Semaphores as
 * in libkmq (tools/lib/kmq/probes.h): an unattached probe is one load and a
 * predictable branch.
 *
 *   kmqd:queue_create(const char *queue)      shm backend: a queue created
 *   kmqd:queue_delete(const char *queue)      shm backend: a name removed
 *   kmqd:repair(const char *queue, u32 slots) a client's slots given back
 *   kmqd:tick(u64 n)                          the loader, once a second: its BPF
 *                                             program notes whether someone traces
 *
 * Topics (deliver.c, endpoint.c): @id and @sent_ns (CLOCK_REALTIME, as
 * libkmq writes it) are the inbox message's, so publish -> deliver is the
 * time from kmq_publish to the delivery:
 *   kmqd:publish(const char *topic, u64 id, u64 sent_ns, u32 bytes)
 *                                 kmqd took a record from the inbox (bytes:
 *                                 the whole record)
 *   kmqd:deliver(const char *topic, u64 id, u64 sent_ns, u32 bytes)
 *                                 one per subscription that has it: a
 *                                 queue's send succeeded, an http or exec
 *                                 endpoint accepted it (bytes: the body)
 *   kmqd:retry(const char *topic, u64 id, u32 attempt)
 *                                 an endpoint delivery's attempt 2, 3, ...
 *
 * The shm backend's SQS machinery (sqs.c), as kmq.ko's tracepoints
 * (module/trace.h) on the kernel backend, with the same arguments:
 *   kmqd:send(const char *queue, u64 id, u64 sent_ns, u32 bytes)
 *                                 a send through kmqd (delayed, FIFO,
 *                                 unmapped), not the mapped fast path
 *   kmqd:lease(queue, id, sent_ns, bytes, u32 receive_count, u32 visibility_s)
 *   kmqd:delete(queue, id, sent_ns, bytes, receive_count, 0)
 *   kmqd:lease_expired(queue, id, sent_ns, bytes, receive_count, 0)
 *   kmqd:drop(queue, id, sent_ns, bytes, receive_count, u32 reason)
 *                                 reason: KMQD_DROP_*
 *   kmqd:dead_letter(queue, const char *dlq, id, sent_ns, receive_count)
 */
#ifndef KMQD_PROBES_H
#define KMQD_PROBES_H

#define _SDT_HAS_SEMAPHORES 1
/* Arguments in registers or constants: libbpf 1.1 cannot read a memory
 * operand with an index register ("8@24(%rcx,%rax)"), which the default
 * "nor" lets the compiler choose, and then refuses the whole probe. */
#define STAP_SDT_ARG_CONSTRAINT nr
#include <sys/sdt.h>

#define KMQD_PROBE_DECLARE(name) \
	extern unsigned short kmqd_##name##_semaphore
#define KMQD_PROBE_DEFINE(name) \
	unsigned short kmqd_##name##_semaphore \
		__attribute__((section(".probes"), used))

#define KMQD_PROBE_ENABLED(name) \
	__builtin_expect(kmqd_##name##_semaphore != 0, 0)

#define KMQD_PROBE1(name, a) do {					\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE1(kmqd, name, a);				\
} while (0)
#define KMQD_PROBE2(name, a, b) do {					\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE2(kmqd, name, a, b);				\
} while (0)
#define KMQD_PROBE3(name, a, b, c) do {					\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE3(kmqd, name, a, b, c);			\
} while (0)
#define KMQD_PROBE4(name, a, b, c, d) do {				\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE4(kmqd, name, a, b, c, d);			\
} while (0)
#define KMQD_PROBE5(name, a, b, c, d, e) do {				\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE5(kmqd, name, a, b, c, d, e);			\
} while (0)
#define KMQD_PROBE6(name, a, b, c, d, e, f) do {			\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE6(kmqd, name, a, b, c, d, e, f);		\
} while (0)

/* An SQS probe on the message in slot @s (struct kmq_slot *) of queue
 * @queue: its id, sent_ns and length read only when the probe is on. */
#define KMQD_PROBE_SLOT(name, queue, s, rcount, aux)			\
	KMQD_PROBE6(name, queue, kmq_load(&(s)->id),			\
		    kmq_load(&(s)->sent_ns), kmq_load(&(s)->len),	\
		    rcount, aux)

/* kmqd:drop's reasons: module/trace.h's KMQ_DROP_*. */
#define KMQD_DROP_RETENTION	1
#define KMQD_DROP_PURGE		2
#define KMQD_DROP_DEDUP		3
#define KMQD_DROP_CORRUPT	4

KMQD_PROBE_DECLARE(queue_create);
KMQD_PROBE_DECLARE(queue_delete);
KMQD_PROBE_DECLARE(repair);
KMQD_PROBE_DECLARE(publish);
KMQD_PROBE_DECLARE(deliver);
KMQD_PROBE_DECLARE(retry);
KMQD_PROBE_DECLARE(send);
KMQD_PROBE_DECLARE(lease);
KMQD_PROBE_DECLARE(delete);
KMQD_PROBE_DECLARE(lease_expired);
KMQD_PROBE_DECLARE(drop);
KMQD_PROBE_DECLARE(dead_letter);
KMQD_PROBE_DECLARE(tick);

#endif /* KMQD_PROBES_H */
