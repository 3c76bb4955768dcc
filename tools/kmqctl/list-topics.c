// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl list-topics: {"Topics": [{"TopicArn", "Name"}]} as aws sns. */
#include "kmqctl.h"

int list_topics_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1)
		return c == 'h' ? 0 : EXIT_USAGE;
	if (optind < argc)
		return fail(EXIT_USAGE, EINVAL, "%s: unexpected argument '%s'",
			    argv[0], argv[optind]);
	return topic_request(argv[0], topic_req("list-topics"), true);
}
