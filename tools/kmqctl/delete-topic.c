// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl delete-topic NAME|ARN: deletes the topic, its subscriptions and its
 * inbox queue; prints nothing, like aws. */
#include <string.h>
#include "kmqctl.h"

int delete_topic_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "topic-arn", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *name = NULL, *p;
	int c, err;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 't':
			name = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	name = positional(cmd, argc, argv, name, "topic NAME");
	if (!name)
		return EXIT_USAGE;
	p = strrchr(name, ':');
	if (p)
		name = p + 1;
	err = kmq_topic_delete(name);
	if (err) {
		struct json_object *req = topic_req("delete-topic");

		req_str(req, "name", name);
		if (topic_request(cmd, req, false))	/* prints kmqd's reason */
			return EXIT_FAIL;
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	}
	return 0;
}
