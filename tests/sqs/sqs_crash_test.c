// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Leases under crashes and competition, through libkmq (include/kmq.h):
 *  - 240 consumer processes, 4 at a time, each killed with SIGKILL at a
 *    random moment after (or before) its receive, mostly before its delete;
 *    with 1 s leases what they held comes back, and in the end every
 *    message was deleted exactly once and none is lost (by body);
 *  - a FIFO queue with 4 competing consumers keeps each group's order.
 */
#include <stdatomic.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "sqs.h"

#define NMSG		200
#define ITERATIONS	240
#define PARALLEL	4

/* Shared between the consumers and the checker, one per message: receives
 * seen, deletes begun, deletes that returned 0, deletes that returned
 * -ENOENT (a lease that had expired and was taken again). */
struct ledger {
	atomic_int received[NMSG];
	atomic_int begun[NMSG];
	atomic_int deleted[NMSG];
	atomic_int stale[NMSG];
	atomic_int bad;
	atomic_int has[PARALLEL];	/* consumer k holds a message now */
};

static int body_index(const struct st_msg *m)
{
	int i;

	if (sscanf(m->body, "m%d", &i) != 1 || i < 0 || i >= NMSG)
		return -1;
	return i;
}

/* consumer - one message: receive it, dawdle a random while, delete it,
 * recording each step; killed at any point by the parent. */
static void consumer(const char *name, struct ledger *l, int k,
		     unsigned int seed)
{
	struct st_msg m;
	struct kmq *q;
	int i, st;

	if (kmq_open(name, KMQ_RECV, &q))
		_exit(2);
	if (st_recv(q, &m, 1, 1, 2 * NSEC) != 1)
		_exit(0);	/* none visible now: fine */
	i = body_index(&m);
	if (i < 0) {
		atomic_fetch_add(&l->bad, 1);
		_exit(3);
	}
	atomic_fetch_add(&l->received[i], 1);
	atomic_store(&l->has[k], 1);
	st_sleep_ms(rand_r(&seed) % 24);	/* processing: a window to die in */
	atomic_fetch_add(&l->begun[i], 1);
	st = st_delete(q, m.in.receipt);
	if (!st)
		atomic_fetch_add(&l->deleted[i], 1);
	else if (st == -ENOENT)
		atomic_fetch_add(&l->stale[i], 1);
	else
		atomic_fetch_add(&l->bad, 1);
	kmq_close(q);
	_exit(0);
}

START_TEST(kill9_between_receive_and_delete)
{
	struct ledger *l;
	struct st_msg m[KMQ_SQS_BATCH_MAX];
	int drained[NMSG] = { 0 };
	unsigned int seed = (unsigned int)getpid();
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "kill9"), 256,
				 64, 0);
	int i, k, n, killed = 0, empty = 0;

	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(l, MAP_FAILED);
	memset(l, 0, sizeof(*l));
	ck_assert_int_eq(st_policy(name, p->visibility_s = 1), 0);
	for (i = 0; i < NMSG; i++) {
		char body[16];

		snprintf(body, sizeof(body), "m%d", i);
		ck_assert_int_eq(st_send(q, body), 0);
	}

	for (i = 0; i < ITERATIONS; i += PARALLEL) {
		pid_t pids[PARALLEL];

		for (k = 0; k < PARALLEL; k++) {
			unsigned int s = (unsigned int)rand_r(&seed);

			atomic_store(&l->has[k], 0);
			pids[k] = fork();
			ck_assert_int_ge(pids[k], 0);
			if (!pids[k])
				consumer(name, l, k, s);
		}
		/* Each consumer dies a random while (0-19 ms) after it has a
		 * message, its processing taking 0-23 ms; or before it gets
		 * one, when that takes over 100 ms. */
		{
			int64_t start = st_now(), at[PARALLEL] = { 0 };
			int left = PARALLEL;

			while (left) {
				int64_t now = st_now();

				for (k = 0; k < PARALLEL; k++) {
					if (at[k] < 0)
						continue;
					if (!at[k] && (atomic_load(&l->has[k]) ||
						       now - start > 100 * MSEC))
						at[k] = now + (rand_r(&seed) % 20) * MSEC + 1;
					if (at[k] && now >= at[k]) {
						kill(pids[k], SIGKILL);
						at[k] = -1;
						left--;
					}
				}
				st_sleep_ms(1);
			}
		}
		for (k = 0; k < PARALLEL; k++) {
			int status;

			ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
			if (WIFSIGNALED(status))
				killed++;
			else
				ck_assert_msg(WEXITSTATUS(status) == 0,
					      "consumer exit %d", WEXITSTATUS(status));
		}
	}
	ck_assert_int_eq(atomic_load(&l->bad), 0);

	/* Drain: the leases the dead held expire within a second. */
	while (empty < 2) {
		uint64_t r[KMQ_SQS_BATCH_MAX];
		int st[KMQ_SQS_BATCH_MAX];

		n = st_recv(q, m, KMQ_SQS_BATCH_MAX, 60, 2 * NSEC);
		if (n == -ETIMEDOUT || n == -EAGAIN) {
			empty++;
			continue;
		}
		ck_assert_int_gt(n, 0);
		empty = 0;
		for (k = 0; k < n; k++) {
			i = body_index(&m[k]);
			ck_assert_int_ge(i, 0);
			drained[i]++;
			r[k] = m[k].in.receipt;
		}
		ck_assert_int_eq(kmq_delete_msgs(q, r, st, (unsigned int)n), n);
	}

	for (i = 0; i < NMSG; i++) {
		int del = atomic_load(&l->deleted[i]);
		/* deletes begun whose outcome the kill hid */
		int unknown = atomic_load(&l->begun[i]) - del -
			      atomic_load(&l->stale[i]);

		ck_assert_msg(del + drained[i] <= 1,
			      "m%d deleted %d times and drained %d times", i,
			      del, drained[i]);
		ck_assert_msg(drained[i] <= 1, "m%d drained twice", i);
		ck_assert_msg(del + drained[i] == 1 || unknown > 0,
			      "m%d lost: received %d, deleted %d, drained %d",
			      i, atomic_load(&l->received[i]), del, drained[i]);
	}
	/* killed holding a lease: received, delete not begun */
	for (i = 0, k = 0; i < NMSG; i++)
		k += atomic_load(&l->received[i]) - atomic_load(&l->begun[i]);
	ck_assert_int_gt(k, 0);
	st_empty(q);
	fprintf(stderr, "kill9: %d of %d consumers killed, %d holding a lease\n",
		killed, ITERATIONS, k);
	kmq_close(q);
	kmq_delete(name);
	munmap(l, sizeof(*l));
}
END_TEST

#define NGROUPS		4
#define PER_GROUP	25

/* 4 consumers on one FIFO queue: whatever they interleave, each group's
 * messages are processed in their send order, each once. */
START_TEST(fifo_competing_consumers)
{
	struct order {
		atomic_int next[NGROUPS];
		atomic_int done;
		atomic_int bad;
	} *o;
	char name[96];
	struct kmq *q = st_queue(st_name(name, sizeof(name), "compete.fifo"),
				 128, 64, 0);
	pid_t pids[4];
	int g, i, k;

	o = mmap(NULL, sizeof(*o), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(o, MAP_FAILED);
	memset(o, 0, sizeof(*o));
	for (i = 0; i < PER_GROUP; i++)
		for (g = 0; g < NGROUPS; g++) {
			char body[16], group[8], dedup[16];

			snprintf(body, sizeof(body), "%d:%d", g, i);
			snprintf(group, sizeof(group), "g%d", g);
			snprintf(dedup, sizeof(dedup), "%d-%d", g, i);
			ck_assert_int_eq(st_send_full(q, body, -1, group, dedup,
						      NULL), 0);
		}
	for (k = 0; k < 4; k++) {
		pids[k] = fork();
		ck_assert_int_ge(pids[k], 0);
		if (pids[k])
			continue;
		{
			struct kmq *c;
			struct st_msg m[KMQ_SQS_BATCH_MAX];
			int64_t end = st_now() + 60 * NSEC;

			if (kmq_open(name, KMQ_RECV, &c))
				_exit(2);
			while (atomic_load(&o->done) < NGROUPS * PER_GROUP &&
			       st_now() < end) {
				uint64_t r[KMQ_SQS_BATCH_MAX];
				int st[KMQ_SQS_BATCH_MAX];
				int n = st_recv(c, m, 1 + k, 30, 200 * MSEC), j;

				for (j = 0; j < n; j++) {
					int want;

					if (sscanf(m[j].body, "%d:%d", &g, &i) != 2 ||
					    g < 0 || g >= NGROUPS)
						_exit(3);
					want = i;
					if (!atomic_compare_exchange_strong(
						    &o->next[g], &want, i + 1))
						atomic_fetch_add(&o->bad, 1);
					atomic_fetch_add(&o->done, 1);
					r[j] = m[j].in.receipt;
				}
				if (n > 0 && kmq_delete_msgs(c, r, st,
							     (unsigned int)n) != n)
					atomic_fetch_add(&o->bad, 1);
			}
			kmq_close(c);
			_exit(0);
		}
	}
	for (k = 0; k < 4; k++) {
		int status;

		ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
		ck_assert(WIFEXITED(status) && !WEXITSTATUS(status));
	}
	ck_assert_int_eq(atomic_load(&o->bad), 0);
	ck_assert_int_eq(atomic_load(&o->done), NGROUPS * PER_GROUP);
	for (g = 0; g < NGROUPS; g++)
		ck_assert_int_eq(atomic_load(&o->next[g]), PER_GROUP);
	st_empty(q);
	kmq_close(q);
	kmq_delete(name);
	munmap(o, sizeof(*o));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqs-crash");
	TCase *tc = tcase_create("crash");
	SRunner *sr;
	int failed;

	st_prog = "sqscrash";
	st_require();
	tcase_add_test(tc, kill9_between_receive_and_delete);
	tcase_add_test(tc, fifo_competing_consumers);
	tcase_set_timeout(tc, 240);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
