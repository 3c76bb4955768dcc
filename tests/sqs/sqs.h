/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Helpers of the libkmq-level SQS tests (tests/sqs): they use include/kmq.h
 * only, never an ioctl, so that the same programs can run against the shm
 * backend once kmqd serves these semantics. Queues are named
 * "<prog>.<pid>.<what>" (so that "x.fifo" names a FIFO queue) and deleted
 * by the test that made them.
 */
#ifndef KMQ_SQS_TEST_H
#define KMQ_SQS_TEST_H

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <kmq.h>

#define NSEC		1000000000LL
#define MSEC		1000000LL

static const char *st_prog = "sqs";

/* st_name - a queue name for this program, @what and this process. */
static inline const char *st_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "%s.%d.%s", st_prog, (int)getpid(), what);
	return buf;
}

/* st_require - 77 (skip) without a backend that serves SQS semantics;
 * inside the VM (KMQ_VM=1) a missing kmq.ko is a failure. */
static inline void st_require(void)
{
	struct kmq_qattr a = { .capacity = 1, .max_msg_size = 64 };
	struct kmq_policy p;
	const char *vm = getenv("KMQ_VM");
	int err;

	err = kmq_create("sqs-probe", &a);
	if (!err || err == -EEXIST) {
		err = kmq_get_policy("sqs-probe", &p);
		kmq_delete("sqs-probe");
	}
	if (!err)
		return;
	if (vm && !strcmp(vm, "1")) {
		fprintf(stderr, "%s: FAIL: SQS semantics not served: %s\n",
			st_prog, kmq_strerror(err));
		exit(1);
	}
	fprintf(stderr, "%s: SKIP: %s\n", st_prog, kmq_strerror(err));
	exit(77);
}

static inline int64_t st_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static inline void st_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* st_queue - create @name (capacity @cap, @size bytes; FIFO for a
 * ".fifo" name) and open it for both directions; @copy forces the
 * copying path. */
static inline struct kmq *st_queue(const char *name, unsigned int cap,
				   unsigned int size, int copy)
{
	struct kmq_qattr a = { .capacity = cap, .max_msg_size = size,
			       .mode = 0600, .flags = KMQ_CREATE_EXCL };
	size_t n = strlen(name);
	struct kmq *q;

	if (n > 5 && !strcmp(name + n - 5, ".fifo"))
		a.flags |= KMQ_CREATE_FIFO;
	kmq_delete(name);
	ck_assert_int_eq(kmq_create(name, &a), 0);
	ck_assert_int_eq(kmq_open(name, KMQ_SEND | KMQ_RECV |
				  (copy ? KMQ_COPY : 0), &q), 0);
	return q;
}

/* st_policy - read @name's policy, let @edit change it, write it back;
 * returns what kmq_set_policy() returned. */
#define st_policy(name, edit) ({					\
	struct kmq_policy __p;						\
	ck_assert_int_eq(kmq_get_policy((name), &__p), 0);		\
	{ struct kmq_policy *p = &__p; edit; }				\
	kmq_set_policy(&__p);						\
})

/* st_send - one message: body @s, @delay_s (-1 default), optional group
 * and dedup ids. Returns its status; id and seq in *@o if not NULL. */
static inline int st_send_full(struct kmq *q, const char *s, int delay_s,
			       const char *group, const char *dedup,
			       struct kmq_out *o)
{
	struct kmq_out m = { .body = s, .len = strlen(s), .delay_s = delay_s,
			     .group = group, .dedup = dedup };
	int n = kmq_send_msgs(q, &m, 1);

	if (o)
		*o = m;
	if (n < 0)
		return n;
	return n == 1 ? 0 : m.status;
}

static inline int st_send(struct kmq *q, const char *s)
{
	return st_send_full(q, s, -1, NULL, NULL, NULL);
}

/* A received message with its own buffers. */
struct st_msg {
	struct kmq_in in;
	char body[4096];
	unsigned char attrs[4096];
};

static inline void st_msgs_init(struct st_msg *m, unsigned int n)
{
	unsigned int i;

	memset(m, 0, n * sizeof(*m));
	for (i = 0; i < n; i++) {
		m[i].in.buf = m[i].body;
		m[i].in.cap = sizeof(m[i].body) - 1;
		m[i].in.abuf = m[i].attrs;
		m[i].in.acap = sizeof(m[i].attrs);
	}
}

/* st_recv - up to @n messages with a lease of @vis s (-1: default),
 * waiting @timeout_ns; bodies NUL-terminated. Returns kmq_receive()'s. */
static inline int st_recv(struct kmq *q, struct st_msg *m, unsigned int n,
			  int vis, int64_t timeout_ns)
{
	struct kmq_in in[KMQ_SQS_BATCH_MAX + 1];
	unsigned int i;
	int got;

	st_msgs_init(m, n);
	for (i = 0; i < n && i <= KMQ_SQS_BATCH_MAX; i++)
		in[i] = m[i].in;
	got = kmq_receive(q, in, n, vis, timeout_ns);
	for (i = 0; got > 0 && i < (unsigned int)got; i++) {
		m[i].in = in[i];
		m[i].body[in[i].len < sizeof(m[i].body) ? in[i].len : 0] = '\0';
	}
	return got;
}

/* st_recv1 - exactly one message expected within @timeout_ns. */
static inline void st_recv1(struct kmq *q, struct st_msg *m, int vis,
			    int64_t timeout_ns, const char *body)
{
	int got = st_recv(q, m, 1, vis, timeout_ns);

	ck_assert_msg(got == 1, "receive: %d (%s), wanted '%s'", got,
		      got < 0 ? kmq_strerror(got) : "", body);
	ck_assert_int_eq(m->in.status, 0);
	if (body)
		ck_assert_str_eq(m->body, body);
}

/* st_empty - nothing visible now. */
static inline void st_empty(struct kmq *q)
{
	struct st_msg m;
	int got = st_recv(q, &m, 1, -1, 0);

	ck_assert_msg(got == -EAGAIN, "expected nothing visible, got %d ('%s')",
		      got, got > 0 ? m.body : kmq_strerror(got));
}

static inline int st_delete(struct kmq *q, uint64_t receipt)
{
	int st = 1, n = kmq_delete_msgs(q, &receipt, &st, 1);

	return n < 0 ? n : st;
}

static inline int st_chvis(struct kmq *q, uint64_t receipt, unsigned int vis)
{
	int st = 1, n = kmq_change_visibility(q, &receipt, vis, &st, 1);

	return n < 0 ? n : st;
}

/* st_param - write a test knob of the active backend: kmq.ko's module
 * parameter, or on the shm backend the file of the same name in kmqd's
 * params directory ($KMQ_PARAMS, i.e. <state_dir>/params; see
 * daemon/README.md). Returns 0, or -1 when it is not there. The old value
 * in @old. */
static inline int st_param(const char *name, const char *val, char *old,
			   size_t oldlen)
{
	const char *b = getenv("KMQ_BACKEND"), *dir = getenv("KMQ_PARAMS");
	char path[512];
	FILE *f;

	if (b && !strcmp(b, "shm")) {
		if (!dir)
			return -1;
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	} else {
		snprintf(path, sizeof(path), "/sys/module/kmq/parameters/%s",
			 name);
	}
	if (old) {
		f = fopen(path, "r");
		if (!f)
			return -1;
		if (!fgets(old, (int)oldlen, f))
			old[0] = '\0';
		old[strcspn(old, "\n")] = '\0';
		fclose(f);
	}
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(val, f);
	return fclose(f) ? -1 : 0;
}

#endif /* KMQ_SQS_TEST_H */
