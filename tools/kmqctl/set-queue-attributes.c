// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl set-queue-attributes --queue NAME --attributes JSON|Key=Value,...:
 * changes a queue's policy (read, change, write back). Prints nothing. */
#include "kmqctl.h"

int policy_error(const char *cmd, const char *name, const struct kmq_policy *p,
		 int err)
{
	if (err == -ENOENT && p->dlq[0])
		return fail(EXIT_FAIL, err,
			    "%s: %s: RedrivePolicy: dead-letter queue '%s'",
			    cmd, name, p->dlq);
	if (err == -EINVAL)
		return fail(EXIT_FAIL, err,
			    "%s: %s: refused (MaximumMessageSize is at most the queue's --max-message-size; a dead-letter queue must be a standard queue other than this one)",
			    cmd, name);
	return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
}

int set_queue_attributes_main(int argc, char **argv)
{
	const char *cmd = argv[0], *attrs, *name;
	struct kmq_policy p;
	struct qattrs a;
	int err;

	err = queue_and(argc, argv, "attributes", &name, &attrs);
	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	if (parse_qattrs(cmd, attrs, &a))
		return EXIT_USAGE;
	err = kmq_get_policy(name, &p);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	if (qattrs_apply(cmd, &a, &p))
		return EXIT_USAGE;
	err = kmq_set_policy(&p);
	return err ? policy_error(cmd, name, &p, err) : 0;
}
