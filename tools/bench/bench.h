/* SPDX-License-Identifier: MIT */
/*
 * kmq-bench: latency and throughput of kmq next to the peers users would
 * pick instead, measured in the same run by the same harness.
 *
 * Every system sits behind struct sys_ops. The harness forks one process per
 * role (producer / consumer), pins it, opens the system's endpoint in the
 * child, and moves messages with loan -> write payload -> send on one side
 * and recv -> read payload -> release on the other, so zero-copy systems
 * write and read in place and copying systems copy, each as its own
 * documentation recommends.
 */
#ifndef KMQ_BENCH_H
#define KMQ_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define BENCH_MAX_PROCS	8	/* producers + consumers of one test */
#define BENCH_FANOUT	4	/* the N of 4 -> 1 and 1 -> 4 */

enum wait_mode { WAIT_SPIN, WAIT_BLOCK };
enum topo { TOPO_1_1, TOPO_N_1, TOPO_1_N };
enum test_kind { TEST_PINGPONG, TEST_OPENLOOP, TEST_THROUGHPUT };
enum role { ROLE_SEND, ROLE_RECV };

/* What one channel (one queue) of a test must carry. */
struct chan_cfg {
	size_t size;		/* bytes of every message */
	unsigned int depth;	/* messages the queue should hold */
	unsigned int nprod;	/* processes sending into it */
	unsigned int ncons;	/* processes receiving from it */
	enum wait_mode mode;
	char tag[64];		/* unique name: "kmqb<pid>x<test>c<chan>" */
};

struct chan {
	struct chan_cfg cfg;
	const struct sys_ops *ops;
	void *priv;		/* the system's state, made before fork */
};

struct sys_ops {
	const char *name;	/* short id for --systems and JSON */
	const char *label;	/* shown in tables */
	const char *how;	/* one line: how it is used */
	/* NULL when the system can run this cell, else why not. */
	const char *(*unsupported)(enum topo t, enum wait_mode m, size_t size);
	/* Once per run in the parent before its first test (e.g. start a
	 * daemon); nonzero: the system is skipped, reason in *why. */
	int (*global_init)(const char *outdir, const char **why);
	void (*global_fini)(void);
	/* In the parent, before fork. */
	int (*chan_create)(struct chan *ch);
	void (*chan_destroy)(struct chan *ch);
	/* In the child: an endpoint of one role. idx is the process's index
	 * among that role's processes. Dies (bench_die) on failure. */
	void *(*open)(struct chan *ch, enum role r, unsigned int idx);
	void (*close)(void *ep);
	/* Sender: a buffer for the next message of len bytes, then send it
	 * (spinning or blocking on a full queue, by the channel's mode). */
	void *(*loan)(void *ep, size_t len);
	void (*send)(void *ep, void *buf, size_t len);
	/* Receiver: the next message, or NULL when none arrived (spin mode:
	 * none right now; block mode: none within a short timeout, or never
	 * returns NULL for systems that block without one). */
	const void *(*recv)(void *ep, size_t *len);
	void (*release)(void *ep, const void *buf);
};

extern const struct sys_ops sys_ring, sys_kmq, sys_pipe, sys_uds, sys_posixmq,
	sys_zmq, sys_nng, sys_iceoryx, sys_kmq_dev_map, sys_kmq_dev_copy;

/* ---- message contents ------------------------------------------------- */

#define MSG_DATA	1
#define MSG_STOP	2
#define MSG_TRAILER	0x6b6d712d62656e63ULL	/* "kmq-benc" */

/* The first bytes of every message; the last 8 bytes are a trailer that
 * ties the end of the payload to its start (seq ^ MSG_TRAILER). */
struct msg_hdr {
	uint64_t seq;
	uint64_t t_ns;		/* intended (open loop) or actual send time */
	uint32_t kind;		/* MSG_* */
	uint32_t len;
	uint64_t pad;
};

#define MSG_MIN_SIZE	64

/* ---- histogram (hist.c) --------------------------------------------- */

/* Log-linear (HDR-style): values below 2048 exactly, above that 1024
 * sub-buckets per power of two: relative error below 1/1024, i.e. at least
 * three significant digits, up to 2^40 ns. */
#define HIST_SUB_BITS	11
#define HIST_BUCKETS	(2048 + 30 * 1024)

struct hist {
	uint64_t n;
	uint64_t min, max;
	double sum;
	uint64_t counts[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
uint64_t hist_percentile(const struct hist *h, double pct);
unsigned int hist_index(uint64_t v);
uint64_t hist_value(unsigned int idx);

/* ---- results ---------------------------------------------------------- */

struct result {
	const struct sys_ops *sys;
	enum test_kind kind;
	enum topo topo;
	enum wait_mode mode;
	size_t size;
	const char *skip;	/* not run: why */
	const char *fail;	/* run failed: why */
	/* latency, ns */
	uint64_t n, p50, p90, p99, p999, max, min;
	double mean;
	/* throughput */
	double msgs_per_s, bytes_per_s;
	double cpu_ns_per_msg;	/* user + sys of all its processes */
	uint64_t bad;		/* messages whose trailer did not match */
	char note[96];
	/* rounds (--rounds): how many ran, and each one's p50 or msgs/s
	 * (-1: failed); the figures above are the best round's */
	int rounds, failed_rounds;
	double round_vals[8];
};

#define MAX_ROUNDS	8

/* ---- harness (harness.c) ---------------------------------------------- */

struct bench_opts {
	double lat_s;		/* ping-pong measurement */
	double ol_s;		/* open-loop measurement */
	double tp_s;		/* throughput measurement */
	double warm_s;		/* warm-up before every measurement */
	double rate;		/* open-loop messages per second */
	int ncpu;
	int cpus[64];		/* CPUs we may run on */
	bool smoke;
	int rounds;		/* --rounds */
};

extern struct bench_opts bench_opts;

int run_test(struct result *r);
unsigned int bench_depth(size_t size);
const char *topo_name(enum topo t);
const char *mode_name(enum wait_mode m);
const char *kind_name(enum test_kind k);
const char *pinning_note(enum topo t);

/* ---- helpers ---------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *bench_shared_alloc(size_t size);	/* MAP_SHARED anonymous, zeroed */

/* ---- leases (lease.c): receive + delete with leases against a plain
 * receive, through /dev/kmq; prints a table and writes leases.md in
 * @outdir. Skipped (0) where there is no /dev/kmq. */
int lease_bench(const char *outdir);

/* ---- topics (fanout.c): publish -> 1, 2, 4, 8 queue subscribers through
 * kmqd; only with -t fanout (it needs kmqd, started if none answers);
 * prints a table and writes fanout.md in @outdir. */
int fanout_bench(const char *outdir);

/* ---- report (report.c) ------------------------------------------------ */

struct machine {
	char cpu[128];
	int cores;
	char kernel[160];
	char virt[128];
	char clocksource[32];
	char load[64];
	char load_end[64];
	char date[32];
	char commit[64];	/* git describe of the tree, if run in one */
};

void machine_probe(struct machine *m);
void machine_load_end(struct machine *m);
void report_markdown(FILE *f, const struct machine *m, const struct result *r, size_t n,
		     const struct sys_ops *const *systems, size_t nsys);
void report_json(FILE *f, const struct machine *m, const struct result *r, size_t n,
		 const struct sys_ops *const *systems, size_t nsys);
int report_plots(const char *dir, const struct result *r, size_t n,
		 const struct sys_ops *const *systems, size_t nsys);

#endif /* KMQ_BENCH_H */
