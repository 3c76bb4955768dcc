/* ioctl_test: every /dev/kmq ioctl, mmap and poll with valid and invalid arguments gets the errno the uapi header specifies, and the copying path round-trips messages. */
#include "vmtest.h"

#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <termios.h>

/* The errno of SEND on a queue fd opened without KMQ_OPEN_SEND (and RECV
 * without KMQ_OPEN_RECV): the module documents -EBADF (the fd was not
 * opened for that direction, like write(2) on an O_RDONLY fd). */
#ifndef VT_WRONG_DIRECTION
#define VT_WRONG_DIRECTION (-EBADF)
#endif

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

/* A queue that must not exist after a rejected CREATE. */
static void assert_absent(const char *name)
{
	struct kmq_info info;

	ck_assert_err(vt_info(ctl, name, &info), -ENOENT);
}

/* ---- CREATE ------------------------------------------------------------ */

START_TEST(create_bad_names)
{
	static const char *bad[] = { "", "a/b", "a b", "\xc3\xa9", "\n",
				     "a\tb", "q*", "q?", "a:b", "~q", "\x7f" };
	struct kmq_create c;
	char name81[KMQ_NAME_MAX + 2];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vt_create_args(&c, bad[i], 16, 64, 0600);
		ck_assert_msg(vt_ioctl(ctl, KMQ_IOC_CREATE, &c) == -EINVAL,
			      "CREATE name \"%s\" (#%u) was not -EINVAL", bad[i], i);
	}

	/* 81 characters: one too many. */
	memset(name81, 'n', sizeof(name81));
	name81[KMQ_NAME_MAX + 1] = 0;
	vt_create_args(&c, name81, 16, 64, 0600);
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_CREATE, &c), -EINVAL);

	/* A name field with no NUL at all. */
	vt_create_args(&c, "x", 16, 64, 0600);
	memset(c.name, 'z', KMQ_NAME_LEN);
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_CREATE, &c), -EINVAL);

	/* Nonzero bytes after the NUL, at several places. */
	for (i = 0; i < 3; i++) {
		char nm[KMQ_NAME_LEN];
		size_t at[3];

		vt_qname(nm, "tail");
		at[0] = strlen(nm) + 1;
		at[1] = strlen(nm) + 6;
		at[2] = KMQ_NAME_LEN - 1;
		vt_create_args(&c, nm, 16, 64, 0600);
		c.name[at[i]] = 'x';
		ck_assert_msg(vt_ioctl(ctl, KMQ_IOC_CREATE, &c) == -EINVAL,
			      "CREATE with garbage after the NUL (case %u) was accepted", i);
		assert_absent(nm);
	}
}
END_TEST

START_TEST(create_good_names)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;

	/* 80 characters, the maximum, of every allowed class. */
	memset(nm, 0, sizeof(nm));
	snprintf(nm, sizeof(nm), "%s.", vt_prog);
	while (strlen(nm) < KMQ_NAME_MAX)
		strcat(nm, "aZ09_.-");
	nm[KMQ_NAME_MAX] = 0;
	ck_assert_int_eq(strlen(nm), KMQ_NAME_MAX);
	ck_assert_err(vt_create(ctl, nm, 16, 64, 0600, 0, 0), 0);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_str_eq(info.name, nm);
	ck_assert_err(vt_delete(ctl, nm), 0);
	assert_absent(nm);
}
END_TEST

START_TEST(create_bad_geometry)
{
	struct {
		__u32 cap, msz, mode, flags, type, open_flags;
		const char *what;
	} cases[] = {
		{ 0, 64, 0600, 0, 0, 0, "capacity 0" },
		{ KMQ_CAPACITY_MAX + 1, 64, 0600, 0, 0, 0, "capacity MAX+1" },
		{ 0xffffffffU, 64, 0600, 0, 0, 0, "capacity 2^32-1" },
		{ 16, 0, 0600, 0, 0, 0, "max_msg_size 0" },
		{ 16, KMQ_MSG_MAX + 1, 0600, 0, 0, 0, "max_msg_size MAX+1" },
		{ 16, 0xffffffffU, 0600, 0, 0, 0, "max_msg_size 2^32-1" },
		{ 16, 64, 01000, 0, 0, 0, "mode 01000" },
		{ 16, 64, 04600, 0, 0, 0, "mode setuid" },
		{ 16, 64, 0xffffffffU, 0, 0, 0, "mode ~0" },
		{ 16, 64, 0600, 1U << 1, 0, 0, "flags bit 1" },
		{ 16, 64, 0600, 1U << 31, 0, 0, "flags bit 31" },
		{ 16, 64, 0600, 0, 1, 0, "type 1" },
		{ 16, 64, 0600, 0, 0xffffffffU, 0, "type ~0" },
		{ 16, 64, 0600, 0, 0, KMQ_OPEN_MASK + 1, "open_flags bit 5" },
		{ 16, 64, 0600, 0, 0, 1U << 31, "open_flags bit 31" },
	};
	char nm[KMQ_NAME_LEN];
	struct kmq_create c;
	unsigned int i;

	vt_qname(nm, "geo");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long r;

		vt_create_args(&c, nm, cases[i].cap, cases[i].msz, cases[i].mode);
		c.flags = cases[i].flags;
		c.type = cases[i].type;
		c.open_flags = cases[i].open_flags;
		r = vt_ioctl(ctl, KMQ_IOC_CREATE, &c);
		if (r >= 0 && cases[i].open_flags)
			close((int)r);
		ck_assert_msg(r == -EINVAL, "CREATE with %s returned %ld, want -EINVAL",
			      cases[i].what, r);
		assert_absent(nm);
	}
	for (i = 0; i < 16; i++) {
		vt_create_args(&c, nm, 16, 64, 0600);
		c.reserved[i] = 1ULL << (i * 4);
		ck_assert_msg(vt_ioctl(ctl, KMQ_IOC_CREATE, &c) == -EINVAL,
			      "CREATE with reserved[%u] != 0 was accepted", i);
		assert_absent(nm);
	}
}
END_TEST

START_TEST(create_info_geometry)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	__u64 before = vt_realtime_ns(), after;

	vt_qname(nm, "info");
	ck_assert_err(vt_create(ctl, nm, 5, 1000, 0640, 0, 0), 0);
	after = vt_realtime_ns();
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_str_eq(info.name, nm);
	ck_assert_uint_eq(info.type, KMQ_TYPE_QUEUE);
	ck_assert_uint_eq(info.capacity, 8);	/* rounded up to a power of two */
	ck_assert_uint_eq(info.max_msg_size, 1000);
	ck_assert_uint_eq(info.mode, 0640);
	ck_assert_uint_eq(info.uid, geteuid());
	ck_assert_uint_eq(info.gid, getegid());
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_uint_eq(info.client_id, 0);	/* control fd: no client */
	ck_assert_uint_eq(info.open_flags, 0);
	ck_assert_msg(info.features & KMQ_FEAT_COPY, "features %#llx lack COPY",
		      (unsigned long long)info.features);
	ck_assert_msg(info.features & KMQ_FEAT_RINGS, "features %#llx lack RINGS",
		      (unsigned long long)info.features);
	ck_assert_msg(info.features & KMQ_FEAT_MMAP, "features %#llx lack MMAP",
		      (unsigned long long)info.features);
	ck_assert_msg(info.created_ns >= before - 2000000000ULL &&
		      info.created_ns <= after + 2000000000ULL,
		      "created_ns %llu not in [%llu, %llu]",
		      (unsigned long long)info.created_ns,
		      (unsigned long long)before, (unsigned long long)after);
	/* A layout a client can use: every part inside the mapping, no overlap. */
	ck_assert_uint_ge(info.slot_size, KMQ_SLOT_HDR_SIZE + 1000);
	ck_assert_uint_ge(info.free_off, KMQ_HDR_SIZE);
	ck_assert_uint_ge(info.ready_off, info.free_off + 8ULL * info.capacity);
	ck_assert_uint_ge(info.slots_off, info.ready_off + 8ULL * info.capacity);
	ck_assert_uint_ge(info.size, info.slots_off + (__u64)info.slot_size * info.capacity);
	ck_assert_uint_eq(info.size % 4096, 0);
	ck_assert_uint_eq(info.free_off % 8, 0);
	ck_assert_uint_eq(info.ready_off % 8, 0);
	ck_assert_uint_eq(info.slots_off % 8, 0);
	ck_assert_uint_eq(info.slot_size % 8, 0);
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.sent, 0);
	ck_assert_uint_eq(info.received, 0);
	ck_assert_uint_eq(info.corrupt, 0);
	/* The SQS counters (reserved words before them): all zero. */
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq((&info.leased)[i], 0);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(create_duplicate)
{
	char nm[KMQ_NAME_LEN];
	long fd;

	vt_qname(nm, "dup");
	ck_assert_err(vt_create(ctl, nm, 16, 128, 0600, 0, 0), 0);
	/* Same geometry: fine (an idempotent "ensure it exists"). */
	ck_assert_err(vt_create(ctl, nm, 16, 128, 0600, 0, 0), 0);
	/* Different geometry or EXCL: -EEXIST. */
	ck_assert_err(vt_create(ctl, nm, 32, 128, 0600, 0, 0), -EEXIST);
	ck_assert_err(vt_create(ctl, nm, 16, 129, 0600, 0, 0), -EEXIST);
	ck_assert_err(vt_create(ctl, nm, 16, 128, 0600, KMQ_CREATE_EXCL, 0), -EEXIST);
	ck_assert_err(vt_create(ctl, nm, 16, 128, 0600, KMQ_CREATE_EXCL,
				KMQ_OPEN_SEND), -EEXIST);
	/* Same geometry with open_flags: opens the existing queue. */
	fd = vt_create(ctl, nm, 16, 128, 0600, 0, KMQ_OPEN_SEND | KMQ_OPEN_RECV);
	ck_assert_msg(fd >= 0, "CREATE+open of an existing queue: %ld", fd);
	{
		struct kmq_info info;

		ck_assert_err(vt_qinfo((int)fd, &info), 0);
		ck_assert_str_eq(info.name, nm);
		ck_assert_uint_eq(info.open_flags, KMQ_OPEN_SEND | KMQ_OPEN_RECV);
		ck_assert_uint_ge(info.client_id, 1);
		ck_assert_uint_le(info.client_id, KMQ_CLIENT_MAX);
		ck_assert_uint_eq(info.clients, 1);
	}
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
	ck_assert_err(vt_delete(ctl, nm), -ENOENT);
}
END_TEST

START_TEST(create_and_open)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	long fd;
	__u64 id;
	char buf[16];

	vt_qname(nm, "cro");
	fd = vt_create(ctl, nm, 4, 16, 0600, KMQ_CREATE_EXCL,
		       KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_CLOEXEC);
	ck_assert_msg(fd >= 0, "CREATE with open_flags returned %ld", fd);
	ck_assert_int_ne(fd, ctl);
	ck_assert_int_ne(fcntl((int)fd, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.capacity, 4);
	ck_assert_uint_eq(info.clients, 1);
	ck_assert_err(vt_send((int)fd, "hello", 5, 0, -1, &id), 0);
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, NULL), 0);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	close((int)fd);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- OPEN --------------------------------------------------------------- */

START_TEST(open_errors)
{
	char nm[KMQ_NAME_LEN], missing[KMQ_NAME_LEN];
	struct kmq_open o;
	long fd;

	vt_qname(nm, "open");
	vt_qname(missing, "nosuchqueue");
	ck_assert_err(vt_create(ctl, nm, 4, 16, 0600, 0, 0), 0);
	ck_assert_err(vt_open(ctl, missing, KMQ_OPEN_SEND), -ENOENT);
	ck_assert_err(vt_open(ctl, nm, KMQ_OPEN_MASK + 1), -EINVAL);
	ck_assert_err(vt_open(ctl, nm, 1U << 31), -EINVAL);
	ck_assert_err(vt_open(ctl, nm, KMQ_OPEN_SEND | (1U << 7)), -EINVAL);
	ck_assert_err(vt_open(ctl, "", KMQ_OPEN_SEND), -EINVAL);
	ck_assert_err(vt_open(ctl, "a/b", KMQ_OPEN_SEND), -EINVAL);

	memset(&o, 0, sizeof(o));
	strcpy(o.name, nm);
	o.flags = KMQ_OPEN_SEND;
	o.reserved0 = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_OPEN, &o), -EINVAL);
	o.reserved0 = 0;
	o.reserved[1] = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_OPEN, &o), -EINVAL);
	o.reserved[1] = 0;
	o.name[strlen(nm) + 2] = 'x';
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_OPEN, &o), -EINVAL);
	o.name[strlen(nm) + 2] = 0;
	fd = vt_ioctl(ctl, KMQ_IOC_OPEN, &o);
	ck_assert_msg(fd >= 0, "valid OPEN returned %ld", fd);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(open_fd_flags_and_clients)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info a, b, ci;
	long f1, f2;

	vt_qname(nm, "fdfl");
	ck_assert_err(vt_create(ctl, nm, 4, 16, 0600, 0, 0), 0);
	f1 = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	f2 = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV | KMQ_OPEN_NONBLOCK |
				  KMQ_OPEN_CLOEXEC));
	ck_assert_int_eq(fcntl((int)f1, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_eq(fcntl((int)f1, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl((int)f2, F_GETFD) & FD_CLOEXEC, 0);
	ck_assert_int_ne(fcntl((int)f2, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_err(vt_qinfo((int)f1, &a), 0);
	ck_assert_err(vt_qinfo((int)f2, &b), 0);
	ck_assert_uint_eq(a.open_flags & (KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP),
			  KMQ_OPEN_SEND);
	ck_assert_uint_eq(b.open_flags & (KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP),
			  KMQ_OPEN_RECV);
	ck_assert_uint_ge(a.client_id, 1);
	ck_assert_uint_ge(b.client_id, 1);
	ck_assert_uint_le(a.client_id, KMQ_CLIENT_MAX);
	ck_assert_uint_le(b.client_id, KMQ_CLIENT_MAX);
	ck_assert_uint_ne(a.client_id, b.client_id);
	ck_assert_uint_eq(a.clients, 2);
	ck_assert_err(vt_info(ctl, nm, &ci), 0);
	ck_assert_uint_eq(ci.clients, 2);
	/* The fd opened nonblocking does not sleep on an empty queue. */
	{
		char buf[16];
		double t0 = vt_now();

		ck_assert_err(vt_recv((int)f2, buf, sizeof(buf), 0, -1, NULL), -EAGAIN);
		ck_assert_msg(vt_now() - t0 < 10, "O_NONBLOCK RECV slept");
	}
	close((int)f1);
	ck_assert_err(vt_info(ctl, nm, &ci), 0);
	ck_assert_uint_eq(ci.clients, 1);
	close((int)f2);
	ck_assert_err(vt_info(ctl, nm, &ci), 0);
	ck_assert_uint_eq(ci.clients, 0);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- DELETE ------------------------------------------------------------- */

START_TEST(delete_errors_and_open_fds)
{
	char nm[KMQ_NAME_LEN], missing[KMQ_NAME_LEN], buf[32];
	struct kmq_name n;
	struct kmq_info info;
	struct kmq_iomsg m;
	long fd, fd2;

	vt_qname(nm, "del");
	vt_qname(missing, "nosuchqueue");
	ck_assert_err(vt_delete(ctl, missing), -ENOENT);
	ck_assert_err(vt_delete(ctl, ""), -EINVAL);
	ck_assert_err(vt_delete(ctl, "a b"), -EINVAL);
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	memset(&n, 0, sizeof(n));
	strcpy(n.name, nm);
	n.reserved[0] = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_DELETE, &n), -EINVAL);
	n.reserved[0] = 0;
	n.name[KMQ_NAME_LEN - 1] = 'x';
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_DELETE, &n), -EINVAL);
	ck_assert_err(vt_info(ctl, nm, &info), 0);	/* still there */

	/* Deleting removes the name; open fds keep working. */
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, "before", 6, 0, -1, NULL), 0);
	ck_assert_err(vt_delete(ctl, nm), 0);
	ck_assert_err(vt_info(ctl, nm, &info), -ENOENT);
	ck_assert_err(vt_open(ctl, nm, KMQ_OPEN_SEND), -ENOENT);
	ck_assert_err(vt_delete(ctl, nm), -ENOENT);
	ck_assert_err(vt_send((int)fd, "after", 5, 0, -1, NULL), 0);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.ready, 2);

	/* The name can be reused for a new, independent queue. */
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, KMQ_CREATE_EXCL, 0), 0);
	fd2 = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV | KMQ_OPEN_NONBLOCK));
	ck_assert_err(vt_recv((int)fd2, buf, sizeof(buf), 0, 0, NULL), -EAGAIN);
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, &m), 0);
	ck_assert_int_eq(m.len, 6);
	ck_assert_int_eq(memcmp(buf, "before", 6), 0);
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, &m), 0);
	ck_assert_int_eq(m.len, 5);
	ck_assert_int_eq(memcmp(buf, "after", 5), 0);
	close((int)fd);
	close((int)fd2);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- LIST --------------------------------------------------------------- */

START_TEST(list_paging)
{
	char nm[3][KMQ_NAME_LEN];
	struct kmq_info infos[4], *all;
	struct kmq_list l;
	__u64 total, start;
	int found[3] = { 0, 0, 0 }, i, j;

	for (i = 0; i < 3; i++) {
		char sfx[16];

		snprintf(sfx, sizeof(sfx), "list%d", i);
		vt_qname(nm[i], sfx);
		ck_assert_err(vt_create(ctl, nm[i], 2u << i, 16, 0600, 0, 0), 0);
	}

	/* count 0: only the total. */
	memset(&l, 0, sizeof(l));
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), 0);
	ck_assert_uint_eq(l.count, 0);
	ck_assert_uint_ge(l.total, 3);
	total = l.total;

	/* A small count fills that many. */
	memset(&l, 0, sizeof(l));
	memset(infos, 0xa5, sizeof(infos));
	l.infos = (__u64)(uintptr_t)infos;
	l.count = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), 0);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_uint_eq(l.total, total);
	ck_assert_msg(infos[0].name[0] && memchr(infos[0].name, 0, KMQ_NAME_LEN),
		      "LIST filled no valid name");
	/* Only the room given was written. */
	ck_assert_uint_eq(((unsigned char *)&infos[1])[0], 0xa5);

	/* Beyond the end: nothing, no error. */
	memset(&l, 0, sizeof(l));
	l.infos = (__u64)(uintptr_t)infos;
	l.count = 4;
	l.start = total + 5;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), 0);
	ck_assert_uint_eq(l.count, 0);
	ck_assert_uint_eq(l.total, total);
	l.count = 4;
	l.start = ~0ULL;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), 0);
	ck_assert_uint_eq(l.count, 0);

	/* Paging by 2 finds every queue exactly once, with its geometry. */
	all = calloc(total + 8, sizeof(*all));
	ck_assert_ptr_nonnull(all);
	start = 0;
	for (;;) {
		memset(&l, 0, sizeof(l));
		l.infos = (__u64)(uintptr_t)&all[start];
		l.count = 2;
		l.start = start;
		ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), 0);
		ck_assert_uint_le(l.count, 2);
		if (!l.count)
			break;
		start += l.count;
		ck_assert_uint_le(start, total);
	}
	ck_assert_uint_eq(start, total);
	for (i = 0; i < (int)total; i++)
		for (j = 0; j < 3; j++)
			if (!strcmp(all[i].name, nm[j])) {
				found[j]++;
				ck_assert_uint_eq(all[i].capacity, 2u << j);
				ck_assert_uint_eq(all[i].max_msg_size, 16);
				ck_assert_uint_eq(all[i].mode, 0600);
			}
	for (j = 0; j < 3; j++)
		ck_assert_msg(found[j] == 1, "%s listed %d times", nm[j], found[j]);
	free(all);

	/* Bad arguments. */
	memset(&l, 0, sizeof(l));
	l.count = 1;
	l.infos = 0;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EFAULT);
	l.infos = (__u64)(uintptr_t)VT_BAD_LOW;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EFAULT);
	l.infos = (__u64)(uintptr_t)VT_BAD_KERNEL;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EFAULT);
	memset(&l, 0, sizeof(l));
	l.infos = (__u64)(uintptr_t)infos;
	l.count = 1;
	l.flags = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EINVAL);
	l.flags = 0;
	l.reserved[1] = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EINVAL);

	for (i = 0; i < 3; i++)
		ck_assert_err(vt_delete(ctl, nm[i]), 0);
}
END_TEST

/* A LIST whose array ends at an unmapped page gets -EFAULT, not a crash. */
START_TEST(list_partial_fault)
{
	char nm[2][KMQ_NAME_LEN];
	struct kmq_list l;
	long pg = sysconf(_SC_PAGESIZE);
	char *p;
	int i;

	for (i = 0; i < 2; i++) {
		char sfx[16];

		snprintf(sfx, sizeof(sfx), "lpf%d", i);
		vt_qname(nm[i], sfx);
		ck_assert_err(vt_create(ctl, nm[i], 2, 16, 0600, 0, 0), 0);
	}
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(munmap(p + pg, pg), 0);
	memset(&l, 0, sizeof(l));
	/* Room for 2 by count, but only the first fits before the hole. */
	l.infos = (__u64)(uintptr_t)(p + pg - sizeof(struct kmq_info));
	l.count = 2;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_LIST, &l), -EFAULT);
	munmap(p, pg);
	for (i = 0; i < 2; i++)
		ck_assert_err(vt_delete(ctl, nm[i]), 0);
}
END_TEST

/* ---- INFO --------------------------------------------------------------- */

START_TEST(info_by_name_and_fd)
{
	char nm[KMQ_NAME_LEN], missing[KMQ_NAME_LEN];
	struct kmq_info info, qi;
	long fd;
	int i;

	vt_qname(nm, "inf");
	vt_qname(missing, "nosuchqueue");
	ck_assert_err(vt_info(ctl, missing, &info), -ENOENT);
	ck_assert_err(vt_info(ctl, "", &info), -EINVAL);
	ck_assert_err(vt_info(ctl, "bad name", &info), -EINVAL);
	ck_assert_err(vt_create(ctl, nm, 16, 100, 0604, 0, 0), 0);
	vt_info(ctl, nm, &info);
	/* Only the name is input: the counters that were reserved words
	 * are output, whatever they hold on input. */
	info.lease_expired = 1;
	ck_assert_err(vt_ioctl(ctl, KMQ_IOC_INFO, &info), 0);
	ck_assert_uint_eq(info.lease_expired, 0);

	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (i = 0; i < 5; i++)
		ck_assert_err(vt_send((int)fd, "abc", 3, 0, -1, NULL), 0);
	ck_assert_err(vt_recv((int)fd, (char[8]){ 0 }, 8, 0, -1, NULL), 0);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_err(vt_qinfo((int)fd, &qi), 0);
	ck_assert_str_eq(info.name, nm);
	ck_assert_str_eq(qi.name, nm);
	ck_assert_uint_eq(info.ready, 4);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.sent, 5);
	ck_assert_uint_eq(info.received, 1);
	ck_assert_uint_eq(qi.ready, 4);
	ck_assert_uint_eq(qi.sent, 5);
	ck_assert_uint_eq(info.capacity, qi.capacity);
	ck_assert_uint_eq(info.size, qi.size);
	ck_assert_uint_eq(info.mode, 0604);
	ck_assert_uint_eq(qi.client_id ? 1 : 0, 1);
	ck_assert_uint_eq(qi.open_flags & 7, KMQ_OPEN_SEND | KMQ_OPEN_RECV);
	ck_assert_uint_eq(info.clients, 1);
	for (i = 0; i < 8; i++) {
		ck_assert_uint_eq((&info.leased)[i], 0);
		ck_assert_uint_eq((&qi.leased)[i], 0);
	}
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- bad pointers, unknown ioctls ------------------------------------- */

START_TEST(bad_pointers)
{
	static void *const bad[] = { VT_BAD_NULL, VT_BAD_LOW, VT_BAD_KERNEL,
				     VT_BAD_KTEXT, (void *)-1L };
	static const unsigned long ctl_cmds[] = { KMQ_IOC_CREATE, KMQ_IOC_OPEN,
		KMQ_IOC_DELETE, KMQ_IOC_LIST, KMQ_IOC_INFO };
	static const unsigned long q_cmds[] = { KMQ_IOC_INFO, KMQ_IOC_SEND,
		KMQ_IOC_RECV };
	char nm[KMQ_NAME_LEN];
	long pg = sysconf(_SC_PAGESIZE);
	unsigned int i, j;
	char *edge;
	long fd;

	vt_qname(nm, "ptr");
	ck_assert_err(vt_create(ctl, nm, 4, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV |
				  KMQ_OPEN_NONBLOCK));

	/* A struct that straddles the end of a mapping. */
	edge = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(edge != MAP_FAILED);
	ck_assert_int_eq(munmap(edge + pg, pg), 0);
	memset(edge, 0, pg);

	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
			ck_assert_msg(vt_ioctl(ctl, ctl_cmds[i], bad[j]) == -EFAULT,
				      "control ioctl %#lx with pointer %p: not -EFAULT",
				      ctl_cmds[i], bad[j]);
		ck_assert_msg(vt_ioctl(ctl, ctl_cmds[i], edge + pg - 8) == -EFAULT,
			      "control ioctl %#lx across a page end: not -EFAULT",
			      ctl_cmds[i]);
	}
	for (i = 0; i < sizeof(q_cmds) / sizeof(q_cmds[0]); i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++)
			ck_assert_msg(vt_ioctl((int)fd, q_cmds[i], bad[j]) == -EFAULT,
				      "queue ioctl %#lx with pointer %p: not -EFAULT",
				      q_cmds[i], bad[j]);
		ck_assert_msg(vt_ioctl((int)fd, q_cmds[i], edge + pg - 8) == -EFAULT,
			      "queue ioctl %#lx across a page end: not -EFAULT",
			      q_cmds[i]);
	}
	munmap(edge, pg);
	/* Nothing happened to the queue. */
	{
		struct kmq_info info;

		ck_assert_err(vt_qinfo((int)fd, &info), 0);
		ck_assert_uint_eq(info.ready, 0);
		ck_assert_uint_eq(info.held, 0);
		ck_assert_uint_eq(info.sent, 0);
	}
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(unknown_and_misdirected_ioctls)
{
	const unsigned long unknown[] = {
		_IO(KMQ_IOC_MAGIC, 0x00), _IO(KMQ_IOC_MAGIC, 0x7f),
		_IOWR(KMQ_IOC_MAGIC, 0x06, struct kmq_info),
		_IOWR(KMQ_IOC_MAGIC, 0x13, struct kmq_io),
		_IOWR(KMQ_IOC_MAGIC, 0xff, struct kmq_io),
		/* A known number with the wrong size or direction. */
		_IOWR(KMQ_IOC_MAGIC, 0x05, __u64),
		_IOR(KMQ_IOC_MAGIC, 0x05, struct kmq_info),
		_IOW(KMQ_IOC_MAGIC, 0x01, struct kmq_open),
		_IOWR(KMQ_IOC_MAGIC + 1, 0x05, struct kmq_info),
		TCGETS, FIONREAD, 0, ~0UL,
	};
	const unsigned long queue_only[] = { KMQ_IOC_SEND, KMQ_IOC_RECV, KMQ_IOC_WAKE };
	const unsigned long ctl_only[] = { KMQ_IOC_CREATE, KMQ_IOC_OPEN,
		KMQ_IOC_DELETE, KMQ_IOC_LIST };
	char nm[KMQ_NAME_LEN];
	char arg[4096];
	unsigned int i;
	long fd;

	vt_qname(nm, "notty");
	ck_assert_err(vt_create(ctl, nm, 4, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		memset(arg, 0, sizeof(arg));
		ck_assert_msg(vt_ioctl(ctl, unknown[i], arg) == -ENOTTY,
			      "unknown ioctl %#lx on the control fd: not -ENOTTY", unknown[i]);
		memset(arg, 0, sizeof(arg));
		ck_assert_msg(vt_ioctl((int)fd, unknown[i], arg) == -ENOTTY,
			      "unknown ioctl %#lx on a queue fd: not -ENOTTY", unknown[i]);
	}
	for (i = 0; i < sizeof(queue_only) / sizeof(queue_only[0]); i++) {
		memset(arg, 0, sizeof(arg));
		ck_assert_msg(vt_ioctl(ctl, queue_only[i],
				       queue_only[i] == KMQ_IOC_WAKE ?
				       (void *)(uintptr_t)KMQ_WAKE_READERS : arg) == -ENOTTY,
			      "queue ioctl %#lx on the control fd: not -ENOTTY", queue_only[i]);
	}
	for (i = 0; i < sizeof(ctl_only) / sizeof(ctl_only[0]); i++) {
		struct kmq_create c;

		/* A valid argument, so only the fd type is wrong. */
		vt_create_args(&c, nm, 4, 16, 0600);
		memset(arg, 0, sizeof(arg));
		memcpy(arg, &c, sizeof(c));
		if (ctl_only[i] == KMQ_IOC_LIST) {
			struct kmq_list *l = (struct kmq_list *)arg;

			memset(l, 0, sizeof(*l));
		}
		ck_assert_msg(vt_ioctl((int)fd, ctl_only[i], arg) == -ENOTTY,
			      "control ioctl %#lx on a queue fd: not -ENOTTY", ctl_only[i]);
	}
	close((int)fd);
	/* The queue was not deleted through the queue fd. */
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- SEND / RECV -------------------------------------------------------- */

static long do_io(int fd, unsigned long cmd, struct kmq_iomsg *m, __u32 count,
		  __u32 flags, __s64 timeout, __u32 *done)
{
	struct kmq_io io;
	long r;

	memset(&io, 0, sizeof(io));
	io.msgs = (__u64)(uintptr_t)m;
	io.count = count;
	io.flags = flags;
	io.timeout_ns = timeout;
	r = vt_ioctl(fd, cmd, &io);
	if (done)
		*done = io.done;
	return r;
}

START_TEST(io_bad_args)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_iomsg m[KMQ_BATCH_MAX + 1];
	struct kmq_io io;
	struct kmq_info info;
	char buf[256];
	long fd;
	int i;
	unsigned long cmds[2] = { KMQ_IOC_SEND, KMQ_IOC_RECV };

	vt_qname(nm, "iobad");
	ck_assert_err(vt_create(ctl, nm, 128, 200, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, "seed", 4, 0, -1, NULL), 0);	/* RECV has something */
	memset(m, 0, sizeof(m));
	for (i = 0; i <= KMQ_BATCH_MAX; i++) {
		m[i].buf = (__u64)(uintptr_t)buf;
		m[i].len = 8;
	}
	for (i = 0; i < 2; i++) {
		unsigned long c = cmds[i];

		ck_assert_err(do_io((int)fd, c, m, 0, KMQ_IO_NONBLOCK, 0, NULL), -EINVAL);
		ck_assert_err(do_io((int)fd, c, m, KMQ_BATCH_MAX + 1, KMQ_IO_NONBLOCK, 0, NULL), -EINVAL);
		ck_assert_err(do_io((int)fd, c, m, ~0U, KMQ_IO_NONBLOCK, 0, NULL), -EINVAL);
		ck_assert_err(do_io((int)fd, c, m, 1, 1U << 1, 0, NULL), -EINVAL);
		ck_assert_err(do_io((int)fd, c, m, 1, 1U << 31, 0, NULL), -EINVAL);
		ck_assert_err(do_io((int)fd, c, NULL, 1, KMQ_IO_NONBLOCK, 0, NULL), -EFAULT);
		ck_assert_err(do_io((int)fd, c, VT_BAD_KERNEL, 1, KMQ_IO_NONBLOCK, 0, NULL), -EFAULT);
		ck_assert_err(do_io((int)fd, c, VT_BAD_LOW, 4, KMQ_IO_NONBLOCK, 0, NULL), -EFAULT);
		/* Reserved fields of kmq_io and of a message. */
		memset(&io, 0, sizeof(io));
		io.msgs = (__u64)(uintptr_t)m;
		io.count = 1;
		io.flags = KMQ_IO_NONBLOCK;
		io.reserved0 = 1;
		ck_assert_err(vt_ioctl((int)fd, c, &io), -EINVAL);
		io.reserved0 = 0;
		io.reserved[1] = 1;
		ck_assert_err(vt_ioctl((int)fd, c, &io), -EINVAL);
		io.reserved[1] = 0;
		m[0].flags = 1;
		ck_assert_err(vt_ioctl((int)fd, c, &io), -EINVAL);
		m[0].flags = 0;
		m[0].reserved[0] = 1;
		ck_assert_err(vt_ioctl((int)fd, c, &io), -EINVAL);
		m[0].reserved[0] = 0;
	}
	/* SEND: too long for the queue, huge, and a bad body pointer. */
	m[0].len = 201;
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, NULL), -EMSGSIZE);
	m[0].len = KMQ_MSG_MAX + 1;
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, NULL), -EMSGSIZE);
	m[0].len = 0xffffffffU;
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, NULL), -EMSGSIZE);
	m[0].len = 200;
	m[0].buf = 0;
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, NULL), -EFAULT);
	m[0].buf = (__u64)(uintptr_t)VT_BAD_KERNEL;
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, NULL), -EFAULT);
	m[0].buf = (__u64)(uintptr_t)buf;
	m[0].len = 200;
	/* None of that queued anything or lost a slot. */
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.ready, 1);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.sent, 1);
	for (i = 1; i < 128; i++)
		ck_assert_msg(vt_send((int)fd, buf, 200, KMQ_IO_NONBLOCK, 0, NULL) == 0,
			      "send %d of a queue of 128 failed: a rejected SEND leaked a slot", i);
	ck_assert_err(vt_send((int)fd, buf, 1, KMQ_IO_NONBLOCK, 0, NULL), -EAGAIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A RECV into a bad buffer fails with -EFAULT and does not lose the message. */
START_TEST(recv_efault_keeps_message)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_iomsg m;
	struct kmq_info info;
	long fd;

	vt_qname(nm, "rfault");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, "precious", 8, 0, -1, NULL), 0);
	ck_assert_err(vt_recv((int)fd, VT_BAD_KERNEL, 64, KMQ_IO_NONBLOCK, 0, &m), -EFAULT);
	ck_assert_err(vt_recv((int)fd, NULL, 64, KMQ_IO_NONBLOCK, 0, &m), -EFAULT);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.held, 0);
	memset(buf, 0, sizeof(buf));
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_uint_eq(m.len, 8);
	ck_assert_int_eq(memcmp(buf, "precious", 8), 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(recv_too_small_keeps_message)
{
	char nm[KMQ_NAME_LEN], small[10], big[300], msg[300];
	struct kmq_iomsg m;
	__u64 id;
	long fd;
	int i;

	vt_qname(nm, "small");
	for (i = 0; i < 300; i++)
		msg[i] = (char)(i * 13 + 1);
	ck_assert_err(vt_create(ctl, nm, 4, 300, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, msg, 300, 0, -1, &id), 0);
	ck_assert_err(vt_recv((int)fd, small, sizeof(small), 0, -1, &m), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 300);		/* the room needed */
	ck_assert_err(vt_recv((int)fd, small, 0, 0, -1, &m), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 300);
	ck_assert_err(vt_recv((int)fd, big, 299, 0, -1, &m), -EMSGSIZE);
	memset(big, 0, sizeof(big));
	ck_assert_err(vt_recv((int)fd, big, sizeof(big), 0, -1, &m), 0);
	ck_assert_uint_eq(m.len, 300);
	ck_assert_uint_eq(m.id, id);
	ck_assert_int_eq(memcmp(big, msg, 300), 0);
	ck_assert_err(vt_recv((int)fd, big, sizeof(big), KMQ_IO_NONBLOCK, 0, &m), -EAGAIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(wrong_direction)
{
	char nm[KMQ_NAME_LEN], buf[16];
	long s, r, none;

	vt_qname(nm, "dir");
	ck_assert_err(vt_create(ctl, nm, 4, 16, 0600, 0, 0), 0);
	s = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	r = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)s, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_err(vt_recv((int)s, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL),
		      VT_WRONG_DIRECTION);
	ck_assert_err(vt_send((int)r, "y", 1, KMQ_IO_NONBLOCK, 0, NULL), VT_WRONG_DIRECTION);
	ck_assert_err(vt_recv((int)r, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_int_eq(buf[0], 'x');
	/* An fd with neither direction (info only), if the module allows one. */
	none = vt_open(ctl, nm, 0);
	if (none >= 0) {
		ck_assert_err(vt_send((int)none, "z", 1, KMQ_IO_NONBLOCK, 0, NULL),
			      VT_WRONG_DIRECTION);
		ck_assert_err(vt_recv((int)none, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL),
			      VT_WRONG_DIRECTION);
		close((int)none);
	} else {
		ck_assert_err(none, -EINVAL);
	}
	close((int)s);
	close((int)r);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Send N messages of varied lengths through the copying path and get each
 * back once, in order, with its bytes, id and sender. */
START_TEST(copy_round_trip)
{
	enum { N = 600, CAP = 64, MSZ = 4096 };
	char nm[KMQ_NAME_LEN];
	static unsigned char out[MSZ], in[MSZ + 16];
	static __u64 ids[N];
	struct kmq_iomsg m;
	struct kmq_info info;
	__u64 t0 = vt_realtime_ns();
	int sent = 0, got = 0, i, j;
	long fd;

	vt_qname(nm, "rt");
	ck_assert_err(vt_create(ctl, nm, CAP, MSZ, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	while (got < N) {
		int burst = 1 + (sent * 7) % CAP;

		for (j = 0; j < burst && sent < N; j++, sent++) {
			__u32 len = (__u32)((sent * 37) % (MSZ + 1));
			long r;

			for (i = 0; i < (int)len; i++)
				out[i] = (unsigned char)(sent * 7 + i);
			if (len >= 4)
				memcpy(out, &sent, 4);
			r = vt_send((int)fd, out, len, KMQ_IO_NONBLOCK, 0, &ids[sent]);
			if (r == -EAGAIN)
				break;
			ck_assert_msg(r == 0, "send %d (len %u): %ld", sent, len, r);
		}
		for (;;) {
			__u32 want;
			long r = vt_recv((int)fd, in, sizeof(in), KMQ_IO_NONBLOCK, 0, &m);

			if (r == -EAGAIN)
				break;
			ck_assert_msg(r == 0, "recv %d: %ld", got, r);
			want = (__u32)((got * 37) % (MSZ + 1));
			ck_assert_msg(m.len == want, "message %d: len %u, want %u", got, m.len, want);
			for (i = 0; i < (int)want; i++) {
				unsigned char e = (unsigned char)(got * 7 + i);

				if (want >= 4 && i < 4)
					e = ((unsigned char *)&got)[i];
				ck_assert_msg(in[i] == e, "message %d byte %d: %#x, want %#x",
					      got, i, in[i], e);
			}
			ck_assert_msg(m.id == ids[got], "message %d: id %llu, want %llu",
				      got, (unsigned long long)m.id,
				      (unsigned long long)ids[got]);
			ck_assert_uint_eq(m.sender_pid, getpid());
			ck_assert_uint_eq(m.sender_uid, getuid());
			ck_assert_msg(m.sent_ns + 2000000000ULL >= t0 &&
				      m.sent_ns <= vt_realtime_ns() + 2000000000ULL,
				      "sent_ns %llu out of range",
				      (unsigned long long)m.sent_ns);
			got++;
		}
	}
	/* Message ids are unique. */
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			ck_assert_msg(ids[i] != ids[j], "ids %d and %d are both %llu",
				      i, j, (unsigned long long)ids[i]);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.sent, N);
	ck_assert_uint_eq(info.received, N);
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.corrupt, 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(batches)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_iomsg m[KMQ_BATCH_MAX];
	char bufs[KMQ_BATCH_MAX][32];
	__u32 done;
	long fd;
	int i;

	vt_qname(nm, "batch");
	ck_assert_err(vt_create(ctl, nm, 64, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	/* A full batch fills the queue exactly. */
	memset(m, 0, sizeof(m));
	for (i = 0; i < KMQ_BATCH_MAX; i++) {
		snprintf(bufs[i], 32, "batch message %d", i);
		m[i].buf = (__u64)(uintptr_t)bufs[i];
		m[i].len = (__u32)strlen(bufs[i]);
	}
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, KMQ_BATCH_MAX, 0, -1, &done), 0);
	ck_assert_uint_eq(done, KMQ_BATCH_MAX);
	for (i = 1; i < KMQ_BATCH_MAX; i++)
		ck_assert_uint_ne(m[i].id, m[i - 1].id);
	/* Full: a nonblocking SEND moves nothing. */
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 1, KMQ_IO_NONBLOCK, 0, &done), -EAGAIN);
	/* Receive in two batches, in order. */
	memset(bufs, 0, sizeof(bufs));
	memset(m, 0, sizeof(m));
	for (i = 0; i < KMQ_BATCH_MAX; i++) {
		m[i].buf = (__u64)(uintptr_t)bufs[i];
		m[i].len = 32;
	}
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 10, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 10);
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m + 10, KMQ_BATCH_MAX, KMQ_IO_NONBLOCK, 0, &done), 0);
	ck_assert_uint_eq(done, KMQ_BATCH_MAX - 10);
	for (i = 0; i < KMQ_BATCH_MAX; i++) {
		char want[32];

		snprintf(want, sizeof(want), "batch message %d", i);
		ck_assert_uint_eq(m[i].len, strlen(want));
		ck_assert_int_eq(memcmp(bufs[i], want, m[i].len), 0);
	}
	/* A batch larger than the free room moves what fits. */
	ck_assert_err(vt_send((int)fd, "x", 1, 0, -1, NULL), 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);

	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	memset(m, 0, sizeof(m));
	for (i = 0; i < 12; i++) {
		m[i].buf = (__u64)(uintptr_t)bufs[i];
		m[i].len = 4;
	}
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 12, KMQ_IO_NONBLOCK, 0, &done), 0);
	ck_assert_uint_eq(done, 8);
	for (i = 0; i < 12; i++)
		m[i].len = 32;
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 12, KMQ_IO_NONBLOCK, 0, &done), 0);
	ck_assert_uint_eq(done, 8);
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 12, KMQ_IO_NONBLOCK, 0, &done), -EAGAIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(zero_length_message)
{
	char nm[KMQ_NAME_LEN], buf[8];
	struct kmq_iomsg m;
	long fd;

	vt_qname(nm, "zero");
	ck_assert_err(vt_create(ctl, nm, 2, 8, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, NULL, 0, 0, -1, NULL), 0);
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, &m), 0);
	ck_assert_uint_eq(m.len, 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(nonblocking_and_timeouts)
{
	char nm[KMQ_NAME_LEN], buf[16];
	double t0, el;
	long fd;

	vt_qname(nm, "tmo");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	t0 = vt_now();
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, -1, NULL), -EAGAIN);
	ck_assert_msg(vt_now() - t0 < 10, "a nonblocking RECV slept");
	/* Blocking RECV with a limit: -ETIMEDOUT after about that long. */
	t0 = vt_now();
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, 400000000LL, NULL), -ETIMEDOUT);
	el = vt_now() - t0;
	ck_assert_msg(el >= 0.39 && el < 30, "RECV timeout of 0.4 s took %.3f s", el);
	/* The same for a SEND on a full queue. */
	ck_assert_err(vt_send((int)fd, "1", 1, 0, -1, NULL), 0);
	ck_assert_err(vt_send((int)fd, "2", 1, 0, -1, NULL), 0);
	ck_assert_err(vt_send((int)fd, "3", 1, KMQ_IO_NONBLOCK, -1, NULL), -EAGAIN);
	t0 = vt_now();
	ck_assert_err(vt_send((int)fd, "3", 1, 0, 300000000LL, NULL), -ETIMEDOUT);
	el = vt_now() - t0;
	ck_assert_msg(el >= 0.29 && el < 30, "SEND timeout of 0.3 s took %.3f s", el);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A RECV blocked with no limit is woken by a SEND from another process. */
START_TEST(blocking_recv_woken)
{
	char nm[KMQ_NAME_LEN], buf[16];
	struct kmq_iomsg m;
	double t0;
	long fd;
	pid_t pid;

	vt_qname(nm, "bwake");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		long s = vt_open(ctl, nm, KMQ_OPEN_SEND);

		vt_sleep_ms(500);
		_exit(s >= 0 && vt_send((int)s, "wake", 4, 0, -1, NULL) == 0 ? 0 : 1);
	}
	t0 = vt_now();
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, &m), 0);
	ck_assert_uint_eq(m.len, 4);
	ck_assert_int_eq(memcmp(buf, "wake", 4), 0);
	ck_assert_msg(vt_now() - t0 < 60, "woke late");
	ck_assert_child_ok(vt_wait(pid), "sender");
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Message ids are unique per queue, also when a closed fd's client id is
 * handed to the next opener (ids are built from client id + a count). */
START_TEST(ids_unique_across_reopen)
{
	enum { FDS = 4, PER = 3 };
	char nm[KMQ_NAME_LEN], buf[16];
	__u64 ids[2 * FDS * PER];
	struct kmq_info info;
	__u32 cids[FDS];
	struct kmq_iomsg m;
	int n = 0, i, j, k;
	struct kmq *q;

	vt_qname(nm, "ids");
	ck_assert_err(vt_create(ctl, nm, 64, 16, 0600, 0, 0), 0);
	/* Copying path: one fd after the other, each closed before the next. */
	for (i = 0; i < FDS; i++) {
		long fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));

		ck_assert_err(vt_qinfo((int)fd, &info), 0);
		cids[i] = info.client_id;
		for (j = 0; j < PER; j++)
			ck_assert_err(vt_send((int)fd, "c", 1, 0, -1, &ids[n++]), 0);
		close((int)fd);
	}
	/* Mapped path (libkmq), the same way. */
	for (i = 0; i < FDS; i++) {
		ck_assert_err(kmq_open(nm, KMQ_SEND, &q), 0);
		ck_assert_int_eq(kmq_mapped(q), 1);
		for (j = 0; j < PER; j++)
			ck_assert_err(kmq_send(q, "m", 1, 0), 0);
		kmq_close(q);
	}
	/* Every id, as the receiver sees them, is distinct. */
	{
		long fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));

		n = 0;
		while (vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m) == 0)
			ids[n++] = m.id;
		close((int)fd);
	}
	ck_assert_int_eq(n, 2 * FDS * PER);
	for (k = 0; k < n; k++)
		for (j = k + 1; j < n; j++)
			ck_assert_msg(ids[k] != ids[j],
				      "messages %d and %d have the same id %#llx (client ids of the copying fds: %u %u %u %u)",
				      k, j, (unsigned long long)ids[k], cids[0], cids[1], cids[2],
				      cids[3]);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A RECV whose buffer is too small leaves the message in the queue: a
 * retry with the size it was told gets that same message, in its place
 * ahead of later ones (FIFO is kept; only crash repair may reorder). */
START_TEST(emsgsize_keeps_fifo_order)
{
	char nm[KMQ_NAME_LEN], big[200], small[8];
	struct kmq_iomsg m;
	__u64 id_a, id_b;
	long fd;

	vt_qname(nm, "emsgfifo");
	memset(big, 'A', sizeof(big));
	ck_assert_err(vt_create(ctl, nm, 8, 200, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, big, 150, 0, -1, &id_a), 0);
	ck_assert_err(vt_send((int)fd, "b", 1, 0, -1, &id_b), 0);
	ck_assert_err(vt_recv((int)fd, small, sizeof(small), 0, -1, &m), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 150);
	ck_assert_err(vt_recv((int)fd, big, m.len, 0, -1, &m), 0);
	ck_assert_msg(m.id == id_a && m.len == 150,
		      "the retry after -EMSGSIZE got message %#llx (len %u), not the one that did not fit (%#llx): it was moved behind later messages",
		      (unsigned long long)m.id, m.len, (unsigned long long)id_a);
	ck_assert_err(vt_recv((int)fd, big, sizeof(big), 0, -1, &m), 0);
	ck_assert_uint_eq(m.id, id_b);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* The same through libkmq's mapped path. */
START_TEST(emsgsize_keeps_fifo_order_mapped)
{
	char nm[KMQ_NAME_LEN], big[200], small[8];
	struct kmq_msg m;
	struct kmq *q;
	int n;

	vt_qname(nm, "emsgfifom");
	memset(big, 'A', sizeof(big));
	ck_assert_err(vt_create(ctl, nm, 8, 200, 0600, 0, 0), 0);
	ck_assert_err(kmq_open(nm, KMQ_SEND | KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_mapped(q), 1);
	ck_assert_err(kmq_send(q, big, 150, 0), 0);
	ck_assert_err(kmq_send(q, "b", 1, 0), 0);
	ck_assert_err(kmq_recv(q, small, sizeof(small), &m, 0), -EMSGSIZE);
	ck_assert_uint_eq(m.len, 150);
	n = kmq_recv(q, big, sizeof(big), &m, 0);
	ck_assert_msg(n == 150, "the retry after -EMSGSIZE got a %d-byte message, not the 150-byte one that did not fit",
		      n);
	kmq_close(q);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Batches: an error after the first message ends the batch with success
 * and done = what moved; an error at the first fails it; blocking applies
 * to the first message only. */
START_TEST(batch_partial_semantics)
{
	char nm[KMQ_NAME_LEN], bufs[4][64];
	struct kmq_iomsg m[4];
	struct kmq_info info;
	__u32 done;
	double t0;
	long fd;
	int i;

	vt_qname(nm, "bpart");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++) {
		memset(bufs[i], 'a' + i, sizeof(bufs[i]));
		m[i].buf = (__u64)(uintptr_t)bufs[i];
		m[i].len = 8;
	}
	m[1].len = 33;		/* too long: ends the batch after one */
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 3, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 1);
	m[1].len = 8;
	m[0].len = 33;		/* too long first: the batch fails */
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 3, 0, -1, &done), -EMSGSIZE);
	ck_assert_uint_eq(done, 0);
	m[0].len = 8;
	m[1].buf = (__u64)(uintptr_t)VT_BAD_KERNEL;	/* bad second body */
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 3, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 1);
	m[1].buf = (__u64)(uintptr_t)bufs[1];
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.ready, 2);
	ck_assert_uint_eq(info.held, 0);
	/* 2 free slots, a blocking batch of 4: sends 2 and returns at once. */
	t0 = vt_now();
	ck_assert_err(do_io((int)fd, KMQ_IOC_SEND, m, 4, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 2);
	ck_assert_msg(vt_now() - t0 < 20, "a blocking batch waited for its later messages");
	/* A blocking RECV batch of 4 with 4 ready, then of 4 with 0 ready and a
	 * 200 ms limit: the first moves 4, the second times out. */
	for (i = 0; i < 4; i++) {
		m[i].buf = (__u64)(uintptr_t)bufs[i];
		m[i].len = 64;
	}
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 4, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 4);
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 4, 0, 200000000LL, &done), -ETIMEDOUT);
	ck_assert_uint_eq(done, 0);
	/* One ready, a blocking RECV batch of 4 with no limit: returns 1. */
	ck_assert_err(vt_send((int)fd, "one", 3, 0, -1, NULL), 0);
	t0 = vt_now();
	for (i = 0; i < 4; i++)
		m[i].len = 64;
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 4, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(m[0].len, 3);
	ck_assert_msg(vt_now() - t0 < 20, "a blocking RECV batch waited for its later messages");
	/* RECV batch whose second buffer is too small: done 1, that message
	 * stays in the queue. */
	ck_assert_err(vt_send((int)fd, "12345678", 8, 0, -1, NULL), 0);
	ck_assert_err(vt_send((int)fd, "abcdefgh", 8, 0, -1, NULL), 0);
	m[0].len = 64;
	m[1].len = 4;
	ck_assert_err(do_io((int)fd, KMQ_IOC_RECV, m, 2, 0, -1, &done), 0);
	ck_assert_uint_eq(done, 1);
	ck_assert_err(vt_recv((int)fd, bufs[0], 64, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_int_eq(memcmp(bufs[0], "abcdefgh", 8), 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* O_NONBLOCK set later with fcntl() is honoured. */
START_TEST(fcntl_nonblock)
{
	char nm[KMQ_NAME_LEN], buf[8];
	double t0;
	long fd;

	vt_qname(nm, "fcntl");
	ck_assert_err(vt_create(ctl, nm, 2, 8, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_int_eq(fcntl((int)fd, F_SETFL, fcntl((int)fd, F_GETFL) | O_NONBLOCK), 0);
	t0 = vt_now();
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), 0, -1, NULL), -EAGAIN);
	ck_assert_msg(vt_now() - t0 < 10, "RECV slept on an O_NONBLOCK fd");
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* A signal interrupts a blocking RECV: -EINTR without SA_RESTART (and with
 * a time limit); with SA_RESTART and no limit the call goes on and gets the
 * message sent after the signal. */
START_TEST(signals_interrupt_waits)
{
	char nm[KMQ_NAME_LEN], buf[8];
	struct sigaction sa;
	long fd;
	int round;

	vt_qname(nm, "sig");
	ck_assert_err(vt_create(ctl, nm, 2, 8, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (round = 0; round < 3; round++) {
		pid_t parent = getpid(), pid;
		long r;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = round == 2 ? SA_RESTART : 0;
		ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
		got_signal = 0;
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			vt_sleep_ms(400);
			kill(parent, SIGUSR1);
			if (round == 2) {
				vt_sleep_ms(400);
				_exit(vt_send((int)fd, "late", 4, 0, -1, NULL) ? 1 : 0);
			}
			_exit(0);
		}
		r = vt_recv((int)fd, buf, sizeof(buf), 0, round == 1 ? 30000000000LL : -1, NULL);
		ck_assert_child_ok(vt_wait(pid), "signaller");
		ck_assert_int_eq(got_signal, SIGUSR1);
		if (round < 2)
			ck_assert_msg(r == -EINTR, "round %d: RECV interrupted by a signal returned %ld",
				      round, r);
		else
			ck_assert_msg(r == 0 && !memcmp(buf, "late", 4),
				      "SA_RESTART: RECV returned %ld instead of restarting", r);
	}
	signal(SIGUSR1, SIG_DFL);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Several RECVs asleep on one queue: each message wakes one of them, none
 * is lost or duplicated, and the rest keep waiting without error. */
START_TEST(many_sleepers)
{
	enum { SLEEPERS = 4 };
	char nm[KMQ_NAME_LEN];
	volatile long *res = vt_shared(4096);
	pid_t pids[SLEEPERS];
	long fd;
	int i, total = 0;

	vt_qname(nm, "sleepers");
	ck_assert_err(vt_create(ctl, nm, 8, 8, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	for (i = 0; i < SLEEPERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			char buf[8];
			long r, rfd = vt_open(ctl, nm, KMQ_OPEN_RECV);

			if (rfd < 0)
				_exit(2);
			__atomic_add_fetch(&res[20], 1, __ATOMIC_SEQ_CST);
			r = vt_recv((int)rfd, buf, sizeof(buf), 0, 20000000000LL, NULL);
			res[i] = r == 0 ? buf[0] : r;
			_exit(0);
		}
	}
	while (res[20] < SLEEPERS)
		vt_sleep_ms(5);
	vt_sleep_ms(500);		/* all asleep */
	for (i = 0; i < SLEEPERS - 1; i++) {
		char c = (char)('1' + i);

		ck_assert_err(vt_send((int)fd, &c, 1, 0, -1, NULL), 0);
	}
	/* Three get one message each; the fourth times out cleanly. */
	for (i = 0; i < SLEEPERS; i++)
		ck_assert_child_ok(vt_wait(pids[i]), "sleeper");
	{
		int seen[SLEEPERS] = { 0 }, timeouts = 0;

		for (i = 0; i < SLEEPERS; i++) {
			if (res[i] == -ETIMEDOUT) {
				timeouts++;
				continue;
			}
			ck_assert_msg(res[i] >= '1' && res[i] < '1' + SLEEPERS - 1,
				      "sleeper %d: %ld", i, res[i]);
			seen[res[i] - '1']++;
			total++;
		}
		ck_assert_int_eq(timeouts, 1);
		for (i = 0; i < SLEEPERS - 1; i++)
			ck_assert_int_eq(seen[i], 1);
	}
	ck_assert_int_eq(total, SLEEPERS - 1);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* sender_pid is the sender's pid as the sender knows it, on both paths (the
 * fast path can only self-report, so the copying path reports the same
 * view): a sender that is pid 1 of a child PID namespace is reported as 1,
 * however the receiver sees it. */
START_TEST(sender_pid_across_pid_namespace)
{
	char nm[KMQ_NAME_LEN], buf[16];
	volatile long *res = vt_shared(4096);
	struct kmq_iomsg m;
	long fd;
	pid_t outer;

	vt_qname(nm, "pidns");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	outer = fork();
	ck_assert_int_ge(outer, 0);
	if (outer == 0) {
		pid_t inner;

		if (unshare(CLONE_NEWPID)) {
			res[0] = -errno;
			_exit(0);
		}
		inner = fork();		/* pid 1 of the new namespace */
		if (inner < 0)
			_exit(2);
		if (inner == 0) {
			res[1] = getpid();
			_exit(vt_send((int)fd, "ns", 2, 0, -1, NULL) ? 3 : 0);
		}
		res[2] = inner;
		_exit(WIFEXITED(vt_wait(inner)) ? 0 : 4);
	}
	ck_assert_child_ok(vt_wait(outer), "namespace parent");
	if (res[0]) {
		printf("ioctl_test: unshare(CLONE_NEWPID): %s; not run\n", strerror((int)-res[0]));
		ck_assert_msg(!vt_in_vm(), "PID namespaces are expected in the VM");
		close((int)fd);
		vt_delete(ctl, nm);
		return;
	}
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_int_eq(res[1], 1);	/* it saw itself as pid 1 */
	/* res[2] is the inner child's pid as seen from this namespace too
	 * (the outer child lives in ours). */
	ck_assert_msg(m.sender_pid == (__u32)res[1],
		      "sender_pid %u: want %ld, the sender's pid in its own namespace (it is %ld in ours)",
		      m.sender_pid, res[1], res[2]);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- mmap ---------------------------------------------------------------- */

START_TEST(mmap_rules)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	struct kmq_hdr *h;
	long nomap, map;
	void *p;

	vt_qname(nm, "mmap");
	ck_assert_err(vt_create(ctl, nm, 16, 100, 0600, 0, 0), 0);
	nomap = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	map = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP));
	ck_assert_err(vt_qinfo((int)map, &info), 0);

	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)nomap, 0);
	ck_assert_msg(p == MAP_FAILED, "mmap of a queue fd opened without KMQ_OPEN_MAP succeeded");
	p = mmap(NULL, info.size, PROT_READ, MAP_SHARED, (int)nomap, 0);
	ck_assert_msg(p == MAP_FAILED, "read-only mmap without KMQ_OPEN_MAP succeeded");
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_PRIVATE, (int)map, 0);
	ck_assert_msg(p == MAP_FAILED, "MAP_PRIVATE mmap of a queue succeeded");
	p = mmap(NULL, info.size + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)map, 0);
	ck_assert_msg(p == MAP_FAILED, "mmap longer than the queue succeeded");
	p = mmap(NULL, info.size - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)map, 0);
	ck_assert_msg(p == MAP_FAILED, "mmap shorter than the queue succeeded");
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)map, 4096);
	ck_assert_msg(p == MAP_FAILED, "mmap at a nonzero offset succeeded");
	p = mmap(NULL, info.size - 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)map, 4096);
	ck_assert_msg(p == MAP_FAILED, "mmap of the tail at a nonzero offset succeeded");
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)ctl, 0);
	ck_assert_msg(p == MAP_FAILED, "mmap of the control fd succeeded");

	/* The right mapping shows the header the kernel wrote. */
	p = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)map, KMQ_OFF_QUEUE);
	ck_assert_msg(p != MAP_FAILED, "mmap of the whole queue: %s", strerror(errno));
	h = p;
	ck_assert_uint_eq(h->magic, KMQ_MAGIC);
	ck_assert_uint_eq(h->abi, KMQ_ABI_VERSION);
	ck_assert_uint_eq(h->type, KMQ_TYPE_QUEUE);
	ck_assert_uint_eq(h->capacity, info.capacity);
	ck_assert_uint_eq(h->slot_size, info.slot_size);
	ck_assert_uint_eq(h->max_msg_size, info.max_msg_size);
	ck_assert_uint_eq(h->free_off, info.free_off);
	ck_assert_uint_eq(h->ready_off, info.ready_off);
	ck_assert_uint_eq(h->slots_off, info.slots_off);
	ck_assert_uint_eq(h->size, info.size);
	ck_assert_uint_eq(h->features, info.features);
	/* A copying-path send shows up in the ready ring of the mapping. */
	ck_assert_err(vt_send((int)nomap, "seen", 4, 0, -1, NULL), 0);
	{
		struct kmq_layout l;
		struct kmq_view v;
		struct kmq_slot *s;
		__u64 c;

		vt_layout(&info, &l);
		kmq_view_init(&v, p, &l);
		ck_assert_uint_eq(kmq_ring_count(&v.ready), 1);
		ck_assert_uint_eq(kmq_ring_count(&v.free), info.capacity - 1);
		c = v.ready.cells[v.ready.ctl->head & v.ready.mask];
		ck_assert(kmq_cell_is_full(c, v.ready.ctl->head));
		s = kmq_slot_at(&v, kmq_cell_idx(c));
		ck_assert_uint_eq(s->len, 4);
		ck_assert_uint_eq(s->state, KMQ_SLOT_READY);
		ck_assert_int_eq(memcmp(kmq_slot_data(s), "seen", 4), 0);
	}
	ck_assert_int_eq(munmap(p, info.size), 0);
	close((int)nomap);
	close((int)map);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* ---- WAKE, poll, epoll ---------------------------------------------------- */

START_TEST(wake_args)
{
	char nm[KMQ_NAME_LEN];
	long fd;

	vt_qname(nm, "wake");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP));
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, 0), -EINVAL);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, 4), -EINVAL);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, 1UL << 31), -EINVAL);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, ~0UL), -EINVAL);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, KMQ_WAKE_READERS), 0);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, KMQ_WAKE_WRITERS), 0);
	ck_assert_err(vt_ioctl_ul((int)fd, KMQ_IOC_WAKE, KMQ_WAKE_READERS | KMQ_WAKE_WRITERS), 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

START_TEST(poll_states)
{
	char nm[KMQ_NAME_LEN];
	struct pollfd pfd;
	long fd;
	pid_t pid;
	double t0;
	int r;

	vt_qname(nm, "poll");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	/* Empty: writable, not readable. */
	pfd = (struct pollfd){ .fd = (int)fd, .events = POLLIN | POLLOUT };
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents & (POLLIN | POLLOUT | POLLERR | POLLNVAL), POLLOUT);
	/* Readable after a send from another process; the poll sleeps first. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		long s = vt_open(ctl, nm, KMQ_OPEN_SEND);

		vt_sleep_ms(500);
		if (s < 0 || vt_send((int)s, "p", 1, 0, -1, NULL))
			_exit(1);
		vt_sleep_ms(200);	/* stay alive: the wake must come from the send */
		_exit(0);
	}
	pfd = (struct pollfd){ .fd = (int)fd, .events = POLLIN };
	t0 = vt_now();
	r = poll(&pfd, 1, 60000);
	ck_assert_msg(r == 1 && (pfd.revents & POLLIN), "poll POLLIN: %d, revents %#x", r,
		      pfd.revents);
	ck_assert_msg(vt_now() - t0 < 60, "poll woke only at its timeout");
	ck_assert_child_ok(vt_wait(pid), "sender");
	/* Full: readable, not writable. */
	ck_assert_err(vt_send((int)fd, "q", 1, 0, -1, NULL), 0);
	pfd = (struct pollfd){ .fd = (int)fd, .events = POLLIN | POLLOUT };
	ck_assert_int_eq(poll(&pfd, 1, 0), 1);
	ck_assert_int_eq(pfd.revents & (POLLIN | POLLOUT), POLLIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/*
 * epoll wakes a sleeping consumer when a *mapped* producer (libkmq fast
 * path, no SEND ioctl) sends: the consumer's poll armed hdr.rd_wait, the
 * producer saw it after its push and called KMQ_IOC_WAKE. The producer stays
 * alive until the consumer is done, so the wake cannot come from its
 * release. This is the need-wakeup protocol end to end.
 */
START_TEST(epoll_need_wakeup_readers)
{
	char nm[KMQ_NAME_LEN], full[KMQ_NAME_LEN], buf[16];
	struct epoll_event ev;
	volatile int *go;
	double t0;
	long fd;
	int ep, r;
	pid_t pid;

	vt_qname(nm, "epoll");
	snprintf(full, sizeof(full), "%s", nm);
	ck_assert_err(vt_create(ctl, nm, 8, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	go = vt_shared(4096);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kmq *q;
		int i;

		if (kmq_open(full, KMQ_SEND, &q))
			_exit(2);
		if (!kmq_mapped(q))
			_exit(3);
		vt_sleep_ms(700);	/* the consumer is asleep by now */
		if (kmq_send(q, "fast", 4, 0))
			_exit(4);
		for (i = 0; i < 6000 && !go[0]; i++)
			vt_sleep_ms(10);
		kmq_close(q);
		_exit(0);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	ev.events = EPOLLIN;
	ev.data.u64 = 42;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev), 0);
	t0 = vt_now();
	r = epoll_wait(ep, &ev, 1, 60000);
	go[0] = 1;
	ck_assert_msg(r == 1, "epoll_wait returned %d after %.2f s: the mapped producer's send did not wake the consumer",
		      r, vt_now() - t0);
	ck_assert(ev.events & EPOLLIN);
	ck_assert_uint_eq(ev.data.u64, 42);
	ck_assert_msg(vt_now() - t0 < 55, "woke only at the timeout");
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_int_eq(memcmp(buf, "fast", 4), 0);
	ck_assert_child_ok(vt_wait(pid), "mapped producer");
	close(ep);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* The same for writers: a producer sleeping in epoll for EPOLLOUT on a full
 * queue is woken when a mapped consumer frees a slot. */
START_TEST(epoll_need_wakeup_writers)
{
	char nm[KMQ_NAME_LEN], full[KMQ_NAME_LEN];
	struct epoll_event ev;
	volatile int *go;
	double t0;
	long fd;
	int ep, r;
	pid_t pid;

	vt_qname(nm, "epollw");
	snprintf(full, sizeof(full), "%s", nm);
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	ck_assert_err(vt_send((int)fd, "a", 1, 0, -1, NULL), 0);
	ck_assert_err(vt_send((int)fd, "b", 1, 0, -1, NULL), 0);
	go = vt_shared(4096);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[16];
		struct kmq *q;
		int i;

		if (kmq_open(full, KMQ_RECV, &q))
			_exit(2);
		if (!kmq_mapped(q))
			_exit(3);
		vt_sleep_ms(700);
		if (kmq_recv(q, buf, sizeof(buf), NULL, 0) != 1)
			_exit(4);
		for (i = 0; i < 6000 && !go[0]; i++)
			vt_sleep_ms(10);
		kmq_close(q);
		_exit(0);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	ev.events = EPOLLOUT;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, (int)fd, &ev), 0);
	t0 = vt_now();
	r = epoll_wait(ep, &ev, 1, 60000);
	go[0] = 1;
	ck_assert_msg(r == 1, "epoll_wait returned %d after %.2f s: the mapped consumer's release did not wake the writer",
		      r, vt_now() - t0);
	ck_assert(ev.events & EPOLLOUT);
	ck_assert_err(vt_send((int)fd, "c", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_child_ok(vt_wait(pid), "mapped consumer");
	close(ep);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

static Suite *ioctl_suite(void)
{
	Suite *s = suite_create("ioctl");
	TCase *tc;

	tc = tcase_create("control");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, create_bad_names);
	tcase_add_test(tc, create_good_names);
	tcase_add_test(tc, create_bad_geometry);
	tcase_add_test(tc, create_info_geometry);
	tcase_add_test(tc, create_duplicate);
	tcase_add_test(tc, create_and_open);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, open_fd_flags_and_clients);
	tcase_add_test(tc, delete_errors_and_open_fds);
	tcase_add_test(tc, list_paging);
	tcase_add_test(tc, list_partial_fault);
	tcase_add_test(tc, info_by_name_and_fd);
	tcase_add_test(tc, bad_pointers);
	tcase_add_test(tc, unknown_and_misdirected_ioctls);
	suite_add_tcase(s, tc);

	tc = tcase_create("io");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, io_bad_args);
	tcase_add_test(tc, recv_efault_keeps_message);
	tcase_add_test(tc, recv_too_small_keeps_message);
	tcase_add_test(tc, wrong_direction);
	tcase_add_test(tc, copy_round_trip);
	tcase_add_test(tc, batches);
	tcase_add_test(tc, zero_length_message);
	tcase_add_test(tc, nonblocking_and_timeouts);
	tcase_add_test(tc, blocking_recv_woken);
	tcase_add_test(tc, ids_unique_across_reopen);
	tcase_add_test(tc, emsgsize_keeps_fifo_order);
	tcase_add_test(tc, emsgsize_keeps_fifo_order_mapped);
	tcase_add_test(tc, batch_partial_semantics);
	tcase_add_test(tc, fcntl_nonblock);
	tcase_add_test(tc, signals_interrupt_waits);
	tcase_add_test(tc, many_sleepers);
	tcase_add_test(tc, sender_pid_across_pid_namespace);
	suite_add_tcase(s, tc);

	tc = tcase_create("map_poll");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, mmap_rules);
	tcase_add_test(tc, wake_args);
	tcase_add_test(tc, poll_states);
	tcase_add_test(tc, epoll_need_wakeup_readers);
	tcase_add_test(tc, epoll_need_wakeup_writers);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "ioctl_test";
	return vt_run(ioctl_suite());
}
