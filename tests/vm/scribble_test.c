/* scribble_test: a hostile process that writes garbage over a queue it mapped (and plays VMA games with it) can damage that queue only: the kernel keeps answering with success or a clean errno, never hangs, and other queues keep every message. */
#include "vmtest.h"

#include <poll.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <linux/userfaultfd.h>

#define VCAP	64
#define VMSZ	256
#define BCAP	16
#define BMSGS	10

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

/* ---- the bystander: an undamaged queue whose messages must survive ----- */

static void bystander_text(int i, char *buf, size_t n)
{
	snprintf(buf, n, "bystander message %d %.*s", i, i * 7,
		 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
}

static void bystander_fill(const char *name)
{
	char buf[VMSZ];
	long fd;
	int i;

	ck_assert_err(vt_create(ctl, name, BCAP, VMSZ, 0600, KMQ_CREATE_EXCL, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_SEND));
	for (i = 0; i < BMSGS; i++) {
		bystander_text(i, buf, sizeof(buf));
		ck_assert_err(vt_send((int)fd, buf, (__u32)strlen(buf), KMQ_IO_NONBLOCK, 0, NULL), 0);
	}
	close((int)fd);
}

static void bystander_verify(const char *name)
{
	char buf[VMSZ + 1], want[VMSZ];
	struct kmq_info info;
	struct kmq_iomsg m;
	long fd;
	int i;

	ck_assert_err(vt_info(ctl, name, &info), 0);
	ck_assert_uint_eq(info.ready, BMSGS);
	ck_assert_uint_eq(info.held, 0);
	ck_assert_uint_eq(info.corrupt, 0);
	fd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_RECV));
	for (i = 0; i < BMSGS; i++) {
		bystander_text(i, want, sizeof(want));
		memset(buf, 0, sizeof(buf));
		ck_assert_err(vt_recv((int)fd, buf, VMSZ, KMQ_IO_NONBLOCK, 0, &m), 0);
		ck_assert_msg(m.len == strlen(want) && !memcmp(buf, want, m.len),
			      "bystander message %d changed: \"%s\"", i, buf);
	}
	ck_assert_err(vt_recv((int)fd, buf, VMSZ, KMQ_IO_NONBLOCK, 0, &m), -EAGAIN);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, name), 0);
}

/* ---- the victim ------------------------------------------------------------ */

static void victim_fill(const char *name, int n)
{
	char buf[64];
	long fd;
	int i;

	ck_assert_err(vt_create(ctl, name, VCAP, VMSZ, 0600, KMQ_CREATE_EXCL, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_SEND));
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "victim %d", i);
		ck_assert_err(vt_send((int)fd, buf, (__u32)strlen(buf), KMQ_IO_NONBLOCK, 0, NULL), 0);
	}
	close((int)fd);
}

static int clean_errno(long r)
{
	return r == 0 || r == -EAGAIN || r == -ETIMEDOUT || r == -EIO ||
	       r == -EBUSY || r == -EMSGSIZE;
}

struct tally {
	long sends_ok, recvs_ok, errors, polls;
	double worst;
};

/*
 * Use the damaged queue through every kernel entry point for @rounds
 * rounds: each must come back, with success or a clean errno, and what a
 * RECV returns must respect the queue's geometry.
 */
static void hammer(int fd, int rounds, struct tally *t)
{
	unsigned char buf[VMSZ + 64];
	struct kmq_info info;
	struct kmq_iomsg m;
	struct pollfd pfd;
	int i;

	for (i = 0; i < rounds; i++) {
		double t0 = vt_now(), el;
		long r;

		r = vt_send(fd, "after", 5, KMQ_IO_NONBLOCK, 0, NULL);
		ck_assert_msg(clean_errno(r), "SEND on a damaged queue: %ld (%s)", r,
			      strerror((int)-r));
		t->sends_ok += !r;
		r = vt_send(fd, "timed", 5, 0, 1000000LL, NULL);
		ck_assert_msg(clean_errno(r), "timed SEND on a damaged queue: %ld", r);
		memset(&m, 0, sizeof(m));
		r = vt_recv(fd, buf, VMSZ, i & 1 ? KMQ_IO_NONBLOCK : 0, 1000000LL, &m);
		ck_assert_msg(clean_errno(r), "RECV on a damaged queue: %ld (%s)", r,
			      strerror((int)-r));
		if (!r) {
			ck_assert_msg(m.len <= VMSZ, "RECV returned len %u > max_msg_size", m.len);
			t->recvs_ok++;
		}
		if (r == -EMSGSIZE)
			ck_abort_msg("RECV into a max_msg_size buffer said -EMSGSIZE (len %u)", m.len);
		ck_assert_err(vt_ioctl_ul(fd, KMQ_IOC_WAKE, KMQ_WAKE_READERS | KMQ_WAKE_WRITERS), 0);
		pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
		ck_assert_int_ge(poll(&pfd, 1, 0), 0);
		t->polls++;
		ck_assert_err(vt_qinfo(fd, &info), 0);
		ck_assert_uint_eq(info.capacity, VCAP);
		ck_assert_uint_le(info.ready, VCAP);
		ck_assert_uint_le(info.held, VCAP);
		el = vt_now() - t0;
		if (el > t->worst)
			t->worst = el;
		ck_assert_msg(el < 30, "one round of calls on a damaged queue took %.1f s", el);
		if (r)
			t->errors++;
	}
}

/* ---- the hostile process --------------------------------------------------- */

enum pattern {
	PAT_RANDOM,		/* random bytes everywhere */
	PAT_ONES,		/* all 0xff */
	PAT_ZERO,		/* all 0x00 */
	PAT_HUGE_IDX,		/* well-formed FULL/TAKEN cells naming slots >= cap */
	PAT_BAD_LEN,		/* valid rings, slot headers with len = 0xffffffff */
	PAT_DUP_IDX,		/* every ready cell names slot 0; free ring too */
	PAT_COUNTERS,		/* head/tail far apart, reversed, near wrap */
	PAT_OWNED,		/* every slot and TAKEN cell claims the hostile's id */
	PAT_PLAUSIBLE,		/* random but well-formed cells near head/tail */
	PAT_COUNT
};

static const char *pat_name[PAT_COUNT] = {
	"random", "all-ones", "zero", "huge-idx", "bad-len", "dup-idx",
	"counters", "owned", "plausible",
};

static void scribble(struct kmq_view *v, void *base, size_t size, __u32 me,
		     enum pattern pat, __u64 *seed)
{
	struct kmq_ring *rings[2] = { &v->free, &v->ready };
	__u32 cap = v->free.cap, i, k;
	__u64 *w = base;
	size_t n;

	switch (pat) {
	case PAT_RANDOM:
		for (n = 0; n < size / 8; n++)
			w[n] = vt_rand(seed);
		break;
	case PAT_ONES:
		memset(base, 0xff, size);
		break;
	case PAT_ZERO:
		memset(base, 0, size);
		break;
	case PAT_HUGE_IDX:
		for (k = 0; k < 2; k++) {
			struct kmq_ring *r = rings[k];
			__u64 h = r->ctl->head;

			r->ctl->tail = h + cap;
			for (i = 0; i < cap; i++) {
				__u64 p = h + i;
				__u32 idx = (__u32)(KMQ_CELL_IDX_MASK - (vt_rand(seed) % 16));

				r->cells[p & r->mask] = i & 1 ?
					kmq_cell_full(p, idx) :
					kmq_cell_taken(p, (__u32)vt_rand(seed), idx);
			}
		}
		break;
	case PAT_BAD_LEN:
		for (i = 0; i < cap; i++) {
			struct kmq_slot *s = kmq_slot_at(v, i);

			s->len = i & 1 ? 0xffffffffU : VMSZ + 1;
			s->attr_len = i & 2 ? 0xffffffffU : 0;
			s->state = KMQ_SLOT_READY;
		}
		/* Publish every slot in the ready ring, correctly encoded. */
		{
			__u64 h = v->ready.ctl->head;

			v->ready.ctl->tail = h + cap;
			for (i = 0; i < cap; i++)
				v->ready.cells[(h + i) & v->ready.mask] = kmq_cell_full(h + i, i);
			v->free.ctl->tail = v->free.ctl->head;
			for (i = 0; i < cap; i++)
				v->free.cells[(v->free.ctl->head + i) & v->free.mask] =
					kmq_cell_empty(v->free.ctl->head + i);
		}
		break;
	case PAT_DUP_IDX:
		for (k = 0; k < 2; k++) {
			struct kmq_ring *r = rings[k];
			__u64 h = r->ctl->head;

			r->ctl->tail = h + cap;
			for (i = 0; i < cap; i++)
				r->cells[(h + i) & r->mask] = kmq_cell_full(h + i, 0);
		}
		break;
	case PAT_COUNTERS:
		v->free.ctl->head = ~0ULL - 3;
		v->free.ctl->tail = 5;
		v->ready.ctl->head = 1ULL << 62;
		v->ready.ctl->tail = (1ULL << 62) + (1ULL << 40);
		v->hdr->rd_wait = 0xffffffffU;
		v->hdr->wr_wait = 7;
		break;
	case PAT_OWNED:
		for (i = 0; i < cap; i++) {
			struct kmq_slot *s = kmq_slot_at(v, i);

			s->owner = me;
			s->state = (__u32)(vt_rand(seed) % 8);
			s->len = (__u32)vt_rand(seed);
		}
		for (k = 0; k < 2; k++) {
			struct kmq_ring *r = rings[k];

			for (i = 0; i < cap; i++)
				r->cells[i] = kmq_cell_taken(vt_rand(seed), me,
							     (__u32)(vt_rand(seed) % (cap + 4)));
		}
		break;
	case PAT_PLAUSIBLE:
	default:
		for (k = 0; k < 2; k++) {
			struct kmq_ring *r = rings[k];
			__u64 h = r->ctl->head + vt_rand(seed) % 4;

			r->ctl->head = h;
			r->ctl->tail = h + vt_rand(seed) % (cap + 2);
			for (i = 0; i < cap; i++) {
				__u64 p = h + (vt_rand(seed) % (3 * cap)) - cap;
				__u32 idx = (__u32)(vt_rand(seed) % (cap + 2));

				switch (vt_rand(seed) % 4) {
				case 0:
					r->cells[i] = kmq_cell_empty(p);
					break;
				case 1:
					r->cells[i] = kmq_cell_full(p, idx);
					break;
				case 2:
					r->cells[i] = kmq_cell_taken(p, me, idx);
					break;
				default:
					r->cells[i] = vt_rand(seed);
				}
			}
		}
		for (i = 0; i < cap; i++) {
			struct kmq_slot *s = kmq_slot_at(v, i);

			s->state = (__u32)(vt_rand(seed) % 5);
			s->owner = vt_rand(seed) % 2 ? me : (__u32)vt_rand(seed);
			s->len = (__u32)(vt_rand(seed) % (VMSZ + 8));
		}
		break;
	}
}

struct hostile {
	volatile int stage;	/* 1: scribbled; 3: closed */
	volatile int release;	/* parent: close now */
	volatile int err;
};

struct mapped {
	int fd;
	void *base;
	struct kmq_info info;
	struct kmq_view v;
};

static int map_queue(const char *name, struct mapped *m)
{
	struct kmq_layout l;
	int c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
	long fd;

	if (c < 0)
		return -errno;
	fd = vt_open(c, name, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP);
	close(c);
	if (fd < 0)
		return (int)fd;
	m->fd = (int)fd;
	if (vt_qinfo(m->fd, &m->info))
		return -EPROTO;
	m->base = mmap(NULL, m->info.size, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
	if (m->base == MAP_FAILED)
		return -errno;
	vt_layout(&m->info, &l);
	kmq_view_init(&m->v, m->base, &l);
	return 0;
}

/* Scribble @pat over @name, report, wait for the word, close (repair on
 * garbage), report. */
static pid_t spawn_hostile(const char *name, enum pattern pat, __u64 seed,
			   struct hostile *h)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mapped m;
		int err = map_queue(name, &m);

		if (err) {
			h->err = err;
			_exit(2);
		}
		scribble(&m.v, m.base, m.info.size, m.info.client_id, pat, &seed);
		h->stage = 1;
		while (!h->release)
			vt_sleep_ms(2);
		/* Scribble again right before leaving, so repair sees it. */
		scribble(&m.v, m.base, m.info.size, m.info.client_id, pat, &seed);
		munmap(m.base, m.info.size);
		close(m.fd);
		h->stage = 3;
		_exit(0);
	}
	return pid;
}

static void one_pattern(enum pattern pat, __u64 seed)
{
	char vic[KMQ_NAME_LEN], bys[KMQ_NAME_LEN];
	struct hostile *h = vt_shared(sizeof(*h));
	struct kmq_info before, after;
	struct tally t = { 0 };
	long fd;
	pid_t pid;
	int to, st;

	vt_qname(vic, "victim");
	vt_qname(bys, "bystander");
	victim_fill(vic, 20);
	bystander_fill(bys);
	ck_assert_err(vt_info(ctl, vic, &before), 0);
	fd = ck_assert_ok(vt_open(ctl, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV));

	pid = spawn_hostile(vic, pat, seed, h);
	while (h->stage < 1) {
		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "hostile died early: %d", h->err);
		vt_sleep_ms(2);
	}
	hammer((int)fd, 40, &t);	/* while the hostile still maps it */
	h->release = 1;
	st = vt_wait_timeout(pid, 60, &to);
	ck_assert_msg(!to, "the hostile's close (crash repair on garbage) hung");
	ck_assert_child_ok(st, "hostile");
	hammer((int)fd, 40, &t);	/* after repair ran on garbage */
	ck_assert_err(vt_info(ctl, vic, &after), 0);
	ck_assert_uint_ge(after.corrupt, before.corrupt);
	printf("scribble_test %-9s: sends ok %ld, recvs ok %ld, errors %ld, corrupt %llu, repaired %llu, worst round %.3f s\n",
	       pat_name[pat], t.sends_ok, t.recvs_ok, t.errors,
	       (unsigned long long)after.corrupt, (unsigned long long)after.repaired, t.worst);
	close((int)fd);
	/* The damaged queue can be deleted; the bystander is untouched. */
	ck_assert_err(vt_delete(ctl, vic), 0);
	ck_assert_err(vt_info(ctl, vic, &after), -ENOENT);
	bystander_verify(bys);
	munmap(h, sizeof(*h));
}

START_TEST(scribble_patterns)
{
	__u64 seed = vt_seed();

	printf("scribble_test: pattern %s, seed %#llx\n", pat_name[_i],
	       (unsigned long long)seed);
	one_pattern((enum pattern)_i, seed);
}
END_TEST

/*
 * Scribbling while the kernel works on the queue: one process writes random
 * well-formed and garbage values continuously, another opens, maps and
 * closes over and over (repair racing the scribbler), and this one hammers
 * the copying path.
 */
START_TEST(scribble_concurrently)
{
	char vic[KMQ_NAME_LEN], bys[KMQ_NAME_LEN];
	volatile int *stop = vt_shared(4096);
	struct tally t = { 0 };
	__u64 seed = vt_seed();
	pid_t pids[2];
	long fd;
	int i;

	printf("scribble_test: concurrent, seed %#llx\n", (unsigned long long)seed);
	vt_qname(vic, "victim");
	vt_qname(bys, "bystander");
	victim_fill(vic, 30);
	bystander_fill(bys);
	fd = ck_assert_ok(vt_open(ctl, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			struct mapped m;

			if (i == 0) {
				if (map_queue(vic, &m))
					_exit(2);
				while (!*stop)
					scribble(&m.v, m.base, m.info.size, m.info.client_id,
						 (enum pattern)(vt_rand(&seed) % PAT_COUNT), &seed);
				_exit(0);	/* dies mapped: repair on exit */
			}
			while (!*stop) {
				__u32 idx;

				if (map_queue(vic, &m))
					_exit(2);
				/* Hold something if the garbage lets us. */
				kmq_take(&m.v, &m.v.ready, m.info.client_id,
					 KMQ_SLOT_BORROWED, &idx, NULL);
				kmq_take(&m.v, &m.v.free, m.info.client_id,
					 KMQ_SLOT_CLAIMED, &idx, NULL);
				munmap(m.base, m.info.size);
				close(m.fd);
			}
			_exit(0);
		}
	}
	{
		double end = vt_now() + 3;

		while (vt_now() < end)
			hammer((int)fd, 10, &t);
	}
	*stop = 1;
	for (i = 0; i < 2; i++) {
		int to, st = vt_wait_timeout(pids[i], 60, &to);

		ck_assert_msg(!to, "%s hung", i ? "the open/close loop" : "the scribbler");
		ck_assert_child_ok(st, i ? "open/close loop" : "scribbler");
	}
	hammer((int)fd, 20, &t);
	printf("scribble_test concurrent: sends ok %ld, recvs ok %ld, errors %ld, worst round %.3f s\n",
	       t.sends_ok, t.recvs_ok, t.errors, t.worst);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, vic), 0);
	bystander_verify(bys);
}
END_TEST

/*
 * VMA games on a queue mapping: partial munmap, mremap (move, grow),
 * mprotect(PROT_EXEC), MADV_DONTNEED and MADV_REMOVE, fork with the
 * mapping. None may hurt the kernel; the client lives until the last piece
 * of its mapping goes, and is released exactly once.
 */
START_TEST(vma_games)
{
	char vic[KMQ_NAME_LEN], bys[KMQ_NAME_LEN];
	struct kmq_info info;
	struct tally t = { 0 };
	struct mapped m;
	long pg = sysconf(_SC_PAGESIZE), fd;
	size_t size;
	void *p, *q;
	pid_t pid;

	vt_qname(vic, "victim");
	vt_qname(bys, "bystander");
	victim_fill(vic, 10);
	bystander_fill(bys);
	fd = ck_assert_ok(vt_open(ctl, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(map_queue(vic, &m), 0);
	size = m.info.size;
	ck_assert_uint_ge(size, 3 * (size_t)pg);

	/* Growing, or making it executable, is refused. */
	p = mremap(m.base, size, size + pg, 0);
	ck_assert_msg(p == MAP_FAILED, "mremap grew a queue mapping in place");
	p = mremap(m.base, size, size + pg, MREMAP_MAYMOVE);
	ck_assert_msg(p == MAP_FAILED, "mremap grew a queue mapping by moving it");
	ck_assert_int_ne(mprotect(m.base, size, PROT_READ | PROT_EXEC), 0);
	/* Moving it is fine, and it still shows the queue. */
	q = mmap(NULL, size + 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(q != MAP_FAILED);
	p = mremap(m.base, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, (char *)q + pg);
	ck_assert_msg(p != MAP_FAILED, "mremap move: %s", strerror(errno));
	m.base = p;
	ck_assert_uint_eq(((struct kmq_hdr *)p)->magic, KMQ_MAGIC);
	/* A fork carries the mapping; the child's exit must not release it. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(((struct kmq_hdr *)p)->magic == KMQ_MAGIC ? 0 : 1);
	ck_assert_child_ok(vt_wait(pid), "child with the mapping");
	/* Drop pages and punch the shmem file through the mapping. */
	ck_assert_int_eq(madvise(p, size, MADV_DONTNEED), 0);
	ck_assert_uint_eq(((struct kmq_hdr *)p)->magic, KMQ_MAGIC);
	madvise((char *)p + size - pg, pg, MADV_REMOVE);	/* may fail: fine */
	madvise(p, pg, MADV_REMOVE);
	hammer((int)fd, 10, &t);
	/* Split it: unmap the middle. The client lives while any piece does. */
	ck_assert_int_eq(munmap((char *)p + pg, pg), 0);
	close(m.fd);
	ck_assert_err(vt_info(ctl, vic, &info), 0);
	ck_assert_uint_eq(info.clients, 2);	/* fd above + the mapped pieces */
	ck_assert_int_eq(munmap(p, pg), 0);
	ck_assert_err(vt_info(ctl, vic, &info), 0);
	ck_assert_uint_eq(info.clients, 2);
	ck_assert_int_eq(munmap((char *)p + 2 * pg, size - 2 * pg), 0);
	ck_assert_err(vt_info(ctl, vic, &info), 0);
	ck_assert_uint_eq(info.clients, 1);	/* released once, now */
	munmap(q, size + 2 * pg);
	hammer((int)fd, 10, &t);
	close((int)fd);
	ck_assert_err(vt_info(ctl, vic, &info), 0);
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_err(vt_delete(ctl, vic), 0);
	bystander_verify(bys);
}
END_TEST

/*
 * Buffers inside the queue's own mapping: SEND from a slot the kernel may
 * claim, RECV into the slot being received, the kmq_io itself in the
 * header's reserved area. Legal for the caller; the kernel must not
 * deadlock or crash, and answers success or a clean errno.
 */
START_TEST(self_referential_buffers)
{
	char vic[KMQ_NAME_LEN], bys[KMQ_NAME_LEN];
	struct mapped m;
	struct kmq_io *io;
	struct kmq_iomsg *msgs;
	unsigned char *slot0;
	long fd, r;
	int i;

	vt_qname(vic, "victim");
	vt_qname(bys, "bystander");
	victim_fill(vic, 5);
	bystander_fill(bys);
	fd = ck_assert_ok(vt_open(ctl, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(map_queue(vic, &m), 0);
	/* The argument structs in the header's reserved tail. */
	io = (struct kmq_io *)((char *)m.base + KMQ_HDR_SIZE - 1024);
	msgs = (struct kmq_iomsg *)((char *)m.base + KMQ_HDR_SIZE - 512);
	for (i = 0; i < 200; i++) {
		unsigned int slot = (unsigned int)i % VCAP;

		slot0 = (unsigned char *)kmq_slot_data(kmq_slot_at(&m.v, slot));
		memset(io, 0, sizeof(*io));
		memset(msgs, 0, sizeof(*msgs));
		msgs->buf = (__u64)(uintptr_t)slot0;
		msgs->len = i & 1 ? VMSZ : 16;
		io->msgs = (__u64)(uintptr_t)msgs;
		io->count = 1;
		io->flags = KMQ_IO_NONBLOCK;
		r = vt_ioctl((int)fd, i & 2 ? KMQ_IOC_RECV : KMQ_IOC_SEND, io);
		ck_assert_msg(clean_errno(r), "%s with self-referential buffers: %ld",
			      i & 2 ? "RECV" : "SEND", r);
		/* INFO written into the mapping itself. */
		ck_assert_err(vt_ioctl((int)fd, KMQ_IOC_INFO,
				       (char *)m.base + m.info.slots_off), 0);
	}
	munmap(m.base, m.info.size);
	close(m.fd);
	close((int)fd);
	ck_assert_err(vt_delete(ctl, vic), 0);
	bystander_verify(bys);
}
END_TEST

/* ---- userfaultfd: a copy from or to user memory stalled at will --------- */

struct stall {
	int kind;		/* 0 SEND body, 1 RECV buffer, 2 LIST infos, 3 CREATE arg */
	int fd;
	void *region;
	long result;
	char name[KMQ_NAME_LEN];
};

static void *stall_thread(void *arg)
{
	struct stall *st = arg;

	switch (st->kind) {
	case 0:
		st->result = vt_send(st->fd, st->region, 64, 0, -1, NULL);
		break;
	case 1:
		st->result = vt_recv(st->fd, st->region, VMSZ, 0, -1, NULL);
		break;
	case 2: {
		struct kmq_list l;

		memset(&l, 0, sizeof(l));
		l.infos = (__u64)(uintptr_t)st->region;
		l.count = 4;
		st->result = vt_ioctl(st->fd, KMQ_IOC_LIST, &l);
		break;
	}
	default:
		st->result = vt_ioctl(st->fd, KMQ_IOC_CREATE, st->region);
		break;
	}
	return NULL;
}

/* While one thread's ioctl is stuck in a user copy, everything else on the
 * module keeps working: no lock is held across copies to or from users. */
START_TEST(uffd_stalled_copies)
{
	char vic[KMQ_NAME_LEN], other[KMQ_NAME_LEN];
	long pg = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct uffdio_copy cp;
	struct uffd_msg msg;
	struct pollfd pfd;
	struct stall st;
	pthread_t th;
	unsigned char *src;
	long fd;
	int uffd, to, status;
	pid_t pid;

	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0) {
		printf("scribble_test: userfaultfd unavailable (%s): uffd test not run\n",
		       strerror(errno));
		ck_assert_msg(!vt_in_vm(), "userfaultfd is expected in the VM (root, 6.1)");
		return;
	}
	ck_assert_int_eq(ioctl(uffd, UFFDIO_API, &api), 0);
	vt_qname(vic, "victim");
	vt_qname(other, "other");
	victim_fill(vic, 3);
	fd = ck_assert_ok(vt_open(ctl, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	src = aligned_alloc((size_t)pg, (size_t)pg);
	ck_assert_ptr_nonnull(src);

	memset(&st, 0, sizeof(st));
	st.kind = _i;
	st.fd = st.kind >= 2 ? ctl : (int)fd;
	st.region = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(st.region != MAP_FAILED);
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (__u64)(uintptr_t)st.region;
	reg.range.len = (__u64)pg;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ck_assert_int_eq(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	ck_assert_int_eq(pthread_create(&th, NULL, stall_thread, &st), 0);

	/* Wait for the kernel to fault on the region. */
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ck_assert_msg(poll(&pfd, 1, 20000) == 1, "the ioctl never touched the user region");
	ck_assert_int_eq(read(uffd, &msg, sizeof(msg)), sizeof(msg));
	ck_assert_int_eq(msg.event, UFFD_EVENT_PAGEFAULT);

	/* Meanwhile, in another process: the same queue, other queues, the
	 * registry, crash repair. Each must finish. */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char buf[VMSZ];
		struct kmq_info info;
		struct kmq_list l;
		struct kmq_info infos[4];
		int c = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC), k;
		long q;

		if (c < 0)
			_exit(2);
		for (k = 0; k < 5; k++) {
			if (vt_info(c, vic, &info))
				_exit(3);
			q = vt_open(c, vic, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP);
			if (q < 0)
				_exit(4);
			if (!clean_errno(vt_send((int)q, "side", 4, KMQ_IO_NONBLOCK, 0, NULL)) ||
			    !clean_errno(vt_recv((int)q, buf, VMSZ, KMQ_IO_NONBLOCK, 0, NULL)))
				_exit(5);
			close((int)q);	/* repair takes the queue's repair lock */
			if (vt_create(c, other, 4, 64, 0600, 0, 0))
				_exit(6);
			memset(&l, 0, sizeof(l));
			l.infos = (__u64)(uintptr_t)infos;
			l.count = 4;
			if (vt_ioctl(c, KMQ_IOC_LIST, &l))
				_exit(7);
			if (vt_delete(c, other))
				_exit(8);
		}
		_exit(0);
	}
	status = vt_wait_timeout(pid, 30, &to);

	/* Let the stalled copy go on. */
	memset(src, 0, (size_t)pg);
	memset(src, 'u', 64);
	if (st.kind == 3) {
		struct kmq_create *c = (struct kmq_create *)src;

		vt_create_args(c, other, 4, 64, 0600);
	}
	memset(&cp, 0, sizeof(cp));
	cp.dst = (__u64)(uintptr_t)st.region;
	cp.src = (__u64)(uintptr_t)src;
	cp.len = (__u64)pg;
	ck_assert_int_eq(ioctl(uffd, UFFDIO_COPY, &cp), 0);
	pthread_join(th, NULL);
	ck_assert_msg(!to, "kind %d: other users of the module were blocked by an ioctl stalled in a user copy",
		      st.kind);
	ck_assert_child_ok(status, "side user");
	ck_assert_msg(st.result == 0, "kind %d: the stalled ioctl returned %ld", st.kind, st.result);
	if (st.kind == 1)
		ck_assert_int_eq(memcmp(st.region, "victim ", 7), 0);
	close(uffd);
	close((int)fd);
	free(src);
	ck_assert_err(vt_delete(ctl, vic), 0);
	vt_delete(ctl, other);
}
END_TEST

static Suite *scribble_suite(void)
{
	Suite *s = suite_create("scribble");
	TCase *tc = tcase_create("scribble");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, scribble_patterns, 0, PAT_COUNT);
	tcase_add_test(tc, scribble_concurrently);
	tcase_add_test(tc, vma_games);
	tcase_add_test(tc, self_referential_buffers);
	tcase_add_loop_test(tc, uffd_stalled_copies, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "scribble_test";
	setvbuf(stdout, NULL, _IOLBF, 0);
	return vt_run(scribble_suite());
}
