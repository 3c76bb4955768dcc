// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/*
 * Choosing the backend that serves queues: KMQ_BACKEND=kernel|shm forces
 * one; unset, it is the kernel (kmq.ko) when /dev/kmq exists, else kmqd's
 * shm backend.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

static const struct kmq_backend *const backends[] = {
	&kmq_kernel_backend,
	&kmq_shm_backend,
};

/* kmq_backend_get - the backend for this process; -EINVAL for an unknown
 * KMQ_BACKEND value. */
int kmq_backend_get(const struct kmq_backend **be)
{
	const char *want = getenv("KMQ_BACKEND");
	size_t i;

	if (!want || !*want) {
		*be = access(KMQ_DEVICE, F_OK) == 0 ? &kmq_kernel_backend
						    : &kmq_shm_backend;
		return 0;
	}
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (!strcmp(want, backends[i]->name)) {
			*be = backends[i];
			return 0;
		}
	}
	return -EINVAL;
}
