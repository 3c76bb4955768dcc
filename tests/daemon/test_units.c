// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of kmqd's pure parts, linked against the daemon's own objects:
 * request validation (daemon/frame.c) with hostile frames, and the
 * configuration parser (daemon/config.c) with good and bad files.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kmqd.h"
#include "journal.h"

/* ---- frames --------------------------------------------------------------- */

static struct kmq_wire_hdr hdr(unsigned int cmd, unsigned int len)
{
	struct kmq_wire_hdr h = {
		.magic = KMQ_WIRE_MAGIC, .version = KMQ_WIRE_VERSION,
		.cmd = (__u16)cmd, .len = len, .seq = 7,
	};
	return h;
}

START_TEST(header_checks)
{
	struct kmq_wire_hdr h = hdr(KMQ_WIRE_LIST, 32);
	const char *why = NULL;

	ck_assert_int_eq(frame_check_hdr(&h, &why), 0);
	h.magic ^= 1;
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	ck_assert_str_eq(why, "bad magic");
	h = hdr(KMQ_WIRE_LIST, 32);
	h.version = 2;
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(0, 0);
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_CMD_MAX + 1, 0);
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_LIST | KMQ_WIRE_REPLY, 0);	/* replies are ours */
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_EVENT, 0);
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_SEND, KMQ_WIRE_BODY_MAX + 1);
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_SEND, 0xffffffffU);
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EPROTO);
	h = hdr(KMQ_WIRE_SEND, KMQ_WIRE_BODY_MAX);
	ck_assert_int_eq(frame_check_hdr(&h, &why), 0);
	h.status = -1;
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EINVAL);
	h.status = 0;
	h.reserved = 1;
	ck_assert_int_eq(frame_check_hdr(&h, &why), -EINVAL);
}
END_TEST

START_TEST(names)
{
	char n[KMQ_NAME_LEN];

	memset(n, 0, sizeof(n));
	ck_assert(!frame_name_ok(n));			/* empty */
	strcpy(n, "orders.v1_A-b");
	ck_assert(frame_name_ok(n));
	n[20] = 'x';					/* garbage after the NUL */
	ck_assert(!frame_name_ok(n));
	memset(n, 0, sizeof(n));
	strcpy(n, "a/b");
	ck_assert(!frame_name_ok(n));
	strcpy(n, "..");				/* dots alone are names */
	ck_assert(frame_name_ok(n));
	memset(n, 'a', sizeof(n));			/* no NUL at all */
	ck_assert(!frame_name_ok(n));
	memset(n, 0, sizeof(n));
	memset(n, 'a', KMQ_NAME_MAX);
	ck_assert(frame_name_ok(n));
	n[KMQ_NAME_MAX] = 'a';				/* one too long */
	ck_assert(!frame_name_ok(n));
	memset(n, 0, sizeof(n));
	strcpy(n, "caf\xc3\xa9");
	ck_assert(!frame_name_ok(n));
}
END_TEST

#define BODY_OK(cmd, p, len)	ck_assert_int_eq(frame_check_body(cmd, p, len, &why), 0)
#define BODY_BAD(cmd, p, len)	ck_assert_int_ne(frame_check_body(cmd, p, len, &why), 0)

START_TEST(fixed_bodies)
{
	struct kmq_create k;
	struct kmq_open o;
	struct kmq_name nm;
	struct kmq_wire_list l;
	struct kmq_wire_wait w;
	struct kmq_wire_sub s;
	struct kmq_wire_reattach r;
	const char *why;

	memset(&k, 0, sizeof(k));
	strcpy(k.name, "q");
	k.capacity = 8;
	k.max_msg_size = 8;
	k.mode = 0600;
	BODY_OK(KMQ_WIRE_CREATE, &k, sizeof(k));
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k) - 1);
	k.reserved[15] = 1;
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k));
	k.reserved[15] = 0;
	k.open_flags = KMQ_OPEN_SEND;
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k));
	k.open_flags = 0;
	k.flags = KMQ_CREATE_FIFO;	/* a FIFO queue: fine here */
	BODY_OK(KMQ_WIRE_CREATE, &k, sizeof(k));
	k.flags = 4;
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k));
	k.flags = 0;
	k.mode = 01000;
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k));
	k.mode = 0;
	k.type = 1;
	BODY_BAD(KMQ_WIRE_CREATE, &k, sizeof(k));

	memset(&o, 0, sizeof(o));
	strcpy(o.name, "q");
	o.flags = KMQ_OPEN_SEND | KMQ_OPEN_MAP;
	BODY_OK(KMQ_WIRE_OPEN, &o, sizeof(o));
	o.flags = KMQ_OPEN_MAP;				/* neither direction */
	BODY_BAD(KMQ_WIRE_OPEN, &o, sizeof(o));
	o.flags = KMQ_OPEN_RECV | KMQ_OPEN_NONBLOCK;	/* not over the wire */
	BODY_BAD(KMQ_WIRE_OPEN, &o, sizeof(o));
	o.flags = KMQ_OPEN_RECV;
	o.reserved0 = 1;
	BODY_BAD(KMQ_WIRE_OPEN, &o, sizeof(o));
	o.reserved0 = 0;
	strcpy(o.name, "bad name");
	BODY_BAD(KMQ_WIRE_OPEN, &o, sizeof(o));

	memset(&nm, 0, sizeof(nm));
	BODY_OK(KMQ_WIRE_INFO, &nm, sizeof(nm));	/* "my queue" */
	BODY_BAD(KMQ_WIRE_DELETE, &nm, sizeof(nm));	/* but no empty delete */
	strcpy(nm.name, "q");
	BODY_OK(KMQ_WIRE_DELETE, &nm, sizeof(nm));
	nm.reserved[1] = 9;
	BODY_BAD(KMQ_WIRE_DELETE, &nm, sizeof(nm));

	memset(&l, 0, sizeof(l));
	l.count = KMQ_WIRE_LIST_MAX;
	BODY_OK(KMQ_WIRE_LIST, &l, sizeof(l));
	l.count++;
	BODY_BAD(KMQ_WIRE_LIST, &l, sizeof(l));
	l.count = 1;
	l.total = 1;
	BODY_BAD(KMQ_WIRE_LIST, &l, sizeof(l));

	memset(&w, 0, sizeof(w));
	w.events = KMQ_READABLE | KMQ_WRITABLE;
	w.timeout_ns = -1;
	BODY_OK(KMQ_WIRE_WAIT, &w, sizeof(w));
	w.events = 0;
	BODY_BAD(KMQ_WIRE_WAIT, &w, sizeof(w));
	w.events = 4;
	BODY_BAD(KMQ_WIRE_WAIT, &w, sizeof(w));

	memset(&s, 0, sizeof(s));
	BODY_OK(KMQ_WIRE_SUBSCRIBE, &s, sizeof(s));
	s.flags = 1;
	BODY_BAD(KMQ_WIRE_SUBSCRIBE, &s, sizeof(s));

	memset(&r, 0, sizeof(r));
	strcpy(r.name, "q");
	r.client_id = 2;
	BODY_OK(KMQ_WIRE_REATTACH, &r, sizeof(r));
	r.client_id = KMQ_WIRE_KMQD_ID;			/* kmqd's own */
	BODY_BAD(KMQ_WIRE_REATTACH, &r, sizeof(r));
	r.client_id = KMQ_CLIENT_MAX + 1;
	BODY_BAD(KMQ_WIRE_REATTACH, &r, sizeof(r));
}
END_TEST

/* The SQS commands: pointers, output and reserved fields must be zero,
 * lengths exact, ids terminated and zero-padded. */
START_TEST(sqs_bodies)
{
	static unsigned char b[4096];
	struct kmq_policy p;
	struct kmq_move mv;
	struct kmq_sqsio io;
	struct kmq_sqsmsg m;
	struct kmq_receipts rs;
	struct kmq_receipt r;
	const char *why;
	size_t len;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, "q");
	BODY_OK(KMQ_WIRE_SET_POLICY, &p, sizeof(p));
	strcpy(p.dlq, "d");
	BODY_OK(KMQ_WIRE_SET_POLICY, &p, sizeof(p));
	strcpy(p.dlq, "d/");
	BODY_BAD(KMQ_WIRE_SET_POLICY, &p, sizeof(p));
	memset(p.dlq, 0, sizeof(p.dlq));
	p.reserved[7] = 1;
	BODY_BAD(KMQ_WIRE_SET_POLICY, &p, sizeof(p));
	BODY_BAD(KMQ_WIRE_GET_POLICY, &p, sizeof(p));	/* wrong length */

	memset(&mv, 0, sizeof(mv));
	strcpy(mv.src, "a");
	strcpy(mv.dst, "b");
	mv.count = 1;
	BODY_OK(KMQ_WIRE_MOVE, &mv, sizeof(mv));
	mv.count = 0;
	BODY_BAD(KMQ_WIRE_MOVE, &mv, sizeof(mv));

	/* SQS_SEND: one message, 3 attribute bytes and 5 body bytes */
	memset(&io, 0, sizeof(io));
	io.count = 1;
	memset(&m, 0, sizeof(m));
	m.attr_len = 3;
	m.len = 5;
	strcpy(m.group, "g");
	memset(b, 0, sizeof(b));
	memcpy(b, &io, sizeof(io));
	memcpy(b + sizeof(io), &m, sizeof(m));
	len = sizeof(io) + sizeof(m) + 8 + 8;
	memset(b + sizeof(io) + sizeof(m), 'a', 3);
	memset(b + sizeof(io) + sizeof(m) + 8, 'b', 5);
	BODY_OK(KMQ_WIRE_SQS_SEND, b, len);
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len - 1);
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len + 8);
	b[sizeof(io) + sizeof(m) + 3] = 1;		/* padding */
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len);
	b[sizeof(io) + sizeof(m) + 3] = 0;
	m.body = 0x1000;				/* a pointer */
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len);
	m.body = 0;
	memset(m.group, 'x', sizeof(m.group));		/* not terminated */
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len);
	memset(m.group, 0, sizeof(m.group));
	m.attr_len = KMQ_MSG_MAX + 1;
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len);
	io.count = KMQ_SQS_BATCH_MAX + 1;
	memcpy(b, &io, sizeof(io));
	BODY_BAD(KMQ_WIRE_SQS_SEND, b, len);

	/* SQS_RECV: rooms only */
	memset(&io, 0, sizeof(io));
	io.count = 1;
	io.flags = KMQ_SQSIO_VISIBILITY;
	io.visibility_s = KMQ_VISIBILITY_MAX;
	memset(&m, 0, sizeof(m));
	m.len = 100;
	memcpy(b, &io, sizeof(io));
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_OK(KMQ_WIRE_SQS_RECV, b, sizeof(io) + sizeof(m));
	io.visibility_s = KMQ_VISIBILITY_MAX + 1;
	memcpy(b, &io, sizeof(io));
	BODY_BAD(KMQ_WIRE_SQS_RECV, b, sizeof(io) + sizeof(m));
	io.visibility_s = 0;
	memcpy(b, &io, sizeof(io));
	m.receipt = 5;
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SQS_RECV, b, sizeof(io) + sizeof(m));

	/* SQS_DELETE / SQS_CHVIS */
	memset(&rs, 0, sizeof(rs));
	rs.count = 1;
	memset(&r, 0, sizeof(r));
	r.receipt = 1ULL << 20;
	memcpy(b, &rs, sizeof(rs));
	memcpy(b + sizeof(rs), &r, sizeof(r));
	BODY_OK(KMQ_WIRE_SQS_DELETE, b, sizeof(rs) + sizeof(r));
	BODY_BAD(KMQ_WIRE_SQS_CHVIS, b, sizeof(rs) + 2 * sizeof(r));
	r.status = -1;
	memcpy(b + sizeof(rs), &r, sizeof(r));
	BODY_BAD(KMQ_WIRE_SQS_CHVIS, b, sizeof(rs) + sizeof(r));
	rs.receipts = 0x1000;
	memcpy(b, &rs, sizeof(rs));
	BODY_BAD(KMQ_WIRE_SQS_DELETE, b, sizeof(rs) + sizeof(r));
}
END_TEST

/* A SEND body of @n messages of @len bytes each, in @b; returns its size. */
static size_t send_body(unsigned char *b, unsigned int n, unsigned int len)
{
	struct kmq_wire_io io = { .count = n };
	size_t off = sizeof(io);
	unsigned int i;

	memcpy(b, &io, sizeof(io));
	for (i = 0; i < n; i++) {
		struct kmq_wire_msg m = { .len = len };

		memcpy(b + off, &m, sizeof(m));
		off += sizeof(m);
		memset(b + off, 'x', len);
		memset(b + off + len, 0, KMQ_WIRE_PAD8(len) - len);
		off += KMQ_WIRE_PAD8(len);
	}
	return off;
}

START_TEST(send_recv_bodies)
{
	static unsigned char b[1 << 16];
	struct kmq_wire_io io;
	struct kmq_wire_msg m;
	const char *why;
	size_t len;

	len = send_body(b, 3, 5);
	BODY_OK(KMQ_WIRE_SEND, b, len);
	BODY_BAD(KMQ_WIRE_SEND, b, len - 1);		/* truncated */
	BODY_BAD(KMQ_WIRE_SEND, b, len + 8);		/* trailing bytes */
	b[sizeof(io) + sizeof(m) + 6] = 1;		/* padding */
	BODY_BAD(KMQ_WIRE_SEND, b, len);
	len = send_body(b, 1, 8);
	memcpy(&m, b + sizeof(io), sizeof(m));
	m.id = 1;					/* reply-only field */
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SEND, b, len);
	m.id = 0;
	m.len = 0xfffffff0U;				/* beyond the frame */
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SEND, b, len);
	m.len = KMQ_MSG_MAX + 1;
	memcpy(b + sizeof(io), &m, sizeof(m));
	BODY_BAD(KMQ_WIRE_SEND, b, len);
	len = send_body(b, 0, 0);
	BODY_BAD(KMQ_WIRE_SEND, b, len);		/* no message */
	len = send_body(b, KMQ_BATCH_MAX + 1, 0);
	BODY_BAD(KMQ_WIRE_SEND, b, len);
	len = send_body(b, KMQ_BATCH_MAX, 0);
	BODY_OK(KMQ_WIRE_SEND, b, len);
	BODY_BAD(KMQ_WIRE_SEND, b, 4);			/* shorter than io */

	memset(b, 0, 64);
	io = (struct kmq_wire_io){ .count = 3 };
	memcpy(b, &io, sizeof(io));
	BODY_OK(KMQ_WIRE_RECV, b, sizeof(io) + 16);	/* 3 rooms + pad */
	BODY_BAD(KMQ_WIRE_RECV, b, sizeof(io) + 12);
	b[sizeof(io) + 13] = 1;
	BODY_BAD(KMQ_WIRE_RECV, b, sizeof(io) + 16);
	io.flags = 1;
	memcpy(b, &io, sizeof(io));
	BODY_BAD(KMQ_WIRE_RECV, b, sizeof(io) + 16);
	BODY_BAD(99, b, 0);
}
END_TEST

/* ---- configuration ----------------------------------------------------------- */

static char path[64];

static void write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/kmqd-test-%d.conf", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(config_default)
{
	struct config c;

	config_defaults(&c);
	ck_assert_str_eq(c.socket, KMQ_WIRE_SOCKET);
	ck_assert_str_eq(c.state_dir, "/run/kmq");
	ck_assert_int_eq(c.backend, BACKEND_AUTO);
	ck_assert_int_eq(c.log_target, LOG_TO_STDERR);
	ck_assert_int_eq(c.log_level, 6);
	ck_assert_uint_eq(c.max_queues, 1024);
	ck_assert_uint_eq(c.max_bytes, 1ULL << 30);
	ck_assert_uint_eq(c.socket_mode, 0666);
}
END_TEST

START_TEST(config_file)
{
	struct config a, c;
	char err[256], diff[512];

	config_defaults(&c);
	a = c;
	write_file("# comment\n[daemon]\nsocket = /tmp/x.sock\nbackend = shm\n\n"
		   "[log]\nlevel = debug\ntarget=syslog\n[limits]\nmax_bytes = 64M\n"
		   "max_queues = 7\n");
	ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_str_eq(c.socket, "/tmp/x.sock");
	ck_assert_int_eq(c.backend, BACKEND_SHM);
	ck_assert_int_eq(c.log_level, 7);
	ck_assert_int_eq(c.log_target, LOG_TO_SYSLOG);
	ck_assert_uint_eq(c.max_bytes, 64ULL << 20);
	ck_assert_uint_eq(c.max_queues, 7);
	ck_assert_str_eq(c.state_dir, "/run/kmq");	/* untouched */
	config_diff(&a, &c, diff, sizeof(diff));
	ck_assert_ptr_nonnull(strstr(diff, "socket: " KMQ_WIRE_SOCKET " -> /tmp/x.sock"));
	ck_assert_ptr_nonnull(strstr(diff, "max_queues: 1024 -> 7"));
	ck_assert_ptr_nonnull(strstr(diff, "log_level: info -> debug"));
	config_diff(&c, &c, diff, sizeof(diff));
	ck_assert_str_eq(diff, "");
	unlink(path);
}
END_TEST

/* Each bad file fails with its line number and says what is wrong. */
START_TEST(config_bad_files)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "[daemon]\nfrobnicate = 1\n", ":2: unknown key 'frobnicate'" },
		{ "[nosuch]\nsocket = /x\n", ":2: unknown key 'socket' in section [nosuch]" },
		{ "[daemon]\nbackend = pigeon\n", ":2: backend: 'pigeon'" },
		{ "[daemon]\nsocket = relative.sock\n", ":2: socket:" },
		{ "[daemon]\nsocket_mode = 0999\n", ":2: socket_mode:" },
		{ "[daemon]\nmax_connections = 0\n", ":2: max_connections:" },
		{ "[daemon]\nmax_connections = -5\n", ":2: max_connections:" },
		{ "[log]\nlevel = loud\n", ":2: level:" },
		{ "[limits]\nmax_bytes = 10\n", ":2: max_bytes:" },
		{ "[limits]\nmax_bytes = 5Q\n", ":2: max_bytes:" },
		{ "[limits]\nmax_queues = 99999999999999999999999\n", ":2: max_queues:" },
		{ "[daemon]\nthis is not ini\n", ":2: not 'key = value'" },
		{ "[daemon\n", ":1:" },
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;

		config_defaults(&c);
		write_file(bad[i].text);
		ck_assert_int_eq(config_load(&c, path, err, sizeof(err)), -EINVAL);
		ck_assert_msg(strstr(err, bad[i].want), "%s: '%s' lacks '%s'",
			      bad[i].text, err, bad[i].want);
	}
	unlink(path);
	ck_assert_int_eq(config_load(&(struct config){ 0 }, "/nonexistent/kmqd.conf",
				     err, sizeof(err)), -ENOENT);
}
END_TEST

/* ---- journal.c: append, reload, a torn tail, rewrite, remove ---------- */

struct jrec { unsigned long long v; char pad[8]; };

static void j_sum(void *arg, const void *rec)
{
	const struct jrec *r = rec;

	*(unsigned long long *)arg += r->v;
}

static void j_fill(void *arg, unsigned long i, void *buf)
{
	((struct jrec *)buf)->v = 100 + i;
}

START_TEST(journal_records)
{
	char dir[] = "/tmp/kmqd-journal-XXXXXX", jpath[64];
	struct journal j;
	unsigned long long sum = 0;
	struct jrec r = { 0 };
	FILE *f;
	int i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(jpath, sizeof(jpath), "%s/j", dir);
	ck_assert_int_eq(journal_open(&j, jpath, sizeof(r), j_sum, &sum), 0);
	ck_assert_uint_eq(j.nrec, 0);
	for (i = 1; i <= 10; i++) {
		r.v = (unsigned long long)i;
		ck_assert_int_eq(journal_append(&j, &r), 0);
	}
	journal_close(&j);
	ck_assert_int_eq(journal_append(&j, &r), -EBADF);	/* closed: dropped */
	/* A torn record at the end (a write cut short) is skipped and cut off. */
	f = fopen(jpath, "a");
	ck_assert_ptr_nonnull(f);
	fwrite("torn", 1, 4, f);
	fclose(f);
	ck_assert_int_eq(journal_open(&j, jpath, sizeof(r), j_sum, &sum), 0);
	ck_assert_uint_eq(sum, 55);
	ck_assert_uint_eq(j.nrec, 10);
	r.v = 1000;
	ck_assert_int_eq(journal_append(&j, &r), 0);	/* after the cut */
	journal_close(&j);
	sum = 0;
	ck_assert_int_eq(journal_open(&j, jpath, sizeof(r), j_sum, &sum), 0);
	ck_assert_uint_eq(sum, 1055);
	/* A rewrite replaces everything; appends go on after it. */
	ck_assert_int_eq(journal_rewrite(&j, 3, j_fill, NULL), 0);
	ck_assert_uint_eq(j.nrec, 3);
	r.v = 7;
	ck_assert_int_eq(journal_append(&j, &r), 0);
	journal_close(&j);
	sum = 0;
	ck_assert_int_eq(journal_open(&j, jpath, sizeof(r), j_sum, &sum), 0);
	ck_assert_uint_eq(sum, 100 + 101 + 102 + 7);
	journal_remove(&j);
	ck_assert_int_eq(access(jpath, F_OK), -1);
	/* Bad arguments: a zero record size, a jpath too long. */
	ck_assert_int_eq(journal_open(&j, jpath, 0, NULL, NULL), -EINVAL);
	{
		char longp[400];

		memset(longp, 'a', sizeof(longp) - 1);
		longp[0] = '/';
		longp[sizeof(longp) - 1] = 0;
		ck_assert_int_eq(journal_open(&j, longp, sizeof(r), NULL, NULL), -ENAMETOOLONG);
	}
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmqd-units");
	TCase *tc = tcase_create("units");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, header_checks);
	tcase_add_test(tc, names);
	tcase_add_test(tc, fixed_bodies);
	tcase_add_test(tc, sqs_bodies);
	tcase_add_test(tc, send_recv_bodies);
	tcase_add_test(tc, config_default);
	tcase_add_test(tc, config_file);
	tcase_add_test(tc, config_bad_files);
	tcase_add_test(tc, journal_records);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
