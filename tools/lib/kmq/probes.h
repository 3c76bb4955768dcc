/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * USDT probes of libkmq (provider "kmq"), for bpf/kmq.bpf.c and any USDT
 * tracer (bpftrace, perf, systemtap). Each probe has a semaphore: a tracer
 * that attaches raises it, so an untraced call costs one load and one
 * predictable branch, and the arguments are not even computed.
 *
 *   kmq:send(const char *queue, u64 id, u64 sent_ns, u32 bytes)
 *   kmq:recv(const char *queue, u64 id, u64 sent_ns, u32 bytes)   copy or borrow
 *   kmq:release(const char *queue, u64 id, u64 sent_ns)             a borrow ends
 *
 * sent_ns is CLOCK_REALTIME, as in the slot; queue may be NULL (tests).
 */
#ifndef KMQ_PROBES_H
#define KMQ_PROBES_H

#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

/* Declare (in a header) and define (in one .c) the semaphore of a probe. */
#define KMQ_PROBE_DECLARE(name) \
	extern unsigned short kmq_##name##_semaphore \
		__attribute__((visibility("hidden")))
#define KMQ_PROBE_DEFINE(name) \
	unsigned short kmq_##name##_semaphore \
		__attribute__((section(".probes"), used, visibility("hidden")))

#define KMQ_PROBE_ENABLED(name) __builtin_expect(kmq_##name##_semaphore != 0, 0)

#define KMQ_PROBE3(name, a, b, c) do {					\
	if (KMQ_PROBE_ENABLED(name))					\
		STAP_PROBE3(kmq, name, a, b, c);			\
} while (0)
#define KMQ_PROBE4(name, a, b, c, d) do {				\
	if (KMQ_PROBE_ENABLED(name))					\
		STAP_PROBE4(kmq, name, a, b, c, d);			\
} while (0)

KMQ_PROBE_DECLARE(send);
KMQ_PROBE_DECLARE(recv);
KMQ_PROBE_DECLARE(release);

#endif /* KMQ_PROBES_H */
