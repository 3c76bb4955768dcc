/* crash_test: kill -9 of producers and consumers at any instant (and close with a borrow) leaves a usable queue: crash repair gives every held slot back and no acknowledged message is lost. */
#include "vmtest.h"

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

/* ---- a raw client: its own queue fd, mapped, driven with ring.h --------- */

struct rawc {
	int fd;
	void *base;
	struct kmq_info info;
	struct kmq_view v;
	__u32 me;
	__u64 corrupt;
};

/* No Check assertions: also used in children. Returns 0 or -errno. */
static int raw_open(struct rawc *c, const char *name)
{
	struct kmq_layout l;
	int cfd = open(KMQ_DEVICE, O_RDWR | O_CLOEXEC);
	long fd;

	memset(c, 0, sizeof(*c));
	if (cfd < 0)
		return -errno;
	fd = vt_open(cfd, name, KMQ_OPEN_SEND | KMQ_OPEN_RECV | KMQ_OPEN_MAP);
	close(cfd);
	if (fd < 0)
		return (int)fd;
	c->fd = (int)fd;
	if (vt_qinfo(c->fd, &c->info))
		return -EPROTO;
	c->base = mmap(NULL, c->info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       c->fd, 0);
	if (c->base == MAP_FAILED)
		return -errno;
	vt_layout(&c->info, &l);
	kmq_view_init(&c->v, c->base, &l);
	c->me = c->info.client_id;
	return 0;
}

static void raw_close(struct rawc *c)
{
	if (c->base && c->base != MAP_FAILED)
		munmap(c->base, c->info.size);
	if (c->fd > 0)
		close(c->fd);
	c->base = NULL;
	c->fd = -1;
}

/* Write a message into held slot @idx the way a producer does. */
static void raw_fill(struct rawc *c, __u32 idx, const char *text)
{
	struct kmq_slot *s = kmq_slot_at(&c->v, idx);
	__u32 len = (__u32)strlen(text);

	memcpy(kmq_slot_data(s), text, len);
	s->len = len;
	s->attr_len = 0;
	s->id = ((__u64)c->me << 40) | idx;
	s->sent_ns = vt_realtime_ns();
	s->sender_pid = (__u32)getpid();
	s->sender_uid = (__u32)geteuid();
}

/* Crash points a child can stop at before it dies. */
enum crash_at {
	AT_FREE_TAKEN,		/* popped the free ring, cell still TAKEN */
	AT_CLAIMED,		/* claimed a slot, half written */
	AT_READY_UNPUSHED,	/* written, state READY, not pushed */
	AT_READY_TAKEN,		/* popped the ready ring, cell still TAKEN */
	AT_BORROWED,		/* borrowed a message, not released */
};

struct sync {
	volatile int stage;	/* child: 1 when at its crash point */
	volatile int go;	/* parent: 1 to let the child continue */
	volatile __u64 val[64];
};

/* Send @n messages "m<i>" through the copying path on a fresh fd. */
static void send_n(const char *name, int n, const char *prefix)
{
	long fd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_SEND));
	char buf[64];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s%d", prefix, i);
		ck_assert_err(vt_send((int)fd, buf, (__u32)strlen(buf), KMQ_IO_NONBLOCK, 0, NULL), 0);
	}
	close((int)fd);
}

struct seen {
	char texts[256][64];
	int n;
};

static void note(const void *buf, __u32 len, __u64 id, void *arg)
{
	struct seen *s = arg;

	if (s->n < 256) {
		memcpy(s->texts[s->n], buf, len < 63 ? len : 63);
		s->texts[s->n][len < 63 ? len : 63] = 0;
		s->n++;
	}
}

static int seen_has(struct seen *s, const char *text)
{
	int i, k = 0;

	for (i = 0; i < s->n; i++)
		k += !strcmp(s->texts[i], text);
	return k;
}

/* Wait until INFO says no client holds a slot (repair has run). */
static void wait_repaired(const char *name, struct kmq_info *info)
{
	double end = vt_now() + 20;

	for (;;) {
		ck_assert_err(vt_info(ctl, name, info), 0);
		if (info->held == 0 && info->clients == 0)
			return;
		ck_assert_msg(vt_now() < end,
			      "after its clients died, %s still shows held %llu, clients %u",
			      name, (unsigned long long)info->held, info->clients);
		vt_sleep_ms(20);
	}
}

/* Map the queue (as a new client) and check that every slot is in exactly
 * one ring; returns the counts. */
static void assert_conserved(const char *name, __u64 *nfree, __u64 *nready)
{
	struct rawc c;
	const char *why;

	ck_assert_err(raw_open(&c, name), 0);
	why = vt_check_conservation(&c.v, nfree, nready);
	raw_close(&c);
	ck_assert_msg(!why, "%s: slots not conserved: %s", name, why);
}

/* The child of a deterministic crash: reach @at, then die with SIGKILL. */
static void crash_child(const char *name, enum crash_at at, int count)
{
	struct rawc c;
	int i, err;

	if (raw_open(&c, name))
		_exit(2);
	for (i = 0; i < count; i++) {
		__u32 idx;
		__u64 pos;

		switch (at) {
		case AT_FREE_TAKEN:
			err = kmq_ring_pop(&c.v.free, c.me, &idx, &pos, NULL);
			break;
		case AT_CLAIMED:
			err = kmq_take(&c.v, &c.v.free, c.me, KMQ_SLOT_CLAIMED, &idx, NULL);
			if (!err)
				memcpy(kmq_slot_data(kmq_slot_at(&c.v, idx)), "half", 4);
			break;
		case AT_READY_UNPUSHED:
			err = kmq_take(&c.v, &c.v.free, c.me, KMQ_SLOT_CLAIMED, &idx, NULL);
			if (!err) {
				char text[32];

				snprintf(text, sizeof(text), "unpushed%d", i);
				raw_fill(&c, idx, text);
				kmq_store_rel(&kmq_slot_at(&c.v, idx)->state, KMQ_SLOT_READY);
			}
			break;
		case AT_READY_TAKEN:
			err = kmq_ring_pop(&c.v.ready, c.me, &idx, &pos, NULL);
			break;
		case AT_BORROWED:
		default:
			err = kmq_take(&c.v, &c.v.ready, c.me, KMQ_SLOT_BORROWED, &idx, NULL);
			break;
		}
		if (err)
			_exit(3);
	}
	kill(getpid(), SIGKILL);
	_exit(4);
}

static void run_crash(const char *name, enum crash_at at, int count)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		crash_child(name, at, count);
	st = vt_wait(pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
		      "crash child did not reach its crash point (status %#x)", st);
}

/* A producer died with the free ring's cell TAKEN: the slot goes back. */
START_TEST(repair_free_taken)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	__u64 nfree, nready;
	long fd;
	int i;

	vt_qname(nm, "freetaken");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	run_crash(nm, AT_FREE_TAKEN, 1);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_ge(info.repaired, 1);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nfree, 4);
	/* All four slots can be used again. */
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (i = 0; i < 4; i++)
		ck_assert_err(vt_send((int)fd, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	close((int)fd);
}
END_TEST

/* A producer died halfway through writing a claimed slot: it is freed,
 * not delivered. */
START_TEST(repair_claimed)
{
	char nm[KMQ_NAME_LEN];
	struct kmq_info info;
	__u64 nfree, nready;
	long fd;
	int i;

	vt_qname(nm, "claimed");
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	send_n(nm, 2, "pre");
	run_crash(nm, AT_CLAIMED, 3);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 2);
	ck_assert_uint_ge(info.repaired, 3);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nfree, 6);
	ck_assert_uint_eq(nready, 2);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (i = 0; i < 6; i++)
		ck_assert_err(vt_send((int)fd, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_err(vt_send((int)fd, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), -EAGAIN);
	close((int)fd);
}
END_TEST

/* A producer died after writing (state READY) but before its push: the
 * message is delivered. */
START_TEST(repair_ready_unpushed)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct seen *s = calloc(1, sizeof(*s));
	__u64 nfree, nready;
	long fd;

	vt_qname(nm, "unpushed");
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	run_crash(nm, AT_READY_UNPUSHED, 2);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 2);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nready, 2);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), note, s), 2);
	ck_assert_int_eq(seen_has(s, "unpushed0"), 1);
	ck_assert_int_eq(seen_has(s, "unpushed1"), 1);
	close((int)fd);
	free(s);
}
END_TEST

/* A consumer died with the ready ring's cell TAKEN: redelivered. */
START_TEST(repair_ready_taken)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct seen *s = calloc(1, sizeof(*s));
	__u64 nfree, nready;
	long fd;

	vt_qname(nm, "readytaken");
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	send_n(nm, 3, "m");
	run_crash(nm, AT_READY_TAKEN, 1);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 3);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nready, 3);
	ck_assert_uint_eq(nfree, 5);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), note, s), 3);
	ck_assert_int_eq(seen_has(s, "m0"), 1);
	ck_assert_int_eq(seen_has(s, "m1"), 1);
	ck_assert_int_eq(seen_has(s, "m2"), 1);
	close((int)fd);
	free(s);
}
END_TEST

/* A consumer died holding borrows: each is redelivered once. */
START_TEST(repair_borrowed)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct seen *s = calloc(1, sizeof(*s));
	__u64 nfree, nready;
	long fd;
	int i;

	vt_qname(nm, "borrowed");
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	send_n(nm, 5, "b");
	run_crash(nm, AT_BORROWED, 3);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 5);
	ck_assert_uint_ge(info.repaired, 3);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nready, 5);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), note, s), 5);
	for (i = 0; i < 5; i++) {
		char t[8];

		snprintf(t, sizeof(t), "b%d", i);
		ck_assert_msg(seen_has(s, t) == 1, "%s received %d times", t, seen_has(s, t));
	}
	close((int)fd);
	free(s);
}
END_TEST

/* Repair gives back only the dead client's slots, not a live one's. */
START_TEST(repair_only_the_dead)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct seen *s = calloc(1, sizeof(*s));
	struct rawc live;
	__u32 idx;
	long fd;

	vt_qname(nm, "onlydead");
	ck_assert_err(vt_create(ctl, nm, 8, 32, 0600, 0, 0), 0);
	send_n(nm, 2, "k");
	ck_assert_err(raw_open(&live, nm), 0);
	ck_assert_err(kmq_take(&live.v, &live.v.ready, live.me, KMQ_SLOT_BORROWED, &idx, NULL), 0);
	run_crash(nm, AT_BORROWED, 1);
	/* The dead one's borrow is back, the live one's is still held. */
	{
		double end = vt_now() + 20;

		for (;;) {
			ck_assert_err(vt_info(ctl, nm, &info), 0);
			if (info.clients == 1 && info.ready == 1)
				break;
			ck_assert_msg(vt_now() < end, "repair did not run: ready %llu clients %u",
				      (unsigned long long)info.ready, info.clients);
			vt_sleep_ms(20);
		}
	}
	ck_assert_uint_eq(info.held, 1);
	ck_assert_uint_eq(kmq_load(&kmq_slot_at(&live.v, idx)->owner), live.me);
	ck_assert_uint_eq(kmq_load(&kmq_slot_at(&live.v, idx)->state), KMQ_SLOT_BORROWED);
	/* The live client releases its borrow normally. */
	ck_assert_err(kmq_put(&live.v, &live.v.free, idx, KMQ_SLOT_FREE, NULL), 0);
	raw_close(&live);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 1);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), note, s), 1);
	close((int)fd);
	assert_conserved(nm, NULL, NULL);
	free(s);
}
END_TEST

/* Closing the fd and unmapping with a borrow outstanding redelivers it
 * (no death involved): raw client, then libkmq's kmq_close. */
START_TEST(close_with_borrow_redelivers)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct rawc c;
	struct kmq *q;
	struct kmq_msg m;
	__u32 idx;
	long fd;
	int r;

	vt_qname(nm, "closeborrow");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	send_n(nm, 1, "held");
	ck_assert_err(raw_open(&c, nm), 0);
	ck_assert_err(kmq_take(&c.v, &c.v.ready, c.me, KMQ_SLOT_BORROWED, &idx, NULL), 0);
	/* Closing the fd alone is not the last reference: the mapping is. */
	close(c.fd);
	c.fd = -1;
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.ready, 0);
	raw_close(&c);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 1);

	/* libkmq: borrow, close, and another handle gets the message. */
	ck_assert_err(kmq_open(nm, KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_mapped(q), 1);
	ck_assert_err(kmq_borrow(q, &m, 0), 0);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_int_eq(memcmp(m.data, "held0", 5), 0);
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.held, 1);
	kmq_close(q);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 1);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	r = (int)vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, NULL);
	ck_assert_err(r, 0);
	ck_assert_int_eq(memcmp(buf, "held0", 5), 0);
	close((int)fd);
	assert_conserved(nm, NULL, NULL);
}
END_TEST

/* A libkmq consumer SIGKILLed while holding a borrow: its message comes
 * back to the next consumer, with the same id. */
START_TEST(killed_borrower_redelivered)
{
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct sync *sy = vt_shared(sizeof(struct sync));
	struct kmq_iomsg m;
	long fd;
	pid_t pid;

	vt_qname(nm, "killborrow");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	send_n(nm, 1, "lent");
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct kmq *q;
		struct kmq_msg msg;

		if (kmq_open(nm, KMQ_RECV, &q) || !kmq_mapped(q))
			_exit(2);
		if (kmq_borrow(q, &msg, KMQ_FOREVER))
			_exit(3);
		sy->val[0] = msg.id;
		sy->stage = 1;
		for (;;)
			pause();
	}
	while (!sy->stage) {
		int st;

		ck_assert_msg(waitpid(pid, &st, WNOHANG) == 0, "borrower exited early (%#x)", st);
		vt_sleep_ms(5);
	}
	ck_assert_err(vt_info(ctl, nm, &info), 0);
	ck_assert_uint_eq(info.held, 1);
	ck_assert_uint_eq(info.ready, 0);
	kill(pid, SIGKILL);
	vt_wait(pid);
	wait_repaired(nm, &info);
	ck_assert_uint_eq(info.ready, 1);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_RECV));
	ck_assert_err(vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m), 0);
	ck_assert_int_eq(memcmp(buf, "lent0", 5), 0);
	ck_assert_uint_eq(m.id, sy->val[0]);
	close((int)fd);
}
END_TEST

/* A full queue whose consumer died holding borrows does not stall: the
 * messages come back, and after they are read every slot takes a send. */
START_TEST(full_queue_dead_borrower_no_stall)
{
	enum { CAP = 8 };
	char nm[KMQ_NAME_LEN], buf[64];
	struct kmq_info info;
	struct seen *s = calloc(1, sizeof(*s));
	struct kmq *q;
	long fd;
	int i, k;

	vt_qname(nm, "fullstall");
	ck_assert_err(vt_create(ctl, nm, CAP, 32, 0600, 0, 0), 0);
	for (k = 1; k <= CAP; k += CAP - 1) {	/* one borrow, then all */
		memset(s, 0, sizeof(*s));
		send_n(nm, CAP, "f");
		fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
		ck_assert_err(vt_send((int)fd, "x", 1, KMQ_IO_NONBLOCK, 0, NULL), -EAGAIN);
		run_crash(nm, AT_BORROWED, k);
		/* fd is still open: count only held */
		{
			double end = vt_now() + 20;

			for (;;) {
				ck_assert_err(vt_info(ctl, nm, &info), 0);
				if (!info.held)
					break;
				ck_assert_msg(vt_now() < end, "held %llu after the borrower died",
					      (unsigned long long)info.held);
				vt_sleep_ms(20);
			}
		}
		ck_assert_uint_eq(info.ready, CAP);
		ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), note, s), CAP);
		for (i = 0; i < CAP; i++) {
			char t[8];

			snprintf(t, sizeof(t), "f%d", i);
			ck_assert_msg(seen_has(s, t) == 1, "round %d: %s received %d times",
				      k, t, seen_has(s, t));
		}
		/* Every slot is free again: CAP sends fit, through both paths. */
		for (i = 0; i < CAP / 2; i++)
			ck_assert_err(vt_send((int)fd, "y", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
		ck_assert_err(kmq_open(nm, KMQ_SEND, &q), 0);
		ck_assert_int_eq(kmq_mapped(q), 1);
		for (i = 0; i < CAP / 2; i++)
			ck_assert_err(kmq_send(q, "z", 1, 0), 0);
		ck_assert_err(kmq_send(q, "z", 1, 0), -EAGAIN);
		kmq_close(q);
		ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), NULL, NULL), CAP);
		close((int)fd);
		wait_repaired(nm, &info);
		assert_conserved(nm, NULL, NULL);
	}
	free(s);
}
END_TEST

/* A sleeper is woken by crash repair: a blocked SEND when a dead
 * producer's claimed slot comes back to the free ring, a blocked RECV when
 * a dead producer's written-but-unpushed message is delivered. */
START_TEST(repair_wakes_sleepers)
{
	char nm[KMQ_NAME_LEN], buf[32];
	struct sync *sy = vt_shared(sizeof(struct sync));
	struct kmq_iomsg m;
	double t0;
	long fd;
	int k;

	vt_qname(nm, "repairwake");
	ck_assert_err(vt_create(ctl, nm, 2, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	for (k = 0; k < 2; k++) {
		pid_t pid;
		long r;

		sy->stage = 0;
		sy->go = 0;
		if (k == 0)	/* one slot ready, so the claimed one makes it full */
			ck_assert_err(vt_send((int)fd, "x", 1, 0, -1, NULL), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			struct rawc c;
			__u32 idx;

			if (raw_open(&c, nm) ||
			    kmq_take(&c.v, &c.v.free, c.me, KMQ_SLOT_CLAIMED, &idx, NULL))
				_exit(2);
			if (k == 1) {
				raw_fill(&c, idx, "woken");
				kmq_store_rel(&kmq_slot_at(&c.v, idx)->state, KMQ_SLOT_READY);
			}
			sy->stage = 1;
			while (!sy->go)
				vt_sleep_ms(5);
			vt_sleep_ms(500);	/* the parent is asleep by now */
			kill(getpid(), SIGKILL);
			_exit(3);
		}
		while (!sy->stage)
			vt_sleep_ms(5);
		sy->go = 1;
		t0 = vt_now();
		if (k == 0)
			r = vt_send((int)fd, "y", 1, 0, 60000000000LL, NULL);
		else
			r = vt_recv((int)fd, buf, sizeof(buf), 0, 60000000000LL, &m);
		vt_wait(pid);
		ck_assert_msg(r == 0, "%s blocked behind a dead client: %ld after %.1f s",
			      k ? "RECV" : "SEND", r, vt_now() - t0);
		ck_assert_msg(vt_now() - t0 < 50, "%s was woken only at its timeout",
			      k ? "RECV" : "SEND");
		if (k == 1)
			ck_assert_int_eq(memcmp(buf, "woken", 5), 0);
		if (k == 0)
			ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), NULL, NULL), 2);
	}
	close((int)fd);
	assert_conserved(nm, NULL, NULL);
}
END_TEST

/*
 * A popper stalled between its pop and its cell release (stopped,
 * preempted, traced) blocks pushes onto that cell one lap later. Callers
 * must still get what the API promises: a nonblocking SEND -EAGAIN, a timed
 * one -ETIMEDOUT, a blocking one success once the popper moves on; never a
 * lost message or an undocumented error.
 */
START_TEST(stalled_popper)
{
	char nm[KMQ_NAME_LEN], buf[32];
	struct sync *sy = vt_shared(sizeof(struct sync));
	struct kmq_info info;
	double t0;
	long fd, r;
	pid_t pid;
	int i;

	vt_qname(nm, "stalled");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	ck_assert_err(vt_send((int)fd, "m0", 2, 0, -1, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rawc c;
		__u32 idx;
		__u64 pos;

		if (raw_open(&c, nm) || kmq_ring_pop(&c.v.ready, c.me, &idx, &pos, NULL))
			_exit(2);
		sy->stage = 1;		/* popped position 0, cell still TAKEN */
		while (!sy->go)
			vt_sleep_ms(5);
		/* Move on: record the borrow, release the cell, consume it. */
		kmq_store(&kmq_slot_at(&c.v, idx)->owner, c.me);
		kmq_store(&kmq_slot_at(&c.v, idx)->state, KMQ_SLOT_BORROWED);
		kmq_ring_release(&c.v.ready, pos);
		if (kmq_put(&c.v, &c.v.free, idx, KMQ_SLOT_FREE, NULL))
			_exit(3);
		if (kmq_need_wake(&c.v.hdr->wr_wait))
			vt_ioctl_ul(c.fd, KMQ_IOC_WAKE, KMQ_WAKE_WRITERS);
		raw_close(&c);
		_exit(0);
	}
	while (!sy->stage)
		vt_sleep_ms(5);
	/* Positions 1..3 go through, then the tail comes round to the
	 * stalled cell at position 4 = 0 + capacity. */
	for (i = 1; i <= 3; i++)
		ck_assert_err(vt_send((int)fd, "m", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), NULL, NULL), 3);

	r = vt_send((int)fd, "nb", 2, KMQ_IO_NONBLOCK, 0, NULL);
	ck_assert_msg(r == -EAGAIN, "nonblocking SEND behind a stalled popper: %ld (%s), want -EAGAIN",
		      r, strerror((int)-r));
	t0 = vt_now();
	r = vt_send((int)fd, "timed", 5, 0, 300000000LL, NULL);
	ck_assert_msg(r == -ETIMEDOUT, "SEND with a 0.3 s limit behind a stalled popper: %ld (%s) after %.2f s, want -ETIMEDOUT",
		      r, strerror((int)-r), vt_now() - t0);
	ck_assert_err(vt_qinfo((int)fd, &info), 0);
	ck_assert_uint_eq(info.ready, 0);

	/* A blocking SEND with no limit succeeds once the popper moves on. */
	{
		pid_t waker = fork();

		ck_assert_int_ge(waker, 0);
		if (waker == 0) {
			vt_sleep_ms(1000);
			sy->go = 1;
			_exit(0);
		}
		t0 = vt_now();
		r = vt_send((int)fd, "blocking", 8, 0, -1, NULL);
		ck_assert_child_ok(vt_wait(waker), "waker");
		sy->go = 1;
		ck_assert_msg(r == 0, "blocking SEND behind a popper stalled for 1 s: %ld (%s) after %.2f s",
			      r, strerror((int)-r), vt_now() - t0);
	}
	ck_assert_child_ok(vt_wait(pid), "stalled popper");
	/* Nothing lost: "blocking" is there; nothing else is. */
	{
		struct seen *s = calloc(1, sizeof(*s));

		vt_drain((int)fd, buf, sizeof(buf), note, s);
		ck_assert_int_eq(seen_has(s, "blocking"), 1);
		ck_assert_int_eq(seen_has(s, "nb"), 0);
		free(s);
	}
	close((int)fd);
	wait_repaired(nm, &info);
	assert_conserved(nm, NULL, NULL);
}
END_TEST

/* A popper that stalls the ready ring at position 0 of a capacity-4 queue,
 * with the tail brought round to position 4; returns its pid. It moves on
 * (completes its borrow and frees the slot) when sy->go is set. */
static pid_t stall_ready_ring(const char *nm, long fd, struct sync *sy)
{
	char buf[32];
	pid_t pid;
	int i;

	sy->stage = 0;
	sy->go = 0;
	ck_assert_err(vt_send((int)fd, "m0", 2, 0, -1, NULL), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rawc c;
		__u32 idx;
		__u64 pos;

		if (raw_open(&c, nm) || kmq_ring_pop(&c.v.ready, c.me, &idx, &pos, NULL))
			_exit(2);
		sy->stage = 1;
		while (!sy->go)
			vt_sleep_ms(5);
		kmq_store(&kmq_slot_at(&c.v, idx)->owner, c.me);
		kmq_store(&kmq_slot_at(&c.v, idx)->state, KMQ_SLOT_BORROWED);
		kmq_ring_release(&c.v.ready, pos);
		if (kmq_put(&c.v, &c.v.free, idx, KMQ_SLOT_FREE, NULL))
			_exit(3);
		if (kmq_need_wake(&c.v.hdr->wr_wait))
			vt_ioctl_ul(c.fd, KMQ_IOC_WAKE, KMQ_WAKE_WRITERS);
		raw_close(&c);
		_exit(0);
	}
	while (!sy->stage)
		vt_sleep_ms(5);
	for (i = 1; i <= 3; i++)
		ck_assert_err(vt_send((int)fd, "m", 1, KMQ_IO_NONBLOCK, 0, NULL), 0);
	ck_assert_int_eq(vt_drain((int)fd, buf, sizeof(buf), NULL, NULL), 3);
	return pid;
}

/* libkmq's mapped send honours its timeout behind a stalled popper:
 * kmq_send(timeout 0) "never sleeps (-EAGAIN)", so it must come back. */
START_TEST(stalled_popper_libkmq_timeout)
{
	char nm[KMQ_NAME_LEN];
	struct sync *sy = vt_shared(sizeof(struct sync));
	long fd;
	pid_t pid, lib;
	int st, to;

	vt_qname(nm, "stalledlib");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	pid = stall_ready_ring(nm, fd, sy);
	lib = fork();
	ck_assert_int_ge(lib, 0);
	if (lib == 0) {
		struct kmq *q;
		int r;

		if (kmq_open(nm, KMQ_SEND, &q) || !kmq_mapped(q))
			_exit(2);
		r = kmq_send(q, "lib", 3, 0);
		_exit(r == -EAGAIN ? 0 : r == 0 ? 10 : 11);
	}
	st = vt_wait_timeout(lib, 10, &to);
	sy->go = 1;
	vt_wait(pid);
	close((int)fd);
	ck_assert_msg(!to, "libkmq kmq_send(timeout 0) behind a stalled popper did not return in 10 s");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "libkmq kmq_send(timeout 0) behind a stalled popper: exit %d (10: sent, 11: other error)",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

/* Crash repair behind a stalled popper: a producer dies with a written,
 * unpushed message while the ready ring's tail cell is held by a live
 * popper. Repair cannot push it then; once the popper moves on, the
 * message must still be delivered and the slot must not be lost. */
START_TEST(repair_behind_stalled_popper)
{
	char nm[KMQ_NAME_LEN], buf[32];
	struct sync *sy = vt_shared(sizeof(struct sync));
	struct seen *s = calloc(1, sizeof(*s));
	struct kmq_info info;
	__u64 nfree, nready;
	double end;
	long fd;
	pid_t pid;

	vt_qname(nm, "stalledrepair");
	ck_assert_err(vt_create(ctl, nm, 4, 32, 0600, 0, 0), 0);
	fd = ck_assert_ok(vt_open(ctl, nm, KMQ_OPEN_SEND | KMQ_OPEN_RECV));
	pid = stall_ready_ring(nm, fd, sy);
	run_crash(nm, AT_READY_UNPUSHED, 1);	/* "unpushed0", dies */
	vt_sleep_ms(200);
	sy->go = 1;				/* the popper moves on */
	ck_assert_child_ok(vt_wait(pid), "stalled popper");
	/* Within a while, the dead producer's message shows up. */
	end = vt_now() + 20;
	while (vt_now() < end) {
		vt_drain((int)fd, buf, sizeof(buf), note, s);
		if (seen_has(s, "unpushed0"))
			break;
		vt_sleep_ms(100);
	}
	ck_assert_msg(seen_has(s, "unpushed0") == 1,
		      "a dead producer's written message was lost because repair met a stalled popper");
	close((int)fd);
	wait_repaired(nm, &info);
	assert_conserved(nm, &nfree, &nready);
	ck_assert_uint_eq(nfree, 4);
	free(s);
}
END_TEST

/* ---- randomised kill rounds with libkmq ---------------------------------- */

#define SEQ_MAX		(1U << 19)	/* messages one producer incarnation may send */
#define MAX_ROUNDS	128

struct msgrec {
	__u32 stream;		/* producer incarnation */
	__u32 seq;
};

struct board {
	volatile int stop;
	volatile int consumers_ready;
	volatile __u32 acked[MAX_ROUNDS];	/* sends that returned 0, per stream */
	volatile __u64 received;
	volatile __u64 bad;			/* malformed messages */
	__u64 bits[];				/* MAX_ROUNDS * SEQ_MAX bits */
};

static size_t board_size(void)
{
	return sizeof(struct board) + (size_t)MAX_ROUNDS * SEQ_MAX / 8;
}

static void mark(struct board *b, const void *data, __u32 len)
{
	struct msgrec r;
	__u64 bit;

	if (len != sizeof(r)) {
		__atomic_add_fetch(&b->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	memcpy(&r, data, sizeof(r));
	if (r.stream >= MAX_ROUNDS || r.seq >= SEQ_MAX) {
		__atomic_add_fetch(&b->bad, 1, __ATOMIC_RELAXED);
		return;
	}
	bit = (__u64)r.stream * SEQ_MAX + r.seq;
	__atomic_fetch_or(&b->bits[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->received, 1, __ATOMIC_RELAXED);
}

static int marked(struct board *b, __u32 stream, __u32 seq)
{
	__u64 bit = (__u64)stream * SEQ_MAX + seq;

	return !!(b->bits[bit / 64] & (1ULL << (bit % 64)));
}

/* A producer incarnation: sends (stream, seq) until killed, recording each
 * acknowledged send. */
static void producer(const char *name, struct board *b, __u32 stream, int copy)
{
	struct kmq *q;
	struct msgrec r = { stream, 0 };

	if (kmq_open(name, KMQ_SEND | (copy ? KMQ_COPY : 0), &q))
		_exit(2);
	for (r.seq = 0; r.seq < SEQ_MAX; r.seq++) {
		int err;

		do
			err = kmq_send(q, &r, sizeof(r), 50000000LL);
		while (err == -ETIMEDOUT && !b->stop);
		if (err)
			_exit(err == -ETIMEDOUT ? 0 : 3);
		__atomic_store_n(&b->acked[stream], r.seq + 1, __ATOMIC_RELEASE);
	}
	while (!b->stop)
		vt_sleep_ms(10);
	_exit(0);
}

/* A consumer: borrow, mark, release (so a kill can only cause a duplicate,
 * never a loss in the bookkeeping), until stopped and empty. */
static void consumer_borrow(const char *name, struct board *b)
{
	struct kmq *q;

	if (kmq_open(name, KMQ_RECV, &q))
		_exit(2);
	__atomic_add_fetch(&b->consumers_ready, 1, __ATOMIC_RELAXED);
	for (;;) {
		struct kmq_msg m;
		int err = kmq_borrow(q, &m, 20000000LL);

		if (err == -ETIMEDOUT || err == -EAGAIN) {
			if (b->stop)
				break;
			continue;
		}
		if (err)
			_exit(3);
		mark(b, m.data, m.len);
		if (kmq_release(q, &m))
			_exit(4);
	}
	kmq_close(q);
	_exit(0);
}

/* A consumer that copies out with kmq_recv (a kill after recv returned and
 * before mark() loses that one message from the bookkeeping). */
static void consumer_recv(const char *name, struct board *b)
{
	struct kmq *q;

	if (kmq_open(name, KMQ_RECV, &q))
		_exit(2);
	__atomic_add_fetch(&b->consumers_ready, 1, __ATOMIC_RELAXED);
	for (;;) {
		char buf[64];
		int n = kmq_recv(q, buf, sizeof(buf), NULL, 20000000LL);

		if (n == -ETIMEDOUT || n == -EAGAIN) {
			if (b->stop)
				break;
			continue;
		}
		if (n < 0)
			_exit(3);
		mark(b, buf, (__u32)n);
	}
	kmq_close(q);
	_exit(0);
}

static pid_t spawn_producer(const char *name, struct board *b, __u32 stream, int copy)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		producer(name, b, stream, copy);
	return pid;
}

static pid_t spawn_consumer(const char *name, struct board *b, int borrow)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (borrow)
			consumer_borrow(name, b);
		else
			consumer_recv(name, b);
	}
	return pid;
}

/* Stop the board's survivors, drain what is left through the copying path,
 * and check: every acknowledged send was received; the queue is whole. */
static void finish_and_verify(const char *name, struct board *b, pid_t *pids,
			      int npids, int rounds, __u64 allowed_loss)
{
	char buf[64];
	struct kmq_info info;
	__u64 missing = 0, acked = 0, nfree, nready;
	long fd;
	int i, r;

	b->stop = 1;
	for (i = 0; i < npids; i++) {
		int to, st;

		if (pids[i] <= 0)
			continue;
		st = vt_wait_timeout(pids[i], 120, &to);
		ck_assert_msg(!to, "a client did not stop within 120 s (queue stalled?)");
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
			      "a surviving client failed: status %#x", st);
	}
	wait_repaired(name, &info);
	assert_conserved(name, &nfree, &nready);
	ck_assert_uint_eq(nready, info.ready);
	fd = ck_assert_ok(vt_open(ctl, name, KMQ_OPEN_RECV));
	for (;;) {
		struct kmq_iomsg m;
		long e = vt_recv((int)fd, buf, sizeof(buf), KMQ_IO_NONBLOCK, 0, &m);

		if (e == -EAGAIN)
			break;
		ck_assert_err(e, 0);
		mark(b, buf, m.len);
	}
	close((int)fd);
	ck_assert_uint_eq(b->bad, 0);
	for (r = 0; r < rounds; r++) {
		__u32 n = b->acked[r], s;

		acked += n;
		for (s = 0; s < n; s++)
			if (!marked(b, (__u32)r, s)) {
				if (missing < 5)
					fprintf(stderr, "crash_test: stream %d seq %u acknowledged but never received\n",
						r, s);
				missing++;
			}
	}
	printf("crash_test: %d producer incarnations, %llu acknowledged sends, %llu receives, %llu missing (allowed %llu)\n",
	       rounds, (unsigned long long)acked, (unsigned long long)b->received,
	       (unsigned long long)missing, (unsigned long long)allowed_loss);
	ck_assert_msg(missing <= allowed_loss,
		      "%llu acknowledged messages were lost (allowed %llu)",
		      (unsigned long long)missing, (unsigned long long)allowed_loss);
	ck_assert_uint_gt(acked, 0);
	ck_assert_err(vt_info(ctl, name, &info), 0);
	ck_assert_uint_eq(info.ready, 0);
	ck_assert_uint_eq(info.held, 0);
	assert_conserved(name, &nfree, NULL);
	ck_assert_uint_eq(nfree, info.capacity);
}

static int rounds_env(void)
{
	long n = vt_env_long("KMQ_CRASH_ROUNDS", 40);

	if (n < 1)
		n = 1;
	if (n > MAX_ROUNDS)
		n = MAX_ROUNDS;
	return (int)n;
}

/* Producers (mapped, libkmq) are SIGKILLed at random moments while a
 * consumer drains; every acknowledged send arrives. */
START_TEST(kill_producers_randomly)
{
	char nm[KMQ_NAME_LEN];
	struct board *b = vt_shared(board_size());
	int rounds = rounds_env(), r;
	__u64 seed = vt_seed();
	pid_t cons;

	vt_qname(nm, "killprod");
	printf("crash_test: kill_producers_randomly seed %#llx\n", (unsigned long long)seed);
	ck_assert_err(vt_create(ctl, nm, 64, 32, 0600, 0, 0), 0);
	cons = spawn_consumer(nm, b, 1);
	for (r = 0; r < rounds; r++) {
		pid_t p = spawn_producer(nm, b, (__u32)r, r % 8 == 7);

		vt_sleep_us((long)(vt_rand(&seed) % 30000));
		kill(p, SIGKILL);
		vt_wait(p);
	}
	finish_and_verify(nm, b, &cons, 1, rounds, 0);
}
END_TEST

/* Consumers that borrow are SIGKILLed at random moments; producers live.
 * Nothing acknowledged is lost; borrowed messages come back. */
START_TEST(kill_borrowers_randomly)
{
	char nm[KMQ_NAME_LEN];
	struct board *b = vt_shared(board_size());
	int rounds = rounds_env(), r;
	__u64 seed = vt_seed();
	pid_t pids[2];

	vt_qname(nm, "killborrowers");
	printf("crash_test: kill_borrowers_randomly seed %#llx\n", (unsigned long long)seed);
	ck_assert_err(vt_create(ctl, nm, 16, 32, 0600, 0, 0), 0);
	pids[0] = spawn_producer(nm, b, 0, 0);
	for (r = 0; r < rounds; r++) {
		pid_t c = spawn_consumer(nm, b, 1);

		vt_sleep_us((long)(vt_rand(&seed) % 30000));
		kill(c, SIGKILL);
		vt_wait(c);
	}
	pids[1] = spawn_consumer(nm, b, 1);	/* drains to the end */
	vt_sleep_ms(200);
	finish_and_verify(nm, b, pids, 2, 1, 0);
}
END_TEST

/* Consumers that copy out (kmq_recv) are SIGKILLed at random moments: a
 * kill can lose only the one message the victim had already received (and
 * not yet recorded), and the queue never stalls. */
START_TEST(kill_receivers_randomly)
{
	char nm[KMQ_NAME_LEN];
	struct board *b = vt_shared(board_size());
	int rounds = rounds_env(), r;
	__u64 seed = vt_seed();
	pid_t pids[2];

	vt_qname(nm, "killrecv");
	printf("crash_test: kill_receivers_randomly seed %#llx\n", (unsigned long long)seed);
	ck_assert_err(vt_create(ctl, nm, 16, 32, 0600, 0, 0), 0);
	pids[0] = spawn_producer(nm, b, 0, 0);
	for (r = 0; r < rounds; r++) {
		pid_t c = spawn_consumer(nm, b, 0);

		vt_sleep_us((long)(vt_rand(&seed) % 30000));
		kill(c, SIGKILL);
		vt_wait(c);
	}
	pids[1] = spawn_consumer(nm, b, 1);
	vt_sleep_ms(200);
	finish_and_verify(nm, b, pids, 2, 1, (__u64)rounds);
}
END_TEST

/* Both sides at once: 2 producers and 2 borrowing consumers; every few
 * milliseconds one of the four is SIGKILLed and replaced. */
START_TEST(kill_everyone_randomly)
{
	char nm[KMQ_NAME_LEN];
	struct board *b = vt_shared(board_size());
	int rounds = rounds_env() * 2, r, streams = 0;
	__u64 seed = vt_seed();
	pid_t pids[4];

	if (rounds > MAX_ROUNDS - 2)
		rounds = MAX_ROUNDS - 2;
	vt_qname(nm, "killall");
	printf("crash_test: kill_everyone_randomly seed %#llx\n", (unsigned long long)seed);
	ck_assert_err(vt_create(ctl, nm, 32, 32, 0600, 0, 0), 0);
	pids[0] = spawn_producer(nm, b, (__u32)streams++, 0);
	pids[1] = spawn_producer(nm, b, (__u32)streams++, 0);
	pids[2] = spawn_consumer(nm, b, 1);
	pids[3] = spawn_consumer(nm, b, 1);
	for (r = 0; r < rounds && streams < MAX_ROUNDS; r++) {
		int v = (int)(vt_rand(&seed) % 4);

		vt_sleep_us((long)(vt_rand(&seed) % 20000));
		kill(pids[v], SIGKILL);
		vt_wait(pids[v]);
		if (v < 2)
			pids[v] = spawn_producer(nm, b, (__u32)streams++, 0);
		else
			pids[v] = spawn_consumer(nm, b, 1);
	}
	vt_sleep_ms(200);
	finish_and_verify(nm, b, pids, 4, streams, 0);
}
END_TEST

static Suite *crash_suite(void)
{
	Suite *s = suite_create("crash");
	TCase *tc;

	tc = tcase_create("points");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, repair_free_taken);
	tcase_add_test(tc, repair_claimed);
	tcase_add_test(tc, repair_ready_unpushed);
	tcase_add_test(tc, repair_ready_taken);
	tcase_add_test(tc, repair_borrowed);
	tcase_add_test(tc, repair_only_the_dead);
	tcase_add_test(tc, close_with_borrow_redelivers);
	tcase_add_test(tc, killed_borrower_redelivered);
	tcase_add_test(tc, full_queue_dead_borrower_no_stall);
	tcase_add_test(tc, repair_wakes_sleepers);
	tcase_add_test(tc, stalled_popper);
	tcase_add_test(tc, stalled_popper_libkmq_timeout);
	tcase_add_test(tc, repair_behind_stalled_popper);
	suite_add_tcase(s, tc);

	tc = tcase_create("random");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, kill_producers_randomly);
	tcase_add_test(tc, kill_borrowers_randomly);
	tcase_add_test(tc, kill_receivers_randomly);
	tcase_add_test(tc, kill_everyone_randomly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	vt_prog = "crash_test";
	return vt_run(crash_suite());
}
