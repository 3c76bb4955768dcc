// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl unsubscribe --subscription-arn ARN: prints nothing, like aws. */
#include "kmqctl.h"

int unsubscribe_main(int argc, char **argv)
{
	return sub_verb(argc, argv, "unsubscribe", false);
}
