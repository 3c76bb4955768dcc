// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl list-subscriptions [--topic NAME|ARN]: {"Subscriptions": [...]}
 * as aws sns list-subscriptions (-by-topic). */
#include "kmqctl.h"

int list_subscriptions_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "topic-arn", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *topic = NULL;
	struct json_object *req;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		if (c == 't')
			topic = optarg;
		else
			return c == 'h' ? 0 : EXIT_USAGE;
	}
	if (optind < argc)
		return fail(EXIT_USAGE, EINVAL, "%s: unexpected argument '%s'",
			    argv[0], argv[optind]);
	req = topic_req("list-subscriptions");
	req_str(req, "topic", topic);
	return topic_request(argv[0], req, true);
}
