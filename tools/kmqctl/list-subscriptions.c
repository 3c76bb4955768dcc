// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl list-subscriptions [--topic NAME|ARN]: {"Subscriptions": [...]}
 * as aws sns list-subscriptions (-by-topic). */
#include "kmqctl.h"

int list_subscriptions_main(int argc, char **argv)
{
	const char *topic = NULL;
	const struct targ a = { "topic", "topic-arn", &topic, false, false, false };
	struct json_object *req;
	int err = topic_args(argc, argv, &a, 1);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	req = topic_req("list-subscriptions");
	req_str(req, "topic", topic);
	return topic_request(argv[0], req, true);
}
