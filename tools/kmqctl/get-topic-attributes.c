// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl get-topic-attributes --topic NAME|ARN: its attributes and
 * counters (kmq.Published, kmq.Delivered, kmq.Filtered, kmq.Failed). */
#include "kmqctl.h"

int get_topic_attributes_main(int argc, char **argv)
{
	return topic_verb(argc, argv, "get-topic-attributes", true);
}
