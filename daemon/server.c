// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: listening, connections with their peer credentials
 * (SO_PEERCRED, SO_PEERGROUPS), framing of requests and replies over the
 * stream (include/kmq/wire.h), and dispatch. Buffers are bounded: a request
 * body is at most KMQ_WIRE_BODY_MAX and read only after its header passed;
 * a connection has at most one request in progress (kmqd reads no more from
 * it until the reply has left) and max_events queued event frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "kmqd.h"
#include "topic.h"

struct outbuf {
	struct outbuf *next;
	size_t len, off;
	int fds[KMQ_WIRE_FDS_MAX];
	int nfds;
	bool reply;
	unsigned char data[];
};

struct conn {
	struct kmqd *d;
	struct conn *next, **pprev;
	int fd;
	bool dead;
	struct ucred cred;
	gid_t *groups;
	int ngroups;

	/* input: the request being read, then handled */
	struct kmq_wire_hdr hdr;
	size_t hdr_got;
	unsigned char *body;
	size_t body_got;
	size_t body_cap;	/* grows with what arrived, up to hdr.len */
	bool busy;		/* a request is being answered */
	bool reply_queued;

	/* output */
	struct outbuf *out, **out_tail;
	unsigned int nevents;
	unsigned long long dropped;
	bool want_out;

	/* the queue this connection opened */
	struct queue *q;
	uint32_t client_id;
	uint32_t open_flags;
	bool subscribed;
	struct conn_copy copy;	/* copy.c's */
	struct conn_sqs sqs;	/* sqs.c's */
};

static struct conn *dead_conns;
static struct timer reaper;

pid_t conn_pid(const struct conn *c) { return c->cred.pid; }
uid_t conn_uid(const struct conn *c) { return c->cred.uid; }
gid_t conn_gid(const struct conn *c) { return c->cred.gid; }
struct queue *conn_queue(const struct conn *c) { return c->q; }
uint32_t conn_client_id(const struct conn *c) { return c->client_id; }
uint32_t conn_open_flags(const struct conn *c) { return c->open_flags; }
bool conn_subscribed(const struct conn *c) { return c->subscribed; }
void conn_subscribe(struct conn *c) { c->subscribed = true; }
struct conn_copy *conn_copy(struct conn *c) { return &c->copy; }
struct conn_sqs *conn_sqs(struct conn *c) { return &c->sqs; }

void conn_set_queue(struct conn *c, struct queue *q, uint32_t id,
		    uint32_t flags)
{
	c->q = q;
	c->client_id = id;
	c->open_flags = flags;
}

bool conn_in_group(const struct conn *c, gid_t g)
{
	int i;

	if (c->cred.gid == g)
		return true;
	for (i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return true;
	return false;
}

void conn_for_each(struct kmqd *d, void (*fn)(struct conn *c, void *arg),
		   void *arg)
{
	struct conn *c, *next;

	for (c = d->conns; c; c = next) {
		next = c->next;
		if (!c->dead)
			fn(c, arg);
	}
}

static void conn_events(struct conn *c)
{
	uint32_t ev = EPOLLRDHUP;

	if (!c->busy)
		ev |= EPOLLIN;
	if (c->out)
		ev |= EPOLLOUT;
	kmqd_loop_mod(c->d, c->fd, ev);
}

static void reap(struct kmqd *d, void *arg)
{
	while (dead_conns) {
		struct conn *c = dead_conns;

		dead_conns = c->next;
		free(c);
	}
}

static void conn_close(struct conn *c, const char *why)
{
	struct kmqd *d = c->d;

	if (c->dead)
		return;
	log_debug("connection of pid %d closed: %s", (int)c->cred.pid, why);
	c->dead = true;
	kmqd_loop_del(d, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->q) {
		copy_cancel(d, c);
		sqs_cancel(d, c);
		copy_abandon(d, c);
		store_hangup(d, c);
	}
	while (c->out) {
		struct outbuf *o = c->out;

		c->out = o->next;
		free(o);
	}
	free(c->body);
	free(c->groups);
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	d->nconns--;
	c->next = dead_conns;
	dead_conns = c;
	reaper.cb = reap;
	timer_arm(d, &reaper, mono_ns());
}

/* flush - write queued frames. Returns false when the connection closed. */
static bool flush(struct conn *c)
{
	while (c->out) {
		struct outbuf *o = c->out;
		struct iovec iov = { o->data + o->off, o->len - o->off };
		union {
			char buf[CMSG_SPACE(sizeof(int) * KMQ_WIRE_FDS_MAX)];
			struct cmsghdr align;
		} u;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (o->nfds && !o->off) {
			struct cmsghdr *cm;

			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * o->nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * o->nfds);
			memcpy(CMSG_DATA(cm), o->fds, sizeof(int) * o->nfds);
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(c, strerror(errno));
			return false;
		}
		o->off += (size_t)n;
		if (o->off < o->len)
			continue;
		c->out = o->next;
		if (!c->out)
			c->out_tail = &c->out;
		if (o->reply) {
			copy_flushed(c);
			sqs_flushed(c);
			c->busy = false;
			c->reply_queued = false;
		} else {
			c->nevents--;
		}
		free(o);
	}
	conn_events(c);
	return true;
}

static int enqueue(struct conn *c, uint16_t cmd, uint32_t seq, int status,
		   const struct piece *pc, int n, const int *fds, int nfds,
		   bool reply)
{
	struct kmq_wire_hdr h = {
		.magic = KMQ_WIRE_MAGIC, .version = KMQ_WIRE_VERSION,
		.cmd = cmd, .seq = seq, .status = status,
	};
	struct outbuf *o;
	size_t len = 0, off;
	int i;

	for (i = 0; i < n; i++)
		len += pc[i].len;
	if (len > KMQ_WIRE_BODY_MAX)
		return -EMSGSIZE;
	h.len = (uint32_t)len;
	o = malloc(sizeof(*o) + sizeof(h) + len);
	if (!o)
		return -ENOMEM;
	memcpy(o->data, &h, sizeof(h));
	off = sizeof(h);
	for (i = 0; i < n; i++) {
		if (pc[i].len)
			memcpy(o->data + off, pc[i].p, pc[i].len);
		off += pc[i].len;
	}
	o->len = off;
	o->off = 0;
	o->nfds = nfds;
	for (i = 0; i < nfds; i++)
		o->fds[i] = fds[i];
	o->reply = reply;
	o->next = NULL;
	*c->out_tail = o;
	c->out_tail = &o->next;
	return 0;
}

int conn_replyv(struct conn *c, int status, const struct piece *pc, int n)
{
	int err;

	if (c->dead || c->reply_queued)
		return -EPIPE;
	err = enqueue(c, c->hdr.cmd | KMQ_WIRE_REPLY, c->hdr.seq, status, pc,
		      n, NULL, 0, true);
	if (err)
		return err;
	c->reply_queued = true;
	return 0;
}

int conn_reply(struct conn *c, int status, const void *body, size_t len,
	       const int *fds, int nfds)
{
	struct piece pc = { body, len };
	int err;

	if (c->dead || c->reply_queued)
		return -EPIPE;
	if (nfds < 0 || nfds > KMQ_WIRE_FDS_MAX)
		return -EINVAL;
	err = enqueue(c, c->hdr.cmd | KMQ_WIRE_REPLY, c->hdr.seq, status, &pc,
		      1, fds, nfds, true);
	if (err)
		return err;
	c->reply_queued = true;
	/* fds are sent with the frame's first byte: send now, while the
	 * caller still has them open. */
	if (nfds)
		flush(c);
	return 0;
}

int conn_reply_err(struct conn *c, int status, const char *fmt, ...)
{
	char text[KMQ_WIRE_TEXT_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	log_debug("pid %d: %s: %s", (int)c->cred.pid,
		  frame_cmd_name(c->hdr.cmd), text);
	return conn_reply(c, status, text, (size_t)n + 1, NULL, 0);
}

void conn_send_event(struct conn *c, const struct kmq_wire_event *ev)
{
	struct piece pc = { ev, sizeof(*ev) };

	if (c->dead || !c->subscribed)
		return;
	if (c->nevents >= c->d->cfg.max_events) {
		c->dropped++;
		return;
	}
	if (enqueue(c, KMQ_WIRE_EVENT, 0, 0, &pc, 1, NULL, 0, false)) {
		c->dropped++;
		return;
	}
	c->nevents++;
	flush(c);
}

/* protocol_error - answer garbage with KMQ_WIRE_ERROR and hang up. */
static void protocol_error(struct conn *c, int status, const char *why)
{
	char text[KMQ_WIRE_TEXT_MAX];
	struct piece pc = { text, 0 };

	log_warn("pid %d uid %d: protocol error: %s; disconnecting it",
		 (int)c->cred.pid, (int)c->cred.uid, why);
	pc.len = (size_t)snprintf(text, sizeof(text), "%s", why) + 1;
	/* Best effort, after whatever is queued: the peer may be gone. */
	if (!enqueue(c, KMQ_WIRE_ERROR, c->hdr.seq, status, &pc, 1, NULL, 0,
		     false)) {
		c->nevents++;
		/* Once, without blocking: small frames fit the socket. */
		if (!flush(c))
			return;
	}
	conn_close(c, why);
}

static bool queue_cmd(unsigned int cmd)
{
	return cmd != KMQ_WIRE_SUBSCRIBE && cmd != KMQ_WIRE_TOPIC;
}

static void dispatch(struct conn *c)
{
	struct kmqd *d = c->d;
	unsigned int cmd = c->hdr.cmd;
	void *b = c->body;

	c->busy = true;
	if (!d->shm && queue_cmd(cmd)) {
		conn_reply_err(c, -EOPNOTSUPP,
			       "kmqd serves no queues here: kmq.ko does, through %s (libkmq uses it directly)",
			       KMQ_DEVICE);
		return;
	}
	switch (cmd) {
	case KMQ_WIRE_CREATE:
		store_create(d, c, b);
		break;
	case KMQ_WIRE_DELETE:
		store_delete(d, c, ((struct kmq_name *)b)->name);
		break;
	case KMQ_WIRE_INFO:
		store_info_cmd(d, c, ((struct kmq_name *)b)->name);
		break;
	case KMQ_WIRE_LIST:
		store_list_cmd(d, c, b);
		break;
	case KMQ_WIRE_OPEN:
	case KMQ_WIRE_REATTACH:
		if (c->q) {
			conn_reply_err(c, -EBUSY, "this connection has a queue open already");
			break;
		}
		if (cmd == KMQ_WIRE_OPEN)
			store_open(d, c, b);
		else
			store_reattach(d, c, b);
		break;
	case KMQ_WIRE_SEND:
	case KMQ_WIRE_RECV:
	case KMQ_WIRE_WAIT:
		if (!c->q) {
			conn_reply_err(c, -EBADF, "no queue is open on this connection");
			break;
		}
		if (cmd == KMQ_WIRE_SEND)
			copy_send(d, c, b, c->hdr.len);
		else if (cmd == KMQ_WIRE_RECV)
			copy_recv(d, c, b, c->hdr.len);
		else
			copy_wait(d, c, b);
		break;
	case KMQ_WIRE_SUBSCRIBE:
		events_subscribe(d, c, b);
		break;
	case KMQ_WIRE_TOPIC:
		topic_cmd(d, c, b, c->hdr.len);
		break;
	case KMQ_WIRE_GET_POLICY:
		sqs_get_policy(d, c, b);
		break;
	case KMQ_WIRE_SET_POLICY:
		sqs_set_policy(d, c, b);
		break;
	case KMQ_WIRE_PURGE:
		sqs_purge(d, c, b);
		break;
	case KMQ_WIRE_MOVE:
		sqs_move(d, c, b);
		break;
	case KMQ_WIRE_SQS_SEND:
	case KMQ_WIRE_SQS_RECV:
	case KMQ_WIRE_SQS_DELETE:
	case KMQ_WIRE_SQS_CHVIS:
		if (!c->q) {
			conn_reply_err(c, -EBADF, "no queue is open on this connection");
			break;
		}
		if (cmd == KMQ_WIRE_SQS_SEND)
			sqs_send(d, c, b, c->hdr.len);
		else if (cmd == KMQ_WIRE_SQS_RECV)
			sqs_recv(d, c, b, c->hdr.len);
		else
			sqs_settle(d, c, b, c->hdr.len,
				   cmd == KMQ_WIRE_SQS_CHVIS);
		break;
	}
}

/* grow_body - room for more of the body: a buffer grows with what arrives
 * (from 64 KiB, doubling, up to hdr.len), so a client that stalls in the
 * middle of a frame holds no more memory than it sent. The buffer keeps 8
 * spare bytes, zeroed: an empty body still has one, 8-aligned. */
static bool grow_body(struct conn *c)
{
	size_t want;
	unsigned char *b;

	if (c->body && c->body_got < c->body_cap)
		return true;
	want = c->body_cap ? c->body_cap * 2 : 65536;
	if (want > c->hdr.len)
		want = c->hdr.len;
	b = realloc(c->body, want + 8);
	if (!b)
		return false;
	memset(b + c->body_got, 0, want + 8 - c->body_got);
	c->body = b;
	c->body_cap = want;
	return true;
}

/* conn_read - read and handle requests until none is complete, or one is
 * being answered. */
static void conn_read(struct conn *c)
{
	const char *why;
	ssize_t n;
	int err;

	while (!c->dead && !c->busy) {
		if (c->hdr_got < sizeof(c->hdr)) {
			n = recv(c->fd, (char *)&c->hdr + c->hdr_got,
				 sizeof(c->hdr) - c->hdr_got, MSG_DONTWAIT);
		} else {
			if (!grow_body(c)) {
				protocol_error(c, -ENOMEM, "out of memory");
				return;
			}
			n = recv(c->fd, c->body + c->body_got,
				 c->body_cap - c->body_got, MSG_DONTWAIT);
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			conn_close(c, strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->hdr_got)
				protocol_error(c, -EPROTO, "truncated frame: the peer closed in the middle of it");
			else
				conn_close(c, "hang-up");
			return;
		}
		if (c->hdr_got < sizeof(c->hdr)) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < sizeof(c->hdr))
				continue;
			err = frame_check_hdr(&c->hdr, &why);
			if (err) {
				protocol_error(c, err, why);
				return;
			}
			free(c->body);
			c->body = NULL;
			c->body_got = c->body_cap = 0;
			if (!grow_body(c)) {
				protocol_error(c, -ENOMEM, "out of memory");
				return;
			}
		} else {
			c->body_got += (size_t)n;
		}
		if (c->body_got < c->hdr.len)
			continue;
		err = frame_check_body(c->hdr.cmd, c->body, c->hdr.len, &why);
		if (err) {
			protocol_error(c, err, why);
			return;
		}
		log_debug("pid %d: %s", (int)c->cred.pid, frame_cmd_name(c->hdr.cmd));
		dispatch(c);
		c->hdr_got = 0;
		if (!c->dead && c->reply_queued && !flush(c))
			return;
		if (!c->dead && !c->busy) {
			free(c->body);
			c->body = NULL;
		}
	}
	if (!c->dead)
		conn_events(c);
}

void conn_resume(struct conn *c)
{
	if (c->dead)
		return;
	if (c->reply_queued && !flush(c))
		return;
	if (!c->busy) {
		free(c->body);
		c->body = NULL;
		conn_read(c);
	}
}

static void on_conn(struct kmqd *d, void *arg, uint32_t revents)
{
	struct conn *c = arg;

	if (c->dead)
		return;
	if ((revents & EPOLLOUT) && !flush(c))
		return;
	if (c->busy && (revents & (EPOLLHUP | EPOLLERR))) {
		conn_close(c, "hang-up while a request was in progress");
		return;
	}
	if (c->busy && (revents & EPOLLRDHUP)) {
		/* A client waiting for a reply does not half-close: it is
		 * gone (or never reads our reply). */
		conn_close(c, "hang-up while a request was in progress");
		return;
	}
	if (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		conn_read(c);
}

static int peer_groups(struct conn *c)
{
	socklen_t len = 16 * sizeof(gid_t);

	for (;;) {
		gid_t *g = realloc(c->groups, len);

		if (!g)
			return -ENOMEM;
		c->groups = g;
		if (!getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, g, &len)) {
			c->ngroups = (int)(len / sizeof(gid_t));
			return 0;
		}
		if (errno != ERANGE)
			return -errno;
	}
}

static void on_accept(struct kmqd *d, void *arg, uint32_t revents)
{
	for (;;) {
		socklen_t len = sizeof(struct ucred);
		struct conn *c;
		int fd;

		fd = accept4(d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (d->nconns >= d->cfg.max_connections) {
			static const char msg[] = "too many connections (max_connections)";
			struct kmq_wire_hdr h = {
				.magic = KMQ_WIRE_MAGIC, .version = KMQ_WIRE_VERSION,
				.cmd = KMQ_WIRE_ERROR, .status = -EAGAIN,
				.len = sizeof(msg),
			};
			struct iovec iov[2] = { { &h, sizeof(h) },
						{ (void *)msg, sizeof(msg) } };

			log_warn("%s: refusing a connection", msg);
			if (writev(fd, iov, 2) < 0)
				log_debug("refusal: %s", strerror(errno));
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->d = d;
		c->fd = fd;
		c->out_tail = &c->out;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0 ||
		    peer_groups(c) || kmqd_loop_add(d, fd, EPOLLIN | EPOLLRDHUP,
						    on_conn, c)) {
			log_warn("accept: cannot set up a connection: %s", strerror(errno));
			close(fd);
			free(c->groups);
			free(c);
			continue;
		}
		c->next = d->conns;
		c->pprev = &d->conns;
		if (c->next)
			c->next->pprev = &c->next;
		d->conns = c;
		d->nconns++;
		log_debug("connection from pid %d uid %d", (int)c->cred.pid,
			  (int)c->cred.uid);
	}
}

int server_open(struct kmqd *d)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, probe, err;

	if (strlen(d->cfg.socket) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, d->cfg.socket);
	/* Its directory, as systemd's RuntimeDirectory would make it. */
	*strrchr(a.sun_path, '/') = 0;
	if (a.sun_path[0] && mkdir(a.sun_path, 0755) < 0 && errno != EEXIST)
		return -errno;
	strcpy(a.sun_path, d->cfg.socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		if (errno != EADDRINUSE)
			goto err_close;
		/* A live kmqd answers; a stale socket file does not. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&a, sizeof(a))) {
			close(probe);
			close(fd);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(a.sun_path);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
			goto err_close;
	}
	if (chmod(a.sun_path, d->cfg.socket_mode) < 0 || listen(fd, 128) < 0)
		goto err_close;
	err = kmqd_loop_add(d, fd, EPOLLIN, on_accept, NULL);
	if (err) {
		close(fd);
		return err;
	}
	d->listen_fd = fd;
	return 0;

err_close:
	err = -errno;
	close(fd);
	return err;
}

void server_close(struct kmqd *d)
{
	while (d->conns)
		conn_close(d->conns, "kmqd is stopping");
	reap(d, NULL);
	timer_cancel(d, &reaper);
	if (d->listen_fd >= 0) {
		kmqd_loop_del(d, d->listen_fd);
		close(d->listen_fd);
		unlink(d->cfg.socket);
		d->listen_fd = -1;
	}
}
