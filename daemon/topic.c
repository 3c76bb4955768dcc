// SPDX-License-Identifier: GPL-2.0
/*
 * Topics in kmqd: the registry of topics and their subscriptions, the
 * KMQ_WIRE_TOPIC requests that change it (include/kmq/topic.h lists them),
 * and its persistence: every change rewrites <state_dir>/topics.json
 * (written aside, then renamed), which kmqd reads back at start-up, on both
 * backends. Delivery is deliver.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "topic.h"
#include "endpoint.h"
#include "urlpolicy.h"

#define TOPICS_FILE	"topics.json"
#define ERRLEN		256

static struct topic *topics;
static char state_path[300];
static unsigned int sub_seq;

struct topic *topic_list(void)
{
	return topics;
}

static struct topic *topic_find(const char *name)
{
	struct topic *t;

	for (t = topics; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* A topic by name or TopicArn. */
static struct topic *topic_lookup(const char *s)
{
	size_t n = strlen(KMQ_TOPIC_ARN_PREFIX);

	if (!strncmp(s, KMQ_TOPIC_ARN_PREFIX, n))
		s += n;
	return topic_find(s);
}

static struct sub *sub_lookup(const char *arn, struct topic **tp)
{
	struct topic *t;
	struct sub *s;

	for (t = topics; t; t = t->next)
		for (s = t->subs; s; s = s->next)
			if (!strcmp(s->arn, arn)) {
				*tp = t;
				return s;
			}
	return NULL;
}

static bool topic_name_ok(const char *name, bool *fifo)
{
	size_t n = strlen(name), i, end = n;

	*fifo = n > 5 && !strcmp(name + n - 5, ".fifo");
	if (*fifo)
		end = n - 5;
	if (!n || n > KMQ_TOPIC_NAME_MAX || !end)
		return false;
	for (i = 0; i < end; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ---- persistence ------------------------------------------------------------- */

static json_object *sub_json(const struct sub *s)
{
	json_object *o = json_object_new_object();
	static const char *const protos[] = { "queue", "http", "https", "exec" };

	json_object_object_add(o, "arn", json_object_new_string(s->arn));
	json_object_object_add(o, "protocol", json_object_new_string(protos[s->proto]));
	json_object_object_add(o, "endpoint", json_object_new_string(s->endpoint));
	json_object_object_add(o, "owner", json_object_new_int64(s->owner));
	json_object_object_add(o, "attributes", json_object_get(s->attrs));
	return o;
}

static int save(void)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	char tmp[320];
	struct topic *t;
	struct sub *s;
	const char *text;
	int fd, err = 0;
	size_t len;

	for (t = topics; t; t = t->next) {
		json_object *o = json_object_new_object(), *subs = json_object_new_array();

		json_object_object_add(o, "name", json_object_new_string(t->name));
		json_object_object_add(o, "owner", json_object_new_int64(t->owner));
		json_object_object_add(o, "created_ns", json_object_new_uint64(t->created_ns));
		json_object_object_add(o, "attributes", json_object_get(t->attrs));
		for (s = t->subs; s; s = s->next)
			json_object_array_add(subs, sub_json(s));
		json_object_object_add(o, "subscriptions", subs);
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "version", json_object_new_int(1));
	json_object_object_add(root, "topics", arr);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
	} else {
		if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
			err = errno ? -errno : -EIO;
		close(fd);
		if (!err && rename(tmp, state_path) < 0)
			err = -errno;
	}
	json_object_put(root);
	if (err)
		log_err("topics: cannot write %s: %s", state_path, strerror(-err));
	return err;
}

/* ---- subscription attributes ---------------------------------------------------- */

static const char *attr_str(json_object *attrs, const char *key)
{
	json_object *v;

	if (!attrs || !json_object_object_get_ex(attrs, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* sub_apply - check @attrs (name -> string) and make them @s's: compiles
 * the filter policy. On error @s is unchanged. */
static int sub_apply(struct sub *s, json_object *attrs, char *err)
{
	const char *fp, *scope_s, *raw, *v;
	struct filter *f = NULL;
	int scope = FILTER_ATTRIBUTES;
	struct delivery_policy pol;
	char dlq[KMQ_NAME_LEN] = "";

	json_object_object_foreach(attrs, key, val) {
		if (!json_object_is_type(val, json_type_string)) {
			snprintf(err, ERRLEN, "Invalid parameter: Attributes: %s must be a string", key);
			return -EINVAL;
		}
		if (strcmp(key, "FilterPolicy") && strcmp(key, "FilterPolicyScope") &&
		    strcmp(key, "RawMessageDelivery") && strcmp(key, "RedrivePolicy") &&
		    strcmp(key, "DeliveryPolicy")) {
			snprintf(err, ERRLEN, "Invalid parameter: Attributes Reason: Unknown attribute %s",
				 key);
			return -EINVAL;
		}
	}
	scope_s = attr_str(attrs, "FilterPolicyScope");
	if (scope_s && *scope_s) {
		scope = filter_scope_parse(scope_s);
		if (scope < 0) {
			snprintf(err, ERRLEN, "Invalid parameter: FilterPolicyScope: %s is neither MessageAttributes nor MessageBody",
				 scope_s);
			return -EINVAL;
		}
	}
	fp = attr_str(attrs, "FilterPolicy");
	if (fp && *fp) {
		int e = filter_compile(fp, (enum filter_scope)scope, &f, err, ERRLEN);

		if (e)
			return e;
	}
	raw = attr_str(attrs, "RawMessageDelivery");
	if (raw && strcmp(raw, "true") && strcmp(raw, "false")) {
		snprintf(err, ERRLEN, "Invalid parameter: RawMessageDelivery: must be true or false");
		filter_free(f);
		return -EINVAL;
	}
	v = attr_str(attrs, "RedrivePolicy");
	if (v && *v && redrive_dlq(v, dlq)) {
		snprintf(err, ERRLEN, "Invalid parameter: RedrivePolicy: needs {\"deadLetterTargetArn\": QUEUE} (a queue name, kmq:///NAME or an ARN ending in :NAME)");
		filter_free(f);
		return -EINVAL;
	}
	v = attr_str(attrs, "DeliveryPolicy");
	if (delivery_policy_parse(v && *v ? v : NULL, s->proto, &pol, err, ERRLEN)) {
		filter_free(f);
		return -EINVAL;
	}
	filter_free(s->filter);
	s->filter = f;
	s->raw = raw && !strcmp(raw, "true");
	s->pol = pol;
	memcpy(s->dlq, dlq, sizeof(dlq));
	if (s->attrs != attrs) {
		json_object_put(s->attrs);
		s->attrs = json_object_get(attrs);
	}
	return 0;
}

/* sub_endpoint - (re)configure the delivery state of an http/https/exec
 * subscription from its attributes. */
static int sub_endpoint(struct kmqd *d, struct topic *t, struct sub *s, char *err)
{
	if (s->proto == PROTO_QUEUE)
		return 0;
	if (!s->ep) {
		s->ep = endpoint_new(d, t, s);
		if (!s->ep) {
			snprintf(err, ERRLEN, "out of memory");
			return -ENOMEM;
		}
	}
	return endpoint_configure(s->ep, err, ERRLEN);
}

static void sub_free(struct sub *s)
{
	if (!s)
		return;
	deliver_sub_gone(s);
	filter_free(s->filter);
	json_object_put(s->attrs);
	free(s->endpoint);
	free(s);
}

static int proto_parse(const char *p)
{
	if (!strcmp(p, "queue") || !strcmp(p, "sqs"))
		return PROTO_QUEUE;
	if (!strcmp(p, "http"))
		return PROTO_HTTP;
	if (!strcmp(p, "https"))
		return PROTO_HTTPS;
	if (!strcmp(p, "exec") || !strcmp(p, "lambda"))
		return PROTO_EXEC;
	return -1;
}

/* A queue endpoint: NAME, kmq:///NAME, or an ARN ending in :NAME. */
static const char *queue_endpoint(const char *e)
{
	const char *c;

	if (!strncmp(e, "kmq:///", 7))
		return e + 7;
	if (!strncmp(e, "arn:", 4) && (c = strrchr(e, ':')))
		return c + 1;
	return e;
}

static struct sub *sub_new(struct topic *t, int proto, const char *endpoint,
			   uid_t owner, const char *arn)
{
	struct sub *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->proto = (enum sub_proto)proto;
	s->endpoint = strdup(endpoint);
	s->owner = owner;
	s->attrs = json_object_new_object();
	if (proto == PROTO_QUEUE) {
		size_t n;

		snprintf(s->q.name, sizeof(s->q.name), "%s", queue_endpoint(endpoint));
		n = strlen(s->q.name);
		s->fifo_q = n > 5 && !strcmp(s->q.name + n - 5, ".fifo");
	}
	if (arn) {
		snprintf(s->arn, sizeof(s->arn), "%s", arn);
	} else {
		unsigned char r[8] = { 0 };
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (read(fd, r, sizeof(r)) < 0)
				memset(r, 0, sizeof(r));
			close(fd);
		}
		snprintf(s->arn, sizeof(s->arn), "%s:%08x-%02x%02x-%02x%02x-%04x-%012llx",
			 t->arn, sub_seq++, r[0], r[1], r[2], r[3],
			 (unsigned int)(r[4] << 8 | r[5]),
			 (unsigned long long)real_ns() & 0xffffffffffffULL);
	}
	if (!s->endpoint || !s->attrs) {
		sub_free(s);
		return NULL;
	}
	return s;
}

static void sub_link(struct topic *t, struct sub *s)
{
	struct sub **p = &t->subs;

	while (*p)
		p = &(*p)->next;
	*p = s;
	t->nsubs++;
}

/* ---- topics ---------------------------------------------------------------------- */

static struct topic *topic_new(const char *name, uid_t owner, json_object *attrs)
{
	struct topic *t = calloc(1, sizeof(*t));
	bool fifo;

	if (!t)
		return NULL;
	t->ddj.fd = -1;		/* opened by deliver_start */
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->arn, sizeof(t->arn), KMQ_TOPIC_ARN_PREFIX "%s", name);
	topic_name_ok(name, &fifo);
	t->fifo = fifo;
	t->owner = owner;
	t->cbd = attrs && attr_str(attrs, "ContentBasedDeduplication") &&
		 !strcmp(attr_str(attrs, "ContentBasedDeduplication"), "true");
	t->created_ns = real_ns();
	t->attrs = attrs ? json_object_get(attrs) : json_object_new_object();
	return t;
}

/* topic_free - @forget: the topic is gone (its deduplication window's
 * file too), else kmqd stops and the next one takes the window back. */
static void topic_free(struct kmqd *d, struct topic *t, bool forget)
{
	struct sub *s, *n;

	deliver_stop(d, t);
	for (s = t->subs; s; s = n) {
		n = s->next;
		sub_free(s);
	}
	json_object_put(t->attrs);
	dedup_free(t, forget);
	free(t);
}

static void topic_link(struct topic *t)
{
	struct topic **p = &topics;

	while (*p && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

static void topic_unlink(struct topic *t)
{
	struct topic **p = &topics;

	while (*p && *p != t)
		p = &(*p)->next;
	if (*p)
		*p = t->next;
}

/* ---- requests ------------------------------------------------------------------- */

static void reply_json(struct conn *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	conn_reply(c, 0, s, strlen(s) + 1, NULL, 0);
	json_object_put(o);
}

static bool may_admin(struct conn *c, uid_t owner)
{
	return conn_uid(c) == 0 || conn_uid(c) == owner;
}

/* may_send - may @c's user send to queue @info (its mode, as kmq.ko)? */
static bool may_send(struct conn *c, const struct kmq_info *info)
{
	unsigned int bits;

	if (conn_uid(c) == 0)
		return true;
	if (conn_uid(c) == info->uid)
		bits = info->mode >> 6;
	else if (conn_in_group(c, info->gid))
		bits = info->mode >> 3;
	else
		bits = info->mode;
	return bits & 2;
}

static const char *str_field(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *obj_field(json_object *req, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(req, key, &v) ||
	    !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

static void create_topic(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *name = str_field(req, "name"), *v;
	json_object *attrs = obj_field(req, "attributes"), *o;
	struct kmq_info info;
	struct topic *t;
	bool fifo;
	int err;

	if (!name || !topic_name_ok(name, &fifo)) {
		conn_reply_err(c, -EINVAL, "Invalid parameter: Topic Name: 1..%d of [A-Za-z0-9_-], FIFO topics end in .fifo",
			       KMQ_TOPIC_NAME_MAX);
		return;
	}
	if (attrs) {
		json_object_object_foreach(attrs, key, val) {
			if (!json_object_is_type(val, json_type_string) ||
			    (strcmp(key, "FifoTopic") && strcmp(key, "DisplayName") &&
			     strcmp(key, "ContentBasedDeduplication"))) {
				conn_reply_err(c, -EINVAL, "Invalid parameter: Attributes Reason: Unknown attribute %s (or not a string)",
					       key);
				return;
			}
		}
		v = attr_str(attrs, "FifoTopic");
		if (v && (!strcmp(v, "true") != fifo)) {
			conn_reply_err(c, -EINVAL, "Invalid parameter: Fifo Topic names must end with .fifo and Standard Topic names must not");
			return;
		}
	}
	v = attrs ? attr_str(attrs, "ContentBasedDeduplication") : NULL;
	if (v && ((strcmp(v, "true") && strcmp(v, "false")) || (!fifo && !strcmp(v, "true")))) {
		conn_reply_err(c, -EINVAL, "Invalid parameter: ContentBasedDeduplication: true or false, and true only for FIFO topics");
		return;
	}
	t = topic_find(name);
	if (t) {	/* as SNS: creating an existing topic returns it */
		o = json_object_new_object();
		json_object_object_add(o, "TopicArn", json_object_new_string(t->arn));
		reply_json(c, o);
		return;
	}
	t = topic_new(name, conn_uid(c), attrs);
	if (!t) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	kmq_topic_inbox(t->inbox.name, name);
	err = tq_info(d, t->inbox.name, &info);
	if (err || info.max_msg_size <= sizeof(struct kmq_pub)) {
		conn_reply_err(c, err ? err : -EINVAL,
			       "the topic's inbox queue %s %s (kmq_topic_create makes it)",
			       t->inbox.name, err ? "does not exist" : "is too small");
		topic_free(d, t, true);
		return;
	}
	topic_link(t);
	err = save();
	if (err) {
		topic_unlink(t);
		topic_free(d, t, true);
		conn_reply_err(c, err, "cannot write the topics file: %s", strerror(-err));
		return;
	}
	err = deliver_start(d, t);
	if (err)
		log_warn("topic %s: inbox %s: %s", name, t->inbox.name, strerror(-err));
	kmqd_event_publish(d, "topic-create", t->inbox.name, t->arn);
	o = json_object_new_object();
	json_object_object_add(o, "TopicArn", json_object_new_string(t->arn));
	reply_json(c, o);
}

static void delete_topic(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *name = str_field(req, "name");
	struct topic *t = name ? topic_lookup(name) : NULL;

	if (!t) {
		conn_reply_err(c, -ENOENT, "Topic does not exist");
		return;
	}
	if (!may_admin(c, t->owner)) {
		conn_reply_err(c, -EPERM, "only the topic's owner (uid %u) may delete it",
			       (unsigned int)t->owner);
		return;
	}
	topic_unlink(t);
	save();
	kmqd_event_publish(d, "topic-delete", t->inbox.name, t->arn);
	topic_free(d, t, true);
	reply_json(c, json_object_new_object());
}

static void list_topics(struct kmqd *d, struct conn *c, json_object *req)
{
	json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct topic *t;

	for (t = topics; t; t = t->next) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "TopicArn", json_object_new_string(t->arn));
		json_object_object_add(e, "Name", json_object_new_string(t->name));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "Topics", arr);
	reply_json(c, o);
}

#define ADD_U64(o, k, v) do { char b_[24]; snprintf(b_, sizeof(b_), "%llu", \
	(unsigned long long)(v)); json_object_object_add(o, k, json_object_new_string(b_)); } while (0)

static void get_topic_attributes(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *name = str_field(req, "name");
	struct topic *t = name ? topic_lookup(name) : NULL;
	json_object *o, *a;

	if (!t) {
		conn_reply_err(c, -ENOENT, "Topic does not exist");
		return;
	}
	o = json_object_new_object();
	a = json_object_new_object();
	json_object_object_foreach(t->attrs, k, v)
		json_object_object_add(a, k, json_object_get(v));
	json_object_object_add(a, "TopicArn", json_object_new_string(t->arn));
	ADD_U64(a, "Owner", t->owner);
	json_object_object_add(a, "FifoTopic", json_object_new_string(t->fifo ? "true" : "false"));
	ADD_U64(a, "SubscriptionsConfirmed", t->nsubs);
	ADD_U64(a, "SubscriptionsPending", 0);
	json_object_object_add(a, "kmq.Inbox", json_object_new_string(t->inbox.name));
	ADD_U64(a, "kmq.Published", t->published);
	ADD_U64(a, "kmq.Delivered", t->delivered);
	ADD_U64(a, "kmq.Filtered", t->filtered);
	ADD_U64(a, "kmq.Failed", t->failed);
	ADD_U64(a, "kmq.Corrupt", t->corrupt);
	if (t->fifo)
		ADD_U64(a, "kmq.Deduplicated", t->deduplicated);
	json_object_object_add(o, "Attributes", a);
	reply_json(c, o);
}

static void subscribe(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *tn = str_field(req, "topic"), *ps = str_field(req, "protocol");
	const char *ep = str_field(req, "endpoint");
	json_object *attrs = obj_field(req, "attributes"), *o;
	struct topic *t = tn ? topic_lookup(tn) : NULL;
	struct kmq_info info;
	char err[ERRLEN] = "";
	struct sub *s;
	int proto, e;

	if (!t) {
		conn_reply_err(c, -ENOENT, "Topic does not exist");
		return;
	}
	proto = ps ? proto_parse(ps) : -1;
	if (proto < 0 || !ep || !*ep) {
		conn_reply_err(c, -EINVAL, "Invalid parameter: protocol queue|http|https|exec and an endpoint are required");
		return;
	}
	if ((proto == PROTO_HTTP && strncmp(ep, "http://", 7)) ||
	    (proto == PROTO_HTTPS && strncmp(ep, "https://", 8))) {
		conn_reply_err(c, -EINVAL, "Invalid parameter: Endpoint: a %s endpoint is a %s:// URL",
			       ps, ps);
		return;
	}
	if (!may_admin(c, t->owner)) {
		conn_reply_err(c, -EPERM, "only the topic's owner (uid %u) may subscribe to it",
			       (unsigned int)t->owner);
		return;
	}
	if (proto == PROTO_HTTP || proto == PROTO_HTTPS) {
		e = url_allowed(d->cfg.http_allow, ep, NULL, err, sizeof(err));
		if (e) {
			conn_reply_err(c, e, "Invalid parameter: Endpoint: %s", err);
			return;
		}
	}
	s = sub_new(t, proto, ep, conn_uid(c), NULL);
	if (!s) {
		conn_reply_err(c, -ENOMEM, "out of memory");
		return;
	}
	if (proto == PROTO_QUEUE) {
		if (!kmq_name_valid(s->q.name)) {
			sub_free(s);
			conn_reply_err(c, -EINVAL, "Invalid parameter: Endpoint: not a queue name");
			return;
		}
		e = tq_info(d, s->q.name, &info);
		if (e || !may_send(c, &info)) {
			sub_free(s);
			conn_reply_err(c, e ? e : -EACCES, "queue %s: %s", ep,
				       e ? "does not exist" : "you may not send to it");
			return;
		}
		if (strlen(s->q.name) > 5 && !t->fifo &&
		    !strcmp(s->q.name + strlen(s->q.name) - 5, ".fifo")) {
			sub_free(s);
			conn_reply_err(c, -EINVAL, "Invalid parameter: a FIFO queue subscribes to FIFO topics only");
			return;
		}
	}
	e = sub_apply(s, attrs ? attrs : s->attrs, err);
	if (!e)
		e = sub_endpoint(d, t, s, err);
	if (e) {
		sub_free(s);
		conn_reply_err(c, e, "%s", err);
		return;
	}
	sub_link(t, s);
	deliver_sub_join(t, s);
	save();
	o = json_object_new_object();
	json_object_object_add(o, "SubscriptionArn", json_object_new_string(s->arn));
	reply_json(c, o);
}

static void unsubscribe(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *arn = str_field(req, "subscription");
	struct topic *t = NULL;
	struct sub *s = arn ? sub_lookup(arn, &t) : NULL, **p;

	if (!s) {
		conn_reply_err(c, -ENOENT, "Subscription does not exist");
		return;
	}
	if (!may_admin(c, t->owner) && conn_uid(c) != s->owner) {
		conn_reply_err(c, -EPERM, "only the topic's or the subscription's owner may unsubscribe");
		return;
	}
	for (p = &t->subs; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	t->nsubs--;
	sub_free(s);
	save();
	deliver_drain(d, t);	/* the records only @s held go back */
	reply_json(c, json_object_new_object());
}

static void list_subscriptions(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *tn = str_field(req, "topic");
	json_object *o, *arr;
	struct topic *t, *only = NULL;
	struct sub *s;
	static const char *const protos[] = { "queue", "http", "https", "exec" };

	if (tn && !(only = topic_lookup(tn))) {
		conn_reply_err(c, -ENOENT, "Topic does not exist");
		return;
	}
	o = json_object_new_object();
	arr = json_object_new_array();
	for (t = topics; t; t = t->next) {
		if (only && t != only)
			continue;
		for (s = t->subs; s; s = s->next) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "SubscriptionArn", json_object_new_string(s->arn));
			ADD_U64(e, "Owner", s->owner);
			json_object_object_add(e, "Protocol", json_object_new_string(protos[s->proto]));
			json_object_object_add(e, "Endpoint", json_object_new_string(s->endpoint));
			json_object_object_add(e, "TopicArn", json_object_new_string(t->arn));
			json_object_array_add(arr, e);
		}
	}
	json_object_object_add(o, "Subscriptions", arr);
	reply_json(c, o);
}

static void get_subscription_attributes(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *arn = str_field(req, "subscription");
	struct topic *t = NULL;
	struct sub *s = arn ? sub_lookup(arn, &t) : NULL;
	static const char *const protos[] = { "queue", "http", "https", "exec" };
	json_object *o, *a;

	if (!s) {
		conn_reply_err(c, -ENOENT, "Subscription does not exist");
		return;
	}
	o = json_object_new_object();
	a = json_object_new_object();
	json_object_object_foreach(s->attrs, k, v)
		json_object_object_add(a, k, json_object_get(v));
	json_object_object_add(a, "SubscriptionArn", json_object_new_string(s->arn));
	json_object_object_add(a, "TopicArn", json_object_new_string(t->arn));
	json_object_object_add(a, "Protocol", json_object_new_string(protos[s->proto]));
	json_object_object_add(a, "Endpoint", json_object_new_string(s->endpoint));
	ADD_U64(a, "Owner", s->owner);
	json_object_object_add(a, "PendingConfirmation", json_object_new_string("false"));
	json_object_object_add(a, "ConfirmationWasAuthenticated", json_object_new_string("true"));
	ADD_U64(a, "kmq.Delivered", s->delivered);
	ADD_U64(a, "kmq.Filtered", s->filtered);
	ADD_U64(a, "kmq.Failed", s->failed);
	if (s->proto == PROTO_QUEUE) {
		ADD_U64(a, "kmq.Retries", s->retries);
		ADD_U64(a, "kmq.DeadLettered", s->dead_lettered);
		ADD_U64(a, "kmq.Dropped", s->dropped);
		ADD_U64(a, "kmq.Pending", t->end - s->pos);
	} else if (s->ep) {
		ADD_U64(a, "kmq.Retries", s->ep->retries);
		ADD_U64(a, "kmq.DeadLettered", s->ep->dead_lettered);
		ADD_U64(a, "kmq.Dropped", s->ep->dropped);
	}
	json_object_object_add(o, "Attributes", a);
	reply_json(c, o);
}

static void set_subscription_attributes(struct kmqd *d, struct conn *c, json_object *req)
{
	const char *arn = str_field(req, "subscription");
	const char *name = str_field(req, "name"), *value = str_field(req, "value");
	struct topic *t = NULL;
	struct sub *s = arn ? sub_lookup(arn, &t) : NULL;
	json_object *attrs;
	char err[ERRLEN] = "";
	int e;

	if (!s) {
		conn_reply_err(c, -ENOENT, "Subscription does not exist");
		return;
	}
	if (!name || !value) {
		conn_reply_err(c, -EINVAL, "Invalid parameter: AttributeName and AttributeValue are required");
		return;
	}
	if (!may_admin(c, t->owner) && conn_uid(c) != s->owner) {
		conn_reply_err(c, -EPERM, "only the topic's or the subscription's owner may change it");
		return;
	}
	/* A copy with the change, applied as a whole or not at all. */
	attrs = json_object_new_object();
	json_object_object_foreach(s->attrs, k, v)
		json_object_object_add(attrs, k, json_object_get(v));
	if (*value)
		json_object_object_add(attrs, name, json_object_new_string(value));
	else
		json_object_object_del(attrs, name);
	e = sub_apply(s, attrs, err);
	json_object_put(attrs);
	if (!e)
		e = sub_endpoint(d, t, s, err);
	if (e) {
		conn_reply_err(c, e, "%s", err);
		return;
	}
	save();
	reply_json(c, json_object_new_object());
}

static const struct {
	const char *op;
	void (*fn)(struct kmqd *d, struct conn *c, json_object *req);
} ops[] = {
	{ "create-topic", create_topic },
	{ "delete-topic", delete_topic },
	{ "list-topics", list_topics },
	{ "get-topic-attributes", get_topic_attributes },
	{ "subscribe", subscribe },
	{ "unsubscribe", unsubscribe },
	{ "list-subscriptions", list_subscriptions },
	{ "get-subscription-attributes", get_subscription_attributes },
	{ "set-subscription-attributes", set_subscription_attributes },
};

void topic_cmd(struct kmqd *d, struct conn *c, const void *body, size_t len)
{
	json_object *req = json_tokener_parse(body);
	const char *op;
	size_t i;

	if (!req || !json_object_is_type(req, json_type_object) ||
	    !(op = str_field(req, "op"))) {
		json_object_put(req);
		conn_reply_err(c, -EINVAL, "TOPIC: a JSON object with \"op\" expected");
		return;
	}
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].op, op)) {
			ops[i].fn(d, c, req);
			json_object_put(req);
			return;
		}
	conn_reply_err(c, -EINVAL, "TOPIC: unknown op '%s'", op);
	json_object_put(req);
}

void topic_queue_event(struct kmqd *d, struct queue *q)
{
	const char *name = queue_name(q);
	size_t n = strlen(name), sl = strlen(KMQ_TOPIC_INBOX_SUFFIX);
	char tn[KMQ_NAME_LEN];
	struct topic *t;

	if (n <= sl || strcmp(name + n - sl, KMQ_TOPIC_INBOX_SUFFIX))
		return;
	memcpy(tn, name, n - sl);
	tn[n - sl] = 0;
	t = topic_find(tn);
	if (t)
		deliver_drain(d, t);
}

/* ---- start-up ---------------------------------------------------------------------- */

/* url_check_loaded - an http(s) subscription that [topics] http_allow no
 * longer takes (start, SIGHUP) is kept, logged, and its deliveries fail
 * into its dead-letter queue without a request (http.c checks every
 * attempt): never POSTed. */
static void url_check_loaded(struct kmqd *d, struct topic *t, struct sub *s)
{
	char why[ERRLEN + 1100];

	if (s->proto != PROTO_HTTP && s->proto != PROTO_HTTPS)
		return;
	if (url_allowed(d->cfg.http_allow, s->endpoint, NULL, why, sizeof(why)))
		log_warn("topic %s: subscription %s is no longer allowed: %s; its deliveries go to its dead-letter queue, unsent",
			 t->name, s->arn, why);
}

void topic_reload(struct kmqd *d)
{
	struct topic *t;
	struct sub *s;

	for (t = topics; t; t = t->next)
		for (s = t->subs; s; s = s->next)
			url_check_loaded(d, t, s);
}

static int load(struct kmqd *d)
{
	json_object *root = json_object_from_file(state_path), *arr;
	size_t i, j, n;

	if (!root)
		return access(state_path, F_OK) ? 0 : -EINVAL;
	if (!json_object_object_get_ex(root, "topics", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(root);
		return -EINVAL;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *subs, *v;
		const char *name = str_field(o, "name");
		struct topic *t;
		bool fifo;

		if (!name || !topic_name_ok(name, &fifo) || topic_find(name)) {
			log_warn("topics: %s: skipping a bad topic entry", state_path);
			continue;
		}
		t = topic_new(name, 0, obj_field(o, "attributes"));
		if (!t)
			break;
		if (json_object_object_get_ex(o, "owner", &v))
			t->owner = (uid_t)json_object_get_int64(v);
		if (json_object_object_get_ex(o, "created_ns", &v))
			t->created_ns = json_object_get_uint64(v);
		kmq_topic_inbox(t->inbox.name, name);
		if (json_object_object_get_ex(o, "subscriptions", &subs) &&
		    json_object_is_type(subs, json_type_array)) {
			for (j = 0; j < json_object_array_length(subs); j++) {
				json_object *so = json_object_array_get_idx(subs, j);
				const char *arn = str_field(so, "arn");
				const char *ep = str_field(so, "endpoint");
				const char *ps = str_field(so, "protocol");
				json_object *attrs = obj_field(so, "attributes");
				int proto = ps ? proto_parse(ps) : -1;
				char err[ERRLEN];
				struct sub *s;

				if (!arn || !ep || proto < 0)
					continue;
				s = sub_new(t, proto, ep, 0, arn);
				if (!s)
					continue;
				if (json_object_object_get_ex(so, "owner", &v))
					s->owner = (uid_t)json_object_get_int64(v);
				if (sub_apply(s, attrs ? attrs : s->attrs, err) ||
				    sub_endpoint(d, t, s, err)) {
					log_warn("topic %s: subscription %s: %s", name, arn, err);
					sub_free(s);
					continue;
				}
				sub_link(t, s);
				deliver_sub_join(t, s);
				url_check_loaded(d, t, s);
			}
		}
		topic_link(t);
	}
	json_object_put(root);
	return 0;
}

int topic_init(struct kmqd *d)
{
	struct topic *t;
	int err;

	mkdir(d->cfg.state_dir, 0755);
	err = http_init(d);
	if (err)
		log_warn("topics: libcurl: %s; http subscriptions will fail", strerror(-err));
	snprintf(state_path, sizeof(state_path), "%s/" TOPICS_FILE, d->cfg.state_dir);
	err = load(d);
	if (err) {
		log_err("topics: %s is not a topics file; starting with none", state_path);
		return 0;
	}
	for (t = topics; t; t = t->next) {
		err = deliver_start(d, t);
		if (err)
			log_warn("topic %s: inbox %s: %s", t->name, t->inbox.name,
				 strerror(-err));
		else
			log_info("topic %s: %u subscriptions", t->name, t->nsubs);
	}
	return 0;
}

void topic_fini(struct kmqd *d)
{
	struct topic *t;

	while ((t = topics)) {
		topics = t->next;
		topic_free(d, t, false);
	}
	http_fini(d);
}
