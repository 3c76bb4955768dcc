// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl trace: one line per message event (send, receive, lease, expiry,
 * delete, DLQ move, drop, publish, delivery, retry, ...) from the ring
 * buffer "events" that bpf/kmq.bpf.c fills while someone traces: while a
 * process other than the loader holds "events" open, as this command does
 * while it runs (struct kmq_control in bpf/kmq_trace.h). Nothing to raise
 * or lower: the kernel counts the readers, so several may run at once and
 * one killed with SIGKILL stops counting when its files close.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kmq_trace.h"
#include "kmqctl.h"

static volatile sig_atomic_t trace_stop;

static void on_signal(int sig)
{
	(void)sig;
	trace_stop = 1;
}

struct tracer {
	const char *queue, *topic;
	bool json;
	uint64_t count, seen;
	uint64_t since;		/* CLOCK_REALTIME ns this tracer started */
};

static const char *const ev_names[KMQ_EV_MAX] = {
	[KMQ_EV_SEND] = "send", [KMQ_EV_RECV] = "receive",
	[KMQ_EV_LEASE] = "lease", [KMQ_EV_LEASE_EXPIRED] = "lease-expired",
	[KMQ_EV_DELETE] = "delete", [KMQ_EV_DLQ] = "dead-letter",
	[KMQ_EV_DROP] = "drop", [KMQ_EV_RELEASE] = "release",
	[KMQ_EV_QUEUE_CREATE] = "queue-create",
	[KMQ_EV_QUEUE_DELETE] = "queue-delete", [KMQ_EV_PUBLISH] = "publish",
	[KMQ_EV_DELIVER] = "deliver", [KMQ_EV_REPAIR] = "repair",
	[KMQ_EV_RETRY] = "retry",
};
static const char *const src_names[] = { "kernel", "libkmq", "kmqd" };
static const char *const drop_names[] = { "", "retention", "purge", "dedup",
					   "corrupt" };

static int on_event(void *ctx, void *data, size_t len)
{
	struct tracer *tr = ctx;
	const struct kmq_event *e = data;
	char name[KMQ_TRACE_NAME_LEN + 1], peer[KMQ_TRACE_NAME_LEN + 1];
	const char *type, *src;

	if (len < sizeof(*e) || (tr->count && tr->seen >= tr->count))
		return 0;	/* short, or past --count in the same poll */
	if (e->ts_ns < tr->since)
		return 0;	/* left by an earlier tracer as it exited */
	memcpy(name, e->name, KMQ_TRACE_NAME_LEN);
	name[KMQ_TRACE_NAME_LEN] = '\0';
	memcpy(peer, e->peer, KMQ_TRACE_NAME_LEN);
	peer[KMQ_TRACE_NAME_LEN] = '\0';
	if (tr->queue && (e->kind != KMQ_KIND_QUEUE || strcmp(tr->queue, name)))
		return 0;
	if (tr->topic && (e->kind != KMQ_KIND_TOPIC || strcmp(tr->topic, name)))
		return 0;
	type = e->type < KMQ_EV_MAX && ev_names[e->type] ? ev_names[e->type] : "?";
	src = e->src < 3 ? src_names[e->src] : "?";
	if (tr->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ts_ns", json_object_new_int64((int64_t)e->ts_ns));
		json_object_object_add(o, "event", json_object_new_string(type));
		json_object_object_add(o, "source", json_object_new_string(src));
		json_object_object_add(o, e->kind == KMQ_KIND_TOPIC ? "topic" : "queue",
				       json_object_new_string(name));
		json_object_object_add(o, "id", json_object_new_int64((int64_t)e->id));
		json_object_object_add(o, "sent_ns", json_object_new_int64((int64_t)e->sent_ns));
		json_object_object_add(o, "latency_ns", json_object_new_int64((int64_t)e->latency_ns));
		json_object_object_add(o, "bytes", json_object_new_int64(e->bytes));
		json_object_object_add(o, "receive_count", json_object_new_int64(e->receive_count));
		json_object_object_add(o, "pid", json_object_new_int64(e->pid));
		if (e->type == KMQ_EV_DROP && e->aux < 5)
			json_object_object_add(o, "reason", json_object_new_string(drop_names[e->aux]));
		if (e->type == KMQ_EV_DLQ)
			json_object_object_add(o, "dlq", json_object_new_string(peer));
		if (e->type == KMQ_EV_RETRY)
			json_object_object_add(o, "attempt", json_object_new_int64(e->aux));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		time_t secs = (time_t)(e->ts_ns / 1000000000ULL);
		struct tm tm;
		char when[16];

		localtime_r(&secs, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		printf("%s.%06llu %-6s %-13s %s id=%#llx bytes=%u rc=%u latency_us=%.1f pid=%u",
		       when, (unsigned long long)(e->ts_ns % 1000000000ULL) / 1000,
		       src, type, name, (unsigned long long)e->id, e->bytes,
		       e->receive_count, e->latency_ns / 1000.0, e->pid);
		if (e->type == KMQ_EV_DROP && e->aux < 5)
			printf(" reason=%s", drop_names[e->aux]);
		if (e->type == KMQ_EV_DLQ)
			printf(" dlq=%s", peer);
		if (e->type == KMQ_EV_RETRY)
			printf(" attempt=%u", e->aux);
		putchar('\n');
	}
	fflush(stdout);
	if (tr->count && ++tr->seen >= tr->count)
		trace_stop = 1;
	return 0;
}

int trace_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "topic", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'D' },
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "backlog", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *dir = NULL;
	struct tracer tr = { 0 };
	uint64_t duration = 0;
	bool backlog = false;
	struct ring_buffer *rb;
	struct timespec start, now;
	int c, efd, ret = 0;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			tr.queue = parse_queue(cmd, optarg);
			if (!tr.queue)
				return EXIT_USAGE;
			break;
		case 't':
			if (!optarg[0] || strlen(optarg) >= KMQ_TRACE_NAME_LEN)
				return fail(EXIT_USAGE, EINVAL, "%s: --topic: 1..%d bytes",
					    cmd, KMQ_TRACE_NAME_LEN - 1);
			tr.topic = optarg;
			break;
		case 'j':
			tr.json = true;
			break;
		case 'c':
			if (parse_uint(cmd, "--count", optarg, 10, 1,
				       UINT64_MAX >> 1, &tr.count))
				return EXIT_USAGE;
			break;
		case 'D':
			if (parse_uint(cmd, "--duration (s)", optarg, 10, 1,
				       31 * 86400, &duration))
				return EXIT_USAGE;
			break;
		case 'd':
			if (optarg[0] != '/')
				return fail(EXIT_USAGE, EINVAL,
					    "%s: --pin-dir needs an absolute path", cmd);
			dir = optarg;
			break;
		case 'b':
			backlog = true;
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
	if (tr.queue && tr.topic)
		return fail(EXIT_USAGE, EINVAL, "%s: --queue or --topic, not both", cmd);
	dir = trace_pin_dir(dir);
	/* Holding "events" open is what turns the events on. */
	efd = trace_pin_fd(cmd, dir, "events", true);
	if (efd < 0)
		return EXIT_FAIL;
	rb = ring_buffer__new(efd, on_event, &tr, NULL);
	if (!rb) {
		ret = fail(EXIT_FAIL, errno, "%s: ring buffer", cmd);
		goto out_close;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, on_signal);
	clock_gettime(CLOCK_REALTIME, &now);
	if (!backlog)
		tr.since = (uint64_t)now.tv_sec * 1000000000ULL +
			   (uint64_t)now.tv_nsec;
	fprintf(stderr, "kmqctl trace: tracing (%s)\n", dir);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!trace_stop) {
		int n = ring_buffer__poll(rb, 100);

		if (n < 0 && n != -EINTR) {
			ret = fail(EXIT_FAIL, -n, "%s: poll", cmd);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (duration && (uint64_t)(now.tv_sec - start.tv_sec) >= duration)
			break;
	}
	ring_buffer__free(rb);
out_close:
	close(efd);
	return ret;
}
