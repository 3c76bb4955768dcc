// SPDX-License-Identifier: GPL-2.0
/*
 * kmq-bench -t fanout: topics. One publisher (kmq_publish, 64 B bodies)
 * into a topic with 1, 2, 4 and 8 raw queue subscribers, each drained by
 * its own thread: messages/s per subscriber and in total when saturated,
 * and publish-to-receive latency percentiles at a paced, unsaturated rate.
 * Needs kmqd: the one at $KMQ_SOCKET, else one started here ($KMQD, else
 * build/bin/kmqd) on a private socket and state directory.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <kmq.h>
#include "bench.h"

#define FO_SIZE		64
#define FO_MAXSUB	8
#define FO_PACE_NS	100000		/* latency run: 10k publishes/s */

struct fo_sub {
	char queue[96];
	unsigned long want;
	unsigned long got;
	uint64_t *lat;			/* latency run: ns per message */
	uint64_t last_ns;
	pthread_t th;
};

static bool spin;	/* KMQ_BENCH_FANOUT_SPIN=1: subscribers poll, never sleep */

static void *consumer(void *arg)
{
	struct fo_sub *s = arg;
	struct kmq *q;
	char buf[256];

	if (kmq_open(s->queue, KMQ_RECV, &q))
		return NULL;
	while (s->got < s->want) {
		int n = kmq_recv(q, buf, sizeof(buf), NULL, spin ? 0 : 5000000000LL);
		uint64_t t;

		if (n == -EAGAIN && spin)
			continue;
		if (n < 0)
			break;
		t = now_ns();
		if (s->lat) {
			uint64_t sent;

			memcpy(&sent, buf, sizeof(sent));
			s->lat[s->got] = t - sent;
		}
		s->got++;
		s->last_ns = t;
	}
	kmq_close(q);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static pid_t start_kmqd(char *dir, size_t len)
{
	const char *bin = getenv("KMQD") ? getenv("KMQD") : "build/bin/kmqd";
	char sock[128], state[128];
	pid_t pid;
	int i;

	snprintf(dir, len, "/tmp/kmq-bench-fanout.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/kmqd.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	setenv("KMQ_SOCKET", sock, 1);
	if (access(KMQ_DEVICE, F_OK))
		setenv("KMQ_BACKEND", "shm", 1);
	pid = fork();
	if (!pid) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(126);
		execl(bin, bin, "-s", sock, "-d", state, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if (!kmq_topic_call("{\"op\":\"list-topics\"}", NULL))
			return pid;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* run - one topic with @nsub subscribers; @n messages, paced or not. */
static int run(int nsub, unsigned long n, bool paced, double *per_sub,
	       uint64_t pct[3])
{
	struct kmq_qattr qa = { .capacity = 8192, .max_msg_size = 256, .mode = 0600 };
	struct kmq_qattr ia = { .capacity = 4096, .max_msg_size = 512, .mode = 0600 };
	struct fo_sub subs[FO_MAXSUB] = { 0 };
	char topic[32], req[1024], body[FO_SIZE] = { 0 };
	struct kmq_topic *t;
	uint64_t t0, end = 0, next;
	unsigned long i;
	int s, err;

	snprintf(topic, sizeof(topic), "bench-fo-%d-%d", (int)getpid(), nsub);
	kmq_topic_delete(topic);
	err = kmq_topic_create(topic, &ia, NULL);
	if (err)
		return err;
	for (s = 0; s < nsub; s++) {
		snprintf(subs[s].queue, sizeof(subs[s].queue), "%s-q%d", topic, s);
		kmq_delete(subs[s].queue);
		err = kmq_create(subs[s].queue, &qa);
		if (err)
			return err;
		snprintf(req, sizeof(req), "{\"op\":\"subscribe\",\"topic\":\"%.31s\",\"protocol\":\"queue\","
			 "\"endpoint\":\"%.95s\",\"attributes\":{\"RawMessageDelivery\":\"true\"}}",
			 topic, subs[s].queue);
		err = kmq_topic_call(req, NULL);
		if (err)
			return err;
		subs[s].want = n;
		if (paced)
			subs[s].lat = calloc(n, sizeof(uint64_t));
		pthread_create(&subs[s].th, NULL, consumer, &subs[s]);
	}
	err = kmq_topic_open(topic, &t);
	if (err)
		return err;
	t0 = now_ns();
	next = t0;
	for (i = 0; i < n; i++) {
		struct kmq_pub_msg m = { .body = body, .len = FO_SIZE };
		uint64_t now;

		if (paced && (now = now_ns()) < next) {
			/* Sleep, not spin: two vCPUs are shared with kmqd
			 * and the subscribers. */
			struct timespec ts = { 0, (long)(next - now) };

			nanosleep(&ts, NULL);
		}
		now = now_ns();
		memcpy(body, &now, sizeof(now));
		if (kmq_publish(t, &m, 1, 5000000000LL) != 1) {
			bench_log("kmq-bench: fanout: publish %lu failed: %s\n", i,
				  strerror(-m.status));
			break;
		}
		next += FO_PACE_NS;
	}
	kmq_topic_close(t);
	for (s = 0; s < nsub; s++) {
		pthread_join(subs[s].th, NULL);
		if (subs[s].got < n)
			bench_log("kmq-bench: fanout: subscriber %d got %lu of %lu\n", s,
				  subs[s].got, n);
		if (subs[s].last_ns > end)
			end = subs[s].last_ns;
	}
	*per_sub = (double)n / ((double)(end - t0) / 1e9);
	if (paced) {
		uint64_t *all = calloc((size_t)n * nsub, sizeof(uint64_t));
		unsigned long k = 0;

		for (s = 0; s < nsub; s++)
			for (i = 0; i < subs[s].got; i++)
				all[k++] = subs[s].lat[i];
		qsort(all, k, sizeof(uint64_t), cmp_u64);
		pct[0] = k ? all[k / 2] : 0;
		pct[1] = k ? all[k * 99 / 100] : 0;
		pct[2] = k ? all[k * 999 / 1000] : 0;
		free(all);
	}
	for (s = 0; s < nsub; s++) {
		free(subs[s].lat);
		kmq_delete(subs[s].queue);
	}
	kmq_topic_delete(topic);
	return 0;
}

int fanout_bench(const char *outdir)
{
	static const int nsubs[] = { 1, 2, 4, 8 };
	double rate[4] = { 0 }, dummy;
	uint64_t pct[4][3] = { { 0 } };
	unsigned long n = bench_opts.smoke ? 2000 : 200000, nl = bench_opts.smoke ? 500 : 10000;
	char dir[64] = "", path[1100];
	pid_t kmqd = 0;
	unsigned int i;
	FILE *f;
	int err;

	spin = getenv("KMQ_BENCH_FANOUT_SPIN") && !strcmp(getenv("KMQ_BENCH_FANOUT_SPIN"), "1");
	if (kmq_topic_call("{\"op\":\"list-topics\"}", NULL)) {
		kmqd = start_kmqd(dir, sizeof(dir));
		if (kmqd < 0) {
			bench_log("kmq-bench: fanout: skipped: no kmqd\n");
			return 0;
		}
	}
	for (i = 0; i < 4; i++) {
		err = run(nsubs[i], n, false, &rate[i], NULL);
		if (!err)
			err = run(nsubs[i], nl, true, &dummy, pct[i]);
		if (err) {
			bench_log("kmq-bench: fanout: %d subscribers: %s\n", nsubs[i], strerror(-err));
			continue;
		}
		bench_log("kmq-bench: fanout: %d subscribers: %.0f msg/s each, %.0f total; "
			  "latency at 10k/s p50 %llu ns p99 %llu ns p99.9 %llu ns\n",
			  nsubs[i], rate[i], rate[i] * nsubs[i],
			  (unsigned long long)pct[i][0], (unsigned long long)pct[i][1],
			  (unsigned long long)pct[i][2]);
	}
	if (kmqd > 0) {
		char cmd[128];

		kill(kmqd, SIGTERM);
		waitpid(kmqd, NULL, 0);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			bench_log("kmq-bench: fanout: could not remove %s\n", dir);
	}
	snprintf(path, sizeof(path), "%s/fanout.md", outdir);
	f = fopen(path, "w");
	for (int pass = 0; pass < 2; pass++) {
		FILE *o = pass ? f : stdout;

		if (!o)
			continue;
		fprintf(o, "\n#### Topics: publish -> N raw queue subscribers, %d B (%lu messages saturated; latency: %lu at 10k/s)\n\n",
			FO_SIZE, n, nl);
		fprintf(o, "| subscribers | msg/s per subscriber | msg/s total | p50 | p99 | p99.9 |\n"
			"|---:|---:|---:|---:|---:|---:|\n");
		for (i = 0; i < 4; i++)
			fprintf(o, "| %d | %.0f | %.0f | %.1f us | %.1f us | %.1f us |\n",
				nsubs[i], rate[i], rate[i] * nsubs[i], pct[i][0] / 1e3,
				pct[i][1] / 1e3, pct[i][2] / 1e3);
	}
	if (f)
		fclose(f);
	return 0;
}
