/* SPDX-License-Identifier: MIT */
/*
 * NNG over ipc://: push0 -> pull0 (load-balanced to several pulls, fair-
 * queued from several pushes). The single side listens, the others dial
 * (non-blocking dial: NNG retries until the listener is up). Messages are
 * nng_msg objects written and read in place (nng_msg_alloc + nng_sendmsg,
 * nng_recvmsg + nng_msg_free: NNG's zero-copy API). Spinning mode polls
 * with NNG_FLAG_NONBLOCK; blocking mode blocks, with a receive timeout so a
 * receiver never waits forever. Socket buffers hold the test's depth. Each
 * endpoint waits (pipe notifications) until its peers are connected. NNG's
 * own threads share the process's CPU, so a spinning caller yields between
 * polls (sched_yield) instead of starving them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/pipeline0/pull.h>

#include "bench.h"

struct nng_chan {
	char url[128];
	char path[112];
};

struct nng_ep {
	nng_socket sock;
	int flags;
	nng_msg *msg;
	int pipes;		/* connections made (pipe notifications) */
};

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static const char *nn_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	return NULL;
}

static int nn_create(struct chan *ch)
{
	struct nng_chan *nc = calloc(1, sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	snprintf(nc->path, sizeof(nc->path), "/tmp/%s.nng", ch->cfg.tag);
	snprintf(nc->url, sizeof(nc->url), "ipc://%s", nc->path);
	ch->priv = nc;
	return 0;
}

static void nn_destroy(struct chan *ch)
{
	struct nng_chan *nc = ch->priv;

	unlink(nc->path);
	free(nc);
}

static void *nn_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct nng_chan *nc = ch->priv;
	struct nng_ep *e = calloc(1, sizeof(*e));
	bool listen = r == ROLE_RECV ? ch->cfg.ncons == 1 : ch->cfg.ncons > 1;
	int rv, buf = (int)ch->cfg.depth;
	int peers = !listen ? 1 : (int)(r == ROLE_RECV ? ch->cfg.nprod : ch->cfg.ncons);
	uint64_t until = now_ns() + 10000000000ULL;

	if (!e)
		bench_die("nng: out of memory");
	rv = r == ROLE_SEND ? nng_push0_open(&e->sock) : nng_pull0_open(&e->sock);
	if (rv)
		bench_die("nng: open: %s", nng_strerror(rv));
	if (buf > 8192)
		buf = 8192;
	nng_socket_set_int(e->sock, r == ROLE_SEND ? NNG_OPT_SENDBUF : NNG_OPT_RECVBUF, buf);
	nng_socket_set_size(e->sock, NNG_OPT_RECVMAXSZ, 0);	/* no limit */
	if (r == ROLE_RECV && ch->cfg.mode == WAIT_BLOCK)
		nng_socket_set_ms(e->sock, NNG_OPT_RECVTIMEO, 200);
	nng_socket_set_ms(e->sock, NNG_OPT_RECONNMINT, 5);
	nng_pipe_notify(e->sock, NNG_PIPE_EV_ADD_POST, on_pipe, &e->pipes);
	if (listen)
		rv = nng_listen(e->sock, nc->url, NULL, 0);
	else
		rv = nng_dial(e->sock, nc->url, NULL, NNG_FLAG_NONBLOCK);
	if (rv)
		bench_die("nng: %s %s: %s", listen ? "listen" : "dial", nc->url, nng_strerror(rv));
	/* start measuring only once every peer is connected */
	while (__atomic_load_n(&e->pipes, __ATOMIC_SEQ_CST) < peers) {
		if (now_ns() > until)
			bench_die("nng: %s: peers did not connect", nc->url);
		usleep(500);
	}
	e->flags = ch->cfg.mode == WAIT_SPIN ? NNG_FLAG_NONBLOCK : 0;
	return e;
}

static void nn_close(void *ep)
{
	struct nng_ep *e = ep;

	if (e->msg)
		nng_msg_free(e->msg);
	/* give queued messages (the STOPs) a moment to leave */
	usleep(20000);
	nng_close(e->sock);
	free(e);
}

static void *nn_loan(void *ep, size_t len)
{
	struct nng_ep *e = ep;
	int rv = nng_msg_alloc(&e->msg, len);

	if (rv)
		bench_die("nng: nng_msg_alloc: %s", nng_strerror(rv));
	return nng_msg_body(e->msg);
}

static void nn_send(void *ep, void *buf, size_t len)
{
	struct nng_ep *e = ep;
	int rv;

	while ((rv = nng_sendmsg(e->sock, e->msg, e->flags))) {
		if (rv == NNG_EAGAIN || rv == NNG_ETIMEDOUT) {
			sched_yield();	/* let NNG's threads, on this CPU, run */
			continue;
		}
		bench_die("nng: nng_sendmsg: %s", nng_strerror(rv));
	}
	e->msg = NULL;		/* owned by NNG now */
}

static const void *nn_recv(void *ep, size_t *len)
{
	struct nng_ep *e = ep;
	int rv = nng_recvmsg(e->sock, &e->msg, e->flags);

	if (rv) {
		e->msg = NULL;
		if (rv == NNG_EAGAIN || rv == NNG_ETIMEDOUT) {
			if (e->flags)
				sched_yield();	/* NNG's threads share this CPU */
			return NULL;
		}
		bench_die("nng: nng_recvmsg: %s", nng_strerror(rv));
	}
	*len = nng_msg_len(e->msg);
	return nng_msg_body(e->msg);
}

static void nn_release(void *ep, const void *buf)
{
	struct nng_ep *e = ep;

	nng_msg_free(e->msg);
	e->msg = NULL;
}

const struct sys_ops sys_nng = {
	.name = "nng",
	.label = "NNG ipc",
	.how = "NNG push0/pull0 over ipc://, nng_msg_alloc + nng_sendmsg / nng_recvmsg; NNG_FLAG_NONBLOCK + sched_yield when spinning (NNG threads share the CPU)",
	.unsupported = nn_unsupported,
	.chan_create = nn_create,
	.chan_destroy = nn_destroy,
	.open = nn_open,
	.close = nn_close,
	.loan = nn_loan,
	.send = nn_send,
	.recv = nn_recv,
	.release = nn_release,
};
