// SPDX-License-Identifier: GPL-2.0
/*
 * Endpoint deliveries (endpoint.h): the SNS delivery policy (four phases:
 * immediate retries, pre-backoff at minDelayTarget, backoff from min to max
 * by a linear/arithmetic/geometric/exponential function, post-backoff at
 * maxDelayTarget; +-10% jitter), the maxReceivesPerSecond token bucket,
 * a concurrency limit, and the subscription dead-letter queue. A slow
 * endpoint holds only its own jobs: attempts run asynchronously (curl multi,
 * child processes) in kmqd's one loop.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "endpoint.h"
#include "probes.h"

#define NS		1000000000ULL
#define JITTER		0.10

static int bad(char *err, size_t n, const char *why)
{
	snprintf(err, n, "Invalid parameter: DeliveryPolicy: %s", why);
	return -EINVAL;
}

static int get_uint(json_object *o, const char *key, unsigned int min,
		    unsigned int max, unsigned int *out, char *err, size_t n)
{
	json_object *v;
	int64_t x;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, n, "Invalid parameter: DeliveryPolicy: %s must be an integer", key);
		return -EINVAL;
	}
	x = json_object_get_int64(v);
	if (x < min || x > max) {
		snprintf(err, n, "Invalid parameter: DeliveryPolicy: %s must be %u..%u", key,
			 min, max);
		return -EINVAL;
	}
	*out = (unsigned int)x;
	return 0;
}

int delivery_policy_parse(const char *json, enum sub_proto proto,
			  struct delivery_policy *p, char *err, size_t errlen)
{
	json_object *root, *h = NULL, *t = NULL, *x = NULL, *v;
	int e = 0;

	memset(p, 0, sizeof(*p));
	if (proto == PROTO_QUEUE) {
		/* A full queue: 50 retries 1 ms apart (its consumer makes
		 * room), then 50 from 1 to 20 s apart: about 9 minutes, after
		 * which the record goes to the subscription's DLQ. */
		p->min_delay = 1;
		p->max_delay = 20;
		p->num_retries = 100;
		p->no_delay = 50;
		p->max_concurrency = 1;
		p->timeout_s = 1;
	} else if (proto == PROTO_EXEC) {
		p->min_delay = p->max_delay = 1;
		p->num_retries = 2;
		p->max_concurrency = 4;
		p->timeout_s = 30;
	} else {
		p->min_delay = p->max_delay = 20;	/* SNS's HTTP default */
		p->num_retries = 3;
		p->max_concurrency = 16;
		p->timeout_s = 15;
	}
	p->backoff = BACKOFF_LINEAR;
	if (!json || !*json)
		return 0;
	root = json_tokener_parse(json);
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return bad(err, errlen, "not a JSON object");
	}
	json_object_object_get_ex(root, "healthyRetryPolicy", &h);
	json_object_object_get_ex(root, "throttlePolicy", &t);
	json_object_object_get_ex(root, "execPolicy", &x);
	if (h)		/* a policy given: its phases are all the user's */
		p->no_delay = 0;
	e = get_uint(h, "minDelayTarget", 0, 3600, &p->min_delay, err, errlen) ||
	    get_uint(h, "maxDelayTarget", 0, 3600, &p->max_delay, err, errlen) ||
	    get_uint(h, "numRetries", 0, 100, &p->num_retries, err, errlen) ||
	    get_uint(h, "numNoDelayRetries", 0, 100, &p->no_delay, err, errlen) ||
	    get_uint(h, "numMinDelayRetries", 0, 100, &p->min_delay_retries, err, errlen) ||
	    get_uint(h, "numMaxDelayRetries", 0, 100, &p->max_delay_retries, err, errlen) ||
	    get_uint(t, "maxReceivesPerSecond", 1, 1000000, &p->max_per_second, err, errlen) ||
	    get_uint(x, "maxConcurrency", 1, 1024, &p->max_concurrency, err, errlen) ||
	    get_uint(x, "timeoutSeconds", 1, 900, &p->timeout_s, err, errlen) ? -EINVAL : 0;
	if (!e && h && json_object_object_get_ex(h, "backoffFunction", &v)) {
		const char *f = json_object_get_string(v);

		if (!strcmp(f, "linear"))
			p->backoff = BACKOFF_LINEAR;
		else if (!strcmp(f, "arithmetic"))
			p->backoff = BACKOFF_ARITHMETIC;
		else if (!strcmp(f, "geometric"))
			p->backoff = BACKOFF_GEOMETRIC;
		else if (!strcmp(f, "exponential"))
			p->backoff = BACKOFF_EXPONENTIAL;
		else
			e = bad(err, errlen, "backoffFunction must be linear, arithmetic, geometric or exponential");
	}
	if (!e && p->min_delay > p->max_delay)
		e = bad(err, errlen, "minDelayTarget must not exceed maxDelayTarget");
	if (!e && p->no_delay + p->min_delay_retries + p->max_delay_retries > p->num_retries)
		e = bad(err, errlen, "numNoDelayRetries + numMinDelayRetries + numMaxDelayRetries must not exceed numRetries");
	json_object_put(root);
	return e;
}

uint64_t retry_delay_ns(const struct delivery_policy *p, unsigned int k)
{
	unsigned int n, i;
	double lo = p->min_delay, hi = p->max_delay, f, d;

	if (k <= p->no_delay)
		return 0;
	if (k <= p->no_delay + p->min_delay_retries)
		return (uint64_t)(lo * NS);
	if (k > p->num_retries - p->max_delay_retries)
		return (uint64_t)(hi * NS);
	n = p->num_retries - p->no_delay - p->min_delay_retries - p->max_delay_retries;
	i = k - p->no_delay - p->min_delay_retries;	/* 1..n */
	switch (p->backoff) {
	case BACKOFF_ARITHMETIC:	/* steps growing by one each time */
		f = (double)i * (i + 1) / ((double)n * (n + 1));
		break;
	case BACKOFF_GEOMETRIC:		/* a constant ratio */
		if (lo <= 0)
			lo = 0.001;
		d = lo * pow(hi / lo, (double)i / n);
		return (uint64_t)(d * NS);
	case BACKOFF_EXPONENTIAL:
		f = (pow(2, i) - 1) / (pow(2, n) - 1);
		break;
	default:
		f = (double)i / n;
		break;
	}
	return (uint64_t)((lo + (hi - lo) * f) * NS);
}

static uint64_t jitter(uint64_t ns)
{
	double r = (double)random() / RAND_MAX * 2 - 1;	/* -1..1 */

	return (uint64_t)((double)ns * (1 + JITTER * r));
}

/* ---- jobs ---------------------------------------------------------------- */

static void job_free(struct job *j)
{
	char **e;

	if (j->env)
		for (e = j->env; *e; e++)
			free(*e);
	free(j->env);
	free(j->payload);
	free(j);
}

static void pump(struct endpoint *ep);

static void on_kick(struct kmqd *d, void *arg)
{
	pump(arg);
}

static bool take_token(struct endpoint *ep)
{
	uint64_t now = mono_ns();
	double rate = ep->pol.max_per_second;

	if (!rate)
		return true;
	ep->tokens += (double)(now - ep->tokens_ns) / NS * rate;
	if (ep->tokens > rate)
		ep->tokens = rate;
	ep->tokens_ns = now;
	if (ep->tokens >= 1) {
		ep->tokens -= 1;
		return true;
	}
	timer_arm(ep->d, &ep->kick, now + (uint64_t)((1 - ep->tokens) / rate * NS) + 1);
	return false;
}

static void unlink_running(struct endpoint *ep, struct job *j)
{
	struct job **p;

	for (p = &ep->running; *p; p = &(*p)->rnext)
		if (*p == j) {
			*p = j->rnext;
			break;
		}
	j->rnext = NULL;
}

static int start(struct job *j)
{
	j->rnext = j->ep->running;
	j->ep->running = j;
	j->attempt++;
	j->ep->attempts++;
	if (j->attempt > 1)
		j->ep->retries++;
	if (j->attempt > 1)
		KMQD_PROBE3(retry, j->ep->t->name, j->id, j->attempt);
	return j->ep->s->proto == PROTO_EXEC ? exec_start(j) : http_start(j);
}

static void pump(struct endpoint *ep)
{
	while (ep->waiting && ep->inflight < ep->pol.max_concurrency) {
		struct job *j = ep->waiting;
		int err;

		if (!take_token(ep))
			return;
		ep->waiting = j->next;
		if (!ep->waiting)
			ep->wtail = &ep->waiting;
		j->next = NULL;
		ep->inflight++;
		err = start(j);
		if (err) {
			char why[64];

			if (err == -EACCES) {	/* http_allow: no retry helps */
				snprintf(why, sizeof(why), "not allowed by [topics] http_allow");
				j->attempt = ep->pol.num_retries + 1;
			} else {
				snprintf(why, sizeof(why), "could not start: %s", strerror(-err));
			}
			endpoint_done(j, false, why);
		}
	}
}

static void enqueue(struct endpoint *ep, struct job *j)
{
	j->next = NULL;
	*ep->wtail = j;
	ep->wtail = &j->next;
}

static void unlink_delayed(struct endpoint *ep, struct job *j)
{
	struct job **p;

	for (p = &ep->delayed; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
}

static void on_retry_due(struct kmqd *d, void *arg)
{
	struct job *j = arg;
	struct endpoint *ep = j->ep;

	unlink_delayed(ep, j);
	enqueue(ep, j);
	pump(ep);
}

void endpoint_done(struct job *j, bool ok, const char *why)
{
	struct endpoint *ep = j->ep;
	struct sub *s = ep->s;
	uint64_t delay;
	int err;

	ep->inflight--;
	unlink_running(ep, j);
	if (ok) {
		s->delivered++;
		ep->t->delivered++;
		KMQD_PROBE4(deliver, ep->t->name, j->id, j->sent_ns, (uint32_t)j->len);
		job_free(j);
		pump(ep);
		return;
	}
	if (j->attempt <= ep->pol.num_retries) {
		delay = retry_delay_ns(&ep->pol, j->attempt);
		log_debug("topic %s: %s: attempt %u of message %s failed (%s); retry in %.3f s",
			  ep->t->name, s->endpoint, j->attempt, j->msgid, why,
			  (double)delay / NS);
		if (!delay) {
			enqueue(ep, j);
		} else {
			j->timer.cb = on_retry_due;
			j->timer.arg = j;
			j->next = ep->delayed;
			ep->delayed = j;
			timer_arm(ep->d, &j->timer, mono_ns() + jitter(delay));
		}
		pump(ep);
		return;
	}
	s->failed++;
	ep->t->failed++;
	if (ep->dlq[0]) {
		err = deliver_to_queue(ep->d, s->owner, ep->dlq, j->payload, j->len,
				       NULL, j->msgid);
		if (!err) {
			ep->dead_lettered++;
			log_info("topic %s: %s: message %s to dead-letter queue %s after %u attempts (%s)",
				 ep->t->name, s->endpoint, j->msgid, ep->dlq, j->attempt, why);
		} else {
			ep->dropped++;
			log_warn("topic %s: %s: message %s dropped: dead-letter queue %s: %s",
				 ep->t->name, s->endpoint, j->msgid, ep->dlq, strerror(-err));
		}
	} else {
		ep->dropped++;
		log_warn("topic %s: %s: message %s dropped after %u attempts (%s); no RedrivePolicy",
			 ep->t->name, s->endpoint, j->msgid, j->attempt, why);
	}
	job_free(j);
	pump(ep);
}

int endpoint_submit(struct endpoint *ep, const void *payload, size_t len,
		    const char *msgid, char **env, uint64_t id,
		    uint64_t sent_ns)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->payload = malloc(len + 1);
	if (!j->payload) {
		free(j);
		return -ENOMEM;
	}
	memcpy(j->payload, payload, len);
	j->payload[len] = 0;
	j->len = len;
	j->ep = ep;
	j->env = env;
	j->first_ns = real_ns();
	j->id = id;
	j->sent_ns = sent_ns;
	snprintf(j->msgid, sizeof(j->msgid), "%s", msgid);
	enqueue(ep, j);
	pump(ep);
	return 0;
}

/* ---- endpoints -------------------------------------------------------------- */

static const char *attr(struct sub *s, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(s->attrs, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* A DLQ target: NAME, kmq:///NAME, or an ARN ending in :NAME. */
int redrive_dlq(const char *redrive, char out[KMQ_NAME_LEN])
{
	json_object *o = json_tokener_parse(redrive), *v;
	const char *s, *c;
	int err = -EINVAL;

	out[0] = 0;
	if (o && json_object_object_get_ex(o, "deadLetterTargetArn", &v)) {
		s = json_object_get_string(v);
		if (!strncmp(s, "kmq:///", 7))
			s += 7;
		else if (!strncmp(s, "arn:", 4) && (c = strrchr(s, ':')))
			s = c + 1;
		if (kmq_name_valid(s)) {
			snprintf(out, KMQ_NAME_LEN, "%s", s);
			err = 0;
		}
	}
	json_object_put(o);
	return err;
}

int endpoint_configure(struct endpoint *ep, char *err, size_t errlen)
{
	struct delivery_policy p;
	char dlq[KMQ_NAME_LEN] = "";
	const char *r = attr(ep->s, "RedrivePolicy");
	int e;

	e = delivery_policy_parse(attr(ep->s, "DeliveryPolicy"), ep->s->proto, &p,
				  err, errlen);
	if (e)
		return e;
	if (r && *r && redrive_dlq(r, dlq)) {
		snprintf(err, errlen, "Invalid parameter: RedrivePolicy: deadLetterTargetArn is not a queue name or ARN");
		return -EINVAL;
	}
	ep->pol = p;
	memcpy(ep->dlq, dlq, sizeof(dlq));
	return 0;
}

struct endpoint *endpoint_new(struct kmqd *d, struct topic *t, struct sub *s)
{
	struct endpoint *ep = calloc(1, sizeof(*ep));

	if (!ep)
		return NULL;
	ep->d = d;
	ep->t = t;
	ep->s = s;
	ep->wtail = &ep->waiting;
	ep->kick.cb = on_kick;
	ep->kick.arg = ep;
	ep->tokens_ns = mono_ns();
	return ep;
}

void endpoint_free(struct endpoint *ep)
{
	struct job *j, *n;

	if (!ep)
		return;
	timer_cancel(ep->d, &ep->kick);
	for (j = ep->waiting; j; j = n) {
		n = j->next;
		job_free(j);
	}
	for (j = ep->delayed; j; j = n) {
		n = j->next;
		timer_cancel(ep->d, &j->timer);
		job_free(j);
	}
	/* Attempts in flight: stopped, with no callback. */
	for (j = ep->running; j; j = n) {
		n = j->rnext;
		if (ep->s->proto == PROTO_EXEC)
			exec_cancel(j);
		else
			http_cancel(j);
		job_free(j);
	}
	free(ep);
}
