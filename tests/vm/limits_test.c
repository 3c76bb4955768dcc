/* limits_test: the module's max_queues / max_bytes / max_user_bytes limits give -ENOSPC / -EDQUOT cleanly (charges follow the queue's life, not its name), and 1 MiB messages and 64K-slot queues work through both paths. */
#include "vmtest.h"

#include <sys/fsuid.h>

#define PARAM_DIR	"/sys/module/kmq/parameters/"

static int ctl = -1;

static void setup(void)
{
	ctl = vt_ctl();
	vt_cleanup_prefix();
}

static void teardown(void)
{
	vt_cleanup_prefix();
	if (ctl >= 0)
		close(ctl);
	ctl = -1;
}

struct limits {
	unsigned long long max_queues, max_bytes, max_user_bytes;
};

static int read_param(const char *name, unsigned long long *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", v) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* Write a parameter if the module lets us (0644); returns 0 or -errno. */
static int write_param(const char *name, unsigned long long v)
{
	char path[128];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%llu\n", v) < 0)
		err = -EIO;
	if (fclose(f))
		err = -errno;
	return err;
}

static void read_limits(struct limits *l)
{
	ck_assert_err(read_param("max_queues", &l->max_queues), 0);
	ck_assert_err(read_param("max_bytes", &l->max_bytes), 0);
	ck_assert_err(read_param("max_user_bytes", &l->max_user_bytes), 0);
	ck_assert_uint_gt(l->max_queues, 0);
	ck_assert_uint_gt(l->max_bytes, 0);
	ck_assert_uint_gt(l->max_user_bytes, 0);
}

/* The size the module will charge for a geometry: ring.h's layout, which
 * the module uses; checked against INFO where a queue gets created. */
static __u64 layout_size(__u32 cap, __u32 msz)
{
	struct kmq_layout l;

	ck_assert_int_eq(kmq_layout_compute(&l, cap, msz), 0);
	return l.size;
}

/* A geometry whose size is in (lo, hi]; 0 when none is found. */
static int find_geometry(__u64 lo, __u64 hi, __u32 *cap, __u32 *msz)
{
	__u32 c, m;

	for (m = KMQ_MSG_MAX; m >= 64; m /= 2)
		for (c = 1; c <= KMQ_CAPACITY_MAX; c *= 2) {
			__u64 s = layout_size(c, m);

			if (s > hi)
				break;
			if (s > lo) {
				*cap = c;
				*msz = m;
				return 1;
			}
		}
	/* Fine-tune the message size with a capacity of 1. */
	for (m = 1; m <= KMQ_MSG_MAX; m += 4096) {
		__u64 s = layout_size(1, m);

		if (s > lo && s <= hi) {
			*cap = 1;
			*msz = m;
			return 1;
		}
	}
	return 0;
}

static long create_named(const char *suffix, int i, __u32 cap, __u32 msz)
{
	char nm[KMQ_NAME_LEN], sfx[48];

	snprintf(sfx, sizeof(sfx), "%s%d", suffix, i);
	vt_qname(nm, sfx);
	return vt_create(ctl, nm, cap, msz, 0666, KMQ_CREATE_EXCL, 0);
}

static long delete_named(const char *suffix, int i)
{
	char nm[KMQ_NAME_LEN], sfx[48];

	snprintf(sfx, sizeof(sfx), "%s%d", suffix, i);
	vt_qname(nm, sfx);
	return vt_delete(ctl, nm);
}

/* Creating queues past max_queues is -ENOSPC; a deleted queue that is still
 * open still counts; once closed its place is free again. */
START_TEST(max_queues)
{
	struct limits l;
	unsigned long long n, i, made = 0;
	__u64 each = layout_size(1, 1);
	char nm[KMQ_NAME_LEN];
	long fd, r;

	read_limits(&l);
	n = l.max_queues;
	if (n * each > l.max_user_bytes) {
		if (write_param("max_queues", 16) == 0) {
			read_limits(&l);
			n = l.max_queues;
		}
	}
	if (n * each > l.max_user_bytes || n > 100000) {
		printf("limits_test: max_queues=%llu of %llu bytes exceeds max_user_bytes=%llu; not reachable by one user\n",
		       n, (unsigned long long)each, l.max_user_bytes);
		return;
	}
	for (i = 0; i < n + 1; i++) {
		r = create_named("q", (int)i, 1, 1);
		if (r == -ENOSPC)
			break;
		ck_assert_msg(r == 0, "queue %llu of max_queues=%llu: %ld (%s)", i, n, r,
			      strerror((int)-r));
		made++;
	}
	printf("limits_test: created %llu queues of max_queues=%llu before -ENOSPC\n", made, n);
	ck_assert_msg(made <= n, "created %llu queues with max_queues=%llu", made, n);
	ck_assert_msg(made == n, "-ENOSPC after %llu queues, max_queues=%llu (others alive?)",
		      made, n);
	ck_assert_err(create_named("q", (int)n, 1, 1), -ENOSPC);
	/* Deleted but open: still alive, still counted. */
	vt_qname(nm, "q0");
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(delete_named("q", 0), 0);
	ck_assert_err(create_named("q", (int)n, 1, 1), -ENOSPC);
	/* The open queue still works. */
	ck_assert_err(vt_send((int)fd, "k", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	close((int)fd);
	ck_assert_err(create_named("q", (int)n, 1, 1), 0);
	ck_assert_err(create_named("q", (int)n + 1, 1, 1), -ENOSPC);
	/* An existing name with the same geometry is no new queue: fine. */
	vt_qname(nm, "q1");
	ck_assert_err(vt_create(ctl, nm, 1, 1, 0666, 0, 0), 0);
	for (i = 1; i <= n + 1; i++)
		delete_named("q", (int)i);
	ck_assert_err(create_named("again", 0, 1, 1), 0);
	ck_assert_err(delete_named("again", 0), 0);
}
END_TEST

/* A queue larger than everything allowed: -ENOSPC, refused before any
 * memory is allocated (no OOM, no allocation-failure noise). */
START_TEST(too_big_at_once)
{
	struct limits l;
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	__u32 cap, msz;
	double t0;

	read_limits(&l);
	vt_qname(nm, "huge");
	t0 = vt_now();
	/* 2^20 slots of 1 MiB: a terabyte. */
	ck_assert_err(vt_create(ctl, nm, KMQ_CAPACITY_MAX, KMQ_MSG_MAX, 0600, 0, 0), -ENOSPC);
	ck_assert_msg(vt_now() - t0 < 20, "refusing a 1 TiB queue took %.1f s", vt_now() - t0);
	ck_assert_err(vt_info(ctl, nm, &info), -ENOENT);
	/* Just above max_bytes. */
	if (find_geometry(l.max_bytes, l.max_bytes * 2, &cap, &msz)) {
		ck_assert_err(vt_create(ctl, nm, cap, msz, 0600, 0, 0), -ENOSPC);
		ck_assert_err(vt_info(ctl, nm, &info), -ENOENT);
	}
	/* Above max_user_bytes but within max_bytes: the per-user quota. */
	if (l.max_user_bytes < l.max_bytes &&
	    find_geometry(l.max_user_bytes, l.max_bytes, &cap, &msz)) {
		ck_assert_err(vt_create(ctl, nm, cap, msz, 0600, 0, 0), -EDQUOT);
		ck_assert_err(vt_info(ctl, nm, &info), -ENOENT);
	} else {
		printf("limits_test: max_user_bytes=%llu >= max_bytes=%llu: no quota-only case\n",
		       l.max_user_bytes, l.max_bytes);
	}
}
END_TEST

/* Create queues of @cap x @msz named "<prefix><i>" with fsuid @uid until
 * one fails; returns how many were made and the error in *@err. */
static int fill_as(uid_t uid, const char *prefix, __u32 cap, __u32 msz, long *err)
{
	volatile long *res = vt_shared(4096);
	pid_t pid = fork();
	int made;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC), i;

		setfsuid(uid);
		if ((uid_t)setfsuid((uid_t)-1) != uid)
			_exit(90);
		res[1] = -ENOEXEC;
		for (i = 0; i < 200; i++) {
			char sfx[32], n2[KMQ_NAME_LEN];
			long e;

			snprintf(sfx, sizeof(sfx), "%s%d", prefix, i);
			vt_qname(n2, sfx);
			e = vt_create(c, n2, cap, msz, 0600, KMQ_CREATE_EXCL, 0);
			if (e) {
				res[1] = e;
				break;
			}
			res[0]++;
		}
		_exit(0);
	}
	ck_assert_child_ok(vt_wait(pid), "filler");
	made = (int)res[0];
	*err = res[1];
	munmap((void *)res, 4096);
	return made;
}

/* Three owners fill their quotas: each stops at -EDQUOT at its own
 * max_user_bytes, or at -ENOSPC when the total max_bytes is reached first.
 * Deleting gives the bytes back only when the last fd closes. */
START_TEST(fill_quota_and_total)
{
	static const uid_t uids[3] = { 0, 65534, 65533 };
	static const char *prefixes[3] = { "root", "nobody", "other" };
	struct limits l;
	__u32 cap = 1, msz = 1;
	__u64 each, total = 0;
	int u, made[3], enospc = 0;
	long err[3], fd, r;
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;

	read_limits(&l);
	if (l.max_bytes > (512ULL << 20) && !vt_env_long("KMQ_LIMITS_FILL", 0)) {
		printf("limits_test: max_bytes=%llu is large; set KMQ_LIMITS_FILL=1 to allocate it all\n",
		       l.max_bytes);
		return;
	}
	/* Queues of a fifth to an eighth of a quota each. */
	ck_assert(find_geometry(l.max_user_bytes / 8, l.max_user_bytes / 5, &cap, &msz));
	each = layout_size(cap, msz);
	for (u = 0; u < 3; u++) {
		__u64 mine;

		made[u] = fill_as(uids[u], prefixes[u], cap, msz, &err[u]);
		mine = (__u64)made[u] * each;
		printf("limits_test: uid %u: %d queues of %llu bytes, then %ld (%s); total %llu of %llu, quota %llu\n",
		       uids[u], made[u], (unsigned long long)each, err[u], strerror((int)-err[u]),
		       (unsigned long long)(total + mine), l.max_bytes, l.max_user_bytes);
		ck_assert_msg(mine <= l.max_user_bytes, "uid %u charged %llu > max_user_bytes",
			      uids[u], (unsigned long long)mine);
		total += mine;
		ck_assert_msg(total <= l.max_bytes, "total %llu > max_bytes",
			      (unsigned long long)total);
		if (total + each > l.max_bytes) {
			/* Full globally; the user may be full too. */
			ck_assert_msg(err[u] == -ENOSPC ||
				      (err[u] == -EDQUOT && mine + each > l.max_user_bytes),
				      "uid %u: %ld with the total full", uids[u], err[u]);
		} else {
			ck_assert_msg(mine + each > l.max_user_bytes,
				      "uid %u stopped at %ld with room left in both limits",
				      uids[u], err[u]);
			ck_assert_err(err[u], -EDQUOT);
		}
		enospc += err[u] == -ENOSPC;
	}
	if (3 * (l.max_user_bytes / each) * each > l.max_bytes)
		ck_assert_msg(enospc, "three quotas exceed max_bytes, yet no -ENOSPC");
	vt_qname(nm, "nobody0");
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.uid, 65534);
	ck_assert_uint_eq(info.size, each);	/* the charge we computed */

	/* Deleting an open queue keeps its charge until the fd closes. */
	vt_qname(nm, "root0");
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_err(vt_delete(ctl, nm), 0);
	r = create_named("root", 100, cap, msz);
	ck_assert_msg(r == -EDQUOT || r == -ENOSPC,
		      "a deleted but open queue's bytes were given back early (%ld)", r);
	close((int)fd);
	ck_assert_err(create_named("root", 100, cap, msz), 0);
	/* Everything given back: clean up, then as much fits again. */
	vt_cleanup_prefix();
	r = 0;
	ck_assert_int_eq(fill_as(0, "refill", cap, msz, &r), made[0]);
	vt_cleanup_prefix();
}
END_TEST

/* A 1 MiB max_msg_size queue carries a 1 MiB message through the copying
 * path, the mapped path, and across them; one byte more is -EMSGSIZE. */
START_TEST(one_mib_messages)
{
	char nm[KMQ_NAME_LEN];
	unsigned char *out = malloc(KMQ_MSG_MAX + 1), *in = malloc(KMQ_MSG_MAX + 1);
	struct kmq_iomsg m;
	struct kmq_msg msg;
	struct kmq *ms, *mr, *cs, *cr;
	long fd;
	int i, n;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(in);
	vt_qname(nm, "mib");
	ck_assert_err(vt_create(ctl, nm, 4, KMQ_MSG_MAX, 0600, 0, 0), 0);
	for (i = 0; i < (int)KMQ_MSG_MAX + 1; i++)
		out[i] = (unsigned char)(i * 131 + (i >> 12));

	/* Copying path, raw ioctls. */
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, out, KMQ_MSG_MAX + 1, 0, -1, NULL), -EMSGSIZE);
	ck_assert_err(vt_send((int)fd, out, KMQ_MSG_MAX, 0, -1, NULL), 0);
	ck_assert_err(vt_recv((int)fd, in, KMQ_MSG_MAX - 1, 0, -1, &m), -EMSGSIZE);
	ck_assert_uint_eq(m.len, KMQ_MSG_MAX);
	memset(in, 0, KMQ_MSG_MAX);
	ck_assert_err(vt_recv((int)fd, in, KMQ_MSG_MAX, 0, -1, &m), 0);
	ck_assert_uint_eq(m.len, KMQ_MSG_MAX);
	ck_assert_msg(!memcmp(in, out, KMQ_MSG_MAX), "1 MiB message garbled on the copying path");

	/* libkmq, mapped and copying handles. */
	ck_assert_err(kmq_open(nm, KMQ_SEND, &ms), 0);
	ck_assert_err(kmq_open(nm, KMQ_RECV, &mr), 0);
	ck_assert_err(kmq_open(nm, KMQ_SEND | KMQ_COPY, &cs), 0);
	ck_assert_err(kmq_open(nm, KMQ_RECV | KMQ_COPY, &cr), 0);
	ck_assert_int_eq(kmq_mapped(ms), 1);
	ck_assert_int_eq(kmq_mapped(mr), 1);
	ck_assert_int_eq(kmq_mapped(cs), 0);
	ck_assert_int_eq(kmq_mapped(cr), 0);
	ck_assert_err(kmq_send(ms, out, KMQ_MSG_MAX + 1, 0), -EMSGSIZE);
	ck_assert_err(kmq_send(cs, out, KMQ_MSG_MAX + 1, 0), -EMSGSIZE);
	/* mapped -> mapped (borrowed in place), mapped -> copying,
	 * copying -> mapped. */
	ck_assert_err(kmq_send(ms, out, KMQ_MSG_MAX, 0), 0);
	ck_assert_err(kmq_borrow(mr, &msg, 0), 0);
	ck_assert_uint_eq(msg.len, KMQ_MSG_MAX);
	ck_assert_msg(!memcmp(msg.data, out, KMQ_MSG_MAX), "mapped 1 MiB borrow garbled");
	ck_assert_err(kmq_release(mr, &msg), 0);
	ck_assert_err(kmq_send(ms, out + 1, KMQ_MSG_MAX, 0), 0);
	n = kmq_recv(cr, in, KMQ_MSG_MAX, NULL, 0);
	ck_assert_int_eq(n, KMQ_MSG_MAX);
	ck_assert_msg(!memcmp(in, out + 1, KMQ_MSG_MAX), "mapped -> copying 1 MiB garbled");
	ck_assert_err(kmq_send(cs, out, KMQ_MSG_MAX, 0), 0);
	memset(in, 0, KMQ_MSG_MAX);
	n = kmq_recv(mr, in, KMQ_MSG_MAX, NULL, 0);
	ck_assert_int_eq(n, KMQ_MSG_MAX);
	ck_assert_msg(!memcmp(in, out, KMQ_MSG_MAX), "copying -> mapped 1 MiB garbled");
	/* Fill all four slots with 1 MiB and drain them. */
	for (i = 0; i < 4; i++)
		ck_assert_err(kmq_send(i & 1 ? cs : ms, out + i, KMQ_MSG_MAX, 0), 0);
	ck_assert_err(kmq_send(ms, out, 1, 0), -EAGAIN);
	for (i = 0; i < 4; i++) {
		n = kmq_recv(i & 1 ? cr : mr, in, KMQ_MSG_MAX, NULL, 0);
		ck_assert_int_eq(n, KMQ_MSG_MAX);
		ck_assert_msg(!memcmp(in, out + i, KMQ_MSG_MAX), "1 MiB message %d garbled", i);
	}
	kmq_close(ms);
	kmq_close(mr);
	kmq_close(cs);
	kmq_close(cr);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
	free(out);
	free(in);
}
END_TEST

/* A 64K-slot queue: filled and drained in batches, and crash repair walks
 * all its cells when a client holding slots goes away. */
START_TEST(many_slots)
{
	enum { CAP = 1 << 16 };
	char nm[KMQ_NAME_LEN];
	struct kmq_iomsg msgs[KMQ_BATCH_MAX];
	__u32 vals[KMQ_BATCH_MAX];
	struct kmq_info info;
	struct kmq_io io;
	struct kmq *q;
	struct kmq_msg held[3];
	__u32 next = 0, got = 0;
	long fd;
	int i;

	vt_qname(nm, "slots");
	ck_assert_err(vt_create(ctl, nm, CAP, 8, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	while (next < CAP) {
		memset(&io, 0, sizeof(io));
		for (i = 0; i < KMQ_BATCH_MAX; i++) {
			vals[i] = next + (__u32)i;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].buf = (__u64)(uintptr_t)&vals[i];
			msgs[i].len = 4;
		}
		io.msgs = (__u64)(uintptr_t)msgs;
		io.count = KMQ_BATCH_MAX;
		io.flags = KMQ_IO_NONBLOCK;
		ck_assert_err(vt_ioctl((int)fd, KMQ_IOC_SEND, &io), 0);
		next += io.done;
	}
	ck_assert_err(vt_send((int)fd, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), -EAGAIN);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.ready, CAP);
	/* A mapped client borrows three and goes away: they come back. */
	ck_assert_err(kmq_open(nm, KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_mapped(q), 1);
	for (i = 0; i < 3; i++)
		ck_assert_err(kmq_borrow(q, &held[i], 0), 0);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.held, 3);
	kmq_close(q);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.ready, CAP);
	/* Drain in batches; every value once (three came back late). */
	{
		unsigned char *seen = calloc(CAP, 1);

		ck_assert_ptr_nonnull(seen);
		while (got < CAP) {
			memset(&io, 0, sizeof(io));
			for (i = 0; i < KMQ_BATCH_MAX; i++) {
				memset(&msgs[i], 0, sizeof(msgs[i]));
				msgs[i].buf = (__u64)(uintptr_t)&vals[i];
				msgs[i].len = 4;
			}
			io.msgs = (__u64)(uintptr_t)msgs;
			io.count = KMQ_BATCH_MAX;
			io.flags = KMQ_IO_NONBLOCK;
			ck_assert_err(vt_ioctl((int)fd, KMQ_IOC_RECV, &io), 0);
			for (i = 0; i < (int)io.done; i++) {
				ck_assert_uint_lt(vals[i], CAP);
				ck_assert_msg(!seen[vals[i]], "value %u received twice", vals[i]);
				seen[vals[i]] = 1;
			}
			got += io.done;
		}
		free(seen);
	}
	ck_assert_err(vt_recv((int)fd, vals, 4, KMQ_IO_NONBLOCK, 0, NULL), -EAGAIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

static Suite *limits_suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("limits");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 25);
	tcase_add_test(tc, max_queues);
	tcase_add_test(tc, too_big_at_once);
	tcase_add_test(tc, fill_quota_and_total);
	tcase_add_test(tc, one_mib_messages);
	tcase_add_test(tc, many_slots);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "limits_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	return vt_run(limits_suite());
}
