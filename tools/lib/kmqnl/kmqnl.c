// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqnl: requests to and notifications from the generic netlink family
 * "kmq" over libnl-genl (see kmqnl.h; the family is specified in
 * include/uapi/linux/kmq.h). Errors are the kernel's errno values, taken
 * from the netlink error messages themselves, with their extended ack.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "kmqnl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

struct kmqnl {
	struct nl_sock *sk;
	int family;
	uint8_t last_cmd;
	char errmsg[256];
};

/* libnl's own errors (local failures) as errno values. */
static int nlerr(int e)
{
	switch (e < 0 ? -e : e) {
	case 0:			return 0;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INTR:		return -EINTR;
	case NLE_PERM:		return -EPERM;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_EXIST:		return -EEXIST;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_BUSY:		return -EBUSY;
	case NLE_BAD_SOCK:	return -EBADF;
	case NLE_MSG_TRUNC:	return -EMSGSIZE;
	case NLE_SEQ_MISMATCH:	return -EPROTO;
	default:		return -EIO;
	}
}

void kmqnl_close(struct kmqnl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

/* A socket connected to generic netlink with the family resolved. */
static int kmqnl_connect(struct kmqnl **out)
{
	struct kmqnl *nl;
	int one = 1, err;

	*out = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		free(nl);
		return -ENOMEM;
	}
	err = genl_connect(nl->sk);
	if (err < 0) {
		err = nlerr(err);
		goto err_close;
	}
	/* Dump parts may be large: size each read to the message. */
	nl_socket_enable_msg_peek(nl->sk);
	/* Ask for the reasons with the errors (and not our request back). */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, KMQ_GENL_NAME);
	if (nl->family < 0) {
		err = nl->family == -NLE_OBJ_NOTFOUND ? -ENOENT : nlerr(nl->family);
		goto err_close;
	}
	*out = nl;
	return 0;

err_close:
	kmqnl_close(nl);
	return err;
}

int kmqnl_open(struct kmqnl **nl)
{
	int err = kmqnl_connect(nl);

	if (!err)
		nl_socket_disable_auto_ack((*nl)->sk);	/* kmqnl_msg decides */
	return err;
}

const char *kmqnl_errmsg(const struct kmqnl *nl)
{
	return nl ? nl->errmsg : "";
}

/* ---- requests ---- */

struct nl_msg *kmqnl_msg(struct kmqnl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!(flags & NLM_F_DUMP))
		flags |= NLM_F_ACK;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags,
			 cmd, KMQ_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	nl->last_cmd = cmd;
	return msg;
}

struct kmqnl_txn {
	struct kmqnl *nl;
	int (*reply)(struct nl_msg *msg, void *arg);
	void *arg;
	int err;		/* the kernel's answer */
	int reply_err;		/* the first nonzero @reply return */
	int done;
};

/* The extended ack attributes from @start to the end of @hdr. */
static void kmqnl_extack(struct kmqnl *nl, const struct nlmsghdr *hdr,
			 const void *start)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const char *end = (const char *)hdr + hdr->nlmsg_len;
	int len = (int)(end - (const char *)start);

	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)start, len,
		      NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(nl->errmsg, sizeof(nl->errmsg), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	else if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
		 nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) == 4)
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "required attribute %u missing",
			 nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));
}

static int kmqnl_on_valid(struct nl_msg *msg, void *arg)
{
	struct kmqnl_txn *t = arg;

	if (t->reply && !t->reply_err)
		t->reply_err = t->reply(msg, t->arg);
	return NL_OK;
}

static int kmqnl_on_ack(struct nl_msg *msg, void *arg)
{
	struct kmqnl_txn *t = arg;

	t->done = 1;
	return NL_STOP;
}

/* The end of a dump: its payload is the dump's status, then TLVs. */
static int kmqnl_on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct kmqnl_txn *t = arg;
	int status;

	t->done = 1;
	if (hdr->nlmsg_len >= NLMSG_HDRLEN + sizeof(int)) {
		memcpy(&status, nlmsg_data(hdr), sizeof(status));
		if (status < 0) {
			t->err = status;
			kmqnl_extack(t->nl, hdr, (const char *)nlmsg_data(hdr) +
					 NLMSG_ALIGN(sizeof(int)));
		}
	}
	return NL_STOP;
}

static int kmqnl_on_error(struct sockaddr_nl *who, struct nlmsgerr *e,
			  void *arg)
{
	const struct nlmsghdr *hdr =
		(const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);
	struct kmqnl_txn *t = arg;
	size_t payload = sizeof(*e);

	t->done = 1;
	t->err = e->error;
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED))
		payload += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + NLMSG_ALIGN(payload) <= hdr->nlmsg_len)
		kmqnl_extack(t->nl, hdr, (const char *)e + NLMSG_ALIGN(payload));
	return NL_STOP;
}

/* Explain the refusals the generic netlink core makes without words. */
static void kmqnl_explain(struct kmqnl *nl, int err)
{
	if (nl->errmsg[0])
		return;
	if (err == -EPERM && (nl->last_cmd == KMQ_GENL_CMD_CREATE ||
			      nl->last_cmd == KMQ_GENL_CMD_DELETE))
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "needs CAP_NET_ADMIN (netlink changes to queues)");
	else if (err == -EOPNOTSUPP)
		snprintf(nl->errmsg, sizeof(nl->errmsg),
			 "command not supported by this kmq.ko");
}

int kmqnl_request(struct kmqnl *nl, struct nl_msg *msg,
		  int (*reply)(struct nl_msg *msg, void *arg), void *arg)
{
	struct kmqnl_txn t = { .nl = nl, .reply = reply, .arg = arg };
	struct nl_cb *cb;
	int err;

	nl->errmsg[0] = '\0';
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, kmqnl_on_valid, &t);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, kmqnl_on_ack, &t);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, kmqnl_on_finish, &t);
	nl_cb_err(cb, NL_CB_CUSTOM, kmqnl_on_error, &t);

	err = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (err < 0) {
		nl_cb_put(cb);
		return nlerr(err);
	}
	while (!t.done) {
		err = nl_recvmsgs(nl->sk, cb);
		if (err < 0 && !t.done) {
			t.err = nlerr(err);
			break;
		}
	}
	nl_cb_put(cb);
	if (t.err) {
		kmqnl_explain(nl, t.err);
		return t.err;
	}
	return t.reply_err;
}

static int kmqnl_put_name(struct nl_msg *msg, int attr, const char *name)
{
	return nla_put_string(msg, attr, name) < 0 ? -EMSGSIZE : 0;
}

int kmqnl_create(struct kmqnl *nl, const char *name, uint32_t capacity,
		 uint32_t max_msg_size, uint32_t mode, bool excl)
{
	struct nl_msg *msg;

	msg = kmqnl_msg(nl, KMQ_GENL_CMD_CREATE, 0);
	if (!msg)
		return -ENOMEM;
	if (kmqnl_put_name(msg, KMQ_GENL_A_NAME, name) ||
	    nla_put_u32(msg, KMQ_GENL_A_CAPACITY, capacity) < 0 ||
	    nla_put_u32(msg, KMQ_GENL_A_MAX_MSG_SIZE, max_msg_size) < 0 ||
	    nla_put_u32(msg, KMQ_GENL_A_MODE, mode) < 0 ||
	    (excl && nla_put_u32(msg, KMQ_GENL_A_FLAGS, KMQ_CREATE_EXCL) < 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kmqnl_request(nl, msg, NULL, NULL);
}

int kmqnl_delete(struct kmqnl *nl, const char *name)
{
	struct nl_msg *msg = kmqnl_msg(nl, KMQ_GENL_CMD_DELETE, 0);

	if (!msg)
		return -ENOMEM;
	if (kmqnl_put_name(msg, KMQ_GENL_A_NAME, name)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kmqnl_request(nl, msg, NULL, NULL);
}

/* ---- parsing ---- */

static int get_u32(struct nlattr **tb, int attr, uint32_t *out)
{
	if (!tb[attr])
		return 0;
	if (nla_len(tb[attr]) != sizeof(uint32_t))
		return -EPROTO;
	*out = nla_get_u32(tb[attr]);
	return 0;
}

static int get_u64(struct nlattr **tb, int attr, uint64_t *out)
{
	if (!tb[attr])
		return 0;
	if (nla_len(tb[attr]) != sizeof(uint64_t))
		return -EPROTO;
	*out = nla_get_u64(tb[attr]);
	return 0;
}

/* A NUL-terminated string attribute into a KMQ_NAME_LEN field. */
static int get_name(struct nlattr **tb, int attr, char *out)
{
	const char *s;
	int len;

	memset(out, 0, KMQ_NAME_LEN);
	if (!tb[attr])
		return 0;
	s = nla_data(tb[attr]);
	len = nla_len(tb[attr]);
	if (len < 1 || len > KMQ_NAME_LEN || s[len - 1])
		return -EPROTO;
	memcpy(out, s, (size_t)len);
	return 0;
}

/* @msg's attributes into @tb when it is a kmq message of @cmd. */
static int kmqnl_parse(struct nl_msg *msg, uint8_t cmd, struct nlattr **tb)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr(hdr, 0))
		return -EPROTO;
	gh = nlmsg_data(hdr);
	if (gh->cmd != cmd)
		return -EPROTO;
	if (genlmsg_parse(hdr, 0, tb, KMQ_GENL_A_MAX, NULL) < 0)
		return -EPROTO;
	return 0;
}

int kmqnl_parse_info(struct nl_msg *msg, struct kmq_info *i)
{
	struct nlattr *tb[KMQ_GENL_A_MAX + 1];
	int err;

	memset(i, 0, sizeof(*i));
	err = kmqnl_parse(msg, KMQ_GENL_CMD_GET, tb);
	if (err)
		return err;
	if (!tb[KMQ_GENL_A_NAME])
		return -EPROTO;
	if (get_name(tb, KMQ_GENL_A_NAME, i->name) ||
	    get_u32(tb, KMQ_GENL_A_TYPE, &i->type) ||
	    get_u32(tb, KMQ_GENL_A_CAPACITY, &i->capacity) ||
	    get_u32(tb, KMQ_GENL_A_MAX_MSG_SIZE, &i->max_msg_size) ||
	    get_u32(tb, KMQ_GENL_A_SLOT_SIZE, &i->slot_size) ||
	    get_u32(tb, KMQ_GENL_A_MODE, &i->mode) ||
	    get_u32(tb, KMQ_GENL_A_UID, &i->uid) ||
	    get_u32(tb, KMQ_GENL_A_GID, &i->gid) ||
	    get_u32(tb, KMQ_GENL_A_CLIENTS, &i->clients) ||
	    get_u64(tb, KMQ_GENL_A_FEATURES, (uint64_t *)&i->features) ||
	    get_u64(tb, KMQ_GENL_A_SIZE, (uint64_t *)&i->size) ||
	    get_u64(tb, KMQ_GENL_A_FREE_OFF, (uint64_t *)&i->free_off) ||
	    get_u64(tb, KMQ_GENL_A_READY_OFF, (uint64_t *)&i->ready_off) ||
	    get_u64(tb, KMQ_GENL_A_SLOTS_OFF, (uint64_t *)&i->slots_off) ||
	    get_u64(tb, KMQ_GENL_A_CREATED_NS, (uint64_t *)&i->created_ns) ||
	    get_u64(tb, KMQ_GENL_A_READY, (uint64_t *)&i->ready) ||
	    get_u64(tb, KMQ_GENL_A_HELD, (uint64_t *)&i->held) ||
	    get_u64(tb, KMQ_GENL_A_SENT, (uint64_t *)&i->sent) ||
	    get_u64(tb, KMQ_GENL_A_RECEIVED, (uint64_t *)&i->received) ||
	    get_u64(tb, KMQ_GENL_A_REPAIRED, (uint64_t *)&i->repaired) ||
	    get_u64(tb, KMQ_GENL_A_CORRUPT, (uint64_t *)&i->corrupt) ||
	    get_u64(tb, KMQ_GENL_A_LEASED, (uint64_t *)&i->leased) ||
	    get_u64(tb, KMQ_GENL_A_DELAYED, (uint64_t *)&i->delayed) ||
	    get_u64(tb, KMQ_GENL_A_QUEUED, (uint64_t *)&i->queued) ||
	    get_u64(tb, KMQ_GENL_A_LEASE_EXPIRED, (uint64_t *)&i->lease_expired) ||
	    get_u64(tb, KMQ_GENL_A_DEAD_LETTERED, (uint64_t *)&i->dead_lettered) ||
	    get_u64(tb, KMQ_GENL_A_DLQ_FAILED, (uint64_t *)&i->dlq_failed) ||
	    get_u64(tb, KMQ_GENL_A_EXPIRED, (uint64_t *)&i->expired) ||
	    get_u64(tb, KMQ_GENL_A_DEDUPLICATED, (uint64_t *)&i->deduplicated))
		return -EPROTO;
	return 0;
}

static int kmqnl_get_reply(struct nl_msg *msg, void *arg)
{
	return kmqnl_parse_info(msg, arg);
}

int kmqnl_get(struct kmqnl *nl, const char *name, struct kmq_info *info)
{
	struct nl_msg *msg = kmqnl_msg(nl, KMQ_GENL_CMD_GET, 0);

	memset(info, 0, sizeof(*info));
	if (!msg)
		return -ENOMEM;
	if (kmqnl_put_name(msg, KMQ_GENL_A_NAME, name)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kmqnl_request(nl, msg, kmqnl_get_reply, info);
}

struct kmqnl_dump_ctx {
	int (*fn)(const struct kmq_info *info, void *arg);
	void *arg;
};

static int kmqnl_dump_reply(struct nl_msg *msg, void *arg)
{
	struct kmqnl_dump_ctx *d = arg;
	struct kmq_info info;
	int err = kmqnl_parse_info(msg, &info);

	return err ? err : d->fn(&info, d->arg);
}

int kmqnl_dump(struct kmqnl *nl, const char *prefix,
	       int (*fn)(const struct kmq_info *info, void *arg), void *arg)
{
	struct kmqnl_dump_ctx d = { fn, arg };
	struct nl_msg *msg = kmqnl_msg(nl, KMQ_GENL_CMD_GET, NLM_F_DUMP);

	if (!msg)
		return -ENOMEM;
	if (prefix && *prefix && kmqnl_put_name(msg, KMQ_GENL_A_NAME, prefix)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return kmqnl_request(nl, msg, kmqnl_dump_reply, &d);
}

/* ---- notifications ---- */

int kmqnl_events_open(struct kmqnl **out, bool nonblock)
{
	struct kmqnl *nl;
	int grp, err;

	err = kmqnl_connect(&nl);
	if (err)
		return err;
	grp = genl_ctrl_resolve_grp(nl->sk, KMQ_GENL_NAME,
				    KMQ_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		err = grp == -NLE_OBJ_NOTFOUND ? -ENOENT : nlerr(grp);
		goto err_close;
	}
	err = nl_socket_add_membership(nl->sk, grp);
	if (err < 0) {
		err = nlerr(err);
		goto err_close;
	}
	if (nonblock) {
		err = nl_socket_set_nonblocking(nl->sk);
		if (err < 0) {
			err = nlerr(err);
			goto err_close;
		}
	}
	*out = nl;
	return 0;

err_close:
	kmqnl_close(nl);
	return err;
}

int kmqnl_fd(const struct kmqnl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

struct kmqnl_events_ctx {
	void (*fn)(const struct kmqnl_event *ev, void *arg);
	void *arg;
};

static int kmqnl_on_event(struct nl_msg *msg, void *arg)
{
	struct kmqnl_events_ctx *c = arg;
	struct nlattr *tb[KMQ_GENL_A_MAX + 1];
	struct kmqnl_event ev;

	memset(&ev, 0, sizeof(ev));
	if (kmqnl_parse(msg, KMQ_GENL_CMD_EVENT, tb) ||
	    get_u32(tb, KMQ_GENL_A_EVENT, &ev.type) ||
	    get_name(tb, KMQ_GENL_A_NAME, ev.name) ||
	    get_u32(tb, KMQ_GENL_A_UID, &ev.uid) ||
	    get_u32(tb, KMQ_GENL_A_GID, &ev.gid) ||
	    get_u32(tb, KMQ_GENL_A_MODE, &ev.mode) ||
	    get_u32(tb, KMQ_GENL_A_CAPACITY, &ev.capacity) ||
	    get_u32(tb, KMQ_GENL_A_MAX_MSG_SIZE, &ev.max_msg_size) ||
	    get_u32(tb, KMQ_GENL_A_SUPPRESSED, &ev.suppressed) ||
	    get_u64(tb, KMQ_GENL_A_MSG_ID, &ev.msg_id) ||
	    get_u32(tb, KMQ_GENL_A_RECEIVE_COUNT, &ev.receive_count) ||
	    get_name(tb, KMQ_GENL_A_DLQ_NAME, ev.dlq_name) ||
	    get_u64(tb, KMQ_GENL_A_COUNT, &ev.count))
		return NL_SKIP;	/* not ours, or malformed: skip it */
	c->fn(&ev, c->arg);
	return NL_OK;
}

static int kmqnl_no_seq_check(struct nl_msg *msg, void *arg)
{
	return NL_OK;
}

int kmqnl_events_read(struct kmqnl *nl,
		      void (*fn)(const struct kmqnl_event *ev, void *arg),
		      void *arg)
{
	struct kmqnl_events_ctx c = { fn, arg };
	struct nl_cb *cb;
	int n;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, kmqnl_on_event, &c);
	/* Notifications answer no request: no sequence numbers to match. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, kmqnl_no_seq_check, NULL);
	errno = 0;
	n = nl_recvmsgs_report(nl->sk, cb);
	nl_cb_put(cb);
	if (n >= 0)
		return n;
	/* libnl reports the socket's ENOBUFS (overflow) as out of memory. */
	if (n == -NLE_NOMEM && errno == ENOBUFS)
		return -ENOBUFS;
	return nlerr(n);
}

const char *kmqnl_event_type(uint32_t type)
{
	switch (type) {
	case KMQ_GENL_EVENT_QUEUE_CREATED:	return "queue-created";
	case KMQ_GENL_EVENT_QUEUE_DELETED:	return "queue-deleted";
	case KMQ_GENL_EVENT_QUEUE_FULL:		return "queue-full";
	case KMQ_GENL_EVENT_MSG_DEAD_LETTERED:	return "message-dead-lettered";
	case KMQ_GENL_EVENT_LEASES_EXPIRED:	return "leases-expired";
	}
	return "unknown";
}

char *kmqnl_event_detail(const struct kmqnl_event *ev, char *buf, size_t len)
{
	switch (ev->type) {
	case KMQ_GENL_EVENT_QUEUE_CREATED:
		snprintf(buf, len,
			 "uid=%u gid=%u mode=%04o capacity=%u max_msg_size=%u",
			 ev->uid, ev->gid, ev->mode, ev->capacity,
			 ev->max_msg_size);
		break;
	case KMQ_GENL_EVENT_QUEUE_FULL:
		snprintf(buf, len, "uid=%u capacity=%u suppressed=%u", ev->uid,
			 ev->capacity, ev->suppressed);
		break;
	case KMQ_GENL_EVENT_MSG_DEAD_LETTERED:
		snprintf(buf, len, "uid=%u dlq=%s msg_id=%llu receive_count=%u",
			 ev->uid, ev->dlq_name, (unsigned long long)ev->msg_id,
			 ev->receive_count);
		break;
	case KMQ_GENL_EVENT_LEASES_EXPIRED:
		snprintf(buf, len, "uid=%u count=%llu", ev->uid,
			 (unsigned long long)ev->count);
		break;
	default:
		snprintf(buf, len, "uid=%u", ev->uid);
		break;
	}
	return buf;
}
