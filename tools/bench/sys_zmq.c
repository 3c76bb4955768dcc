/* SPDX-License-Identifier: MIT */
/*
 * ZeroMQ over ipc://: PUSH -> PULL (the pipeline pattern: load-balanced to
 * several PULLs, fair-queued from several PUSHes). The single side binds,
 * the others connect. The sender builds the message in place with
 * zmq_msg_init_size() + zmq_msg_send() (no extra copy); the receiver gets
 * a zmq_msg_t (zmq_msg_recv) and reads it in place. Spinning mode polls
 * with ZMQ_DONTWAIT; blocking mode blocks (with a receive timeout so a
 * receiver never waits forever). High-water marks are set to the test's
 * depth. Each endpoint waits (socket monitor) until its peers are
 * connected before the measurement starts. One context per process, with
 * its default single I/O thread, which inherits the process's CPU pinning:
 * so a spinning caller yields between polls (sched_yield), or it would
 * starve the very thread that moves its messages.
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
#include <zmq.h>

#include "bench.h"

struct zmq_chan {
	char url[128];
	char path[112];
};

struct zmq_ep {
	void *sock;
	int flags;
	zmq_msg_t msg;
	bool held;
};

static void *ctx;	/* per process, created after fork */
static int nopen;

static const char *zq_unsupported(enum topo t, enum wait_mode m, size_t size)
{
	return NULL;
}

static int zq_create(struct chan *ch)
{
	struct zmq_chan *zc = calloc(1, sizeof(*zc));

	if (!zc)
		return -ENOMEM;
	snprintf(zc->path, sizeof(zc->path), "/tmp/%s.zmq", ch->cfg.tag);
	snprintf(zc->url, sizeof(zc->url), "ipc://%s", zc->path);
	ch->priv = zc;
	return 0;
}

static void zq_destroy(struct chan *ch)
{
	struct zmq_chan *zc = ch->priv;

	unlink(zc->path);
	free(zc);
}

static void *zq_open(struct chan *ch, enum role r, unsigned int idx)
{
	struct zmq_chan *zc = ch->priv;
	struct zmq_ep *e = calloc(1, sizeof(*e));
	int hwm = (int)ch->cfg.depth, linger = 1000, tmo = 200, ivl = 5, mon_tmo = 10000;
	bool bind = r == ROLE_RECV ? ch->cfg.ncons == 1 : ch->cfg.ncons > 1;
	/* the binder hears from every process on the other side */
	int peers = !bind ? 1 : (int)(r == ROLE_RECV ? ch->cfg.nprod : ch->cfg.ncons);
	char mon_url[64];
	void *mon;

	if (!e)
		bench_die("zmq: out of memory");
	if (!ctx && !(ctx = zmq_ctx_new()))
		bench_die("zmq: zmq_ctx_new: %s", zmq_strerror(errno));
	e->sock = zmq_socket(ctx, r == ROLE_SEND ? ZMQ_PUSH : ZMQ_PULL);
	if (!e->sock)
		bench_die("zmq: zmq_socket: %s", zmq_strerror(errno));
	zmq_setsockopt(e->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(e->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(e->sock, ZMQ_LINGER, &linger, sizeof(linger));
	if (r == ROLE_RECV && ch->cfg.mode == WAIT_BLOCK)
		zmq_setsockopt(e->sock, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
	zmq_setsockopt(e->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl));
	/* start measuring only once every peer is connected */
	snprintf(mon_url, sizeof(mon_url), "inproc://mon-%p", (void *)e);
	if (zmq_socket_monitor(e->sock, mon_url, bind ? ZMQ_EVENT_ACCEPTED : ZMQ_EVENT_CONNECTED))
		bench_die("zmq: zmq_socket_monitor: %s", zmq_strerror(errno));
	mon = zmq_socket(ctx, ZMQ_PAIR);
	if (!mon || zmq_connect(mon, mon_url))
		bench_die("zmq: monitor: %s", zmq_strerror(errno));
	zmq_setsockopt(mon, ZMQ_RCVTIMEO, &mon_tmo, sizeof(mon_tmo));
	if ((bind ? zmq_bind : zmq_connect)(e->sock, zc->url))
		bench_die("zmq: %s %s: %s", bind ? "bind" : "connect", zc->url,
			  zmq_strerror(errno));
	while (peers > 0) {
		zmq_msg_t ev;
		int more;

		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, mon, 0) < 0)
			bench_die("zmq: %s: peers did not connect", zc->url);
		more = zmq_msg_more(&ev);
		if (zmq_msg_size(&ev) >= 2) {
			uint16_t what;

			memcpy(&what, zmq_msg_data(&ev), 2);
			if (what & (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED))
				peers--;
		}
		zmq_msg_close(&ev);
		while (more) {	/* the address frame */
			zmq_msg_init(&ev);
			zmq_msg_recv(&ev, mon, 0);
			more = zmq_msg_more(&ev);
			zmq_msg_close(&ev);
		}
	}
	zmq_socket_monitor(e->sock, NULL, 0);
	zmq_close(mon);
	e->flags = ch->cfg.mode == WAIT_SPIN ? ZMQ_DONTWAIT : 0;
	nopen++;
	return e;
}

static void zq_close(void *ep)
{
	struct zmq_ep *e = ep;

	if (e->held)
		zmq_msg_close(&e->msg);
	zmq_close(e->sock);
	free(e);
	if (--nopen == 0) {
		zmq_ctx_term(ctx);
		ctx = NULL;
	}
}

static void *zq_loan(void *ep, size_t len)
{
	struct zmq_ep *e = ep;

	if (zmq_msg_init_size(&e->msg, len))
		bench_die("zmq: zmq_msg_init_size: %s", zmq_strerror(errno));
	return zmq_msg_data(&e->msg);
}

static void zq_send(void *ep, void *buf, size_t len)
{
	struct zmq_ep *e = ep;

	while (zmq_msg_send(&e->msg, e->sock, e->flags) < 0) {
		if (errno == EAGAIN || errno == EINTR) {
			sched_yield();	/* let our I/O thread, on this CPU, run */
			continue;
		}
		bench_die("zmq: zmq_msg_send: %s", zmq_strerror(errno));
	}
}

static const void *zq_recv(void *ep, size_t *len)
{
	struct zmq_ep *e = ep;

	zmq_msg_init(&e->msg);
	if (zmq_msg_recv(&e->msg, e->sock, e->flags) < 0) {
		zmq_msg_close(&e->msg);
		if (errno == EAGAIN || errno == EINTR) {
			if (e->flags)
				sched_yield();	/* the I/O thread shares this CPU */
			return NULL;
		}
		bench_die("zmq: zmq_msg_recv: %s", zmq_strerror(errno));
	}
	e->held = true;
	*len = zmq_msg_size(&e->msg);
	return zmq_msg_data(&e->msg);
}

static void zq_release(void *ep, const void *buf)
{
	struct zmq_ep *e = ep;

	zmq_msg_close(&e->msg);
	e->held = false;
}

const struct sys_ops sys_zmq = {
	.name = "zmq",
	.label = "ZeroMQ ipc",
	.how = "libzmq PUSH/PULL over ipc://, zmq_msg_init_size + zmq_msg_send / zmq_msg_recv; ZMQ_DONTWAIT + sched_yield when spinning (the I/O thread shares the CPU)",
	.unsupported = zq_unsupported,
	.chan_create = zq_create,
	.chan_destroy = zq_destroy,
	.open = zq_open,
	.close = zq_close,
	.loan = zq_loan,
	.send = zq_send,
	.recv = zq_recv,
	.release = zq_release,
};
