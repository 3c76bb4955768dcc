/* SPDX-License-Identifier: GPL-2.0 */
/* The control device /dev/kmq: names queues and hands out queue fds. */
#ifndef _KMQ_DEV_H
#define _KMQ_DEV_H

int kmq_dev_init(void);
void kmq_dev_uninit(void);

#endif /* _KMQ_DEV_H */
