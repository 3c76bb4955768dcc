// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* kmqctl delete-message --queue NAME --receipt-handle H: ends the lease of
 * a received message: it is gone. Prints nothing, as aws. A handle that is
 * not in flight (deleted, expired, stale) fails with exit status 1. */
#include <stdio.h>
#include "kmqctl.h"

int settle_one(const char *cmd, const char *name, const char *handle, int vis)
{
	uint64_t receipt;
	struct kmq *q;
	int err, st = 0;

	if (!handle)
		return fail(EXIT_USAGE, EINVAL, "%s: missing --receipt-handle H", cmd);
	if (receipt_decode(handle, &receipt))
		return fail(EXIT_USAGE, EINVAL,
			    "%s: --receipt-handle '%s' is not a receipt handle that receive-message printed (ReceiptHandleIsInvalid)",
			    cmd, handle);
	err = kmq_open(name, KMQ_RECV | KMQ_COPY, &q);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	err = vis < 0 ? kmq_delete_msgs(q, &receipt, &st, 1)
		      : kmq_change_visibility(q, &receipt, (unsigned int)vis,
					      &st, 1);
	kmq_close(q);
	if (err >= 0)
		err = st;
	if (err == -ENOENT)
		return fail(EXIT_FAIL, err,
			    "%s: %s: the message is not in flight: deleted, back in the queue after its visibility timeout, or received again since (MessageNotInflight)",
			    cmd, name);
	if (err == -EINVAL)
		return fail(EXIT_FAIL, err,
			    "%s: %s: the receipt handle names no message of this queue (ReceiptHandleIsInvalid)",
			    cmd, name);
	if (err)
		return fail(EXIT_FAIL, err, "%s: %s", cmd, name);
	return 0;
}

int delete_message_main(int argc, char **argv)
{
	const char *name, *handle;
	int err = queue_and(argc, argv, "receipt-handle", &name, &handle);

	if (err)
		return err < 0 ? EXIT_USAGE : 0;
	return settle_one(argv[0], name, handle, -1);
}
