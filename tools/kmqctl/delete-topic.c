// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl delete-topic NAME|ARN: deletes the topic, its subscriptions and its
 * inbox queue; prints nothing, like aws. */
#include <string.h>
#include "kmqctl.h"

int delete_topic_main(int argc, char **argv)
{
	const char *cmd = argv[0], *name = NULL, *p;
	const struct targ a = { "topic", "topic-arn", &name, true, true, false };
	int err = topic_args(argc, argv, &a, 1);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
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
