/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deliveries to endpoints that answer (http/https: http.c, exec: exec.c):
 * each delivery is a job with its own attempts, spaced by the
 * subscription's SNS delivery policy (endpoint.c), throttled, and sent to
 * the subscription's dead-letter queue when its retries run out. Jobs live
 * in kmqd's memory: the inbox record is released once the job exists, so a
 * kmqd crash loses the retries in progress (queue subscriptions are the
 * at-least-once path; see include/kmq/topic.h).
 */
#ifndef KMQD_ENDPOINT_H
#define KMQD_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>
#include "topic.h"

struct job {
	struct endpoint *ep;
	char *payload;
	size_t len;
	char msgid[37];
	char **env;			/* exec: NAME=value, NULL-terminated */
	unsigned int attempt;		/* attempts made */
	uint64_t first_ns;
	uint64_t id, sent_ns;		/* the inbox message's (probes.h) */
	struct timer timer;
	void *proto;			/* http.c / exec.c state of the attempt */
	struct job *next;
	struct job *rnext;
};

struct endpoint {
	struct kmqd *d;
	struct sub *s;
	struct topic *t;
	struct delivery_policy pol;
	char dlq[KMQ_NAME_LEN];		/* "" : none */
	struct job *waiting, **wtail;	/* due, not started (throttle, limit) */
	struct job *delayed;		/* waiting for their retry time */
	struct job *running;		/* attempts in flight (rnext) */
	unsigned int inflight;
	double tokens;
	uint64_t tokens_ns;
	struct timer kick;
	uint64_t attempts, retries, dead_lettered, dropped;
};

/* delivery_policy_parse - @json (may be NULL: defaults for @proto) into
 * @p; -EINVAL with the reason in @err. */
int delivery_policy_parse(const char *json, enum sub_proto proto,
			  struct delivery_policy *p, char *err, size_t errlen);
/* retry_delay_ns - the delay before retry @k (1..num_retries), with its
 * phase and backoff function, before jitter. */
uint64_t retry_delay_ns(const struct delivery_policy *p, unsigned int k);

/* endpoint_new/free - @s's delivery state (subscribe, unsubscribe). */
struct endpoint *endpoint_new(struct kmqd *d, struct topic *t, struct sub *s);
void endpoint_free(struct endpoint *ep);
/* endpoint_configure - take @s's DeliveryPolicy and RedrivePolicy. */
int endpoint_configure(struct endpoint *ep, char *err, size_t errlen);
/* endpoint_submit - a delivery of @payload (copied) to @ep, of the inbox
 * message @id sent at @sent_ns (for kmqd:deliver and kmqd:retry). */
int endpoint_submit(struct endpoint *ep, const void *payload, size_t len,
		    const char *msgid, char **env, uint64_t id,
		    uint64_t sent_ns);
/* endpoint_done - an attempt of @j ended: @ok, else @why for the log. */
void endpoint_done(struct job *j, bool ok, const char *why);

/* http.c, exec.c: start one attempt (0, or -errno: it failed at once and
 * endpoint_done is not called). Cancel: stop it, no callback. */
int http_start(struct job *j);
void http_cancel(struct job *j);
int http_init(struct kmqd *d);
void http_fini(struct kmqd *d);
int exec_start(struct job *j);
void exec_cancel(struct job *j);

/* redrive_dlq - the deadLetterTargetArn of RedrivePolicy @redrive (NAME,
 * kmq:///NAME or an ARN ending in :NAME) into @out; -EINVAL. */
int redrive_dlq(const char *redrive, char out[KMQ_NAME_LEN]);

/* deliver.c: send one message to a queue by name (a DLQ) for a
 * subscription of @owner (who must be allowed to send to it, -EACCES); a
 * FIFO queue gets group @group ("kmq-dlq" when NULL) and deduplication id
 * @dedup (the MessageId). 0 or -errno. */
int deliver_to_queue(struct kmqd *d, uid_t owner, const char *name,
		     const void *body, size_t len, const char *group,
		     const char *dedup);

#endif /* KMQD_ENDPOINT_H */
