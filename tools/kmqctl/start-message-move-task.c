// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl start-message-move-task --source Q [--destination Q]
 * [--max-number-of-messages-per-second 1-500]: redrive. Moves the visible
 * messages of Q (a dead-letter queue, usually) to the destination, keeping
 * their attributes, ids and sent times; the destination defaults to the
 * queue whose RedrivePolicy names Q. Runs to the end (aws starts a task)
 * and prints what moved. Queues by NAME, kmq:///NAME or ARN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kmqctl.h"

#define RATE_MAX	500
#define CHUNK		1024

/* redrive_source - the one queue whose RedrivePolicy names @dlq, into
 * @out. Prints the error (none, or several) and returns -1 otherwise. */
static int redrive_source(const char *cmd, const char *dlq,
			  char out[KMQ_NAME_LEN])
{
	struct kmq_info infos[64];
	unsigned int start = 0, total = 0, found = 0;
	char names[256] = "";
	int n, i;

	do {
		n = kmq_list(infos, 64, start, &total);
		if (n < 0) {
			fail(EXIT_FAIL, n, "%s: listing queues", cmd);
			return -1;
		}
		for (i = 0; i < n; i++) {
			struct kmq_policy p;

			if (kmq_get_policy(infos[i].name, &p) || strcmp(p.dlq, dlq))
				continue;
			if (!found++)
				snprintf(out, KMQ_NAME_LEN, "%s", infos[i].name);
			if (strlen(names) + strlen(infos[i].name) + 3 < sizeof(names))
				snprintf(names + strlen(names),
					 sizeof(names) - strlen(names), "%s%s",
					 found > 1 ? ", " : "", infos[i].name);
		}
		start += (unsigned int)n;
	} while (n > 0 && start < total);
	if (found == 1)
		return 0;
	if (!found)
		fail(EXIT_FAIL, ENOENT,
		     "%s: no queue's RedrivePolicy names %s: give --destination",
		     cmd, dlq);
	else
		fail(EXIT_USAGE, EINVAL,
		     "%s: %u queues use %s as their dead-letter queue (%s): give --destination",
		     cmd, found, dlq, names);
	return -1;
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

int start_message_move_task_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "source", required_argument, NULL, 's' },
		{ "source-arn", required_argument, NULL, 's' },
		{ "destination", required_argument, NULL, 'd' },
		{ "destination-arn", required_argument, NULL, 'd' },
		{ "max-number-of-messages-per-second", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *src_arg = NULL, *dst_arg = NULL, *src, *dst;
	char dstbuf[KMQ_NAME_LEN], arn[KMQ_NAME_LEN + 40];
	struct json_object *out;
	uint64_t rate = 0, moved = 0;
	struct timespec next;
	int c, n;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 's':
			src_arg = optarg;
			break;
		case 'd':
			dst_arg = optarg;
			break;
		case 'r':
			if (parse_uint(cmd, "--max-number-of-messages-per-second",
				       optarg, 10, 1, RATE_MAX, &rate))
				return EXIT_USAGE;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return EXIT_USAGE;
	src = parse_name_or_arn(cmd, "--source", src_arg);
	if (!src)
		return EXIT_USAGE;
	if (dst_arg) {
		dst = parse_name_or_arn(cmd, "--destination", dst_arg);
		if (!dst)
			return EXIT_USAGE;
	} else {
		if (redrive_source(cmd, src, dstbuf))
			return EXIT_FAIL;
		dst = dstbuf;
	}
	if (!strcmp(src, dst))
		return fail(EXIT_USAGE, EINVAL,
			    "%s: --source and --destination are the same queue", cmd);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		unsigned int chunk = rate ? (unsigned int)rate : CHUNK;

		n = kmq_move(src, dst, chunk);
		if (n < 0) {
			if (moved)
				fprintf(stderr, "kmqctl: %s: %llu moved before the error\n",
					cmd, (unsigned long long)moved);
			return fail(EXIT_FAIL, n, "%s: moving %s to %s", cmd, src, dst);
		}
		moved += (unsigned int)n;
		if ((unsigned int)n < chunk)
			break;
		if (rate) {
			next.tv_sec++;
			sleep_until(&next);
		}
	}
	out = json_object_new_object();
	json_object_object_add(out, "SourceArn",
			       json_object_new_string(queue_arn(arn, sizeof(arn), src)));
	json_object_object_add(out, "DestinationArn",
			       json_object_new_string(queue_arn(arn, sizeof(arn), dst)));
	json_object_object_add(out, "ApproximateNumberOfMessagesMoved",
			       json_object_new_int64((int64_t)moved));
	return print_json(cmd, out);
}
