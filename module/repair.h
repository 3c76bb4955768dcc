/* SPDX-License-Identifier: GPL-2.0 */
/* Crash repair: give back what a released client left half-done. */
#ifndef _KMQ_REPAIR_H
#define _KMQ_REPAIR_H

#include <linux/types.h>

struct kmq_queue;

/*
 * kmq_repair_client - repair @q after client @me is gone for good (its fd
 * released: no ioctl, mapping or process can act as @me any more). Finishes
 * its TAKEN ring cells and gives back every slot it held: claimed slots to
 * the free ring, written or borrowed ones to the ready ring. Sleeps; takes
 * q->repair_lock. Wakes both sides when done.
 */
void kmq_repair_client(struct kmq_queue *q, u32 me);

#endif /* _KMQ_REPAIR_H */
