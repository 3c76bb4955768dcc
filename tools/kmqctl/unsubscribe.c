// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl unsubscribe --subscription-arn ARN: prints nothing, like aws. */
#include "kmqctl.h"

int unsubscribe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subscription-arn", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *arn = NULL;
	struct json_object *req;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		if (c == 's')
			arn = optarg;
		else
			return c == 'h' ? 0 : EXIT_USAGE;
	}
	arn = positional(argv[0], argc, argv, arn, "subscription ARN");
	if (!arn)
		return EXIT_USAGE;
	req = topic_req("unsubscribe");
	req_str(req, "subscription", arn);
	return topic_request(argv[0], req, false);
}
