// SPDX-License-Identifier: GPL-2.0
/*
 * kmq.ko: kernel-assisted shared-memory message queues. Module parameters,
 * and the order in which the parts start and stop.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sizes.h>

#include "dev.h"
#include "netlink.h"
#include "queue.h"
#include "registry.h"
#include "repair.h"
#include "sqs.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static unsigned int max_queues = 1024;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues, "Most queues alive at once (default 1024); -ENOSPC beyond");

static unsigned long long max_bytes;
module_param(max_bytes, ullong, 0444);
MODULE_PARM_DESC(max_bytes, "Most bytes of queue memory in total (0: 1/8 of RAM, at most 1 GiB); -ENOSPC beyond");

static unsigned long long max_user_bytes;
module_param(max_user_bytes, ullong, 0444);
MODULE_PARM_DESC(max_user_bytes, "Most bytes of queue memory per owner uid (0: max_bytes / 2); -EDQUOT beyond");

static int __init kmq_mod_init(void)
{
	struct kmq_limits limits;
	int err;

	if (!max_bytes)
		max_bytes = min_t(u64, (u64)totalram_pages() << PAGE_SHIFT >> 3,
				  SZ_1G);
	if (!max_user_bytes)
		max_user_bytes = max_bytes / 2;
	limits.max_queues = max_queues;
	limits.max_bytes = max_bytes;
	limits.max_user_bytes = max_user_bytes;

	err = kmq_queue_init();
	if (err)
		return err;
	err = kmq_repair_init();
	if (err)
		goto err_queue;
	err = kmq_sqs_init();
	if (err)
		goto err_repair;
	err = kmq_registry_init(&limits);
	if (err)
		goto err_sqs;
	/* Before /dev/kmq: creations through it are announced from the
	 * start. */
	err = kmq_nl_init();
	if (err)
		goto err_registry;
	err = kmq_dev_init();
	if (err)
		goto err_netlink;

	pr_info("loaded: max_queues=%u max_bytes=%llu max_user_bytes=%llu\n",
		max_queues, max_bytes, max_user_bytes);
	return 0;

err_netlink:
	kmq_nl_uninit();
err_registry:
	kmq_sqs_stop();
	kmq_registry_uninit();
err_sqs:
	kmq_sqs_uninit();
err_repair:
	kmq_repair_uninit();
err_queue:
	kmq_queue_uninit();
	return err;
}

static void __exit kmq_mod_exit(void)
{
	u64 qc, qd, sc, sd;

	kmq_dev_uninit();
	kmq_nl_uninit();
	/* Deferred repairs end first: they may free queues, charged to the
	 * registry, and their code must not go while they run. */
	kmq_repair_uninit();
	/* The sweep holds queue references while it runs: stop it before
	 * the registry drops the last ones. Queue frees stop their own
	 * timers and works; then the workqueue can go. */
	kmq_sqs_stop();
	kmq_registry_uninit();
	kmq_sqs_uninit();
	kmq_queue_uninit();
	kmq_queue_stats(&qc, &qd, &sc, &sd);
	pr_info("exit: queues created=%llu destroyed=%llu slots created=%llu destroyed=%llu\n",
		qc, qd, sc, sd);
}

module_init(kmq_mod_init);
module_exit(kmq_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmq: kernel-assisted shared-memory message queues");
MODULE_AUTHOR("kmq authors");
