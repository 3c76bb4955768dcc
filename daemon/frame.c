// SPDX-License-Identifier: GPL-2.0
/*
 * Request validation: what include/kmq/wire.h allows, checked before kmqd
 * acts on a byte of it. Pure functions (no daemon state), unit-tested in
 * tests/daemon. A frame that fails here is garbage: the caller answers with
 * KMQ_WIRE_ERROR and closes the connection.
 */
#include <errno.h>
#include <string.h>
#include "kmqd.h"

bool frame_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool frame_name_ok(const char name[KMQ_NAME_LEN])
{
	size_t i;

	for (i = 0; i < KMQ_NAME_LEN && name[i]; i++)
		if (i >= KMQ_NAME_MAX || !name_char(name[i]))
			return false;
	return i > 0 && frame_zero(name + i, KMQ_NAME_LEN - i);
}

static const char *const cmd_names[] = {
	[KMQ_WIRE_CREATE] = "CREATE", [KMQ_WIRE_DELETE] = "DELETE",
	[KMQ_WIRE_INFO] = "INFO", [KMQ_WIRE_LIST] = "LIST",
	[KMQ_WIRE_OPEN] = "OPEN", [KMQ_WIRE_REATTACH] = "REATTACH",
	[KMQ_WIRE_SEND] = "SEND", [KMQ_WIRE_RECV] = "RECV",
	[KMQ_WIRE_WAIT] = "WAIT", [KMQ_WIRE_SUBSCRIBE] = "SUBSCRIBE",
	[KMQ_WIRE_GET_POLICY] = "GET_POLICY", [KMQ_WIRE_SET_POLICY] = "SET_POLICY",
	[KMQ_WIRE_PURGE] = "PURGE", [KMQ_WIRE_MOVE] = "MOVE",
	[KMQ_WIRE_SQS_SEND] = "SQS_SEND", [KMQ_WIRE_SQS_RECV] = "SQS_RECV",
	[KMQ_WIRE_SQS_DELETE] = "SQS_DELETE", [KMQ_WIRE_SQS_CHVIS] = "SQS_CHVIS",
};

const char *frame_cmd_name(unsigned int cmd)
{
	if (cmd >= 1 && cmd <= KMQ_WIRE_CMD_MAX)
		return cmd_names[cmd];
	if (cmd == KMQ_WIRE_TOPIC)
		return "TOPIC";
	return "?";
}

int frame_check_hdr(const struct kmq_wire_hdr *h, const char **why)
{
	if (h->magic != KMQ_WIRE_MAGIC)
		return *why = "bad magic", -EPROTO;
	if (h->version != KMQ_WIRE_VERSION)
		return *why = "unsupported protocol version", -EPROTO;
	if ((h->cmd < 1 || h->cmd > KMQ_WIRE_CMD_MAX) &&
	    h->cmd != KMQ_WIRE_TOPIC)
		return *why = "unknown command", -EPROTO;
	if (h->len > KMQ_WIRE_BODY_MAX)
		return *why = "frame longer than KMQ_WIRE_BODY_MAX", -EPROTO;
	if (h->status || h->reserved)
		return *why = "nonzero status or reserved field in a request", -EINVAL;
	return 0;
}

#define WANT(cond, text)	do { if (!(cond)) { *why = (text); return -EINVAL; } } while (0)
#define WANT_LEN(type)		WANT(len == sizeof(type), "body length does not match the command")
#define ZERO(field)		frame_zero(&(field), sizeof(field))

static int check_send(const unsigned char *b, size_t len, const char **why)
{
	const struct kmq_wire_io *io = (const void *)b;
	size_t off = sizeof(*io);
	__u32 i;

	for (i = 0; i < io->count; i++) {
		struct kmq_wire_msg m;
		__u64 padded;

		WANT(len - off >= sizeof(m), "SEND: message header beyond the frame");
		memcpy(&m, b + off, sizeof(m));
		off += sizeof(m);
		WANT(!m.flags && !m.id && !m.sent_ns && !m.sender_pid &&
		     !m.sender_uid && !m.reserved,
		     "SEND: nonzero reserved or reply-only field");
		WANT(m.len <= KMQ_MSG_MAX, "SEND: message longer than KMQ_MSG_MAX");
		padded = KMQ_WIRE_PAD8(m.len);
		WANT(len - off >= padded, "SEND: message body beyond the frame");
		WANT(frame_zero(b + off + m.len, padded - m.len),
		     "SEND: nonzero padding");
		off += padded;
	}
	WANT(off == len, "SEND: bytes after the last message");
	return 0;
}

/* id_field_ok - a group or deduplication id field: NUL-terminated,
 * zero-padded (its characters are checked by the command). */
static bool id_field_ok(const char f[KMQ_GROUP_LEN])
{
	const char *z = memchr(f, 0, KMQ_GROUP_LEN);

	return z && frame_zero(z, (size_t)(f + KMQ_GROUP_LEN - z));
}

/* The output fields of a kmq_sqsmsg and its pointers: zero in requests. */
static bool sqsmsg_out_zero(const struct kmq_sqsmsg *m)
{
	return !m->body && !m->attrs && !m->status && !m->receive_count &&
	       !m->id && !m->receipt && !m->sent_ns && !m->first_receive_ns &&
	       !m->seq && !m->sender_pid && !m->sender_uid &&
	       ZERO(m->reserved);
}

static int check_sqs_send(const unsigned char *b, size_t len, const char **why)
{
	struct kmq_sqsio io;
	size_t off = sizeof(io);
	__u32 i;

	memcpy(&io, b, sizeof(io));
	WANT(!(io.flags & ~KMQ_IO_NONBLOCK) && !io.visibility_s,
	     "SQS_SEND: unknown flags or a visibility");
	for (i = 0; i < io.count; i++) {
		struct kmq_sqsmsg m;
		__u64 pa, pb;

		WANT(len - off >= sizeof(m), "SQS_SEND: message beyond the frame");
		memcpy(&m, b + off, sizeof(m));
		off += sizeof(m);
		WANT(sqsmsg_out_zero(&m), "SQS_SEND: nonzero pointer, reserved or output field");
		WANT(id_field_ok(m.group) && id_field_ok(m.dedup),
		     "SQS_SEND: group or dedup id not NUL-terminated and zero-padded");
		WANT(m.len <= KMQ_MSG_MAX && m.attr_len <= KMQ_MSG_MAX,
		     "SQS_SEND: message longer than KMQ_MSG_MAX");
		pa = KMQ_WIRE_PAD8(m.attr_len);
		pb = KMQ_WIRE_PAD8(m.len);
		WANT(len - off >= pa + pb, "SQS_SEND: payload beyond the frame");
		WANT(frame_zero(b + off + m.attr_len, pa - m.attr_len) &&
		     frame_zero(b + off + pa + m.len, pb - m.len),
		     "SQS_SEND: nonzero padding");
		off += pa + pb;
	}
	WANT(off == len, "SQS_SEND: bytes after the last message");
	return 0;
}

static int check_sqs_recv(const unsigned char *b, size_t len, const char **why)
{
	struct kmq_sqsio io;
	__u32 i;

	memcpy(&io, b, sizeof(io));
	WANT(!(io.flags & ~(KMQ_IO_NONBLOCK | KMQ_SQSIO_VISIBILITY)),
	     "SQS_RECV: unknown flags");
	WANT(io.flags & KMQ_SQSIO_VISIBILITY ? io.visibility_s <= KMQ_VISIBILITY_MAX
					     : !io.visibility_s,
	     "SQS_RECV: visibility out of range or without its flag");
	WANT(len == sizeof(io) + io.count * sizeof(struct kmq_sqsmsg),
	     "SQS_RECV: body length does not match the count");
	for (i = 0; i < io.count; i++) {
		struct kmq_sqsmsg m;

		memcpy(&m, b + sizeof(io) + i * sizeof(m), sizeof(m));
		WANT(sqsmsg_out_zero(&m) && !m.flags && !m.delay_s &&
		     ZERO(m.group) && ZERO(m.dedup),
		     "SQS_RECV: nonzero field besides the rooms");
	}
	return 0;
}

int frame_check_body(unsigned int cmd, const void *body, size_t len,
		     const char **why)
{
	const unsigned char *b = body;

	switch (cmd) {
	case KMQ_WIRE_TOPIC:	/* JSON: topic.c parses it */
		WANT(len >= 3 && b[len - 1] == 0 && strlen(body) == len - 1,
		     "TOPIC: a body is one NUL-terminated JSON object");
		return 0;
	case KMQ_WIRE_CREATE: {
		const struct kmq_create *k = body;

		WANT_LEN(*k);
		WANT(frame_name_ok(k->name), "bad queue name");
		WANT(k->type == KMQ_TYPE_QUEUE, "unknown queue type");
		WANT(!(k->mode & ~0777U), "mode beyond 0777");
		WANT(!(k->flags & ~(KMQ_CREATE_EXCL | KMQ_CREATE_FIFO)),
		     "unknown create flags");
		WANT(!k->open_flags, "CREATE cannot open: use OPEN");
		WANT(ZERO(k->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_DELETE:
	case KMQ_WIRE_INFO: {
		const struct kmq_name *n = body;

		WANT_LEN(*n);
		WANT(frame_name_ok(n->name) ||
		     (cmd == KMQ_WIRE_INFO && ZERO(n->name)), "bad queue name");
		WANT(ZERO(n->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_LIST: {
		const struct kmq_wire_list *l = body;

		WANT_LEN(*l);
		WANT(l->count <= KMQ_WIRE_LIST_MAX, "LIST: count beyond KMQ_WIRE_LIST_MAX");
		WANT(!l->total && !l->reserved0 && ZERO(l->reserved),
		     "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_OPEN: {
		const struct kmq_open *o = body;

		WANT_LEN(*o);
		WANT(frame_name_ok(o->name), "bad queue name");
		WANT(!(o->flags & ~(KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP)),
		     "unknown open flags");
		WANT(o->flags & (KMQ_OPEN_SEND | KMQ_OPEN_RECV),
		     "OPEN for neither send nor receive");
		WANT(!o->reserved0 && ZERO(o->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_REATTACH: {
		const struct kmq_wire_reattach *r = body;

		WANT_LEN(*r);
		WANT(frame_name_ok(r->name), "bad queue name");
		WANT(r->client_id > KMQ_WIRE_KMQD_ID && r->client_id <= KMQ_CLIENT_MAX,
		     "REATTACH: client id out of range");
		WANT(!r->flags && ZERO(r->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_SEND:
	case KMQ_WIRE_RECV: {
		struct kmq_wire_io io;

		WANT(len >= sizeof(io), "body shorter than struct kmq_wire_io");
		memcpy(&io, b, sizeof(io));
		WANT(io.count >= 1 && io.count <= KMQ_BATCH_MAX,
		     "message count not 1..KMQ_BATCH_MAX");
		WANT(!io.flags && ZERO(io.reserved), "nonzero reserved field");
		if (cmd == KMQ_WIRE_SEND)
			return check_send(b, len, why);
		WANT(len == sizeof(io) + KMQ_WIRE_PAD8(4ULL * io.count),
		     "RECV: body length does not match the count");
		WANT(frame_zero(b + sizeof(io) + 4ULL * io.count,
				len - sizeof(io) - 4ULL * io.count),
		     "RECV: nonzero padding");
		return 0;
	}
	case KMQ_WIRE_WAIT: {
		const struct kmq_wire_wait *w = body;

		WANT_LEN(*w);
		WANT(w->events && !(w->events & ~(KMQ_READABLE | KMQ_WRITABLE)),
		     "WAIT: events not READABLE|WRITABLE");
		WANT(!w->flags && ZERO(w->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_GET_POLICY:
	case KMQ_WIRE_PURGE: {
		const struct kmq_name *n = body;

		WANT_LEN(*n);
		WANT(frame_name_ok(n->name), "bad queue name");
		WANT(ZERO(n->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_SET_POLICY: {
		const struct kmq_policy *p = body;

		WANT_LEN(*p);
		WANT(frame_name_ok(p->name), "bad queue name");
		WANT(frame_name_ok(p->dlq) || ZERO(p->dlq), "bad dead-letter queue name");
		WANT(!p->reserved0 && ZERO(p->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_MOVE: {
		const struct kmq_move *m = body;

		WANT_LEN(*m);
		WANT(frame_name_ok(m->src) && frame_name_ok(m->dst), "bad queue name");
		WANT(m->count >= 1, "MOVE: count 0");
		WANT(!m->flags && ZERO(m->reserved), "nonzero reserved field");
		return 0;
	}
	case KMQ_WIRE_SQS_SEND:
	case KMQ_WIRE_SQS_RECV: {
		struct kmq_sqsio io;

		WANT(len >= sizeof(io), "body shorter than struct kmq_sqsio");
		memcpy(&io, b, sizeof(io));
		WANT(!io.msgs && !io.done && ZERO(io.reserved),
		     "nonzero pointer, output or reserved field");
		WANT(io.count >= 1 && io.count <= KMQ_SQS_BATCH_MAX,
		     "message count not 1..KMQ_SQS_BATCH_MAX");
		if (cmd == KMQ_WIRE_SQS_SEND)
			return check_sqs_send(b, len, why);
		return check_sqs_recv(b, len, why);
	}
	case KMQ_WIRE_SQS_DELETE:
	case KMQ_WIRE_SQS_CHVIS: {
		struct kmq_receipts rs;
		__u32 i;

		WANT(len >= sizeof(rs), "body shorter than struct kmq_receipts");
		memcpy(&rs, b, sizeof(rs));
		WANT(!rs.receipts && !rs.done && ZERO(rs.reserved),
		     "nonzero pointer, output or reserved field");
		WANT(rs.count >= 1 && rs.count <= KMQ_SQS_BATCH_MAX,
		     "receipt count not 1..KMQ_SQS_BATCH_MAX");
		WANT(len == sizeof(rs) + rs.count * sizeof(struct kmq_receipt),
		     "body length does not match the count");
		for (i = 0; i < rs.count; i++) {
			struct kmq_receipt r;

			memcpy(&r, b + sizeof(rs) + i * sizeof(r), sizeof(r));
			WANT(!r.status, "nonzero status in a request");
		}
		return 0;
	}
	case KMQ_WIRE_SUBSCRIBE: {
		const struct kmq_wire_sub *s = body;

		WANT_LEN(*s);
		WANT(!s->flags && !s->reserved0 && ZERO(s->reserved),
		     "nonzero reserved field");
		return 0;
	}
	}
	*why = "unknown command";
	return -EPROTO;
}
