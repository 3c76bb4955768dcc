// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl list-queues [--queue-name-prefix P]: prints {"QueueUrls": [...]}
 * (an empty list when there are none, so scripts need no special case),
 * from one netlink dump where the kernel offers it, else through libkmq. */
#include <string.h>
#include "kmqctl.h"
#include "kmqnl.h"

#define CHUNK	64

#define NAME_CHARS \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

struct list_ctx {
	struct json_object *urls;
	const char *prefix;
};

static void add_url(struct list_ctx *l, char *name)
{
	char url[KMQ_NAME_LEN + 16];

	name[KMQ_NAME_LEN - 1] = '\0';
	if (strncmp(name, l->prefix, strlen(l->prefix)))
		return;
	json_object_array_add(l->urls, json_object_new_string(
			queue_url(url, sizeof(url), name)));
}

static int add_info(const struct kmq_info *info, void *arg)
{
	char name[KMQ_NAME_LEN];

	memcpy(name, info->name, sizeof(name));
	add_url(arg, name);
	return 0;
}

/* The kernel filters by a prefix that could be a name; any other matches
 * no queue, and is left to add_url to find so. */
static const char *kernel_prefix(const char *p)
{
	size_t n = strlen(p);

	return n && n <= KMQ_NAME_MAX && strspn(p, NAME_CHARS) == n ? p : NULL;
}

int list_queues_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue-name-prefix", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *prefix = "";
	struct kmq_info infos[CHUNK];
	struct json_object *out;
	unsigned int start = 0, total = 0;
	struct list_ctx l;
	struct kmqnl *nl;
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

	c = ctl_netlink(cmd, &nl);
	if (c)
		return c;
	l.urls = json_object_new_array();
	l.prefix = prefix;
	if (nl) {
		n = kmqnl_dump(nl, kernel_prefix(prefix), add_info, &l);
		if (n < 0) {
			json_object_put(l.urls);
			return ctl_netlink_fail(cmd, nl, n, "");
		}
		kmqnl_close(nl);
	} else {
		do {
			n = kmq_list(infos, CHUNK, start, &total);
			if (n < 0) {
				json_object_put(l.urls);
				return fail(EXIT_FAIL, n, "%s", cmd);
			}
			for (i = 0; i < n; i++)
				add_url(&l, infos[i].name);
			start += (unsigned int)n;
		} while (n == CHUNK && start < total);
	}
	out = json_object_new_object();
	json_object_object_add(out, "QueueUrls", l.urls);
	return print_json(cmd, out);
}
