// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * SQS semantics in libkmq (kmq.h, "SQS semantics"): arguments are checked
 * here, then the queue's owner (the backend) does the work, except sends
 * that can take the fast path: a mapped standard queue with no delay gets
 * attributes and body written in place in the slot, with no system call.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#define NSEC	1000000000LL

/* The backend into @be, or return -EOPNOTSUPP where it does not serve @op. */
#define BACKEND_OR_RETURN(be, op) do {					\
	int __err = kmq_backend_get(&(be));				\
	if (__err)							\
		return __err;						\
	if (!(be)->op)							\
		return -EOPNOTSUPP;					\
} while (0)

/* field_name_ok - a name field: NUL-terminated in KMQ_NAME_LEN bytes,
 * valid (or empty, when @empty_ok). */
static bool field_name_ok(const char *f, bool empty_ok)
{
	if (!memchr(f, 0, KMQ_NAME_LEN))
		return false;
	return (empty_ok && !f[0]) || kmq_name_valid(f);
}

KMQ_EXPORT int kmq_get_policy(const char *name, struct kmq_policy *p)
{
	const struct kmq_backend *be;

	if (!kmq_name_valid(name) || !p)
		return -EINVAL;
	BACKEND_OR_RETURN(be, get_policy);
	return be->get_policy(name, p);
}

KMQ_EXPORT int kmq_set_policy(const struct kmq_policy *p)
{
	const struct kmq_backend *be;

	if (!p || !field_name_ok(p->name, false) || !field_name_ok(p->dlq, true))
		return -EINVAL;
	BACKEND_OR_RETURN(be, set_policy);
	return be->set_policy(p);
}

KMQ_EXPORT int kmq_purge(const char *name)
{
	const struct kmq_backend *be;

	if (!kmq_name_valid(name))
		return -EINVAL;
	BACKEND_OR_RETURN(be, purge);
	return be->purge(name);
}

KMQ_EXPORT int kmq_move(const char *src, const char *dst, unsigned int max)
{
	const struct kmq_backend *be;

	if (!kmq_name_valid(src) || !kmq_name_valid(dst) || !max ||
	    max > INT_MAX)
		return -EINVAL;
	BACKEND_OR_RETURN(be, move);
	return be->move(src, dst, max);
}

/* id_ok - a group or deduplication id: NULL (none), or 1..127 printable
 * ASCII characters without space, as SQS takes them. */
static bool id_ok(const char *s)
{
	size_t i;

	if (!s)
		return true;
	for (i = 0; s[i]; i++)
		if (i >= KMQ_GROUP_LEN - 1 || s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return i > 0;
}

/* out_check - the rules kmq_send_msgs() checks for @m before any sending;
 * the size its attributes encode to in *@alen. */
static int out_check(struct kmq *q, const struct kmq_out *m, size_t *alen)
{
	int err;

	if ((!m->body && m->len) || m->delay_s < -1 ||
	    m->delay_s > KMQ_DELAY_MAX || !id_ok(m->group) || !id_ok(m->dedup))
		return -EINVAL;
	err = kmq_attrs_size(m->attrs, m->nattrs, alen);
	if (err)
		return err;
	if (m->len > q->max_msg_size || *alen > q->max_msg_size - m->len)
		return -EMSGSIZE;
	return 0;
}

KMQ_EXPORT int kmq_send_msgs(struct kmq *q, struct kmq_out *msgs,
			     unsigned int n)
{
	struct kmq_out *slow[KMQ_SQS_BATCH_MAX];
	void *abuf[KMQ_SQS_BATCH_MAX];
	__u32 alen[KMQ_SQS_BATCH_MAX];
	unsigned int i, nslow = 0, who = 0;
	int sent = 0, err = 0;
	__u32 pmax = 0;
	bool fast;

	if (!q || !msgs || !n || n > KMQ_SQS_BATCH_MAX)
		return -EINVAL;
	if (!(q->flags & KMQ_SEND))
		return -EPERM;
	/* A mapped queue is a standard one (FIFO queues are not mapped). The
	 * kernel checks what goes through it; what is written in place here
	 * must fit the policy's size (mirrored next to the delay; 0: not
	 * mirrored, the queue's max_msg_size, checked by out_check()). */
	fast = q->mapped && !kmq_load(&q->fast.v.hdr->policy_delay_s);
	if (fast)
		pmax = kmq_load(&q->fast.v.hdr->policy_max_msg_size);
	for (i = 0; i < n; i++) {
		struct kmq_out *m = &msgs[i];
		size_t size;
		__u64 id = 0;

		m->duplicate = 0;
		m->id = 0;
		m->seq = 0;
		m->status = out_check(q, m, &size);
		if (m->status)
			continue;
		if (fast && m->delay_s <= 0 && !m->group && !m->dedup) {
			if (pmax && m->len + size > pmax) {
				m->status = -EMSGSIZE;
				continue;
			}
			m->status = kmq_fast_send_attrs(&q->fast, m->attrs,
							m->nattrs, (__u32)size,
							m->body, m->len, &id,
							&who);
			m->id = id;
			sent += !m->status;
			continue;
		}
		abuf[nslow] = NULL;
		if (size) {
			abuf[nslow] = malloc(size);
			if (!abuf[nslow]) {
				m->status = -ENOMEM;
				continue;
			}
			kmq_attrs_encode(m->attrs, m->nattrs, abuf[nslow], size);
		}
		alen[nslow] = (__u32)size;
		slow[nslow++] = m;
	}
	if (who)
		q->be->wake(q, who);
	if (nslow) {
		err = q->be->sqs_send ? q->be->sqs_send(q, slow,
				(const void *const *)abuf, alen, nslow)
				      : -EOPNOTSUPP;
		for (i = 0; i < nslow; i++) {
			if (err)
				slow[i]->status = err;
			sent += !slow[i]->status;
			free(abuf[i]);
		}
	}
	/* Nothing could be tried at all: say why, as one error. */
	if (!sent && err && nslow == n)
		return err;
	return sent;
}

KMQ_EXPORT int kmq_receive(struct kmq *q, struct kmq_in *msgs, unsigned int n,
			   int visibility_s, int64_t timeout_ns)
{
	unsigned int i;

	if (!q || !msgs || !n || n > KMQ_SQS_BATCH_MAX || visibility_s < -1 ||
	    visibility_s > KMQ_VISIBILITY_MAX)
		return -EINVAL;
	if (!(q->flags & KMQ_RECV))
		return -EPERM;
	for (i = 0; i < n; i++)
		if ((!msgs[i].buf && msgs[i].cap) ||
		    (!msgs[i].abuf && msgs[i].acap))
			return -EINVAL;
	if (!q->be->sqs_recv)
		return -EOPNOTSUPP;
	if (timeout_ns == KMQ_WAIT_QUEUE) {
		struct kmq_policy p;
		int err = q->be->get_policy ? q->be->get_policy(q->name, &p)
					    : -EOPNOTSUPP;

		if (err)
			return err;
		timeout_ns = (int64_t)p.wait_s * NSEC;
	}
	return q->be->sqs_recv(q, msgs, n, visibility_s, timeout_ns);
}

static int settle(struct kmq *q, const uint64_t *receipts, int *status,
		  unsigned int n, int visibility_s)
{
	if (!q || !receipts || !n || n > KMQ_SQS_BATCH_MAX)
		return -EINVAL;
	if (!(q->flags & KMQ_RECV))
		return -EPERM;
	if (!q->be->sqs_settle)
		return -EOPNOTSUPP;
	return q->be->sqs_settle(q, receipts, status, n, visibility_s);
}

KMQ_EXPORT int kmq_delete_msgs(struct kmq *q, const uint64_t *receipts,
			       int *status, unsigned int n)
{
	return settle(q, receipts, status, n, -1);
}

KMQ_EXPORT int kmq_change_visibility(struct kmq *q, const uint64_t *receipts,
				     unsigned int visibility_s, int *status,
				     unsigned int n)
{
	if (visibility_s > KMQ_VISIBILITY_MAX)
		return -EINVAL;
	return settle(q, receipts, status, n, (int)visibility_s);
}
