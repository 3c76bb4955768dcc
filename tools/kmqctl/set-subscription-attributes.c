// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl set-subscription-attributes --subscription-arn ARN
 * --attribute-name N [--attribute-value V]: as aws sns; an empty or
 * missing value removes the attribute. */
#include "kmqctl.h"

int set_subscription_attributes_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "subscription-arn", required_argument, NULL, 's' },
		{ "attribute-name", required_argument, NULL, 'n' },
		{ "attribute-value", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *arn = NULL, *name = NULL, *value = "";
	struct json_object *req;
	int c;

	while ((c = next_opt(argc, argv, opts)) != -1) {
		switch (c) {
		case 's':
			arn = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'v':
			value = optarg;
			break;
		case 'h':
			return 0;
		default:
			return EXIT_USAGE;
		}
	}
	if (!arn || !name)
		return fail(EXIT_USAGE, EINVAL, "%s: --subscription-arn and --attribute-name are required",
			    argv[0]);
	req = topic_req("set-subscription-attributes");
	req_str(req, "subscription", arn);
	req_str(req, "name", name);
	req_str(req, "value", value);
	return topic_request(argv[0], req, false);
}
