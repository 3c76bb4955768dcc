// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * kmqctl over generic netlink: where queues are the kernel's (/dev/kmq
 * exists and KMQ_BACKEND is not shm), list-queues and get-queue-attributes
 * ask the family "kmq" (one dump instead of paging ioctls, and the kernel's
 * reason with a refusal); a kmq.ko without the family gets the ioctls,
 * through libkmq. KMQ_NETLINK=0 forces the ioctls, KMQ_NETLINK=1 netlink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kmqctl.h"
#include "kmqnl.h"

int ctl_netlink(const char *cmd, struct kmqnl **nl)
{
	const char *backend = getenv("KMQ_BACKEND");
	const char *want = getenv("KMQ_NETLINK");
	bool must = want && !strcmp(want, "1");
	int err;

	*nl = NULL;
	if (want && !strcmp(want, "0"))
		return 0;
	if (!must && ((backend && !strcmp(backend, "shm")) ||
		      access(KMQ_DEVICE, F_OK)))
		return 0;
	err = kmqnl_open(nl);
	if (err == -ENOENT && !must)
		return 0;	/* an older kmq.ko: the ioctls it is */
	if (err)
		return fail(EXIT_FAIL, err, "%s: generic netlink family '%s'",
			    cmd, KMQ_GENL_NAME);
	return 0;
}

int ctl_netlink_fail(const char *cmd, struct kmqnl *nl, int err,
		     const char *what)
{
	const char *why = kmqnl_errmsg(nl);

	fflush(stdout);
	if (*why)
		fprintf(stderr, "kmqctl: %s%s%s: %s (%s)\n", cmd, *what ? ": " : "",
			what, kmq_strerror(err), why);
	else
		fprintf(stderr, "kmqctl: %s%s%s: %s\n", cmd, *what ? ": " : "",
			what, kmq_strerror(err));
	kmqnl_close(nl);
	return EXIT_FAIL;
}
