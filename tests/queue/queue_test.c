// SPDX-License-Identifier: GPL-2.0
/*
 * The queue suite: what an application sees through include/kmq.h alone,
 * whichever backend serves it. `make check-shm` runs it on the host against
 * kmqd (KMQ_BACKEND=shm); the VM suite runs it against kmq.ko. Queues are
 * named qt-<pid>-<test> and deleted by each test.
 */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <kmq.h>

#define SEC	1000000000LL

static char *qn(const char *what)
{
	static char name[KMQ_NAME_LEN];

	snprintf(name, sizeof(name), "qt-%d-%s", (int)getpid(), what);
	return name;
}

#define ok(expr) do {							\
	long __r = (long)(expr);					\
	ck_assert_msg(__r >= 0, "%s = %ld (%s)", #expr, __r,		\
		      __r < 0 ? kmq_strerror((int)__r) : "");	\
} while (0)
#define err_is(expr, want) do {						\
	long __r = (long)(expr), __w = (long)(want);			\
	ck_assert_msg(__r == __w, "%s = %ld (%s), want %ld (%s)", #expr, \
		      __r, kmq_strerror((int)__r), __w, kmq_strerror((int)__w)); \
} while (0)

static void mk(const char *name, uint32_t cap, uint32_t msz, uint32_t mode)
{
	struct kmq_qattr a = { .capacity = cap, .max_msg_size = msz, .mode = mode };

	kmq_delete(name);
	ok(kmq_create(name, &a));
}

/* ---- names ------------------------------------------------------------- */

START_TEST(create_info_list_delete)
{
	struct kmq_qattr a = { .capacity = 5, .max_msg_size = 100, .mode = 0640 };
	struct kmq_info info, all[64];
	unsigned int total = 0;
	const char *n = qn("names");
	int i, got, found = 0;
	struct kmq *q;

	kmq_delete(n);
	ok(kmq_create(n, &a));
	ok(kmq_create(n, &a));				/* same geometry: fine */
	a.flags = KMQ_CREATE_EXCL;
	err_is(kmq_create(n, &a), -EEXIST);
	a.flags = 0;
	a.max_msg_size = 200;
	err_is(kmq_create(n, &a), -EEXIST);		/* other geometry */
	ok(kmq_info(n, &info));
	ck_assert_str_eq(info.name, n);
	ck_assert_uint_eq(info.capacity, 8);		/* a power of two */
	ck_assert_uint_eq(info.max_msg_size, 100);
	ck_assert_uint_eq(info.mode, 0640);
	ck_assert_uint_eq(info.uid, getuid());
	ck_assert_uint_eq(info.ready, 0);
	got = kmq_list(all, 64, 0, &total);
	ck_assert_int_ge(got, 1);
	ck_assert_uint_ge(total, (unsigned int)got);
	for (i = 0; i < got; i++)
		found += !strcmp(all[i].name, n);
	ck_assert_int_eq(found, 1);
	err_is(kmq_create("bad/name", NULL), -EINVAL);
	err_is(kmq_create("", NULL), -EINVAL);
	ok(kmq_delete(n));
	err_is(kmq_info(n, &info), -ENOENT);
	err_is(kmq_open(n, KMQ_SEND, &q), -ENOENT);
	err_is(kmq_delete(n), -ENOENT);
}
END_TEST

/* ---- send and receive ---------------------------------------------------- */

static void send_recv_on(unsigned int extra)
{
	const char *n = qn(extra ? "copy" : "sendrecv");
	struct kmq_info info;
	struct kmq_msg m;
	struct kmq *q;
	char buf[64];
	uint64_t id;
	int i, len;

	mk(n, 4, 64, 0600);
	ok(kmq_open(n, KMQ_SEND | KMQ_RECV | extra, &q));
	ck_assert_int_eq(kmq_mapped(q), extra ? 0 : 1);
	ok(kmq_qinfo(q, &info));
	ck_assert_uint_ge(info.client_id, 1);
	ck_assert_int_ge(kmq_fd(q), 0);
	err_is(kmq_recv(q, buf, sizeof(buf), &m, 0), -EAGAIN);
	err_is(kmq_recv(q, buf, sizeof(buf), &m, SEC / 100), -ETIMEDOUT);
	ok(kmq_send_id(q, "hello", 5, &id, 0));
	len = kmq_recv(q, buf, sizeof(buf), &m, 0);
	ck_assert_int_eq(len, 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_uint_eq(m.id, id);
	ck_assert_uint_eq(m.sender_pid, getpid());
	ck_assert_uint_eq(m.sender_uid, getuid());
	/* Full at capacity; order kept. */
	for (i = 0; i < 4; i++)
		ok(kmq_send(q, &i, sizeof(i), 0));
	err_is(kmq_send(q, "x", 1, 0), -EAGAIN);
	err_is(kmq_send(q, "x", 1, SEC / 100), -ETIMEDOUT);
	err_is(kmq_send(q, buf, 65, 0), -EMSGSIZE);
	for (i = 0; i < 4; i++) {
		int v;

		ck_assert_int_eq(kmq_recv(q, &v, sizeof(v), NULL, 0), sizeof(v));
		ck_assert_int_eq(v, i);
	}
	/* Too small a buffer: -EMSGSIZE with the length, message kept. */
	ok(kmq_send(q, "0123456789", 10, 0));
	err_is(kmq_recv(q, buf, 4, &m, 0), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 10);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 10);
	ok(kmq_send(q, "", 0, 0));			/* empty messages too */
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 0);
	ok(kmq_info(n, &info));
	ck_assert_uint_eq(info.ready, 0);
	kmq_close(q);
	ok(kmq_delete(n));
}

START_TEST(send_recv_mapped)
{
	send_recv_on(0);
}
END_TEST

START_TEST(send_recv_copying)
{
	send_recv_on(KMQ_COPY);
}
END_TEST

static void batches_on(unsigned int extra)
{
	const char *n = qn(extra ? "bcopy" : "batch");
	struct kmq_iov iov[40];
	struct kmq_rbuf rb[40];
	char bufs[40][16], data[40][16];
	struct kmq *q;
	int i, got, total = 0;

	mk(n, 32, 16, 0600);
	ok(kmq_open(n, KMQ_SEND | KMQ_RECV | extra, &q));
	for (i = 0; i < 40; i++) {
		snprintf(data[i], sizeof(data[i]), "m%d", i);
		iov[i].data = data[i];
		iov[i].len = strlen(data[i]);
		rb[i].buf = bufs[i];
		rb[i].cap = sizeof(bufs[i]);
	}
	/* 40 into 32 slots: the batch stops when full. */
	ck_assert_int_eq(kmq_send_batch(q, iov, 40, 0), 32);
	err_is(kmq_send_batch(q, iov + 32, 8, 0), -EAGAIN);
	while (total < 32) {
		got = kmq_recv_batch(q, rb, 40, 0);
		ck_assert_int_gt(got, 0);
		for (i = 0; i < got; i++) {
			ck_assert_uint_eq(rb[i].msg.len, strlen(data[total + i]));
			ck_assert_mem_eq(rb[i].buf, data[total + i], rb[i].msg.len);
		}
		total += got;
	}
	err_is(kmq_recv_batch(q, rb, 4, 0), -EAGAIN);
	kmq_close(q);
	ok(kmq_delete(n));
}

START_TEST(batches_mapped)
{
	batches_on(0);
}
END_TEST

START_TEST(batches_copying)
{
	batches_on(KMQ_COPY);
}
END_TEST

static void borrow_reserve_on(unsigned int extra)
{
	const char *n = qn(extra ? "rcopy" : "reserve");
	struct kmq_wbuf w[2];
	struct kmq_msg m;
	struct kmq *q;
	uint64_t id;
	char buf[32];

	mk(n, 2, 32, 0600);
	ok(kmq_open(n, KMQ_SEND | KMQ_RECV | extra, &q));
	ok(kmq_reserve(q, &w[0], 0));
	ck_assert_uint_eq(w[0].cap, 32);
	memcpy(w[0].data, "in place", 8);
	ok(kmq_commit(q, &w[0], 8, &id));
	err_is(kmq_commit(q, &w[0], 8, NULL), -EINVAL);	/* committed */
	ok(kmq_borrow(q, &m, 0));
	ck_assert_uint_eq(m.len, 8);
	ck_assert_mem_eq(m.data, "in place", 8);
	ck_assert_uint_eq(m.id, id);
	ok(kmq_release(q, &m));
	err_is(kmq_release(q, &m), -EINVAL);
	if (!extra) {
		/* Reservations hold slots: two fill a two-slot queue. */
		ok(kmq_reserve(q, &w[0], 0));
		ok(kmq_reserve(q, &w[1], 0));
		err_is(kmq_send(q, "x", 1, 0), -EAGAIN);
		ok(kmq_abort(q, &w[0]));
		err_is(kmq_abort(q, &w[0]), -EINVAL);
		ok(kmq_send(q, "y", 1, 0));
		err_is(kmq_commit(q, &w[1], 33, NULL), -EMSGSIZE);
		memcpy(w[1].data, "z", 1);
		ok(kmq_commit(q, &w[1], 1, NULL));
		ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 1);
		ck_assert_int_eq(buf[0], 'y');
		ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 1);
		ck_assert_int_eq(buf[0], 'z');
	} else {
		ok(kmq_reserve(q, &w[0], 0));
		ok(kmq_abort(q, &w[0]));
		err_is(kmq_recv(q, buf, sizeof(buf), NULL, 0), -EAGAIN);
	}
	kmq_close(q);
	ok(kmq_delete(n));
}

START_TEST(borrow_reserve_mapped)
{
	borrow_reserve_on(0);
}
END_TEST

START_TEST(borrow_reserve_copying)
{
	borrow_reserve_on(KMQ_COPY);
}
END_TEST

/* Messages of KMQ_MSG_MAX bytes: one per frame on the copying path, more
 * than a socket buffer holds. */
static void big_on(unsigned int extra)
{
	const char *n = qn(extra ? "bigcopy" : "big");
	unsigned char *out = malloc(KMQ_MSG_MAX), *in = malloc(KMQ_MSG_MAX);
	struct kmq_iov iov[2];
	struct kmq_msg m;
	struct kmq *q;
	uint32_t i;

	ck_assert(out && in);
	for (i = 0; i < KMQ_MSG_MAX; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 12));
	mk(n, 2, KMQ_MSG_MAX, 0600);
	ok(kmq_open(n, KMQ_SEND | KMQ_RECV | extra, &q));
	ok(kmq_send(q, out, KMQ_MSG_MAX, 0));
	memset(in, 0, KMQ_MSG_MAX);
	ck_assert_int_eq(kmq_recv(q, in, KMQ_MSG_MAX, &m, 0), KMQ_MSG_MAX);
	ck_assert(!memcmp(in, out, KMQ_MSG_MAX));
	/* A batch of two: the copying path sends them in two frames. */
	iov[0] = (struct kmq_iov){ out, KMQ_MSG_MAX };
	iov[1] = (struct kmq_iov){ out + 1, KMQ_MSG_MAX - 1 };
	ck_assert_int_ge(kmq_send_batch(q, iov, 2, 0), 1);
	ck_assert_int_eq(kmq_recv(q, in, KMQ_MSG_MAX, NULL, 0), KMQ_MSG_MAX);
	ck_assert(!memcmp(in, out, KMQ_MSG_MAX));
	kmq_close(q);
	ok(kmq_delete(n));
	free(out);
	free(in);
}

START_TEST(big_mapped)
{
	big_on(0);
}
END_TEST

START_TEST(big_copying)
{
	big_on(KMQ_COPY);
}
END_TEST

/* ---- waking ---------------------------------------------------------------- */

/* A child sends @count messages after the parent went to sleep: every one
 * must wake a receiver that waits with no limit. */
static void wake_on(unsigned int extra)
{
	const char *n = qn(extra ? "wcopy" : "wake");
	char name[KMQ_NAME_LEN], buf[8];
	int i, status, sync[2];
	struct kmq *q;
	pid_t pid;

	strcpy(name, n);
	mk(name, 4, 8, 0600);
	ok(kmq_open(name, KMQ_RECV | extra, &q));
	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct kmq *p;

		if (kmq_open(name, KMQ_SEND | extra, &p))
			_exit(1);
		for (i = 0; i < 50; i++) {
			/* Wait until the parent is about to receive. */
			if (read(sync[0], buf, 1) != 1)
				_exit(2);
			usleep(1000);
			if (kmq_send(p, &i, sizeof(i), 5 * SEC))
				_exit(3);
		}
		kmq_close(p);
		_exit(0);
	}
	for (i = 0; i < 50; i++) {
		int v = -1;

		ck_assert_int_eq(write(sync[1], "g", 1), 1);
		ck_assert_int_eq(kmq_recv(q, &v, sizeof(v), NULL, KMQ_FOREVER),
				 sizeof(v));
		ck_assert_int_eq(v, i);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	kmq_close(q);
	ok(kmq_delete(name));
}

START_TEST(wake_mapped)
{
	wake_on(0);
}
END_TEST

START_TEST(wake_copying)
{
	wake_on(KMQ_COPY);
}
END_TEST

/* kmq_fd with poll: prepared, it becomes readable when a message comes. */
START_TEST(poll_fd)
{
	const char *n = qn("poll");
	char name[KMQ_NAME_LEN];
	struct pollfd p;
	struct kmq *q;
	int status;
	pid_t pid;

	strcpy(name, n);
	mk(name, 4, 8, 0600);
	ok(kmq_open(name, KMQ_RECV, &q));
	ck_assert_int_eq(kmq_prepare_wait(q, KMQ_READABLE), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct kmq *s;

		usleep(20000);
		_exit(kmq_open(name, KMQ_SEND, &s) || kmq_send(s, "x", 1, 0));
	}
	p.fd = kmq_fd(q);
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 10000), 1);
	ck_assert_int_eq(kmq_wait(q, KMQ_READABLE, 0), KMQ_READABLE);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(kmq_recv(q, &status, sizeof(status), NULL, 0), 1);
	kmq_close(q);
	ok(kmq_delete(name));
}
END_TEST

/* ---- permissions ------------------------------------------------------------- */

/* In a child running as uid/gid 65534: what it may do with queue @name. */
static int as_nobody(const char *name, int (*fn)(const char *))
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(99);
		_exit(fn(name));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Exit codes: which step failed. */
static int nobody_0600(const char *name)
{
	struct kmq *q;

	if (kmq_open(name, KMQ_SEND, &q) != -EACCES)
		return 1;
	if (kmq_open(name, KMQ_RECV, &q) != -EACCES)
		return 2;
	if (kmq_delete(name) != -EPERM)
		return 3;
	return 0;
}

static int nobody_0622(const char *name)
{
	struct kmq *q;

	if (kmq_open(name, KMQ_RECV, &q) != -EACCES)
		return 1;
	/* Write only: no mapping, the copying path. */
	if (kmq_open(name, KMQ_SEND, &q) || kmq_mapped(q) != 0)
		return 2;
	if (kmq_send(q, "from nobody", 11, 0))
		return 3;
	kmq_close(q);
	return 0;
}

static int nobody_0666(const char *name)
{
	struct kmq *q;
	char buf[32];

	if (kmq_open(name, KMQ_SEND | KMQ_RECV, &q) || kmq_mapped(q) != 1)
		return 1;
	if (kmq_recv(q, buf, sizeof(buf), NULL, 0) != 11)
		return 2;
	kmq_close(q);
	return 0;
}

START_TEST(permissions)
{
	char name[KMQ_NAME_LEN];
	struct kmq_info info;
	struct kmq_msg m;
	struct kmq *q;
	char buf[32];

	if (getuid() != 0)
		return;	/* needs root to become another user */
	strcpy(name, qn("perm"));
	mk(name, 4, 32, 0600);
	ck_assert_int_eq(as_nobody(name, nobody_0600), 0);
	ok(kmq_delete(name));

	mk(name, 4, 32, 0622);
	ck_assert_int_eq(as_nobody(name, nobody_0622), 0);
	ok(kmq_open(name, KMQ_RECV, &q));
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &m, 0), 11);
	ck_assert_uint_eq(m.sender_uid, 65534);	/* the true sender */
	ok(kmq_send(q, "x", 0, 0) == -EPERM ? 0 : -1);	/* opened RECV only */
	kmq_close(q);
	ok(kmq_delete(name));

	mk(name, 4, 32, 0666);
	ok(kmq_open(name, KMQ_SEND, &q));
	ok(kmq_send(q, "from root..", 11, 0));
	kmq_close(q);
	ck_assert_int_eq(as_nobody(name, nobody_0666), 0);
	ok(kmq_info(name, &info));
	ck_assert_uint_eq(info.ready, 0);
	ok(kmq_delete(name));
}
END_TEST

/* ---- crash repair ------------------------------------------------------------ */

enum hold { HOLD_BORROW, HOLD_RESERVE, HOLD_COPY_BORROW };

/* A child opens @name, holds what @how says, tells us, and is killed. */
static void kill_holder(const char *name, enum hold how)
{
	int sync[2], status;
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(sync), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct kmq_wbuf w;
		struct kmq_msg m;
		struct kmq *q;

		if (kmq_open(name, KMQ_SEND | KMQ_RECV |
			     (how == HOLD_COPY_BORROW ? KMQ_COPY : 0), &q))
			_exit(1);
		if (how == HOLD_RESERVE) {
			if (kmq_reserve(q, &w, 0) || kmq_reserve(q, &w, 0))
				_exit(2);
		} else if (kmq_borrow(q, &m, 0)) {
			_exit(3);
		}
		if (write(sync[1], "h", 1) != 1)
			_exit(4);
		pause();
		_exit(5);
	}
	close(sync[1]);
	ck_assert_int_eq(read(sync[0], &c, 1), 1);
	close(sync[0]);
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));
}

START_TEST(crash_borrower)
{
	char name[KMQ_NAME_LEN], buf[16];
	struct kmq_msg m;
	struct kmq *q;
	uint64_t id;

	strcpy(name, qn("crashb"));
	mk(name, 4, 16, 0600);
	ok(kmq_open(name, KMQ_SEND | KMQ_RECV, &q));
	ok(kmq_send_id(q, "precious", 8, &id, 0));
	kill_holder(name, HOLD_BORROW);
	/* The message comes back, whoever repairs (kernel or kmqd). */
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &m, 10 * SEC), 8);
	ck_assert_mem_eq(buf, "precious", 8);
	ck_assert_uint_eq(m.id, id);
	kmq_close(q);
	ok(kmq_delete(name));
}
END_TEST

START_TEST(crash_reserver)
{
	char name[KMQ_NAME_LEN];
	struct kmq_info info;
	struct kmq *q;

	strcpy(name, qn("crashr"));
	mk(name, 2, 16, 0600);
	kill_holder(name, HOLD_RESERVE);
	ok(kmq_open(name, KMQ_SEND | KMQ_RECV, &q));
	/* Both slots come back: two sends fit again, nothing was sent. */
	ok(kmq_send(q, "a", 1, 10 * SEC));
	ok(kmq_send(q, "b", 1, 10 * SEC));
	ok(kmq_info(name, &info));
	ck_assert_uint_eq(info.ready, 2);
	ck_assert_uint_ge(info.repaired, 2);
	kmq_close(q);
	ok(kmq_delete(name));
}
END_TEST

/* A copying borrow is a private copy, taken from the queue at once: the
 * borrower's death loses it (as documented for kmq_close). */
START_TEST(crash_copy_borrower)
{
	char name[KMQ_NAME_LEN];
	struct kmq_info info;
	struct kmq *q;

	strcpy(name, qn("crashc"));
	mk(name, 4, 16, 0600);
	ok(kmq_open(name, KMQ_SEND, &q));
	ok(kmq_send(q, "gone", 4, 0));
	kill_holder(name, HOLD_COPY_BORROW);
	ok(kmq_info(name, &info));
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_eq(info.received, 1);
	ok(kmq_send(q, "next", 4, 0));	/* and the queue works on */
	kmq_close(q);
	ok(kmq_delete(name));
}
END_TEST

/* ---- several processes ------------------------------------------------------- */

#define PROCS	2
#define PER	5000

/* PROCS producers and PROCS consumers in their own processes, half of
 * them on the copying path: every message arrives exactly once. The
 * consumers count what they get in shared memory. */
START_TEST(mpmc_processes)
{
	char name[KMQ_NAME_LEN];
	unsigned int (*seen)[PER];
	pid_t pids[2 * PROCS];
	int i, k, status;

	seen = mmap(NULL, sizeof(unsigned int) * PROCS * PER,
		    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(seen, MAP_FAILED);
	strcpy(name, qn("mpmc"));
	mk(name, 64, 16, 0600);
	for (i = 0; i < 2 * PROCS; i++) {
		bool producer = i < PROCS;

		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i])
			continue;
		struct kmq *q;
		int v[2];

		if (kmq_open(name, (producer ? KMQ_SEND : KMQ_RECV) |
			     (i % 2 ? KMQ_COPY : 0), &q))
			_exit(1);
		if (producer) {
			for (k = 0; k < PER; k++) {
				v[0] = i;
				v[1] = k;
				if (kmq_send(q, v, sizeof(v), 30 * SEC))
					_exit(2);
			}
			_exit(0);
		}
		/* Until no message for 2 s after the producers end. */
		while (kmq_recv(q, v, sizeof(v), NULL, 2 * SEC) == sizeof(v)) {
			if (v[0] < 0 || v[0] >= PROCS || v[1] < 0 || v[1] >= PER)
				_exit(3);
			__atomic_fetch_add(&seen[v[0]][v[1]], 1, __ATOMIC_RELAXED);
		}
		_exit(0);
	}
	for (i = 0; i < 2 * PROCS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status),
			      "child %d: status %#x", i, status);
	}
	for (i = 0; i < PROCS; i++)
		for (k = 0; k < PER; k++)
			ck_assert_msg(seen[i][k] == 1, "message %d/%d seen %u times",
				      i, k, seen[i][k]);
	munmap(seen, sizeof(unsigned int) * PROCS * PER);
	ok(kmq_delete(name));
}
END_TEST

#define T(name)	{ #name, name }

/* queue_test [NAME...]: the tests named, else all. */
int main(int argc, char **argv)
{
	const struct {
		const char *name;
		const TTest *test;
	} tests[] = {
	T(create_info_list_delete), T(send_recv_mapped), T(send_recv_copying),
	T(batches_mapped), T(batches_copying), T(borrow_reserve_mapped),
	T(borrow_reserve_copying), T(big_mapped), T(big_copying), T(wake_mapped), T(wake_copying), T(poll_fd),
	T(permissions), T(crash_borrower), T(crash_reserver),
	T(crash_copy_borrower), T(mpmc_processes),
	};
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("queue");
	SRunner *sr;
	size_t i;
	int a, failed;

	tcase_set_timeout(tc, 60);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool want = argc < 2;

		for (a = 1; a < argc; a++)
			want |= !strcmp(argv[a], tests[i].name);
		if (want)
			_tcase_add_test(tc, tests[i].test, 0, 0, 0, 1);
	}
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
