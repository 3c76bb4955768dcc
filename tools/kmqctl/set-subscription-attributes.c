// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl set-subscription-attributes --subscription-arn ARN
 * --attribute-name N [--attribute-value V]: as aws sns; an empty or
 * missing value removes the attribute. */
#include "kmqctl.h"

int set_subscription_attributes_main(int argc, char **argv)
{
	const char *arn = NULL, *name = NULL, *value = "";
	const struct targ a[] = {
		{ "subscription-arn", NULL, &arn, true, true, false },
		{ "attribute-name", NULL, &name, true, false, false },
		{ "attribute-value", NULL, &value, false, false, false },
	};
	struct json_object *req;
	int err = topic_args(argc, argv, a, 3);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	req = topic_req("set-subscription-attributes");
	req_str(req, "subscription", arn);
	req_str(req, "name", name);
	req_str(req, "value", value);
	return topic_request(argv[0], req, false);
}
