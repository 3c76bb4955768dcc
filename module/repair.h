/* SPDX-License-Identifier: GPL-2.0 */
/* Crash repair: give back what a released client left half-done. */
#ifndef _KMQ_REPAIR_H
#define _KMQ_REPAIR_H

#include <linux/types.h>

struct kmq_client;
struct kmq_queue;

int kmq_repair_init(void);
/* Sees every deferred repair through. Only once no queue fd is open. */
void kmq_repair_uninit(void);

/* kmq_repair_queue_init - set up the repair state of a new queue @q. */
void kmq_repair_queue_init(struct kmq_queue *q);

/*
 * kmq_repair_release - repair the queue of client @c, whose fd is released
 * (no ioctl, mapping or process can act as it any more), and free @c.
 * Finishes its TAKEN ring cells and gives back every slot it held: claimed
 * slots to the free ring, written or borrowed ones to the ready ring.
 * Slots that cannot be pushed yet, because a ring cell is still held by a
 * popper, are given back by deferred work as soon as they can be: until
 * then @c, its client id and its queue reference live on. Sleeps; takes
 * q->repair_lock. Wakes both sides when it moved slots.
 */
void kmq_repair_release(struct kmq_client *c);

#endif /* _KMQ_REPAIR_H */
