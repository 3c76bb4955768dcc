// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The shm backend's SQS operations: each one request to kmqd
 * (include/kmq/wire.h, GET_POLICY .. SQS_CHVIS), which serves the uapi
 * header's "SQS semantics" as kmq.ko does. Arguments were checked by
 * sqs.c; kmqd checks them again and owns every deadline.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int kmq_shm_get_policy(const char *name, struct kmq_policy *p)
{
	struct kmq_name n;
	int err;

	memset(&n, 0, sizeof(n));
	err = kmq_name_copy(n.name, name);
	return err ? err : kmq_shm_call_once(KMQ_WIRE_GET_POLICY, &n, sizeof(n),
					     p, sizeof(*p));
}

int kmq_shm_set_policy(const struct kmq_policy *p)
{
	return kmq_shm_call_once(KMQ_WIRE_SET_POLICY, p, sizeof(*p), NULL, 0);
}

int kmq_shm_purge(const char *name)
{
	struct kmq_name n;
	int err;

	memset(&n, 0, sizeof(n));
	err = kmq_name_copy(n.name, name);
	return err ? err : kmq_shm_call_once(KMQ_WIRE_PURGE, &n, sizeof(n),
					     NULL, 0);
}

int kmq_shm_move(const char *src, const char *dst, unsigned int max)
{
	struct kmq_move m;
	int err;

	memset(&m, 0, sizeof(m));
	err = kmq_name_copy(m.src, src);
	if (!err)
		err = kmq_name_copy(m.dst, dst);
	if (err)
		return err;
	m.count = max;
	err = kmq_shm_call_once(KMQ_WIRE_MOVE, &m, sizeof(m), &m, sizeof(m));
	return err ? err : (int)(m.count < max ? m.count : max);
}

static void id_copy(char dst[KMQ_GROUP_LEN], const char *s)
{
	if (s)
		strncpy(dst, s, KMQ_GROUP_LEN - 1);
}

/* send_part - one SQS_SEND of msgs[0..n) (they fit one frame). */
static int send_part(struct kmq *q, struct kmq_out *const *msgs,
		     const void *const *attrs, const __u32 *alen,
		     unsigned int n)
{
	static const char zeros[8];
	struct kmq_sqsmsg m[KMQ_SQS_BATCH_MAX], r;
	struct iovec iov[1 + 5 * KMQ_SQS_BATCH_MAX];
	struct kmq_sqsio io;
	const unsigned char *b;
	unsigned int i, v = 0;
	size_t len = 0;
	int err;

	memset(&io, 0, sizeof(io));
	io.count = n;
	io.flags = KMQ_IO_NONBLOCK;
	iov[v++] = (struct iovec){ &io, sizeof(io) };
	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		const struct kmq_out *o = msgs[i];

		m[i].len = (__u32)o->len;
		m[i].attr_len = alen[i];
		if (o->delay_s >= 0) {
			m[i].flags = KMQ_SQSMSG_DELAY;
			m[i].delay_s = (__u32)o->delay_s;
		}
		id_copy(m[i].group, o->group);
		id_copy(m[i].dedup, o->dedup);
		iov[v++] = (struct iovec){ &m[i], sizeof(m[i]) };
		iov[v++] = (struct iovec){ (void *)attrs[i], alen[i] };
		iov[v++] = (struct iovec){ (void *)zeros,
			KMQ_WIRE_PAD8(alen[i]) - alen[i] };
		iov[v++] = (struct iovec){ (void *)o->body, o->len };
		iov[v++] = (struct iovec){ (void *)zeros,
			KMQ_WIRE_PAD8(o->len) - o->len };
	}
	err = kmq_shm_call(q, KMQ_WIRE_SQS_SEND, iov, (int)v, &b, &len);
	if (err)
		return err;
	if (len != sizeof(io) + n * sizeof(r))
		return -EPROTO;
	for (i = 0; i < n; i++) {
		struct kmq_out *o = msgs[i];

		memcpy(&r, b + sizeof(io) + i * sizeof(r), sizeof(r));
		o->status = r.status;
		if (o->status)
			continue;
		o->id = r.id;
		o->seq = r.seq;
		o->duplicate = !!(r.flags & KMQ_SQSMSG_DUPLICATE);
	}
	return 0;
}

int kmq_shm_sqs_send(struct kmq *q, struct kmq_out *const *msgs,
		     const void *const *attrs, const __u32 *alen,
		     unsigned int n)
{
	unsigned int i = 0;
	int err = 0;

	/* As many per frame as fit in KMQ_WIRE_BODY_MAX (one always does). */
	while (i < n) {
		size_t body = sizeof(struct kmq_sqsio);
		unsigned int k = 0;

		while (i + k < n) {
			size_t add = sizeof(struct kmq_sqsmsg) +
				     KMQ_WIRE_PAD8(alen[i + k]) +
				     KMQ_WIRE_PAD8(msgs[i + k]->len);

			if (k && body + add > KMQ_WIRE_BODY_MAX)
				break;
			body += add;
			k++;
		}
		err = send_part(q, msgs + i, attrs + i, alen + i, k);
		if (err) {
			if (!i)
				return err;	/* nothing was tried */
			for (; i < n; i++)
				msgs[i]->status = err;
			return 0;
		}
		i += k;
	}
	return 0;
}

int kmq_shm_sqs_recv(struct kmq *q, struct kmq_in *msgs, unsigned int n,
		     int visibility_s, int64_t timeout_ns)
{
	struct kmq_sqsmsg m[KMQ_SQS_BATCH_MAX];
	struct iovec iov[2];
	struct kmq_sqsio io;
	const unsigned char *b;
	size_t len = 0, off;
	unsigned int i;
	int err;

	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		m[i].len = msgs[i].cap > UINT32_MAX ? UINT32_MAX
						    : (__u32)msgs[i].cap;
		m[i].attr_len = msgs[i].acap > UINT32_MAX ? UINT32_MAX
							  : (__u32)msgs[i].acap;
	}
	memset(&io, 0, sizeof(io));
	io.count = n;
	io.flags = timeout_ns ? 0 : KMQ_IO_NONBLOCK;
	io.timeout_ns = timeout_ns < 0 ? -1 : timeout_ns;
	if (visibility_s >= 0) {
		io.flags |= KMQ_SQSIO_VISIBILITY;
		io.visibility_s = (__u32)visibility_s;
	}
	iov[0] = (struct iovec){ &io, sizeof(io) };
	iov[1] = (struct iovec){ m, n * sizeof(m[0]) };
	err = kmq_shm_call(q, KMQ_WIRE_SQS_RECV, iov, 2, &b, &len);
	if (err)
		return err;
	if (len < sizeof(io))
		return -EPROTO;
	memcpy(&io, b, sizeof(io));
	if (!io.done || io.done > n)
		return -EPROTO;
	off = sizeof(io);
	for (i = 0; i < io.done; i++) {
		struct kmq_in *in = &msgs[i];
		struct kmq_sqsmsg r;

		if (len - off < sizeof(r))
			return -EPROTO;
		memcpy(&r, b + off, sizeof(r));
		off += sizeof(r);
		if (!r.status) {
			size_t pa = KMQ_WIRE_PAD8(r.attr_len),
			       pb = KMQ_WIRE_PAD8(r.len);

			if (r.attr_len > in->acap || r.len > in->cap ||
			    len - off < pa + pb)
				return -EPROTO;
			if (r.attr_len)
				memcpy(in->abuf, b + off, r.attr_len);
			if (r.len)
				memcpy(in->buf, b + off + pa, r.len);
			off += pa + pb;
		}
		in->status = r.status;
		in->len = r.len;
		in->attr_len = r.attr_len;
		in->receive_count = r.receive_count;
		in->sender_pid = r.sender_pid;
		in->sender_uid = r.sender_uid;
		in->id = r.id;
		in->receipt = r.receipt;
		in->sent_ns = r.sent_ns;
		in->first_receive_ns = r.first_receive_ns;
		in->seq = r.seq;
		memcpy(in->group, r.group, KMQ_GROUP_LEN);
		in->group[KMQ_GROUP_LEN - 1] = '\0';
	}
	return off == len ? (int)io.done : -EPROTO;
}

int kmq_shm_sqs_settle(struct kmq *q, const uint64_t *receipts, int *status,
		       unsigned int n, int visibility_s)
{
	struct kmq_receipt r[KMQ_SQS_BATCH_MAX];
	struct kmq_receipts rs;
	struct iovec iov[2];
	const unsigned char *b;
	size_t len = 0;
	unsigned int i;
	int err;

	memset(r, 0, n * sizeof(r[0]));
	for (i = 0; i < n; i++) {
		r[i].receipt = receipts[i];
		r[i].visibility_s = visibility_s < 0 ? 0 : (__u32)visibility_s;
	}
	memset(&rs, 0, sizeof(rs));
	rs.count = n;
	iov[0] = (struct iovec){ &rs, sizeof(rs) };
	iov[1] = (struct iovec){ r, n * sizeof(r[0]) };
	err = kmq_shm_call(q, visibility_s < 0 ? KMQ_WIRE_SQS_DELETE :
			   KMQ_WIRE_SQS_CHVIS, iov, 2, &b, &len);
	if (err)
		return err;
	if (len != sizeof(rs) + n * sizeof(r[0]))
		return -EPROTO;
	memcpy(&rs, b, sizeof(rs));
	memcpy(r, b + sizeof(rs), n * sizeof(r[0]));
	if (status)
		for (i = 0; i < n; i++)
			status[i] = r[i].status;
	return (int)(rs.done < n ? rs.done : n);
}
