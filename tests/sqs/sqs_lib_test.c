// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * SQS semantics through libkmq (include/kmq.h only): every rule of the uapi
 * header's "SQS semantics" as a user of the library sees it, on the fast
 * path and the copying path: leases and visibility, stale receipts, redrive
 * to a dead-letter queue and back, delay with leases, retention, purge,
 * long polling, batches, attributes, FIFO order, group blocking and
 * deduplication, and refusal of out-of-range values. Short timeouts: a
 * lease of 1 s is the unit of waiting.
 */
#include <sys/wait.h>
#include "sqs.h"

/* visibility 0: visible again at once, counted; the first receipt is then
 * stale and deletes nothing; the current one deletes. */
START_TEST(visibility_zero)
{
	struct st_msg a, b;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "vis0"), 8, 256, _i);

	ck_assert_int_eq(st_send(q, "zero"), 0);
	st_recv1(q, &a, 0, 0, "zero");
	ck_assert_uint_eq(a.in.receive_count, 1);
	ck_assert_uint_ne(a.in.first_receive_ns, 0);
	st_recv1(q, &b, 30, 2 * NSEC, "zero");
	ck_assert_uint_eq(b.in.receive_count, 2);
	ck_assert_uint_eq(b.in.id, a.in.id);
	ck_assert_uint_eq(b.in.first_receive_ns, a.in.first_receive_ns);
	ck_assert_uint_ne(b.in.receipt, a.in.receipt);
	ck_assert_int_eq(st_delete(q, a.in.receipt), -ENOENT);
	ck_assert_int_eq(st_delete(q, b.in.receipt), 0);
	ck_assert_int_eq(st_delete(q, b.in.receipt), -ENOENT);
	st_empty(q);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* A lease that expires: hidden until then, back with one more receive;
 * the expired receipt never touches the new lease. */
START_TEST(lease_expiry)
{
	struct kmq_info info;
	struct st_msg a, b;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "expiry"), 8, 256, _i);

	ck_assert_int_eq(st_send(q, "lease"), 0);
	st_recv1(q, &a, 1, 0, "lease");
	st_empty(q);
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_eq(info.leased, 1);
	ck_assert_uint_eq(info.ready, 0);
	st_recv1(q, &b, 30, 5 * NSEC, "lease");
	ck_assert_uint_eq(b.in.receive_count, 2);
	ck_assert_uint_eq(b.in.sent_ns, a.in.sent_ns);
	ck_assert_int_eq(st_delete(q, a.in.receipt), -ENOENT);
	ck_assert_int_eq(st_chvis(q, a.in.receipt, 0), -ENOENT);
	st_empty(q);			/* the new lease still holds */
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_ge(info.lease_expired, 1);
	ck_assert_int_eq(st_delete(q, b.in.receipt), 0);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* change-visibility: to 0 makes it visible now; extending keeps it hidden
 * past the first deadline; receipts of no slot are -EINVAL. */
START_TEST(change_visibility)
{
	struct st_msg a, b;
	uint64_t r[2];
	int st[2];
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "chvis"), 8, 256, _i);

	ck_assert_int_eq(st_send(q, "cv"), 0);
	st_recv1(q, &a, 30, 0, "cv");
	st_empty(q);
	ck_assert_int_eq(st_chvis(q, a.in.receipt, 0), 0);
	st_recv1(q, &b, 1, 2 * NSEC, "cv");
	ck_assert_uint_eq(b.in.receive_count, 2);
	ck_assert_int_eq(st_chvis(q, a.in.receipt, 5), -ENOENT);	/* stale */
	ck_assert_int_eq(st_chvis(q, b.in.receipt, 3), 0);		/* extend */
	st_sleep_ms(1500);
	st_empty(q);			/* past the 1 s lease, inside the 3 s */
	ck_assert_int_eq(kmq_change_visibility(q, &b.in.receipt,
					       KMQ_VISIBILITY_MAX + 1, st, 1),
			 -EINVAL);
	r[0] = b.in.receipt;
	r[1] = (1ULL << 20) | 0xfffff;	/* slot beyond the capacity */
	ck_assert_int_eq(kmq_change_visibility(q, r, 60, st, 2), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EINVAL);
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, 2), 1);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], -EINVAL);
	st_empty(q);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

static void redrive_to(const char *src, const char *dlq, unsigned int max,
		       unsigned int vis)
{
	ck_assert_int_eq(st_policy(src, {
		p->max_receive = max;
		p->visibility_s = vis;
		memset(p->dlq, 0, sizeof(p->dlq));
		memcpy(p->dlq, dlq, strlen(dlq));
	}), 0);
}

/* maxReceiveCount 1: the first lease that expires moves the message to the
 * dead-letter queue with its attributes, id, sender and sent time. */
START_TEST(dead_letter_max1)
{
	struct kmq_attr at[2] = {
		{ .name = "k", .type = "String", .value = "v", .len = 1 },
		{ .name = "n", .type = "Number.int", .value = "42", .len = 2 },
	}, dec[KMQ_ATTR_MAX];
	struct kmq_out o = { .body = "poison", .len = 6, .attrs = at,
			     .nattrs = 2, .delay_s = -1 };
	struct kmq_info info;
	struct st_msg a, d;
	char name[96], dname[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "src1"), 8, 256, _i);
	struct kmq *dq = st_queue(st_name(dname, sizeof(dname), "dlq1"), 8, 256, _i);

	redrive_to(name, dname, 1, 1);
	ck_assert_int_eq(kmq_send_msgs(q, &o, 1), 1);
	st_recv1(q, &a, -1, 0, "poison");
	ck_assert_uint_eq(a.in.receive_count, 1);
	st_recv1(dq, &d, 30, 5 * NSEC, "poison");
	ck_assert_uint_eq(d.in.id, a.in.id);
	ck_assert_uint_eq(d.in.sent_ns, a.in.sent_ns);
	ck_assert_uint_eq(d.in.sender_pid, a.in.sender_pid);
	ck_assert_uint_eq(d.in.sender_uid, a.in.sender_uid);
	ck_assert_uint_eq(d.in.receive_count, 1);	/* its first here */
	ck_assert_int_eq(kmq_attrs_decode(d.attrs, d.in.attr_len, dec,
					  KMQ_ATTR_MAX), 2);
	ck_assert(!memcmp(dec[1].value, "42", 2));
	ck_assert_int_eq(st_delete(q, a.in.receipt), -ENOENT);
	st_empty(q);
	/* kmq.ko's expiry makes the DLQ's copy visible (and wakes us) a
	 * moment before it counts the move and frees the source slot. */
	for (int n = 0; n < 200; n++) {
		ck_assert_int_eq(kmq_info(name, &info), 0);
		if (info.dead_lettered == 1 && !info.leased && !info.ready)
			break;
		usleep(10000);
	}
	ck_assert_uint_eq(info.dead_lettered, 1);
	ck_assert_uint_eq(info.leased + info.ready, 0);

	/* redrive back: the same message, visible in the source again */
	ck_assert_int_eq(st_chvis(dq, d.in.receipt, 0), 0);
	ck_assert_int_eq(kmq_move(dname, name, 10), 1);
	st_recv1(q, &a, 30, 2 * NSEC, "poison");
	ck_assert_uint_eq(a.in.id, d.in.id);
	ck_assert_uint_eq(a.in.sent_ns, d.in.sent_ns);
	ck_assert_int_eq(a.in.attr_len, d.in.attr_len);
	ck_assert_int_eq(st_delete(q, a.in.receipt), 0);
	ck_assert_int_eq(kmq_move(dname, name, 10), 0);
	kmq_close(q);
	kmq_close(dq);
	kmq_delete(name);
	kmq_delete(dname);
}
END_TEST

/* maxReceiveCount 3 with visibility 0: received three times, then dead. */
START_TEST(dead_letter_max3)
{
	struct st_msg a, d;
	char name[96], dname[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "src3"), 8, 256, _i);
	struct kmq *dq = st_queue(st_name(dname, sizeof(dname), "dlq3"), 8, 256, _i);
	unsigned int i;

	redrive_to(name, dname, 3, 0);
	ck_assert_int_eq(st_send(q, "thrice"), 0);
	for (i = 1; i <= 3; i++) {
		st_recv1(q, &a, -1, 2 * NSEC, "thrice");
		ck_assert_uint_eq(a.in.receive_count, i);
	}
	st_recv1(dq, &d, 30, 2 * NSEC, "thrice");
	ck_assert_uint_eq(d.in.id, a.in.id);
	st_empty(q);
	ck_assert_int_eq(st_delete(dq, d.in.receipt), 0);
	kmq_close(q);
	kmq_close(dq);
	kmq_delete(name);
	kmq_delete(dname);
}
END_TEST

/* A delayed message is not visible until due, then leased like any. */
START_TEST(delay_and_lease)
{
	struct kmq_info info;
	struct st_msg a, b;
	int64_t t0;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "delay"), 8, 256, _i);

	t0 = st_now();
	ck_assert_int_eq(st_send_full(q, "later", 1, NULL, NULL, NULL), 0);
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_eq(info.delayed, 1);
	st_empty(q);
	st_recv1(q, &a, 1, 5 * NSEC, "later");
	ck_assert_int_ge(st_now() - t0, 900 * MSEC);
	ck_assert_uint_eq(a.in.receive_count, 1);
	st_empty(q);
	st_recv1(q, &b, 30, 5 * NSEC, "later");	/* the lease expired */
	ck_assert_uint_eq(b.in.receive_count, 2);
	ck_assert_int_eq(st_delete(q, b.in.receipt), 0);

	/* the queue's default delay, also for a mapped sender */
	ck_assert_int_eq(st_policy(name, p->delay_s = 1), 0);
	ck_assert_int_eq(st_send(q, "default"), 0);
	ck_assert_int_eq(st_send_full(q, "now", 0, NULL, NULL, NULL), 0);
	st_recv1(q, &a, 30, 0, "now");
	st_empty(q);
	st_recv1(q, &b, 30, 5 * NSEC, "default");
	ck_assert_int_eq(st_delete(q, a.in.receipt), 0);
	ck_assert_int_eq(st_delete(q, b.in.receipt), 0);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* purge drops the visible, the delayed and the leased at once. */
START_TEST(purge)
{
	struct kmq_info info;
	struct st_msg a;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "purge"), 8, 256, _i);

	ck_assert_int_eq(st_send(q, "1"), 0);
	ck_assert_int_eq(st_send(q, "2"), 0);
	ck_assert_int_eq(st_send_full(q, "3", 60, NULL, NULL, NULL), 0);
	st_recv1(q, &a, 60, 0, "1");
	ck_assert_int_eq(kmq_purge(name), 0);
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_eq(info.ready + info.leased + info.delayed, 0);
	ck_assert_int_eq(st_delete(q, a.in.receipt), -ENOENT);
	st_empty(q);
	/* the queue works on */
	ck_assert_int_eq(st_send(q, "after"), 0);
	st_recv1(q, &a, 60, 0, "after");
	ck_assert_int_eq(st_delete(q, a.in.receipt), 0);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Retention: an old message is dropped and counted, not delivered (the
 * kernel's retention_unit_ms knob makes the 60 s minimum short). */
START_TEST(retention)
{
	struct kmq_info info;
	char name[96], old[32];
	struct kmq *q;

	if (st_param("retention_unit_ms", "10", old, sizeof(old)))
		return;		/* no knob: not testable in a short run */
	q = st_queue(st_name(name, sizeof(name), "retain"), 8, 256, _i);
	ck_assert_int_eq(st_policy(name, p->retention_s = KMQ_RETENTION_MIN), 0);
	ck_assert_int_eq(st_send(q, "old"), 0);
	st_sleep_ms(1500);		/* 60 units of 10 ms, and then some */
	st_empty(q);
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_eq(info.expired, 1);
	st_param("retention_unit_ms", old, NULL, 0);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Long polling: a receive returns as soon as a message comes, well before
 * its wait ends; KMQ_WAIT_QUEUE waits the queue's wait_s. */
START_TEST(long_poll)
{
	struct st_msg a;
	int64_t t0;
	pid_t pid;
	int status, got;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "poll"), 8, 256, _i);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct kmq *s;

		st_sleep_ms(300);
		if (kmq_open(name, KMQ_SEND, &s) || st_send(s, "ping"))
			_exit(1);
		kmq_close(s);
		_exit(0);
	}
	t0 = st_now();
	st_recv1(q, &a, 30, (int64_t)KMQ_WAIT_MAX * NSEC, "ping");
	ck_assert_int_lt(st_now() - t0, (int64_t)KMQ_WAIT_MAX * NSEC / 2);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && !WEXITSTATUS(status));
	ck_assert_int_eq(st_delete(q, a.in.receipt), 0);

	ck_assert_int_eq(st_policy(name, p->wait_s = 1), 0);
	t0 = st_now();
	got = st_recv(q, &a, 1, -1, KMQ_WAIT_QUEUE);
	ck_assert_msg(got == -ETIMEDOUT || got == -EAGAIN, "got %d", got);
	ck_assert_int_ge(st_now() - t0, 900 * MSEC);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Batches of 10 in each direction; 11 is refused. */
START_TEST(batches)
{
	struct kmq_out o[KMQ_SQS_BATCH_MAX + 1];
	struct st_msg m[KMQ_SQS_BATCH_MAX + 1];
	uint64_t r[KMQ_SQS_BATCH_MAX + 1];
	int st[KMQ_SQS_BATCH_MAX + 1];
	char bodies[KMQ_SQS_BATCH_MAX + 1][8], name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "batch"), 16, 256, _i);
	int i, n;

	memset(o, 0, sizeof(o));
	for (i = 0; i <= KMQ_SQS_BATCH_MAX; i++) {
		snprintf(bodies[i], sizeof(bodies[i]), "b%d", i);
		o[i].body = bodies[i];
		o[i].len = strlen(bodies[i]);
		o[i].delay_s = -1;
	}
	ck_assert_int_eq(kmq_send_msgs(q, o, KMQ_SQS_BATCH_MAX + 1), -EINVAL);
	ck_assert_int_eq(kmq_send_msgs(q, o, KMQ_SQS_BATCH_MAX), KMQ_SQS_BATCH_MAX);
	ck_assert_int_eq(st_recv(q, m, KMQ_SQS_BATCH_MAX + 1, 30, 0), -EINVAL);
	n = st_recv(q, m, KMQ_SQS_BATCH_MAX, 30, NSEC);
	ck_assert_int_eq(n, KMQ_SQS_BATCH_MAX);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(m[i].body, bodies[i]);
		ck_assert_uint_eq(m[i].in.id, o[i].id);
		r[i] = m[i].in.receipt;
	}
	r[KMQ_SQS_BATCH_MAX] = r[0];
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, KMQ_SQS_BATCH_MAX + 1), -EINVAL);
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, KMQ_SQS_BATCH_MAX), KMQ_SQS_BATCH_MAX);
	for (i = 0; i < KMQ_SQS_BATCH_MAX; i++)
		ck_assert_int_eq(st[i], 0);
	st_empty(q);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Attributes round trip, sent in place (mapped) or by the kernel (copy);
 * a plain receiver gets the body alone. */
START_TEST(attributes)
{
	static const unsigned char bin[] = { 0, 1, 2, 0xff };
	struct kmq_attr at[3] = {
		{ .name = "Color", .type = "String", .value = "blue", .len = 4 },
		{ .name = "price.v2", .type = "Number", .value = "-1.5e3", .len = 6 },
		{ .name = "raw", .type = "Binary.gif", .value = bin, .len = 4 },
	}, dec[KMQ_ATTR_MAX], bad = { .name = "AWS.x", .type = "String",
				      .value = "v", .len = 1 };
	struct kmq_out o[3];
	struct kmq_msg pm;
	struct st_msg m;
	char name[96], buf[64];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "attrs"), 8, 256, _i);
	int i;

	memset(o, 0, sizeof(o));
	o[0] = (struct kmq_out){ .body = "with", .len = 4, .attrs = at,
				 .nattrs = 3, .delay_s = -1 };
	o[1] = (struct kmq_out){ .body = "bad", .len = 3, .attrs = &bad,
				 .nattrs = 1, .delay_s = -1 };
	o[2] = (struct kmq_out){ .body = "plain", .len = 5, .attrs = at,
				 .nattrs = 1, .delay_s = -1 };
	ck_assert_int_eq(kmq_send_msgs(q, o, 3), 2);
	ck_assert_int_eq(o[1].status, -EINVAL);
	st_recv1(q, &m, 30, 0, "with");
	ck_assert_int_eq(kmq_attrs_decode(m.attrs, m.in.attr_len, dec,
					  KMQ_ATTR_MAX), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(dec[i].name_len, strlen(at[i].name));
		ck_assert(!memcmp(dec[i].name, at[i].name, dec[i].name_len));
		ck_assert_uint_eq(dec[i].type_len, strlen(at[i].type));
		ck_assert(!memcmp(dec[i].type, at[i].type, dec[i].type_len));
		ck_assert_uint_eq(dec[i].len, at[i].len);
		ck_assert(!memcmp(dec[i].value, at[i].value, at[i].len));
	}
	ck_assert_int_eq(st_delete(q, m.in.receipt), 0);
	/* a plain receive skips the attributes */
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), &pm, NSEC), 5);
	ck_assert(!memcmp(buf, "plain", 5));
	ck_assert_uint_eq(pm.id, o[2].id);
	/* too much for the queue: attributes + body over max_msg_size */
	o[0].len = 250;
	o[0].body = memset(calloc(1, 256), 'x', 250);
	ck_assert_int_eq(kmq_send_msgs(q, o, 1), 0);
	ck_assert_int_eq(o[0].status, -EMSGSIZE);
	free((void *)o[0].body);
	/* a receive buffer too small: -EMSGSIZE with the sizes, still leased */
	ck_assert_int_eq(st_send(q, "0123456789"), 0);
	{
		struct kmq_in in = { .buf = buf, .cap = 4 };

		ck_assert_int_eq(kmq_receive(q, &in, 1, 30, NSEC), 1);
		ck_assert_int_eq(in.status, -EMSGSIZE);
		ck_assert_uint_eq(in.len, 10);
		st_empty(q);
		ck_assert_int_eq(st_delete(q, in.receipt), 0);
	}
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* FIFO: per-group order; a group is blocked while one of its messages is
 * in flight; an expired message comes back first in its group; sequence
 * numbers increase. */
START_TEST(fifo_groups)
{
	static const char *const send[][2] = {
		{ "a1", "A" }, { "b1", "B" }, { "a2", "A" }, { "a3", "A" },
		{ "b2", "B" },
	};
	struct st_msg m[KMQ_SQS_BATCH_MAX + 2], x;
	struct kmq_out o;
	uint64_t seq = 0;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "groups.fifo"), 16,
				 256, 0);
	unsigned int i;

	ck_assert_int_eq(kmq_mapped(q), 0);	/* FIFO queues are not mapped */
	ck_assert_int_eq(st_policy(name, p->flags |= KMQ_POL_CONTENT_DEDUP), 0);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(st_send_full(q, send[i][0], -1, send[i][1],
					      NULL, &o), 0);
		ck_assert_uint_gt(o.seq, seq);
		seq = o.seq;
	}
	/* no group: refused; plain kmq_send: refused */
	ck_assert_int_eq(st_send_full(q, "nogroup", -1, NULL, "d", NULL), -EINVAL);
	ck_assert_int_eq(kmq_send(q, "plain", 5, 0), -EINVAL);

	st_recv1(q, &m[0], 30, 0, "a1");
	ck_assert_str_eq(m[0].in.group, "A");
	ck_assert_uint_gt(m[0].in.seq, 0);
	st_recv1(q, &m[1], 30, 0, "b1");	/* A is blocked */
	st_empty(q);				/* both blocked */
	ck_assert_int_eq(st_chvis(q, m[0].in.receipt, 0), 0);	/* expire a1 */
	st_recv1(q, &x, 30, NSEC, "a1");	/* first in its group again */
	ck_assert_uint_eq(x.in.receive_count, 2);
	ck_assert_int_eq(st_delete(q, x.in.receipt), 0);
	/* one receive returns messages of one group only, in order */
	ck_assert_int_eq(st_recv(q, m + 2, 10, 30, 0), 2);
	ck_assert_str_eq(m[2].body, "a2");
	ck_assert_str_eq(m[3].body, "a3");
	ck_assert_int_lt(m[2].in.seq, m[3].in.seq);
	st_empty(q);
	ck_assert_int_eq(st_delete(q, m[1].in.receipt), 0);
	st_recv1(q, &x, 30, 0, "b2");
	ck_assert_int_eq(st_delete(q, x.in.receipt), 0);
	ck_assert_int_eq(st_delete(q, m[2].in.receipt), 0);
	ck_assert_int_eq(st_delete(q, m[3].in.receipt), 0);
	st_empty(q);
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Deduplication by id inside the window (the first's id and sequence
 * number come back), and outside a shortened window; by content with
 * ContentBasedDeduplication, refused without either. */
START_TEST(fifo_dedup)
{
	struct kmq_out a, b;
	struct kmq_info info;
	struct st_msg m;
	char name[96], old[32];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "dedup.fifo"), 16,
				 256, 0);

	ck_assert_int_eq(st_send_full(q, "one", -1, "g", "d1", &a), 0);
	ck_assert_int_eq(st_send_full(q, "one again", -1, "g", "d1", &b), 0);
	ck_assert_int_eq(a.duplicate, 0);
	ck_assert_int_eq(b.duplicate, 1);
	ck_assert_uint_eq(b.id, a.id);
	ck_assert_uint_eq(b.seq, a.seq);
	st_recv1(q, &m, 30, 0, "one");
	ck_assert_int_eq(st_delete(q, m.in.receipt), 0);
	st_empty(q);
	ck_assert_int_eq(kmq_info(name, &info), 0);
	ck_assert_uint_eq(info.deduplicated, 1);

	/* by content: off, a message with neither is refused */
	ck_assert_int_eq(st_send_full(q, "body", -1, "g", NULL, NULL), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->flags |= KMQ_POL_CONTENT_DEDUP), 0);
	ck_assert_int_eq(st_send_full(q, "body", -1, "g", NULL, &a), 0);
	ck_assert_int_eq(st_send_full(q, "body", -1, "h", NULL, &b), 0);
	ck_assert_int_eq(b.duplicate, 1);
	ck_assert_int_eq(st_send_full(q, "other body", -1, "g", NULL, &b), 0);
	ck_assert_int_eq(b.duplicate, 0);
	st_recv1(q, &m, 30, 0, "body");
	ck_assert_int_eq(st_delete(q, m.in.receipt), 0);
	st_recv1(q, &m, 30, 0, "other body");
	ck_assert_int_eq(st_delete(q, m.in.receipt), 0);

	/* outside a window made short */
	if (!st_param("dedup_window_ms", "500", old, sizeof(old))) {
		ck_assert_int_eq(st_send_full(q, "w", -1, "g", "d2", &a), 0);
		ck_assert_int_eq(st_send_full(q, "w", -1, "g", "d2", &b), 0);
		ck_assert_int_eq(b.duplicate, 1);
		st_sleep_ms(800);
		ck_assert_int_eq(st_send_full(q, "w2", -1, "g", "d2", &b), 0);
		st_param("dedup_window_ms", old, NULL, 0);
		ck_assert_int_eq(b.duplicate, 0);
		ck_assert_uint_ne(b.id, a.id);
		ck_assert_uint_gt(b.seq, a.seq);
	}
	kmq_close(q);
	kmq_delete(name);
}
END_TEST

/* Out-of-range values are refused, and a refused policy changes nothing. */
START_TEST(invalid_values)
{
	struct kmq_policy p0, p1;
	struct st_msg m;
	char name[96], fname[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "inval"), 8, 256, _i);
	struct kmq *f = st_queue(st_name(fname, sizeof(fname), "inval.fifo"), 8,
				 256, 0);
	struct kmq_qattr fa = { .flags = KMQ_CREATE_FIFO };

	ck_assert_int_eq(kmq_get_policy(name, &p0), 0);
	ck_assert_uint_eq(p0.visibility_s, KMQ_VISIBILITY_DEFAULT);
	ck_assert_uint_eq(p0.retention_s, KMQ_RETENTION_DEFAULT);
	ck_assert_uint_eq(p0.max_msg_size, 256);
	ck_assert_int_eq(st_policy(name, p->visibility_s = KMQ_VISIBILITY_MAX + 1), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->retention_s = KMQ_RETENTION_MIN - 1), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->retention_s = KMQ_RETENTION_MAX + 1), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->delay_s = KMQ_DELAY_MAX + 1), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->wait_s = KMQ_WAIT_MAX + 1), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->max_msg_size = 0), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->max_msg_size = 257), -EINVAL);
	ck_assert_int_eq(st_policy(name, { p->max_receive = KMQ_RECEIVES_MAX + 1; strcpy(p->dlq, fname); }), -EINVAL);
	ck_assert_int_eq(st_policy(name, { p->max_receive = 2; strcpy(p->dlq, "no-such-queue-x"); }), -ENOENT);
	ck_assert_int_eq(st_policy(name, { p->max_receive = 2; strcpy(p->dlq, name); }), -EINVAL);
	ck_assert_int_eq(st_policy(name, { p->max_receive = 2; strcpy(p->dlq, fname); }), -EINVAL);
	ck_assert_int_eq(st_policy(name, p->flags |= KMQ_POL_FIFO), -EINVAL);
	ck_assert_int_eq(st_policy(fname, p->flags &= ~KMQ_POL_FIFO), -EINVAL);
	ck_assert_int_eq(kmq_get_policy(name, &p1), 0);
	ck_assert(!memcmp(&p0, &p1, sizeof(p0)));
	/* the limits themselves are fine */
	ck_assert_int_eq(st_policy(name, { p->visibility_s = KMQ_VISIBILITY_MAX; p->retention_s = KMQ_RETENTION_MAX; p->delay_s = KMQ_DELAY_MAX; p->wait_s = KMQ_WAIT_MAX; p->max_msg_size = 1; }), 0);
	ck_assert_int_eq(st_policy(name, { p->delay_s = 0; p->max_msg_size = 16; }), 0);
	/* the policy's smaller size holds for sends through the owner, and
	 * for sends written in place on a mapped queue (_i 0), attributes
	 * included; plain sends know nothing of it */
	{
		struct kmq_attr at = { .name = "a", .type = "String",
				       .value = "v", .len = 1 };
		struct kmq_out o = { .body = "sixteen bytes...", .len = 16,
				     .delay_s = -1, .attrs = &at, .nattrs = 1 };
		struct kmq *c;

		ck_assert_int_eq(kmq_open(name, KMQ_SEND | KMQ_COPY, &c), 0);
		ck_assert_int_eq(st_send(c, "sixteen bytes..."), 0);
		ck_assert_int_eq(st_send(c, "seventeen bytes.."), -EMSGSIZE);
		kmq_close(c);
		ck_assert_int_eq(st_send(q, "sixteen bytes..."), 0);
		ck_assert_int_eq(st_send(q, "seventeen bytes.."), -EMSGSIZE);
		ck_assert_int_eq(kmq_send_msgs(q, &o, 1), 0);
		ck_assert_int_eq(o.status, -EMSGSIZE);
		ck_assert_int_eq(kmq_send(q, "seventeen bytes..", 17, 0), 0);
	}
	ck_assert_int_eq(kmq_get_policy("bad/name", &p1), -EINVAL);
	ck_assert_int_eq(kmq_get_policy("no-such-queue-x", &p1), -ENOENT);
	/* sends and receives */
	ck_assert_int_eq(st_send_full(q, "x", KMQ_DELAY_MAX + 1, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(st_recv(q, &m, 1, KMQ_VISIBILITY_MAX + 1, 0), -EINVAL);
	ck_assert_int_eq(st_send_full(f, "x", -1, NULL, "d", NULL), -EINVAL);
	ck_assert_int_eq(kmq_create("nofifo", &fa), -EINVAL);
	ck_assert_int_eq(kmq_move(name, name, 1) < 0, 1);
	kmq_close(q);
	kmq_close(f);
	kmq_delete(name);
	kmq_delete(fname);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqs-lib");
	TCase *lease = tcase_create("leases");
	TCase *more = tcase_create("semantics");
	TCase *fifo = tcase_create("fifo");
	SRunner *sr;
	int failed;

	st_prog = "sqslib";
	st_require();
	/* _i: 0 mapped (fast path where it applies), 1 copying */
	tcase_add_loop_test(lease, visibility_zero, 0, 2);
	tcase_add_loop_test(lease, lease_expiry, 0, 2);
	tcase_add_loop_test(lease, change_visibility, 0, 2);
	tcase_add_loop_test(lease, dead_letter_max1, 0, 2);
	tcase_add_test(lease, dead_letter_max3);
	tcase_set_timeout(lease, 30);
	suite_add_tcase(s, lease);
	tcase_add_loop_test(more, delay_and_lease, 0, 2);
	tcase_add_test(more, purge);
	tcase_add_test(more, retention);
	tcase_add_test(more, long_poll);
	tcase_add_loop_test(more, batches, 0, 2);
	tcase_add_loop_test(more, attributes, 0, 2);
	tcase_add_loop_test(more, invalid_values, 0, 2);
	tcase_set_timeout(more, 60);
	suite_add_tcase(s, more);
	tcase_add_test(fifo, fifo_groups);
	tcase_add_test(fifo, fifo_dedup);
	tcase_set_timeout(fifo, 30);
	suite_add_tcase(s, fifo);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
