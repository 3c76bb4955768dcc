// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libkmq without a kernel: name and argument validation, -ENODEV when
 * /dev/kmq is missing, backend selection, mapping checks, and the fast path
 * plus the handle layer (timeouts, wakes, batches, borrows) on queue memory
 * in this process, served by a stub backend.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

struct qmem {
	void *base;
	struct kmq_layout l;
	struct kmq_fast f;
};

static void q_new(struct qmem *q, __u32 capacity, __u32 msg_size,
		  __u32 client)
{
	ck_assert_int_eq(kmq_layout_compute(&q->l, capacity, msg_size), 0);
	q->base = aligned_alloc(4096, q->l.size);
	ck_assert_ptr_nonnull(q->base);
	memset(q->base, 0, q->l.size);
	kmq_layout_init(q->base, &q->l, KMQ_FEAT_RINGS, 42);
	kmq_fast_init(&q->f, q->base, &q->l, client);
}

static __u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* ---- names and arguments ---------------------------------------------- */

START_TEST(names)
{
	char name[KMQ_NAME_MAX + 2];
	char field[KMQ_NAME_LEN];
	size_t i;

	ck_assert_int_eq(kmq_name_valid("a"), 1);
	ck_assert_int_eq(kmq_name_valid("Orders-2024_v1.0"), 1);
	ck_assert_int_eq(kmq_name_valid(NULL), 0);
	ck_assert_int_eq(kmq_name_valid(""), 0);
	ck_assert_int_eq(kmq_name_valid("a/b"), 0);
	ck_assert_int_eq(kmq_name_valid("a b"), 0);
	ck_assert_int_eq(kmq_name_valid("a\n"), 0);
	ck_assert_int_eq(kmq_name_valid("caf\xc3\xa9"), 0);
	ck_assert_int_eq(kmq_name_valid("a:b"), 0);
	memset(name, 'x', sizeof(name));
	name[KMQ_NAME_MAX] = '\0';
	ck_assert_int_eq(kmq_name_valid(name), 1);
	name[KMQ_NAME_MAX] = 'x';
	name[KMQ_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(kmq_name_valid(name), 0);

	memset(field, 0x55, sizeof(field));
	ck_assert_int_eq(kmq_name_copy(field, "abc"), 0);
	ck_assert_str_eq(field, "abc");
	for (i = 3; i < sizeof(field); i++)
		ck_assert_int_eq(field[i], 0);
	ck_assert_int_eq(kmq_name_copy(field, "a/b"), -EINVAL);
}
END_TEST

/* Bad arguments are refused before any backend is asked. */
START_TEST(bad_arguments)
{
	struct kmq_qattr a = { 0 };
	struct kmq_info info, infos[2];
	struct kmq *q = (struct kmq *)1;

	ck_assert_int_eq(kmq_create(NULL, NULL), -EINVAL);
	ck_assert_int_eq(kmq_create("bad name", NULL), -EINVAL);
	a.capacity = KMQ_CAPACITY_MAX + 1;
	ck_assert_int_eq(kmq_create("q", &a), -EINVAL);
	a.capacity = 0;
	a.max_msg_size = KMQ_MSG_MAX + 1;
	ck_assert_int_eq(kmq_create("q", &a), -EINVAL);
	a.max_msg_size = 0;
	a.mode = 01000;
	ck_assert_int_eq(kmq_create("q", &a), -EINVAL);
	a.mode = 0;
	a.flags = 4;
	ck_assert_int_eq(kmq_create("q", &a), -EINVAL);
	a.flags = KMQ_CREATE_FIFO;	/* FIFO names end in ".fifo" */
	ck_assert_int_eq(kmq_create("q", &a), -EINVAL);
	a.flags = 0;
	ck_assert_int_eq(kmq_create("q.fifo", &a), -EINVAL);
	ck_assert_int_eq(kmq_delete(NULL), -EINVAL);
	ck_assert_int_eq(kmq_delete(""), -EINVAL);
	ck_assert_int_eq(kmq_info("q", NULL), -EINVAL);
	ck_assert_int_eq(kmq_info("..//", &info), -EINVAL);
	ck_assert_int_eq(kmq_list(NULL, 2, 0, NULL), -EINVAL);
	(void)infos;

	ck_assert_int_eq(kmq_open("q", KMQ_SEND, NULL), -EINVAL);
	ck_assert_int_eq(kmq_open("q", 0, &q), -EINVAL);
	ck_assert_ptr_null(q);
	ck_assert_int_eq(kmq_open("q", KMQ_COPY, &q), -EINVAL);
	ck_assert_int_eq(kmq_open("q", KMQ_SEND | KMQ_OPEN_MAP, &q), -EINVAL);
	ck_assert_int_eq(kmq_open("q", KMQ_RECV | (1U << 30), &q), -EINVAL);
	ck_assert_int_eq(kmq_open("no/such", KMQ_RECV, &q), -EINVAL);

	ck_assert_int_eq(kmq_send(NULL, "x", 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_recv(NULL, NULL, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(kmq_borrow(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(kmq_release(NULL, NULL), -EINVAL);
	ck_assert_int_eq(kmq_send_batch(NULL, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_recv_batch(NULL, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_wait(NULL, KMQ_READABLE, 0), -EINVAL);
	ck_assert_int_eq(kmq_prepare_wait(NULL, KMQ_READABLE), -EINVAL);
	ck_assert_int_eq(kmq_qinfo(NULL, &info), -EINVAL);
	ck_assert_int_eq(kmq_fd(NULL), -EINVAL);
	ck_assert_int_eq(kmq_mapped(NULL), -EINVAL);
	kmq_close(NULL);
}
END_TEST

/* With no /dev/kmq every call on the kernel backend says so; unset, the
 * backend is kmqd's, and with no kmqd every call says that. */
START_TEST(no_device)
{
	struct kmq_info info;
	struct kmq *q = (struct kmq *)1;
	unsigned int total = 7;

	if (access(KMQ_DEVICE, F_OK) == 0)
		return;		/* the module is loaded: nothing to test here */
	setenv("KMQ_SOCKET", "/nonexistent/kmqd.sock", 1);
	unsetenv("KMQ_BACKEND");
	ck_assert_int_eq(kmq_create("q", NULL), -ECONNREFUSED);
	ck_assert_int_eq(kmq_open("q", KMQ_SEND | KMQ_RECV, &q), -ECONNREFUSED);
	ck_assert_ptr_null(q);
	ck_assert_ptr_nonnull(strstr(kmq_strerror(-ECONNREFUSED),
				     "kmqd is not running at /nonexistent/kmqd.sock"));
	setenv("KMQ_BACKEND", "kernel", 1);
	ck_assert_int_eq(kmq_create("q", NULL), -ENODEV);
	ck_assert_int_eq(kmq_delete("q"), -ENODEV);
	ck_assert_int_eq(kmq_info("q", &info), -ENODEV);
	ck_assert_int_eq(kmq_list(&info, 1, 0, &total), -ENODEV);
	ck_assert_int_eq(kmq_open("q", KMQ_SEND | KMQ_RECV, &q), -ENODEV);
	ck_assert_ptr_null(q);
	ck_assert_ptr_nonnull(strstr(kmq_strerror(-ENODEV), KMQ_DEVICE));
	ck_assert_int_eq(kmq_open("q", KMQ_RECV | KMQ_COPY, &q), -ENODEV);
	unsetenv("KMQ_BACKEND");
	unsetenv("KMQ_SOCKET");
}
END_TEST

START_TEST(backend_choice)
{
	struct kmq *q;

	setenv("KMQ_BACKEND", "shm", 1);
	setenv("KMQ_SOCKET", "/nonexistent/kmqd.sock", 1);
	ck_assert_int_eq(kmq_create("q", NULL), -ECONNREFUSED);
	ck_assert_int_eq(kmq_open("q", KMQ_SEND, &q), -ECONNREFUSED);
	ck_assert_int_eq(kmq_list(NULL, 0, 0, NULL), -ECONNREFUSED);
	unsetenv("KMQ_SOCKET");
	setenv("KMQ_BACKEND", "carrier-pigeon", 1);
	ck_assert_int_eq(kmq_create("q", NULL), -EINVAL);
	ck_assert_int_eq(kmq_open("q", KMQ_SEND, &q), -EINVAL);
	unsetenv("KMQ_BACKEND");
}
END_TEST

START_TEST(strerror_texts)
{
	ck_assert_str_eq(kmq_strerror(-EINVAL), "Invalid argument");
	ck_assert_str_eq(kmq_strerror(EINVAL), "Invalid argument");
	ck_assert_ptr_nonnull(strstr(kmq_strerror(-ENOTSUP), "backend"));
	ck_assert_ptr_nonnull(kmq_strerror(-99999));
}
END_TEST

/* ---- mapping checks --------------------------------------------------- */

static void info_from_layout(struct kmq_info *i, const struct kmq_layout *l)
{
	memset(i, 0, sizeof(*i));
	i->capacity = l->capacity;
	i->max_msg_size = l->max_msg_size;
	i->slot_size = l->slot_size;
	i->free_off = l->free_off;
	i->ready_off = l->ready_off;
	i->slots_off = l->slots_off;
	i->size = l->size;
}

START_TEST(map_checks)
{
	struct kmq_layout got;
	struct kmq_info i;
	struct qmem q;
	struct kmq_hdr *h;

	q_new(&q, 16, 100, 1);
	h = q.base;
	info_from_layout(&i, &q.l);
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), 0);
	ck_assert_mem_eq(&got, &q.l, sizeof(got));
	ck_assert_int_eq(kmq_hdr_check(h, &got), 0);

	i.capacity = 12;
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);
	info_from_layout(&i, &q.l);
	i.slot_size = KMQ_SLOT_HDR_SIZE + 99;
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);
	info_from_layout(&i, &q.l);
	i.ready_off = i.free_off + 8;		/* rings overlap */
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);
	info_from_layout(&i, &q.l);
	i.slots_off = i.size - 64;		/* pool beyond the mapping */
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);
	info_from_layout(&i, &q.l);
	i.free_off = 64;			/* inside the header */
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);
	info_from_layout(&i, &q.l);
	i.free_off = ~0ULL - 4;			/* overflow */
	ck_assert_int_eq(kmq_layout_from_info(&got, &i), -EPROTO);

	h->magic ^= 1;
	ck_assert_int_eq(kmq_hdr_check(h, &q.l), -EPROTO);
	h->magic ^= 1;
	h->capacity = 32;
	ck_assert_int_eq(kmq_hdr_check(h, &q.l), -EPROTO);
	h->capacity = 16;
	h->abi = 2;
	ck_assert_int_eq(kmq_hdr_check(h, &q.l), -EPROTO);
	free(q.base);
}
END_TEST

/* ---- fast path on a struct kmq_view ----------------------------------- */

START_TEST(fast_send_recv)
{
	struct kmq_iov iov = { "hello", 5 };
	struct kmq_rbuf b;
	char buf[64];
	unsigned int wake = 0;
	struct qmem q, q2;
	__u64 id, id2, t0;

	q_new(&q, 4, 64, 7);
	t0 = now_ns(CLOCK_REALTIME);
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, &id, &wake), 1);
	ck_assert_uint_eq(wake, 0);
	ck_assert_uint_eq(id >> 40, 7);			/* client id */
	ck_assert_int_eq(kmq_fast_events(&q.f, KMQ_READABLE | KMQ_WRITABLE),
			 KMQ_READABLE | KMQ_WRITABLE);

	memset(&b, 0, sizeof(b));
	b.buf = buf;
	b.cap = sizeof(buf);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), 1);
	ck_assert_uint_eq(wake, 0);
	ck_assert_uint_eq(b.msg.len, 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_ptr_eq(b.msg.data, buf);
	ck_assert_uint_eq(b.msg.id, id);
	ck_assert_uint_eq(b.msg.sender_pid, (__u32)getpid());
	ck_assert_uint_eq(b.msg.sender_uid, (__u32)getuid());
	ck_assert_uint_ge(b.msg.sent_ns, t0);
	ck_assert_uint_le(b.msg.sent_ns, now_ns(CLOCK_REALTIME));
	ck_assert_uint_eq(b.msg.slot, KMQ_MSG_NOSLOT);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), -EAGAIN);
	ck_assert_int_eq(kmq_fast_events(&q.f, KMQ_READABLE), 0);

	/* zero-length messages are messages */
	iov.len = 0;
	iov.data = NULL;
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, &id2, &wake), 1);
	ck_assert_uint_eq(id2, id + 1);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), 1);
	ck_assert_uint_eq(b.msg.len, 0);

	/* oversized: refused, nothing taken */
	iov.data = buf;
	iov.len = 65;
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), -EMSGSIZE);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);

	/* a later handle with the same client id does not repeat ids */
	q_new(&q2, 4, 64, 7);
	iov.len = 1;
	ck_assert_int_eq(kmq_fast_send(&q2.f, &iov, 1, &id, &wake), 1);
	ck_assert_uint_gt(id, id2);
	free(q2.base);
	free(q.base);
}
END_TEST

START_TEST(fast_full_and_batches)
{
	struct kmq_iov iov[6];
	struct kmq_rbuf b[6];
	char bufs[6][16], texts[6][4];
	unsigned int wake = 0, i;
	struct qmem q;
	__u64 ids[6];

	q_new(&q, 4, 16, 3);
	for (i = 0; i < 6; i++) {
		texts[i][0] = 'm';
		texts[i][1] = (char)('0' + i);
		iov[i].data = texts[i];
		iov[i].len = 2;
	}
	/* a batch stops at the first message that finds no free slot */
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 6, ids, &wake), 4);
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 1, NULL, &wake), -EAGAIN);
	ck_assert_int_eq(kmq_fast_events(&q.f, KMQ_WRITABLE), 0);
	for (i = 1; i < 4; i++)
		ck_assert_uint_eq(ids[i], ids[i - 1] + 1);

	memset(b, 0, sizeof(b));
	for (i = 0; i < 6; i++) {
		b[i].buf = bufs[i];
		b[i].cap = sizeof(bufs[i]);
	}
	ck_assert_int_eq(kmq_fast_recv(&q.f, b, 3, &wake), 3);
	ck_assert_int_eq(kmq_fast_recv(&q.f, b + 3, 3, &wake), 1);
	for (i = 0; i < 4; i++) {
		ck_assert_mem_eq(bufs[i], texts[i], 2);
		ck_assert_uint_eq(b[i].msg.id, ids[i]);
	}
	ck_assert_int_eq(kmq_fast_recv(&q.f, b, 6, &wake), -EAGAIN);
	ck_assert_uint_eq(wake, 0);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);
	free(q.base);
}
END_TEST

/* A buffer too small leaves the message where it is, first in line, and
 * says its size: the retry with room gets that message, before later ones. */
START_TEST(fast_recv_too_small)
{
	struct kmq_iov iov[3] = { { "0123456789", 10 }, { "ab", 2 }, { "c", 1 } };
	struct kmq_rbuf b, bb[2];
	char small[4], big[16], bigs[2][16];
	unsigned int wake = 0;
	struct kmq_slot *s;
	struct qmem q;
	__u64 head, cell;
	__u32 idx;

	q_new(&q, 4, 16, 3);
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 3, NULL, &wake), 3);
	head = q.f.v.hdr->ready.head;
	cell = q.f.v.ready.cells[head & q.f.v.ready.mask];
	idx = kmq_cell_idx(cell);
	s = kmq_slot_at(&q.f.v, idx);
	memset(&b, 0, sizeof(b));
	b.buf = small;
	b.cap = sizeof(small);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), -EMSGSIZE);
	ck_assert_uint_eq(b.msg.len, 10);
	/* untouched: same cell at the same head, slot still READY */
	ck_assert_uint_eq(q.f.v.hdr->ready.head, head);
	ck_assert_uint_eq(q.f.v.ready.cells[head & q.f.v.ready.mask], cell);
	ck_assert_uint_eq(s->state, KMQ_SLOT_READY);
	ck_assert_uint_eq(s->owner, 3);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.ready), 3);
	/* and again: a small buffer never gets past it */
	b.msg.len = 0;
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), -EMSGSIZE);
	ck_assert_uint_eq(b.msg.len, 10);
	b.buf = big;
	b.cap = sizeof(big);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), 1);
	ck_assert_uint_eq(b.msg.len, 10);
	ck_assert_mem_eq(big, "0123456789", 10);

	/* in a batch, one that does not fit ends it and stays first */
	memset(bb, 0, sizeof(bb));
	bb[0].buf = bigs[0];
	bb[0].cap = sizeof(bigs[0]);
	bb[1].buf = bigs[1];
	bb[1].cap = 0;
	ck_assert_int_eq(kmq_fast_recv(&q.f, bb, 2, &wake), 1);
	ck_assert_mem_eq(bigs[0], "ab", 2);
	ck_assert_uint_eq(bb[1].msg.len, 1);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), 1);
	ck_assert_mem_eq(big, "c", 1);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);
	ck_assert_uint_eq(q.f.corrupt, 0);
	free(q.base);
}
END_TEST

START_TEST(fast_borrow_release)
{
	struct kmq_iov iov = { "zero-copy", 9 };
	struct kmq_msg m, m2;
	unsigned int wake = 0;
	struct qmem q;
	struct kmq_slot *s;

	q_new(&q, 4, 32, 5);
	ck_assert_int_eq(kmq_fast_borrow(&q.f, &m, &wake), -EAGAIN);
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_borrow(&q.f, &m, &wake), 0);
	ck_assert_uint_lt(m.slot, 4);
	s = kmq_slot_at(&q.f.v, m.slot);
	ck_assert_ptr_eq(m.data, kmq_slot_data(s));	/* in place */
	ck_assert_uint_eq(m.len, 9);
	ck_assert_mem_eq(m.data, "zero-copy", 9);
	ck_assert_uint_eq(s->owner, 5);
	ck_assert_uint_eq(s->state, KMQ_SLOT_BORROWED);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 3);

	m2 = m;
	ck_assert_int_eq(kmq_fast_release(&q.f, &m, &wake), 0);
	ck_assert_ptr_null(m.data);
	ck_assert_uint_eq(s->state, KMQ_SLOT_FREE);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);
	/* twice, or a slot we do not hold, or no slot at all */
	ck_assert_int_eq(kmq_fast_release(&q.f, &m2, &wake), -EINVAL);
	ck_assert_int_eq(kmq_fast_release(&q.f, &m, &wake), -EINVAL);
	m2.slot = 4;
	ck_assert_int_eq(kmq_fast_release(&q.f, &m2, &wake), -EINVAL);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);

	/* another client's borrow is not ours to release */
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_borrow(&q.f, &m, &wake), 0);
	q.f.client_id = 6;
	ck_assert_int_eq(kmq_fast_release(&q.f, &m, &wake), -EINVAL);
	q.f.client_id = 5;
	ck_assert_int_eq(kmq_fast_release(&q.f, &m, &wake), 0);
	free(q.base);
}
END_TEST

/* Wakes are reported only when a sleeper armed the flag, once. */
START_TEST(fast_wake_flags)
{
	struct kmq_iov iov[3] = { { "a", 1 }, { "b", 1 }, { "c", 1 } };
	struct kmq_rbuf b[3];
	char bufs[3][4];
	struct kmq_msg m;
	unsigned int wake = 0, i;
	struct qmem q;

	q_new(&q, 4, 16, 2);
	ck_assert_int_eq(kmq_fast_arm(&q.f, KMQ_READABLE), 0);
	ck_assert_uint_eq(q.f.v.hdr->rd_wait, 1);
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 3, NULL, &wake), 3);
	ck_assert_uint_eq(wake, KMQ_WAKE_READERS);
	ck_assert_uint_eq(q.f.v.hdr->rd_wait, 0);
	wake = 0;
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 1, NULL, &wake), 1);
	ck_assert_uint_eq(wake, 0);

	/* a writer waits for room: the receiver owes it a wake */
	ck_assert_int_eq(kmq_fast_arm(&q.f, KMQ_WRITABLE), 0);
	memset(b, 0, sizeof(b));
	for (i = 0; i < 3; i++) {
		b[i].buf = bufs[i];
		b[i].cap = sizeof(bufs[i]);
	}
	ck_assert_int_eq(kmq_fast_recv(&q.f, b, 3, &wake), 3);
	ck_assert_uint_eq(wake, KMQ_WAKE_WRITERS);
	ck_assert_uint_eq(q.f.v.hdr->wr_wait, 0);

	/* release owes the writers a wake too; borrow owes none */
	wake = 0;
	ck_assert_int_eq(kmq_fast_borrow(&q.f, &m, &wake), 0);
	ck_assert_uint_eq(wake, 0);
	ck_assert_int_eq(kmq_fast_arm(&q.f, KMQ_WRITABLE), KMQ_WRITABLE);
	ck_assert_int_eq(kmq_fast_release(&q.f, &m, &wake), 0);
	ck_assert_uint_eq(wake, KMQ_WAKE_WRITERS);
	free(q.base);
}
END_TEST

/* A slot whose length no sender wrote is skipped, counted, and freed. */
START_TEST(fast_corrupt_length)
{
	struct kmq_iov iov[2] = { { "bad", 3 }, { "good", 4 } };
	struct kmq_rbuf b;
	char buf[64];
	unsigned int wake = 0;
	struct qmem q;
	__u32 idx;

	q_new(&q, 4, 32, 2);
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 2, NULL, &wake), 2);
	idx = kmq_cell_idx(q.f.v.ready.cells[0]);
	kmq_slot_at(&q.f.v, idx)->len = 33;
	memset(&b, 0, sizeof(b));
	b.buf = buf;
	b.cap = sizeof(buf);
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), 1);
	ck_assert_uint_eq(b.msg.len, 4);
	ck_assert_mem_eq(buf, "good", 4);
	ck_assert_uint_eq(q.f.corrupt, 1);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);

	/* attr_len counts against the size too */
	ck_assert_int_eq(kmq_fast_send(&q.f, iov, 1, NULL, &wake), 1);
	idx = kmq_cell_idx(q.f.v.ready.cells[2]);
	kmq_slot_at(&q.f.v, idx)->attr_len = 30;
	ck_assert_int_eq(kmq_fast_recv(&q.f, &b, 1, &wake), -EAGAIN);
	ck_assert_uint_eq(q.f.corrupt, 2);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 4);
	free(q.base);
}
END_TEST

/* Slots held by @client: its id in the slot header, and in no ring cell
 * (the owner field is not cleared when a slot goes back). Capacity <= 64. */
static unsigned int held_by(struct kmq_fast *f, __u32 client)
{
	struct kmq_ring *rings[2] = { &f->v.free, &f->v.ready };
	unsigned int i, r, n = 0;
	__u64 in_ring = 0;

	ck_assert_uint_le(f->v.free.cap, 64);
	for (r = 0; r < 2; r++)
		for (i = 0; i < rings[r]->cap; i++) {
			__u64 c = rings[r]->cells[i];

			if (kmq_cell_kind(c) != KMQ_CELL_EMPTY)
				in_ring |= 1ULL << kmq_cell_idx(c);
		}
	for (i = 0; i < f->v.free.cap; i++)
		if (kmq_slot_at(&f->v, i)->owner == client &&
		    !(in_ring & (1ULL << i)))
			n++;
	return n;
}

/* Pop position 0 of a fresh queue's free ring as client 3 and stall before
 * releasing the cell: one lap later, at position cap, it holds the free
 * ring's tail. Returns the position to release. */
static __u64 stall_free_ring(struct qmem *q, __u32 *idx)
{
	__u64 pos;

	ck_assert_int_eq(kmq_ring_pop(&q->f.v.free, 3, idx, &pos, NULL), 0);
	ck_assert_uint_eq(pos, 0);
	return pos;
}

static void unstall(struct kmq_ring *r, struct kmq_view *v, __u32 idx,
		    __u64 pos)
{
	kmq_slot_at(v, idx)->owner = 3;
	kmq_slot_at(v, idx)->state = KMQ_SLOT_CLAIMED;
	kmq_ring_release(r, pos);
}

/* A send whose ready-ring tail cell is held by a popper of the previous
 * lap does not wait for it: -EAGAIN at once, and no slot claimed. */
START_TEST(fast_send_behind_stalled_popper)
{
	struct kmq_iov iov = { "m", 1 };
	struct kmq_rbuf b[4];
	char bufs[4][8];
	unsigned int wake = 0, i;
	struct qmem q;
	__u64 pos, t0;
	__u32 idx;

	q_new(&q, 4, 8, 2);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), 1);
	/* another client pops position 0 and stalls before releasing */
	ck_assert_int_eq(kmq_ring_pop(&q.f.v.ready, 3, &idx, &pos, NULL), 0);
	memset(b, 0, sizeof(b));
	for (i = 0; i < 4; i++) {
		b[i].buf = bufs[i];
		b[i].cap = sizeof(bufs[i]);
	}
	ck_assert_int_eq(kmq_fast_recv(&q.f, b, 4, &wake), 3);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 3);
	ck_assert_int_eq(kmq_fast_events(&q.f, KMQ_WRITABLE), 0);
	ck_assert(kmq_fast_stalled(&q.f, KMQ_WRITABLE));
	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), -EAGAIN);
	ck_assert_uint_lt(now_ns(CLOCK_MONOTONIC) - t0, 1000000000ULL);
	ck_assert_uint_eq(kmq_ring_count(&q.f.v.free), 3);
	ck_assert_uint_eq(held_by(&q.f, 2), 0);

	/* the popper moves on: the send goes through */
	kmq_slot_at(&q.f.v, idx)->owner = 3;
	kmq_slot_at(&q.f.v, idx)->state = KMQ_SLOT_BORROWED;
	kmq_ring_release(&q.f.v.ready, pos);
	ck_assert_int_eq(kmq_fast_events(&q.f, KMQ_WRITABLE), KMQ_WRITABLE);
	iov.data = "late";
	iov.len = 4;
	ck_assert_int_eq(kmq_fast_send(&q.f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_recv(&q.f, b, 1, &wake), 1);
	ck_assert_mem_eq(bufs[0], "late", 4);
	ck_assert_uint_eq(q.f.corrupt, 0);
	free(q.base);
}
END_TEST

/* A release (or receive) whose free-ring tail cell is held by a stalled
 * producer succeeds: the slot is deferred (FREE, still ours) and pushed by
 * the next fast-path call once the cell is released, or at close. */
START_TEST(fast_release_deferred)
{
	struct kmq_iov iov = { "zz", 2 };
	struct kmq_msg m, m2;
	struct kmq_rbuf b;
	char buf[8];
	unsigned int wake = 0;
	struct qmem mem;
	struct kmq_slot *s;
	struct kmq_fast *f;
	struct kmq *h;
	__u64 pos, t0;
	__u32 sidx, bidx;

	h = kmq_alloc(&(struct kmq_backend){ .name = "none" },
		      KMQ_SEND | KMQ_RECV);
	ck_assert_ptr_nonnull(h);
	q_new(&mem, 4, 8, 2);
	kmq_attach(h, mem.base, &mem.l, 2);
	f = &h->fast;
	pos = stall_free_ring(&mem, &sidx);
	ck_assert_int_eq(kmq_fast_send(f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_borrow(f, &m, &wake), 0);
	bidx = m.slot;
	s = kmq_slot_at(&f->v, bidx);
	m2 = m;
	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_fast_release(f, &m, &wake), 0);
	ck_assert_uint_lt(now_ns(CLOCK_MONOTONIC) - t0, 1000000000ULL);
	ck_assert_uint_eq(m.slot, KMQ_MSG_NOSLOT);
	ck_assert_ptr_null(m.data);
	ck_assert_uint_eq(f->ndefer, 1);
	ck_assert_uint_eq(f->defer[0], bidx);
	ck_assert_uint_eq(s->state, KMQ_SLOT_FREE);	/* the repair's to */
	ck_assert_uint_eq(s->owner, 2);			/* give back */
	ck_assert_int_eq(kmq_fast_release(f, &m2, &wake), -EINVAL);

	/* a receive consumes its message the same way */
	iov.data = "yy";
	ck_assert_int_eq(kmq_fast_send(f, &iov, 1, NULL, &wake), 1);
	memset(&b, 0, sizeof(b));
	b.buf = buf;
	b.cap = sizeof(buf);
	ck_assert_int_eq(kmq_fast_recv(f, &b, 1, &wake), 1);
	ck_assert_mem_eq(buf, "yy", 2);
	ck_assert_uint_eq(f->ndefer, 2);
	ck_assert_int_eq(kmq_fast_recv(f, &b, 1, &wake), -EAGAIN);
	ck_assert_uint_eq(f->ndefer, 2);	/* still held: still ours */
	ck_assert_uint_eq(held_by(f, 2), 2);
	ck_assert_uint_eq(kmq_ring_count(&f->v.free), 1);

	/* the producer moves on: the next call pushes them, and wakes */
	unstall(&f->v.free, &f->v, sidx, pos);
	ck_assert_int_eq(kmq_fast_arm(f, KMQ_WRITABLE), KMQ_WRITABLE);
	wake = 0;
	ck_assert_int_eq(kmq_fast_recv(f, &b, 1, &wake), -EAGAIN);
	ck_assert_uint_eq(f->ndefer, 0);
	ck_assert_uint_eq(wake, KMQ_WAKE_WRITERS);
	ck_assert_uint_eq(held_by(f, 2), 0);
	ck_assert_uint_eq(kmq_ring_count(&f->v.free), 3);	/* + client 3's */
	ck_assert_uint_eq(f->deferred, 2);
	ck_assert_uint_eq(f->stranded, 0);

	/* deferred at close: kmq_close() pushes them before it unmaps. Stall
	 * position 3 (head), so the push at position 7 finds it held. */
	ck_assert_int_eq(kmq_ring_pop(&f->v.free, 3, &bidx, &pos, NULL), 0);
	ck_assert_uint_eq(pos, 3);
	ck_assert_int_eq(kmq_fast_send(f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_send(f, &iov, 1, NULL, &wake), 1);
	ck_assert_int_eq(kmq_fast_recv(f, &b, 1, &wake), 1);	/* at 6 */
	ck_assert_uint_eq(f->ndefer, 0);
	ck_assert_int_eq(kmq_fast_recv(f, &b, 1, &wake), 1);	/* 7: held */
	ck_assert_uint_eq(f->ndefer, 1);
	unstall(&f->v.free, &f->v, bidx, pos);
	kmq_close(h);
	ck_assert_uint_eq(held_by(&mem.f, 2), 0);
	ck_assert_uint_eq(kmq_ring_count(&mem.f.v.free), 2);	/* 2 stalled */
	free(mem.base);
}
END_TEST

/* ---- the handle layer on a stub backend ------------------------------- */

static int stub_wakes;
static int stub_waits;

static int stub_wake(struct kmq *q, unsigned int who)
{
	__atomic_fetch_add(&stub_wakes, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Sleeps a little and reports nothing: waits may return early. */
static int stub_wait(struct kmq *q, int events, const struct timespec *t)
{
	struct timespec ms = { 0, 1000000 };

	__atomic_fetch_add(&stub_waits, 1, __ATOMIC_RELAXED);
	if (t && (t->tv_sec == 0 && t->tv_nsec < ms.tv_nsec))
		ms = *t;
	nanosleep(&ms, NULL);
	return q->mapped ? kmq_fast_events(&q->fast, events) : 0;
}

static void stub_close(struct kmq *q)
{
}

static const struct kmq_backend stub_backend = {
	.name = "stub",
	.close = stub_close,
	.wake = stub_wake,
	.wait = stub_wait,
};

static struct kmq *stub_open(struct qmem *q, unsigned int flags,
			     __u32 capacity, __u32 msg_size)
{
	struct kmq *h;

	q_new(q, capacity, msg_size, 9);
	h = kmq_alloc(&stub_backend, flags);
	ck_assert_ptr_nonnull(h);
	kmq_attach(h, q->base, &q->l, 9);
	return h;
}

START_TEST(handle_timeouts)
{
	struct qmem mem;
	struct kmq *q;
	char buf[16];
	__u64 t0, dt;

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 2, 16);
	ck_assert_int_eq(kmq_mapped(q), 1);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);
	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 20000000), -ETIMEDOUT);
	dt = now_ns(CLOCK_MONOTONIC) - t0;
	ck_assert_uint_ge(dt, 20000000);
	ck_assert_uint_lt(dt, 2000000000);
	ck_assert_int_gt(stub_waits, 0);

	ck_assert_int_eq(kmq_wait(q, KMQ_READABLE, 0), 0);
	ck_assert_int_eq(kmq_wait(q, KMQ_READABLE, 5000000), 0);
	ck_assert_int_eq(kmq_wait(q, KMQ_WRITABLE, -1), KMQ_WRITABLE);
	ck_assert_int_eq(kmq_wait(q, 0, 0), -EINVAL);
	ck_assert_int_eq(kmq_wait(q, 4, 0), -EINVAL);

	ck_assert_int_eq(kmq_send(q, "a", 1, 0), 0);
	ck_assert_int_eq(kmq_send(q, "b", 1, 0), 0);
	ck_assert_int_eq(kmq_send(q, "c", 1, 0), -EAGAIN);
	ck_assert_int_eq(kmq_send(q, "c", 1, 10000000), -ETIMEDOUT);
	ck_assert_int_eq(kmq_wait(q, KMQ_READABLE | KMQ_WRITABLE, 0),
			 KMQ_READABLE);
	ck_assert_int_eq(kmq_prepare_wait(q, KMQ_WRITABLE), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, -1), 1);
	ck_assert_int_eq(buf[0], 'a');
	kmq_close(q);
	free(mem.base);
}
END_TEST

START_TEST(handle_checks)
{
	struct kmq_iov iov = { "x", 1 };
	struct kmq_rbuf rb = { NULL, 4, { 0 } };
	struct qmem mem, mem2;
	struct kmq_msg m;
	struct kmq *q, *r;
	char buf[32];
	uint64_t id = 0, id2 = 0;

	q = stub_open(&mem, KMQ_SEND, 4, 16);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), -EPERM);
	ck_assert_int_eq(kmq_borrow(q, &m, 0), -EPERM);
	ck_assert_int_eq(kmq_send(q, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_send(q, buf, 17, 0), -EMSGSIZE);
	ck_assert_int_eq(kmq_send(q, buf, (size_t)1 << 33, 0), -EMSGSIZE);
	ck_assert_int_eq(kmq_send_batch(q, &iov, 0, 0), -EINVAL);
	ck_assert_int_eq(kmq_send_batch(q, NULL, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_send_id(q, NULL, 0, &id, 0), 0);
	ck_assert_uint_eq(id >> 40, 9);
	ck_assert_int_eq(kmq_send_id(q, "y", 1, &id2, 0), 0);
	ck_assert_uint_eq(id2, id + 1);
	ck_assert_int_eq(kmq_recv_batch(q, &rb, 1, 0), -EPERM);
	kmq_close(q);
	free(mem.base);

	r = stub_open(&mem2, KMQ_RECV, 4, 16);
	ck_assert_int_eq(kmq_send(r, "x", 1, 0), -EPERM);
	ck_assert_int_eq(kmq_recv(r, NULL, 4, NULL, 0), -EINVAL);
	ck_assert_int_eq(kmq_recv_batch(r, &rb, 1, 0), -EINVAL);
	ck_assert_int_eq(kmq_recv_batch(r, NULL, 1, 0), -EINVAL);
	m.slot = KMQ_MSG_NOSLOT;
	ck_assert_int_eq(kmq_release(r, &m), -EINVAL);
	kmq_close(r);
	free(mem2.base);
}
END_TEST

START_TEST(handle_batches_and_wakes)
{
	struct kmq_iov iov[5];
	struct kmq_rbuf rb[5];
	char bufs[5][8], small[2];
	struct kmq_msg m;
	struct qmem mem;
	struct kmq *q;
	int i;

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 8, 8);
	for (i = 0; i < 5; i++) {
		iov[i].data = "msg";
		iov[i].len = 3;
	}
	stub_wakes = 0;
	ck_assert_int_eq(kmq_prepare_wait(q, KMQ_READABLE), 0);
	ck_assert_int_eq(kmq_send_batch(q, iov, 5, 0), 5);
	ck_assert_int_eq(stub_wakes, 1);	/* one wake for the batch */
	ck_assert_int_eq(kmq_send(q, "x", 1, 0), 0);
	ck_assert_int_eq(stub_wakes, 1);	/* nobody asleep */

	ck_assert_int_eq(kmq_recv(q, small, sizeof(small), &m, 0), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 3);
	memset(rb, 0, sizeof(rb));
	for (i = 0; i < 5; i++) {
		rb[i].buf = bufs[i];
		rb[i].cap = sizeof(bufs[i]);
	}
	ck_assert_int_eq(kmq_recv_batch(q, rb, 5, 0), 5);
	ck_assert_uint_eq(rb[0].msg.len, 3);	/* the one that did not fit: */
	ck_assert_int_eq(kmq_borrow(q, &m, 0), 0);	/* still first */
	ck_assert_uint_eq(m.len, 1);
	ck_assert_int_eq(kmq_wait(q, KMQ_READABLE, 0), 0);
	ck_assert_int_eq(kmq_prepare_wait(q, KMQ_WRITABLE), KMQ_WRITABLE);
	ck_assert_int_eq(kmq_release(q, &m), 0);
	ck_assert_int_eq(stub_wakes, 2);
	ck_assert_int_eq(kmq_release(q, &m), -EINVAL);
	ck_assert_int_eq(kmq_recv_batch(q, rb, 5, 0), -EAGAIN);
	kmq_close(q);
	free(mem.base);
}
END_TEST

struct late_sender {
	struct kmq *q;
	int err;
};

static void *send_later(void *arg)
{
	struct late_sender *ls = arg;
	struct timespec t = { 0, 20000000 };

	nanosleep(&t, NULL);
	ls->err = kmq_send(ls->q, "late", 4, 0);
	return NULL;
}

/* A receiver blocked with no limit gets a message sent meanwhile. */
START_TEST(handle_blocking)
{
	struct late_sender ls;
	struct qmem mem;
	struct kmq *q;
	pthread_t t;
	char buf[8];

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 4, 8);
	ls.q = kmq_alloc(&stub_backend, KMQ_SEND);
	kmq_attach(ls.q, mem.base, &mem.l, 10);
	ck_assert_int_eq(pthread_create(&t, NULL, send_later, &ls), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, KMQ_FOREVER), 4);
	ck_assert_mem_eq(buf, "late", 4);
	pthread_join(t, NULL);
	ck_assert_int_eq(ls.err, 0);
	kmq_close(ls.q);
	kmq_close(q);
	free(mem.base);
}
END_TEST

struct late_cell {
	__u64 *cell;
	__u64 value;
	int ms;
};

static void *store_later(void *arg)
{
	struct late_cell *lc = arg;
	struct timespec t = { 0, lc->ms * 1000000L };

	nanosleep(&t, NULL);
	__atomic_store_n(lc->cell, lc->value, __ATOMIC_RELEASE);
	return NULL;
}

/* A send on a queue whose ready-ring tail cell is held (here forced to
 * TAKEN(T - cap)) never hangs: timeout 0 gives -EAGAIN at once with the free
 * slots untouched, a timeout gives -ETIMEDOUT at its deadline, and with no
 * limit it goes through once the cell is released, though that wakes
 * nobody: the waiter naps and looks again. */
START_TEST(handle_send_stalled_tail)
{
	struct late_cell lc;
	struct qmem mem;
	struct kmq *q;
	pthread_t t;
	char buf[8];
	__u64 t0, dt, tail, *cell;
	int i;

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 4, 8);
	for (i = 0; i < 4; i++) {	/* one lap: the tail at position 4 */
		ck_assert_int_eq(kmq_send(q, "m", 1, 0), 0);
		ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 1);
	}
	tail = q->fast.v.hdr->ready.tail;
	ck_assert_uint_eq(tail, 4);
	cell = &q->fast.v.ready.cells[tail & q->fast.v.ready.mask];
	ck_assert_uint_eq(*cell, kmq_cell_empty(tail));
	*cell = kmq_cell_taken(tail - 4, 3, 1);

	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_send(q, "x", 1, 0), -EAGAIN);
	ck_assert_uint_lt(now_ns(CLOCK_MONOTONIC) - t0, 1000000000ULL);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 4);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.ready), 0);
	ck_assert_uint_eq(held_by(&q->fast, 9), 0);
	ck_assert_int_eq(kmq_wait(q, KMQ_WRITABLE, 0), 0);

	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_send(q, "x", 1, 30000000), -ETIMEDOUT);
	dt = now_ns(CLOCK_MONOTONIC) - t0;
	ck_assert_uint_ge(dt, 30000000);
	ck_assert_uint_lt(dt, 2000000000);
	ck_assert_int_eq(kmq_wait(q, KMQ_WRITABLE, 20000000), 0);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 4);
	ck_assert_uint_eq(held_by(&q->fast, 9), 0);

	/* the popper releases the cell 100 ms from now, waking nobody */
	lc.cell = cell;
	lc.value = kmq_cell_empty(tail);
	lc.ms = 100;
	ck_assert_int_eq(pthread_create(&t, NULL, store_later, &lc), 0);
	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_send(q, "late", 4, KMQ_FOREVER), 0);
	dt = now_ns(CLOCK_MONOTONIC) - t0;
	pthread_join(t, NULL);
	ck_assert_uint_lt(dt, 2000000000);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 4);
	ck_assert_mem_eq(buf, "late", 4);

	/* kmq_wait(KMQ_WRITABLE) sees the same */
	tail = q->fast.v.hdr->ready.tail;
	cell = &q->fast.v.ready.cells[tail & q->fast.v.ready.mask];
	*cell = kmq_cell_taken(tail - 4, 3, 1);
	ck_assert_int_eq(kmq_wait(q, KMQ_WRITABLE, 0), 0);
	lc.cell = cell;
	lc.value = kmq_cell_empty(tail);
	lc.ms = 50;
	ck_assert_int_eq(pthread_create(&t, NULL, store_later, &lc), 0);
	ck_assert_int_eq(kmq_wait(q, KMQ_WRITABLE, -1), KMQ_WRITABLE);
	pthread_join(t, NULL);
	ck_assert_uint_eq(q->fast.corrupt, 0);
	kmq_close(q);
	free(mem.base);
}
END_TEST

/* ---- in-place send: kmq_reserve / kmq_commit / kmq_abort -------------- */

START_TEST(handle_reserve_commit)
{
	struct kmq_wbuf w, w2;
	struct kmq_msg m;
	struct qmem mem;
	struct kmq *q;
	uint64_t id = 0;
	char buf[32];
	int before;

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 4, 32);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_uint_lt(w.slot, 4);
	ck_assert_ptr_eq(w.data, kmq_slot_data(kmq_slot_at(&q->fast.v, w.slot)));
	ck_assert_uint_eq(w.cap, 32);
	ck_assert_uint_eq(kmq_slot_at(&q->fast.v, w.slot)->state,
			  KMQ_SLOT_CLAIMED);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 3);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);

	memcpy(w.data, "in place", 8);
	/* too long: refused, and the reservation is still good */
	ck_assert_int_eq(kmq_commit(q, &w, 33, &id), -EMSGSIZE);
	ck_assert_ptr_nonnull(w.data);
	ck_assert_uint_eq(kmq_slot_at(&q->fast.v, w.slot)->state,
			  KMQ_SLOT_CLAIMED);
	before = stub_wakes;
	ck_assert_int_eq(kmq_prepare_wait(q, KMQ_READABLE), 0); /* a sleeper */
	ck_assert_int_eq(kmq_commit(q, &w, 8, &id), 0);
	ck_assert_int_eq(stub_wakes, before + 1);	/* woken as by send */
	ck_assert_uint_eq(id >> 40, 9);
	ck_assert_ptr_null(w.data);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &m, 0), 8);
	ck_assert_mem_eq(buf, "in place", 8);
	ck_assert_uint_eq(m.id, id);
	ck_assert_uint_eq(m.sender_pid, (uint32_t)getpid());
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 4);
	/* twice: no longer a reservation */
	ck_assert_int_eq(kmq_commit(q, &w, 8, NULL), -EINVAL);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);

	/* id may be NULL; an empty message */
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_int_eq(kmq_commit(q, &w, 0, NULL), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &m, 0), 0);
	ck_assert_uint_eq(m.id, id + 1);

	/* abort gives the slot back */
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 3);
	ck_assert_int_eq(kmq_abort(q, &w), 0);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 4);
	ck_assert_uint_eq(held_by(&q->fast, 9), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);

	/* full: -EAGAIN at once, -ETIMEDOUT with a timeout */
	ck_assert_int_eq(kmq_send(q, "a", 1, 0), 0);
	ck_assert_int_eq(kmq_send(q, "b", 1, 0), 0);
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_int_eq(kmq_reserve(q, &w2, 0), 0);
	ck_assert_uint_ne(w.slot, w2.slot);
	ck_assert_int_eq(kmq_reserve(q, &w, 0), -EAGAIN);
	ck_assert_int_eq(kmq_reserve(q, &w, 10000000), -ETIMEDOUT);
	ck_assert_int_eq(kmq_send(q, "c", 1, 0), -EAGAIN);
	ck_assert_int_eq(kmq_commit(q, &w2, 1, NULL), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 1);
	ck_assert_int_eq(buf[0], 'a');
	/* a slot still reserved at close is the repair's, as any claimed */
	kmq_close(q);
	free(mem.base);
}
END_TEST

START_TEST(handle_reserve_checks)
{
	struct kmq_wbuf w, w2;
	struct qmem mem, mem2;
	struct kmq *q, *r;

	q = stub_open(&mem, KMQ_SEND, 4, 16);
	memset(&w, 0, sizeof(w));
	ck_assert_int_eq(kmq_reserve(NULL, &w, 0), -EINVAL);
	ck_assert_int_eq(kmq_reserve(q, NULL, 0), -EINVAL);
	ck_assert_int_eq(kmq_commit(NULL, &w, 0, NULL), -EINVAL);
	ck_assert_int_eq(kmq_commit(q, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(kmq_abort(NULL, &w), -EINVAL);
	ck_assert_int_eq(kmq_abort(q, NULL), -EINVAL);
	/* never reserved: zeroed, or pointing at a free slot */
	ck_assert_int_eq(kmq_commit(q, &w, 0, NULL), -EINVAL);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);
	w.slot = 0;
	w.data = kmq_slot_data(kmq_slot_at(&q->fast.v, 0));
	w.cap = 16;
	ck_assert_int_eq(kmq_commit(q, &w, 1, NULL), -EINVAL);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);
	w.slot = 4;
	ck_assert_int_eq(kmq_commit(q, &w, 1, NULL), -EINVAL);
	/* a reservation whose data was tampered with */
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	w2 = w;
	w2.data = (char *)w2.data + 1;
	ck_assert_int_eq(kmq_commit(q, &w2, 1, NULL), -EINVAL);
	/* another client's claimed slot is not ours */
	q->fast.client_id = 10;
	ck_assert_int_eq(kmq_commit(q, &w, 1, NULL), -EINVAL);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);
	q->fast.client_id = 9;
	ck_assert_int_eq(kmq_abort(q, &w), 0);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.free), 4);
	kmq_close(q);
	free(mem.base);

	r = stub_open(&mem2, KMQ_RECV, 4, 16);
	ck_assert_int_eq(kmq_reserve(r, &w, 0), -EPERM);
	ck_assert_uint_eq(kmq_ring_count(&r->fast.v.free), 4);
	kmq_close(r);
	free(mem2.base);
}
END_TEST

/* A commit whose ready-ring tail cell is held by a stalled popper: -EAGAIN,
 * the reservation (and what was written) stays, and the commit goes through
 * once the popper releases the cell. */
START_TEST(handle_commit_stalled_tail)
{
	struct kmq_wbuf w;
	struct kmq_msg m;
	struct qmem mem;
	struct kmq *q;
	char buf[8];
	__u64 t0, tail, *cell;
	uint64_t id = 0;
	int i;

	q = stub_open(&mem, KMQ_SEND | KMQ_RECV, 4, 8);
	for (i = 0; i < 4; i++) {	/* one lap: the tail at position 4 */
		ck_assert_int_eq(kmq_send(q, "m", 1, 0), 0);
		ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 1);
	}
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	memcpy(w.data, "held", 4);
	tail = q->fast.v.hdr->ready.tail;
	cell = &q->fast.v.ready.cells[tail & q->fast.v.ready.mask];
	ck_assert_uint_eq(*cell, kmq_cell_empty(tail));
	*cell = kmq_cell_taken(tail - 4, 3, 1);

	t0 = now_ns(CLOCK_MONOTONIC);
	ck_assert_int_eq(kmq_commit(q, &w, 4, &id), -EAGAIN);
	ck_assert_uint_lt(now_ns(CLOCK_MONOTONIC) - t0, 1000000000ULL);
	ck_assert_ptr_nonnull(w.data);
	ck_assert_uint_eq(kmq_slot_at(&q->fast.v, w.slot)->state,
			  KMQ_SLOT_CLAIMED);
	ck_assert_uint_eq(held_by(&q->fast, 9), 1);
	ck_assert_uint_eq(kmq_ring_count(&q->fast.v.ready), 0);
	ck_assert_int_eq(kmq_commit(q, &w, 4, &id), -EAGAIN);

	*cell = kmq_cell_empty(tail);	/* the popper moves on */
	ck_assert_int_eq(kmq_commit(q, &w, 4, &id), 0);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &m, 0), 4);
	ck_assert_mem_eq(buf, "held", 4);
	ck_assert_uint_eq(m.id, id);
	ck_assert_uint_eq(held_by(&q->fast, 9), 0);
	ck_assert_uint_eq(q->fast.corrupt, 0);
	kmq_close(q);
	free(mem.base);
}
END_TEST

/* Copying handles: a private buffer, sent by copy at commit. */
static struct kmq_iov copy_sent;
static char copy_body[16];
static int copy_full;

static int stub_send_copy(struct kmq *q, const struct kmq_iov *msgs,
			  unsigned int n, __u64 *ids, int64_t timeout_ns)
{
	if (copy_full)
		return -EAGAIN;
	copy_sent.len = msgs[0].len;
	memcpy(copy_body, msgs[0].data, msgs[0].len);
	if (ids)
		ids[0] = 77;
	return 1;
}

static const struct kmq_backend stub_copy_backend = {
	.name = "stub-copy",
	.close = stub_close,
	.wake = stub_wake,
	.wait = stub_wait,
	.send_copy = stub_send_copy,
};

START_TEST(handle_reserve_copying)
{
	struct kmq_wbuf w, w2;
	uint64_t id = 0;
	struct kmq *q;

	q = kmq_alloc(&stub_copy_backend, KMQ_SEND);
	ck_assert_ptr_nonnull(q);
	q->max_msg_size = 16;
	ck_assert_int_eq(kmq_mapped(q), 0);
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_ptr_nonnull(w.data);
	ck_assert_uint_eq(w.cap, 16);
	memcpy(w.data, "copied", 6);
	ck_assert_int_eq(kmq_commit(q, &w, 17, &id), -EMSGSIZE);
	copy_full = 1;
	ck_assert_int_eq(kmq_commit(q, &w, 6, &id), -EAGAIN);
	copy_full = 0;
	ck_assert_int_eq(kmq_commit(q, &w, 6, &id), 0);
	ck_assert_uint_eq(id, 77);
	ck_assert_uint_eq(copy_sent.len, 6);
	ck_assert_mem_eq(copy_body, "copied", 6);
	ck_assert_int_eq(kmq_commit(q, &w, 6, &id), -EINVAL);
	ck_assert_int_eq(kmq_reserve(q, &w, 0), 0);
	ck_assert_int_eq(kmq_abort(q, &w), 0);
	ck_assert_int_eq(kmq_abort(q, &w), -EINVAL);
	ck_assert_int_eq(kmq_reserve(q, &w2, 0), 0);
	kmq_close(q);	/* frees the outstanding buffer (ASan/valgrind) */
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("lib");
	TCase *args = tcase_create("arguments");
	TCase *fast = tcase_create("fastpath");
	TCase *handle = tcase_create("handle");

	tcase_add_test(args, names);
	tcase_add_test(args, bad_arguments);
	tcase_add_test(args, no_device);
	tcase_add_test(args, backend_choice);
	tcase_add_test(args, strerror_texts);
	tcase_add_test(args, map_checks);
	suite_add_tcase(s, args);
	tcase_add_test(fast, fast_send_recv);
	tcase_add_test(fast, fast_full_and_batches);
	tcase_add_test(fast, fast_recv_too_small);
	tcase_add_test(fast, fast_borrow_release);
	tcase_add_test(fast, fast_wake_flags);
	tcase_add_test(fast, fast_corrupt_length);
	tcase_add_test(fast, fast_send_behind_stalled_popper);
	tcase_add_test(fast, fast_release_deferred);
	suite_add_tcase(s, fast);
	tcase_add_test(handle, handle_timeouts);
	tcase_add_test(handle, handle_checks);
	tcase_add_test(handle, handle_batches_and_wakes);
	tcase_add_test(handle, handle_blocking);
	tcase_add_test(handle, handle_send_stalled_tail);
	tcase_add_test(handle, handle_reserve_commit);
	tcase_add_test(handle, handle_reserve_checks);
	tcase_add_test(handle, handle_commit_stalled_tail);
	tcase_add_test(handle, handle_reserve_copying);
	suite_add_tcase(s, handle);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lib_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
