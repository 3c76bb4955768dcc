/* netlink_test: the generic netlink family "kmq": every command with valid and hostile attributes (each refusal with an extack reason), a 300-queue dump spanning many messages and staying exact under concurrent churn, the "events" group through kmqd's client (created, deleted, rate-limited full), and CAP_NET_ADMIN / owner refusals for unprivileged callers. */
#include "vmtest.h"

#include <grp.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include "kmqnl.h"
#include "genl.h"

#define NOBODY		65534
#define NDUMP		300

static int ctl = -1;
static struct kmqnl *nl;

static void setup(void)
{
	ctl = vt_ctl();
	vt_cleanup_prefix();
	ck_assert_err(kmqnl_open(&nl), 0);
}

static void teardown(void)
{
	kmqnl_close(nl);
	nl = NULL;
	vt_cleanup_prefix();
	if (ctl >= 0)
		close(ctl);
	ctl = -1;
}

static const char *qn(const char *suffix)
{
	static char names[4][KMQ_NAME_LEN];
	static int next;
	char *n = names[next++ % 4];

	vt_qname(n, suffix);
	return n;
}

/* Assert the last request failed with @err and said why (containing @sub
 * when it is not NULL). */
static int says(const char *why, const char *sub)
{
	return why[0] && (!sub || strstr(why, sub));
}

#define ck_refused(expr, err, sub) do {					\
	const char *__sub = (sub);					\
	ck_assert_err((expr), (err));					\
	ck_assert_msg(says(kmqnl_errmsg(nl), __sub),			\
		      "%s: reason '%s', want one with '%s'", #expr,	\
		      kmqnl_errmsg(nl), __sub ? __sub : "");		\
} while (0)

/* ---- raw CREATE requests ---- */

#define OMIT	(-1L)

struct cattrs {
	const char *name;	/* NULL: omitted */
	long cap, msz, mode, type;
	int flags;
	int extra_type;		/* > 0: one more attribute of this type */
	int extra_len;		/* ... with this many zero bytes */
	int name_raw;		/* name as binary without its NUL */
	int cap_u16;		/* capacity as 2 bytes */
	int put_flags;		/* add KMQ_GENL_A_FLAGS = flags_val */
	uint32_t flags_val;
};

static struct nl_msg *raw(uint8_t cmd, int flags)
{
	struct nl_msg *m = kmqnl_msg(nl, cmd, flags);

	ck_assert_ptr_nonnull(m);
	return m;
}

static long create_raw(const struct cattrs *a)
{
	struct nl_msg *m = raw(KMQ_GENL_CMD_CREATE, a->flags);
	static const char zeros[64];

	if (a->name && a->name_raw)
		nla_put(m, KMQ_GENL_A_NAME, (int)strlen(a->name), a->name);
	else if (a->name)
		nla_put_string(m, KMQ_GENL_A_NAME, a->name);
	if (a->cap != OMIT) {
		if (a->cap_u16)
			nla_put_u16(m, KMQ_GENL_A_CAPACITY, (uint16_t)a->cap);
		else
			nla_put_u32(m, KMQ_GENL_A_CAPACITY, (uint32_t)a->cap);
	}
	if (a->msz != OMIT)
		nla_put_u32(m, KMQ_GENL_A_MAX_MSG_SIZE, (uint32_t)a->msz);
	if (a->mode != OMIT)
		nla_put_u32(m, KMQ_GENL_A_MODE, (uint32_t)a->mode);
	if (a->type != OMIT)
		nla_put_u32(m, KMQ_GENL_A_TYPE, (uint32_t)a->type);
	if (a->put_flags)
		nla_put_u32(m, KMQ_GENL_A_FLAGS, a->flags_val);
	if (a->extra_type > 0)
		nla_put(m, a->extra_type, a->extra_len, zeros);
	return kmqnl_request(nl, m, NULL, NULL);
}

static long name_cmd(uint8_t cmd, const char *name, int extra_type)
{
	struct nl_msg *m = raw(cmd, 0);

	if (name)
		nla_put_string(m, KMQ_GENL_A_NAME, name);
	if (extra_type)
		nla_put_u32(m, extra_type, 4);
	return kmqnl_request(nl, m, NULL, NULL);
}

/* ---- commands ---- */

START_TEST(create_get_delete)
{
	const char *name = qn("basic");
	struct kmq_info got, want;

	ck_assert_err(kmqnl_create(nl, name, 5, 100, 0640, true), 0);
	ck_assert_err(vt_info(ctl, name, &want), 0);
	ck_assert_err(kmqnl_get(nl, name, &got), 0);
	ck_assert_str_eq(got.name, name);
	ck_assert_uint_eq(got.capacity, 8);	/* rounded up, as the ioctl */
	ck_assert_uint_eq(got.max_msg_size, 100);
	ck_assert_uint_eq(got.mode, 0640);
	ck_assert_uint_eq(got.uid, getuid());
	ck_assert_uint_eq(got.gid, getgid());
	/* Every field the same as INFO says. */
	ck_assert_msg(!memcmp(&got, &want, sizeof(got)),
		      "GET differs from KMQ_IOC_INFO");

	/* Counters move: one message sent. */
	{
		long qfd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_SEND));

		ck_assert_err(vt_send((int)qfd, "hi", 2, 0, 0, NULL), 0);
		ck_assert_err(kmqnl_get(nl, name, &got), 0);
		ck_assert_uint_eq(got.ready, 1);
		ck_assert_uint_eq(got.sent, 1);
		ck_assert_uint_eq(got.clients, 1);
		close((int)qfd);
	}

	/* MODE and TYPE are optional: 0600, KMQ_TYPE_QUEUE. */
	ck_assert_err(create_raw(&(struct cattrs){ .name = qn("dflt"),
		.cap = 2, .msz = 8, .mode = OMIT, .type = OMIT }), 0);
	ck_assert_err(vt_info(ctl, qn("dflt"), &want), 0);
	ck_assert_uint_eq(want.mode, 0600);
	ck_assert_uint_eq(want.type, KMQ_TYPE_QUEUE);

	ck_assert_err(kmqnl_delete(nl, name), 0);
	ck_assert_err(vt_info(ctl, name, &want), -ENOENT);
	ck_refused(kmqnl_get(nl, name, &got), -ENOENT, "no such queue");
}
END_TEST

START_TEST(create_duplicates)
{
	const char *name = qn("dup");

	ck_assert_err(kmqnl_create(nl, name, 4, 64, 0600, false), 0);
	/* Same geometry without NLM_F_EXCL: fine, as KMQ_IOC_CREATE. */
	ck_assert_err(kmqnl_create(nl, name, 4, 64, 0600, false), 0);
	ck_assert_err(kmqnl_create(nl, name, 3, 64, 0600, false), 0);
	ck_refused(kmqnl_create(nl, name, 4, 64, 0600, true), -EEXIST,
		   "exists");
	ck_refused(kmqnl_create(nl, name, 8, 64, 0600, false), -EEXIST,
		   "another");
	ck_refused(kmqnl_create(nl, name, 4, 65, 0600, false), -EEXIST,
		   "another");
	/* The ioctl sees the same registry. */
	ck_assert_err(vt_create(ctl, name, 4, 64, 0600, KMQ_CREATE_EXCL, 0),
		      -EEXIST);
}
END_TEST

START_TEST(create_refusals)
{
	char longname[KMQ_NAME_MAX + 2], maxname[KMQ_NAME_MAX + 1];
	const char *ok = qn("ok");
	struct kmq_info info;

	memset(longname, 'a', KMQ_NAME_MAX + 1);
	longname[KMQ_NAME_MAX + 1] = '\0';
	memset(maxname, 'b', KMQ_NAME_MAX);
	maxname[KMQ_NAME_MAX] = '\0';
	memcpy(maxname, "netlink_test.", 13);

	/* Missing attributes. */
	ck_refused(create_raw(&(struct cattrs){ .name = NULL, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL, "name missing");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = OMIT,
		.msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL,
		"capacity missing");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = OMIT, .mode = OMIT, .type = OMIT }), -EINVAL,
		"message size missing");
	/* Names: too long, empty, bad characters, not NUL-terminated. */
	ck_refused(create_raw(&(struct cattrs){ .name = longname, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL, NULL);
	ck_refused(create_raw(&(struct cattrs){ .name = "", .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL, "queue name");
	ck_refused(create_raw(&(struct cattrs){ .name = "netlink_test.a/b",
		.cap = 4, .msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL,
		"queue name");
	ck_refused(create_raw(&(struct cattrs){ .name = "netlink_test.a b",
		.cap = 4, .msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL,
		"queue name");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .name_raw = 1,
		.cap = 4, .msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL,
		NULL);
	/* Bytes after the NUL would name another queue than meant. */
	{
		struct nl_msg *m = raw(KMQ_GENL_CMD_CREATE, 0);

		nla_put(m, KMQ_GENL_A_NAME, 17, "netlink_test.a\0bc");
		nla_put_u32(m, KMQ_GENL_A_CAPACITY, 4);
		nla_put_u32(m, KMQ_GENL_A_MAX_MSG_SIZE, 8);
		ck_refused(kmqnl_request(nl, m, NULL, NULL), -EINVAL,
			   "after its NUL");
		ck_assert_err(vt_info(ctl, "netlink_test.a", &info), -ENOENT);
	}
	/* Ranges: capacity, message size, mode, type. */
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 0,
		.msz = 8, .mode = OMIT, .type = OMIT }), -ERANGE, "range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok,
		.cap = KMQ_CAPACITY_MAX + 1L, .msz = 8, .mode = OMIT,
		.type = OMIT }), -ERANGE, "range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 0, .mode = OMIT, .type = OMIT }), -ERANGE, "range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = KMQ_MSG_MAX + 1L, .mode = OMIT, .type = OMIT }), -ERANGE,
		"range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = 01000, .type = OMIT }), -ERANGE, "range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = 04755, .type = OMIT }), -ERANGE, "range");
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = 1 }), -ERANGE, "range");
	/* Wrong length, unknown or output-only attributes, PAD. */
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.cap_u16 = 1, .msz = 8, .mode = OMIT, .type = OMIT }), -EINVAL,
		NULL);
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT,
		.extra_type = KMQ_GENL_A_MAX + 1, .extra_len = 4 }), -EINVAL,
		NULL);
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT,
		.extra_type = KMQ_GENL_A_SLOT_SIZE, .extra_len = 4 }), -EINVAL,
		NULL);
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT,
		.extra_type = KMQ_GENL_A_PAD, .extra_len = 0 }), -EINVAL, NULL);
	/* Flags: only KMQ_CREATE_EXCL; nlmsg_flags of the old kind are the
	 * core's to refuse. */
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT, .put_flags = 1,
		.flags_val = 2 }), -EINVAL, NULL);
	ck_refused(create_raw(&(struct cattrs){ .name = ok, .cap = 4,
		.msz = 8, .mode = OMIT, .type = OMIT,
		.flags = NLM_F_CREATE | NLM_F_EXCL }), -EINVAL, "nlmsg_flags");
	/* None of them created anything. */
	ck_assert_err(vt_info(ctl, ok, &info), -ENOENT);

	/* The limits themselves are fine. */
	ck_assert_err(create_raw(&(struct cattrs){ .name = maxname, .cap = 1,
		.msz = 1, .mode = 0, .type = KMQ_TYPE_QUEUE }), 0);
	ck_assert_err(create_raw(&(struct cattrs){ .name = ok, .cap = 1,
		.msz = KMQ_MSG_MAX, .mode = 0777, .type = OMIT, .put_flags = 1,
		.flags_val = KMQ_CREATE_EXCL }), 0);
	ck_assert_err(vt_info(ctl, ok, &info), 0);
	ck_assert_uint_eq(info.mode, 0777);
	ck_assert_uint_eq(info.max_msg_size, KMQ_MSG_MAX);
}
END_TEST

START_TEST(delete_get_refusals)
{
	const char *name = qn("dg");

	ck_refused(name_cmd(KMQ_GENL_CMD_DELETE, NULL, 0), -EINVAL,
		   "name missing");
	ck_refused(name_cmd(KMQ_GENL_CMD_DELETE, qn("missing"), 0), -ENOENT,
		   "no such queue");
	ck_refused(name_cmd(KMQ_GENL_CMD_DELETE, "a*b", 0), -EINVAL,
		   "queue name");
	ck_refused(name_cmd(KMQ_GENL_CMD_GET, NULL, 0), -EINVAL,
		   "name missing");
	ck_refused(name_cmd(KMQ_GENL_CMD_GET, "..\x01", 0), -EINVAL,
		   "queue name");
	ck_assert_err(kmqnl_create(nl, name, 2, 8, 0600, true), 0);
	/* Attributes DELETE and GET do not take. */
	ck_refused(name_cmd(KMQ_GENL_CMD_GET, name, KMQ_GENL_A_CAPACITY),
		   -EINVAL, NULL);
	ck_refused(name_cmd(KMQ_GENL_CMD_DELETE, name, KMQ_GENL_A_MODE),
		   -EINVAL, NULL);
	ck_assert_err(name_cmd(KMQ_GENL_CMD_GET, name, 0), 0);
	/* Commands the family does not have. */
	ck_assert_err(name_cmd(KMQ_GENL_CMD_EVENT, name, 0), -EOPNOTSUPP);
	ck_assert_err(name_cmd(KMQ_GENL_CMD_MAX + 1, name, 0), -EOPNOTSUPP);
	ck_assert_err(kmqnl_delete(nl, name), 0);
	ck_refused(kmqnl_delete(nl, name), -ENOENT, "no such queue");
}
END_TEST

/* ---- dumps ---- */

struct tally {
	int seen[NDUMP];
	int others;		/* this program's other queues */
	int last;		/* index order: creation order */
	int disorder;
};

static int count(const struct kmq_info *info, void *arg)
{
	struct tally *t = arg;
	char pfx[KMQ_NAME_LEN];
	int i;

	vt_qname(pfx, "d");
	if (strncmp(info->name, pfx, strlen(pfx))) {
		/* Churned names may show up twice: deleted and created
		 * again between two parts, they are new queues. */
		if (!strncmp(info->name, "netlink_test.", 13))
			t->others++;
		return 0;
	}
	i = atoi(info->name + strlen(pfx));
	ck_assert_int_ge(i, 0);
	ck_assert_int_lt(i, NDUMP);
	t->seen[i]++;
	if (i < t->last)
		t->disorder++;
	t->last = i;
	ck_assert_uint_eq(info->capacity, 1);
	return 0;
}

static void make_dump_queues(void)
{
	char name[KMQ_NAME_LEN], sfx[16];
	int i;

	for (i = 0; i < NDUMP; i++) {
		snprintf(sfx, sizeof(sfx), "d%03d", i);
		vt_qname(name, sfx);
		ck_assert_err(vt_create(ctl, name, 1, 1, 0644, KMQ_CREATE_EXCL,
					0), 0);
	}
}

static void check_tally(const struct tally *t)
{
	int i;

	for (i = 0; i < NDUMP; i++)
		ck_assert_msg(t->seen[i] == 1, "queue d%03d seen %d times", i,
			      t->seen[i]);
	ck_assert_int_eq(t->disorder, 0);
}

static int add_bytes(struct nl_msg *msg, void *arg)
{
	*(size_t *)arg += nlmsg_hdr(msg)->nlmsg_len;
	return 0;
}

START_TEST(dump_many)
{
	struct kmq_info info, *infos;
	struct kmq_list kl;
	struct tally t;
	double t0, t_nl, t_ioctl;
	size_t bytes = 0;
	int i;

	make_dump_queues();
	memset(&t, 0, sizeof(t));
	t.last = -1;
	t0 = vt_now();
	ck_assert_err(kmqnl_dump(nl, NULL, count, &t), 0);
	t_nl = vt_now() - t0;
	check_tally(&t);
	ck_assert_int_eq(t.others, 0);
	/* More than the largest part the kernel builds (32 KiB): the dump
	 * took several, and was exact across them. */
	ck_assert_err(kmqnl_request(nl, kmqnl_msg(nl, KMQ_GENL_CMD_GET,
						   NLM_F_DUMP),
				    add_bytes, &bytes), 0);
	ck_assert_uint_gt(bytes, 32768);

	/* For the record: the same listing through LIST ioctls. */
	infos = calloc(NDUMP, sizeof(*infos));
	ck_assert_ptr_nonnull(infos);
	t0 = vt_now();
	memset(&kl, 0, sizeof(kl));
	kl.infos = (__u64)(uintptr_t)infos;
	kl.count = NDUMP;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &kl), 0);
	t_ioctl = vt_now() - t0;
	ck_assert_uint_eq(kl.count, NDUMP);
	free(infos);
	printf("netlink_test: %d queues: dump %zu bytes in %.2f ms, one LIST ioctl %.2f ms\n",
	       NDUMP, bytes, t_nl * 1e3, t_ioctl * 1e3);

	/* A prefix: only the d1xx ones. */
	memset(&t, 0, sizeof(t));
	t.last = -1;
	ck_assert_err(kmqnl_dump(nl, "netlink_test.d1", count, &t), 0);
	for (i = 0; i < NDUMP; i++)
		ck_assert_int_eq(t.seen[i], i >= 100 && i < 200);
	ck_refused(kmqnl_dump(nl, "bad/prefix", count, &t), -EINVAL,
		   "queue name");

	/* The dump's attributes match GET's for one of them. */
	ck_assert_err(kmqnl_get(nl, qn("d042"), &info), 0);
	ck_assert_uint_eq(info.mode, 0644);
}
END_TEST

/* Creations and deletions between the parts of a dump neither repeat nor
 * hide the queues that stay. */
START_TEST(dump_under_churn)
{
	volatile int *stop = vt_shared(sizeof(int));
	int dumps = 0, st;
	double end;
	pid_t pid;

	make_dump_queues();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c = open(KMQ_DEVICE, O_RDWR), i = 0;
		char name[KMQ_NAME_LEN], sfx[16];

		while (!*stop) {
			snprintf(sfx, sizeof(sfx), "churn%d", i % 8);
			vt_qname(name, sfx);
			if (vt_create(c, name, 1, 1, 0600, KMQ_CREATE_EXCL, 0))
				vt_delete(c, name);
			/* Delete an old one now and then: ids move on. */
			if (i % 3 == 0) {
				snprintf(sfx, sizeof(sfx), "churn%d", (i + 4) % 8);
				vt_qname(name, sfx);
				vt_delete(c, name);
			}
			i++;
		}
		_exit(0);
	}
	end = vt_now() + 3.0;
	while (vt_now() < end) {
		struct tally t;

		memset(&t, 0, sizeof(t));
		t.last = -1;
		ck_assert_err(kmqnl_dump(nl, NULL, count, &t), 0);
		check_tally(&t);
		dumps++;
	}
	*stop = 1;
	st = vt_wait(pid);
	ck_assert_child_ok(st, "churn");
	ck_assert_int_gt(dumps, 0);
}
END_TEST

/* ---- events, through kmqd's client ---- */

struct evlog {
	int n;
	struct {
		char type[32], queue[KMQ_NAME_LEN], detail[256];
	} e[32];
};

static void on_event(void *arg, const char *type, const char *queue,
		     const char *detail)
{
	struct evlog *l = arg;

	if (strncmp(queue, "netlink_test.", 13) && strcmp(type, "events-lost"))
		return;
	if (l->n >= 32)
		return;
	snprintf(l->e[l->n].type, sizeof(l->e[0].type), "%s", type);
	snprintf(l->e[l->n].queue, sizeof(l->e[0].queue), "%s", queue);
	snprintf(l->e[l->n].detail, sizeof(l->e[0].detail), "%s", detail);
	l->n++;
}

/* Poll and process until @l has @want events or @ms pass. */
static void pump(struct kmqd_genl *g, struct evlog *l, int want, int ms)
{
	double end = vt_now() + ms / 1000.0;

	while (l->n < want && vt_now() < end) {
		struct pollfd p = { .fd = kmqd_genl_fd(g), .events = POLLIN };

		if (poll(&p, 1, 20) > 0)
			kmqd_genl_process(g);
	}
	kmqd_genl_process(g);	/* whatever else came */
}

#define ck_event(l, i, t, q, d) do {					\
	ck_assert_int_gt((l)->n, (i));					\
	ck_assert_str_eq((l)->e[i].type, (t));				\
	ck_assert_str_eq((l)->e[i].queue, (q));				\
	ck_assert_msg(strstr((l)->e[i].detail, (d)),			\
		      "event %d detail '%s' lacks '%s'", (i),		\
		      (l)->e[i].detail, (d));				\
} while (0)

START_TEST(events_created_deleted)
{
	const char *a = qn("ev-a"), *b = qn("ev-b");
	struct kmqd_genl *g;
	struct evlog l = { 0 };
	char want[128];

	ck_assert_err(kmqd_genl_open(&g, on_event, &l), 0);
	ck_assert_int_ne(fcntl(kmqd_genl_fd(g), F_GETFL) & O_NONBLOCK, 0);
	kmqd_genl_process(g);		/* nothing pending: returns */
	ck_assert_int_eq(l.n, 0);

	/* By ioctl and by netlink alike. */
	ck_assert_err(vt_create(ctl, a, 3, 50, 0640, 0, 0), 0);
	ck_assert_err(kmqnl_create(nl, b, 16, 8, 0600, true), 0);
	/* An existing queue: no event. */
	ck_assert_err(vt_create(ctl, a, 3, 50, 0640, 0, 0), 0);
	ck_assert_err(kmqnl_delete(nl, a), 0);
	ck_assert_err(vt_delete(ctl, b), 0);
	pump(g, &l, 4, 5000);
	ck_assert_int_eq(l.n, 4);
	snprintf(want, sizeof(want),
		 "uid=%u gid=%u mode=0640 capacity=4 max_msg_size=50",
		 getuid(), getgid());
	ck_event(&l, 0, "queue-created", a, want);
	ck_event(&l, 1, "queue-created", b, "mode=0600 capacity=16 max_msg_size=8");
	ck_event(&l, 2, "queue-deleted", a, "uid=0");
	ck_event(&l, 3, "queue-deleted", b, "uid=0");
	kmqd_genl_close(g);
	kmqd_genl_close(NULL);
}
END_TEST

START_TEST(events_full_rate_limited)
{
	const char *name = qn("full");
	struct kmqd_genl *g;
	struct evlog l = { 0 };
	struct pollfd p;
	long qfd;
	int i;

	ck_assert_err(kmqd_genl_open(&g, on_event, &l), 0);
	qfd = ck_assert_ok(vt_create(ctl, name, 1, 8, 0600, 0,
				     KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)qfd, "1", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	/* A hot full queue: many refusals, one event. */
	for (i = 0; i < 50; i++)
		ck_assert_err(vt_send((int)qfd, "2", 1, KMQ_IO_NONBLOCK, 0,
				      NULL), -EAGAIN);
	pump(g, &l, 2, 3000);
	ck_assert_int_eq(l.n, 2);
	ck_event(&l, 0, "queue-created", name, "capacity=1");
	ck_event(&l, 1, "queue-full", name, "capacity=1 suppressed=0");

	/* After the interval: the next one, counting the 49 left out, plus
	 * poll()'s for EPOLLOUT below. */
	vt_sleep_ms(KMQ_GENL_FULL_INTERVAL_MS + 100);
	p.fd = (int)qfd;
	p.events = POLLOUT;
	ck_assert_int_eq(poll(&p, 1, 0), 0);
	pump(g, &l, 3, 3000);
	ck_assert_int_eq(l.n, 3);
	ck_event(&l, 2, "queue-full", name, "suppressed=49");

	/* A timed blocking send announces itself too, before it sleeps. */
	vt_sleep_ms(KMQ_GENL_FULL_INTERVAL_MS + 100);
	ck_assert_err(vt_send((int)qfd, "3", 1, 0, 20000000, NULL), -ETIMEDOUT);
	pump(g, &l, 4, 3000);
	ck_assert_int_eq(l.n, 4);
	ck_event(&l, 3, "queue-full", name, "suppressed=0");

	/* Not full: no event. */
	ck_assert_err(vt_recv((int)qfd, (char[8]){ 0 }, 8, KMQ_IO_NONBLOCK, 0,
			      NULL), 0);
	vt_sleep_ms(KMQ_GENL_FULL_INTERVAL_MS + 100);
	ck_assert_err(vt_send((int)qfd, "4", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	pump(g, &l, 5, 300);
	ck_assert_int_eq(l.n, 4);
	close((int)qfd);
	kmqd_genl_close(g);
}
END_TEST

/* The SQS events: a lease that expires, and with a redrive policy of one
 * receive, the move of its message to the dead-letter queue. */
START_TEST(events_sqs)
{
	const char *src = qn("sqs-src"), *dlq = qn("sqs-dlq");
	struct kmq_qattr qa = { .capacity = 4, .max_msg_size = 64 };
	struct kmq_policy p;
	struct kmq_in in = { .buf = (char[64]){ 0 }, .cap = 64 };
	struct kmqd_genl *g;
	struct evlog l = { 0 };
	struct kmq *q;
	char want[160];
	uint64_t id;
	int i, leases = -1, dead = -1;

	ck_assert_err(kmqd_genl_open(&g, on_event, &l), 0);
	ck_assert_err(kmq_create(dlq, &qa), 0);
	ck_assert_err(kmq_create(src, &qa), 0);
	ck_assert_err(kmq_get_policy(src, &p), 0);
	p.max_receive = 1;
	snprintf(p.dlq, sizeof(p.dlq), "%s", dlq);
	ck_assert_err(kmq_set_policy(&p), 0);
	ck_assert_err(kmq_open(src, KMQ_SEND | KMQ_RECV, &q), 0);
	ck_assert_err(kmq_send_id(q, "poison", 6, &id, 0), 0);
	/* Visibility 0: the lease expires at once; it was the message's one
	 * receive, so the expiry moves it to the dead-letter queue. */
	ck_assert_int_eq(kmq_receive(q, &in, 1, 0, 0), 1);
	pump(g, &l, 4, 5000);
	for (i = 0; i < l.n; i++) {
		if (!strcmp(l.e[i].type, "leases-expired"))
			leases = i;
		if (!strcmp(l.e[i].type, "message-dead-lettered"))
			dead = i;
	}
	ck_assert_int_ge(leases, 0);
	ck_assert_int_ge(dead, 0);
	ck_event(&l, leases, "leases-expired", src, "count=1");
	snprintf(want, sizeof(want), "dlq=%s msg_id=%llu receive_count=1", dlq,
		 (unsigned long long)id);
	ck_event(&l, dead, "message-dead-lettered", src, want);
	kmq_close(q);
	ck_assert_err(kmq_delete(src), 0);
	ck_assert_err(kmq_delete(dlq), 0);
	kmqd_genl_close(g);
}
END_TEST

/* Raw events socket: the attributes themselves. */
static void keep_event(const struct kmqnl_event *ev, void *arg)
{
	struct kmqnl_event *out = arg;

	if (!strncmp(ev->name, "netlink_test.", 13))
		*out = *ev;
}

START_TEST(events_raw_attributes)
{
	const char *name = qn("raw");
	struct kmqnl *ev;
	struct kmqnl_event got;
	int n;

	ck_assert_err(kmqnl_events_open(&ev, false), 0);
	ck_assert_err(kmqnl_create(nl, name, 2, 33, 0604, true), 0);
	memset(&got, 0, sizeof(got));
	n = kmqnl_events_read(ev, keep_event, &got);
	ck_assert_int_ge(n, 1);
	ck_assert_uint_eq(got.type, KMQ_GENL_EVENT_QUEUE_CREATED);
	ck_assert_str_eq(got.name, name);
	ck_assert_uint_eq(got.uid, getuid());
	ck_assert_uint_eq(got.gid, getgid());
	ck_assert_uint_eq(got.mode, 0604);
	ck_assert_uint_eq(got.capacity, 2);
	ck_assert_uint_eq(got.max_msg_size, 33);
	kmqnl_close(ev);
	/* A non-blocking one with nothing pending says so. */
	ck_assert_err(kmqnl_events_open(&ev, true), 0);
	ck_assert_err(kmqnl_events_read(ev, keep_event, &got), -EAGAIN);
	kmqnl_close(ev);
}
END_TEST

/* ---- permissions ---- */

enum { R_CREATE, R_DELETE_OWN, R_DELETE_ROOTS, R_GET, R_DUMP, R_WHY,
       R_NS_CREATE, R_NS_DELETE_ROOTS, R_NS_DELETE_OWN, R_NS_GET, R_N };

struct perm {
	long r[R_N];
	char why[3][256];
};

static int one(const struct kmq_info *info, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void drop_to_nobody(void)
{
	/* Capabilities stay permitted across setuid, not effective. */
	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
	    setgid(NOBODY) || setuid(NOBODY))
		_exit(3);
}

/* Take CAP_NET_ADMIN back into the effective set, and nothing else. */
static int net_admin_only(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1U << CAP_NET_ADMIN;
	return (int)syscall(SYS_capset, &h, d);
}

START_TEST(unprivileged)
{
	struct perm *p = vt_shared(sizeof(*p));
	const char *roots = qn("roots"), *own = qn("own");
	const char *nsq = qn("admin-own");
	pid_t pid;
	int st;

	ck_assert_err(kmqnl_create(nl, roots, 2, 8, 0644, true), 0);
	memset(p, 0x7f, sizeof(p->r));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kmqnl *n = NULL;
		struct kmq_info info;
		int c, cnt = 0;

		drop_to_nobody();
		c = open(KMQ_DEVICE, O_RDWR);
		/* Its own queue, by ioctl: that needs no capability. */
		if (c < 0 || vt_create(c, own, 2, 8, 0600, KMQ_CREATE_EXCL, 0))
			_exit(4);
		if (kmqnl_open(&n))
			_exit(5);
		p->r[R_CREATE] = kmqnl_create(n, qn("nobody"), 2, 8, 0600, true);
		snprintf(p->why[0], sizeof(p->why[0]), "%s", kmqnl_errmsg(n));
		p->r[R_DELETE_OWN] = kmqnl_delete(n, own);
		snprintf(p->why[1], sizeof(p->why[1]), "%s", kmqnl_errmsg(n));
		p->r[R_DELETE_ROOTS] = kmqnl_delete(n, roots);
		p->r[R_GET] = kmqnl_get(n, roots, &info);
		if (!p->r[R_GET] && info.uid != 0)
			p->r[R_GET] = -EPROTO;
		p->r[R_DUMP] = kmqnl_dump(n, "netlink_test.", one, &cnt);
		if (!p->r[R_DUMP] && cnt != 2)
			p->r[R_DUMP] = -EPROTO;
		kmqnl_close(n);

		/* With CAP_NET_ADMIN alone (not CAP_SYS_ADMIN) netlink lets it
		 * change queues, and the registry still judges ownership. A
		 * new socket: the one opened without it stays refused. */
		if (net_admin_only())
			_exit(6);
		if (kmqnl_open(&n))
			_exit(7);
		p->r[R_NS_CREATE] = kmqnl_create(n, nsq, 2, 8, 0600, true);
		p->r[R_NS_DELETE_ROOTS] = kmqnl_delete(n, roots);
		snprintf(p->why[2], sizeof(p->why[2]), "%s", kmqnl_errmsg(n));
		p->r[R_NS_DELETE_OWN] = kmqnl_delete(n, own);
		p->r[R_NS_GET] = kmqnl_get(n, nsq, &info);
		if (!p->r[R_NS_GET] && info.uid != NOBODY)
			p->r[R_NS_GET] = -EPROTO;
		kmqnl_close(n);
		close(c);
		_exit(0);
	}
	st = vt_wait(pid);
	ck_assert_child_ok(st, "unprivileged child");
	ck_assert_err(p->r[R_CREATE], -EPERM);
	ck_assert_msg(strstr(p->why[0], "CAP_NET_ADMIN"), "why: %s", p->why[0]);
	ck_assert_err(p->r[R_DELETE_OWN], -EPERM);
	ck_assert_msg(strstr(p->why[1], "CAP_NET_ADMIN"), "why: %s", p->why[1]);
	ck_assert_err(p->r[R_DELETE_ROOTS], -EPERM);
	ck_assert_err(p->r[R_GET], 0);
	ck_assert_err(p->r[R_DUMP], 0);
	ck_assert_err(p->r[R_NS_CREATE], 0);
	ck_assert_err(p->r[R_NS_DELETE_ROOTS], -EPERM);
	ck_assert_msg(strstr(p->why[2], "owner"), "why: %s", p->why[2]);
	ck_assert_err(p->r[R_NS_DELETE_OWN], 0);
	ck_assert_err(p->r[R_NS_GET], 0);
	{
		struct kmq_info info;

		ck_assert_err(vt_info(ctl, qn("nobody"), &info), -ENOENT);
		ck_assert_err(vt_info(ctl, roots, &info), 0);
		ck_assert_err(vt_info(ctl, own, &info), -ENOENT);
		ck_assert_err(vt_info(ctl, nsq, &info), 0);
		ck_assert_uint_eq(info.uid, NOBODY);
	}
}
END_TEST

static Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc = tcase_create("netlink");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_get_delete);
	tcase_add_test(tc, create_duplicates);
	tcase_add_test(tc, create_refusals);
	tcase_add_test(tc, delete_get_refusals);
	tcase_add_test(tc, dump_many);
	tcase_add_test(tc, dump_under_churn);
	tcase_add_test(tc, events_created_deleted);
	tcase_add_test(tc, events_full_rate_limited);
	tcase_add_test(tc, events_raw_attributes);
	tcase_add_test(tc, events_sqs);
	tcase_add_test(tc, unprivileged);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "netlink_test";
	return vt_run(netlink_suite());
}
