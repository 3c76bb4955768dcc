/* SPDX-License-Identifier: MIT */
/*
 * POSIX message queue: mq_open() in the parent (unlinked at once: the
 * descriptors are inherited), mq_send()/mq_receive() of the whole message.
 * Spinning mode opens it O_NONBLOCK and retries on EAGAIN.
 *
 * Limits: fs.mqueue.msgsize_max (8 KiB by default) caps the message size
 * and fs.mqueue.msg_max (10) the depth, unless the process has
 * CAP_SYS_RESOURCE. When they are too low and we may write them, they are
 * raised for the run (to 1 MiB and 256) and restored at its end, with a
 * note on stderr. RLIMIT_MSGQUEUE (800 KiB per user by default) bounds the
 * bytes of all queues: main.c raises it when allowed, else the depth is
 * clamped to fit (and sizes that do not fit at all are not run).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

#define MSGSIZE_MAX	"/proc/sys/fs/mqueue/msgsize_max"
#define MSG_MAX		"/proc/sys/fs/mqueue/msg_max"

static long old_msgsize_max = -1, old_msg_max = -1;
static long lim_msgsize, lim_msg;	/* in force for the run */
static unsigned long long lim_bytes;	/* RLIMIT_MSGQUEUE */

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -1;
	fprintf(f, "%ld\n", v);
	err = fclose(f);
	return err ? -1 : 0;
}

/* Bytes the kernel charges for a queue (ipc/mqueue.c, with room to spare). */
static unsigned long long mq_cost(unsigned int depth, size_t size)
{
	return (unsigned long long)depth * (size + 128);
}

static unsigned int mq_depth(unsigned int want, size_t size)
{
	/* two queues at once (ping-pong) must fit the per-user budget */
	unsigned long long budget = lim_bytes / 2;
	unsigned int d = want;

	if ((long)d > lim_msg)
		d = (unsigned int)lim_msg;
	while (d > 1 && mq_cost(d, size) > budget)
		d--;
	return d;
}

static int mq_global_init(const char *outdir, const char **why)
{
	struct rlimit rl;
	long ms = read_long(MSGSIZE_MAX), mm = read_long(MSG_MAX);

	if (ms >= 0 && ms < (1L << 20) && !write_long(MSGSIZE_MAX, 1L << 20)) {
		old_msgsize_max = ms;
		bench_log("kmq-bench: posixmq: fs.mqueue.msgsize_max %ld -> %ld for this run\n",
			  ms, 1L << 20);
		ms = 1L << 20;
	}
	if (mm >= 0 && mm < 256 && !write_long(MSG_MAX, 256)) {
		old_msg_max = mm;
		bench_log("kmq-bench: posixmq: fs.mqueue.msg_max %ld -> 256 for this run\n", mm);
		mm = 256;
	}
	lim_msgsize = ms > 0 ? ms : 8192;
	lim_msg = mm > 0 ? mm : 10;
	if (getrlimit(RLIMIT_MSGQUEUE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		lim_bytes = 1ULL << 40;
	else
		lim_bytes = rl.rlim_cur;
	return 0;
}

static void mq_global_fini(void)
{
	if (old_msgsize_max >= 0)
		write_long(MSGSIZE_MAX, old_msgsize_max);
	if (old_msg_max >= 0)
		write_long(MSG_MAX, old_msg_max);
	old_msgsize_max = old_msg_max = -1;
}

struct mq_chan {
	mqd_t q;
};

struct mq_ep {
	mqd_t q;
	size_t size;
	unsigned char *buf;
};

static const char *mq_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	if ((long)size > lim_msgsize)
		return "above fs.mqueue.msgsize_max";
	if (mq_cost(1, size) > lim_bytes / 2)
		return "a queue of such messages exceeds RLIMIT_MSGQUEUE";
	return NULL;
}

static int mq_create(struct chan *ch)
{
	struct mq_chan *mc = calloc(1, sizeof(*mc));
	struct mq_attr a = { .mq_maxmsg = mq_depth(ch->cfg.depth, ch->cfg.size),
			     .mq_msgsize = (long)ch->cfg.size };
	int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    (ch->cfg.mode == WAIT_SPIN ? O_NONBLOCK : 0);
	char name[80];

	if (!mc)
		return -ENOMEM;
	snprintf(name, sizeof(name), "/%s", ch->cfg.tag);
	mc->q = mq_open(name, flags, 0600, &a);
	if (mc->q == (mqd_t)-1) {
		int err = -errno;

		free(mc);
		return err;
	}
	mq_unlink(name);
	ch->priv = mc;
	return 0;
}

static void mq_destroy(struct chan *ch)
{
	struct mq_chan *mc = ch->priv;

	mq_close(mc->q);
	free(mc);
}

static void *mq_ep_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct mq_chan *mc = ch->priv;
	struct mq_ep *e = calloc(1, sizeof(*e));

	if (!e || !(e->buf = malloc(ch->cfg.size)))
		bench_die("posixmq: out of memory");
	e->q = mc->q;
	e->size = ch->cfg.size;
	return e;
}

static void mq_ep_close(void *ep)
{
	struct mq_ep *e = ep;

	free(e->buf);
	free(e);
}

static void *mq_loan(void *ep, size_t len)
{
	return ((struct mq_ep *)ep)->buf;
}

static void mq_ep_send(void *ep, void *buf, size_t len)
{
	struct mq_ep *e = ep;

	while (mq_send(e->q, buf, len, 0)) {
		if (errno == EAGAIN || errno == EINTR) {
			cpu_relax();
			continue;
		}
		bench_die("posixmq: mq_send: %s", strerror(errno));
	}
}

static const void *mq_recv(void *ep, size_t *len)
{
	struct mq_ep *e = ep;
	ssize_t n = mq_receive(e->q, (char *)e->buf, e->size, NULL);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return NULL;
		bench_die("posixmq: mq_receive: %s", strerror(errno));
	}
	*len = (size_t)n;
	return e->buf;
}

static void mq_release(void *ep, const void *buf)
{
}

const struct sys_ops sys_posixmq = {
	.name = "posixmq",
	.label = "POSIX mqueue",
	.how = "mq_send()/mq_receive(); O_NONBLOCK + retry when spinning; depth clamped to fit RLIMIT_MSGQUEUE",
	.unsupported = mq_unsupported,
	.global_init = mq_global_init,
	.global_fini = mq_global_fini,
	.chan_create = mq_create,
	.chan_destroy = mq_destroy,
	.open = mq_ep_open,
	.close = mq_ep_close,
	.loan = mq_loan,
	.send = mq_ep_send,
	.recv = mq_recv,
	.release = mq_release,
};
