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
/* Latency runs, unsaturated: publishes paced at 1k/s and at 10k/s. */
static const unsigned int fo_rates[] = { 1000, 10000 };
#define FO_NRATES	2

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

/*
 * The peer for the latency runs: the same two blocking hops with pipes. A
 * relay process (as kmqd is) reads each 64 B message from the publisher's
 * pipe and writes it into one pipe per subscriber thread. What kmq's
 * publish -> kmqd -> subscriber costs beyond the two wake-ups shows as the
 * ratio between the two in the same run.
 */
struct pp_sub {
	int fd;
	unsigned long want, got;
	uint64_t *lat;
	pthread_t th;
};

static void *pp_consumer(void *arg)
{
	struct pp_sub *s = arg;
	char buf[FO_SIZE];

	while (s->got < s->want) {
		uint64_t sent;

		if (read(s->fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			break;
		memcpy(&sent, buf, sizeof(sent));
		s->lat[s->got++] = now_ns() - sent;
	}
	return NULL;
}

static void pp_relay(int in, const int *out, int nsub)
{
	char buf[FO_SIZE];
	int s;

	while (read(in, buf, sizeof(buf)) == (ssize_t)sizeof(buf))
		for (s = 0; s < nsub; s++)
			if (write(out[s], buf, sizeof(buf)) != (ssize_t)sizeof(buf))
				_exit(1);
	_exit(0);
}

static void percentiles(uint64_t *all, unsigned long k, uint64_t pct[3]);

/* run_pipe - the pipe relay with @nsub subscribers, @n messages paced at
 * @rate/s; latency percentiles in @pct. */
static int run_pipe(int nsub, unsigned long n, unsigned int rate, uint64_t pct[3])
{
	struct pp_sub subs[FO_MAXSUB] = { 0 };
	int in[2], out[FO_MAXSUB][2], wfd[FO_MAXSUB], s;
	uint64_t next, pace_ns = 1000000000ULL / rate, *all;
	char body[FO_SIZE] = { 0 };
	unsigned long i, k = 0;
	pid_t relay;

	if (pipe(in))
		return -errno;
	for (s = 0; s < nsub; s++) {
		if (pipe(out[s]))
			return -errno;
		wfd[s] = out[s][1];
	}
	relay = fork();
	if (relay < 0)
		return -errno;
	if (!relay) {
		close(in[1]);
		for (s = 0; s < nsub; s++)
			close(out[s][0]);
		pp_relay(in[0], wfd, nsub);
	}
	close(in[0]);
	for (s = 0; s < nsub; s++) {
		close(out[s][1]);
		subs[s].fd = out[s][0];
		subs[s].want = n;
		subs[s].lat = calloc(n, sizeof(uint64_t));
		pthread_create(&subs[s].th, NULL, pp_consumer, &subs[s]);
	}
	next = now_ns();
	for (i = 0; i < n; i++) {
		uint64_t now = now_ns();

		if (now < next) {
			struct timespec ts = { 0, (long)(next - now) };

			nanosleep(&ts, NULL);
		}
		now = now_ns();
		memcpy(body, &now, sizeof(now));
		if (write(in[1], body, sizeof(body)) != (ssize_t)sizeof(body))
			break;
		next += pace_ns;
	}
	close(in[1]);
	all = calloc((size_t)n * nsub, sizeof(uint64_t));
	for (s = 0; s < nsub; s++) {
		pthread_join(subs[s].th, NULL);
		close(subs[s].fd);
		for (i = 0; all && i < subs[s].got; i++)
			all[k++] = subs[s].lat[i];
		free(subs[s].lat);
	}
	waitpid(relay, NULL, 0);
	if (all)
		percentiles(all, k, pct);
	free(all);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* percentiles - p50, p99 and p99.9 of @k samples (sorted here). */
static void percentiles(uint64_t *all, unsigned long k, uint64_t pct[3])
{
	qsort(all, k, sizeof(uint64_t), cmp_u64);
	pct[0] = k ? all[k / 2] : 0;
	pct[1] = k ? all[k * 99 / 100] : 0;
	pct[2] = k ? all[k * 999 / 1000] : 0;
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

/* run - one topic with @nsub subscribers; @n messages, saturated (@rate
 * 0) or paced at @rate publishes/s with latency percentiles in @pct. */
static int run(int nsub, unsigned long n, unsigned int rate, double *per_sub,
	       uint64_t pct[3])
{
	struct kmq_qattr qa = { .capacity = 8192, .max_msg_size = 256, .mode = 0600 };
	struct kmq_qattr ia = { .capacity = 4096, .max_msg_size = 512, .mode = 0600 };
	struct fo_sub subs[FO_MAXSUB] = { 0 };
	char topic[32], req[1024], body[FO_SIZE] = { 0 };
	struct kmq_topic *t;
	uint64_t t0, end = 0, next, pace_ns = rate ? 1000000000ULL / rate : 0;
	bool paced = rate != 0;
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
		next += pace_ns;
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
		percentiles(all, k, pct);
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
	/* [subscribers][rate][kmq, pipe relay][p50, p99, p99.9] */
	uint64_t pct[4][FO_NRATES][2][3] = { { { { 0 } } } };
	unsigned long n = bench_opts.smoke ? 2000 : 200000, nl[FO_NRATES] = { 3000, 20000 };
	char dir[64] = "", path[1100];
	pid_t kmqd = 0;
	unsigned int i, r;
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
	if (bench_opts.smoke)
		nl[0] = nl[1] = 200;
	for (i = 0; i < 4; i++) {
		err = run(nsubs[i], n, 0, &rate[i], NULL);
		/* kmq and its peer back to back, so both see the same host. */
		for (r = 0; !err && r < FO_NRATES; r++) {
			err = run(nsubs[i], nl[r], fo_rates[r], &dummy, pct[i][r][0]);
			if (!err)
				err = run_pipe(nsubs[i], nl[r], fo_rates[r], pct[i][r][1]);
		}
		if (err) {
			bench_log("kmq-bench: fanout: %d subscribers: %s\n", nsubs[i], strerror(-err));
			continue;
		}
		bench_log("kmq-bench: fanout: %d subscribers: %.0f msg/s each, %.0f total\n",
			  nsubs[i], rate[i], rate[i] * nsubs[i]);
		for (r = 0; r < FO_NRATES; r++)
			bench_log("kmq-bench: fanout: %d subscribers at %u/s: p50/p99/p99.9 "
				  "kmq %.1f/%.1f/%.1f us, pipe relay %.1f/%.1f/%.1f us\n",
				  nsubs[i], fo_rates[r],
				  pct[i][r][0][0] / 1e3, pct[i][r][0][1] / 1e3, pct[i][r][0][2] / 1e3,
				  pct[i][r][1][0] / 1e3, pct[i][r][1][1] / 1e3, pct[i][r][1][2] / 1e3);
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
		fprintf(o, "\n#### Topics: publish -> N raw queue subscribers, %d B, saturated (%lu messages)\n\n"
			"| subscribers | msg/s per subscriber | msg/s total |\n|---:|---:|---:|\n",
			FO_SIZE, n);
		for (i = 0; i < 4; i++)
			fprintf(o, "| %d | %.0f | %.0f |\n", nsubs[i], rate[i], rate[i] * nsubs[i]);
		fprintf(o, "\n#### Topics: publish-to-receive latency, unsaturated (%lu messages at 1k/s, %lu at 10k/s)\n\n"
			"Peer: the same two blocking hops through pipes (publisher -> relay process -> one pipe per subscriber).\n\n"
			"| subscribers | rate | kmq p50 | p99 | p99.9 | pipe relay p50 | p99 | p99.9 | p99 kmq/pipe |\n"
			"|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", nl[0], nl[1]);
		for (i = 0; i < 4; i++)
			for (r = 0; r < FO_NRATES; r++) {
				uint64_t *k = pct[i][r][0], *p = pct[i][r][1];

				fprintf(o, "| %d | %u/s | %.1f us | %.1f us | %.1f us | %.1f us | %.1f us | %.1f us | %.2fx |\n",
					nsubs[i], fo_rates[r], k[0] / 1e3, k[1] / 1e3, k[2] / 1e3,
					p[0] / 1e3, p[1] / 1e3, p[2] / 1e3,
					p[1] ? (double)k[1] / (double)p[1] : 0.0);
			}
	}
	if (f)
		fclose(f);
	return 0;
}
