// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "kmq": the registry's create, delete and info
 * for netlink clients (kmqd, kmqctl), and notifications on the "events"
 * multicast group. Attributes are checked by strict per-command policies
 * and then by the same code as the ioctls (kmq_registry_new(),
 * kmq_registry_delete(), kmq_queue_info()); every refusal says why in the
 * extended ack.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cred.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <net/genetlink.h>
#include <net/netlink.h>

#include "netlink.h"
#include "queue.h"
#include "registry.h"

/* Index of "events" in the family's groups, as genlmsg_multicast*() want. */
enum { KMQ_NL_MCGRP_EVENTS };

static struct genl_family kmq_nl_family;
static bool kmq_nl_registered;

/* ---- policies ------------------------------------------------------------ */

/* NLA_POLICY_RANGE() bounds are s16: larger bounds need a range struct. */
static struct netlink_range_validation kmq_nl_capacity_range = {
	.min = 1, .max = KMQ_CAPACITY_MAX,
};
static struct netlink_range_validation kmq_nl_msg_size_range = {
	.min = 1, .max = KMQ_MSG_MAX,
};

/* A name: NUL-terminated within KMQ_NAME_MAX characters; its characters
 * are kmq_name_check()'s to judge. */
#define KMQ_NL_NAME_POLICY { .type = NLA_NUL_STRING, .len = KMQ_NAME_MAX }

static const struct nla_policy kmq_nl_create_policy[KMQ_GENL_A_FLAGS + 1] = {
	[KMQ_GENL_A_NAME]	  = KMQ_NL_NAME_POLICY,
	[KMQ_GENL_A_TYPE]	  = NLA_POLICY_RANGE(NLA_U32, KMQ_TYPE_QUEUE,
						     KMQ_TYPE_QUEUE),
	[KMQ_GENL_A_CAPACITY]	  = NLA_POLICY_FULL_RANGE(NLA_U32,
						&kmq_nl_capacity_range),
	[KMQ_GENL_A_MAX_MSG_SIZE] = NLA_POLICY_FULL_RANGE(NLA_U32,
						&kmq_nl_msg_size_range),
	[KMQ_GENL_A_MODE]	  = NLA_POLICY_RANGE(NLA_U32, 0, 0777),
	[KMQ_GENL_A_FLAGS]	  = NLA_POLICY_MASK(NLA_U32, KMQ_CREATE_EXCL |
							    KMQ_CREATE_FIFO),
};

static const struct nla_policy kmq_nl_name_policy[KMQ_GENL_A_NAME + 1] = {
	[KMQ_GENL_A_NAME]	  = KMQ_NL_NAME_POLICY,
};

/* A required attribute: missing, it is named in the ack (miss_type). */
#define KMQ_NL_REQUIRE(info, attr, msg) ({				\
	bool __missing = GENL_REQ_ATTR_CHECK(info, attr);		\
									\
	if (__missing)							\
		NL_SET_ERR_MSG((info)->extack, msg);			\
	__missing;							\
})

#define KMQ_NL_NAME_RULE \
	"queue name must be 1-80 characters of A-Z a-z 0-9 _ . -"

/* @a into the zero-filled name field @name, checked as the ioctls do. */
static int kmq_nl_name(const struct nlattr *a, char name[KMQ_NAME_LEN],
		       struct netlink_ext_ack *extack)
{
	/* The policy found a NUL; it must also be the last byte. */
	if (strnlen(nla_data(a), nla_len(a)) != nla_len(a) - 1) {
		NL_SET_ERR_MSG_ATTR(extack, a, "queue name has bytes after its NUL");
		return -EINVAL;
	}
	memset(name, 0, KMQ_NAME_LEN);
	nla_strscpy(name, a, KMQ_NAME_LEN);
	if (kmq_name_check(name)) {
		NL_SET_ERR_MSG_ATTR(extack, a, KMQ_NL_NAME_RULE);
		return -EINVAL;
	}
	return 0;
}

/* ---- queue attributes ------------------------------------------------------ */

static size_t kmq_nl_info_size(void)
{
	return nla_total_size(KMQ_NAME_LEN) +		/* NAME */
	       9 * nla_total_size(sizeof(u32)) +	/* TYPE..CLIENTS */
	       20 * nla_total_size_64bit(sizeof(u64));	/* FEATURES.. */
}

static int kmq_nl_put_info(struct sk_buff *skb, const struct kmq_info *i)
{
	if (nla_put_string(skb, KMQ_GENL_A_NAME, i->name) ||
	    nla_put_u32(skb, KMQ_GENL_A_TYPE, i->type) ||
	    nla_put_u32(skb, KMQ_GENL_A_CAPACITY, i->capacity) ||
	    nla_put_u32(skb, KMQ_GENL_A_MAX_MSG_SIZE, i->max_msg_size) ||
	    nla_put_u32(skb, KMQ_GENL_A_SLOT_SIZE, i->slot_size) ||
	    nla_put_u32(skb, KMQ_GENL_A_MODE, i->mode) ||
	    nla_put_u32(skb, KMQ_GENL_A_UID, i->uid) ||
	    nla_put_u32(skb, KMQ_GENL_A_GID, i->gid) ||
	    nla_put_u32(skb, KMQ_GENL_A_CLIENTS, i->clients) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_FEATURES, i->features,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_SIZE, i->size, KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_FREE_OFF, i->free_off,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_READY_OFF, i->ready_off,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_SLOTS_OFF, i->slots_off,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_CREATED_NS, i->created_ns,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_READY, i->ready, KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_HELD, i->held, KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_SENT, i->sent, KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_RECEIVED, i->received,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_REPAIRED, i->repaired,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_CORRUPT, i->corrupt,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_LEASED, i->leased,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_DELAYED, i->delayed,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_QUEUED, i->queued,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_LEASE_EXPIRED, i->lease_expired,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_DEAD_LETTERED, i->dead_lettered,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_DLQ_FAILED, i->dlq_failed,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_EXPIRED, i->expired,
			      KMQ_GENL_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQ_GENL_A_DEDUPLICATED, i->deduplicated,
			      KMQ_GENL_A_PAD))
		return -EMSGSIZE;
	return 0;
}

/* ---- commands -------------------------------------------------------------- */

static int kmq_nl_create(struct sk_buff *skb, struct genl_info *info)
{
	struct netlink_ext_ack *extack = info->extack;
	struct nlattr **a = info->attrs;
	u32 type = KMQ_TYPE_QUEUE, mode = 0600, flags = 0;
	bool excl, created;
	char name[KMQ_NAME_LEN];
	struct kmq_queue *q;
	int err;

	if (KMQ_NL_REQUIRE(info, KMQ_GENL_A_NAME, "queue name missing") ||
	    KMQ_NL_REQUIRE(info, KMQ_GENL_A_CAPACITY, "capacity missing") ||
	    KMQ_NL_REQUIRE(info, KMQ_GENL_A_MAX_MSG_SIZE,
			   "maximum message size missing"))
		return -EINVAL;
	err = kmq_nl_name(a[KMQ_GENL_A_NAME], name, extack);
	if (err)
		return err;
	if (a[KMQ_GENL_A_TYPE])
		type = nla_get_u32(a[KMQ_GENL_A_TYPE]);
	if (a[KMQ_GENL_A_MODE])
		mode = nla_get_u32(a[KMQ_GENL_A_MODE]);
	if (a[KMQ_GENL_A_FLAGS])
		flags = nla_get_u32(a[KMQ_GENL_A_FLAGS]);
	excl = flags & KMQ_CREATE_EXCL;

	err = kmq_registry_new(name, type,
			       nla_get_u32(a[KMQ_GENL_A_CAPACITY]),
			       nla_get_u32(a[KMQ_GENL_A_MAX_MSG_SIZE]), mode,
			       flags, &q, &created);
	switch (err) {
	case 0:
		kmq_queue_put(q);
		break;
	case -EEXIST:
		if (excl)
			NL_SET_ERR_MSG_ATTR(extack, a[KMQ_GENL_A_NAME],
					    "queue exists (KMQ_CREATE_EXCL)");
		else
			NL_SET_ERR_MSG_ATTR(extack, a[KMQ_GENL_A_NAME],
					    "queue exists with another capacity or message size");
		break;
	case -ENOSPC:
		NL_SET_ERR_MSG(extack,
			       "module limit reached: max_queues or max_bytes");
		break;
	case -EDQUOT:
		NL_SET_ERR_MSG(extack,
			       "owner's queue memory limit reached: max_user_bytes");
		break;
	case -ENOMEM:
		NL_SET_ERR_MSG(extack, "out of memory for the queue");
		break;
	case -EINTR:
		NL_SET_ERR_MSG(extack, "interrupted while allocating the queue");
		break;
	default:
		NL_SET_ERR_MSG(extack, "queue not created");
		break;
	}
	return err;
}

static int kmq_nl_delete(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *a = info->attrs[KMQ_GENL_A_NAME];
	char name[KMQ_NAME_LEN];
	int err;

	if (KMQ_NL_REQUIRE(info, KMQ_GENL_A_NAME, "queue name missing"))
		return -EINVAL;
	err = kmq_nl_name(a, name, info->extack);
	if (err)
		return err;
	err = kmq_registry_delete(name);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, a, "no such queue");
	else if (err == -EPERM)
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "only the queue's owner or CAP_SYS_ADMIN may delete it");
	else if (err)
		NL_SET_ERR_MSG(info->extack, "queue not deleted");
	return err;
}

static int kmq_nl_get(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *a = info->attrs[KMQ_GENL_A_NAME];
	char name[KMQ_NAME_LEN];
	struct kmq_info qi;
	struct kmq_queue *q;
	struct sk_buff *msg;
	void *hdr;
	int err;

	if (KMQ_NL_REQUIRE(info, KMQ_GENL_A_NAME, "queue name missing"))
		return -EINVAL;
	err = kmq_nl_name(a, name, info->extack);
	if (err)
		return err;
	q = kmq_registry_lookup(name);
	if (!q) {
		NL_SET_ERR_MSG_ATTR(info->extack, a, "no such queue");
		return -ENOENT;
	}
	kmq_queue_info(q, &qi);
	kmq_queue_put(q);

	msg = genlmsg_new(kmq_nl_info_size(), GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kmq_nl_family, 0, KMQ_GENL_CMD_GET);
	if (!hdr || kmq_nl_put_info(msg, &qi)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * One part of a dump. cb->args[0] is the registry id of the last queue
 * reported (or passed over by the prefix): each part resumes after it, so
 * queues that stay are reported once however many parts the dump takes and
 * whatever is created or deleted between them.
 */
struct kmq_nl_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	const char *prefix;
	size_t plen;
	struct kmq_info info;
};

/* Called under the registry lock: fills skb, never sleeps. */
static int kmq_nl_dump_one(struct kmq_queue *q, void *arg)
{
	struct kmq_nl_dump_ctx *d = arg;
	void *hdr;

	if (d->plen && strncmp(q->name, d->prefix, d->plen)) {
		d->cb->args[0] = q->reg_id;
		return 0;
	}
	kmq_queue_info(q, &d->info);
	hdr = genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid,
			  d->cb->nlh->nlmsg_seq, &kmq_nl_family, NLM_F_MULTI,
			  KMQ_GENL_CMD_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (kmq_nl_put_info(d->skb, &d->info)) {
		genlmsg_cancel(d->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(d->skb, hdr);
	d->cb->args[0] = q->reg_id;
	return 0;
}

/*
 * The dump's prefix, when given, is checked in the first part: on 6.1
 * a dump's start callback has no extended ack to explain a refusal, while
 * the dump itself has one (sent with NLMSG_DONE).
 */
static int kmq_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);
	struct nlattr *a = di->attrs ? di->attrs[KMQ_GENL_A_NAME] : NULL;
	struct kmq_nl_dump_ctx *d;
	int err;

	d = kmalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	if (a && !cb->args[0]) {
		char name[KMQ_NAME_LEN];

		err = kmq_nl_name(a, name, cb->extack);
		if (err)
			goto out;
	}
	d->skb = skb;
	d->cb = cb;
	d->prefix = a ? nla_data(a) : NULL;
	d->plen = a ? strnlen(d->prefix, nla_len(a)) : 0;
	err = kmq_registry_walk(cb->args[0], kmq_nl_dump_one, d);
	/* A full message ends this part; an empty one would end the dump. */
	if (!err || skb->len)
		err = skb->len;
out:
	kfree(d);
	return err;
}

static const struct genl_ops kmq_nl_ops[] = {
	{
		.cmd		= KMQ_GENL_CMD_CREATE,
		.doit		= kmq_nl_create,
		.policy		= kmq_nl_create_policy,
		.maxattr	= ARRAY_SIZE(kmq_nl_create_policy) - 1,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KMQ_GENL_CMD_DELETE,
		.doit		= kmq_nl_delete,
		.policy		= kmq_nl_name_policy,
		.maxattr	= ARRAY_SIZE(kmq_nl_name_policy) - 1,
		.flags		= GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd		= KMQ_GENL_CMD_GET,
		.doit		= kmq_nl_get,
		.dumpit		= kmq_nl_dump,
		.policy		= kmq_nl_name_policy,
		.maxattr	= ARRAY_SIZE(kmq_nl_name_policy) - 1,
	},
};

static const struct genl_multicast_group kmq_nl_mcgrps[] = {
	[KMQ_NL_MCGRP_EVENTS] = { .name = KMQ_GENL_MCGRP_EVENTS },
};

static struct genl_family kmq_nl_family __ro_after_init = {
	.name		= KMQ_GENL_NAME,
	.version	= KMQ_GENL_VERSION,
	.module		= THIS_MODULE,
	/* Queues are host-wide, as /dev/kmq is: every namespace sees them. */
	.netnsok	= true,
	/* The registry locks for itself. */
	.parallel_ops	= true,
	/* A new family: strict validation of every command (resv_start_op
	 * 0), with per-command policies. */
	.resv_start_op	= 0,
	.ops		= kmq_nl_ops,
	.n_ops		= ARRAY_SIZE(kmq_nl_ops),
	.mcgrps		= kmq_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kmq_nl_mcgrps),
};

/* ---- notifications --------------------------------------------------------- */

static size_t kmq_nl_event_size(void)
{
	return nla_total_size(sizeof(u32)) +		/* EVENT */
	       2 * nla_total_size(KMQ_NAME_LEN) +	/* NAME, DLQ_NAME */
	       6 * nla_total_size(sizeof(u32)) +
	       2 * nla_total_size_64bit(sizeof(u64));
}

/* A notification of @event about @q with its common attributes, or NULL. */
static struct sk_buff *kmq_nl_event_new(u32 event, const struct kmq_queue *q,
					gfp_t gfp, void **hdr)
{
	struct sk_buff *skb;

	if (!READ_ONCE(kmq_nl_registered))
		return NULL;
	skb = genlmsg_new(kmq_nl_event_size(), gfp);
	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &kmq_nl_family, 0, KMQ_GENL_CMD_EVENT);
	if (!*hdr || nla_put_u32(skb, KMQ_GENL_A_EVENT, event) ||
	    nla_put_string(skb, KMQ_GENL_A_NAME, q->name) ||
	    nla_put_u32(skb, KMQ_GENL_A_UID,
			from_kuid_munged(&init_user_ns, q->uid))) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

/* Finish and multicast @skb to every namespace; it is consumed. */
static void kmq_nl_event_send(struct sk_buff *skb, void *hdr)
{
	genlmsg_end(skb, hdr);
	rcu_read_lock();
	/* -ESRCH (nobody listens) and lost copies are not our errors. */
	genlmsg_multicast_allns(&kmq_nl_family, skb, 0, KMQ_NL_MCGRP_EVENTS);
	rcu_read_unlock();
}

void kmq_nl_queue_created(struct kmq_queue *q)
{
	struct sk_buff *skb;
	void *hdr;

	might_sleep();
	skb = kmq_nl_event_new(KMQ_GENL_EVENT_QUEUE_CREATED, q, GFP_KERNEL,
			       &hdr);
	if (!skb)
		return;
	if (nla_put_u32(skb, KMQ_GENL_A_GID,
			from_kgid_munged(&init_user_ns, q->gid)) ||
	    nla_put_u32(skb, KMQ_GENL_A_MODE, q->mode) ||
	    nla_put_u32(skb, KMQ_GENL_A_CAPACITY, q->layout.capacity) ||
	    nla_put_u32(skb, KMQ_GENL_A_MAX_MSG_SIZE, q->layout.max_msg_size)) {
		nlmsg_free(skb);
		return;
	}
	kmq_nl_event_send(skb, hdr);
}

void kmq_nl_queue_deleted(struct kmq_queue *q)
{
	struct sk_buff *skb;
	void *hdr;

	might_sleep();
	skb = kmq_nl_event_new(KMQ_GENL_EVENT_QUEUE_DELETED, q, GFP_KERNEL,
			       &hdr);
	if (skb)
		kmq_nl_event_send(skb, hdr);
}

void kmq_nl_queue_full(struct kmq_queue *q)
{
	unsigned long now = jiffies, next = READ_ONCE(q->full_next);
	struct sk_buff *skb;
	void *hdr;

	if (!READ_ONCE(kmq_nl_registered))
		return;
	/* One sender wins the interval; the others only count. */
	if (time_before(now, next) ||
	    cmpxchg(&q->full_next, next,
		    now + msecs_to_jiffies(KMQ_GENL_FULL_INTERVAL_MS)) != next) {
		atomic_inc(&q->full_suppressed);
		return;
	}
	skb = kmq_nl_event_new(KMQ_GENL_EVENT_QUEUE_FULL, q, GFP_ATOMIC, &hdr);
	if (!skb)
		return;
	if (nla_put_u32(skb, KMQ_GENL_A_CAPACITY, q->layout.capacity) ||
	    nla_put_u32(skb, KMQ_GENL_A_SUPPRESSED,
			atomic_xchg(&q->full_suppressed, 0))) {
		nlmsg_free(skb);
		return;
	}
	kmq_nl_event_send(skb, hdr);
}

void kmq_nl_msg_dead_lettered(struct kmq_queue *q, const char *dlq_name,
			      u64 msg_id, u32 receive_count)
{
	struct sk_buff *skb;
	void *hdr;

	skb = kmq_nl_event_new(KMQ_GENL_EVENT_MSG_DEAD_LETTERED, q, GFP_ATOMIC,
			       &hdr);
	if (!skb)
		return;
	if (nla_put_u64_64bit(skb, KMQ_GENL_A_MSG_ID, msg_id, KMQ_GENL_A_PAD) ||
	    nla_put_u32(skb, KMQ_GENL_A_RECEIVE_COUNT, receive_count) ||
	    nla_put_string(skb, KMQ_GENL_A_DLQ_NAME, dlq_name)) {
		nlmsg_free(skb);
		return;
	}
	kmq_nl_event_send(skb, hdr);
}

void kmq_nl_leases_expired(struct kmq_queue *q, u64 count)
{
	struct sk_buff *skb;
	void *hdr;

	skb = kmq_nl_event_new(KMQ_GENL_EVENT_LEASES_EXPIRED, q, GFP_ATOMIC,
			       &hdr);
	if (!skb)
		return;
	if (nla_put_u64_64bit(skb, KMQ_GENL_A_COUNT, count, KMQ_GENL_A_PAD)) {
		nlmsg_free(skb);
		return;
	}
	kmq_nl_event_send(skb, hdr);
}

/* ---- registration ------------------------------------------------------------ */

int kmq_nl_init(void)
{
	int err;

	err = genl_register_family(&kmq_nl_family);
	if (err) {
		pr_err("generic netlink family %s: %d\n", KMQ_GENL_NAME, err);
		return err;
	}
	WRITE_ONCE(kmq_nl_registered, true);
	return 0;
}

void kmq_nl_uninit(void)
{
	WRITE_ONCE(kmq_nl_registered, false);
	genl_unregister_family(&kmq_nl_family);
}
