// SPDX-License-Identifier: GPL-2.0
/*
 * Topic fan-out: drain a topic's inbox (include/kmq/topic.h), match every
 * record against each subscription's filter policy, and deliver it.
 *
 * The window. kmqd borrows up to wcap records from the inbox at a time
 * (records [base, end), copied out of their slots) and every subscription
 * walks them in order with its own cursor (sub.pos). A slot goes back to
 * the inbox only once every subscription's cursor is past it, and slots go
 * back in order: so a kmqd killed at any point (kill -9 included) gets
 * every record that some subscription may lack back from the queue's crash
 * repair and delivers it again (at least once; the MessageId is the same
 * both times). Nothing a publisher was told is published lives only in
 * kmqd's memory.
 *
 * A full subscriber queue holds only its own subscription: its cursor stays
 * on the record and retries it by the subscription's DeliveryPolicy (by
 * default 50 retries 1 ms apart, then 50 from 1 to 20 s apart), while the
 * other subscriptions go on through the window; a FIFO subscription so
 * keeps its order, and nobody else waits for it until the window is full
 * (then the inbox fills and publishers wait: back-pressure, never loss).
 * When the retries run out, and at once for a delivery that cannot succeed
 * (the queue is gone, the message is too large for it, the subscription's
 * owner may no longer send to the queue that has the name now: kmqd sends
 * as root and checks the owner's right itself), the
 * record goes to the subscription's dead-letter queue (RedrivePolicy), or
 * is dropped, counted (kmq.Failed, kmq.Dropped) and logged without one.
 * Endpoints (http, https, exec) take the record into their own job queue
 * (endpoint.c) and the cursor moves on at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <grp.h>
#include <pwd.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "internal.h"
#include "topic.h"
#include "endpoint.h"
#include "probes.h"

#define DRAIN_BUDGET	512		/* records per loop turn */
#define WINDOW_MAX	128		/* records borrowed at once */
#define MIN_RETRY_NS	1000000ULL	/* a "no delay" retry of a full queue */
#define RECHECK_NS	20000000ULL	/* kernel: is a queue handle stale? */
#define NS		1000000000ULL
#define KEEP_COPY	4096		/* copy buffers kept per window entry */

/* ---- queues on either backend ----------------------------------------------- */

/* tq_open - kernel backend: @e's handle, opened with @flags when it has
 * none, and closed first when @e's name no longer names the queue it is on
 * (deleted, or deleted and made again): looked at every RECHECK_NS, since
 * kmq.ko lets a handle on a deleted queue go on sending into it. Not a
 * topic's inbox (watched): its borrowed records belong to its handle. */
static int tq_open(struct tq *e, unsigned int flags)
{
	struct kmq_info info;
	uint64_t now = mono_ns();
	int err;

	if (e->k && !e->watched && now - e->checked_ns >= RECHECK_NS) {
		err = kmq_info(e->name, &info);
		if (err || info.created_ns != e->created_ns)
			tq_close(e);
		else
			e->checked_ns = now;
	}
	if (e->k)
		return 0;
	err = kmq_open(e->name, flags, &e->k);
	if (err)
		return err;
	if (kmq_qinfo(e->k, &info) == 0)
		e->created_ns = info.created_ns;
	e->checked_ns = now;
	return 0;
}

/* tq_fast - the fast path onto @e, and the store's queue on shm (*@sq). */
static struct kmq_fast *tq_fast(struct kmqd *d, struct tq *e, struct queue **sq)
{
	*sq = NULL;
	if (d->shm) {
		*sq = store_find(d, e->name);
		return *sq ? queue_fast(*sq) : NULL;
	}
	if (tq_open(e, KMQ_SEND | KMQ_RECV))
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
	if (s->t && s->t->d)
		timer_cancel(s->t->d, &s->retry);
	tq_close(&s->q);
	endpoint_free(s->ep);
	s->ep = NULL;
}

static bool fifo_name(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".fifo");
}

/* fifo_send - one message into FIFO queue @e through its owner: kmq.ko
 * (kmq_send_msgs) or kmqd's own SQS send (sqs.c). @abuf: encoded
 * attributes. 0 (a duplicate too), -EAGAIN (full) or -errno. */
static int fifo_send(struct kmqd *d, struct tq *e, const void *body,
		     size_t len, const unsigned char *abuf, size_t alen,
		     const char *group, const char *dedup)
{
	struct kmq_attr attrs[KMQ_ATTR_MAX];
	struct kmq_out o = { .delay_s = -1 };
	struct kmq_sqsmsg m;
	struct queue *q;
	int n, err;

	if (strlen(group) >= KMQ_GROUP_LEN || strlen(dedup) >= KMQ_GROUP_LEN)
		return -EINVAL;
	if (d->shm) {
		q = store_find(d, e->name);
		if (!q)
			return -ENOENT;
		if (!sqs_fifo_queue(q))
			return -EINVAL;
		memset(&m, 0, sizeof(m));
		m.len = (__u32)len;
		m.attr_len = (__u32)alen;
		snprintf(m.group, sizeof(m.group), "%s", group);
		snprintf(m.dedup, sizeof(m.dedup), "%s", dedup);
		return sqs_send_local(q, &m, abuf, body);
	}
	err = tq_open(e, KMQ_SEND);
	if (err)
		return err;
	if (alen) {
		n = kmq_attrs_decode(abuf, alen, attrs, KMQ_ATTR_MAX);
		if (n < 0)
			return n;
		o.attrs = attrs;
		o.nattrs = (unsigned int)n;
	}
	o.body = body;
	o.len = len;
	o.group = group;
	o.dedup = dedup;
	n = kmq_send_msgs(e->k, &o, 1);
	if (n < 0)
		return n;
	return o.status;
}

/* owner_may_send - may a subscription of @uid send to queue @info, by its
 * mode, as kmq.ko and topic.c's subscribe judge a sender? kmqd sends as
 * root: without this, a queue deleted after subscribing and made again by
 * another user under the same name would get the topic's messages. Group
 * membership comes from the user database (only when the mode needs it). */
static bool owner_may_send(uid_t uid, const struct kmq_info *info)
{
	struct passwd pw, *pp = NULL;
	gid_t groups[64];
	char buf[4096];
	int n = 64, i;

	if (uid == 0)
		return true;
	if (uid == info->uid)
		return info->mode & 0200;
	if (info->mode & 02)
		return true;
	if (!(info->mode & 020))
		return false;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pp) || !pp)
		return false;
	if (pp->pw_gid == info->gid)
		return true;
	if (getgrouplist(pp->pw_name, pp->pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == info->gid)
			return true;
	return false;
}

/* queue_ok - may @owner send to the queue named @name now: 0, -ENOENT or
 * -EACCES. */
static int queue_ok(struct kmqd *d, uid_t owner, const char *name)
{
	struct kmq_info info;
	int err = tq_info(d, name, &info);

	if (err)
		return err;
	return owner_may_send(owner, &info) ? 0 : -EACCES;
}

/* sub_queue_ok - queue_ok for @s's queue, looked at again every RECHECK_NS
 * and (shm) whenever the name leads to another queue of the store. */
static int sub_queue_ok(struct kmqd *d, struct sub *s)
{
	uint64_t now = mono_ns();
	struct queue *q = NULL;

	if (d->shm) {
		q = store_find(d, s->q.name);
		if (!q)
			return -ENOENT;
	}
	if (s->perm_ns && now - s->perm_ns < RECHECK_NS && q == s->perm_q)
		return s->perm;
	s->perm = queue_ok(d, s->owner, s->q.name);
	s->perm_ns = now;
	s->perm_q = q;
	return s->perm;
}

/* send_to - one message into queue @name by name (a DLQ): with encoded
 * attributes @abuf (@alen bytes; NULL: none), on a FIFO queue with @group
 * ("kmq-dlq" when NULL or "") and deduplication id @dedup. */
static int send_to(struct kmqd *d, uid_t owner, const char *name,
		   const void *body, size_t len, const unsigned char *abuf,
		   size_t alen, const char *group, const char *dedup)
{
	struct kmq_attr attrs[KMQ_ATTR_MAX];
	struct tq e = { 0 };
	struct queue *sq;
	struct kmq_fast *f;
	unsigned int who = 0;
	int n = 0, err;

	if (!kmq_name_valid(name))
		return -EINVAL;
	err = queue_ok(d, owner, name);
	if (err)
		return err;
	snprintf(e.name, sizeof(e.name), "%s", name);
	if (fifo_name(name)) {
		err = fifo_send(d, &e, body, len, abuf, alen,
				group && *group ? group : "kmq-dlq", dedup);
		tq_close(&e);
		return err;
	}
	if (alen) {
		n = kmq_attrs_decode(abuf, alen, attrs, KMQ_ATTR_MAX);
		if (n < 0)
			return n;
	}
	f = tq_fast(d, &e, &sq);
	if (!f) {
		tq_close(&e);
		return -ENOENT;
	}
	err = len + alen > f->v.max_msg_size ? -EMSGSIZE :
	      kmq_fast_send_attrs(f, attrs, (unsigned int)n, (__u32)alen, body,
				  len, NULL, &who);
	tq_wake(&e, sq, who);
	tq_close(&e);
	return err;
}

int deliver_to_queue(struct kmqd *d, uid_t owner, const char *name,
		     const void *body, size_t len, const char *group,
		     const char *dedup)
{
	return send_to(d, owner, name, body, len, NULL, 0, group, dedup);
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
	uint64_t id, sent_ns, stamp;
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
	    h.flags || h.reserved0 ||
	    h.subject_len > KMQ_PUB_SUBJECT_MAX || h.group_len > KMQ_PUB_ID_MAX ||
	    h.dedup_len > KMQ_PUB_ID_MAX)
		return -EINVAL;
	need = sizeof(h) + (size_t)h.subject_len + h.group_len + h.dedup_len +
	       h.attr_len + h.body_len;
	if (need != len)
		return -EINVAL;
	p += sizeof(h);
	r->stamp = h.stamp;
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

/* message_id - the MessageId: kmq_topic_message_id() of the record, the
 * same when a record is delivered again after a crash, and the one
 * kmq_publish() reported to its publisher. */
static void message_id(const struct topic *t, const struct rec *r, char out[37])
{
	kmq_topic_message_id(out, t->name, r->id, r->sent_ns);
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
	uint64_t id;			/* the inbox message that was accepted */
	struct dedup *next;
	char key[KMQ_PUB_ID_MAX + 1];
};

/* A window entry on disk: <state_dir>/topics.d/<topic>.dedup (journal.h),
 * so that a publish retried after a kmqd crash is still a duplicate. */
struct dd_rec {
	uint64_t until_real_ns;		/* CLOCK_REALTIME: survives a restart */
	uint64_t id;			/* struct dedup.id */
	char key[KMQ_PUB_ID_MAX + 1];
	char pad[7];
};

#define DD_COMPACT_MIN	4096		/* records before a rewrite is worth it */

static unsigned int dd_hash(const char *k)
{
	unsigned int h = 2166136261U;

	while (*k)
		h = (h ^ (unsigned char)*k++) * 16777619U;
	return h;
}

void dedup_free(struct topic *t, bool forget)
{
	unsigned int i;

	if (forget)
		journal_remove(&t->ddj);
	else
		journal_close(&t->ddj);
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

/* dd_insert - remember @key (of message @id) until @until (MONOTONIC). */
static struct dedup *dd_insert(struct topic *t, struct dedup **p,
			       const char *key, uint64_t id, uint64_t until)
{
	struct dedup *e = calloc(1, sizeof(*e));

	if (e) {
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->id = id;
		e->until = until;
		e->next = *p;
		*p = e;
		t->ndd++;
	}
	return e;
}

static bool dd_table(struct topic *t)
{
	if (!t->dd) {
		t->dd_size = 4096;
		t->dd = calloc(t->dd_size, sizeof(*t->dd));
		if (!t->dd)
			t->dd_size = 0;
	}
	return t->dd != NULL;
}

/* The live entries, in any order, for a rewrite of the journal. */
struct dd_walk {
	struct topic *t;
	unsigned int bucket;
	struct dedup *e;
	uint64_t mono, real;
};

static void dd_fill(void *arg, unsigned long i, void *buf)
{
	struct dd_walk *w = arg;
	struct dd_rec *r = buf;

	while (!w->e)
		w->e = w->t->dd[w->bucket++];
	r->until_real_ns = w->real + (w->e->until - w->mono);
	r->id = w->e->id;
	memcpy(r->key, w->e->key, sizeof(r->key));
	w->e = w->e->next;
}

/* dd_compact - the journal holds mostly expired or duplicate records:
 * rewrite it with the live window (expired entries are dropped from the
 * table first). */
static void dd_compact(struct topic *t)
{
	struct dd_walk w = { .t = t, .mono = mono_ns(), .real = real_ns() };
	unsigned int i;
	int err;

	for (i = 0; i < t->dd_size; i++) {
		struct dedup **p = &t->dd[i], *e;

		while ((e = *p)) {
			if (e->until <= w.mono) {
				*p = e->next;
				free(e);
				t->ndd--;
			} else {
				p = &e->next;
			}
		}
	}
	err = journal_rewrite(&t->ddj, t->ndd, dd_fill, &w);
	if (err)
		log_warn("topic %s: cannot rewrite %s: %s", t->name, t->ddj.path,
			 strerror(-err));
}

/* dedup_seen - was @key accepted in the last 5 minutes, for another
 * message than @id? If not, it is now, in memory and in the journal. The
 * same message again is no duplicate: a record a crashed kmqd had admitted
 * but not yet delivered comes back from the inbox's repair with its id. */
static bool dedup_seen(struct topic *t, const char *key, uint64_t id)
{
	uint64_t now = mono_ns();
	struct dedup **p, *e;

	if (!dd_table(t))
		return false;
	for (p = &t->dd[dd_hash(key) % t->dd_size]; (e = *p);) {
		if (e->until <= now) {		/* expired: drop on the way */
			*p = e->next;
			free(e);
			t->ndd--;
			continue;
		}
		if (!strcmp(e->key, key))
			return e->id != id;
		p = &e->next;
	}
	if (dd_insert(t, p, key, id, now + DEDUP_NS) && t->ddj.fd >= 0) {
		struct dd_rec r = { .until_real_ns = real_ns() + DEDUP_NS, .id = id };
		int err;

		snprintf(r.key, sizeof(r.key), "%s", key);
		err = journal_append(&t->ddj, &r);
		if (err)
			log_warn("topic %s: deduplication window not kept on disk: %s",
				 t->name, strerror(-err));
		else if (t->ddj.nrec > DD_COMPACT_MIN && t->ddj.nrec > 4UL * t->ndd)
			dd_compact(t);
	}
	return false;
}

/* dd_load_one - a journal record back into the window, unless expired. */
static void dd_load_one(void *arg, const void *rec)
{
	struct dd_walk *w = arg;
	const struct dd_rec *r = rec;
	struct topic *t = w->t;
	char key[sizeof(r->key)];
	struct dedup **p, *e;

	if (r->until_real_ns <= w->real || r->until_real_ns - w->real > DEDUP_NS)
		return;		/* expired, or a clock that jumped: not trusted */
	memcpy(key, r->key, sizeof(key));
	key[sizeof(key) - 1] = '\0';
	if (!key[0] || !dd_table(t))
		return;
	p = &t->dd[dd_hash(key) % t->dd_size];
	for (e = *p; e; e = e->next)
		if (!strcmp(e->key, key))
			return;
	dd_insert(t, p, key, r->id, w->mono + (r->until_real_ns - w->real));
}

/*
 * dedup_load - a FIFO topic at start: open its journal and take back the
 * window a previous kmqd (killed, or stopped) accepted. Without the file
 * (no state directory, no room) the window only lives in memory, logged.
 */
static void dedup_load(struct kmqd *d, struct topic *t)
{
	struct dd_walk w = { .t = t, .mono = mono_ns(), .real = real_ns() };
	char path[sizeof(t->ddj.path)];
	int err;

	snprintf(path, sizeof(path), "%s/topics.d", d->cfg.state_dir);
	mkdir(path, 0700);
	if (snprintf(path, sizeof(path), "%s/topics.d/%s.dedup", d->cfg.state_dir,
		     t->name) >= (int)sizeof(path))
		err = -ENAMETOOLONG;
	else
		err = journal_open(&t->ddj, path, sizeof(struct dd_rec), dd_load_one, &w);
	if (err) {
		log_warn("topic %s: %s: %s: its deduplication window lives in memory only",
			 t->name, path, strerror(-err));
		return;
	}
	if (t->ndd)
		log_info("topic %s: %u deduplication ids of the last 5 minutes taken back",
			 t->name, t->ndd);
	if (t->ddj.nrec > DD_COMPACT_MIN && t->ddj.nrec > 4UL * t->ndd)
		dd_compact(t);
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
	return dedup_seen(t, r->ddkey, r->id) ? -EEXIST : 0;
}

/* ---- delivery ------------------------------------------------------------------ */

/* A record of the window: borrowed from the inbox, copied out, checked. */
struct inrec {
	struct kmq_msg m;		/* the borrow, released in order */
	unsigned char *copy;		/* what @r points into */
	size_t cap;			/* kept for the next record when small */
	struct rec r;
	bool skip;			/* corrupt or a FIFO duplicate */
};

static char *payload(const struct topic *t, const struct sub *s,
		     const struct rec *r, size_t *len)
{
	char *p;

	if (!s->raw) {
		p = envelope(t, s, r);
		*len = p ? strlen(p) : 0;
		return p;
	}
	p = malloc(r->len + 1);
	if (p) {
		memcpy(p, r->body, r->len);
		p[r->len] = 0;
		*len = r->len;
	}
	return p;
}

/* to_fifo_queue - a FIFO subscriber queue, through its owner with the
 * record's group and deduplication id, so that the queue's own 5-minute
 * window also drops a record that a kmqd crash made kmqd deliver twice. */
static int to_fifo_queue(struct kmqd *d, struct topic *t, struct sub *s,
			 const struct rec *r)
{
	char group[KMQ_PUB_ID_MAX + 1];
	char *env = NULL;
	int err;

	memcpy(group, r->group, r->group_len);
	group[r->group_len] = 0;
	if (s->raw)
		return fifo_send(d, &s->q, r->body, r->len, r->abuf, r->alen,
				 group, r->ddkey);
	env = envelope(t, s, r);
	if (!env)
		return -ENOMEM;
	err = fifo_send(d, &s->q, env, strlen(env), NULL, 0, group, r->ddkey);
	free(env);
	return err;
}

/* to_queue - 0, -EAGAIN (full: try again), or another -errno (a delivery
 * that cannot succeed: a missing queue, a message too large for it). */
static int to_queue(struct kmqd *d, struct topic *t, struct sub *s,
		    const struct rec *r)
{
	struct kmq_fast *f = s->cf;
	unsigned int who = 0;
	char *env = NULL;
	size_t alen = 0;
	int err;

	err = sub_queue_ok(d, s);
	if (err)
		return err;
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

/* give_up - queue subscription @s cannot have @r (@why): its dead-letter
 * queue gets what the subscription would have, else it is dropped; both
 * counted and logged (the first time and every 1000th after). */
static void give_up(struct kmqd *d, struct topic *t, struct sub *s,
		    const struct rec *r, const char *why)
{
	char id[37], group[KMQ_PUB_ID_MAX + 1];
	size_t len = 0;
	char *p;
	int err = -ENOMEM;

	s->failed++;
	t->failed++;
	message_id(t, r, id);
	if (!s->dlq[0]) {
		if (!(s->dropped++ % 1000))
			log_warn("topic %s: queue %s: message %s dropped (%s); no RedrivePolicy (%llu dropped)",
				 t->name, s->q.name, id, why,
				 (unsigned long long)s->dropped);
		return;
	}
	memcpy(group, r->group, r->group_len);
	group[r->group_len] = 0;
	p = payload(t, s, r, &len);
	if (p)
		err = send_to(d, s->owner, s->dlq, p, len, s->raw ? r->abuf : NULL,
			      s->raw ? r->alen : 0, group, id);
	free(p);
	if (!err) {
		if (!(s->dead_lettered++ % 1000))
			log_info("topic %s: queue %s: message %s to dead-letter queue %s (%s)",
				 t->name, s->q.name, id, s->dlq, why);
		return;
	}
	if (!(s->dropped++ % 1000))
		log_warn("topic %s: queue %s: message %s dropped (%s): dead-letter queue %s: %s",
			 t->name, s->q.name, id, why, s->dlq, strerror(-err));
}

static void on_sub_retry(struct kmqd *d, void *arg)
{
	struct sub *s = arg;

	deliver_drain(d, s->t);
}

/* retry_later - @s's queue is full: arm its next retry of the record at
 * its cursor; false when its DeliveryPolicy's retries are spent. */
static bool retry_later(struct kmqd *d, struct sub *s)
{
	uint64_t delay;

	if (s->attempt >= s->pol.num_retries)
		return false;
	s->attempt++;
	s->retries++;
	delay = retry_delay_ns(&s->pol, s->attempt);
	if (delay < MIN_RETRY_NS)
		delay = MIN_RETRY_NS;
	s->retry.cb = on_sub_retry;
	s->retry.arg = s;
	timer_arm(d, &s->retry, mono_ns() + delay);
	return true;
}

/* sub_walk - move @s's cursor through the window as far as it goes. */
static void sub_walk(struct kmqd *d, struct topic *t, struct sub *s)
{
	if (s->retry.at)		/* waiting for its retry */
		return;
	while (s->pos < t->end) {
		struct inrec *e = &t->win[s->pos % t->wcap];
		const struct rec *r = &e->r;
		char why[96];
		int err;

		if (e->skip) {
			s->pos++;
			continue;
		}
		if (!filter_match(s->filter, r->attrs, r->nattrs, r->body, r->len)) {
			s->filtered++;
			t->filtered++;
			s->pos++;
			continue;
		}
		if (s->proto != PROTO_QUEUE) {
			err = to_endpoint(t, s, r);
			if (err) {	/* else endpoint.c counts the outcome */
				if (!s->failed)
					log_warn("topic %s: delivery to endpoint %s failed: %s",
						 t->name, s->endpoint, strerror(-err));
				s->failed++;
				t->failed++;
			}
			s->pos++;
			continue;
		}
		if (s->attempt)		/* as endpoint.c: attempts after the first */
			KMQD_PROBE3(retry, t->name, r->id, s->attempt);
		err = to_queue(d, t, s, r);
		if (err == -EAGAIN || err == -ENOMEM) {	/* full, or kmqd is short */
			if (retry_later(d, s))
				return;
			snprintf(why, sizeof(why), "queue full after %u retries",
				 s->attempt);
			give_up(d, t, s, r, why);
		} else if (err) {
			snprintf(why, sizeof(why), "%s", strerror(-err));
			give_up(d, t, s, r, why);
		} else {
			s->delivered++;
			t->delivered++;
			KMQD_PROBE4(deliver, t->name, r->id, r->sent_ns, (uint32_t)r->len);
		}
		s->attempt = 0;
		s->pos++;
	}
}

/* admit - check the record just borrowed into @e (copied out first):
 * 0, or -ENOMEM (no copy: try again later, the record stays borrowed). */
static int admit(struct topic *t, struct inrec *e)
{
	int err;

	e->skip = true;
	if (e->cap < e->m.len || !e->copy) {
		free(e->copy);
		e->cap = e->m.len > KEEP_COPY ? e->m.len : KEEP_COPY;
		e->copy = malloc(e->cap);
		if (!e->copy) {
			e->cap = 0;
			return -ENOMEM;
		}
	}
	memcpy(e->copy, e->m.data, e->m.len);
	if (parse(e->copy, e->m.len, &e->r)) {
		if (!t->corrupt++)
			log_warn("topic %s: dropped a record that is not a kmq_pub",
				 t->name);
		return 0;
	}
	e->r.id = e->m.id;
	if (t->fifo && (err = fifo_admit(t, &e->r))) {
		if (err == -EEXIST)
			t->deduplicated++;
		else if (!t->corrupt++)
			log_warn("topic %s: dropped a record without MessageGroupId or MessageDeduplicationId",
				 t->name);
		return 0;
	}
	e->r.id = e->m.id;
	e->r.sent_ns = e->r.stamp ? e->r.stamp : e->m.sent_ns;
	e->skip = false;
	return 0;
}

static void on_retry(struct kmqd *d, void *arg)
{
	deliver_drain(d, arg);
}

static void on_inbox(struct kmqd *d, void *arg, uint32_t revents)
{
	deliver_drain(d, arg);
}

void deliver_sub_join(struct topic *t, struct sub *s)
{
	s->t = t;
	s->pos = t->end;	/* not the records in delivery: they predate s */
	s->attempt = 0;
}

void deliver_drain(struct kmqd *d, struct topic *t)
{
	struct queue *iq;
	struct kmq_fast *f;
	unsigned int budget = DRAIN_BUDGET, who;
	bool more = true, moved;
	struct sub *s;
	int err;

	f = tq_fast(d, &t->inbox, &iq);
	if (!f)
		return;
	if (!t->win) {
		t->wcap = f->v.free.cap < WINDOW_MAX ? f->v.free.cap : WINDOW_MAX;
		t->win = calloc(t->wcap, sizeof(*t->win));
		if (!t->win)
			return;
		t->base = t->end = 0;
		for (s = t->subs; s; s = s->next)
			s->pos = 0;
	}
	for (s = t->subs; s; s = s->next)
		if (s->proto == PROTO_QUEUE && !s->fifo_q) {
			s->cf = tq_fast(d, &s->q, &s->cq);
			s->cwho = 0;
		}
	/* One record at a time: borrowed, walked by every subscription and
	 * given back at once when all have it, so that a kill -9 finds few
	 * records in the window (those a full subscriber queue holds). */
	do {
		bool got = false;

		while (more && budget && t->end - t->base < t->wcap) {
			struct inrec *e = &t->win[t->end % t->wcap];

			if (!t->held && t->istash < t->nstash) {
				e->m = t->stash[t->istash++];
				if (t->istash == t->nstash) {
					free(t->stash);
					t->stash = NULL;
					t->nstash = t->istash = 0;
				}
				t->published++;
				KMQD_PROBE4(publish, t->name, e->m.id, e->m.sent_ns, e->m.len);
				budget--;
				t->held = true;
			}
			if (!t->held) {
				who = 0;
				err = kmq_fast_borrow(f, &e->m, &who);
				tq_wake(&t->inbox, iq, who);
				if (err == -EAGAIN) {
					/* Empty: ask the next publisher to wake
					 * us, then look again (need-wakeup). */
					if (d->shm ? !(kmq_fast_arm(f, KMQ_READABLE) & KMQ_READABLE) :
					    !(kmq_prepare_wait(t->inbox.k, KMQ_READABLE) & KMQ_READABLE))
						more = false;
					continue;
				}
				if (err) {
					more = false;
					break;
				}
				t->published++;
				KMQD_PROBE4(publish, t->name, e->m.id, e->m.sent_ns, e->m.len);
				budget--;
				t->held = true;
			}
			if (admit(t, e)) {	/* no memory: kept, tried again */
				timer_arm(d, &t->retry, mono_ns() + 10 * MIN_RETRY_NS);
				more = false;
				break;
			}
			t->held = false;
			t->end++;
			got = true;
			break;
		}
		for (s = t->subs; s; s = s->next)
			sub_walk(d, t, s);
		/* Give back, in order, what every subscription is past. */
		moved = false;
		while (t->base < t->end) {
			struct inrec *e = &t->win[t->base % t->wcap];

			for (s = t->subs; s && s->pos > t->base; s = s->next)
				;
			if (s)
				break;
			who = 0;
			kmq_fast_release(f, &e->m, &who);
			tq_wake(&t->inbox, iq, who);
			if (e->cap > KEEP_COPY) {	/* a large one: not kept */
				free(e->copy);
				e->copy = NULL;
				e->cap = 0;
			}
			t->base++;
			moved = true;
		}
		if (!got && !moved)
			break;
	} while (budget);
	for (s = t->subs; s; s = s->next)
		if (s->proto == PROTO_QUEUE && s->cwho) {
			tq_wake(&s->q, s->cq, s->cwho);
			s->cwho = 0;
		}
	if (!budget)	/* more to do: after the others */
		timer_arm(d, &t->retry, mono_ns());
}

/* A borrowed inbox record and where it was in the ring: the sort key. */
struct stashed {
	uint64_t stamp;
	unsigned int seq;
	struct kmq_msg m;
};

static int by_stamp(const void *a, const void *b)
{
	const struct stashed *x = a, *y = b;

	if (x->stamp != y->stamp)
		return x->stamp < y->stamp ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * recover_order - a FIFO topic at start: a kmqd that died holding records
 * got them back from the inbox's crash repair behind those published
 * since, out of publish order. Borrow everything the inbox holds now and
 * deliver it by publish time (the record's stamp, else the slot's sent
 * time; ties in ring order), so each group's order survives a kill -9.
 * Records stay borrowed until delivered, as in the window: another crash
 * here gives them back again. Without memory for the stash, ring order.
 */
static void recover_order(struct topic *t, struct kmq_fast *f, struct queue *iq)
{
	unsigned int cap = f->v.free.cap, n = 0, i, who;
	struct stashed *st;
	struct kmq_pub h;

	st = calloc(cap, sizeof(*st));
	t->stash = calloc(cap, sizeof(*t->stash));
	if (!st || !t->stash) {
		free(st);
		free(t->stash);
		t->stash = NULL;
		return;
	}
	while (n < cap) {
		who = 0;
		if (kmq_fast_borrow(f, &st[n].m, &who)) {
			tq_wake(&t->inbox, iq, who);
			break;
		}
		tq_wake(&t->inbox, iq, who);
		st[n].stamp = st[n].m.sent_ns;
		if (st[n].m.len >= sizeof(h)) {
			memcpy(&h, st[n].m.data, sizeof(h));	/* a key only */
			if (h.magic == KMQ_PUB_MAGIC && h.stamp)
				st[n].stamp = h.stamp;
		}
		st[n].seq = n;
		n++;
	}
	qsort(st, n, sizeof(*st), by_stamp);
	for (i = 0; i < n; i++)
		t->stash[i] = st[i].m;
	free(st);
	t->nstash = n;
	t->istash = 0;
	if (!n) {
		free(t->stash);
		t->stash = NULL;
		return;
	}
	log_info("topic %s: %u records in the inbox at start, delivered in publish order",
		 t->name, n);
}

int deliver_start(struct kmqd *d, struct topic *t)
{
	struct queue *iq;
	struct kmq_fast *f;
	int err;

	t->d = d;
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
	if (t->fifo && t->ddj.fd < 0)
		dedup_load(d, t);
	if (t->fifo)
		recover_order(t, f, iq);
	deliver_drain(d, t);
	return 0;
}

void deliver_stop(struct kmqd *d, struct topic *t)
{
	struct sub *s;
	uint64_t i;

	timer_cancel(d, &t->retry);
	/* The records in the window stay borrowed: the queue's crash repair
	 * gives them to the next kmqd (kmqd stopping), or the inbox goes with
	 * them (delete-topic). */
	for (i = 0; t->win && i < t->wcap; i++)
		free(t->win[i].copy);
	free(t->win);
	t->win = NULL;
	free(t->stash);		/* its records stay borrowed, as above */
	t->stash = NULL;
	t->nstash = t->istash = 0;
	t->base = t->end = 0;
	t->held = false;
	if (t->inbox.watched) {
		kmqd_loop_del(d, kmq_fd(t->inbox.k));
		t->inbox.watched = false;
	}
	tq_close(&t->inbox);
	for (s = t->subs; s; s = s->next)
		deliver_sub_gone(s);
}
