// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl change-message-visibility --queue NAME --receipt-handle H
 * --visibility-timeout 0-43200: the lease of a received message now ends
 * that many seconds from now (0: visible again at once). Prints nothing. */
#include <stdio.h>
#include "kmqctl.h"

int change_message_visibility_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "receipt-handle", required_argument, NULL, 'r' },
		{ "visibility-timeout", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *handle = NULL, *name;
	uint64_t vis = UINT64_MAX;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'r':
			handle = optarg;
			break;
		case 'v':
			if (parse_uint(cmd, "--visibility-timeout", optarg, 10,
				       0, KMQ_VISIBILITY_MAX, &vis))
				return EXIT_USAGE;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return EXIT_USAGE;
	name = parse_queue(cmd, arg);
	if (!name)
		return EXIT_USAGE;
	if (vis == UINT64_MAX)
		return fail(EXIT_USAGE, EINVAL,
			    "%s: missing --visibility-timeout 0-%d", cmd,
			    KMQ_VISIBILITY_MAX);
	return settle_one(cmd, name, handle, (int)vis);
}
