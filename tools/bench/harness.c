/* SPDX-License-Identifier: MIT */
/*
 * The harness: one process per role, forked from the benchmark (no exec),
 * pinned, started together, timed with CLOCK_MONOTONIC (vDSO; comparable
 * across processes of one host), stopped with an in-band STOP message and,
 * as a last resort, SIGKILL. Every test has a warm-up that is not recorded.
 *
 *   ping-pong:  A sends, B receives and answers with a message of the same
 *               size, A receives: RTT/2 per round trip.
 *   open loop:  the sender sends at a fixed rate; the intended send time is
 *               stamped in the message, so a stall delays every message
 *               behind it and shows (no coordinated omission).
 *   throughput: producers send as fast as the queue takes messages;
 *               consumers count what they receive over a timed window.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

struct bench_opts bench_opts;

/* Shared between the parent and the processes of one test. */
struct ctl {
	_Atomic int ready;		/* processes that opened their endpoints */
	_Atomic int go;
	_Atomic int stop;		/* parent: stop producing / give up */
	_Atomic int prod_done;		/* producers that sent their STOPs */
	_Atomic int recv_done;		/* receivers that got their STOPs */
	uint64_t t_go, t_warm, t_end;	/* CLOCK_MONOTONIC ns */
	struct {
		_Alignas(128) _Atomic uint64_t msgs;
		uint64_t bad;
		uint64_t sink;
	} cnt[BENCH_MAX_PROCS];
	_Alignas(128) struct hist hist;	/* the receiver's latencies */
};

struct test {
	struct result *r;
	struct chan ch[2];
	int nch;
	struct ctl *ctl;
	unsigned int nprod, ncons;	/* throughput */
	int nprocs;
	pid_t pid[BENCH_MAX_PROCS];
	int cpu[BENCH_MAX_PROCS];
};

static unsigned int test_seq;

const char *topo_name(enum topo t)
{
	switch (t) {
	case TOPO_1_1: return "1->1";
	case TOPO_N_1: return "4->1";
	case TOPO_1_N: return "1->4";
	}
	return "?";
}

const char *mode_name(enum wait_mode m)
{
	return m == WAIT_SPIN ? "spin" : "block";
}

const char *kind_name(enum test_kind k)
{
	switch (k) {
	case TEST_PINGPONG: return "pingpong";
	case TEST_OPENLOOP: return "oneway";
	case TEST_THROUGHPUT: return "throughput";
	}
	return "?";
}

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kmq-bench[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	_exit(3);
}

void bench_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

void *bench_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Queue depth for a message size: 256 messages, at most ~16 MiB queued. */
unsigned int bench_depth(size_t size)
{
	size_t d = (16u << 20) / size;

	if (d > 256)
		d = 256;
	if (d < 16)
		d = 16;
	return (unsigned int)d;
}

/* ---- pinning ----------------------------------------------------------- */

/*
 * Producers on one side of the CPU list, consumers on the other; every
 * process on its own CPU when there are enough, else round-robin within its
 * side (2 CPUs: all producers on the first, all consumers on the second).
 */
static void assign_cpus(struct test *t, unsigned int nsend, unsigned int nrecv)
{
	int n = bench_opts.ncpu;
	unsigned int i;

	for (i = 0; i < nsend + nrecv; i++) {
		bool send = i < nsend;
		unsigned int k = send ? i : i - nsend;
		int lo, cnt;

		if ((unsigned int)n >= nsend + nrecv) {
			t->cpu[i] = bench_opts.cpus[i];
			continue;
		}
		if (n == 1) {
			t->cpu[i] = bench_opts.cpus[0];
			continue;
		}
		/* split the CPUs in proportion, at least one per side */
		cnt = (int)((n * nsend) / (nsend + nrecv));
		if (cnt < 1)
			cnt = 1;
		if (cnt > n - 1)
			cnt = n - 1;
		lo = send ? 0 : cnt;
		cnt = send ? cnt : n - cnt;
		t->cpu[i] = bench_opts.cpus[lo + (int)(k % (unsigned int)cnt)];
	}
}

const char *pinning_note(enum topo t)
{
	static char buf[3][160];
	char *b = buf[t];
	int n = bench_opts.ncpu;

	if (n == 1)
		return "one CPU: all processes share it";
	if (t == TOPO_1_1 || n >= 1 + BENCH_FANOUT)
		return "each process on its own CPU";
	snprintf(b, sizeof(buf[0]), "%d CPUs for %d processes: the %s share one side "
		 "(producers on the first CPU(s), consumers on the others)", n,
		 1 + BENCH_FANOUT, t == TOPO_N_1 ? "4 producers" : "4 consumers");
	return b;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("sched_setaffinity(%d): %s", cpu, strerror(errno));
}

/* ---- messages ---------------------------------------------------------- */

static void fill(void *buf, size_t len, uint64_t seq, uint64_t t, uint32_t kind)
{
	struct msg_hdr *h = buf;
	uint64_t tr = seq ^ MSG_TRAILER;

	h->seq = seq;
	h->t_ns = t;
	h->kind = kind;
	h->len = (uint32_t)len;
	h->pad = 0;
	memset((char *)buf + sizeof(*h), (int)(seq & 0xff), len - sizeof(*h) - 8);
	memcpy((char *)buf + len - 8, &tr, 8);
}

/* Read the whole message (every byte), check its trailer. */
static bool consume(const void *buf, size_t len, struct msg_hdr *h, uint64_t *sink)
{
	const unsigned char *p = buf;
	uint64_t s = 0, tr, w;
	size_t i;

	if (len < MSG_MIN_SIZE)
		return false;
	memcpy(h, buf, sizeof(*h));
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		s += w;
	}
	*sink += s;
	memcpy(&tr, p + len - 8, 8);
	return tr == (h->seq ^ MSG_TRAILER) && h->len == len;
}

/* ---- the processes ----------------------------------------------------- */

static struct test *cur;

static const void *recv_wait(const struct sys_ops *o, void *ep, size_t *len,
			     bool give_up_when_done)
{
	struct ctl *c = cur->ctl;
	const void *m;

	for (;;) {
		m = o->recv(ep, len);
		if (m)
			return m;
		if (atomic_load_explicit(&c->stop, memory_order_relaxed)) {
			if (!give_up_when_done)
				_exit(4);	/* the parent gave up */
			if (atomic_load(&c->prod_done) == (int)cur->nprod)
				return NULL;
		}
		cpu_relax();
	}
}

static void send_msg(const struct sys_ops *o, void *ep, size_t size, uint64_t seq,
		     uint64_t t, uint32_t kind)
{
	void *buf = o->loan(ep, size);

	fill(buf, size, seq, t, kind);
	o->send(ep, buf, size);
}

static void wait_go(struct ctl *c)
{
	atomic_fetch_add(&c->ready, 1);
	while (!atomic_load(&c->go)) {
		if (atomic_load(&c->stop))
			_exit(4);
		usleep(100);
	}
}

/* Senders of asynchronous systems (ZeroMQ, NNG) may drop what is still
 * queued when they close: wait until the receivers are through, for a
 * while. */
static void wait_receivers(struct ctl *c, int n)
{
	uint64_t until = now_ns() + 3000000000ULL;

	while (atomic_load(&c->recv_done) < n && now_ns() < until)
		usleep(200);
}

static void recv_finished(struct ctl *c)
{
	atomic_fetch_add(&c->recv_done, 1);
}

static void pingpong_a(struct test *t)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	size_t size = t->r->size, len;
	void *s = o->open(&t->ch[0], ROLE_SEND, 0);
	void *r = o->open(&t->ch[1], ROLE_RECV, 0);
	struct msg_hdr h;
	uint64_t seq;

	wait_go(c);
	for (seq = 0;; seq++) {
		uint64_t t0 = now_ns(), t1;
		const void *m;

		if (t0 >= c->t_end)
			break;
		send_msg(o, s, size, seq, t0, MSG_DATA);
		m = recv_wait(o, r, &len, false);
		if (!consume(m, len, &h, &c->cnt[0].sink) || h.seq != seq)
			c->cnt[0].bad++;
		o->release(r, m);
		t1 = now_ns();
		if (t0 >= c->t_warm)
			hist_record(&c->hist, (t1 - t0) / 2);
	}
	send_msg(o, s, size, seq, 0, MSG_STOP);
	wait_receivers(c, 1);
	o->close(r);
	o->close(s);
}

static void pingpong_b(struct test *t)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	size_t size = t->r->size, len;
	void *r = o->open(&t->ch[0], ROLE_RECV, 0);
	void *s = o->open(&t->ch[1], ROLE_SEND, 0);
	struct msg_hdr h;

	wait_go(c);
	for (;;) {
		const void *m = recv_wait(o, r, &len, false);

		if (!consume(m, len, &h, &c->cnt[1].sink))
			c->cnt[1].bad++;
		o->release(r, m);
		if (h.kind == MSG_STOP)
			break;
		send_msg(o, s, size, h.seq, h.t_ns, MSG_DATA);
	}
	recv_finished(c);
	o->close(s);
	o->close(r);
}

static void openloop_send(struct test *t)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	size_t size = t->r->size;
	void *s = o->open(&t->ch[0], ROLE_SEND, 0);
	double period = 1e9 / bench_opts.rate;
	uint64_t seq;

	wait_go(c);
	for (seq = 0;; seq++) {
		uint64_t due = c->t_go + (uint64_t)(period * (double)(seq + 1));

		if (due >= c->t_end)
			break;
		while (now_ns() < due)
			cpu_relax();
		send_msg(o, s, size, seq, due, MSG_DATA);
	}
	send_msg(o, s, size, seq, 0, MSG_STOP);
	wait_receivers(c, 1);
	o->close(s);
}

static void openloop_recv(struct test *t)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	void *r = o->open(&t->ch[0], ROLE_RECV, 0);
	size_t len;
	struct msg_hdr h;

	wait_go(c);
	for (;;) {
		const void *m = recv_wait(o, r, &len, false);
		bool ok = consume(m, len, &h, &c->cnt[1].sink);
		uint64_t t1;

		o->release(r, m);
		t1 = now_ns();
		if (h.kind == MSG_STOP)
			break;
		if (!ok)
			c->cnt[1].bad++;
		if (h.t_ns >= c->t_warm)
			hist_record(&c->hist, t1 - h.t_ns);
	}
	recv_finished(c);
	o->close(r);
}

static void tp_produce(struct test *t, unsigned int idx)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	size_t size = t->r->size;
	void *s = o->open(&t->ch[0], ROLE_SEND, idx);
	uint64_t seq = 0;
	unsigned int i;

	wait_go(c);
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed))
		send_msg(o, s, size, seq++, 0, MSG_DATA);
	for (i = 0; i < t->ncons; i++)
		send_msg(o, s, size, seq++, 0, MSG_STOP);
	atomic_fetch_add(&c->prod_done, 1);
	wait_receivers(c, (int)t->ncons);
	o->close(s);
}

static void tp_consume(struct test *t, unsigned int idx, unsigned int slot)
{
	const struct sys_ops *o = t->r->sys;
	struct ctl *c = t->ctl;
	void *r = o->open(&t->ch[0], ROLE_RECV, idx);
	unsigned int stops = 0;
	uint64_t n = 0;
	struct msg_hdr h;
	size_t len;

	wait_go(c);
	while (stops < t->nprod) {
		const void *m = recv_wait(o, r, &len, true);

		if (!m)
			break;		/* producers are done, queue drained */
		if (!consume(m, len, &h, &c->cnt[slot].sink))
			c->cnt[slot].bad++;
		o->release(r, m);
		if (h.kind == MSG_STOP) {
			stops++;
			continue;
		}
		atomic_store_explicit(&c->cnt[slot].msgs, ++n, memory_order_relaxed);
	}
	recv_finished(c);
	o->close(r);
}

static void child(struct test *t, int i)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	sigaction(SIGINT, &sa, NULL);
	pin(t->cpu[i]);
	switch (t->r->kind) {
	case TEST_PINGPONG:
		if (i == 0)
			pingpong_a(t);
		else
			pingpong_b(t);
		break;
	case TEST_OPENLOOP:
		if (i == 0)
			openloop_send(t);
		else
			openloop_recv(t);
		break;
	case TEST_THROUGHPUT:
		if ((unsigned int)i < t->nprod)
			tp_produce(t, (unsigned int)i);
		else
			tp_consume(t, (unsigned int)i - t->nprod, (unsigned int)i);
		break;
	}
	/* exit(), not _exit(): libraries' exit handlers run, e.g. the iceoryx
	 * runtime's destructor, which unregisters from RouDi and removes its
	 * socket (stdio was flushed before the fork) */
	exit(0);
}

/* ---- the parent -------------------------------------------------------- */

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t received(struct ctl *c, struct test *t)
{
	uint64_t s = 0;
	int i;

	for (i = (int)t->nprod; i < t->nprocs; i++)
		s += atomic_load(&c->cnt[i].msgs);
	return s;
}

/* Reap children until all are gone or @deadline passes. Returns how many are
 * still running; sets *failed to a message on a bad exit. */
static int reap(struct test *t, uint64_t deadline, double *cpu_s, const char **failed)
{
	static char why[96];
	int left = 0, i;

	for (;;) {
		left = 0;
		for (i = 0; i < t->nprocs; i++) {
			struct rusage ru;
			int st;
			pid_t p;

			if (t->pid[i] <= 0)
				continue;
			p = wait4(t->pid[i], &st, WNOHANG, &ru);
			if (p == 0) {
				left++;
				continue;
			}
			t->pid[i] = 0;
			if (p < 0)
				continue;
			*cpu_s += (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
				  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
			if (!*failed && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
				if (WIFSIGNALED(st))
					snprintf(why, sizeof(why), "process %d killed by signal %d",
						 i, WTERMSIG(st));
				else
					snprintf(why, sizeof(why), "process %d exited with %d",
						 i, WEXITSTATUS(st));
				*failed = why;
			}
		}
		if (!left || now_ns() >= deadline)
			return left;
		usleep(1000);
	}
}

static void kill_all(struct test *t, double *cpu_s)
{
	const char *ignore = NULL;
	int i;

	for (i = 0; i < t->nprocs; i++)
		if (t->pid[i] > 0)
			kill(t->pid[i], SIGKILL);
	reap(t, now_ns() + 5000000000ULL, cpu_s, &ignore);
}

static void fill_latency(struct result *r, const struct hist *h)
{
	r->n = h->n;
	if (!h->n)
		return;
	r->p50 = hist_percentile(h, 50);
	r->p90 = hist_percentile(h, 90);
	r->p99 = hist_percentile(h, 99);
	r->p999 = hist_percentile(h, 99.9);
	r->max = h->max;
	r->min = h->min;
	r->mean = h->sum / (double)h->n;
}

int run_test(struct result *r)
{
	const struct sys_ops *o = r->sys;
	struct test t = { .r = r };
	struct ctl *c;
	uint64_t warm = (uint64_t)(bench_opts.warm_s * 1e9), dur, deadline;
	double cpu_s = 0;
	const char *failed = NULL;
	int i, left;

	r->skip = o->unsupported ? o->unsupported(r->topo, r->mode, r->size) : NULL;
	if (r->skip)
		return 0;
	c = bench_shared_alloc(sizeof(*c));
	if (!c) {
		r->fail = "out of memory";
		return -1;
	}
	hist_reset(&c->hist);
	t.ctl = c;
	test_seq++;

	switch (r->kind) {
	case TEST_PINGPONG:
		t.nch = 2;
		t.nprocs = 2;
		t.nprod = 1;
		dur = (uint64_t)(bench_opts.lat_s * 1e9);
		break;
	case TEST_OPENLOOP:
		t.nch = 1;
		t.nprocs = 2;
		t.nprod = 1;
		dur = (uint64_t)(bench_opts.ol_s * 1e9);
		break;
	default:
		t.nch = 1;
		t.nprod = r->topo == TOPO_N_1 ? BENCH_FANOUT : 1;
		t.ncons = r->topo == TOPO_1_N ? BENCH_FANOUT : 1;
		t.nprocs = (int)(t.nprod + t.ncons);
		dur = (uint64_t)(bench_opts.tp_s * 1e9);
		break;
	}
	assign_cpus(&t, r->kind == TEST_THROUGHPUT ? t.nprod : 1,
		    r->kind == TEST_THROUGHPUT ? t.ncons : 1);

	for (i = 0; i < t.nch; i++) {
		struct chan *ch = &t.ch[i];
		int err;

		ch->ops = o;
		ch->cfg.size = r->size;
		ch->cfg.depth = bench_depth(r->size);
		ch->cfg.nprod = r->kind == TEST_THROUGHPUT ? t.nprod : 1;
		ch->cfg.ncons = r->kind == TEST_THROUGHPUT ? t.ncons : 1;
		ch->cfg.mode = r->mode;
		snprintf(ch->cfg.tag, sizeof(ch->cfg.tag), "kmqb%dx%uc%d",
			 (int)getpid(), test_seq, i);
		err = o->chan_create(ch);
		if (err) {
			static char why[96];

			snprintf(why, sizeof(why), "channel setup failed: %s", strerror(-err));
			r->fail = why;
			while (--i >= 0)
				o->chan_destroy(&t.ch[i]);
			munmap(c, sizeof(*c));
			return -1;
		}
	}

	cur = &t;
	fflush(NULL);
	for (i = 0; i < t.nprocs; i++) {
		pid_t p = fork();

		if (p == 0)
			child(&t, i);
		if (p < 0) {
			failed = "fork failed";
			atomic_store(&c->stop, 1);
			break;
		}
		t.pid[i] = p;
	}

	/* start together once everyone has opened its endpoints */
	deadline = now_ns() + (uint64_t)((10.0 + 20 * bench_opts.warm_s) * 1e9);
	while (!failed && atomic_load(&c->ready) < t.nprocs) {
		if (now_ns() > deadline) {
			failed = "processes did not get ready";
			break;
		}
		if (reap(&t, 0, &cpu_s, &failed) < t.nprocs && !failed)
			failed = "a process exited before the start";
		usleep(200);
	}
	if (failed) {
		atomic_store(&c->stop, 1);
		kill_all(&t, &cpu_s);
		goto out;
	}
	c->t_go = now_ns();
	c->t_warm = c->t_go + warm;
	c->t_end = c->t_warm + dur;
	atomic_store(&c->go, 1);

	if (r->kind == TEST_THROUGHPUT) {
		uint64_t n0, n1, t0, t1, wait_left;

		sleep_ns(warm);
		t0 = now_ns();
		n0 = received(c, &t);
		sleep_ns(dur);
		t1 = now_ns();
		n1 = received(c, &t);
		atomic_store(&c->stop, 1);
		r->msgs_per_s = (double)(n1 - n0) * 1e9 / (double)(t1 - t0);
		r->bytes_per_s = r->msgs_per_s * (double)r->size;
		r->n = n1 - n0;
		wait_left = 2000000000ULL + dur;
		left = reap(&t, now_ns() + wait_left, &cpu_s, &failed);
		if (left) {
			/* consumers of a round-robin distributor can miss their
			 * STOP; the window was measured already */
			snprintf(r->note, sizeof(r->note), "%d process(es) killed after the window",
				 left);
			kill_all(&t, &cpu_s);
		}
		if (n1 == n0 && !failed) {
			if (bench_opts.smoke)	/* a 20 ms window on a busy box */
				snprintf(r->note, sizeof(r->note), "no message in the window");
			else
				failed = "no message received";
		}
		if (received(c, &t))
			r->cpu_ns_per_msg = cpu_s * 1e9 / (double)received(c, &t);
	} else {
		deadline = c->t_end + (uint64_t)((5.0 + 2 * bench_opts.ol_s) * 1e9);
		left = reap(&t, deadline, &cpu_s, &failed);
		if (left) {
			if (!failed)
				failed = "timed out";
			atomic_store(&c->stop, 1);
			reap(&t, now_ns() + 500000000ULL, &cpu_s, &failed);
			kill_all(&t, &cpu_s);
		}
		fill_latency(r, &c->hist);
		if (!r->n && !failed) {
			if (bench_opts.smoke)
				snprintf(r->note, sizeof(r->note), "no sample in the window");
			else
				failed = "no sample recorded";
		}
	}
	for (i = 0; i < t.nprocs; i++)
		r->bad += c->cnt[i].bad;
	if (r->bad && !failed)
		failed = "corrupt messages received";
out:
	for (i = 0; i < t.nch; i++)
		o->chan_destroy(&t.ch[i]);
	r->fail = failed;
	munmap(c, sizeof(*c));
	return failed ? -1 : 0;
}
