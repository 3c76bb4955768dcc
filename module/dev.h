/* SPDX-License-Identifier: GPL-2.0 */
/* The control device /dev/kmq: names queues and hands out queue fds. */
#ifndef _KMQ_DEV_H
#define _KMQ_DEV_H

#include <uapi/linux/kmq.h>

int kmq_dev_init(void);
void kmq_dev_uninit(void);

/* kmq_dev_name_check - 0 if @name is a valid, zero-padded queue name
 * field, else -EINVAL. */
int kmq_dev_name_check(const char name[KMQ_NAME_LEN]);

#endif /* _KMQ_DEV_H */
