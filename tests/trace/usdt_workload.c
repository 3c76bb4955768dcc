// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * usdt_workload QUEUE N M K: a known fast-path workload for the tracing
 * tests, on a memfd queue named QUEUE (no kmqd, no kmq.ko): N sends, M
 * copy receives, K borrows each released. Exits 0, or 1 on any failure.
 * Linked with libkmq.a, so its USDT probes are in this executable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <kmq/ring.h>
#include "internal.h"

static int nop_wake(struct kmq *q, unsigned int who) { return 0; }

static const struct kmq_backend be = { .name = "usdt-workload", .wake = nop_wake };

int main(int argc, char **argv)
{
	unsigned long n, m, k, i;
	struct kmq_layout l;
	struct kmq *q;
	unsigned int wake = 0;
	void *base;
	int fd;

	if (argc != 5 || strlen(argv[1]) >= KMQ_NAME_LEN) {
		fprintf(stderr, "usage: usdt_workload QUEUE N M K\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	m = strtoul(argv[3], NULL, 10);
	k = strtoul(argv[4], NULL, 10);
	if (m + k > n || n > 4096)
		return 2;
	if (kmq_layout_compute(&l, 4096, 256))
		return 1;
	fd = memfd_create("usdt_workload", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)l.size))
		return 1;
	base = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED)
		return 1;
	kmq_layout_init(base, &l, KMQ_FEAT_RINGS, 0);
	q = kmq_alloc(&be, KMQ_SEND | KMQ_RECV);
	if (!q)
		return 1;
	kmq_attach(q, base, &l, 1);
	strcpy(q->name, argv[1]);

	for (i = 0; i < n; i++) {
		struct kmq_iov iov = { .data = "hello", .len = 5 };

		if (kmq_fast_send(&q->fast, &iov, 1, NULL, &wake) != 1) {
			fprintf(stderr, "send %lu failed\n", i);
			return 1;
		}
	}
	for (i = 0; i < m; i++) {
		char buf[64];
		struct kmq_rbuf b = { .buf = buf, .cap = sizeof(buf) };

		if (kmq_fast_recv(&q->fast, &b, 1, &wake) != 1) {
			fprintf(stderr, "recv %lu failed\n", i);
			return 1;
		}
	}
	for (i = 0; i < k; i++) {
		struct kmq_msg msg;

		if (kmq_fast_borrow(&q->fast, &msg, &wake) ||
		    kmq_fast_release(&q->fast, &msg, &wake)) {
			fprintf(stderr, "borrow %lu failed\n", i);
			return 1;
		}
	}
	return 0;
}
