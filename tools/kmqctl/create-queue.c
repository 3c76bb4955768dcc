// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl create-queue NAME [--capacity N] [--max-message-size B] [--mode M]
 * [--attributes JSON|Key=Value,...]: prints {"QueueUrl": "kmq:///NAME"}, as
 * `aws sqs create-queue` does. A name ending in ".fifo" makes a FIFO queue.
 * Creating a queue that exists is fine when its geometry and the attributes
 * given agree, as in SQS. */
#include <stdio.h>
#include <string.h>
#include "kmqctl.h"

static bool fifo_name(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && !strcmp(name + len - 5, ".fifo");
}

/* apply_policy - set the attributes @a on queue @name: just created
 * (@fresh: deleted again if they are refused), or existing (then they must
 * already be so: aws's QueueAlreadyExists). Returns the exit status. */
static int apply_policy(const char *cmd, const char *name,
			const struct qattrs *a, bool fresh)
{
	struct kmq_policy p, want;
	int err;

	err = kmq_get_policy(name, &p);
	if (err)
		goto err;
	want = p;
	if (qattrs_apply(cmd, a, &want)) {
		err = -EINVAL;
		goto err_usage;
	}
	if (!fresh) {
		if (memcmp(&p, &want, sizeof(p)))
			return fail(EXIT_FAIL, EEXIST,
				    "%s: %s exists with other attributes (QueueAlreadyExists)",
				    cmd, name);
		return 0;
	}
	err = kmq_set_policy(&want);
	if (err) {
		kmq_delete(name);
		return policy_error(cmd, name, &want, err);
	}
	return 0;
err_usage:
	if (fresh)
		kmq_delete(name);
	return EXIT_USAGE;
err:
	if (fresh)
		kmq_delete(name);
	return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
}

int create_queue_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "max-message-size", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "queue-name", required_argument, NULL, 'q' },
		{ "attributes", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct kmq_qattr attr = { 0 };
	struct qattrs qa = { .has_vis = false };
	bool fresh;
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
		case 'a':
			if (parse_qattrs(cmd, optarg, &qa))
				return EXIT_USAGE;
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

	if (qa.has_fifo && qa.fifo != fifo_name(name))
		return fail(EXIT_USAGE, EINVAL,
			    "%s: FifoQueue %s needs a name %s in .fifo", cmd,
			    qa.fifo ? "true" : "false",
			    qa.fifo ? "ending" : "not ending");
	if (fifo_name(name)) {
		attr.flags |= KMQ_CREATE_FIFO;
		qa.has_fifo = false;	/* the policy says so already */
	}
	/* The geometry's size is the policy's unless both are given. */
	if (qa.has_size && !attr.max_msg_size)
		attr.max_msg_size = qa.size;
	attr.flags |= KMQ_CREATE_EXCL;
	err = kmq_create(name, &attr);
	fresh = !err;
	if (err == -EEXIST) {
		attr.flags &= ~KMQ_CREATE_EXCL;
		err = kmq_create(name, &attr);
	}
	if (err == -EEXIST)
		return fail(EXIT_FAIL, err,
			    "%s: %s exists with another capacity, message size or type (QueueAlreadyExists)",
			    cmd, name);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	if (qa.has_vis || qa.has_ret || qa.has_delay || qa.has_wait ||
	    qa.has_size || qa.has_redrive || qa.has_cbd) {
		err = apply_policy(cmd, name, &qa, fresh);
		if (err)
			return err;
	}
	out = json_object_new_object();
	json_object_object_add(out, "QueueUrl",
			       json_object_new_string(queue_url(url, sizeof(url), name)));
	return print_json(cmd, out);
}
