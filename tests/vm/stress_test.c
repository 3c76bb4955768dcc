/* stress_test: many producer and consumer processes on one queue (mapped fast path, copying path, and mixed) deliver every message exactly once and keep each producer's order. */
#include "vmtest.h"

/* KMQ_STRESS_N: messages per producer on the mapped path (default 1000000).
 * KMQ_STRESS_COPY_N: per producer on the copying and mixed runs (default
 * KMQ_STRESS_N / 20, at most 50000, at least 1000). */

#define MAXP	8
#define MAXC	8
#define MSG_MAGIC 0x5354524dU	/* "MRTS" */

struct smsg {
	__u32 producer;
	__u32 magic;
	__u64 seq;
	__u64 check;		/* seq * golden ^ producer: catches torn copies */
};

static __u64 smsg_check(__u32 p, __u64 seq)
{
	return seq * 0x9e3779b97f4a7c15ULL ^ p;
}

struct shared {
	volatile int start;
	volatile int stop;
	volatile int ready;
	__u64 total;			/* P * N */
	__u64 n;			/* per producer */
	__u64 received;
	__u64 dups;
	__u64 order;			/* per-consumer order violations */
	__u64 bad;			/* malformed messages */
	__u64 perr[MAXP];		/* producer error codes */
	__u64 cerr[MAXC];
	__u64 per_consumer[MAXC];
	__u64 bits[];			/* P * N bits */
};

enum cmode { C_RECV, C_BORROW, C_BATCH };
enum pmode { P_SEND, P_BATCH };

static int ctl = -1;

static void setup(void)
{
	ctl = vt_ctl();
	vt_cleanup_prefix();
}

static void teardown(void)
{
	vt_cleanup_prefix();
	if (ctl >= 0)
		close(ctl);
	ctl = -1;
}

static void wait_start(struct shared *sh)
{
	while (!__atomic_load_n(&sh->start, __ATOMIC_ACQUIRE))
		vt_sleep_us(200);
}

static void producer(const char *name, struct shared *sh, __u32 p,
		     enum pmode mode, int copy)
{
	struct smsg batch[16];
	struct kmq_iov iov[16];
	struct kmq *q;
	__u64 seq = 0;
	int err, i;

	err = kmq_open(name, KMQ_SEND | (copy ? KMQ_COPY : 0), &q);
	if (err || kmq_mapped(q) != !copy) {
		sh->perr[p] = err ? (__u64)-err : 1000;
		_exit(2);
	}
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_RELEASE);
	wait_start(sh);
	while (seq < sh->n && !sh->stop) {
		if (mode == P_SEND) {
			struct smsg m = { p, MSG_MAGIC, seq, smsg_check(p, seq) };

			err = kmq_send(q, &m, sizeof(m), 100000000LL);
			if (err == -ETIMEDOUT)
				continue;
			if (err) {
				sh->perr[p] = (__u64)-err;
				_exit(3);
			}
			seq++;
		} else {
			int k = (int)(sh->n - seq < 16 ? sh->n - seq : 16), n;

			for (i = 0; i < k; i++) {
				batch[i] = (struct smsg){ p, MSG_MAGIC, seq + (__u64)i,
							  smsg_check(p, seq + (__u64)i) };
				iov[i].data = &batch[i];
				iov[i].len = sizeof(batch[i]);
			}
			n = kmq_send_batch(q, iov, (unsigned int)k, 100000000LL);
			if (n == -ETIMEDOUT)
				continue;
			if (n <= 0 || n > k) {
				sh->perr[p] = (__u64)(n <= 0 ? -n : 2000);
				_exit(3);
			}
			seq += (__u64)n;	/* the first n went, in order */
		}
	}
	kmq_close(q);
	_exit(0);
}

static int take(struct shared *sh, unsigned int c, __s64 *last, const void *data,
		__u32 len)
{
	struct smsg m;
	__u64 bit, old;

	if (len != sizeof(m)) {
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		return 0;
	}
	memcpy(&m, data, sizeof(m));
	if (m.magic != MSG_MAGIC || m.producer >= MAXP || m.seq >= sh->n ||
	    m.check != smsg_check(m.producer, m.seq)) {
		__atomic_add_fetch(&sh->bad, 1, __ATOMIC_RELAXED);
		return 0;
	}
	if ((__s64)m.seq <= last[m.producer])
		__atomic_add_fetch(&sh->order, 1, __ATOMIC_RELAXED);
	last[m.producer] = (__s64)m.seq;
	bit = m.producer * sh->n + m.seq;
	old = __atomic_fetch_or(&sh->bits[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELAXED);
	if (old & (1ULL << (bit % 64)))
		__atomic_add_fetch(&sh->dups, 1, __ATOMIC_RELAXED);
	sh->per_consumer[c]++;
	__atomic_add_fetch(&sh->received, 1, __ATOMIC_RELAXED);
	return 1;
}

static void consumer(const char *name, struct shared *sh, unsigned int c,
		     enum cmode mode, int copy)
{
	struct kmq_rbuf rb[16];
	char bufs[16][64];
	__s64 last[MAXP];
	struct kmq *q;
	int err, i;

	for (i = 0; i < MAXP; i++)
		last[i] = -1;
	err = kmq_open(name, KMQ_RECV | (copy ? KMQ_COPY : 0), &q);
	if (err || kmq_mapped(q) != !copy) {
		sh->cerr[c] = err ? (__u64)-err : 1000;
		_exit(2);
	}
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_RELEASE);
	wait_start(sh);
	while (__atomic_load_n(&sh->received, __ATOMIC_RELAXED) < sh->total && !sh->stop) {
		if (mode == C_RECV) {
			struct kmq_msg m;
			int n = kmq_recv(q, bufs[0], sizeof(bufs[0]), &m, 50000000LL);

			if (n == -ETIMEDOUT)
				continue;
			if (n < 0) {
				sh->cerr[c] = (__u64)-n;
				_exit(3);
			}
			take(sh, c, last, bufs[0], (__u32)n);
		} else if (mode == C_BORROW) {
			struct kmq_msg m;

			err = kmq_borrow(q, &m, 50000000LL);
			if (err == -ETIMEDOUT)
				continue;
			if (err) {
				sh->cerr[c] = (__u64)-err;
				_exit(3);
			}
			take(sh, c, last, m.data, m.len);
			err = kmq_release(q, &m);
			if (err) {
				sh->cerr[c] = (__u64)-err;
				_exit(4);
			}
		} else {
			int n;

			for (i = 0; i < 16; i++) {
				rb[i].buf = bufs[i];
				rb[i].cap = sizeof(bufs[i]);
			}
			n = kmq_recv_batch(q, rb, 16, 50000000LL);
			if (n == -ETIMEDOUT)
				continue;
			if (n <= 0 || n > 16) {
				sh->cerr[c] = (__u64)(n <= 0 ? -n : 2000);
				_exit(3);
			}
			for (i = 0; i < n; i++)
				take(sh, c, last, rb[i].buf, rb[i].msg.len);
		}
	}
	kmq_close(q);
	_exit(0);
}

struct run {
	const char *what;
	unsigned int np, nc;
	__u64 n;
	int copy_producers, copy_consumers;
	__u32 capacity;
};

static void stress(const struct run *r, const char *suffix)
{
	char nm[KMQ_NAME_LEN];
	struct shared *sh;
	size_t size;
	pid_t pids[MAXP + MAXC];
	struct kmq_info info;
	unsigned int i, np = r->np, nc = r->nc;
	__u64 missing = 0, b;
	double t0, el, deadline;
	int failed = 0;

	vt_qname(nm, suffix);
	ck_assert_err(vt_create(ctl, nm, r->capacity, 64, 0600, 0, 0), 0);
	size = sizeof(*sh) + ((size_t)np * r->n + 63) / 64 * 8;
	sh = vt_shared(size);
	sh->n = r->n;
	sh->total = r->n * np;
	for (i = 0; i < nc; i++) {
		pids[np + i] = fork();
		ck_assert_int_ge(pids[np + i], 0);
		if (pids[np + i] == 0)
			consumer(nm, sh, i, r->copy_consumers ? (i % 2 ? C_BATCH : C_RECV) :
				 (enum cmode)(i % 3), r->copy_consumers);
	}
	for (i = 0; i < np; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0)
			producer(nm, sh, i, i % 2 ? P_BATCH : P_SEND, r->copy_producers);
	}
	deadline = vt_now() + 60;
	while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < (int)(np + nc)) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG);

		if (w > 0 || vt_now() > deadline) {
			sh->stop = 1;
			sh->start = 1;
			ck_abort_msg("a client failed to start (pid %d status %#x)", w, st);
		}
		vt_sleep_ms(2);
	}
	t0 = vt_now();
	__atomic_store_n(&sh->start, 1, __ATOMIC_RELEASE);
	for (i = 0; i < np + nc; i++) {
		int to, st = vt_wait_timeout(pids[i], 480 - (vt_now() - t0), &to);

		if (to) {
			sh->stop = 1;
			failed = 1;
			fprintf(stderr, "stress_test %s: %s %u did not finish (received %llu of %llu)\n",
				r->what, i < np ? "producer" : "consumer", i < np ? i : i - np,
				(unsigned long long)sh->received, (unsigned long long)sh->total);
		} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			sh->stop = 1;
			failed = 1;
			fprintf(stderr, "stress_test %s: %s %u failed: status %#x, error %llu\n",
				r->what, i < np ? "producer" : "consumer", i < np ? i : i - np, st,
				(unsigned long long)(i < np ? sh->perr[i] : sh->cerr[i - np]));
		}
	}
	el = vt_now() - t0;
	for (b = 0; b < sh->total; b++)
		if (!(sh->bits[b / 64] & (1ULL << (b % 64)))) {
			if (missing < 5)
				fprintf(stderr, "stress_test %s: producer %llu seq %llu never received\n",
					r->what, (unsigned long long)(b / sh->n),
					(unsigned long long)(b % sh->n));
			missing++;
		}
	printf("stress_test %s: %u producers x %u consumers x %llu msgs: %llu received in %.2f s = %.0f msgs/s (per consumer:",
	       r->what, np, nc, (unsigned long long)r->n, (unsigned long long)sh->received,
	       el, el > 0 ? sh->received / el : 0.0);
	for (i = 0; i < nc; i++)
		printf(" %llu", (unsigned long long)sh->per_consumer[i]);
	printf(")\n");
	fflush(stdout);
	ck_assert_msg(!failed, "%s: a client failed or hung", r->what);
	ck_assert_msg(sh->bad == 0, "%s: %llu malformed messages", r->what,
		      (unsigned long long)sh->bad);
	ck_assert_msg(sh->dups == 0, "%s: %llu messages received twice", r->what,
		      (unsigned long long)sh->dups);
	ck_assert_msg(missing == 0, "%s: %llu messages never received", r->what,
		      (unsigned long long)missing);
	ck_assert_msg(sh->order == 0, "%s: %llu messages out of their producer's order",
		      r->what, (unsigned long long)sh->order);
	ck_assert_uint_eq(sh->received, sh->total);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_uint_eq(info.corrupt, 0);
	ck_assert_msg(info.sent == sh->total && info.received == sh->total,
		      "%s: INFO sent %llu received %llu, want %llu each", r->what,
		      (unsigned long long)info.sent, (unsigned long long)info.received,
		      (unsigned long long)sh->total);
	ck_assert_err(vt_delete(ctl, nm), 0);
	munmap(sh, size);
}

static __u64 n_mapped(void)
{
	long n = vt_env_long("KMQ_STRESS_N", 1000000);

	return n < 1 ? 1 : (__u64)n;
}

static __u64 n_copy(void)
{
	long d = (long)(n_mapped() / 20);

	if (d > 50000)
		d = 50000;
	if (d < 1000)
		d = 1000;
	d = vt_env_long("KMQ_STRESS_COPY_N", d);
	return d < 1 ? 1 : (__u64)d;
}

/* 4 x 4 through the mapped queue: libkmq's fast path, no syscall per message. */
START_TEST(mapped_4x4)
{
	struct run r = { "mapped", 4, 4, n_mapped(), 0, 0, 1024 };

	stress(&r, "mapped");
}
END_TEST

/* 2 x 2 through the copying path (SEND/RECV ioctls, batches included). */
START_TEST(copying_2x2)
{
	struct run r = { "copying", 2, 2, n_copy(), 1, 1, 256 };

	stress(&r, "copying");
}
END_TEST

/* Mapped producers, copying consumers: the kernel pops what libkmq pushed. */
START_TEST(mixed_mapped_to_copying)
{
	struct run r = { "mixed", 2, 2, n_copy(), 0, 1, 256 };

	stress(&r, "mixed");
}
END_TEST

/* And the other way: copying producers, mapped consumers. */
START_TEST(mixed_copying_to_mapped)
{
	struct run r = { "mixed-rev", 2, 2, n_copy(), 1, 0, 256 };

	stress(&r, "mixedrev");
}
END_TEST

/* A tiny queue (capacity 2) makes producers and consumers sleep and wake
 * each other all the time: the need-wakeup protocol under load. */
START_TEST(tiny_queue_wakeups)
{
	long n = (long)(n_copy() / 2);
	struct run r = { "tiny", 2, 2, (__u64)(n < 1000 ? 1000 : n), 0, 0, 2 };

	stress(&r, "tiny");
}
END_TEST

/*
 * Ping-pong over two queues with no time limits: every message is the only
 * one in flight, so each side sleeps before the other sends. One lost
 * wake-up (a sleeper that misses its need-wakeup flag, or a WAKE that comes
 * too early) hangs the exchange, which the deadline below turns into a
 * failure. _i picks the paths: bit 0 the pinger copies, bit 1 the ponger.
 */
START_TEST(pingpong_no_lost_wakeups)
{
	char ping[KMQ_NAME_LEN], pong[KMQ_NAME_LEN];
	long rounds = vt_env_long("KMQ_PINGPONG_N", 5000);
	volatile long *res = vt_shared(4096);
	int copy_a = _i & 1, copy_b = !!(_i & 2), k, to, st;
	pid_t pids[2];
	double t0;

	vt_qname(ping, "ping");
	vt_qname(pong, "pong");
	ck_assert_err(vt_create(ctl, ping, 1, 16, 0600, 0, 0), 0);
	ck_assert_err(vt_create(ctl, pong, 1, 16, 0600, 0, 0), 0);
	t0 = vt_now();
	for (k = 0; k < 2; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k] == 0) {
			int copy = k ? copy_b : copy_a;
			struct kmq *in, *out;
			long i, v;

			if (kmq_open(k ? ping : pong, KMQ_RECV | (copy ? KMQ_COPY : 0), &in) ||
			    kmq_open(k ? pong : ping, KMQ_SEND | (copy ? KMQ_COPY : 0), &out))
				_exit(2);
			for (i = 0; i < rounds; i++) {
				if (k == 0 && kmq_send(out, &i, sizeof(i), KMQ_FOREVER))
					_exit(3);
				if (kmq_recv(in, &v, sizeof(v), NULL, KMQ_FOREVER) != sizeof(v))
					_exit(4);
				if (v != i)
					_exit(5);
				if (k == 1 && kmq_send(out, &v, sizeof(v), KMQ_FOREVER))
					_exit(3);
				res[k] = i + 1;
			}
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++) {
		st = vt_wait_timeout(pids[k], 200, &to);
		if (to)
			kill(pids[!k], SIGKILL);
		ck_assert_msg(!to, "%s (%s) stuck after %ld of %ld round trips: a lost wake-up",
			      k ? "ponger" : "pinger", (k ? copy_b : copy_a) ? "copying" : "mapped",
			      res[k], rounds);
		ck_assert_child_ok(st, k ? "ponger" : "pinger");
	}
	printf("stress_test pingpong %s -> %s: %ld round trips in %.2f s (%.1f us each)\n",
	       copy_a ? "copying" : "mapped", copy_b ? "copying" : "mapped", rounds,
	       vt_now() - t0, (vt_now() - t0) * 1e6 / (double)rounds);
	ck_assert_err(vt_delete(ctl, ping), 0);
	ck_assert_err(vt_delete(ctl, pong), 0);
}
END_TEST

/*
 * Registry churn: processes race to create (sometimes with another
 * geometry), open, map, send, receive, list and delete the same few names.
 * Only -EEXIST and -ENOENT may come back from the races; nothing may leak
 * (the harness checks the module's accounting at unload) or crash.
 */
START_TEST(registry_churn)
{
	enum { PROCS = 4, NAMES = 3 };
	long iters = vt_env_long("KMQ_CHURN_N", 400);
	volatile long *res = vt_shared(4096);
	pid_t pids[PROCS];
	int p, k, to;

	for (p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			__u64 seed = vt_seed() + (__u64)p * 7919;
			int c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
			long i;

			if (c < 0)
				_exit(2);
			for (i = 0; i < iters; i++) {
				char nm[KMQ_NAME_LEN], sfx[16], buf[64];
				int op = (int)(vt_rand(&seed) % 6);
				long r = 0, q;

				snprintf(sfx, sizeof(sfx), "churn%d", (int)(vt_rand(&seed) % NAMES));
				vt_qname(nm, sfx);
				switch (op) {
				case 0:
				case 1:
					r = vt_create(c, nm, vt_rand(&seed) % 4 ? 8 : 16, 64, 0600,
						      vt_rand(&seed) % 8 ? 0 : KMQ_CREATE_EXCL,
						      vt_rand(&seed) % 2 ? KMQ_OPEN_SEND : 0);
					if (r > 0) {
						vt_send((int)r, "c", 1, KMQ_IO_NONBLOCK, 0, NULL);
						close((int)r);
						r = 0;
					}
					break;
				case 2:
					r = vt_delete(c, nm);
					break;
				case 3:
					q = vt_open(c, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP);
					r = q < 0 ? q : 0;
					if (q >= 0) {
						struct kmq_info info;
						void *m;

						if (vt_qinfo((int)q, &info))
							_exit(3);
						m = mmap(NULL, info.size, PROT_READ | PROT_WRITE,
							 MAP_SHARED, (int)q, 0);
						if (m == MAP_FAILED)
							_exit(4);
						vt_send((int)q, "m", 1, KMQ_IO_NONBLOCK, 0, NULL);
						vt_recv((int)q, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL);
						if (vt_rand(&seed) % 2)
							vt_delete(c, nm);
						munmap(m, info.size);
						close((int)q);
					}
					break;
				case 4: {
					struct kmq_info infos[8];
					struct kmq_list l;

					memset(&l, 0, sizeof(l));
					l.infos = (__u64)(uintptr_t)infos;
					l.count = 8;
					r = vt_ioctl(c, KMQ_IOC_LIST, &l);
					break;
				}
				default: {
					struct kmq_info info;

					r = vt_info(c, nm, &info);
					break;
				}
				}
				if (r && r != -EEXIST && r != -ENOENT) {
					res[p] = r;
					_exit(5);
				}
			}
			_exit(0);
		}
	}
	for (p = 0; p < PROCS; p++) {
		int st = vt_wait_timeout(pids[p], 300, &to);

		ck_assert_msg(!to, "churn process %d hung", p);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "churn process %d: status %#x, last error %ld", p, st, res[p]);
	}
	for (k = 0; k < NAMES; k++) {
		char nm[KMQ_NAME_LEN], sfx[16];
		struct kmq_info info;

		snprintf(sfx, sizeof(sfx), "churn%d", k);
		vt_qname(nm, sfx);
		if (vt_info(ctl, nm, &info) == 0) {
			ck_assert_uint_eq(info.clients, 0);
			ck_assert_err(vt_delete(ctl, nm), 0);
		}
	}
}
END_TEST

static Suite *stress_suite(void)
{
	Suite *s = suite_create("stress");
	TCase *tc = tcase_create("stress");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* Multiplied by CK_TIMEOUT_MULTIPLIER (20 in the VM). */
	tcase_set_timeout(tc, 25);
	tcase_add_test(tc, mapped_4x4);
	tcase_add_test(tc, copying_2x2);
	tcase_add_test(tc, mixed_mapped_to_copying);
	tcase_add_test(tc, mixed_copying_to_mapped);
	tcase_add_test(tc, tiny_queue_wakeups);
	tcase_add_loop_test(tc, pingpong_no_lost_wakeups, 0, 4);
	tcase_add_test(tc, registry_churn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "stress_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	return vt_run(stress_suite());
}
