/* SPDX-License-Identifier: MIT */
/*
 * Unix domain socket: a SOCK_SEQPACKET socketpair (reliable, ordered,
 * message boundaries kept, so several senders or receivers can share one
 * end), send()/recv() of the whole message. Blocking mode blocks; spinning
 * mode passes MSG_DONTWAIT and retries. Buffers are sized for the queue
 * depth (SO_SNDBUFFORCE when allowed, else SO_SNDBUF).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

struct uds_chan {
	int fd[2];		/* [0] receives, [1] sends */
};

struct uds_ep {
	int fd;
	int flags;
	size_t size;
	unsigned char *buf;
};

static const char *uds_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	return NULL;
}

static void set_buf(int fd, int opt_force, int opt, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, opt_force, &bytes, sizeof(bytes)))
		setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof(bytes));
}

static int uds_create(struct chan *ch)
{
	struct uds_chan *uc = calloc(1, sizeof(*uc));
	size_t want = (size_t)ch->cfg.depth * (ch->cfg.size + 512);

	if (!uc)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, uc->fd)) {
		free(uc);
		return -errno;
	}
	if (want < 4 * (ch->cfg.size + 4096))
		want = 4 * (ch->cfg.size + 4096);
	if (want > (64u << 20))
		want = 64u << 20;
	set_buf(uc->fd[1], SO_SNDBUFFORCE, SO_SNDBUF, (int)want);
	set_buf(uc->fd[0], SO_RCVBUFFORCE, SO_RCVBUF, (int)want);
	ch->priv = uc;
	return 0;
}

static void uds_destroy(struct chan *ch)
{
	struct uds_chan *uc = ch->priv;

	close(uc->fd[0]);
	close(uc->fd[1]);
	free(uc);
}

static void *uds_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct uds_chan *uc = ch->priv;
	struct uds_ep *e = calloc(1, sizeof(*e));

	if (!e || !(e->buf = malloc(ch->cfg.size)))
		bench_die("uds: out of memory");
	e->fd = r == ROLE_SEND ? uc->fd[1] : uc->fd[0];
	e->flags = ch->cfg.mode == WAIT_SPIN ? MSG_DONTWAIT : 0;
	e->size = ch->cfg.size;
	return e;
}

static void uds_close(void *ep)
{
	struct uds_ep *e = ep;

	free(e->buf);
	free(e);
}

static void *uds_loan(void *ep, size_t len)
{
	return ((struct uds_ep *)ep)->buf;
}

static void uds_send(void *ep, void *buf, size_t len)
{
	struct uds_ep *e = ep;

	while (send(e->fd, buf, len, e->flags | MSG_NOSIGNAL) != (ssize_t)len) {
		if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS) {
			cpu_relax();
			continue;
		}
		bench_die("uds: send: %s", strerror(errno));
	}
}

static const void *uds_recv(void *ep, size_t *len)
{
	struct uds_ep *e = ep;
	ssize_t n = recv(e->fd, e->buf, e->size, e->flags);

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return NULL;
		bench_die("uds: recv: %s", strerror(errno));
	}
	if (n == 0)
		bench_die("uds: peer closed");
	*len = (size_t)n;
	return e->buf;
}

static void uds_release(void *ep, const void *buf)
{
}

const struct sys_ops sys_uds = {
	.name = "uds",
	.label = "Unix socket",
	.how = "AF_UNIX SOCK_SEQPACKET socketpair, send()/recv(); MSG_DONTWAIT + retry when spinning",
	.unsupported = uds_unsupported,
	.chan_create = uds_create,
	.chan_destroy = uds_destroy,
	.open = uds_open,
	.close = uds_close,
	.loan = uds_loan,
	.send = uds_send,
	.recv = uds_recv,
	.release = uds_release,
};
