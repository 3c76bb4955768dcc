/* SPDX-License-Identifier: MIT */
/*
 * The cost of leases: consuming a message with kmq_receive() + kmq_delete_msgs()
 * (SQS semantics: the kernel leases it, then frees it on delete) against a
 * plain receive, which is receive and delete at once, on the copying path
 * (one KMQ_IOC_RECV) and on the mapped fast path (no system call). One
 * process, a prefilled queue, no wake-ups: the figure is the consumer's own
 * cost per message. Every round measures every way back to back; the median
 * round is reported, as ratios to the plain receives of the same run.
 * Needs /dev/kmq (make bench-vm).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include <kmq.h>
#include "bench.h"

#define LQ_CAP		1024
#define LQ_MSG		1024
#define LQ_FILL		512	/* messages consumed per measurement */
#define LQ_SIZE		64
#define LQ_ROUNDS	7

enum lway { L_COPY, L_MAPPED, L_LEASE1, L_LEASE10, NWAYS };

static const char *const way_label[NWAYS] = {
	"plain kmq_recv, copying path (KMQ_IOC_RECV)",
	"plain kmq_recv, mapped fast path",
	"kmq_receive + kmq_delete_msgs, batch 1",
	"kmq_receive + kmq_delete_msgs, batch 10",
};

static void fill(struct kmq *q, unsigned int n)
{
	static const char body[LQ_SIZE];
	unsigned int i;
	int err;

	for (i = 0; i < n; i++)
		if ((err = kmq_send(q, body, sizeof(body), 0)) < 0)
			bench_die("lease: kmq_send: %s", strerror(-err));
}

/*
 * ticks - a cheap counter for the delete's share: the time stamp counter
 * on x86, converted with the clock over the whole measurement. A clock
 * read per batch would charge the lease ways alone with its cost, and
 * where the clocksource has no vDSO (the test VM's hpet) that is a system
 * call of its own, about the cost of a plain receive.
 */
static inline uint64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	return now_ns();
#endif
}

/* consume - take @n messages the @w way; returns ns per message, and
 * for leases the part spent in kmq_delete_msgs() in *@del_ns. */
static double consume(enum lway w, struct kmq *copy, struct kmq *map,
		      unsigned int n, double *del_ns)
{
	static char bufs[KMQ_SQS_BATCH_MAX][LQ_MSG];
	struct kmq_in in[KMQ_SQS_BATCH_MAX];
	uint64_t r[KMQ_SQS_BATCH_MAX], t0, c0, c1, ns, del = 0;
	unsigned int done = 0, batch = w == L_LEASE10 ? KMQ_SQS_BATCH_MAX : 1, i;
	int got, deleted;

	t0 = now_ns();
	c0 = ticks();
	while (done < n) {
		switch (w) {
		case L_COPY:
		case L_MAPPED:
			got = kmq_recv(w == L_COPY ? copy : map, bufs[0], LQ_MSG,
				       NULL, 0);
			if (got < 0)
				bench_die("lease: kmq_recv: %s", strerror(-got));
			done++;
			break;
		default:
			memset(in, 0, sizeof(in));
			for (i = 0; i < batch; i++) {
				in[i].buf = bufs[i];
				in[i].cap = LQ_MSG;
			}
			got = kmq_receive(copy, in, batch, 30, 0);
			if (got <= 0)
				bench_die("lease: kmq_receive: %s", strerror(-got));
			for (i = 0; i < (unsigned int)got; i++)
				r[i] = in[i].receipt;
			c1 = ticks();
			deleted = kmq_delete_msgs(copy, r, NULL, (unsigned int)got);
			del += ticks() - c1;
			if (deleted != got)
				bench_die("lease: kmq_delete_msgs: %d of %d",
					  deleted, got);
			done += (unsigned int)got;
			break;
		}
	}
	ns = now_ns() - t0;
	c1 = ticks() - c0;
	*del_ns = c1 ? (double)del * ns / c1 / done : 0;
	return (double)ns / done;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int lease_bench(const char *outdir)
{
	struct kmq_qattr a = { .capacity = LQ_CAP, .max_msg_size = LQ_MSG,
			       .mode = 0600 };
	double ns[NWAYS][LQ_ROUNDS], dns[NWAYS][LQ_ROUNDS], med[NWAYS],
	       dmed[NWAYS];
	unsigned int rounds = bench_opts.smoke ? 1 : LQ_ROUNDS, n, r, w;
	char name[64], path[1100];
	struct kmq *copy, *map;
	FILE *f;
	int err;

	if (access(KMQ_DEVICE, F_OK)) {
		bench_log("kmq-bench: leases: skipped: no %s (make bench-vm)\n",
			  KMQ_DEVICE);
		return 0;
	}
	n = bench_opts.smoke ? 20 : LQ_FILL;
	snprintf(name, sizeof(name), "bench-lease-%d", (int)getpid());
	kmq_delete(name);
	err = kmq_create(name, &a);
	if (!err)
		err = kmq_open(name, KMQ_SEND | KMQ_RECV, &map);
	if (!err && !kmq_mapped(map))
		err = -EPERM;
	if (!err)
		err = kmq_open(name, KMQ_RECV | KMQ_COPY, &copy);
	if (err) {
		bench_log("kmq-bench: leases: skipped: %s\n", strerror(-err));
		kmq_delete(name);
		return 0;
	}
	/* warm up every way once */
	for (w = 0; w < NWAYS; w++) {
		fill(map, 20);
		consume(w, copy, map, 20, &dns[w][0]);
	}
	for (r = 0; r < rounds; r++)
		for (w = 0; w < NWAYS; w++) {
			fill(map, n);
			ns[w][r] = consume(w, copy, map, n, &dns[w][r]);
		}
	kmq_close(copy);
	kmq_close(map);
	kmq_delete(name);

	for (w = 0; w < NWAYS; w++) {
		qsort(ns[w], rounds, sizeof(double), cmp_double);
		qsort(dns[w], rounds, sizeof(double), cmp_double);
		med[w] = ns[w][rounds / 2];
		dmed[w] = dns[w][rounds / 2];
		bench_log("kmq-bench: leases: %-42s %9.0f ns/msg (median of %u rounds of %u)\n",
			  way_label[w], med[w], rounds, n);
	}
	snprintf(path, sizeof(path), "%s/leases.md", outdir);
	f = fopen(path, "w");
	for (int pass = 0; pass < 2; pass++) {
		FILE *o = pass ? f : stdout;

		if (!o)
			continue;
		fprintf(o, "\n#### Leases: consuming one %d B message (median of %u rounds of %u)\n\n",
			LQ_SIZE, rounds, n);
		fprintf(o, "| way | ns/msg | of which delete | vs plain copy | vs plain mapped |\n"
			"|---|---:|---:|---:|---:|\n");
		for (w = 0; w < NWAYS; w++)
			fprintf(o, "| %s | %.0f | %.0f | %.2fx | %.2fx |\n",
				way_label[w], med[w], dmed[w],
				med[w] / med[L_COPY], med[w] / med[L_MAPPED]);
	}
	if (f)
		fclose(f);
	return 0;
}
