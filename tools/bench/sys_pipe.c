/* SPDX-License-Identifier: MIT */
/*
 * pipe(2): write() the message, read() it into a private buffer. Blocking
 * mode uses blocking descriptors; spinning mode sets O_NONBLOCK and retries
 * on EAGAIN. The pipe is enlarged (F_SETPIPE_SZ) to hold the queue depth,
 * up to 1 MiB. A pipe is a byte stream: several writers or readers keep
 * message boundaries only for writes of at most PIPE_BUF bytes (atomic).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

struct pipe_chan {
	int fd[2];
};

struct pipe_ep {
	int fd;
	size_t size;
	unsigned char *buf;
};

static const char *pipe_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	if (t != TOPO_1_1 && size > PIPE_BUF)
		return "writes above PIPE_BUF are not atomic: no shared pipe";
	return NULL;
}

static int pipe_create(struct chan *ch)
{
	struct pipe_chan *pc = calloc(1, sizeof(*pc));
	size_t want = (size_t)ch->cfg.depth * ch->cfg.size;
	int flags = O_CLOEXEC | (ch->cfg.mode == WAIT_SPIN ? O_NONBLOCK : 0);

	if (!pc)
		return -ENOMEM;
	if (pipe2(pc->fd, flags)) {
		free(pc);
		return -errno;
	}
	if (want > (1u << 20))
		want = 1u << 20;
	if (want > 65536)
		fcntl(pc->fd[1], F_SETPIPE_SZ, (int)want);	/* best effort */
	ch->priv = pc;
	return 0;
}

static void pipe_destroy(struct chan *ch)
{
	struct pipe_chan *pc = ch->priv;

	close(pc->fd[0]);
	close(pc->fd[1]);
	free(pc);
}

static void *pipe_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct pipe_chan *pc = ch->priv;
	struct pipe_ep *e = calloc(1, sizeof(*e));

	if (!e || !(e->buf = malloc(ch->cfg.size)))
		bench_die("pipe: out of memory");
	e->fd = r == ROLE_SEND ? pc->fd[1] : pc->fd[0];
	e->size = ch->cfg.size;
	return e;
}

static void pipe_close(void *ep)
{
	struct pipe_ep *e = ep;

	free(e->buf);
	free(e);
}

static void *pipe_loan(void *ep, size_t len)
{
	return ((struct pipe_ep *)ep)->buf;
}

static void pipe_send(void *ep, void *buf, size_t len)
{
	struct pipe_ep *e = ep;
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(e->fd, p, len);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				cpu_relax();
				continue;
			}
			bench_die("pipe: write: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
	}
}

static const void *pipe_recv(void *ep, size_t *len)
{
	struct pipe_ep *e = ep;
	size_t got = 0;

	while (got < e->size) {
		ssize_t n = read(e->fd, e->buf + got, e->size - got);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				if (!got)
					return NULL;
				cpu_relax();	/* the rest of a message is coming */
				continue;
			}
			bench_die("pipe: read: %s", strerror(errno));
		}
		if (n == 0)
			bench_die("pipe: end of file");
		got += (size_t)n;
	}
	*len = got;
	return e->buf;
}

static void pipe_release(void *ep, const void *buf)
{
}

const struct sys_ops sys_pipe = {
	.name = "pipe",
	.label = "pipe",
	.how = "pipe2(), write()/read() of the whole message; O_NONBLOCK + retry when spinning",
	.unsupported = pipe_unsupported,
	.chan_create = pipe_create,
	.chan_destroy = pipe_destroy,
	.open = pipe_open,
	.close = pipe_close,
	.loan = pipe_loan,
	.send = pipe_send,
	.recv = pipe_recv,
	.release = pipe_release,
};
