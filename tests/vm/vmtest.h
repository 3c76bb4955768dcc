/* Shared helpers of the kmq VM test programs in tests/vm: raw ioctl wrappers returning -errno, queue naming and cleanup, skip/fail policy for a missing /dev/kmq. */
#ifndef KMQ_VMTEST_H
#define KMQ_VMTEST_H

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/kmq.h>
#include <kmq.h>
#include <kmq/ring.h>

/* Every program sets this to its name; it prefixes the queues it creates
 * ("<prog>.<suffix>") so that cleanup can find and delete them. */
static const char *vt_prog = "vmtest";

/* Addresses no user copy may succeed on. */
#define VT_BAD_NULL	((void *)0)
#define VT_BAD_LOW	((void *)1)
#define VT_BAD_KERNEL	((void *)0xffff888000000000ULL)
#define VT_BAD_KTEXT	((void *)0xffffffff81000000ULL)

static inline int vt_in_vm(void)
{
	const char *v = getenv("KMQ_VM");

	return v && strcmp(v, "1") == 0;
}

/* Exit 77 (skip) when /dev/kmq is missing outside the VM; inside the VM
 * (KMQ_VM=1) the module is loaded, so a missing device is a failure. */
static inline void vt_require_dev(void)
{
	int fd = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (vt_in_vm()) {
		fprintf(stderr, "%s: FAIL: cannot open %s in the VM: %s\n",
			vt_prog, KMQ_DEVICE, strerror(errno));
		exit(1);
	}
	fprintf(stderr, "%s: SKIP: %s: %s (module not loaded here)\n",
		vt_prog, KMQ_DEVICE, strerror(errno));
	exit(77);
}

static inline long vt_ioctl(int fd, unsigned long req, void *arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

static inline long vt_ioctl_ul(int fd, unsigned long req, unsigned long arg)
{
	long r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

/* Assert that @expr (a 0/-errno or fd/-errno value) equals @want. */
#define ck_assert_err(expr, want) do {					\
	long __r = (long)(expr), __w = (long)(want);			\
	ck_assert_msg(__r == __w, "%s = %ld (%s), want %ld (%s)",	\
		      #expr, __r, __r < 0 ? strerror((int)-__r) : "ok",	\
		      __w, __w < 0 ? strerror((int)-__w) : "ok");	\
} while (0)

/* Assert success (>= 0) and yield the value. */
#define ck_assert_ok(expr) ({						\
	long __r = (long)(expr);					\
	ck_assert_msg(__r >= 0, "%s = %ld (%s)", #expr, __r,		\
		      __r < 0 ? strerror((int)-__r) : "ok");		\
	__r;								\
})

static inline int vt_ctl(void)
{
	int fd = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);

	ck_assert_msg(fd >= 0, "open %s: %s", KMQ_DEVICE, strerror(errno));
	return fd;
}

/* "<prog>.<suffix>" in a zero-filled name field. */
static inline void vt_qname(char name[KMQ_NAME_LEN], const char *suffix)
{
	memset(name, 0, KMQ_NAME_LEN);
	snprintf(name, KMQ_NAME_LEN, "%s.%s", vt_prog, suffix);
}

/* Copy @src into a zero-filled KMQ_NAME_LEN name field (truncating). */
static inline void vt_setname(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n > KMQ_NAME_LEN - 1)
		n = KMQ_NAME_LEN - 1;
	memset(dst, 0, KMQ_NAME_LEN);
	memcpy(dst, src, n);
}

static inline void vt_create_args(struct kmq_create *c, const char *name,
				  __u32 cap, __u32 msz, __u32 mode)
{
	memset(c, 0, sizeof(*c));
	vt_setname(c->name, name);
	c->type = KMQ_TYPE_QUEUE;
	c->capacity = cap;
	c->max_msg_size = msz;
	c->mode = mode;
}

/* CREATE; returns 0, a queue fd when @open_flags, or -errno. */
static inline long vt_create(int ctl, const char *name, __u32 cap, __u32 msz,
			     __u32 mode, __u32 flags, __u32 open_flags)
{
	struct kmq_create c;

	vt_create_args(&c, name, cap, msz, mode);
	c.flags = flags;
	c.open_flags = open_flags;
	return vt_ioctl(ctl, KMQ_IOC_CREATE, &c);
}

static inline long vt_open(int ctl, const char *name, __u32 flags)
{
	struct kmq_open o;

	memset(&o, 0, sizeof(o));
	vt_setname(o.name, name);
	o.flags = flags;
	return vt_ioctl(ctl, KMQ_IOC_OPEN, &o);
}

static inline long vt_delete(int ctl, const char *name)
{
	struct kmq_name n;

	memset(&n, 0, sizeof(n));
	vt_setname(n.name, name);
	return vt_ioctl(ctl, KMQ_IOC_DELETE, &n);
}

static inline long vt_info(int ctl, const char *name, struct kmq_info *info)
{
	memset(info, 0, sizeof(*info));
	vt_setname(info->name, name);
	return vt_ioctl(ctl, KMQ_IOC_INFO, info);
}

static inline long vt_qinfo(int qfd, struct kmq_info *info)
{
	memset(info, 0, sizeof(*info));
	return vt_ioctl(qfd, KMQ_IOC_INFO, info);
}

/* Copying path, one message. */
static inline long vt_send(int qfd, const void *buf, __u32 len, __u32 flags,
			   __s64 timeout_ns, __u64 *id)
{
	struct kmq_iomsg m;
	struct kmq_io io;
	long r;

	memset(&m, 0, sizeof(m));
	memset(&io, 0, sizeof(io));
	m.buf = (__u64)(uintptr_t)buf;
	m.len = len;
	io.msgs = (__u64)(uintptr_t)&m;
	io.count = 1;
	io.flags = flags;
	io.timeout_ns = timeout_ns;
	r = vt_ioctl(qfd, KMQ_IOC_SEND, &io);
	if (r == 0 && io.done != 1)
		return -EPROTO;		/* success must mean one moved */
	if (r == 0 && id)
		*id = m.id;
	return r;
}

/* Copying path, one message; *@m is filled (m->len is the body length, or
 * the needed length with -EMSGSIZE). */
static inline long vt_recv(int qfd, void *buf, __u32 cap, __u32 flags,
			   __s64 timeout_ns, struct kmq_iomsg *m)
{
	struct kmq_iomsg local;
	struct kmq_io io;
	long r;

	if (!m)
		m = &local;
	memset(m, 0, sizeof(*m));
	memset(&io, 0, sizeof(io));
	m->buf = (__u64)(uintptr_t)buf;
	m->len = cap;
	io.msgs = (__u64)(uintptr_t)m;
	io.count = 1;
	io.flags = flags;
	io.timeout_ns = timeout_ns;
	r = vt_ioctl(qfd, KMQ_IOC_RECV, &io);
	if (r == 0 && io.done != 1)
		return -EPROTO;
	return r;
}

/* Drain a queue fd through the copying path; calls @fn for each message. */
static inline long vt_drain(int qfd, void *buf, __u32 cap,
			    void (*fn)(const void *, __u32, __u64, void *),
			    void *arg)
{
	struct kmq_iomsg m;
	long n = 0, r;

	for (;;) {
		r = vt_recv(qfd, buf, cap, KMQ_IO_NONBLOCK, 0, &m);
		if (r == -EAGAIN)
			return n;
		if (r < 0)
			return r;
		if (fn)
			fn(buf, m.len, m.id, arg);
		n++;
	}
}

/* Delete every queue named "<vt_prog>.*". Returns how many were deleted. */
static inline int vt_cleanup_prefix(void)
{
	struct kmq_info infos[16];
	char prefix[KMQ_NAME_LEN];
	struct kmq_list l;
	int ctl, deleted = 0, again = 1, i, rounds = 0;
	size_t plen;

	ctl = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s.", vt_prog);
	plen = strlen(prefix);
	while (again && rounds++ < 1000) {
		__u64 start = 0;

		again = 0;
		for (;;) {
			memset(&l, 0, sizeof(l));
			memset(infos, 0, sizeof(infos));
			l.infos = (__u64)(uintptr_t)infos;
			l.count = 16;
			l.start = start;
			if (vt_ioctl(ctl, KMQ_IOC_LIST, &l) < 0 || l.count == 0)
				break;
			for (i = 0; i < (int)l.count && i < 16; i++) {
				if (strncmp(infos[i].name, prefix, plen))
					continue;
				if (vt_delete(ctl, infos[i].name) == 0) {
					deleted++;
					again = 1; /* indices shifted */
				}
			}
			if (again)
				break;
			start += l.count;
		}
	}
	close(ctl);
	return deleted;
}

/* A checked fixture teardown that deletes this program's queues. */
static inline void vt_teardown_cleanup(void)
{
	vt_cleanup_prefix();
}

static inline double vt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline __u64 vt_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static inline void vt_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void vt_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* xorshift64*: deterministic per seed, good enough for test patterns. */
static inline __u64 vt_rand(__u64 *s)
{
	__u64 x = *s ? *s : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static inline __u64 vt_seed(void)
{
	const char *s = getenv("KMQ_TEST_SEED");

	if (s && *s)
		return strtoull(s, NULL, 0);
	return vt_realtime_ns() ^ ((__u64)getpid() << 32);
}

/* Environment integer with a default. */
static inline long vt_env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 0);
	return *end ? def : v;
}

/* Memory shared with forked children (MAP_SHARED | MAP_ANONYMOUS). */
static inline void *vt_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "mmap shared %zu: %s", size,
		      strerror(errno));
	return p;
}

/* Wait for @pid; returns its wait status. Retries on EINTR. */
static inline int vt_wait(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Wait for @pid at most @sec seconds, then SIGKILL it; returns the status
 * and sets *@timed_out. */
static inline int vt_wait_timeout(pid_t pid, double sec, int *timed_out)
{
	double end = vt_now() + sec;
	int st = 0;

	if (timed_out)
		*timed_out = 0;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (vt_now() > end) {
			kill(pid, SIGKILL);
			if (timed_out)
				*timed_out = 1;
			return vt_wait(pid);
		}
		vt_sleep_ms(5);
	}
}

/* Assert a child exited 0; its exit code otherwise says what failed. */
#define ck_assert_child_ok(st, what) do {				\
	int __st = (st);						\
	ck_assert_msg(WIFEXITED(__st) && WEXITSTATUS(__st) == 0,	\
		      "%s: child %s %d", (what),			\
		      WIFEXITED(__st) ? "exited" : "killed by signal",	\
		      WIFEXITED(__st) ? WEXITSTATUS(__st) : WTERMSIG(__st)); \
} while (0)

/* The geometry of an open queue as libkmq/ring.h want it, from INFO. */
static inline void vt_layout(const struct kmq_info *i, struct kmq_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->capacity = i->capacity;
	l->max_msg_size = i->max_msg_size;
	l->slot_size = i->slot_size;
	l->free_off = i->free_off;
	l->ready_off = i->ready_off;
	l->slots_off = i->slots_off;
	l->size = i->size;
}

/* Map queue fd @qfd (opened with KMQ_OPEN_MAP) and build a view of it. */
static inline void *vt_map(int qfd, struct kmq_info *info, struct kmq_view *v)
{
	struct kmq_layout l;
	void *p;

	ck_assert_err(vt_qinfo(qfd, info), 0);
	p = mmap(NULL, info->size, PROT_READ | PROT_WRITE, MAP_SHARED, qfd,
		 KMQ_OFF_QUEUE);
	ck_assert_msg(p != MAP_FAILED, "mmap queue (%llu bytes): %s",
		      (unsigned long long)info->size, strerror(errno));
	if (v) {
		vt_layout(info, &l);
		kmq_view_init(v, p, &l);
	}
	return p;
}

/*
 * Check that every slot of a quiescent queue is in exactly one ring cell
 * between head and tail of the free or the ready ring (no client holds
 * any). Returns NULL or a static description of the first problem.
 */
static inline const char *vt_check_conservation(struct kmq_view *v,
						__u64 *nfree, __u64 *nready)
{
	static char why[200];
	unsigned char *seen;
	struct kmq_ring *rings[2] = { &v->free, &v->ready };
	__u64 counts[2] = { 0, 0 };
	__u32 cap = v->free.cap, k;

	seen = calloc(cap, 1);
	if (!seen)
		return "out of memory";
	for (k = 0; k < 2; k++) {
		struct kmq_ring *r = rings[k];
		__u64 h = r->ctl->head, t = r->ctl->tail, p;

		if (t < h || t - h > cap) {
			snprintf(why, sizeof(why),
				 "%s ring head %llu tail %llu (cap %u)",
				 k ? "ready" : "free", (unsigned long long)h,
				 (unsigned long long)t, cap);
			free(seen);
			return why;
		}
		for (p = h; p < t; p++) {
			__u64 c = r->cells[p & r->mask];
			__u32 idx;

			if (!kmq_cell_is_full(c, p)) {
				snprintf(why, sizeof(why),
					 "%s ring position %llu: cell %#llx is not FULL",
					 k ? "ready" : "free",
					 (unsigned long long)p,
					 (unsigned long long)c);
				free(seen);
				return why;
			}
			idx = kmq_cell_idx(c);
			if (idx >= cap || seen[idx]) {
				snprintf(why, sizeof(why),
					 "slot %u named twice or out of range (%s ring pos %llu)",
					 idx, k ? "ready" : "free",
					 (unsigned long long)p);
				free(seen);
				return why;
			}
			seen[idx] = 1;
			counts[k]++;
		}
	}
	free(seen);
	if (nfree)
		*nfree = counts[0];
	if (nready)
		*nready = counts[1];
	if (counts[0] + counts[1] != cap) {
		snprintf(why, sizeof(why),
			 "free %llu + ready %llu != capacity %u",
			 (unsigned long long)counts[0],
			 (unsigned long long)counts[1], cap);
		return why;
	}
	return NULL;
}

/* Run @s and exit with 0 (all passed) or 1; deletes the program's queues
 * before and after. */
static inline int vt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed, left;

	vt_require_dev();
	vt_cleanup_prefix();
	srunner_run_all(sr, CK_ENV);	/* CK_VERBOSITY=verbose lists each test */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	left = vt_cleanup_prefix();
	if (left)
		fprintf(stderr, "%s: note: %d queue(s) were left behind and deleted at exit\n",
			vt_prog, left);
	return failed ? 1 : 0;
}

#endif /* KMQ_VMTEST_H */
