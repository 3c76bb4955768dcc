// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libkmq's SQS layer without a kernel: message attribute encode/decode
 * (every rule, and hostile buffers: truncations, lies in lengths, random
 * bytes), kmq_send_msgs() in place on the fast path with plain receivers
 * skipping the attributes, the routing of what the fast path cannot take,
 * and the argument checks of the SQS calls.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define A(n, t, v)	{ .name = (n), .type = (t), .value = (v), .len = sizeof(v) - 1 }

static int enc(const struct kmq_attr *a, unsigned int n)
{
	unsigned char buf[4096];

	return kmq_attrs_encode(a, n, buf, sizeof(buf));
}

START_TEST(attrs_round_trip)
{
	static const unsigned char bin[] = { 0, 1, 0xff, 0 };
	struct kmq_attr in[3] = {
		A("Color", "String", "blue"),
		A("count.v2", "Number", "-12.5e3"),
		{ .name = "img", .type = "Binary.gif", .value = bin, .len = 4 },
	};
	struct kmq_attr out[KMQ_ATTR_MAX];
	unsigned char buf[256];
	int len, i;

	len = kmq_attrs_encode(in, 3, buf, sizeof(buf));
	ck_assert_int_eq(len, 1 + 3 * 6 + 5 + 6 + 4 + 8 + 6 + 7 + 3 + 10 + 4);
	ck_assert_int_eq(buf[0], 3);
	ck_assert_int_eq(kmq_attrs_decode(buf, (size_t)len, out, KMQ_ATTR_MAX), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(out[i].name_len, strlen(in[i].name));
		ck_assert(!memcmp(out[i].name, in[i].name, out[i].name_len));
		ck_assert_uint_eq(out[i].type_len, strlen(in[i].type));
		ck_assert(!memcmp(out[i].type, in[i].type, out[i].type_len));
		ck_assert_uint_eq(out[i].len, in[i].len);
		ck_assert(!memcmp(out[i].value, in[i].value, in[i].len));
	}
	/* decoded attributes encode to the same bytes */
	{
		unsigned char again[256];

		ck_assert_int_eq(kmq_attrs_encode(out, 3, again, sizeof(again)), len);
		ck_assert(!memcmp(again, buf, (size_t)len));
	}
	/* none: nothing at all */
	ck_assert_int_eq(kmq_attrs_encode(NULL, 0, NULL, 0), 0);
	ck_assert_int_eq(kmq_attrs_decode(buf, 0, out, KMQ_ATTR_MAX), 0);
	/* too small a buffer, too few slots */
	ck_assert_int_eq(kmq_attrs_encode(in, 3, buf, (size_t)len - 1), -ENOSPC);
	ck_assert_int_eq(kmq_attrs_decode(buf, (size_t)len, out, 2), -ENOSPC);
}
END_TEST

START_TEST(attrs_rules)
{
	static const char *const good_names[] = {
		"a", "Color", "my_attr.v2", "a-b", "A.B.C", "AWSx", "amazonx",
	};
	static const char *const bad_names[] = {
		"", ".a", "a.", "a..b", "AWS.x", "aws.x", "Amazon.y", "AMAZON.z",
		"a b", "a/b", "caf\xc3\xa9", "a\tb",
	};
	static const char *const good_types[] = {
		"String", "Number", "Binary", "String.json", "Binary.gif",
		"Number.int-32", "String.a.b",
	};
	static const char *const bad_types[] = {
		"", "string", "String.", "Blob", "Strings", "Number.a b",
		"Binary.\x01", "Str",
	};
	static const char *const good_numbers[] = {
		"0", "-1", "+1", "3.14", ".5", "-.5", "1e10", "1E-3", "12.5e+7",
		"00012", "1e-128", "12345678901234567890123456789012345678",
		"1234567890123456789.0123456789012345678",
	};
	static const char *const bad_numbers[] = {
		"", "-", "+", ".", "1.", "1e", "e5", "1e+", "0x10", "1 ", " 1",
		"1,5", "NaN", "inf", "1.2.3", "--1", "1e1000",
		"123456789012345678901234567890123456789",
		"1234567890123456789.01234567890123456789",
	};
	struct kmq_attr a[KMQ_ATTR_MAX + 1];
	char name[300];
	size_t i;

	for (i = 0; i < sizeof(good_names) / sizeof(*good_names); i++) {
		struct kmq_attr x = A("", "String", "v");

		x.name = good_names[i];
		ck_assert_msg(enc(&x, 1) > 0, "name '%s'", good_names[i]);
	}
	for (i = 0; i < sizeof(bad_names) / sizeof(*bad_names); i++) {
		struct kmq_attr x = A("", "String", "v");

		x.name = bad_names[i];
		ck_assert_msg(enc(&x, 1) == -EINVAL, "name '%s'", bad_names[i]);
	}
	for (i = 0; i < sizeof(good_types) / sizeof(*good_types); i++) {
		struct kmq_attr x = A("n", "", "1");

		x.type = good_types[i];
		ck_assert_msg(enc(&x, 1) > 0, "type '%s'", good_types[i]);
	}
	for (i = 0; i < sizeof(bad_types) / sizeof(*bad_types); i++) {
		struct kmq_attr x = A("n", "", "1");

		x.type = bad_types[i];
		ck_assert_msg(enc(&x, 1) == -EINVAL, "type '%s'", bad_types[i]);
	}
	for (i = 0; i < sizeof(good_numbers) / sizeof(*good_numbers); i++) {
		struct kmq_attr x = { .name = "n", .type = "Number",
				      .value = good_numbers[i],
				      .len = (uint32_t)strlen(good_numbers[i]) };

		ck_assert_msg(enc(&x, 1) > 0, "number '%s'", good_numbers[i]);
	}
	for (i = 0; i < sizeof(bad_numbers) / sizeof(*bad_numbers); i++) {
		struct kmq_attr x = { .name = "n", .type = "Number",
				      .value = bad_numbers[i],
				      .len = (uint32_t)strlen(bad_numbers[i]) };

		ck_assert_msg(enc(&x, 1) == -EINVAL, "number '%s'",
			      bad_numbers[i]);
	}
	/* 255 characters fit the one-byte length; 256 do not */
	memset(name, 'n', sizeof(name));
	name[255] = '\0';
	a[0] = (struct kmq_attr)A("", "String", "v");
	a[0].name = name;
	ck_assert_int_gt(enc(a, 1), 0);
	name[255] = 'n';
	name[256] = '\0';
	ck_assert_int_eq(enc(a, 1), -EINVAL);
	/* explicit lengths: a NUL inside a name is refused */
	a[0] = (struct kmq_attr)A("ab", "String", "v");
	a[0].name = "a\0b";
	a[0].name_len = 3;
	ck_assert_int_eq(enc(a, 1), -EINVAL);
	/* names are unique; at most KMQ_ATTR_MAX */
	a[0] = (struct kmq_attr)A("x", "String", "1");
	a[1] = (struct kmq_attr)A("x", "Number", "1");
	ck_assert_int_eq(enc(a, 2), -EINVAL);
	for (i = 0; i <= KMQ_ATTR_MAX; i++) {
		static char names[KMQ_ATTR_MAX + 1][4];

		snprintf(names[i], sizeof(names[i]), "a%zu", i);
		a[i] = (struct kmq_attr)A("", "String", "v");
		a[i].name = names[i];
	}
	ck_assert_int_gt(enc(a, KMQ_ATTR_MAX), 0);
	ck_assert_int_eq(enc(a, KMQ_ATTR_MAX + 1), -EINVAL);
	/* NULL pointers */
	a[0] = (struct kmq_attr)A("x", "String", "1");
	a[0].value = NULL;
	ck_assert_int_eq(enc(a, 1), -EINVAL);
	a[0].value = "";
	a[0].len = 0;
	ck_assert_int_eq(enc(a, 1), -EINVAL);	/* values are 1 byte or more */
	a[0].len = 1;
	a[0].type = NULL;
	ck_assert_int_eq(enc(a, 1), -EINVAL);
	ck_assert_int_eq(enc(NULL, 1), -EINVAL);
}
END_TEST

/* A valid two-attribute encoding to damage. */
static int sample(unsigned char *buf, size_t cap)
{
	struct kmq_attr in[2] = {
		A("k", "String", "value"),
		A("n", "Number", "42"),
	};

	return kmq_attrs_encode(in, 2, buf, cap);
}

START_TEST(attrs_hostile)
{
	struct kmq_attr out[KMQ_ATTR_MAX];
	unsigned char buf[128], bad[128];
	int len, i;

	len = sample(buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	/* every truncation, and a byte too many */
	for (i = 1; i < len; i++)
		ck_assert_msg(kmq_attrs_decode(buf, (size_t)i, out, KMQ_ATTR_MAX) == -EINVAL,
			      "truncated at %d", i);
	memcpy(bad, buf, (size_t)len);
	bad[len] = 0;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len + 1, out, KMQ_ATTR_MAX), -EINVAL);
	/* counts: 0 with bytes, above KMQ_ATTR_MAX, more than there are */
	memcpy(bad, buf, (size_t)len);
	bad[0] = 0;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	bad[0] = KMQ_ATTR_MAX + 1;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	bad[0] = 255;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	bad[0] = 3;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	/* value lengths that lie: huge (no wrap-around), one too long */
	memcpy(bad, buf, (size_t)len);
	memset(bad + 3, 0xff, 4);
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	memcpy(bad, buf, (size_t)len);
	bad[3]++;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	/* name and type lengths that lie, a zero name length */
	memcpy(bad, buf, (size_t)len);
	bad[1] = 200;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	bad[1] = 0;
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	/* a bad name, a bad type, a bad number, a duplicate name */
	memcpy(bad, buf, (size_t)len);
	bad[7] = '/';			/* the first name */
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	memcpy(bad, buf, (size_t)len);
	bad[8] = 's';			/* "string" */
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	memcpy(bad, buf, (size_t)len);
	bad[len - 1] = 'x';		/* "4x" */
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	memcpy(bad, buf, (size_t)len);
	bad[7 + 1 + 6 + 5 + 6] = 'k';	/* second name "n" -> "k" */
	ck_assert_int_eq(kmq_attrs_decode(bad, (size_t)len, out, KMQ_ATTR_MAX), -EINVAL);
	ck_assert_int_eq(kmq_attrs_decode(buf, (size_t)len, out, KMQ_ATTR_MAX), 2);
	ck_assert_int_eq(kmq_attrs_decode(NULL, 3, out, KMQ_ATTR_MAX), -EINVAL);
}
END_TEST

/* Random bytes and random damage: never read outside the buffer (run under
 * valgrind to see it), and whatever decodes re-encodes to the same bytes. */
START_TEST(attrs_fuzz)
{
	struct kmq_attr out[KMQ_ATTR_MAX];
	unsigned char good[128], again[512];
	unsigned int seed = 12345;
	int glen, it, ok = 0;

	glen = sample(good, sizeof(good));
	for (it = 0; it < 200000; it++) {
		size_t len = (size_t)(rand_r(&seed) % 64);
		unsigned char *b = malloc(len ? len : 1);
		int n, k;

		if (it & 1) {
			len = (size_t)glen;
			b = realloc(b, len);
			memcpy(b, good, len);
			for (k = rand_r(&seed) % 3; k >= 0; k--)
				b[rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
		} else {
			for (k = 0; k < (int)len; k++)
				b[k] = (unsigned char)rand_r(&seed);
			if (len)
				b[0] %= 4;
		}
		n = kmq_attrs_decode(b, len, out, KMQ_ATTR_MAX);
		ck_assert(n == -EINVAL || n >= 0);
		if (n > 0) {
			ok++;
			ck_assert_int_eq(kmq_attrs_encode(out, (unsigned int)n,
							  again, sizeof(again)),
					 (int)len);
			ck_assert(!memcmp(again, b, len));
		}
		free(b);
	}
	ck_assert_int_gt(ok, 0);
}
END_TEST

/* ---- kmq_send_msgs on queue memory, no kernel ------------------------ */

static int stub_wake(struct kmq *q, unsigned int who)
{
	return 0;
}

static void stub_close(struct kmq *q)
{
}

static const struct kmq_backend stub_backend = {
	.name = "stub",
	.close = stub_close,
	.wake = stub_wake,
};

struct qmem {
	void *base;
	struct kmq_layout l;
};

static struct kmq *stub_open(struct qmem *m, __u32 cap, __u32 size)
{
	struct kmq *q;

	ck_assert_int_eq(kmq_layout_compute(&m->l, cap, size), 0);
	m->base = aligned_alloc(4096, m->l.size);
	ck_assert_ptr_nonnull(m->base);
	memset(m->base, 0, m->l.size);
	kmq_layout_init(m->base, &m->l, KMQ_FEAT_RINGS, 42);
	q = kmq_alloc(&stub_backend, KMQ_SEND | KMQ_RECV);
	ck_assert_ptr_nonnull(q);
	kmq_attach(q, m->base, &m->l, 7);
	return q;
}

START_TEST(send_msgs_fast_path)
{
	struct kmq_attr at[2] = {
		A("trace", "String", "abc"),
		A("n", "Number", "7"),
	};
	struct kmq_out out[3];
	struct kmq_attr dec[KMQ_ATTR_MAX];
	struct kmq_msg msg;
	struct qmem m;
	struct kmq *q = stub_open(&m, 8, 128);
	struct kmq_slot *s;
	char buf[128];
	int n;

	memset(out, 0, sizeof(out));
	out[0] = (struct kmq_out){ .body = "hello", .len = 5, .attrs = at,
				   .nattrs = 2, .delay_s = -1 };
	out[1] = (struct kmq_out){ .body = "plain", .len = 5, .delay_s = 0 };
	out[2] = (struct kmq_out){ .body = "x", .len = 1, .attrs = at,
				   .nattrs = 1, .delay_s = -1 };
	ck_assert_int_eq(kmq_send_msgs(q, out, 3), 3);
	ck_assert_int_eq(out[0].status, 0);
	ck_assert(out[0].id && out[1].id && out[0].id != out[1].id);
	ck_assert_int_eq(out[0].seq, 0);

	/* the slot holds the encoded attributes, then the body */
	ck_assert_int_eq(kmq_borrow(q, &msg, 0), 0);
	ck_assert_uint_eq(msg.len, 5);
	ck_assert(!memcmp(msg.data, "hello", 5));
	ck_assert_uint_eq(msg.id, out[0].id);
	s = kmq_slot_at(&q->fast.v, msg.slot);
	ck_assert_uint_gt(s->attr_len, 0);
	ck_assert_int_eq(kmq_attrs_decode(kmq_slot_data(s), s->attr_len, dec,
					  KMQ_ATTR_MAX), 2);
	ck_assert(!memcmp(dec[0].value, "abc", 3));
	ck_assert_int_eq(kmq_release(q, &msg), 0);

	/* plain receive (copy) skips the attributes */
	n = kmq_recv(q, buf, sizeof(buf), &msg, 0);
	ck_assert_int_eq(n, 5);
	ck_assert(!memcmp(buf, "plain", 5));
	/* a buffer that fits the body but not attributes + body is enough */
	n = kmq_recv(q, buf, 1, &msg, 0);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(buf[0], 'x');

	/* attributes + body beyond max_msg_size: -EMSGSIZE, the others go */
	memset(out, 0, sizeof(out));
	out[0] = (struct kmq_out){ .body = buf, .len = 125, .attrs = at,
				   .nattrs = 1, .delay_s = -1 };
	out[1] = (struct kmq_out){ .body = buf, .len = 128, .delay_s = -1 };
	out[2] = (struct kmq_out){ .body = buf, .len = 129, .delay_s = -1 };
	ck_assert_int_eq(kmq_send_msgs(q, out, 3), 1);
	ck_assert_int_eq(out[0].status, -EMSGSIZE);
	ck_assert_int_eq(out[1].status, 0);
	ck_assert_int_eq(out[2].status, -EMSGSIZE);
	ck_assert_int_eq(kmq_recv(q, buf, sizeof(buf), NULL, 0), 128);

	/* full: -EAGAIN per message, never a wait */
	for (n = 0; n < 8; n++)
		ck_assert_int_eq(kmq_send(q, "f", 1, 0), 0);
	memset(out, 0, sizeof(out));
	out[0] = (struct kmq_out){ .body = "y", .len = 1, .delay_s = -1 };
	ck_assert_int_eq(kmq_send_msgs(q, out, 1), 0);
	ck_assert_int_eq(out[0].status, -EAGAIN);
	kmq_close(q);
	free(m.base);
}
END_TEST

START_TEST(send_msgs_routing)
{
	struct kmq_attr bad = A("AWS.x", "String", "v");
	struct kmq_attr ok = A("n", "Number", "7");
	struct kmq_out out[KMQ_SQS_BATCH_MAX + 1];
	struct kmq_in in[2];
	uint64_t r[2] = { 1, 2 };
	int st[2];
	struct qmem m;
	struct kmq *q = stub_open(&m, 8, 128);
	unsigned int i;

	/* what the fast path cannot take goes to the owner: this backend has
	 * none, so those are -EOPNOTSUPP, and the rest still go */
	memset(out, 0, sizeof(out));
	out[0] = (struct kmq_out){ .body = "d", .len = 1, .delay_s = 5 };
	out[1] = (struct kmq_out){ .body = "g", .len = 1, .delay_s = -1,
				   .group = "g1" };
	out[2] = (struct kmq_out){ .body = "ok", .len = 2, .delay_s = -1 };
	out[3] = (struct kmq_out){ .body = "e", .len = 1, .delay_s = -1,
				   .dedup = "d1" };
	ck_assert_int_eq(kmq_send_msgs(q, out, 4), 1);
	ck_assert_int_eq(out[0].status, -EOPNOTSUPP);
	ck_assert_int_eq(out[1].status, -EOPNOTSUPP);
	ck_assert_int_eq(out[2].status, 0);
	ck_assert_int_eq(out[3].status, -EOPNOTSUPP);
	/* all of them to the owner: the one error */
	ck_assert_int_eq(kmq_send_msgs(q, out, 1), -EOPNOTSUPP);

	/* a queue delay sends everything through the owner */
	q->fast.v.hdr->policy_delay_s = 3;
	out[0] = (struct kmq_out){ .body = "p", .len = 1, .delay_s = 0 };
	ck_assert_int_eq(kmq_send_msgs(q, out, 1), -EOPNOTSUPP);
	q->fast.v.hdr->policy_delay_s = 0;

	/* in place: attributes + body within the policy's size, mirrored in
	 * the header (the layout's size by default; 0: not mirrored) */
	ck_assert_uint_eq(q->fast.v.hdr->policy_max_msg_size, 128);
	q->fast.v.hdr->policy_max_msg_size = 4;
	out[0] = (struct kmq_out){ .body = "four", .len = 4, .delay_s = -1 };
	out[1] = (struct kmq_out){ .body = "five!", .len = 5, .delay_s = -1 };
	out[2] = (struct kmq_out){ .body = "ab", .len = 2, .delay_s = -1,
				   .attrs = &ok, .nattrs = 1 };
	ck_assert_int_eq(kmq_send_msgs(q, out, 3), 1);
	ck_assert_int_eq(out[0].status, 0);
	ck_assert_int_eq(out[1].status, -EMSGSIZE);
	ck_assert_int_eq(out[2].status, -EMSGSIZE);
	q->fast.v.hdr->policy_max_msg_size = 0;
	ck_assert_int_eq(kmq_send_msgs(q, &out[1], 1), 1);
	/* plain sends are bound by the queue's size only */
	q->fast.v.hdr->policy_max_msg_size = 1;
	ck_assert_int_eq(kmq_send(q, "plain", 5, 0), 0);
	q->fast.v.hdr->policy_max_msg_size = 128;

	/* per-message checks */
	memset(out, 0, sizeof(out));
	out[0] = (struct kmq_out){ .body = NULL, .len = 1, .delay_s = -1 };
	out[1] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = 901 };
	out[2] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = -2 };
	out[3] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = -1,
				   .group = "" };
	out[4] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = -1,
				   .group = "has space" };
	out[5] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = -1,
				   .attrs = &bad, .nattrs = 1 };
	out[6] = (struct kmq_out){ .body = "x", .len = 1, .delay_s = -1,
				   .dedup = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" };
	ck_assert_int_eq(kmq_send_msgs(q, out, 7), 0);
	for (i = 0; i < 7; i++)
		ck_assert_msg(out[i].status == -EINVAL, "message %u: %d", i,
			      out[i].status);

	/* whole-call checks */
	ck_assert_int_eq(kmq_send_msgs(q, out, 0), -EINVAL);
	ck_assert_int_eq(kmq_send_msgs(q, out, KMQ_SQS_BATCH_MAX + 1), -EINVAL);
	ck_assert_int_eq(kmq_send_msgs(NULL, out, 1), -EINVAL);
	memset(in, 0, sizeof(in));
	ck_assert_int_eq(kmq_receive(q, in, 0, -1, 0), -EINVAL);
	ck_assert_int_eq(kmq_receive(q, in, 11, -1, 0), -EINVAL);
	ck_assert_int_eq(kmq_receive(q, in, 1, -2, 0), -EINVAL);
	ck_assert_int_eq(kmq_receive(q, in, 1, KMQ_VISIBILITY_MAX + 1, 0), -EINVAL);
	in[0].cap = 4;
	ck_assert_int_eq(kmq_receive(q, in, 1, -1, 0), -EINVAL);
	in[0].cap = 0;
	ck_assert_int_eq(kmq_receive(q, in, 1, -1, 0), -EOPNOTSUPP);
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, 0), -EINVAL);
	ck_assert_int_eq(kmq_delete_msgs(q, NULL, st, 1), -EINVAL);
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, 2), -EOPNOTSUPP);
	ck_assert_int_eq(kmq_change_visibility(q, r, KMQ_VISIBILITY_MAX + 1, st, 1), -EINVAL);
	ck_assert_int_eq(kmq_change_visibility(q, r, 0, st, 1), -EOPNOTSUPP);
	ck_assert_int_eq(kmq_move("a", "b", 0), -EINVAL);
	ck_assert_int_eq(kmq_move("a", "b/", 1), -EINVAL);
	ck_assert_int_eq(kmq_purge("a b"), -EINVAL);
	ck_assert_int_eq(kmq_get_policy("a", NULL), -EINVAL);
	ck_assert_int_eq(kmq_set_policy(NULL), -EINVAL);
	{
		struct kmq_policy p;

		memset(&p, 'x', sizeof(p));	/* names not terminated */
		ck_assert_int_eq(kmq_set_policy(&p), -EINVAL);
	}
	q->flags = KMQ_RECV;
	ck_assert_int_eq(kmq_send_msgs(q, out, 1), -EPERM);
	q->flags = KMQ_SEND;
	ck_assert_int_eq(kmq_receive(q, in, 1, -1, 0), -EPERM);
	ck_assert_int_eq(kmq_delete_msgs(q, r, st, 1), -EPERM);
	kmq_close(q);
	free(m.base);
}
END_TEST

/* No owner to ask: the shm backend without kmqd, and a missing module. */
START_TEST(no_owner)
{
	struct kmq_policy p;

	setenv("KMQ_BACKEND", "shm", 1);
	setenv("KMQ_SOCKET", "/nonexistent/kmqd.sock", 1);
	ck_assert_int_eq(kmq_get_policy("a", &p), -ECONNREFUSED);
	ck_assert_int_eq(kmq_purge("a"), -ECONNREFUSED);
	ck_assert_int_eq(kmq_move("a", "b", 1), -ECONNREFUSED);
	unsetenv("KMQ_SOCKET");
	setenv("KMQ_BACKEND", "kernel", 1);
	if (access(KMQ_DEVICE, F_OK))
		ck_assert_int_eq(kmq_get_policy("a", &p), -ENODEV);
	unsetenv("KMQ_BACKEND");
}
END_TEST

static Suite *sqs_suite(void)
{
	Suite *s = suite_create("sqs");
	TCase *attrs = tcase_create("attributes");
	TCase *send = tcase_create("send");

	tcase_add_test(attrs, attrs_round_trip);
	tcase_add_test(attrs, attrs_rules);
	tcase_add_test(attrs, attrs_hostile);
	tcase_add_test(attrs, attrs_fuzz);
	tcase_set_timeout(attrs, 60);
	suite_add_tcase(s, attrs);
	tcase_add_test(send, send_msgs_fast_path);
	tcase_add_test(send, send_msgs_routing);
	tcase_add_test(send, no_owner);
	suite_add_tcase(s, send);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sqs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
