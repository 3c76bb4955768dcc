// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl subscribe --topic NAME|ARN --protocol queue|http|https|exec
 * --endpoint E [--attributes JSON|K=V,...]: prints {"SubscriptionArn"}.
 * Attributes: FilterPolicy, FilterPolicyScope, RawMessageDelivery,
 * RedrivePolicy, DeliveryPolicy, as aws sns subscribe takes them. */
#include "kmqctl.h"

int subscribe_main(int argc, char **argv)
{
	const char *cmd = argv[0], *topic = NULL, *proto = NULL, *ep = NULL;
	const char *attr_arg = NULL, *ret_arn = NULL;
	const struct targ a[] = {
		{ "topic", "topic-arn", &topic, true, false, false },
		{ "protocol", NULL, &proto, true, false, false },
		{ "endpoint", NULL, &ep, true, false, false },
		{ "attributes", NULL, &attr_arg, false, false, false },
		{ "return-subscription-arn", NULL, &ret_arn, false, false, true },
	};
	struct json_object *attrs = NULL, *req;
	int err = topic_args(argc, argv, a, 5);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	if (attr_arg) {
		attrs = parse_string_map(cmd, "--attributes", attr_arg);
		if (!attrs)
			return EXIT_USAGE;
	}
	req = topic_req("subscribe");
	req_str(req, "topic", topic);
	req_str(req, "protocol", proto);
	req_str(req, "endpoint", ep);
	if (attrs)
		json_object_object_add(req, "attributes", attrs);
	return topic_request(cmd, req, true);
}
