// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * The kernel backend's SQS operations: policy, purge and move on the
 * control fd, leased send/receive/delete/visibility on the queue fd, each
 * one ioctl of the uapi header's "SQS semantics". Arguments were checked by
 * sqs.c; the kernel checks them again and owns every deadline.
 */
#include <string.h>
#include <sys/ioctl.h>
#include "internal.h"

int kmq_kernel_get_policy(const char *name, struct kmq_policy *p)
{
	int err;

	memset(p, 0, sizeof(*p));
	err = kmq_name_copy(p->name, name);
	return err ? err : kmq_ctl_ioctl(KMQ_IOC_GET_POLICY, p);
}

int kmq_kernel_set_policy(const struct kmq_policy *p)
{
	struct kmq_policy c = *p;

	return kmq_ctl_ioctl(KMQ_IOC_SET_POLICY, &c);
}

int kmq_kernel_purge(const char *name)
{
	struct kmq_name n;
	int err;

	memset(&n, 0, sizeof(n));
	err = kmq_name_copy(n.name, name);
	return err ? err : kmq_ctl_ioctl(KMQ_IOC_SQS_PURGE, &n);
}

int kmq_kernel_move(const char *src, const char *dst, unsigned int max)
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
	err = kmq_ctl_ioctl(KMQ_IOC_SQS_MOVE, &m);
	return err ? err : (int)(m.count < max ? m.count : max);
}

/* id_copy - a group or deduplication id into its field ("" for NULL). */
static void id_copy(char dst[KMQ_GROUP_LEN], const char *s)
{
	if (s)
		strncpy(dst, s, KMQ_GROUP_LEN - 1);
}

int kmq_kernel_sqs_send(struct kmq *q, struct kmq_out *const *msgs,
			const void *const *attrs, const __u32 *alen,
			unsigned int n)
{
	struct kmq_sqsmsg m[KMQ_SQS_BATCH_MAX];
	struct kmq_sqsio io;
	unsigned int i;

	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		const struct kmq_out *o = msgs[i];

		m[i].body = (__u64)(uintptr_t)o->body;
		m[i].len = (__u32)o->len;
		m[i].attrs = (__u64)(uintptr_t)attrs[i];
		m[i].attr_len = alen[i];
		if (o->delay_s >= 0) {
			m[i].flags = KMQ_SQSMSG_DELAY;
			m[i].delay_s = (__u32)o->delay_s;
		}
		id_copy(m[i].group, o->group);
		id_copy(m[i].dedup, o->dedup);
	}
	memset(&io, 0, sizeof(io));
	io.msgs = (__u64)(uintptr_t)m;
	io.count = n;
	io.flags = KMQ_IO_NONBLOCK;	/* never waits for room */
	if (ioctl(q->fd, KMQ_IOC_SQS_SEND, &io) < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct kmq_out *o = msgs[i];

		o->status = m[i].status;
		if (!o->status && i >= io.done)
			o->status = -EAGAIN;	/* not reached */
		if (o->status)
			continue;
		o->id = m[i].id;
		o->seq = m[i].seq;
		o->duplicate = !!(m[i].flags & KMQ_SQSMSG_DUPLICATE);
	}
	return 0;
}

int kmq_kernel_sqs_recv(struct kmq *q, struct kmq_in *msgs, unsigned int n,
			int visibility_s, int64_t timeout_ns)
{
	struct kmq_sqsmsg m[KMQ_SQS_BATCH_MAX];
	struct kmq_sqsio io;
	unsigned int i;

	memset(m, 0, n * sizeof(m[0]));
	for (i = 0; i < n; i++) {
		m[i].body = (__u64)(uintptr_t)msgs[i].buf;
		m[i].len = msgs[i].cap > UINT32_MAX ? UINT32_MAX
						    : (__u32)msgs[i].cap;
		m[i].attrs = (__u64)(uintptr_t)msgs[i].abuf;
		m[i].attr_len = msgs[i].acap > UINT32_MAX ? UINT32_MAX
							  : (__u32)msgs[i].acap;
	}
	memset(&io, 0, sizeof(io));
	io.msgs = (__u64)(uintptr_t)m;
	io.count = n;
	io.flags = timeout_ns ? 0 : KMQ_IO_NONBLOCK;
	io.timeout_ns = timeout_ns < 0 ? -1 : timeout_ns;
	if (visibility_s >= 0) {
		io.flags |= KMQ_SQSIO_VISIBILITY;
		io.visibility_s = (__u32)visibility_s;
	}
	if (ioctl(q->fd, KMQ_IOC_SQS_RECV, &io) < 0)
		return -errno;
	if (io.done > n)
		return -EPROTO;
	for (i = 0; i < io.done; i++) {
		struct kmq_in *in = &msgs[i];

		in->status = m[i].status;
		in->len = m[i].len;
		in->attr_len = m[i].attr_len;
		in->receive_count = m[i].receive_count;
		in->sender_pid = m[i].sender_pid;
		in->sender_uid = m[i].sender_uid;
		in->id = m[i].id;
		in->receipt = m[i].receipt;
		in->sent_ns = m[i].sent_ns;
		in->first_receive_ns = m[i].first_receive_ns;
		in->seq = m[i].seq;
		memcpy(in->group, m[i].group, KMQ_GROUP_LEN);
		in->group[KMQ_GROUP_LEN - 1] = '\0';
	}
	return (int)io.done;
}

int kmq_kernel_sqs_settle(struct kmq *q, const uint64_t *receipts,
			  int *status, unsigned int n, int visibility_s)
{
	struct kmq_receipt r[KMQ_SQS_BATCH_MAX];
	struct kmq_receipts rs;
	unsigned int i;

	memset(r, 0, n * sizeof(r[0]));
	for (i = 0; i < n; i++) {
		r[i].receipt = receipts[i];
		r[i].visibility_s = visibility_s < 0 ? 0 : (__u32)visibility_s;
	}
	memset(&rs, 0, sizeof(rs));
	rs.receipts = (__u64)(uintptr_t)r;
	rs.count = n;
	if (ioctl(q->fd, visibility_s < 0 ? KMQ_IOC_SQS_DELETE
					  : KMQ_IOC_SQS_CHVIS, &rs) < 0)
		return -errno;
	if (status)
		for (i = 0; i < n; i++)
			status[i] = r[i].status;
	return (int)(rs.done < n ? rs.done : n);
}
