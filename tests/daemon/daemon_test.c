// SPDX-License-Identifier: GPL-2.0
/*
 * kmqd under fire: each test starts its own kmqd (build/bin/kmqd, or
 * $KMQD) on a private socket and state directory, then: garbage frames
 * from one client while another is served; kill -9 in the middle of a
 * heavy load, restart, and account for every acknowledged message;
 * SIGHUP reload; SIGTERM clean exit and re-adoption. No timed asserts:
 * waits are bounded only so that a hang fails instead of blocking.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <kmq.h>
#include <kmq/wire.h>

#define SEC	1000000000LL

struct kd {
	pid_t pid;
	char dir[64];
	char sock[128];
	char conf[128];
};

static int64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SEC + ts.tv_nsec;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* kd_start - run kmqd on @k's socket and state dir (made on first start),
 * and wait until it answers. */
static void kd_start(struct kd *k, bool with_conf)
{
	const char *bin = getenv("KMQD") ? getenv("KMQD") : "build/bin/kmqd";
	int i, fd;

	if (!k->dir[0]) {
		strcpy(k->dir, "/tmp/kmqd-test.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(k->dir));
		chmod(k->dir, 0755);	/* uid 65534 reaches the socket */
		snprintf(k->sock, sizeof(k->sock), "%s/kmqd.sock", k->dir);
		snprintf(k->conf, sizeof(k->conf), "%s/kmqd.conf", k->dir);
		setenv("KMQ_SOCKET", k->sock, 1);
		setenv("KMQ_BACKEND", "shm", 1);
	}
	k->pid = fork();
	ck_assert_int_ge(k->pid, 0);
	if (!k->pid) {
		char state[128], log[128];

		snprintf(state, sizeof(state), "%s/state", k->dir);
		snprintf(log, sizeof(log), "%s/kmqd.log", k->dir);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		if (with_conf)
			execl(bin, bin, "--no-trace", "-c", k->conf, "-s", k->sock,
			      "-d", state, "-b", "shm", (char *)NULL);
		else
			execl(bin, bin, "--no-trace", "-s", k->sock, "-d", state, "-b", "shm",
			      (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		struct kmq_info info;
		int err = kmq_list(&info, 0, 0, NULL);

		if (err != -ECONNREFUSED)
			return;
		msleep(10);
	}
	ck_abort_msg("kmqd did not come up at %s", k->sock);
}

/* kd_stop - SIGTERM (or @sig) and reap; returns the wait status. */
static int kd_stop(struct kd *k, int sig)
{
	int status;

	kill(k->pid, sig);
	ck_assert_int_eq(waitpid(k->pid, &status, 0), k->pid);
	k->pid = 0;
	return status;
}

static void kd_cleanup(struct kd *k)
{
	char cmd[128];

	if (k->pid > 0)
		kd_stop(k, SIGKILL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", k->dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", k->dir);
}

/* ---- raw wire clients -------------------------------------------------- */

static int raw_connect(const struct kd *k)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(a.sun_path, k->sock);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void raw_send(int fd, const void *p, size_t len)
{
	ck_assert_int_eq(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* raw_read - one frame (header + body into @body, at most @cap); returns
 * 0, or -1 at EOF. Bounded by a 20 s poll, so a hang fails. */
static int raw_read(int fd, struct kmq_wire_hdr *h, void *body, size_t cap)
{
	unsigned char *p = (unsigned char *)h;
	size_t got = 0, want = sizeof(*h);
	int phase;

	for (phase = 0; phase < 2; phase++) {
		while (got < want) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			ssize_t n;

			ck_assert_msg(poll(&pf, 1, 20000) == 1, "no frame from kmqd");
			n = recv(fd, p + got, want - got, 0);
			if (n <= 0) {
				ck_assert_msg(got == 0, "kmqd cut a frame short");
				return -1;
			}
			got += (size_t)n;
		}
		if (phase)
			break;
		ck_assert_uint_eq(h->magic, KMQ_WIRE_MAGIC);
		ck_assert_uint_le(h->len, cap);
		p = body;
		got = 0;
		want = h->len;
	}
	return 0;
}

/* expect_error_and_hangup - kmqd answers a garbage frame with
 * KMQ_WIRE_ERROR and closes the connection. */
static void expect_error_and_hangup(int fd, const char *what)
{
	struct kmq_wire_hdr h;
	char text[KMQ_WIRE_TEXT_MAX + 8];

	ck_assert_msg(raw_read(fd, &h, text, sizeof(text)) == 0,
		      "%s: closed without an error frame", what);
	ck_assert_msg(h.cmd == KMQ_WIRE_ERROR, "%s: got cmd %#x", what, h.cmd);
	ck_assert_msg(h.status < 0, "%s: status %d", what, h.status);
	ck_assert_msg(raw_read(fd, &h, text, sizeof(text)) == -1,
		      "%s: still connected", what);
	close(fd);
}

static struct kmq_wire_hdr req(unsigned int cmd, unsigned int len)
{
	struct kmq_wire_hdr h = {
		.magic = KMQ_WIRE_MAGIC, .version = KMQ_WIRE_VERSION,
		.cmd = (__u16)cmd, .len = len, .seq = 1,
	};
	return h;
}

/* One well-behaved operation through libkmq: a send and a receive on the
 * copying path, which goes through kmqd every time. */
static void served(struct kmq *q, int i)
{
	int v = -1;

	ck_assert_int_eq(kmq_send(q, &i, sizeof(i), SEC), 0);
	ck_assert_int_eq(kmq_recv(q, &v, sizeof(v), NULL, SEC), sizeof(v));
	ck_assert_int_eq(v, i);
}

START_TEST(garbage_clients)
{
	struct kd k = { 0 };
	struct kmq_wire_hdr h;
	struct kmq_open o;
	struct kmq_create c;
	struct kmq *good;
	unsigned char big[64];
	int fd, i = 0, status;

	kd_start(&k, false);
	ck_assert_int_eq(kmq_create("garbage", NULL), 0);
	ck_assert_int_eq(kmq_open("garbage", KMQ_SEND | KMQ_RECV | KMQ_COPY, &good), 0);
	served(good, i++);

	/* Bad magic. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_LIST, 0);
	h.magic = 0xdeadbeef;
	raw_send(fd, &h, sizeof(h));
	expect_error_and_hangup(fd, "bad magic");
	served(good, i++);

	/* A huge length: refused from the header, the body never read. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_SEND, 0x7fffffff);
	raw_send(fd, &h, sizeof(h));
	expect_error_and_hangup(fd, "huge length");
	served(good, i++);

	/* Truncated: half a header, then the peer stops writing. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_LIST, 32);
	raw_send(fd, &h, 10);
	shutdown(fd, SHUT_WR);
	expect_error_and_hangup(fd, "truncated header");
	served(good, i++);

	/* Truncated body. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_LIST, 32);
	raw_send(fd, &h, sizeof(h));
	raw_send(fd, big, 7);
	shutdown(fd, SHUT_WR);
	expect_error_and_hangup(fd, "truncated body");
	served(good, i++);

	/* A bad name. */
	fd = raw_connect(&k);
	memset(&o, 0, sizeof(o));
	strcpy(o.name, "../../etc/passwd");
	o.flags = KMQ_OPEN_SEND;
	h = req(KMQ_WIRE_OPEN, sizeof(o));
	raw_send(fd, &h, sizeof(h));
	raw_send(fd, &o, sizeof(o));
	expect_error_and_hangup(fd, "bad name");
	served(good, i++);

	/* An unknown command. */
	fd = raw_connect(&k);
	h = req(77, 0);
	raw_send(fd, &h, sizeof(h));
	expect_error_and_hangup(fd, "unknown command");
	served(good, i++);

	/* Reserved fields: in the header, then in a body. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_LIST, 0);
	h.reserved = 1;
	raw_send(fd, &h, sizeof(h));
	expect_error_and_hangup(fd, "reserved header field");
	fd = raw_connect(&k);
	memset(&c, 0, sizeof(c));
	strcpy(c.name, "garbage2");
	c.capacity = c.max_msg_size = 8;
	c.reserved[3] = 42;
	h = req(KMQ_WIRE_CREATE, sizeof(c));
	raw_send(fd, &h, sizeof(h));
	raw_send(fd, &c, sizeof(c));
	expect_error_and_hangup(fd, "reserved body field");
	ck_assert_int_eq(kmq_info("garbage2", &(struct kmq_info){ 0 }), -ENOENT);
	served(good, i++);

	/* SQS commands: a user pointer in a SQS_SEND, a receive count in a
	 * SQS_RECV room, a count beyond the batch in a SQS_DELETE. */
	{
		unsigned char sb[sizeof(struct kmq_sqsio) + sizeof(struct kmq_sqsmsg)];
		struct kmq_sqsio sio = { .count = 1 };
		struct kmq_sqsmsg sm = { .body = 0x1000 };
		struct kmq_receipts rs = { .count = KMQ_SQS_BATCH_MAX + 1 };

		memcpy(sb, &sio, sizeof(sio));
		memcpy(sb + sizeof(sio), &sm, sizeof(sm));
		fd = raw_connect(&k);
		h = req(KMQ_WIRE_SQS_SEND, sizeof(sb));
		raw_send(fd, &h, sizeof(h));
		raw_send(fd, sb, sizeof(sb));
		expect_error_and_hangup(fd, "SQS_SEND with a pointer");
		sm.body = 0;
		sm.receive_count = 3;
		memcpy(sb + sizeof(sio), &sm, sizeof(sm));
		fd = raw_connect(&k);
		h = req(KMQ_WIRE_SQS_RECV, sizeof(sb));
		raw_send(fd, &h, sizeof(h));
		raw_send(fd, sb, sizeof(sb));
		expect_error_and_hangup(fd, "SQS_RECV with an output field");
		fd = raw_connect(&k);
		h = req(KMQ_WIRE_SQS_DELETE, sizeof(rs));
		raw_send(fd, &h, sizeof(h));
		raw_send(fd, &rs, sizeof(rs));
		expect_error_and_hangup(fd, "SQS_DELETE beyond the batch");
		served(good, i++);
	}

	/* A wrong length for the command. */
	fd = raw_connect(&k);
	h = req(KMQ_WIRE_INFO, 17);
	raw_send(fd, &h, sizeof(h));
	raw_send(fd, big, 17);
	expect_error_and_hangup(fd, "wrong length");

	/* Random bytes, many connections at once, none answered twice. */
	for (int n = 0; n < 20; n++) {
		int j;

		fd = raw_connect(&k);
		for (j = 0; j < (int)sizeof(big); j++)
			big[j] = (unsigned char)rand();
		raw_send(fd, big, sizeof(big));
		expect_error_and_hangup(fd, "random bytes");
	}
	served(good, i++);

	/* A valid request gets a valid reply on a raw connection too. */
	fd = raw_connect(&k);
	{
		struct kmq_wire_list l = { .count = 1 };
		struct {
			struct kmq_wire_list l;
			struct kmq_info info;
		} r;

		h = req(KMQ_WIRE_LIST, sizeof(l));
		raw_send(fd, &h, sizeof(h));
		raw_send(fd, &l, sizeof(l));
		ck_assert_int_eq(raw_read(fd, &h, &r, sizeof(r)), 0);
		ck_assert_uint_eq(h.cmd, KMQ_WIRE_LIST | KMQ_WIRE_REPLY);
		ck_assert_int_eq(h.status, 0);
		ck_assert_uint_eq(r.l.total, 1);
		ck_assert_str_eq(r.info.name, "garbage");
	}
	close(fd);

	kmq_close(good);
	ck_assert_int_eq(kmq_delete("garbage"), 0);
	status = kd_stop(&k, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kd_cleanup(&k);
}
END_TEST

/* ---- kill -9 under load --------------------------------------------------- */

#define PRODUCERS	2	/* 0: mapped, 1: copying */
#define CONSUMERS	2	/* 0: mapped, 1: copying */
#define PER		20000
#define KILLS		3

struct ledger {
	unsigned int attempts[PRODUCERS][PER];	/* sends tried */
	unsigned int acked[PRODUCERS][PER];	/* sends that returned 0 */
	unsigned int seen[PRODUCERS][PER];	/* receipts */
	unsigned int received;			/* all receipts */
	unsigned int retries;			/* calls failed by kmqd's death */
	unsigned int done;			/* producers finished */
};

/* Retry what failed because kmqd died, after a pause; anything else is an
 * error. Returns true to retry. */
static bool kmqd_gone(int err, struct ledger *lg)
{
	if (err != -ECONNREFUSED && err != -EPIPE && err != -ECONNRESET)
		return false;
	__atomic_fetch_add(&lg->retries, 1, __ATOMIC_RELAXED);
	msleep(5);
	return true;
}

static void producer(struct ledger *lg, int p)
{
	struct kmq *q = NULL;
	int k, err;

	while ((err = kmq_open("load", KMQ_SEND | (p ? KMQ_COPY : 0), &q)))
		if (!kmqd_gone(err, lg))
			_exit(10);
	for (k = 0; k < PER; k++) {
		int v[2] = { p, k };

		for (;;) {
			lg->attempts[p][k]++;
			err = kmq_send(q, v, sizeof(v), 20 * SEC);
			if (!err)
				break;
			if (!kmqd_gone(err, lg))
				_exit(11);
		}
		lg->acked[p][k] = 1;
	}
	kmq_close(q);
	__atomic_fetch_add(&lg->done, 1, __ATOMIC_RELAXED);
	_exit(0);
}

static void consumer(struct ledger *lg, int c)
{
	struct kmq *q = NULL;
	int err, v[2];

	while ((err = kmq_open("load", KMQ_RECV | (c ? KMQ_COPY : 0), &q)))
		if (!kmqd_gone(err, lg))
			_exit(20);
	for (;;) {
		err = kmq_recv(q, v, sizeof(v), NULL, SEC);
		if (err == sizeof(v)) {
			if (v[0] < 0 || v[0] >= PRODUCERS || v[1] < 0 || v[1] >= PER)
				_exit(21);
			__atomic_fetch_add(&lg->seen[v[0]][v[1]], 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&lg->received, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (err == -ETIMEDOUT &&
		    __atomic_load_n(&lg->done, __ATOMIC_RELAXED) == PRODUCERS)
			break;	/* drained: nothing for 1 s after the end */
		if (err == -ETIMEDOUT || kmqd_gone(err, lg))
			continue;
		_exit(22);
	}
	kmq_close(q);
	_exit(0);
}

START_TEST(kill9_under_load)
{
	struct kmq_qattr a = { .capacity = 256, .max_msg_size = 64, .mode = 0600 };
	pid_t pids[PRODUCERS + CONSUMERS];
	struct kd k = { 0 };
	struct ledger *lg;
	unsigned int lost = 0, dups = 0, extra = 0, kills, p, i;
	int status;

	lg = mmap(NULL, sizeof(*lg), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(lg, MAP_FAILED);
	kd_start(&k, false);
	ck_assert_int_eq(kmq_create("load", &a), 0);
	for (i = 0; i < PRODUCERS + CONSUMERS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (!pids[i]) {
			if (i < PRODUCERS)
				producer(lg, (int)i);
			consumer(lg, (int)(i - PRODUCERS));
		}
	}
	/* Kill kmqd when a quarter, half and three quarters went through. */
	for (kills = 0; kills < KILLS; kills++) {
		unsigned int at = (kills + 1) * PRODUCERS * PER / (KILLS + 1);
		int n;

		for (n = 0; n < 6000 &&
		     __atomic_load_n(&lg->received, __ATOMIC_RELAXED) < at; n++)
			msleep(5);
		ck_assert_msg(n < 6000, "no progress: %u received", lg->received);
		status = kd_stop(&k, SIGKILL);
		ck_assert(WIFSIGNALED(status));
		msleep(50);
		kd_start(&k, false);
	}
	for (i = 0; i < PRODUCERS + CONSUMERS; i++) {
		ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
		ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status),
			      "child %u: status %#x", i, status);
	}
	for (p = 0; p < PRODUCERS; p++) {
		for (i = 0; i < PER; i++) {
			ck_assert_uint_eq(lg->acked[p][i], 1);
			if (!lg->seen[p][i])
				lost++;
			else if (lg->seen[p][i] > 1)
				dups += lg->seen[p][i] - 1;
			if (lg->attempts[p][i] > 1)
				extra += lg->attempts[p][i] - 1;
		}
	}
	printf("kill9_under_load: %u messages, %u kills of kmqd, %u calls retried "
	       "(%u sends), %u lost, %u duplicates\n", PRODUCERS * PER, KILLS,
	       lg->retries, extra, lost, dups);
	ck_assert_msg(!lost, "%u acknowledged messages lost", lost);
	/* Delivery is at least once across a kmqd crash: a copying call cut
	 * by a kill may have been done (a retried send; a receive whose reply
	 * left before the slot was given back is delivered again). At most
	 * one per call in flight: a few per kill. Mapped clients never go
	 * through kmqd. */
	ck_assert_msg(dups <= KILLS * (PRODUCERS + CONSUMERS),
		      "%u duplicates for %u kills", dups, KILLS);
	ck_assert_int_eq(kmq_delete("load"), 0);
	status = kd_stop(&k, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kd_cleanup(&k);
	munmap(lg, sizeof(*lg));
}
END_TEST

/* ---- signals ---------------------------------------------------------------- */

static void write_conf(const struct kd *k, const char *text)
{
	FILE *f = fopen(k->conf, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Read frames until an event of @type arrives; its detail in @detail. */
static void wait_event(int fd, const char *type, char *detail, size_t len)
{
	struct kmq_wire_event ev;
	struct kmq_wire_hdr h;

	for (;;) {
		ck_assert_int_eq(raw_read(fd, &h, &ev, sizeof(ev)), 0);
		if (h.cmd != KMQ_WIRE_EVENT)
			continue;
		ck_assert_uint_eq(h.len, sizeof(ev));
		if (!strcmp(ev.type, type)) {
			snprintf(detail, len, "%s", ev.detail);
			return;
		}
	}
}

START_TEST(sighup_reload)
{
	struct kmq_qattr a = { .capacity = 1, .max_msg_size = 8 };
	struct kmq_wire_sub s = { 0 };
	struct kmq_wire_hdr h;
	struct kd k = { 0 };
	char detail[KMQ_WIRE_EVENT_DETAIL], name[16];
	int fd, i, status;

	strcpy(k.dir, "/tmp/kmqd-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(k.dir));
	chmod(k.dir, 0755);
	snprintf(k.sock, sizeof(k.sock), "%s/kmqd.sock", k.dir);
	snprintf(k.conf, sizeof(k.conf), "%s/kmqd.conf", k.dir);
	setenv("KMQ_SOCKET", k.sock, 1);
	setenv("KMQ_BACKEND", "shm", 1);
	write_conf(&k, "[limits]\nmax_queues = 100\n");
	kd_start(&k, true);

	fd = raw_connect(&k);
	h = req(KMQ_WIRE_SUBSCRIBE, sizeof(s));
	raw_send(fd, &h, sizeof(h));
	raw_send(fd, &s, sizeof(s));
	ck_assert_int_eq(raw_read(fd, &h, detail, sizeof(detail)), 0);
	ck_assert_uint_eq(h.cmd, KMQ_WIRE_SUBSCRIBE | KMQ_WIRE_REPLY);
	ck_assert_int_eq(h.status, 0);

	/* A change: said in the event, applied at once. */
	write_conf(&k, "[limits]\nmax_queues = 2\n[log]\nlevel = debug\n");
	kill(k.pid, SIGHUP);
	wait_event(fd, "reload", detail, sizeof(detail));
	ck_assert_msg(strstr(detail, "max_queues: 100 -> 2") &&
		      strstr(detail, "log_level: info -> debug"), "detail: %s", detail);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "hup%d", i);
		ck_assert_int_eq(kmq_create(name, &a), i < 2 ? 0 : -ENOSPC);
		if (i < 2)	/* the create event reaches the subscriber */
			wait_event(fd, "create", detail, sizeof(detail));
	}

	/* No change. */
	kill(k.pid, SIGHUP);
	wait_event(fd, "reload", detail, sizeof(detail));
	ck_assert_str_eq(detail, "nothing changed");

	/* A bad file changes nothing, and kmqd serves on. */
	write_conf(&k, "[limits]\nmax_queues = many\n");
	kill(k.pid, SIGHUP);
	wait_event(fd, "reload", detail, sizeof(detail));
	ck_assert_ptr_nonnull(strstr(detail, "failed"));
	ck_assert_int_eq(kmq_create("hup9", &a), -ENOSPC);	/* still 2 */
	ck_assert_int_eq(kmq_delete("hup0"), 0);
	ck_assert_int_eq(kmq_delete("hup1"), 0);
	close(fd);
	status = kd_stop(&k, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kd_cleanup(&k);
}
END_TEST

/* SIGTERM: exit 0, the socket file gone, the queues kept; a new kmqd
 * adopts them with their messages; a mapped client that lived through the
 * restart is repaired when it dies. */
START_TEST(sigterm_and_adoption)
{
	struct kd k = { 0 };
	struct kmq_info info;
	struct kmq_msg m;
	struct kmq *q, *r;
	char buf[16];
	int status, sync[2];
	pid_t child;

	kd_start(&k, false);
	ck_assert_int_eq(kmq_create("kept", NULL), 0);
	ck_assert_int_eq(kmq_open("kept", KMQ_SEND | KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_send(q, "before", 6, 0), 0);
	ck_assert_int_eq(kmq_send(q, "borrowed", 8, 0), 0);

	/* A child borrows one and lives through the restart. */
	ck_assert_int_eq(pipe(sync), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (!child) {
		struct kmq *c;

		if (kmq_open("kept", KMQ_RECV, &c) || kmq_recv(c, buf, sizeof(buf), NULL, 0) != 6 ||
		    kmq_borrow(c, &m, 0) || write(sync[1], "b", 1) != 1)
			_exit(1);
		pause();
		_exit(2);
	}
	ck_assert_int_eq(read(sync[0], buf, 1), 1);

	status = kd_stop(&k, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(access(k.sock, F_OK), -1);
	ck_assert_int_eq(kmq_info("kept", &info), -ECONNREFUSED);
	/* The mapped handle works on without kmqd. */
	ck_assert_int_eq(kmq_send(q, "during", 6, 0), 0);

	kd_start(&k, false);
	ck_assert_int_eq(kmq_info("kept", &info), 0);
	ck_assert_uint_eq(info.ready, 1);		/* "during" */
	ck_assert_uint_eq(info.held, 1);		/* the child's borrow */
	kill(child, SIGKILL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	/* The new kmqd watched the child: its borrow comes back. */
	ck_assert_int_eq(kmq_open("kept", KMQ_RECV | KMQ_COPY, &r), 0);
	ck_assert_int_eq(kmq_recv(r, buf, sizeof(buf), NULL, 10 * SEC), 6);
	ck_assert_mem_eq(buf, "during", 6);
	ck_assert_int_eq(kmq_recv(r, buf, sizeof(buf), NULL, 10 * SEC), 8);
	ck_assert_mem_eq(buf, "borrowed", 8);
	kmq_close(r);
	kmq_close(q);	/* reattaches to the new kmqd, then goes */
	ck_assert_int_eq(kmq_info("kept", &info), 0);
	ck_assert_uint_eq(info.clients, 0);
	ck_assert_int_eq(kmq_delete("kept"), 0);
	status = kd_stop(&k, SIGTERM);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	kd_cleanup(&k);
}
END_TEST

/* ---- kill -9 with messages held by kmqd (SQS semantics) -------------- */

#define HELD_N		20	/* standard queue: messages sent */
#define HELD_LEASED	10	/* of them leased before the kill */
#define HELD_DELAYED	5	/* sent with a delay */
#define HELD_DELAY_S	3

static int held_send(struct kmq *q, const char *body, int delay_s,
		     const char *group, uint64_t *id)
{
	struct kmq_out o = { .body = body, .len = strlen(body),
			     .delay_s = delay_s, .group = group,
			     .dedup = group ? body : NULL };
	int n = kmq_send_msgs(q, &o, 1);

	if (id)
		*id = o.id;
	return n == 1 ? o.status : n < 0 ? n : o.status;
}

struct held_msg {
	struct kmq_in in;
	char body[64];
};

static int held_recv(struct kmq *q, struct held_msg *m, int vis,
		     int64_t timeout_ns)
{
	int n;

	memset(m, 0, sizeof(*m));
	m->in.buf = m->body;
	m->in.cap = sizeof(m->body) - 1;
	n = kmq_receive(q, &m->in, 1, vis, timeout_ns);
	if (n == 1)
		m->body[m->in.len] = 0;
	return n;
}

/*
 * kill -9 while kmqd holds messages: leased (visible again after the
 * restart, receive count kept, old receipts stale), delayed (still delayed
 * until their time), FIFO-held (queued and leased: order per group kept).
 * Every message whose send was acknowledged and that was not deleted is
 * received after the restart, exactly once here (nothing else receives).
 */
START_TEST(kill9_held_messages)
{
	struct kd k = { 0 };
	struct kmq_qattr sa = { .capacity = 64, .max_msg_size = 64, .mode = 0600 };
	struct kmq_qattr fa = { .capacity = 64, .max_msg_size = 64, .mode = 0600,
				.flags = KMQ_CREATE_FIFO };
	uint64_t ids[HELD_N + HELD_DELAYED], receipts[HELD_LEASED];
	bool seen[HELD_N + HELD_DELAYED] = { false };
	struct kmq_info info;
	struct held_msg m;
	struct kmq *q, *f;
	char body[32];
	int i, got, st, next_a = 1, next_b = 1;
	uint64_t t0, t_kill, t_back;
	struct timespec ts;

	kd_start(&k, false);
	ck_assert_int_eq(kmq_create("held", &sa), 0);
	ck_assert_int_eq(kmq_create("held.fifo", &fa), 0);
	ck_assert_int_eq(kmq_open("held", KMQ_SEND | KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_open("held.fifo", KMQ_SEND | KMQ_RECV, &f), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	t0 = (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
	for (i = 0; i < HELD_N; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		ck_assert_int_eq(held_send(q, body, -1, NULL, &ids[i]), 0);
	}
	for (i = 0; i < HELD_DELAYED; i++) {
		snprintf(body, sizeof(body), "d%d", i);
		ck_assert_int_eq(held_send(q, body, HELD_DELAY_S, NULL,
					   &ids[HELD_N + i]), 0);
	}
	for (i = 0; i < HELD_LEASED; i++) {
		ck_assert_int_eq(held_recv(q, &m, 600, 0), 1);
		ck_assert_int_eq(m.in.receive_count, 1);
		receipts[i] = m.in.receipt;
	}
	/* one acknowledged delete: it must stay deleted */
	ck_assert_int_eq(kmq_delete_msgs(q, &receipts[0], &st, 1), 1);
	/* FIFO: groups A and B of five; a1 leased, the rest queued */
	for (i = 1; i <= 5; i++) {
		snprintf(body, sizeof(body), "a%d", i);
		ck_assert_int_eq(held_send(f, body, -1, "A", NULL), 0);
		snprintf(body, sizeof(body), "b%d", i);
		ck_assert_int_eq(held_send(f, body, -1, "B", NULL), 0);
	}
	ck_assert_int_eq(held_recv(f, &m, 600, 0), 1);
	ck_assert_str_eq(m.body, "a1");
	ck_assert_int_eq(kmq_info("held", &info), 0);
	ck_assert_uint_eq(info.leased, HELD_LEASED - 1);
	ck_assert_uint_eq(info.delayed, HELD_DELAYED);
	ck_assert_int_eq(kmq_info("held.fifo", &info), 0);
	ck_assert_uint_eq(info.leased, 1);
	ck_assert_uint_eq(info.queued, 9);

	t_kill = (uint64_t)mono_now();
	kd_stop(&k, SIGKILL);
	kd_start(&k, false);
	t_back = (uint64_t)mono_now();
	fprintf(stderr, "kill9_held_messages: kmqd back in %.1f ms\n",
		(double)(t_back - t_kill) / 1e6);
	kmq_close(q);
	kmq_close(f);
	ck_assert_int_eq(kmq_open("held", KMQ_SEND | KMQ_RECV, &q), 0);
	ck_assert_int_eq(kmq_open("held.fifo", KMQ_SEND | KMQ_RECV, &f), 0);

	/* standard: leased ones visible again, delayed ones still delayed */
	ck_assert_int_eq(kmq_info("held", &info), 0);
	ck_assert_uint_eq(info.leased, 0);
	ck_assert_uint_eq(info.delayed, HELD_DELAYED);
	ck_assert_uint_eq(info.ready, HELD_N - 1);
	st = 0;
	ck_assert_int_eq(kmq_delete_msgs(q, &receipts[1], &st, 1), 0);
	ck_assert_int_eq(st, -ENOENT);		/* a receipt from before: stale */
	for (got = 0; got < HELD_N - 1 + HELD_DELAYED;) {
		int n = held_recv(q, &m, 600, 10 * SEC);

		ck_assert_msg(n == 1, "receive after the restart: %d, %d of %d",
			      n, got, HELD_N - 1 + HELD_DELAYED);
		for (i = 0; i < HELD_N + HELD_DELAYED; i++)
			if (ids[i] == m.in.id)
				break;
		ck_assert_msg(i < HELD_N + HELD_DELAYED, "an unknown message");
		ck_assert_msg(i != 0, "the deleted message came back");
		ck_assert_msg(!seen[i], "message %d twice", i);
		seen[i] = true;
		if (i >= HELD_N) {		/* delayed: not before its time */
			clock_gettime(CLOCK_REALTIME, &ts);
			ck_assert_uint_ge((uint64_t)ts.tv_sec * SEC +
					  (uint64_t)ts.tv_nsec,
					  t0 + (uint64_t)HELD_DELAY_S * SEC);
			ck_assert_uint_eq(m.in.receive_count, 1);
		} else if (i < HELD_LEASED) {	/* leased before: counted */
			ck_assert_uint_eq(m.in.receive_count, 2);
		}
		ck_assert_int_eq(kmq_delete_msgs(q, &m.in.receipt, &st, 1), 1);
		got++;
	}
	ck_assert_int_eq(held_recv(q, &m, 600, 0), -EAGAIN);

	/* FIFO: a1 first in A again; both groups in order */
	while (next_a <= 5 || next_b <= 5) {
		ck_assert_int_eq(held_recv(f, &m, 600, 5 * SEC), 1);
		if (m.body[0] == 'a') {
			ck_assert_int_eq(atoi(m.body + 1), next_a);
			if (next_a == 1)
				ck_assert_uint_eq(m.in.receive_count, 2);
			next_a++;
		} else {
			ck_assert_int_eq(m.body[0], 'b');
			ck_assert_int_eq(atoi(m.body + 1), next_b);
			next_b++;
		}
		ck_assert_int_eq(kmq_delete_msgs(f, &m.in.receipt, &st, 1), 1);
	}
	ck_assert_int_eq(held_recv(f, &m, 600, 0), -EAGAIN);
	/* The deduplication window outlived kmqd: a send retried with an id
	 * accepted before the kill is a duplicate (its first id back). */
	{
		struct kmq_out o = { .body = "a3", .len = 2, .delay_s = -1,
				     .group = "A", .dedup = "a3" };

		int n = kmq_send_msgs(f, &o, 1);

		ck_assert_msg(n == 1 && !o.status, "resend: %d, status %d", n, o.status);
		ck_assert_int_eq(o.duplicate, 1);
		ck_assert_int_eq(held_recv(f, &m, 600, 0), -EAGAIN);
	}
	/* the queue works on after the restart */
	ck_assert_int_eq(held_send(f, "a6", -1, "A", NULL), 0);
	ck_assert_int_eq(held_recv(f, &m, 600, 5 * SEC), 1);
	ck_assert_str_eq(m.body, "a6");
	ck_assert_int_eq(kmq_delete_msgs(f, &m.in.receipt, &st, 1), 1);
	fprintf(stderr, "kill9_held_messages: %d standard (%d leased, %d delayed) and 10 FIFO messages held through kill -9, 0 lost, 0 duplicates\n",
		HELD_N - 1 + HELD_DELAYED, HELD_LEASED - 1, HELD_DELAYED);
	kmq_close(q);
	kmq_close(f);
	ck_assert_int_eq(kmq_delete("held"), 0);
	ck_assert_int_eq(kmq_delete("held.fifo"), 0);
	kd_stop(&k, SIGTERM);
	kd_cleanup(&k);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmqd");
	TCase *tc = tcase_create("daemon");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, garbage_clients);
	tcase_add_test(tc, sighup_reload);
	tcase_add_test(tc, sigterm_and_adoption);
	tcase_add_test(tc, kill9_under_load);
	tcase_add_test(tc, kill9_held_messages);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
