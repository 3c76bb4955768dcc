/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqd's BPF loader: loads bpf/kmq.bpf.c, attaches it to kmq.ko's
 * tracepoints (when the module is loaded) and to the USDT probes of libkmq
 * and kmqd, and pins its maps under KMQ_TRACE_PIN_DIR (bpf/kmq_trace.h) for
 * bpftool, kmqctl top and kmqctl trace.
 */
#ifndef KMQD_TRACE_H
#define KMQD_TRACE_H

#include <stdbool.h>
#include <sys/types.h>

struct kmqd_trace;

struct kmqd_trace_opts {
	const char *pin_dir;		/* NULL: KMQ_TRACE_PIN_DIR */
	/* Files whose USDT probes to attach: libkmq.so.0 and executables
	 * that link libkmq statically (kmqd itself, kmq-bench, ...). NULL
	 * entries end it; NULL: the libkmq.so.0 found next to this
	 * program's ../lib, else /usr/local/lib, /usr/lib. */
	const char *const *usdt_paths;
	/* Attach libkmq's per-message fast-path probes too. Off by default:
	 * each fast-path message then traps into the kernel (a uprobe costs
	 * microseconds, the fast path ~100 ns), see the README. */
	bool fastpath;
	/* Keep this program's (kmqd's) per-message probes attached: topics'
	 * publish, deliver and retry, the shm backend's SQS events. Without
	 * it they are attached only while someone traces (checked in
	 * kmqd_trace_refresh): a uprobe per message costs kmqd's topic
	 * fan-out some 20x (kmq-bench -t fanout). Its rare probes (queue
	 * create/delete, repair, tick) are always attached. */
	bool messages;
	mode_t pin_mode;		/* 0: 0640 (root and @pin_gid read) */
	gid_t pin_gid;			/* (gid_t)-1: keep root's group */
	bool quiet;			/* log nothing but warnings, errors */
	/* Where the loader's and libbpf's lines go (kmqd: its log, syslog
	 * or stderr); @level is syslog's (3 error .. 7 debug). NULL:
	 * stderr. */
	void (*log)(int level, const char *msg);
};

/*
 * kmqd_trace_start - load, attach, pin. Returns 0, -EOPNOTSUPP when this
 * kernel has no BPF (one line logged), or another -errno; *@t is NULL on
 * error. Module tracepoints are attached when kmq.ko is loaded; a probe
 * that cannot be attached is logged and skipped.
 */
int kmqd_trace_start(struct kmqd_trace **t, const struct kmqd_trace_opts *o);

/* kmqd_trace_refresh - call about once a second: re-reads the clock offset
 * the latency needs, attaches the tracepoints if kmq.ko arrived since, and
 * attaches or detaches this program's per-message probes as someone
 * starts or stops tracing (unless they are kept: opts.messages). */
void kmqd_trace_refresh(struct kmqd_trace *t);

/* kmqd_trace_stop - detach and free (NULL is fine); @unpin removes the
 * pins (a clean shutdown), else they outlive the process. */
void kmqd_trace_stop(struct kmqd_trace *t, bool unpin);

#endif /* KMQD_TRACE_H */
