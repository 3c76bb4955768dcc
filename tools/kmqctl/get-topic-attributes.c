// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl get-topic-attributes --topic NAME|ARN: its attributes and
 * counters (kmq.Published, kmq.Delivered, kmq.Filtered, kmq.Failed). */
#include "kmqctl.h"

int get_topic_attributes_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "topic-arn", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *name = NULL;
	struct json_object *req;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		if (c == 't')
			name = optarg;
		else
			return c == 'h' ? 0 : EXIT_USAGE;
	}
	name = positional(argv[0], argc, argv, name, "topic NAME");
	if (!name)
		return EXIT_USAGE;
	req = topic_req("get-topic-attributes");
	req_str(req, "name", name);
	return topic_request(argv[0], req, true);
}
