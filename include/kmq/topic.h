/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Topics: what libkmq (publish.c) and kmqd (daemon/topic.c) share. This
 * header is the specification of both halves.
 *
 * == The publish path ==
 *
 * Every topic has an inbox: a plain kmq queue named KMQ_TOPIC_INBOX_FMT
 * (topic "orders" -> queue "orders.topic"), created with the topic, served
 * like any other queue (kmq.ko on the kernel backend, kmqd on shm). A
 * publisher opens the inbox for sending and writes one struct kmq_pub
 * record per message, in place in a slot, on the shared-memory fast path:
 * no system call, no socket round trip while kmqd is awake. A publish is
 * acknowledged (kmq_publish returns) once the record is on the inbox's ready
 * ring: from then on kmqd is responsible for it. The inbox survives kmqd
 * (kill -9 included): kmqd borrows a record, delivers it to every matching
 * subscription, and only then releases the slot; a kmqd that dies in between
 * gets the record back from the queue's crash repair and delivers it again.
 * Delivery is therefore at least once: a subscriber may see a message twice
 * (with the same MessageId) after a kmqd crash, never zero times.
 *
 * == The record ==
 *
 * struct kmq_pub, then subject_len bytes of subject, group_len bytes of
 * MessageGroupId, dedup_len bytes of MessageDeduplicationId, attr_len bytes
 * of message attributes (the uapi header's "Message attributes" encoding,
 * kmq_attrs_encode) and body_len bytes of body, unpadded. The slot's length
 * is exactly their sum. kmqd copies a record out of the slot before it
 * looks at it and drops (and counts) a record that breaks any rule here.
 *
 * FIFO topics (names ending in ".fifo"): a record needs a group id, and a
 * deduplication id unless the topic was created with
 * ContentBasedDeduplication "true" (then it is the SHA-256 of the body, in
 * hex); kmqd drops records without them, and records whose deduplication
 * id it accepted in the last 5 minutes. Every subscription gets the records
 * in inbox order (a full subscriber queue holds only its own line), so every
 * group keeps its order.
 *
 * == Administration: KMQ_WIRE_TOPIC ==
 *
 * One request on kmqd's socket (include/kmq/wire.h), on both backends: the
 * body is a NUL-terminated JSON object {"op": OP, ...}; the reply's body is
 * a NUL-terminated JSON object (status 0) or a reason for humans (status
 * -errno). OPs, with their fields (aws sns names in the replies):
 *
 *   create-topic   name, attributes {}    -> {"TopicArn"}
 *                  (the inbox must exist: kmq_topic_create makes both)
 *   delete-topic   name                   -> {}
 *   list-topics                           -> {"Topics": [{"TopicArn", "Name"}]}
 *   get-topic-attributes name             -> {"Attributes": {...}}
 *   subscribe      topic, protocol, endpoint, attributes {}
 *                                          -> {"SubscriptionArn"}
 *   unsubscribe    subscription            -> {}
 *   list-subscriptions [topic]             -> {"Subscriptions": [...]}
 *   get-subscription-attributes subscription -> {"Attributes": {...}}
 *   set-subscription-attributes subscription, name, value -> {}
 */
#ifndef KMQ_TOPIC_H
#define KMQ_TOPIC_H

#include <linux/types.h>
#include <linux/kmq.h>

#define KMQ_TOPIC_INBOX_FMT	"%s.topic"
#define KMQ_TOPIC_INBOX_SUFFIX	".topic"
/* Topic names: 1..KMQ_TOPIC_NAME_MAX of [A-Za-z0-9_-], FIFO topics ending
 * in ".fifo" (which counts). */
#define KMQ_TOPIC_NAME_MAX	(KMQ_NAME_MAX - 6)
#define KMQ_TOPIC_ARN_PREFIX	"arn:kmq:sns:local:"

#define KMQ_PUB_MAGIC		0x50514d4bU	/* "KMQP" little endian */
#define KMQ_PUB_VERSION		1
#define KMQ_PUB_SUBJECT_MAX	100		/* as SNS */
#define KMQ_PUB_ID_MAX		128		/* group and dedup ids */
/* Inbox geometry kmq_topic_create uses when not told otherwise. */
#define KMQ_TOPIC_CAPACITY	256
#define KMQ_TOPIC_MSG_SIZE	(64 * 1024)

struct kmq_pub {
	__u32 magic;		/* KMQ_PUB_MAGIC */
	__u16 version;		/* KMQ_PUB_VERSION */
	__u16 flags;		/* 0 */
	__u16 subject_len;	/* 0..KMQ_PUB_SUBJECT_MAX */
	__u16 group_len;	/* 0..KMQ_PUB_ID_MAX (FIFO topics: 1..) */
	__u16 dedup_len;	/* 0..KMQ_PUB_ID_MAX */
	__u16 reserved0;
	__u32 attr_len;
	__u32 body_len;
	__u64 stamp;		/* CLOCK_REALTIME ns of the publish: the
				 * envelope's Timestamp and part of the
				 * MessageId; 0: the inbox slot's sent_ns */
};

/* kmq_topic_inbox - the inbox queue's name of topic @topic into @out
 * (KMQ_NAME_LEN bytes, zero-padded); -1 when the topic name is too long. */
static inline int kmq_topic_inbox(char *out, const char *topic)
{
	size_t n = 0, s = sizeof(KMQ_TOPIC_INBOX_SUFFIX) - 1;

	while (topic[n] && n <= KMQ_TOPIC_NAME_MAX)
		n++;
	if (n > KMQ_TOPIC_NAME_MAX)
		return -1;
	__builtin_memset(out, 0, KMQ_NAME_LEN);
	__builtin_memcpy(out, topic, n);
	__builtin_memcpy(out + n, KMQ_TOPIC_INBOX_SUFFIX, s);
	return 0;
}

/*
 * kmq_topic_message_id - the SNS MessageId of a record (UUID-shaped, 36
 * characters and a NUL into @out) from the topic's name, the inbox
 * message id the publish got (kmq_commit's) and the record's stamp. kmqd
 * puts it in the envelope, the http headers and KMQ_MESSAGE_ID;
 * kmq_publish() returns it in struct kmq_pub_msg.message_id. FNV-1a of
 * the name, mixed with the stamp.
 */
static inline void kmq_topic_message_id(char out[37], const char *topic,
					__u64 id, __u64 stamp)
{
	static const char hex[] = "0123456789abcdef";
	__u64 h = 1469598103934665603ULL;
	__u64 a, b;
	int i, o = 0;

	for (; *topic; topic++)
		h = (h ^ (unsigned char)*topic) * 1099511628211ULL;
	h ^= stamp;
	/* xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: id's 60 low bits, then
	 * the variant, 14 bits of h and 48 more of h */
	a = ((id >> 16) << 16 | 0x4000 | (id & 0xfff));	/* 64 bits */
	b = (0x8000ULL | ((h >> 48) & 0x3fff)) << 48 | (h & 0xffffffffffffULL);
	for (i = 0; i < 32; i++) {
		__u64 w = i < 16 ? a : b;
		int sh = 60 - 4 * (i % 16);

		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[o++] = '-';
		out[o++] = hex[(w >> sh) & 15];
	}
	out[o] = 0;
}

#endif /* KMQ_TOPIC_H */
