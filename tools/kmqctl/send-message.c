// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl send-message --queue NAME --message-body TEXT|-: sends one message
 * without waiting for room; prints its MD5OfMessageBody and MessageId. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kmqctl.h"

int send_message_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue", required_argument, NULL, 'q' },
		{ "queue-url", required_argument, NULL, 'q' },
		{ "message-body", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *arg = NULL, *body = NULL, *name;
	unsigned char *data = NULL;
	struct json_object *out;
	char md5[33], id_str[24];
	struct kmq *q;
	uint64_t id = 0;
	ssize_t len;
	int c, err;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'q':
			arg = optarg;
			break;
		case 'b':
			body = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return EXIT_USAGE;
	if (!body)
		return fail(EXIT_USAGE, EINVAL, "%s: missing --message-body TEXT",
			    cmd);
	name = parse_queue(cmd, arg);
	if (!name)
		return EXIT_USAGE;

	if (!strcmp(body, "-")) {
		len = read_all(STDIN_FILENO, KMQ_MSG_MAX, &data);
		if (len < 0)
			return fail(EXIT_FAIL, (int)len, "%s: reading the body",
				    cmd);
	} else {
		len = (ssize_t)strlen(body);
	}
	err = kmq_open(name, KMQ_SEND, &q);
	if (err) {
		free(data);
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	}
	err = kmq_send_id(q, data ? (void *)data : body, (size_t)len, &id, 0);
	kmq_close(q);
	if (!err)
		md5_hex(data ? (void *)data : body, (size_t)len, md5);
	free(data);
	if (err == -EAGAIN)
		return fail(EXIT_FAIL, err, "%s: %s is full", cmd, name);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);

	snprintf(id_str, sizeof(id_str), "%016" PRIx64, id);
	out = json_object_new_object();
	json_object_object_add(out, "MD5OfMessageBody",
			       json_object_new_string(md5));
	json_object_object_add(out, "MessageId", json_object_new_string(id_str));
	return print_json(cmd, out);
}
