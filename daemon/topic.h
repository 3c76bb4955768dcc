/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmqd's topics: the registry and its persistence (topic.c), the drain of
 * each topic's inbox and the fan-out to subscriptions (deliver.c). The
 * shared format with libkmq is include/kmq/topic.h.
 */
#ifndef KMQD_TOPIC_H
#define KMQD_TOPIC_H

#include "journal.h"
#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include <kmq/topic.h>
#include "kmqd.h"
#include "filter.h"

/* A queue kmqd sends to or drains: through its own store (shm backend) or
 * a libkmq handle on kmq.ko (kernel backend). */
struct tq {
	char name[KMQ_NAME_LEN];
	struct kmq *k;		/* kernel backend: opened on first use */
	uint64_t created_ns;	/* kernel: the queue @k is (kmq_qinfo) */
	uint64_t checked_ns;	/* kernel: when @name last still named it */
	bool watched;		/* kernel inbox: kmq_fd() is in the loop */
};

enum sub_proto { PROTO_QUEUE, PROTO_HTTP, PROTO_HTTPS, PROTO_EXEC };

enum backoff_fn { BACKOFF_LINEAR, BACKOFF_ARITHMETIC, BACKOFF_GEOMETRIC,
		  BACKOFF_EXPONENTIAL };

/* DeliveryPolicy, as SNS: healthyRetryPolicy, throttlePolicy; and for
 * exec, execPolicy {maxConcurrency, timeoutSeconds}. Delays in seconds
 * (queue subscriptions: a 0 s delay is 1 ms, the time a consumer needs to
 * make room). Parsed by endpoint.c for every protocol. */
struct delivery_policy {
	unsigned int min_delay, max_delay;
	unsigned int num_retries, no_delay, min_delay_retries, max_delay_retries;
	enum backoff_fn backoff;
	unsigned int max_per_second;	/* 0: no throttle */
	unsigned int max_concurrency;	/* attempts in flight */
	unsigned int timeout_s;		/* one attempt */
};

struct endpoint;
struct inrec;

struct sub {
	char arn[256];
	enum sub_proto proto;
	char *endpoint;
	uid_t owner;
	json_object *attrs;	/* name -> string value, as given */
	struct filter *filter;	/* NULL: everything */
	bool raw;
	struct tq q;		/* PROTO_QUEUE */
	struct endpoint *ep;	/* the others (endpoint.h) */
	struct topic *t;	/* once linked */
	/* PROTO_QUEUE: DeliveryPolicy (a full queue) and RedrivePolicy. */
	struct delivery_policy pol;
	char dlq[KMQ_NAME_LEN];	/* "": none */
	/* deliver.c, within one drain: the queue resolved once, and the
	 * wake-ups owed to its sleepers, made once at the end. */
	struct kmq_fast *cf;
	struct queue *cq;
	unsigned int cwho;
	/* deliver.c: the next record of the topic's window this subscription
	 * has to handle, and the retries of that record (a full queue). */
	uint64_t pos;
	unsigned int attempt;
	struct timer retry;
	/* deliver.c: may @owner send to the queue that has the name now? */
	int perm;		/* 0, -EACCES or -ENOENT */
	uint64_t perm_ns;	/* when last looked at; 0: never */
	const void *perm_q;	/* shm: the store's queue it was */
	bool fifo_q;		/* PROTO_QUEUE to a FIFO queue */
	uint64_t delivered, filtered, failed;
	uint64_t retries, dead_lettered, dropped;	/* PROTO_QUEUE */
	struct sub *next;
};

struct topic {
	char name[KMQ_NAME_LEN];
	char arn[128];
	bool fifo;
	uid_t owner;
	uint64_t created_ns;
	json_object *attrs;
	struct tq inbox;
	struct sub *subs;
	unsigned int nsubs;
	/* The window (deliver.c): records [base, end) borrowed from the
	 * inbox, each until every subscription is past it. */
	struct kmqd *d;
	struct inrec *win;
	unsigned int wcap;
	uint64_t base, end;
	bool held;		/* win[end] is borrowed, not yet admitted */
	/* FIFO topics, at start: what the inbox held, borrowed at once and
	 * sorted by publish time (deliver.c, recover_order), taken before
	 * the inbox: [istash, nstash). */
	struct kmq_msg *stash;
	unsigned int nstash, istash;
	struct timer retry;
	uint64_t published, delivered, filtered, failed, corrupt;
	/* FIFO topics: deduplication ids seen in the last 5 minutes. */
	bool cbd;			/* ContentBasedDeduplication */
	struct dedup **dd;
	unsigned int ndd, dd_size;
	struct journal ddj;		/* the window on disk (deliver.c) */
	uint64_t deduplicated;
	struct topic *next;
};

/* topic.c */
int topic_init(struct kmqd *d);
void topic_fini(struct kmqd *d);
/* topic_reload - SIGHUP: log the http(s) subscriptions [topics] http_allow
 * no longer takes (their deliveries fail from now on: http.c). */
void topic_reload(struct kmqd *d);
/* topic_cmd - a KMQ_WIRE_TOPIC request (NUL-terminated JSON), answered. */
void topic_cmd(struct kmqd *d, struct conn *c, const void *body, size_t len);
/* topic_queue_event - shm: queue @q's notify FIFO fired. */
void topic_queue_event(struct kmqd *d, struct queue *q);
struct topic *topic_list(void);

/* deliver.c */
void dedup_free(struct topic *t, bool forget);
/* deliver_start - begin draining @t's inbox (watch it, drain what is
 * there). 0 or -errno (the inbox is missing). */
int deliver_start(struct kmqd *d, struct topic *t);
void deliver_stop(struct kmqd *d, struct topic *t);
/* deliver_drain - deliver what @t's inbox holds, then arm its wake-up. */
void deliver_drain(struct kmqd *d, struct topic *t);
/* tq_info - describe queue @name on whichever backend serves it. */
int tq_info(struct kmqd *d, const char *name, struct kmq_info *info);
void tq_close(struct tq *e);
/* deliver_sub_gone - @s leaves its topic (its handle closes, its retry
 * stops); the caller drains the topic again once @s is unlinked. */
void deliver_sub_gone(struct sub *s);
/* deliver_sub_join - @s (linked to @t now) starts after the records in
 * delivery. */
void deliver_sub_join(struct topic *t, struct sub *s);

/* sqs.c: kmqd's own SQS send into FIFO queue @q (shm backend). */
struct kmq_sqsmsg;
int sqs_send_local(struct queue *q, struct kmq_sqsmsg *m, const void *attrs,
		   const void *body);

#endif /* KMQD_TOPIC_H */
