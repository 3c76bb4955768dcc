// SPDX-License-Identifier: GPL-2.0
/*
 * Topic fan-out: drain a topic's inbox (include/kmq/topic.h), match every
 * record against each subscription's filter policy, and deliver it. A
 * record stays borrowed from the inbox until every subscription has it, so
 * a kmqd killed mid-way gets it back from the queue's crash repair and
 * delivers it again (at least once; MessageId is the same both times). A
 * subscriber queue that is full holds the line: the topic retries after 1
 * ms, without redelivering to the subscriptions that have the record.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <openssl/evp.h>
#include "internal.h"
#include "topic.h"
#include "endpoint.h"
#include "probes.h"

#define DRAIN_BUDGET	512		/* records per loop turn */
#define RETRY_NS	1000000ULL	/* a full subscriber queue */

/* ---- queues on either backend ----------------------------------------------- */

/* tq_fast - the fast path onto @e, and the store's queue on shm (*@sq). */
static struct kmq_fast *tq_fast(struct kmqd *d, struct tq *e, struct queue **sq)
{
	*sq = NULL;
	if (d->shm) {
		*sq = store_find(d, e->name);
		return *sq ? queue_fast(*sq) : NULL;
	}
	if (!e->k && kmq_open(e->name, KMQ_SEND | KMQ_RECV, &e->k))
		return NULL;
	if (!e->k->mapped)
		return NULL;
	return &e->k->fast;
}

static void tq_wake(struct tq *e, struct queue *sq, unsigned int who)
{
	if (!who)
		return;
	if (sq)
		store_wake(sq, who);
	else if (e->k)
		e->k->be->wake(e->k, who);
}

void tq_close(struct tq *e)
{
	kmq_close(e->k);
	e->k = NULL;
}

int tq_info(struct kmqd *d, const char *name, struct kmq_info *info)
{
	struct queue *q;

	if (!d->shm)
		return kmq_info(name, info);
	q = store_find(d, name);
	if (!q)
		return -ENOENT;
	store_info(q, info);
	return 0;
}

void deliver_sub_gone(struct sub *s)
{
	tq_close(&s->q);
	endpoint_free(s->ep);
	s->ep = NULL;
}

int deliver_to_queue(struct kmqd *d, const char *name, const void *body,
		     size_t len)
{
	struct tq e = { 0 };
	struct queue *sq;
	struct kmq_fast *f;
	unsigned int who = 0;
	int err;

	if (!kmq_name_valid(name))
		return -EINVAL;
	snprintf(e.name, sizeof(e.name), "%s", name);
	f = tq_fast(d, &e, &sq);
	if (!f) {
		tq_close(&e);
		return -ENOENT;
	}
	err = kmq_fast_send_attrs(f, NULL, 0, 0, body, len, NULL, &who);
	tq_wake(&e, sq, who);
	tq_close(&e);
	return err;
}

/* ---- records ------------------------------------------------------------------ */

struct rec {
	const char *subject, *group, *dedup;
	size_t subject_len, group_len, dedup_len;
	const unsigned char *abuf;
	size_t alen;
	struct kmq_attr attrs[KMQ_ATTR_MAX];
	unsigned int nattrs;
	const void *body;
	size_t len;
	uint64_t id, sent_ns;
	char ddkey[KMQ_PUB_ID_MAX + 1];	/* FIFO topics: the deduplication id */
};

/* parse - check a record copied out of the slot (topic.h's rules). */
static int parse(const unsigned char *p, size_t len, struct rec *r)
{
	struct kmq_pub h;
	size_t need;
	int n;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	if (h.magic != KMQ_PUB_MAGIC || h.version != KMQ_PUB_VERSION ||
	    h.flags || h.reserved0 || h.reserved ||
	    h.subject_len > KMQ_PUB_SUBJECT_MAX || h.group_len > KMQ_PUB_ID_MAX ||
	    h.dedup_len > KMQ_PUB_ID_MAX)
		return -EINVAL;
	need = sizeof(h) + (size_t)h.subject_len + h.group_len + h.dedup_len +
	       h.attr_len + h.body_len;
	if (need != len)
		return -EINVAL;
	p += sizeof(h);
	r->subject = (const char *)p;
	r->subject_len = h.subject_len;
	p += h.subject_len;
	r->group = (const char *)p;
	r->group_len = h.group_len;
	p += h.group_len;
	r->dedup = (const char *)p;
	r->dedup_len = h.dedup_len;
	p += h.dedup_len;
	r->abuf = p;
	r->alen = h.attr_len;
	n = kmq_attrs_decode(p, h.attr_len, r->attrs, KMQ_ATTR_MAX);
	if (n < 0)
		return n;
	r->nattrs = (unsigned int)n;
	p += h.attr_len;
	r->body = p;
	r->len = h.body_len;
	return 0;
}

/* message_id - a UUID-shaped id from the inbox message: the same when a
 * record is delivered again after a crash. */
static void message_id(const struct topic *t, const struct rec *r, char out[37])
{
	uint64_t h = 1469598103934665603ULL;
	const char *c;

	for (c = t->name; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	h ^= r->sent_ns;
	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx",
		 (unsigned int)(r->id >> 32), (unsigned int)(r->id >> 16) & 0xffff,
		 (unsigned int)r->id & 0xfff,
		 (unsigned int)(0x8000 | ((h >> 48) & 0x3fff)),
		 (unsigned long long)(h & 0xffffffffffffULL));
}

static void timestamp(uint64_t ns, char out[64])
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned int)(ns / 1000000 % 1000));
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_object *base64(const unsigned char *p, size_t n)
{
	size_t i, o = 0;
	char *s = malloc(4 * ((n + 2) / 3) + 1);
	json_object *j;

	if (!s)
		return NULL;
	for (i = 0; i + 2 < n; i += 3) {
		s[o++] = b64[p[i] >> 2];
		s[o++] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		s[o++] = b64[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		s[o++] = b64[p[i + 2] & 63];
	}
	if (i < n) {
		s[o++] = b64[p[i] >> 2];
		if (i + 1 < n) {
			s[o++] = b64[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
			s[o++] = b64[(p[i + 1] & 15) << 2];
		} else {
			s[o++] = b64[(p[i] & 3) << 4];
			s[o++] = '=';
		}
		s[o++] = '=';
	}
	s[o] = 0;
	j = json_object_new_string_len(s, (int)o);
	free(s);
	return j;
}

/* envelope - the SNS-style JSON notification for @r; malloc'd. */
static char *envelope(const struct topic *t, const struct sub *s,
		      const struct rec *r)
{
	json_object *o = json_object_new_object(), *ma;
	char id[37], ts[64];
	unsigned int i;
	char *out;

	if (!o)
		return NULL;
	message_id(t, r, id);
	timestamp(r->sent_ns, ts);
	json_object_object_add(o, "Type", json_object_new_string("Notification"));
	json_object_object_add(o, "MessageId", json_object_new_string(id));
	json_object_object_add(o, "TopicArn", json_object_new_string(t->arn));
	if (r->subject_len)
		json_object_object_add(o, "Subject",
			json_object_new_string_len(r->subject, (int)r->subject_len));
	json_object_object_add(o, "Message",
			       json_object_new_string_len(r->body, (int)r->len));
	json_object_object_add(o, "Timestamp", json_object_new_string(ts));
	if (r->group_len)
		json_object_object_add(o, "MessageGroupId",
			json_object_new_string_len(r->group, (int)r->group_len));
	if (r->dedup_len)
		json_object_object_add(o, "MessageDeduplicationId",
			json_object_new_string_len(r->dedup, (int)r->dedup_len));
	json_object_object_add(o, "UnsubscribeURL", json_object_new_string(s->arn));
	if (r->nattrs) {
		ma = json_object_new_object();
		for (i = 0; i < r->nattrs; i++) {
			const struct kmq_attr *a = &r->attrs[i];
			json_object *e = json_object_new_object();
			char name[256], type[256];
			bool bin = a->type_len >= 6 && !memcmp(a->type, "Binary", 6);

			memcpy(name, a->name, a->name_len);
			name[a->name_len] = 0;
			memcpy(type, a->type, a->type_len);
			type[a->type_len] = 0;
			json_object_object_add(e, "Type", json_object_new_string(type));
			json_object_object_add(e, "Value", bin ?
				base64(a->value, a->len) :
				json_object_new_string_len(a->value, (int)a->len));
			json_object_object_add(ma, name, e);
		}
		json_object_object_add(o, "MessageAttributes", ma);
	}
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

/* ---- FIFO topics: deduplication ----------------------------------------------- */

#define DEDUP_NS	(300ULL * 1000000000ULL)	/* as SNS and SQS */

struct dedup {
	uint64_t until;
	struct dedup *next;
	char key[KMQ_PUB_ID_MAX + 1];
};

static unsigned int dd_hash(const char *k)
{
	unsigned int h = 2166136261U;

	while (*k)
		h = (h ^ (unsigned char)*k++) * 16777619U;
	return h;
}

void dedup_free(struct topic *t)
{
	unsigned int i;

	for (i = 0; i < t->dd_size; i++)
		while (t->dd[i]) {
			struct dedup *e = t->dd[i];

			t->dd[i] = e->next;
			free(e);
		}
	free(t->dd);
	t->dd = NULL;
	t->dd_size = t->ndd = 0;
}

/* dedup_seen - was @key accepted in the last 5 minutes? If not, it is now. */
static bool dedup_seen(struct topic *t, const char *key)
{
	uint64_t now = mono_ns();
	struct dedup **p, *e;

	if (!t->dd) {
		t->dd_size = 4096;
		t->dd = calloc(t->dd_size, sizeof(*t->dd));
		if (!t->dd) {
			t->dd_size = 0;
			return false;
		}
	}
	for (p = &t->dd[dd_hash(key) % t->dd_size]; (e = *p);) {
		if (e->until <= now) {		/* expired: drop on the way */
			*p = e->next;
			free(e);
			t->ndd--;
			continue;
		}
		if (!strcmp(e->key, key))
			return true;
		p = &e->next;
	}
	e = calloc(1, sizeof(*e));
	if (e) {
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->until = now + DEDUP_NS;
		*p = e;
		t->ndd++;
	}
	return false;
}

/* fifo_admit - a FIFO topic's checks on a new record: a group id, and a
 * deduplication id (given, or the SHA-256 of the body with
 * ContentBasedDeduplication). 0, -EINVAL (dropped), or -EEXIST (a
 * duplicate). */
static int fifo_admit(struct topic *t, struct rec *r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (!r->group_len)
		return -EINVAL;
	if (r->dedup_len) {
		memcpy(r->ddkey, r->dedup, r->dedup_len);
		r->ddkey[r->dedup_len] = 0;
	} else if (t->cbd && EVP_Digest(r->body, r->len, md, &n, EVP_sha256(), NULL)) {
		for (i = 0; i < n && 2 * i + 2 < sizeof(r->ddkey); i++)
			snprintf(r->ddkey + 2 * i, 3, "%02x", md[i]);
	} else {
		return -EINVAL;
	}
	return dedup_seen(t, r->ddkey) ? -EEXIST : 0;
}

/* ---- delivery ------------------------------------------------------------------ */

/* to_fifo_queue - a FIFO subscriber queue: not mapped, so through its
 * owner (kmq_send_msgs), with the record's group and deduplication id, so
 * that the queue's own 5-minute window also drops a record that a kmqd
 * crash made kmqd deliver twice. kmqd's shm store serves no FIFO queues
 * yet: -EOPNOTSUPP there. */
static int to_fifo_queue(struct kmqd *d, struct topic *t, struct sub *s,
			 const struct rec *r)
{
	char group[KMQ_PUB_ID_MAX + 1];
	struct kmq_out o = { .delay_s = -1 };
	char *env = NULL;
	int n;

	if (d->shm)
		return -EOPNOTSUPP;
	if (!s->q.k && kmq_open(s->q.name, KMQ_SEND, &s->q.k))
		return -ENOENT;
	memcpy(group, r->group, r->group_len);
	group[r->group_len] = 0;
	o.group = group;
	o.dedup = r->ddkey;
	if (s->raw) {
		o.body = r->body;
		o.len = r->len;
		o.attrs = r->attrs;
		o.nattrs = r->nattrs;
	} else {
		env = envelope(t, s, r);
		if (!env)
			return -ENOMEM;
		o.body = env;
		o.len = strlen(env);
	}
	n = kmq_send_msgs(s->q.k, &o, 1);
	free(env);
	if (n < 0)
		return n;
	return o.status;
}

/* to_queue - 0, -EAGAIN (full: try again), or another -errno (counted as
 * failed: a missing queue, a message too large for it). */
static int to_queue(struct kmqd *d, struct topic *t, struct sub *s,
		    const struct rec *r)
{
	struct kmq_fast *f = s->cf;
	unsigned int who = 0;
	char *env = NULL;
	size_t alen = 0;
	int err;

	if (s->fifo_q)
		return to_fifo_queue(d, t, s, r);
	if (!f)
		return -ENOENT;
	if (s->raw) {
		if (r->nattrs && kmq_attrs_size(r->attrs, r->nattrs, &alen))
			return -EINVAL;
		err = kmq_fast_send_attrs(f, r->attrs, r->nattrs, (__u32)alen,
					  r->body, r->len, NULL, &who);
	} else {
		env = envelope(t, s, r);
		if (!env)
			return -ENOMEM;
		err = kmq_fast_send_attrs(f, NULL, 0, 0, env, strlen(env), NULL,
					  &who);
		free(env);
	}
	s->cwho |= who;		/* woken once, at the end of the drain */
	return err;
}

static void env_add(char ***env, unsigned int *n, const char *name,
		    size_t nlen, const char *val, size_t vlen)
{
	char **p = realloc(*env, (*n + 2) * sizeof(char *));
	char *e;
	size_t i;

	if (!p)
		return;
	*env = p;
	e = malloc(nlen + vlen + 2);
	if (!e)
		return;
	for (i = 0; i < nlen; i++) {
		char c = name[i];

		e[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') ? c : '_';
	}
	e[nlen] = '=';
	memcpy(e + nlen + 1, val, vlen);
	e[nlen + 1 + vlen] = 0;
	p[(*n)++] = e;
	p[*n] = NULL;
}

/* to_endpoint - hand @r to @s's endpoint (http, https, exec): from now on
 * its retries are endpoint.c's. */
static int to_endpoint(struct topic *t, struct sub *s, const struct rec *r)
{
	char id[37], *env_json = NULL, **env = NULL, name[300];
	unsigned int n = 0, i;
	int err;

	if (!s->ep)
		return -ENODEV;
	message_id(t, r, id);
	if (s->proto == PROTO_EXEC) {
		env_add(&env, &n, "KMQ_MESSAGE_ID", 14, id, strlen(id));
		env_add(&env, &n, "KMQ_TOPIC_ARN", 13, t->arn, strlen(t->arn));
		env_add(&env, &n, "KMQ_SUBSCRIPTION_ARN", 20, s->arn, strlen(s->arn));
		if (r->subject_len)
			env_add(&env, &n, "KMQ_SUBJECT", 11, r->subject, r->subject_len);
		for (i = 0; i < r->nattrs; i++) {
			const struct kmq_attr *a = &r->attrs[i];

			if (a->type_len >= 6 && !memcmp(a->type, "Binary", 6))
				continue;
			snprintf(name, sizeof(name), "KMQ_ATTR_%.*s", (int)a->name_len, a->name);
			env_add(&env, &n, name, strlen(name), a->value, a->len);
		}
	}
	if (s->raw)
		return endpoint_submit(s->ep, r->body, r->len, id, env, r->id, r->sent_ns);
	env_json = envelope(t, s, r);
	if (!env_json)
		return -ENOMEM;
	err = endpoint_submit(s->ep, env_json, strlen(env_json), id, env, r->id,
			      r->sent_ns);
	free(env_json);
	return err;
}

/* fan_out - deliver @r to every subscription of @t that does not have it
 * yet. -EAGAIN when one must be tried again (its queue is full). */
static int fan_out(struct kmqd *d, struct topic *t, const struct rec *r)
{
	int again = 0;
	struct sub *s;

	for (s = t->subs; s; s = s->next) {
		int err;

		if (s->done)
			continue;
		if (!filter_match(s->filter, r->attrs, r->nattrs, r->body, r->len)) {
			s->filtered++;
			t->filtered++;
			s->done = true;
			continue;
		}
		switch (s->proto) {
		case PROTO_QUEUE:
			err = to_queue(d, t, s, r);
			break;
		default:
			err = to_endpoint(t, s, r);
			if (!err) {	/* endpoint.c counts the outcome */
				s->done = true;
				continue;
			}
			break;
		}
		if (err == -EAGAIN) {
			again = -EAGAIN;
			continue;
		}
		s->done = true;
		if (err) {
			if (!s->failed)
				log_warn("topic %s: delivery to %s %s failed: %s",
					 t->name, s->proto == PROTO_QUEUE ? "queue" : "endpoint",
					 s->endpoint, strerror(-err));
			s->failed++;
			t->failed++;
		} else {
			s->delivered++;
			t->delivered++;
			KMQD_PROBE4(deliver, t->name, r->id, r->sent_ns, (uint32_t)r->len);
		}
	}
	return again;
}

static void on_retry(struct kmqd *d, void *arg)
{
	deliver_drain(d, arg);
}

static void on_inbox(struct kmqd *d, void *arg, uint32_t revents)
{
	deliver_drain(d, arg);
}

void deliver_drain(struct kmqd *d, struct topic *t)
{
	unsigned char *copy = NULL;
	struct queue *iq;
	struct kmq_fast *f;
	unsigned int budget = DRAIN_BUDGET;
	struct sub *s;
	bool fresh;

	f = tq_fast(d, &t->inbox, &iq);
	if (!f)
		return;
	copy = malloc(f->v.max_msg_size);
	if (!copy)
		return;
	for (s = t->subs; s; s = s->next)
		if (s->proto == PROTO_QUEUE) {
			s->cf = tq_fast(d, &s->q, &s->cq);
			s->cwho = 0;
		}
	while (budget--) {
		unsigned int who = 0;
		struct rec r;
		int err;

		fresh = !t->busy;
		if (!t->busy) {
			err = kmq_fast_borrow(f, &t->cur, &who);
			tq_wake(&t->inbox, iq, who);
			if (err == -EAGAIN) {
				/* Empty: ask the next publisher to wake us,
				 * then look again (the need-wakeup protocol). */
				if (d->shm ? !(kmq_fast_arm(f, KMQ_READABLE) & KMQ_READABLE) :
				    !(kmq_prepare_wait(t->inbox.k, KMQ_READABLE) & KMQ_READABLE))
					break;
				continue;
			}
			if (err)
				break;
			t->busy = true;
			t->published++;
			KMQD_PROBE4(publish, t->name, t->cur.id, t->cur.sent_ns, t->cur.len);
			for (s = t->subs; s; s = s->next)
				s->done = false;
		}
		memcpy(copy, t->cur.data, t->cur.len);
		if (parse(copy, t->cur.len, &r)) {
			if (!t->corrupt++)
				log_warn("topic %s: dropped a record that is not a kmq_pub",
					 t->name);
		} else if (t->fifo && (fresh ? (t->ddok = fifo_admit(t, &r)) : t->ddok)) {
			if (t->ddok == -EEXIST)
				t->deduplicated++;
			else if (!t->corrupt++)
				log_warn("topic %s: dropped a record without MessageGroupId or MessageDeduplicationId",
					 t->name);
		} else {
			r.id = t->cur.id;
			r.sent_ns = t->cur.sent_ns;
			if (fan_out(d, t, &r) == -EAGAIN) {
				timer_arm(d, &t->retry, mono_ns() + RETRY_NS);
				break;
			}
		}
		who = 0;
		kmq_fast_release(f, &t->cur, &who);
		tq_wake(&t->inbox, iq, who);
		t->busy = false;
	}
	for (s = t->subs; s; s = s->next)
		if (s->proto == PROTO_QUEUE && s->cwho) {
			tq_wake(&s->q, s->cq, s->cwho);
			s->cwho = 0;
		}
	if (budget == (unsigned int)-1)	/* more to do: after the others */
		timer_arm(d, &t->retry, mono_ns());
	free(copy);
}

int deliver_start(struct kmqd *d, struct topic *t)
{
	struct queue *iq;
	struct kmq_fast *f;
	int err;

	kmq_topic_inbox(t->inbox.name, t->name);
	t->retry.cb = on_retry;
	t->retry.arg = t;
	f = tq_fast(d, &t->inbox, &iq);
	if (!f)
		return -ENOENT;
	if (!d->shm && !t->inbox.watched) {
		err = kmqd_loop_add(d, kmq_fd(t->inbox.k), EPOLLIN, on_inbox, t);
		if (err)
			return err;
		t->inbox.watched = true;
	}
	deliver_drain(d, t);
	return 0;
}

void deliver_stop(struct kmqd *d, struct topic *t)
{
	struct sub *s;

	timer_cancel(d, &t->retry);
	/* A record in delivery stays borrowed: the queue's crash repair gives
	 * it to the next kmqd (kmqd stopping), or the inbox goes with it
	 * (delete-topic). */
	t->busy = false;
	if (t->inbox.watched) {
		kmqd_loop_del(d, kmq_fd(t->inbox.k));
		t->inbox.watched = false;
	}
	tq_close(&t->inbox);
	for (s = t->subs; s; s = s->next)
		deliver_sub_gone(s);
}
