// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl subscribe --topic NAME|ARN --protocol queue|http|https|exec
 * --endpoint E [--attributes JSON|K=V,...]: prints {"SubscriptionArn"}.
 * Attributes: FilterPolicy, FilterPolicyScope, RawMessageDelivery,
 * RedrivePolicy, DeliveryPolicy, as aws sns subscribe takes them. */
#include "kmqctl.h"

int subscribe_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "topic", required_argument, NULL, 't' },
		{ "topic-arn", required_argument, NULL, 't' },
		{ "protocol", required_argument, NULL, 'p' },
		{ "endpoint", required_argument, NULL, 'e' },
		{ "attributes", required_argument, NULL, 'a' },
		{ "return-subscription-arn", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd = argv[0], *topic = NULL, *proto = NULL, *ep = NULL;
	struct json_object *attrs = NULL, *req;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 't':
			topic = optarg;
			break;
		case 'p':
			proto = optarg;
			break;
		case 'e':
			ep = optarg;
			break;
		case 'a':
			json_object_put(attrs);
			attrs = parse_string_map(cmd, "--attributes", optarg);
			if (!attrs)
				return EXIT_USAGE;
			break;
		case 'r':
			break;
		case 'h':
			return 0;
		default:
			json_object_put(attrs);
			return EXIT_USAGE;
		}
	}
	if (!topic || !proto || !ep) {
		json_object_put(attrs);
		return fail(EXIT_USAGE, EINVAL, "%s: --topic, --protocol and --endpoint are required",
			    cmd);
	}
	req = topic_req("subscribe");
	req_str(req, "topic", topic);
	req_str(req, "protocol", proto);
	req_str(req, "endpoint", ep);
	if (attrs)
		json_object_object_add(req, "attributes", attrs);
	return topic_request(cmd, req, true);
}
