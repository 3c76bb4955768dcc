// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The client side of kmqd's socket protocol (include/kmq/wire.h): connect
 * to $KMQ_SOCKET (else KMQ_WIRE_SOCKET), send one request, read its reply
 * with the fds it carries, skipping event frames. Blocking I/O: a handle's
 * calls are synchronous, as the protocol's one-outstanding-request rule is.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include "internal.h"

const char *kmq_wire_socket(void)
{
	const char *s = getenv("KMQ_SOCKET");

	return s && *s ? s : KMQ_WIRE_SOCKET;
}

int kmq_wire_open(struct kmq_wire_conn *c)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	const char *path = kmq_wire_socket();
	int fd, err;

	c->fd = -1;
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		err = errno;
		close(fd);
		/* No socket file, or nobody listening: kmqd is not running. */
		if (err == ENOENT || err == ECONNREFUSED || err == ENOTDIR)
			return -ECONNREFUSED;
		return -err;
	}
	c->fd = fd;
	return 0;
}

void kmq_wire_close(struct kmq_wire_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
}

bool kmq_wire_hung_up(const struct kmq_wire_conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

	if (c->fd < 0)
		return true;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* lost - the connection is unusable: close it and say so. */
static int lost(struct kmq_wire_conn *c, int err)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	return err;
}

static int write_all(struct kmq_wire_conn *c, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -EPIPE;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* read_full - @len bytes into @p, collecting passed fds into @fds. */
static int read_full(struct kmq_wire_conn *c, void *p, size_t len, int *fds,
		     int maxfds, int *nfds)
{
	size_t got = 0;

	while (got < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { (char *)p + got, len - got };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *cm;
		ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			int i, k;

			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (i = 0; i < k; i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
				if (nfds && *nfds < maxfds)
					fds[(*nfds)++] = fd;
				else
					close(fd);
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return -EPROTO;
		got += (size_t)n;
	}
	return 0;
}

int kmq_wire_call(struct kmq_wire_conn *c, unsigned int cmd,
		  const struct iovec *body, int nbody, size_t *rlen, int *fds,
		  int maxfds, int *nfds)
{
	struct kmq_wire_hdr h = {
		.magic = KMQ_WIRE_MAGIC, .version = KMQ_WIRE_VERSION,
		.cmd = (__u16)cmd,
	};
	struct iovec stack[8], *iov = stack;
	size_t len = 0;
	int i, err;

	if (nfds)
		*nfds = 0;
	if (c->fd < 0)
		return -EPIPE;
	if (nbody > 7) {
		iov = calloc((size_t)nbody + 1, sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	for (i = 0; i < nbody; i++) {
		iov[i + 1] = body[i];
		len += body[i].iov_len;
	}
	if (len > KMQ_WIRE_BODY_MAX) {
		if (iov != stack)
			free(iov);
		return -EMSGSIZE;
	}
	h.len = (__u32)len;
	h.seq = ++c->seq;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	err = write_all(c, iov, nbody + 1);
	if (iov != stack)
		free(iov);
	if (err)
		return lost(c, err);
	for (;;) {
		struct kmq_wire_hdr r;

		err = read_full(c, &r, sizeof(r), fds, maxfds, nfds);
		if (err)
			goto err_fds;
		if (r.magic != KMQ_WIRE_MAGIC || r.version != KMQ_WIRE_VERSION ||
		    r.len > KMQ_WIRE_BODY_MAX) {
			err = -EPROTO;
			goto err_fds;
		}
		if (r.len + 8 > c->cap) {
			void *nb = realloc(c->buf, r.len + 8);

			if (!nb) {
				err = -ENOMEM;
				goto err_fds;
			}
			c->buf = nb;
			c->cap = r.len + 8;
		}
		err = read_full(c, c->buf, r.len, fds, maxfds, nfds);
		if (err)
			goto err_fds;
		if (r.cmd == KMQ_WIRE_EVENT)
			continue;	/* not what we wait for */
		if (r.cmd == KMQ_WIRE_ERROR) {
			/* kmqd found our frame bad and hung up. */
			err = r.status < 0 ? r.status : -EPROTO;
			goto err_fds;
		}
		if (r.cmd != (cmd | KMQ_WIRE_REPLY) || r.seq != h.seq) {
			err = -EPROTO;
			goto err_fds;
		}
		*rlen = r.len;
		if (r.status > 0)
			return -EPROTO;
		return r.status;
	}

err_fds:
	if (nfds) {
		for (i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
	}
	return lost(c, err);
}
