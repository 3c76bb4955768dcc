/* SPDX-License-Identifier: MIT */
/*
 * iceoryx 2.0 through its C binding. The benchmark starts its own iox-roudi
 * with a mempool configuration sized for the test (one pool per message
 * size, enough chunks for two full queues) and stops it at the end. Each
 * process registers a runtime; senders are publishers that loan a chunk,
 * write it in place and publish it; receivers are subscribers that take the
 * chunk, read it in place and release it (true zero copy). Spinning mode
 * polls iox_sub_take_chunk (as iceoryx's own iceperf does); blocking mode
 * waits in a WaitSet on the subscriber's HAS_DATA state. No message is
 * dropped: publishers wait for slow consumers (WAIT_FOR_CONSUMER) and
 * subscriber queues block the producer when full (BLOCK_PRODUCER).
 * Publish/subscribe delivers every message to every subscriber, so there
 * is no "four consumers sharing one queue" (1 -> 4) cell.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/subscriber.h>
#include <iceoryx_binding_c/wait_set.h>
#include <iceoryx_binding_c/log.h>

#include "bench.h"

static pid_t roudi_pid;
static char roudi_log[512];

struct iox_ep {
	bool sender;
	iox_pub_storage_t pub_storage;
	iox_sub_storage_t sub_storage;
	iox_ws_storage_t ws_storage;
	iox_pub_t pub;
	iox_sub_t sub;
	iox_ws_t ws;
	size_t size;
};

static int nopen;

static const char *iox_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	if (t == TOPO_1_N)
		return "publish/subscribe: every subscriber gets every message";
	return NULL;
}

static bool log_says(const char *path, const char *what)
{
	char buf[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, what) != NULL;
}

static int iox_global_init(const char *outdir, const char **why)
{
	static char reason[700];
	static const struct { unsigned int size, count; } pools[] = {
		{ 256, 2048 }, { 2048, 2048 }, { 17408, 1024 }, { 66560, 1024 },
		{ 1049600, 64 },
	};
	char cfg[512];
	uint64_t until;
	FILE *f;
	size_t i;

	if (access("/usr/bin/iox-roudi", X_OK) && system("command -v iox-roudi >/dev/null 2>&1")) {
		*why = "iox-roudi not installed (Debian package iceoryx)";
		return -1;
	}
	snprintf(cfg, sizeof(cfg), "%s/iox-roudi.toml", outdir);
	snprintf(roudi_log, sizeof(roudi_log), "%s/iox-roudi.log", outdir);
	f = fopen(cfg, "w");
	if (!f) {
		*why = "cannot write the RouDi configuration";
		return -1;
	}
	fprintf(f, "# written by kmq-bench: one pool per message size\n"
		   "[general]\nversion = 1\n\n[[segment]]\n\n");
	for (i = 0; i < sizeof(pools) / sizeof(pools[0]); i++)
		fprintf(f, "[[segment.mempool]]\nsize = %u\ncount = %u\n\n",
			pools[i].size, pools[i].count);
	fclose(f);

	unlink(roudi_log);	/* no stale "ready" line */
	fflush(NULL);
	roudi_pid = fork();
	if (roudi_pid < 0) {
		*why = "fork failed";
		return -1;
	}
	if (roudi_pid == 0) {
		int fd = open(roudi_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		execlp("iox-roudi", "iox-roudi", "-c", cfg, "-l", "warning", "-m", "off",
		       (char *)NULL);
		_exit(127);
	}
	until = now_ns() + 15000000000ULL;
	while (now_ns() < until) {
		int st;

		if (waitpid(roudi_pid, &st, WNOHANG) == roudi_pid) {
			snprintf(reason, sizeof(reason),
				 "iox-roudi exited at start (another RouDi running?), see %s",
				 roudi_log);
			*why = reason;
			roudi_pid = 0;
			return -1;
		}
		/* printed at every log level; /tmp/roudi may be stale */
		if (log_says(roudi_log, "RouDi is ready for clients"))
			return 0;
		usleep(20000);
	}
	*why = "iox-roudi did not come up";
	kill(roudi_pid, SIGKILL);
	waitpid(roudi_pid, NULL, 0);
	roudi_pid = 0;
	return -1;
}

static void iox_global_fini(void)
{
	uint64_t until = now_ns() + 5000000000ULL;
	int st;

	if (!roudi_pid)
		return;
	kill(roudi_pid, SIGTERM);
	while (now_ns() < until) {
		if (waitpid(roudi_pid, &st, WNOHANG) == roudi_pid) {
			roudi_pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(roudi_pid, SIGKILL);
	waitpid(roudi_pid, &st, 0);
	roudi_pid = 0;
}

static int iox_create(struct chan *ch)
{
	return 0;
}

static void iox_destroy(struct chan *ch)
{
}

static void *iox_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct iox_ep *e = calloc(1, sizeof(*e));
	uint64_t until = now_ns() + 10000000000ULL;

	if (!e)
		bench_die("iceoryx: out of memory");
	if (!nopen++) {
		char name[64];

		iox_set_loglevel(Iceoryx_LogLevel_Warn);
		snprintf(name, sizeof(name), "kmqb%d", (int)getpid());
		iox_runtime_init(name);
	}
	e->sender = r == ROLE_SEND;
	e->size = ch->cfg.size;
	if (e->sender) {
		iox_pub_options_t o;

		iox_pub_options_init(&o);
		o.historyCapacity = 0;
		o.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
		e->pub = iox_pub_init(&e->pub_storage, "kmqbench", ch->cfg.tag, "msg", &o);
		/* wait until every subscriber is connected: no message lost */
		while (!iox_pub_has_subscribers(e->pub)) {
			if (now_ns() > until)
				bench_die("iceoryx: no subscriber for %s", ch->cfg.tag);
			usleep(1000);
		}
	} else {
		iox_sub_options_t o;

		iox_sub_options_init(&o);
		o.queueCapacity = ch->cfg.depth;
		o.historyRequest = 0;
		o.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
		e->sub = iox_sub_init(&e->sub_storage, "kmqbench", ch->cfg.tag, "msg", &o);
		if (ch->cfg.mode == WAIT_BLOCK) {
			e->ws = iox_ws_init(&e->ws_storage);
			if (iox_ws_attach_subscriber_state(e->ws, e->sub, SubscriberState_HAS_DATA,
							   0, NULL) != WaitSetResult_SUCCESS)
				bench_die("iceoryx: cannot attach the subscriber to a WaitSet");
		}
	}
	return e;
}

static void iox_close(void *ep)
{
	struct iox_ep *e = ep;

	if (e->sender) {
		iox_pub_deinit(e->pub);
	} else {
		if (e->ws) {
			iox_ws_detach_subscriber_state(e->ws, e->sub, SubscriberState_HAS_DATA);
			iox_ws_deinit(e->ws);
		}
		iox_sub_deinit(e->sub);
	}
	free(e);
	if (!--nopen)
		iox_runtime_shutdown();
}

static void *iox_loan(void *ep, size_t len)
{
	struct iox_ep *e = ep;
	void *chunk;

	while (iox_pub_loan_chunk(e->pub, &chunk, (uint32_t)len) != AllocationResult_SUCCESS)
		cpu_relax();	/* pool exhausted: consumers still hold chunks */
	return chunk;
}

static void iox_send(void *ep, void *buf, size_t len)
{
	iox_pub_publish_chunk(((struct iox_ep *)ep)->pub, buf);
}

static const void *iox_recv(void *ep, size_t *len)
{
	struct iox_ep *e = ep;
	const void *chunk;

	if (iox_sub_take_chunk(e->sub, &chunk) != ChunkReceiveResult_SUCCESS) {
		iox_notification_info_t info[1];
		struct timespec tmo = { 0, 200000000 };
		uint64_t missed;

		if (!e->ws)
			return NULL;
		iox_ws_timed_wait(e->ws, tmo, info, 1, &missed);
		if (iox_sub_take_chunk(e->sub, &chunk) != ChunkReceiveResult_SUCCESS)
			return NULL;
	}
	*len = e->size;		/* the topic's type has a fixed size */
	return chunk;
}

static void iox_release(void *ep, const void *buf)
{
	iox_sub_release_chunk(((struct iox_ep *)ep)->sub, buf);
}

const struct sys_ops sys_iceoryx = {
	.name = "iceoryx",
	.label = "iceoryx 2.0 (C)",
	.how = "iceoryx_binding_c publisher/subscriber, loan + publish / take + release (zero copy); WaitSet when blocking; own iox-roudi",
	.unsupported = iox_unsupported,
	.global_init = iox_global_init,
	.global_fini = iox_global_fini,
	.chan_create = iox_create,
	.chan_destroy = iox_destroy,
	.open = iox_open,
	.close = iox_close,
	.loan = iox_loan,
	.send = iox_send,
	.recv = iox_recv,
	.release = iox_release,
};
