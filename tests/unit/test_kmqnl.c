// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * libkmqnl and kmqd's netlink client on a host without kmq.ko: opening
 * either says -ENOENT (the family is absent) and leaves nothing behind,
 * and notifications are named and formatted as kmqd's callback gets them.
 * (With kmq.ko loaded, tests/vm/netlink_test covers the rest.)
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/kmq.h>

#include "genl.h"
#include "kmqnl.h"

static void never(void *arg, const char *type, const char *queue,
		  const char *detail)
{
	ck_abort_msg("no event can come: %s %s %s", type, queue, detail);
}

START_TEST(family_absent)
{
	struct kmqd_genl *g = (struct kmqd_genl *)&g;
	struct kmqnl *nl = (struct kmqnl *)&nl;
	int err = kmqnl_open(&nl);

	if (err == 0) {		/* this kernel has kmq.ko loaded */
		kmqnl_close(nl);
		return;
	}
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_ptr_null(nl);
	ck_assert_int_eq(kmqnl_events_open(&nl, true), -ENOENT);
	ck_assert_ptr_null(nl);
	ck_assert_int_eq(kmqd_genl_open(&g, never, NULL), -ENOENT);
	ck_assert_ptr_null(g);
	kmqnl_close(NULL);
	kmqd_genl_close(NULL);
	ck_assert_str_eq(kmqnl_errmsg(NULL), "");
}
END_TEST

START_TEST(event_strings)
{
	struct kmqnl_event ev;
	char buf[256];

	memset(&ev, 0, sizeof(ev));
	ev.type = KMQ_GENL_EVENT_QUEUE_CREATED;
	ev.uid = 1000;
	ev.gid = 100;
	ev.mode = 0640;
	ev.capacity = 8;
	ev.max_msg_size = 256;
	ck_assert_str_eq(kmqnl_event_type(ev.type), "queue-created");
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, sizeof(buf)),
			 "uid=1000 gid=100 mode=0640 capacity=8 max_msg_size=256");
	ev.type = KMQ_GENL_EVENT_QUEUE_DELETED;
	ck_assert_str_eq(kmqnl_event_type(ev.type), "queue-deleted");
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, sizeof(buf)), "uid=1000");
	ev.type = KMQ_GENL_EVENT_QUEUE_FULL;
	ev.suppressed = 7;
	ck_assert_str_eq(kmqnl_event_type(ev.type), "queue-full");
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, sizeof(buf)),
			 "uid=1000 capacity=8 suppressed=7");
	ev.type = KMQ_GENL_EVENT_MSG_DEAD_LETTERED;
	ev.msg_id = 42;
	ev.receive_count = 5;
	strcpy(ev.dlq_name, "orders-dlq");
	ck_assert_str_eq(kmqnl_event_type(ev.type), "message-dead-lettered");
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, sizeof(buf)),
			 "uid=1000 dlq=orders-dlq msg_id=42 receive_count=5");
	ev.type = KMQ_GENL_EVENT_LEASES_EXPIRED;
	ev.count = 12;
	ck_assert_str_eq(kmqnl_event_type(ev.type), "leases-expired");
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, sizeof(buf)),
			 "uid=1000 count=12");
	ck_assert_str_eq(kmqnl_event_type(KMQ_GENL_EVENT_MAX + 1), "unknown");
	/* A short buffer is cut, still terminated. */
	ev.type = KMQ_GENL_EVENT_QUEUE_FULL;
	ck_assert_str_eq(kmqnl_event_detail(&ev, buf, 6), "uid=1");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kmqnl");
	TCase *tc = tcase_create("kmqnl");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, family_absent);
	tcase_add_test(tc, event_strings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
