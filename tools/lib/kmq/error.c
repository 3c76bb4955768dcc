// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Error messages: what a libkmq -errno means, worded for kmq where the
 * generic text would mislead (-ENODEV is "kmq.ko is not loaded", not "No
 * such device", -ECONNREFUSED is "kmqd is not running at <socket>"), else
 * the C library's text.
 */
#include <stdio.h>
#include <string.h>
#include "internal.h"

static const struct {
	int err;
	const char *msg;
} kmq_errors[] = {
	{ ENODEV, "kmq is not available: no " KMQ_DEVICE " (is kmq.ko loaded?)" },
	{ ENOTSUP, "not supported by this kmq backend" },
	{ EPROTO, "queue memory does not match what its owner reported" },
};

KMQ_EXPORT const char *kmq_strerror(int err)
{
	const char *s;
	size_t i;

	static __thread char kmqd_down[200];

	if (err < 0)
		err = -err;
	if (err == ECONNREFUSED) {
		/* Only the shm backend's connect returns it. */
		snprintf(kmqd_down, sizeof(kmqd_down),
			 "kmqd is not running at %s (and there is no " KMQ_DEVICE
			 "; start it with `make run` or kmqd)", kmq_wire_socket());
		return kmqd_down;
	}
	for (i = 0; i < sizeof(kmq_errors) / sizeof(kmq_errors[0]); i++)
		if (kmq_errors[i].err == err)
			return kmq_errors[i].msg;
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
