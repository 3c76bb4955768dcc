// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl: dispatch to a subcommand from the { name, fn, help } table, as
 * WireGuard's wg does. Verbs and flags follow `aws sqs`, with --queue NAME
 * (or --queue-url kmq:///NAME) where aws takes a queue URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kmq/wire.h>
#include "kmqctl.h"

const struct command commands[] = {
	{ "create-queue", create_queue_main,
	  "NAME [--capacity N] [--max-message-size BYTES] [--mode 0600] [--attributes JSON|K=V,...]",
	  "create a queue (no error if it exists the same); NAME.fifo: FIFO" },
	{ "delete-queue", delete_queue_main, "NAME",
	  "remove a queue's name; open handles keep working until closed" },
	{ "list-queues", list_queues_main, "[--queue-name-prefix PREFIX]",
	  "list queue URLs" },
	{ "send-message", send_message_main,
	  "--queue NAME --message-body TEXT|- [--delay-seconds 0-900] [--message-attributes JSON] [--message-group-id G] [--message-deduplication-id D]",
	  "send one message; '-' reads the body from standard input" },
	{ "send-message-batch", send_message_batch_main,
	  "--queue NAME --entries JSON",
	  "send up to 10 messages: [{\"Id\", \"MessageBody\", ...}]" },
	{ "receive-message", receive_message_main,
	  "--queue NAME [--max-number-of-messages 1-10] [--wait-time-seconds 0-20] [--visibility-timeout 0-43200] [--attribute-names All|A,B] [--message-attribute-names All|N,P.*]",
	  "receive with a lease; prints nothing when there are none" },
	{ "delete-message", delete_message_main,
	  "--queue NAME --receipt-handle H",
	  "delete a received message (end its lease)" },
	{ "delete-message-batch", delete_message_batch_main,
	  "--queue NAME --entries JSON",
	  "delete up to 10: [{\"Id\", \"ReceiptHandle\"}]" },
	{ "change-message-visibility", change_message_visibility_main,
	  "--queue NAME --receipt-handle H --visibility-timeout 0-43200",
	  "end a lease that many seconds from now" },
	{ "purge-queue", purge_queue_main, "--queue NAME",
	  "drop every message of a queue" },
	{ "get-queue-attributes", get_queue_attributes_main,
	  "--queue NAME [--attribute-names All|A,B]",
	  "show a queue's attributes and counters" },
	{ "set-queue-attributes", set_queue_attributes_main,
	  "--queue NAME --attributes JSON|K=V,...",
	  "change VisibilityTimeout, RedrivePolicy, ..." },
	{ "start-message-move-task", start_message_move_task_main,
	  "--source Q [--destination Q] [--max-number-of-messages-per-second 1-500]",
	  "move a dead-letter queue's messages back (redrive)" },
	{ "create-topic", create_topic_main,
	  "NAME [--attributes JSON|K=V,...] [--capacity N] [--max-message-size BYTES] [--mode 0600]",
	  "create a topic (kmqd) and its inbox queue; --mode: who may publish" },
	{ "delete-topic", delete_topic_main, "NAME|ARN",
	  "delete a topic, its subscriptions and its inbox" },
	{ "list-topics", list_topics_main, "", "list topic ARNs" },
	{ "get-topic-attributes", get_topic_attributes_main, "--topic NAME|ARN",
	  "show a topic's attributes and counters" },
	{ "subscribe", subscribe_main,
	  "--topic NAME|ARN --protocol queue|http|https|exec --endpoint E [--attributes JSON|K=V,...]",
	  "subscribe an endpoint (FilterPolicy, RawMessageDelivery, ...)" },
	{ "unsubscribe", unsubscribe_main, "--subscription-arn ARN",
	  "remove a subscription" },
	{ "list-subscriptions", list_subscriptions_main, "[--topic NAME|ARN]",
	  "list subscriptions, of one topic or all" },
	{ "get-subscription-attributes", get_subscription_attributes_main,
	  "--subscription-arn ARN", "show a subscription's attributes and counters" },
	{ "set-subscription-attributes", set_subscription_attributes_main,
	  "--subscription-arn ARN --attribute-name N [--attribute-value V]",
	  "change (or, with no value, remove) one subscription attribute" },
	{ "publish", publish_main,
	  "--topic NAME|ARN --message TEXT|- [--subject S] [--message-attributes JSON] [--message-group-id G] [--message-deduplication-id D]",
	  "publish one message to a topic; prints its MessageId" },
	{ "publish-batch", publish_batch_main,
	  "--topic NAME|ARN --entries JSON",
	  "publish up to 10: [{\"Id\", \"Message\", \"Subject\", ...}]" },
	{ "top", top_main,
	  "[--once | --iterations N] [--interval MS] [--json] [--pin-dir DIR]",
	  "live per-queue/topic rates, depth, in flight, latency (BPF maps)" },
	{ "trace", trace_main,
	  "[--queue Q | --topic T] [--json] [--count N] [--duration S] [--backlog] [--pin-dir DIR]",
	  "one line per message event, live (BPF ring buffer)" },
	{ "help", help_main, "[COMMAND]", "show this help, or a command's" },
	{ NULL, NULL, NULL, NULL }
};

static const struct command *find(const char *name)
{
	const struct command *c;

	for (c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

void usage(const char *cmd)
{
	const struct command *c = cmd ? find(cmd) : NULL;

	if (c) {
		printf("Usage: kmqctl %s %s\n  %s\n", c->name, c->usage, c->help);
		return;
	}
	printf("Usage: kmqctl COMMAND [ARGS...]\n\n"
	       "Manage kmq queues; output is JSON shaped like the aws CLI's.\n"
	       "A queue is named by NAME or by its URL kmq:///NAME.\n\n"
	       "Commands:\n");
	for (c = commands; c->name; c++)
		printf("  %-26s %s\n", c->name, c->help);
	printf("\n'kmqctl help COMMAND' or 'kmqctl COMMAND --help' for a command's\n"
	       "arguments. Message bodies that are not valid UTF-8 are printed\n"
	       "base64-encoded, with \"BodyEncoding\": \"base64\" beside them.\n"
	       "Exit status: 0 success, 1 the operation failed, 2 bad usage.\n"
	       "KMQ_BACKEND=kernel|shm chooses the backend (default: kernel when\n"
	       "/dev/kmq exists, else shm: kmqd at $KMQ_SOCKET or " KMQ_WIRE_SOCKET ").\n"
	       "KMQ_NETLINK=0 lists and describes kernel queues through ioctls\n"
	       "instead of the generic netlink family 'kmq'.\n");
}

int help_main(int argc, char **argv)
{
	if (argc > 2)
		return fail(EXIT_USAGE, EINVAL, "help: unexpected argument '%s'",
			     argv[2]);
	if (argc == 2 && !find(argv[1]))
		return fail(EXIT_USAGE, EINVAL, "help: unknown command '%s'",
			    argv[1]);
	usage(argc == 2 ? argv[1] : NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;
	const char *backend;

	if (argc < 2)
		return fail(EXIT_USAGE, EINVAL,
			    "no command given (try 'kmqctl help')");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help_main(argc - 1, argv + 1);
	c = find(argv[1]);
	if (!c)
		return fail(EXIT_USAGE, EINVAL,
			    "unknown command '%s' (try 'kmqctl help')", argv[1]);
	/* libkmq answers a bad KMQ_BACKEND with a bare -EINVAL: say why. */
	backend = getenv("KMQ_BACKEND");
	if (backend && *backend && strcmp(backend, "kernel") &&
	    strcmp(backend, "shm"))
		return fail(EXIT_USAGE, EINVAL,
			    "KMQ_BACKEND='%s' is neither 'kernel' nor 'shm'",
			    backend);
	return c->fn(argc - 1, argv + 1);
}
