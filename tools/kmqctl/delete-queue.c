// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl delete-queue NAME: removes the name; prints nothing, like aws. */
#include "kmqctl.h"

int delete_queue_main(int argc, char **argv)
{
	const char *name;
	int err = queue_only(argc, argv, "queue NAME", &name);

	if (err)
		return err > 0 ? 0 : EXIT_USAGE;
	err = kmq_delete(name);
	return err ? fail(EXIT_FAIL, err, "%s: %s", argv[0], name) : 0;
}
