// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl top: a live table of every queue and topic that bpf/kmq.bpf.c
 * counts (rates, depth, in flight, latency percentiles), from the maps
 * kmqd (or kmqd-trace) pins under /sys/fs/bpf/kmq/v2. Also the pin helpers
 * that kmqctl trace shares.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kmq_trace.h"
#include "kmqctl.h"

const char *trace_pin_dir(const char *opt)
{
	const char *env = getenv("KMQ_TRACE_PIN_DIR");

	return opt ? opt : env && *env ? env : KMQ_TRACE_PIN_DIR;
}

/* kernel.unprivileged_bpf_disabled: 0, 1, 2, or -1 (unknown). */
static int unpriv_bpf_disabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int trace_pin_fd(const char *cmd, const char *dir, const char *map,
		 bool write)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = write ? 0 : BPF_F_RDONLY);
	char path[512];
	struct stat st;
	int fd, err, sysctl;

	if (snprintf(path, sizeof(path), "%s/%s", dir, map) >= (int)sizeof(path))
		return fail(EXIT_FAIL, ENAMETOOLONG, "%s: --pin-dir", cmd), -1;
	fd = bpf_obj_get_opts(path, &o);
	if (fd >= 0)
		return fd;
	err = errno;
	sysctl = unpriv_bpf_disabled();
	if (err == ENOENT)
		fail(EXIT_FAIL, err, "%s: %s (is kmqd, or kmqd-trace, running "
		     "with tracing, and pinning there?)", cmd, path);
	else if (err == EPERM && geteuid() != 0 && sysctl > 0)	/* < 5.19 */
		fail(EXIT_FAIL, err, "%s: %s: this kernel refuses the bpf() "
		     "system call to unprivileged users "
		     "(kernel.unprivileged_bpf_disabled=%d): run as root or "
		     "with CAP_BPF%s", cmd, path, sysctl,
		     sysctl == 2 ? ", or have root set it to 0" :
				   " (1 holds until a reboot)");
	else if ((err == EACCES || err == EPERM) && !stat(path, &st))
		fail(EXIT_FAIL, err, "%s: %s: mode %04o, uid %u, gid %u: %s "
		     "permission needed (kmqd's [trace] pin_group names the "
		     "group that may read, and trace)", cmd, path,
		     (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
		     (unsigned int)st.st_gid, write ? "read and write" : "read");
	else
		fail(EXIT_FAIL, err, "%s: %s", cmd, path);
	return -1;
}

struct row {
	struct kmq_key key;
	struct kmq_counters c, prev;
	bool has_prev;
	/* The queue's own ring totals (kmq_info), which count fast-path
	 * messages whether or not their probes are attached. */
	struct kmq_info info;
	uint64_t prev_ring_sent, prev_ring_recv;
	bool has_info, had_info;
	struct kmq_hist lat[KMQ_LAT_MAX];
	bool has_lat[KMQ_LAT_MAX];
};

struct table {
	struct row *rows;
	unsigned int n, cap;
};

static struct row *row_of(struct table *t, const struct kmq_key *k)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!memcmp(&t->rows[i].key, k, sizeof(*k)))
			return &t->rows[i];
	if (t->n == t->cap) {
		unsigned int cap = t->cap ? 2 * t->cap : 64;
		struct row *r = realloc(t->rows, cap * sizeof(*r));

		if (!r)
			return NULL;
		t->rows = r;
		t->cap = cap;
	}
	memset(&t->rows[t->n], 0, sizeof(t->rows[0]));
	t->rows[t->n].key = *k;
	return &t->rows[t->n++];
}

static int sample(struct table *t, int cfd, int lfd)
{
	struct kmq_key k, *prev = NULL;
	struct kmq_hkey hk, *hprev = NULL;
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];

		r->prev = r->c;
		r->has_prev = true;
		r->prev_ring_sent = r->info.sent;
		r->prev_ring_recv = r->info.received;
		r->had_info = r->has_info;
	}
	while (!bpf_map_get_next_key(cfd, prev, &k)) {
		struct row *r = row_of(t, &k);

		if (!r)
			return -ENOMEM;
		if (bpf_map_lookup_elem(cfd, &k, &r->c))
			memset(&r->c, 0, sizeof(r->c));
		prev = &k;
	}
	while (!bpf_map_get_next_key(lfd, hprev, &hk)) {
		struct row *r = row_of(t, &hk.key);

		hprev = &hk;
		if (!r || hk.what >= KMQ_LAT_MAX)
			continue;
		if (!bpf_map_lookup_elem(lfd, &hk, &r->lat[hk.what]))
			r->has_lat[hk.what] = true;
	}
	for (i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];

		r->has_info = r->key.kind == KMQ_KIND_QUEUE && r->key.name[0] &&
			      !kmq_info(r->key.name, &r->info);
		if (!r->has_info)
			memset(&r->info, 0, sizeof(r->info));
	}
	return 0;
}

/* The latency below which @p of the samples fall: the upper bound of the
 * bucket that holds the p-quantile (log2 buckets: within 2x). */
static uint64_t quantile(const struct kmq_hist *h, double p)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)ceil(p * (double)h->count);
	for (i = 0; i < KMQ_TRACE_HIST_SLOTS; i++) {
		seen += h->slot[i];
		if (seen >= want)
			return 2ULL << i;
	}
	return 2ULL << (KMQ_TRACE_HIST_SLOTS - 1);
}

static const char *human_ns(char *buf, size_t len, uint64_t ns)
{
	if (!ns)
		snprintf(buf, len, "-");
	else if (ns < 10000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 10000000)
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
	else
		snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000));
	return buf;
}

static double rate(uint64_t now, uint64_t before, bool has, double secs)
{
	return has && secs > 0 && now >= before ? (double)(now - before) / secs : 0;
}

static void queue_depth(const struct row *r, int64_t *depth, int64_t *inflight)
{
	*depth = *inflight = -1;
	if (!r->has_info)
		return;
	*depth = (int64_t)(r->info.ready + r->info.queued + r->info.delayed);
	*inflight = (int64_t)(r->info.leased ? r->info.leased : r->info.held);
}

/* Rates: from the queue's ring totals where its owner reports them (they
 * see every message, traced or not), else from the BPF counters. */
static double sent_rate(const struct row *r, double secs)
{
	if (r->has_info && r->had_info)
		return rate(r->info.sent, r->prev_ring_sent, true, secs);
	return rate(r->c.sent, r->prev.sent, r->has_prev, secs);
}

static double recv_rate(const struct row *r, double secs)
{
	if (r->has_info && r->had_info)
		return rate(r->info.received, r->prev_ring_recv, true, secs);
	return rate(r->c.received, r->prev.received, r->has_prev, secs);
}

static struct json_object *hist_json(const struct kmq_hist *h)
{
	struct json_object *o = json_object_new_object(), *b;
	unsigned int i;

	json_object_object_add(o, "count", json_object_new_int64((int64_t)h->count));
	json_object_object_add(o, "sum_ns", json_object_new_int64((int64_t)h->sum_ns));
	json_object_object_add(o, "p50_ns", json_object_new_int64((int64_t)quantile(h, 0.50)));
	json_object_object_add(o, "p90_ns", json_object_new_int64((int64_t)quantile(h, 0.90)));
	json_object_object_add(o, "p99_ns", json_object_new_int64((int64_t)quantile(h, 0.99)));
	b = json_object_new_array();
	for (i = 0; i < KMQ_TRACE_HIST_SLOTS; i++)
		json_object_array_add(b, json_object_new_int64((int64_t)h->slot[i]));
	json_object_object_add(o, "log2_buckets", b);
	return o;
}

static void print_json_rows(struct table *t, double secs)
{
	static const char *const lat_names[KMQ_LAT_MAX] = {
		"send_to_receive", "send_to_delete", "publish_to_delivery" };
	struct json_object *top = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	unsigned int i, j;

	json_object_object_add(top, "time", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(top, "interval_s", json_object_new_double(secs));
	for (i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];
		struct json_object *o = json_object_new_object(), *l;
		int64_t depth, inflight;

#define U(f) json_object_object_add(o, #f, json_object_new_int64((int64_t)r->c.f))
		json_object_object_add(o, "name", json_object_new_string(r->key.name));
		json_object_object_add(o, "kind", json_object_new_string(
			r->key.kind == KMQ_KIND_TOPIC ? "topic" : "queue"));
		U(sent); U(received); U(deleted); U(expired); U(dead_lettered);
		U(dropped); U(bytes_sent); U(bytes_received); U(released);
		U(wakeups); U(created); U(deleted_queue); U(drop_retention);
		U(drop_purge); U(drop_dedup); U(drop_corrupt); U(retries);
#undef U
		json_object_object_add(o, "sent_per_s", json_object_new_double(
			sent_rate(r, secs)));
		json_object_object_add(o, "received_per_s", json_object_new_double(
			recv_rate(r, secs)));
		queue_depth(r, &depth, &inflight);
		json_object_object_add(o, "depth", depth < 0 ? NULL : json_object_new_int64(depth));
		json_object_object_add(o, "in_flight", inflight < 0 ? NULL : json_object_new_int64(inflight));
		l = json_object_new_object();
		for (j = 0; j < KMQ_LAT_MAX; j++)
			if (r->has_lat[j])
				json_object_object_add(l, lat_names[j], hist_json(&r->lat[j]));
		json_object_object_add(o, "latency", l);
		json_object_array_add(arr, o);
	}
	json_object_object_add(top, "queues", arr);
	printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN));
	json_object_put(top);
}

static void print_table(struct table *t, double secs, bool clear)
{
	unsigned int i;

	if (clear)
		printf("\033[H\033[2J");
	printf("%-24s %5s %9s %9s %8s %8s %7s %7s %6s %7s %7s %8s %8s\n",
	       "QUEUE/TOPIC", "KIND", "SENT/s", "RECV/s", "DEPTH", "INFLIGHT",
	       "DELETED", "EXPIRED", "DLQ", "DROPPED", "RETRIES", "P50", "P99");
	for (i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];
		const struct kmq_hist *h = &r->lat[KMQ_LAT_SEND_RECV];
		char d[24] = "-", f[24] = "-", p50[16], p99[16];
		int64_t depth, inflight;

		if (r->key.kind == KMQ_KIND_TOPIC)
			h = &r->lat[KMQ_LAT_PUBLISH_DELIVER];
		queue_depth(r, &depth, &inflight);
		if (depth >= 0)
			snprintf(d, sizeof(d), "%lld", (long long)depth);
		if (inflight >= 0)
			snprintf(f, sizeof(f), "%lld", (long long)inflight);
		printf("%-24.96s %5s %9.0f %9.0f %8s %8s %7llu %7llu %6llu %7llu %7llu %8s %8s\n",
		       r->key.name[0] ? r->key.name : "(unnamed)",
		       r->key.kind == KMQ_KIND_TOPIC ? "topic" : "queue",
		       sent_rate(r, secs), recv_rate(r, secs),
		       d, f, (unsigned long long)r->c.deleted,
		       (unsigned long long)r->c.expired,
		       (unsigned long long)r->c.dead_lettered,
		       (unsigned long long)r->c.dropped,
		       (unsigned long long)r->c.retries,
		       human_ns(p50, sizeof(p50), quantile(h, 0.50)),
		       human_ns(p99, sizeof(p99), quantile(h, 0.99)));
	}
	fflush(stdout);
}

int top_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, '1' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *dir = NULL;
	uint64_t iters = 0, interval_ms = 1000;
	struct table t = { 0 };
	bool json = false;
	int c, cfd, lfd, ret = 0;
	uint64_t i;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case '1':
			iters = 1;
			break;
		case 'n':
			if (parse_uint(cmd, "--iterations", optarg, 10, 1,
				       1000000, &iters))
				return EXIT_USAGE;
			break;
		case 'i':
			if (parse_uint(cmd, "--interval (ms)", optarg, 10, 100,
				       3600000, &interval_ms))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'd':
			if (optarg[0] != '/')
				return fail(EXIT_USAGE, EINVAL,
					    "%s: --pin-dir needs an absolute path", cmd);
			dir = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return fail(EXIT_USAGE, EINVAL, "%s: unexpected argument '%s'",
			    cmd, argv[optind]);
	dir = trace_pin_dir(dir);
	cfd = trace_pin_fd(cmd, dir, "counters", false);
	if (cfd < 0)
		return EXIT_FAIL;
	lfd = trace_pin_fd(cmd, dir, "latency", false);
	if (lfd < 0) {
		close(cfd);
		return EXIT_FAIL;
	}
	/* A first sample, so that the first line has rates. */
	if (sample(&t, cfd, lfd)) {
		ret = fail(EXIT_FAIL, ENOMEM, "%s", cmd);
		goto out;
	}
	for (i = 0; !iters || i < iters; i++) {
		struct timespec ts = { (time_t)(interval_ms / 1000),
				       (long)(interval_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
		if (sample(&t, cfd, lfd)) {
			ret = fail(EXIT_FAIL, ENOMEM, "%s", cmd);
			break;
		}
		if (json)
			print_json_rows(&t, interval_ms / 1000.0);
		else
			print_table(&t, interval_ms / 1000.0,
				    iters != 1 && isatty(STDOUT_FILENO));
		fflush(stdout);
	}
out:
	free(t.rows);
	close(cfd);
	close(lfd);
	return ret;
}
