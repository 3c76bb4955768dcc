// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl list-queues [--queue-name-prefix P]: prints {"QueueUrls": [...]}
 * (an empty list when there are none, so scripts need no special case). */
#include <string.h>
#include "kmqctl.h"

#define CHUNK	64

int list_queues_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue-name-prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *prefix = "";
	struct kmq_info infos[CHUNK];
	struct json_object *out, *urls;
	unsigned int start = 0, total = 0;
	char url[KMQ_NAME_LEN + 16];
	int c, n, i;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 'p':
			prefix = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!positional(cmd, argc, argv, "", NULL))
		return EXIT_USAGE;

	urls = json_object_new_array();
	do {
		n = kmq_list(infos, CHUNK, start, &total);
		if (n < 0) {
			json_object_put(urls);
			return fail(EXIT_FAIL, n, "%s", cmd);
		}
		for (i = 0; i < n; i++) {
			char *name = infos[i].name;

			name[KMQ_NAME_LEN - 1] = '\0';
			if (strncmp(name, prefix, strlen(prefix)))
				continue;
			json_object_array_add(urls, json_object_new_string(
					queue_url(url, sizeof(url), name)));
		}
		start += (unsigned int)n;
	} while (n == CHUNK && start < total);
	out = json_object_new_object();
	json_object_object_add(out, "QueueUrls", urls);
	return print_json(cmd, out);
}
