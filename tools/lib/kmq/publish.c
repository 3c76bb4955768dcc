// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Topics in libkmq: publishing (a struct kmq_pub record written in place
 * into the topic's inbox queue, include/kmq/topic.h) and the administrative
 * requests, which go to kmqd's socket as KMQ_WIRE_TOPIC on both backends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <kmq/topic.h>
#include "internal.h"

struct kmq_topic {
	struct kmq *inbox;
	bool fifo;
	char name[KMQ_NAME_LEN];	/* for the MessageId */
};

KMQ_EXPORT int kmq_topic_call(const char *request, char **reply)
{
	struct kmq_wire_conn c = { .fd = -1 };
	struct iovec iov;
	size_t n = 0;
	int err;

	if (reply)
		*reply = NULL;
	if (!request)
		return -EINVAL;
	err = kmq_wire_open(&c);
	if (err)
		return err;
	iov.iov_base = (void *)request;
	iov.iov_len = strlen(request) + 1;
	err = kmq_wire_call(&c, KMQ_WIRE_TOPIC, &iov, 1, &n, NULL, 0, NULL);
	if (reply && n && c.buf) {
		*reply = malloc(n + 1);
		if (*reply) {
			memcpy(*reply, c.buf, n);
			(*reply)[n] = 0;
		}
	}
	kmq_wire_close(&c);
	return err;
}

/* call - a request built from a format; the reply is dropped. */
static int call(const char *fmt, const char *a, const char *b)
{
	char req[512];
	int n = snprintf(req, sizeof(req), fmt, a, b ? b : "{}");

	if (n < 0 || (size_t)n >= sizeof(req))
		return -EINVAL;
	return kmq_topic_call(req, NULL);
}

static bool topic_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n > 5 && !strcmp(name + n - 5, ".fifo"))
		n -= 5;
	if (!n || strlen(name) > KMQ_TOPIC_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

KMQ_EXPORT int kmq_topic_create(const char *name, const struct kmq_qattr *inbox,
				const char *attributes_json)
{
	struct kmq_qattr a = { 0 };
	char in[KMQ_NAME_LEN], *req;
	bool made;
	int err, n;

	if (!name || !topic_name_ok(name) || kmq_topic_inbox(in, name))
		return -EINVAL;
	if (inbox)
		a = *inbox;
	if (!a.capacity)
		a.capacity = KMQ_TOPIC_CAPACITY;
	if (!a.max_msg_size)
		a.max_msg_size = KMQ_TOPIC_MSG_SIZE;
	a.flags &= ~(KMQ_CREATE_FIFO | KMQ_CREATE_EXCL);
	a.flags |= KMQ_CREATE_EXCL;
	err = kmq_create(in, &a);
	made = !err;
	if (err == -EEXIST) {
		a.flags &= ~KMQ_CREATE_EXCL;
		err = kmq_create(in, &a);	/* the same geometry: fine */
	}
	if (err)
		return err;
	n = asprintf(&req, "{\"op\":\"create-topic\",\"name\":\"%s\",\"attributes\":%s}",
		     name, attributes_json && *attributes_json ? attributes_json : "{}");
	if (n < 0) {
		err = -ENOMEM;
	} else {
		err = kmq_topic_call(req, NULL);
		free(req);
	}
	if (err && made)
		kmq_delete(in);
	return err;
}

KMQ_EXPORT int kmq_topic_delete(const char *name)
{
	char in[KMQ_NAME_LEN];
	int err;

	if (!name || !topic_name_ok(name) || kmq_topic_inbox(in, name))
		return -EINVAL;
	err = call("{\"op\":\"delete-topic\",\"name\":\"%s\"%s}", name, " ");
	if (err)
		return err;
	err = kmq_delete(in);
	return err == -ENOENT ? 0 : err;
}

KMQ_EXPORT int kmq_topic_open(const char *name, struct kmq_topic **out)
{
	char in[KMQ_NAME_LEN];
	struct kmq_topic *t;
	int err;

	if (!name || !out || !topic_name_ok(name) || kmq_topic_inbox(in, name))
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	err = kmq_open(in, KMQ_SEND, &t->inbox);
	if (err) {
		free(t);
		return err;
	}
	t->fifo = strlen(name) > 5 && !strcmp(name + strlen(name) - 5, ".fifo");
	snprintf(t->name, sizeof(t->name), "%s", name);
	*out = t;
	return 0;
}

KMQ_EXPORT void kmq_topic_close(struct kmq_topic *t)
{
	if (!t)
		return;
	kmq_close(t->inbox);
	free(t);
}

/* record_size - check @m and the size of its record; 0 or -errno. */
static int record_size(const struct kmq_pub_msg *m, size_t *size, size_t *alen)
{
	size_t s = m->subject ? strlen(m->subject) : 0;
	size_t g = m->group ? strlen(m->group) : 0;
	size_t d = m->dedup ? strlen(m->dedup) : 0;
	int err;

	if ((!m->body && m->len) || s > KMQ_PUB_SUBJECT_MAX ||
	    g > KMQ_PUB_ID_MAX || d > KMQ_PUB_ID_MAX ||
	    (m->subject && !s) || (m->nattrs && !m->attrs) ||
	    m->nattrs > KMQ_ATTR_MAX)
		return -EINVAL;
	*alen = 0;
	if (m->nattrs) {
		err = kmq_attrs_size(m->attrs, m->nattrs, alen);
		if (err)
			return err;
	}
	*size = sizeof(struct kmq_pub) + s + g + d + *alen + m->len;
	return 0;
}

static int publish_one(struct kmq_topic *t, struct kmq_pub_msg *m,
		       int64_t timeout_ns)
{
	struct kmq_pub h = { .magic = KMQ_PUB_MAGIC, .version = KMQ_PUB_VERSION };
	struct timespec ts;
	struct kmq_wbuf w;
	size_t size, alen;
	unsigned char *p;
	int err;

	err = record_size(m, &size, &alen);
	if (err)
		return err;
	/* FIFO topics need a group (and a deduplication id unless the topic
	 * has ContentBasedDeduplication: kmqd checks that); others take
	 * neither. */
	if (t->fifo ? !m->group || !*m->group : m->group || m->dedup)
		return -EINVAL;
	if (size > t->inbox->max_msg_size)
		return -EMSGSIZE;
	err = kmq_reserve(t->inbox, &w, timeout_ns);
	if (err)
		return err;
	h.subject_len = (__u16)(m->subject ? strlen(m->subject) : 0);
	h.group_len = (__u16)(m->group ? strlen(m->group) : 0);
	h.dedup_len = (__u16)(m->dedup ? strlen(m->dedup) : 0);
	h.attr_len = (__u32)alen;
	h.body_len = (__u32)m->len;
	clock_gettime(CLOCK_REALTIME, &ts);
	h.stamp = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	if (!h.stamp)
		h.stamp = 1;
	p = w.data;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, m->subject, h.subject_len);
	p += h.subject_len;
	memcpy(p, m->group, h.group_len);
	p += h.group_len;
	memcpy(p, m->dedup, h.dedup_len);
	p += h.dedup_len;
	if (alen && kmq_attrs_encode(m->attrs, m->nattrs, p, alen) != (int)alen) {
		kmq_abort(t->inbox, &w);
		return -EINVAL;
	}
	p += alen;
	if (m->len)
		memcpy(p, m->body, m->len);
	err = kmq_commit(t->inbox, &w, size, &m->id);
	if (err) {
		kmq_abort(t->inbox, &w);
		return err;
	}
	kmq_topic_message_id(m->message_id, t->name, m->id, h.stamp);
	return 0;
}

KMQ_EXPORT int kmq_publish(struct kmq_topic *t, struct kmq_pub_msg *msgs,
			   unsigned int n, int64_t timeout_ns)
{
	unsigned int i;

	if (!t || !msgs || !n || n > KMQ_PUBLISH_BATCH_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		msgs[i].status = publish_one(t, &msgs[i], timeout_ns);
		if (msgs[i].status)
			break;
	}
	for (unsigned int j = i + 1; j < n; j++)
		msgs[j].status = -ECANCELED;
	return i ? (int)i : msgs[0].status;
}
