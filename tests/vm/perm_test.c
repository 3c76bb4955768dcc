/* perm_test: queue owner/group/other mode bits decide who may send, receive and map (POSIX mqueue rules), only the owner or CAP_SYS_ADMIN deletes, and libkmq falls back to copying when mapping is refused. */
#include "vmtest.h"

#include <grp.h>
#include <sched.h>
#include <sys/fsuid.h>

#define NOBODY		65534
#define NOGROUP		65534
#define OTHER_UID	65533
#define OTHER_GID	65533
#define SHARED_GID	4321

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

struct who {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[4];
};

static const struct who nobody = { NOBODY, NOGROUP, 0, { 0 } };
static const struct who other = { OTHER_UID, OTHER_GID, 0, { 0 } };
static const struct who grouped = { OTHER_UID, OTHER_GID, 1, { SHARED_GID } };

/* What an unprivileged process could do; filled in the child. */
struct probe {
	long dev;			/* open of /dev/kmq */
	long open_send, open_recv, open_both, open_map, open_none;
	long mmap_nomap;		/* mmap of the SEND|RECV fd */
	long mmap_map;			/* mmap of the MAP fd, when it opened */
	long create_open;		/* CREATE (existing, same geometry) + open_flags */
	long create_plain;		/* CREATE (existing, same geometry), no open */
	long del;
	long copy_send;			/* SEND through the open_send fd */
	long copy_recv;			/* RECV through the open_recv fd */
	long lib_send, lib_send_mapped, lib_recv, lib_recv_mapped;
	long lib_sent, lib_got;
	char got[64];
};

enum {
	DO_OPENS = 1 << 0,
	DO_DELETE = 1 << 1,
	DO_COPY = 1 << 2,
	DO_LIB_SEND = 1 << 3,
	DO_LIB_RECV = 1 << 4,
	DO_CREATE = 1 << 5,
};

static int become(const struct who *w)
{
	if (setgroups((size_t)w->ngroups, w->groups))
		return -1;
	if (setgid(w->gid) || setuid(w->uid))
		return -1;
	if (geteuid() != w->uid || getegid() != w->gid)
		return -1;
	return 0;
}

/* Fork, drop to @w, try what @what says on queue @name, report in *@p. */
static void probe_as(const struct who *w, const char *name, unsigned int what,
		     struct probe *out)
{
	struct probe *p = vt_shared(sizeof(*p));
	pid_t pid;

	memset(p, 0, sizeof(*p));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kmq_info info;
		long fd;
		int c;

		if (become(w))
			_exit(90);
		c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
		p->dev = c < 0 ? -errno : 0;
		if (c < 0)
			_exit(0);
		if (what & DO_OPENS) {
			p->open_send = vt_open(c, name, KMQ_OPEN_SEND);
			p->open_recv = vt_open(c, name, KMQ_OPEN_RECV);
			p->open_both = vt_open(c, name, KMQ_OPEN_SEND | KMQ_OPEN_RECV);
			p->open_map = vt_open(c, name, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP);
			p->open_none = vt_open(c, name, 0);
			p->mmap_nomap = p->mmap_map = -ENOEXEC;
			if (p->open_both >= 0 && vt_qinfo((int)p->open_both, &info) == 0) {
				void *m = mmap(NULL, info.size, PROT_READ | PROT_WRITE,
					       MAP_SHARED, (int)p->open_both, 0);

				p->mmap_nomap = m == MAP_FAILED ? -errno : 0;
			}
			if (p->open_map >= 0 && vt_qinfo((int)p->open_map, &info) == 0) {
				void *m = mmap(NULL, info.size, PROT_READ | PROT_WRITE,
					       MAP_SHARED, (int)p->open_map, 0);

				p->mmap_map = m == MAP_FAILED ? -errno : 0;
				if (m != MAP_FAILED && ((struct kmq_hdr *)m)->magic != KMQ_MAGIC)
					p->mmap_map = -EPROTO;
			}
			if (what & DO_COPY) {
				char buf[64];
				struct kmq_iomsg m;

				p->copy_send = p->open_send >= 0 ?
					vt_send((int)p->open_send, "copied-by-user", 14,
						KMQ_IO_NONBLOCK, 0, NULL) : -ENOEXEC;
				p->copy_recv = p->open_recv >= 0 ?
					vt_recv((int)p->open_recv, buf, sizeof(buf),
						KMQ_IO_NONBLOCK, 0, &m) : -ENOEXEC;
			}
		}
		if (what & DO_CREATE) {
			struct kmq_info qi;

			if (vt_info(c, name, &qi) == 0) {
				fd = vt_create(c, name, qi.capacity, qi.max_msg_size, qi.mode, 0,
					       KMQ_OPEN_SEND | KMQ_OPEN_RECV);
				p->create_open = fd;
				p->create_plain = vt_create(c, name, qi.capacity, qi.max_msg_size,
							    qi.mode, 0, 0);
			} else {
				p->create_open = p->create_plain = -ENOEXEC;
			}
		}
		if (what & DO_LIB_SEND) {
			struct kmq *q;

			p->lib_send = kmq_open(name, KMQ_SEND, &q);
			if (!p->lib_send) {
				p->lib_send_mapped = kmq_mapped(q);
				p->lib_sent = kmq_send(q, "lib-sent", 8, 0);
				kmq_close(q);
			}
		}
		if (what & DO_LIB_RECV) {
			struct kmq *q;

			p->lib_recv = kmq_open(name, KMQ_RECV, &q);
			if (!p->lib_recv) {
				p->lib_recv_mapped = kmq_mapped(q);
				p->lib_got = kmq_recv(q, p->got, sizeof(p->got) - 1, NULL, 0);
				kmq_close(q);
			}
		}
		if (what & DO_DELETE)
			p->del = vt_delete(c, name);
		_exit(0);
	}
	ck_assert_child_ok(vt_wait(pid), "probe");
	*out = *p;
	munmap(p, sizeof(*p));
	ck_assert_msg(out->dev == 0, "uid %u cannot open %s: %s (it is meant to be world-usable)",
		      w->uid, KMQ_DEVICE, strerror((int)-out->dev));
}

/* Create queue @name as @w (so @w owns it). */
static void create_as(const struct who *w, const char *name, __u32 mode)
{
	volatile long *r = vt_shared(4096);
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c;

		if (become(w))
			_exit(90);
		c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
		r[0] = c < 0 ? -errno : vt_create(c, name, 4, 64, mode, KMQ_CREATE_EXCL, 0);
		_exit(0);
	}
	ck_assert_child_ok(vt_wait(pid), "create_as");
	ck_assert_msg(r[0] == 0, "uid %u could not create %s: %ld", w->uid, name, r[0]);
	munmap((void *)r, 4096);
}

/* A root-owned 0600 queue: nobody may not send, receive, map or delete it. */
START_TEST(private_queue)
{
	char nm[KMQ_NAME_LEN];
	struct probe p;
	struct kmq_info info;

	vt_qname(nm, "p0600");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0600, 0, 0), 0);
	probe_as(&nobody, nm, DO_OPENS | DO_DELETE | DO_LIB_SEND | DO_LIB_RECV | DO_CREATE, &p);
	ck_assert_err(p.open_send, -EACCES);
	ck_assert_err(p.open_recv, -EACCES);
	ck_assert_err(p.open_both, -EACCES);
	ck_assert_err(p.open_map, -EACCES);
	ck_assert_err(p.del, -EPERM);
	ck_assert_err(p.lib_send, -EACCES);
	ck_assert_err(p.lib_recv, -EACCES);
	ck_assert_err(p.create_open, -EACCES);	/* an existing queue is checked */
	ck_assert_err(p.create_plain, 0);		/* "ensure it exists" needs no rights */
	ck_assert_err(vt_info(ctl, nm, &info), 0);	/* still there */
	ck_assert_uint_eq(info.uid, 0);
	ck_assert_uint_eq(info.sent, 0);
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A 0666 queue: everyone may do everything but delete it. */
START_TEST(public_queue)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_iomsg m;
	struct probe p;
	long fd;

	vt_qname(nm, "p0666");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0666, 0, 0), 0);
	probe_as(&nobody, nm, DO_OPENS | DO_COPY | DO_DELETE, &p);
	ck_assert_ok(p.open_send);
	ck_assert_ok(p.open_recv);
	ck_assert_ok(p.open_both);
	ck_assert_ok(p.open_map);
	ck_assert_err(p.mmap_map, 0);
	ck_assert_msg(p.mmap_nomap < 0, "a fd opened without KMQ_OPEN_MAP could be mapped");
	ck_assert_err(p.copy_send, 0);
	ck_assert_err(p.copy_recv, 0);		/* got its own message back */
	ck_assert_err(p.del, -EPERM);
	/* The copying path reports the true sender. */
	probe_as(&nobody, nm, DO_LIB_SEND, &p);
	ck_assert_err(p.lib_send, 0);
	ck_assert_int_eq(p.lib_send_mapped, 1);	/* trusted both ways: mapped */
	ck_assert_err(p.lib_sent, 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_int_eq(memcmp(buf, "lib-sent", 8), 0);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A 0644 queue: others may receive but not send, hence not map; libkmq
 * receives through the copying path instead. */
START_TEST(read_only_for_others)
{
	char nm[KMQ_NAME_LEN];
	struct probe p;
	long fd;

	vt_qname(nm, "p0644");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0644, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	ck_assert_err(vt_send((int)fd, "for-readers", 11, 0, -1, NULL), 0);
	ck_assert_err(vt_send((int)fd, "second", 6, 0, -1, NULL), 0);
	probe_as(&nobody, nm, DO_OPENS | DO_COPY | DO_LIB_SEND | DO_LIB_RECV, &p);
	ck_assert_err(p.open_send, -EACCES);
	ck_assert_ok(p.open_recv);
	ck_assert_err(p.open_both, -EACCES);
	ck_assert_err(p.open_map, -EACCES);
	ck_assert_err(p.copy_recv, 0);		/* took "for-readers" */
	ck_assert_err(p.lib_send, -EACCES);
	ck_assert_err(p.lib_recv, 0);
	ck_assert_int_eq(p.lib_recv_mapped, 0);	/* fell back to copying */
	ck_assert_int_eq(p.lib_got, 6);
	ck_assert_str_eq(p.got, "second");
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* A 0622 queue: others may send but not receive; libkmq sends by copying,
 * and the receiver sees the sender's real uid. */
START_TEST(write_only_for_others)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_iomsg m;
	struct probe p;
	long fd;

	vt_qname(nm, "p0622");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0622, 0, 0), 0);
	probe_as(&nobody, nm, DO_OPENS | DO_LIB_SEND | DO_LIB_RECV, &p);
	ck_assert_ok(p.open_send);
	ck_assert_err(p.open_recv, -EACCES);
	ck_assert_err(p.open_map, -EACCES);
	ck_assert_err(p.lib_recv, -EACCES);
	ck_assert_err(p.lib_send, 0);
	ck_assert_int_eq(p.lib_send_mapped, 0);	/* fell back to copying */
	ck_assert_err(p.lib_sent, 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_int_eq(memcmp(buf, "lib-sent", 8), 0);
	ck_assert_uint_eq(m.sender_uid, NOBODY);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Group bits apply to members of the queue's group (supplementary groups
 * included), and only to them. */
START_TEST(group_bits)
{
	char nm[KMQ_NAME_LEN];
	const struct who creator = { NOBODY, SHARED_GID, 0, { 0 } };
	struct kmq_info info;
	struct probe p;

	vt_qname(nm, "pgroup");
	create_as(&creator, nm, 0460);	/* owner: read; group: read+write */
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.uid, NOBODY);
	ck_assert_uint_eq(info.gid, SHARED_GID);
	ck_assert_uint_eq(info.mode, 0460);

	/* A member through a supplementary group: everything, map included. */
	probe_as(&grouped, nm, DO_OPENS | DO_LIB_SEND, &p);
	ck_assert_ok(p.open_send);
	ck_assert_ok(p.open_recv);
	ck_assert_ok(p.open_map);
	ck_assert_err(p.mmap_map, 0);
	ck_assert_int_eq(p.lib_send_mapped, 1);
	ck_assert_err(p.lib_sent, 0);
	/* Not a member: "other" bits, none. */
	probe_as(&other, nm, DO_OPENS, &p);
	ck_assert_err(p.open_send, -EACCES);
	ck_assert_err(p.open_recv, -EACCES);
	ck_assert_err(p.open_map, -EACCES);
	/* The owner gets the owner bits only (read), even though its group
	 * may write: as for files. */
	probe_as(&creator, nm, DO_OPENS, &p);
	ck_assert_ok(p.open_recv);
	ck_assert_err(p.open_send, -EACCES);
	ck_assert_err(p.open_map, -EACCES);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Only the owner deletes; root (CAP_SYS_ADMIN) too; and root's
 * CAP_DAC_OVERRIDE opens any queue. */
START_TEST(owner_only_delete)
{
	char nm[KMQ_NAME_LEN], nm2[KMQ_NAME_LEN];
	struct kmq_info info;
	struct probe p;
	long fd;

	vt_qname(nm, "pdel");
	vt_qname(nm2, "pdel2");
	create_as(&nobody, nm, 0000);
	create_as(&nobody, nm2, 0666);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.uid, NOBODY);
	ck_assert_uint_eq(info.gid, NOGROUP);
	ck_assert_uint_eq(info.mode, 0);

	/* Root may open a 0000 queue (CAP_DAC_OVERRIDE). */
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP));
	close((int)fd);
	/* Another user may neither open nor delete it, even a 0666 one. */
	probe_as(&other, nm, DO_OPENS | DO_DELETE, &p);
	ck_assert_err(p.open_recv, -EACCES);
	ck_assert_err(p.del, -EPERM);
	probe_as(&other, nm2, DO_DELETE, &p);
	ck_assert_err(p.del, -EPERM);
	ck_assert_err(vt_info(ctl, nm2, &info), 0);
	/* The owner deletes its queue, though its mode gives it no rights. */
	probe_as(&nobody, nm, DO_OPENS | DO_DELETE, &p);
	ck_assert_err(p.open_recv, -EACCES);
	ck_assert_err(p.del, 0);
	ck_assert_err(vt_info(ctl, nm, &info), -ENOENT);
	/* Root deletes someone else's queue. */
	ck_assert_err(vt_delete(ctl, nm2), 0);
	ck_assert_err(vt_info(ctl, nm2, &info), -ENOENT);
}
END_TEST

/* The creator of a new queue gets the fd it asked for whatever the mode
 * (as open(O_CREAT) does), and owns the queue. */
START_TEST(creator_opens_new_queue)
{
	char nm[KMQ_NAME_LEN];
	volatile long *r = vt_shared(4096);
	struct kmq_info info;
	pid_t pid;

	vt_qname(nm, "pcreat");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int c;
		long fd;

		if (become(&nobody))
			_exit(90);
		c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
		fd = vt_create(c, nm, 4, 64, 0200, KMQ_CREATE_EXCL,
			       KMQ_OPEN_SEND | KMQ_OPEN_RECV);
		r[0] = fd;
		if (fd >= 0) {
			char buf[8];

			r[1] = vt_send((int)fd, "mine", 4, KMQ_IO_NONBLOCK, 0, NULL);
			r[2] = vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL);
			/* A second open is checked: 0200 allows send only. */
			r[3] = vt_open(c, nm, KMQ_OPEN_RECV);
			r[4] = vt_open(c, nm, KMQ_OPEN_SEND);
		}
		_exit(0);
	}
	ck_assert_child_ok(vt_wait(pid), "creator");
	ck_assert_msg(r[0] >= 0, "CREATE with open_flags by its creator: %ld", r[0]);
	ck_assert_err(r[1], 0);
	ck_assert_err(r[2], 0);
	ck_assert_err(r[3], -EACCES);
	ck_assert_msg(r[4] >= 0, "owner with write permission could not open for send: %ld", r[4]);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.uid, NOBODY);
	ck_assert_uint_eq(info.mode, 0200);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

/* Permission is checked at open: a queue fd passed to (or inherited by)
 * an unprivileged process keeps its rights; a fresh open does not. */
START_TEST(rights_live_in_the_fd)
{
	char nm[KMQ_NAME_LEN], buf[64];
	volatile long *r = vt_shared(4096);
	long fd;
	pid_t pid;

	vt_qname(nm, "pfd");
	ck_assert_err(vt_create(ctl, nm, 4, 64, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (become(&nobody))
			_exit(90);
		r[0] = vt_send((int)fd, "inherited", 9, KMQ_IO_NONBLOCK, 0, NULL);
		r[1] = vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL);
		r[2] = vt_open(ctl, nm, KMQ_OPEN_SEND);
		_exit(0);
	}
	ck_assert_child_ok(vt_wait(pid), "fd user");
	ck_assert_err(r[0], 0);
	ck_assert_err(r[1], -EBADF);	/* the fd was opened for sending only */
	ck_assert_err(r[2], -EACCES);	/* rights are checked against the caller */
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -EIO;
}

/* The copying path reports the sender's true uid as the receiver knows it:
 * uid 0 inside a user namespace that maps it to 65534 is 65534 outside,
 * not root (else any user could pose as root to receivers). */
START_TEST(sender_uid_across_user_namespace)
{
	char nm[KMQ_NAME_LEN], buf[16], path[64];
	struct sync_uns { volatile int stage; volatile long err; } *sy = vt_shared(4096);
	struct kmq_iomsg m;
	long fd;
	pid_t pid;

	vt_qname(nm, "userns");
	ck_assert_err(vt_create(ctl, nm, 2, 16, 0666, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Become 65534 first, so the namespace is an unprivileged one. */
		if (become(&nobody))
			_exit(90);
		if (unshare(CLONE_NEWUSER)) {
			sy->err = -errno;
			sy->stage = 1;
			_exit(0);
		}
		sy->stage = 1;
		while (sy->stage < 2)
			vt_sleep_ms(5);
		if (getuid() != 0)
			_exit(91);
		_exit(vt_send((int)fd, "ns", 2, 0, -1, NULL) ? 92 : 0);
	}
	while (sy->stage < 1)
		vt_sleep_ms(5);
	if (sy->err) {
		vt_wait(pid);
		/* EPERM in the VM: tests/vm/init chroots into the host root, and
		 * the kernel refuses CLONE_NEWUSER to chrooted callers. */
		printf("perm_test: unshare(CLONE_NEWUSER) as nobody: %s; user-namespace check not run\n",
		       strerror((int)-sy->err));
		close((int)fd);
		vt_delete(ctl, nm);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	ck_assert_err(write_file(path, "0 65534 1\n"), 0);
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	ck_assert_err(write_file(path, "deny\n"), 0);
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	ck_assert_err(write_file(path, "0 65534 1\n"), 0);
	sy->stage = 2;
	ck_assert_child_ok(vt_wait(pid), "namespaced sender");
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_msg(m.sender_uid == NOBODY,
		      "a sender that is uid 0 only inside its user namespace (65534 outside) was reported as uid %u",
		      m.sender_uid);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, nm), 0);
}
END_TEST

static Suite *perm_suite(void)
{
	Suite *s = suite_create("perm");
	TCase *tc = tcase_create("perm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, private_queue);
	tcase_add_test(tc, public_queue);
	tcase_add_test(tc, read_only_for_others);
	tcase_add_test(tc, write_only_for_others);
	tcase_add_test(tc, group_bits);
	tcase_add_test(tc, owner_only_delete);
	tcase_add_test(tc, creator_opens_new_queue);
	tcase_add_test(tc, rights_live_in_the_fd);
	tcase_add_test(tc, sender_uid_across_user_namespace);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "perm_test";
	if (geteuid() != 0) {
		fprintf(stderr, "perm_test: SKIP: needs root to switch users\n");
		return vt_in_vm() ? 1 : 77;
	}
	return vt_run(perm_suite());
}
