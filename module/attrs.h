/* SPDX-License-Identifier: GPL-2.0 */
/* Message attributes: validation of the encoding KMQ_IOC_SQS_SEND accepts. */
#ifndef _KMQ_ATTRS_H
#define _KMQ_ATTRS_H

#include <linux/types.h>

/*
 * kmq_attrs_check - is @buf (@len bytes, kernel memory) a valid attribute
 * encoding as the uapi header's "Message attributes" says? @len 0 (no
 * attributes) is valid. Returns 0 or -EINVAL.
 */
int kmq_attrs_check(const u8 *buf, u32 len);

#endif /* _KMQ_ATTRS_H */
