// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl purge-queue --queue NAME: drops every visible, delayed and
 * in-flight message at once. Prints nothing, as aws. */
#include "kmqctl.h"

int purge_queue_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *name;
	int c, err;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	arg = positional(cmd, argc, argv, arg, "--queue NAME");
	if (!arg)
		return EXIT_USAGE;
	name = parse_queue(cmd, arg);
	if (!name)
		return EXIT_USAGE;
	err = kmq_purge(name);
	return err ? fail(EXIT_FAIL, err, "%s: %s", cmd, name) : 0;
}
