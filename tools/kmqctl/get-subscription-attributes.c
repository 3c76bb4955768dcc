// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl get-subscription-attributes --subscription-arn ARN: its attributes
 * and counters (kmq.Delivered, kmq.Filtered, kmq.Failed, kmq.Retries,
 * kmq.DeadLettered, kmq.Dropped; queues: kmq.Pending). */
#include "kmqctl.h"

int get_subscription_attributes_main(int argc, char **argv)
{
	return sub_verb(argc, argv, "get-subscription-attributes", true);
}
