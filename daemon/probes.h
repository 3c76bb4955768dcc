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
 *   kmqd:publish(const char *topic, u64 id, u64 sent_ns, u32 bytes)
 *   kmqd:deliver(const char *topic, u64 id, u64 sent_ns, u32 bytes)
 *                                             topics: one per subscription
 */
#ifndef KMQD_PROBES_H
#define KMQD_PROBES_H

#define _SDT_HAS_SEMAPHORES 1
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
#define KMQD_PROBE4(name, a, b, c, d) do {				\
	if (KMQD_PROBE_ENABLED(name))					\
		STAP_PROBE4(kmqd, name, a, b, c, d);			\
} while (0)

KMQD_PROBE_DECLARE(queue_create);
KMQD_PROBE_DECLARE(queue_delete);
KMQD_PROBE_DECLARE(repair);
KMQD_PROBE_DECLARE(publish);
KMQD_PROBE_DECLARE(deliver);

#endif /* KMQD_PROBES_H */
