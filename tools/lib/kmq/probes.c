// SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT
/* The semaphores of libkmq's USDT probes (probes.h), raised by tracers. */
#include "probes.h"

KMQ_PROBE_DEFINE(send);
KMQ_PROBE_DEFINE(recv);
KMQ_PROBE_DEFINE(release);
