// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Error messages: what a libkmq -errno means, worded for kmq where the
 * generic text would mislead (-ENODEV is "kmq.ko is not loaded", not "No
 * such device"), else the C library's text.
 */
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

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(kmq_errors) / sizeof(kmq_errors[0]); i++)
		if (kmq_errors[i].err == err)
			return kmq_errors[i].msg;
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}
