// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl create-topic NAME [--attributes JSON|K=V,...] [--capacity N]
 * [--max-message-size BYTES] [--mode 0600]: creates the topic and its inbox
 * queue (the mode says who may publish); prints {"TopicArn"} as aws sns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kmqctl.h"

int create_topic_main(int argc, char **argv)
{
	const char *cmd = argv[0], *name = NULL, *attr_arg = NULL, *cap = NULL;
	const char *size = NULL, *mode = NULL;
	const struct targ a[] = {
		{ "name", NULL, &name, true, true, false },
		{ "attributes", NULL, &attr_arg, false, false, false },
		{ "capacity", NULL, &cap, false, false, false },
		{ "max-message-size", NULL, &size, false, false, false },
		{ "mode", NULL, &mode, false, false, false },
	};
	struct json_object *attrs = NULL, *req;
	struct kmq_qattr qa = { 0 };
	uint64_t v;
	int err = topic_args(argc, argv, a, 5);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	if (cap) {
		if (parse_uint(cmd, "--capacity", cap, 10, 1, KMQ_CAPACITY_MAX, &v))
			return EXIT_USAGE;
		qa.capacity = (uint32_t)v;
	}
	if (size) {
		if (parse_uint(cmd, "--max-message-size", size, 10, 64, KMQ_MSG_MAX, &v))
			return EXIT_USAGE;
		qa.max_msg_size = (uint32_t)v;
	}
	if (mode) {
		if (parse_uint(cmd, "--mode", mode, 8, 0, 0777, &v))
			return EXIT_USAGE;
		qa.mode = (uint32_t)v;
	}
	if (attr_arg) {
		attrs = parse_string_map(cmd, "--attributes", attr_arg);
		if (!attrs)
			return EXIT_USAGE;
	}
	err = kmq_topic_create(name, &qa, attrs ?
			       json_object_to_json_string_ext(attrs, JSON_C_TO_STRING_PLAIN) : NULL);
	json_object_put(attrs);
	if (err == -EINVAL || err == -EOPNOTSUPP) {
		/* Ask again for kmqd's reason (the inbox exists by now or the
		 * name is bad: either way the reply says). */
		req = topic_req("create-topic");
		req_str(req, "name", name);
		return topic_request(cmd, req, false) ? EXIT_FAIL :
		       fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	}
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	{
		struct json_object *o = json_object_new_object();
		char arn[160];

		snprintf(arn, sizeof(arn), "arn:kmq:sns:local:%s", name);
		json_object_object_add(o, "TopicArn", json_object_new_string(arn));
		return print_json(cmd, o);
	}
}
