// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl create-queue NAME [--capacity N] [--max-message-size B] [--mode M]:
 * prints {"QueueUrl": "kmq:///NAME"}, as `aws sqs create-queue` does. */
#include <stdio.h>
#include "kmqctl.h"

int create_queue_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "max-message-size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "queue-name", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct kmq_qattr attr = { 0 };
	const char *cmd = argv[0], *arg = NULL, *name;
	struct json_object *out;
	char url[KMQ_NAME_LEN + 16];
	uint64_t v;
	int c, err;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'c':
			if (parse_uint(cmd, "--capacity", optarg, 10, 1,
				       KMQ_CAPACITY_MAX, &v))
				return EXIT_USAGE;
			attr.capacity = (uint32_t)v;
			break;
		case 's':
			if (parse_uint(cmd, "--max-message-size", optarg, 10, 1,
				       KMQ_MSG_MAX, &v))
				return EXIT_USAGE;
			attr.max_msg_size = (uint32_t)v;
			break;
		case 'm':
			if (parse_uint(cmd, "--mode", optarg, 8, 0, 0777, &v))
				return EXIT_USAGE;
			/* 0 would mean "default" to libkmq: no mode bits at
			 * all is not a useful queue, so refuse it. */
			if (!v)
				return fail(EXIT_USAGE, ERANGE,
					    "%s: --mode '%s' is not in 01-0777",
					    cmd, optarg);
			attr.mode = (uint32_t)v;
			break;
		case 'q':
			arg = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	arg = positional(cmd, argc, argv, arg, "queue NAME");
	if (!arg)
		return EXIT_USAGE;
	name = parse_queue(cmd, arg);
	if (!name)
		return EXIT_USAGE;

	err = kmq_create(name, &attr);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	out = json_object_new_object();
	json_object_object_add(out, "QueueUrl",
			       json_object_new_string(queue_url(url, sizeof(url), name)));
	return print_json(cmd, out);
}
