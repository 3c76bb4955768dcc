// SPDX-License-Identifier: GPL-2.0
/*
 * The queue fd: one client of one queue. It carries the client id written
 * into the slots the client holds, its rights (KMQ_OPEN_*), the copying path
 * (SEND/RECV), WAKE, INFO, poll() and mmap(); its release runs crash repair.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "netlink.h"
#include "qfd.h"
#include "queue.h"
#include "repair.h"
#include "fifo.h"
#include "sqs.h"

/* Copy-path message ids: (client id << 40) | a per-queue sequence: the
 * shape fast-path producers use (with their own sequence), so ids of
 * different clients never collide, and copy-path ids stay unique even
 * when a client id comes round again. */
#define KMQ_ID_SEQ_BITS		40
#define KMQ_ID_SEQ_MASK		((1ULL << KMQ_ID_SEQ_BITS) - 1)

/* Corrupt messages one RECV may skip before it gives up with -EIO. */
#define KMQ_RECV_SKIPS		(2 * KMQ_BATCH_MAX)

static const struct file_operations kmq_qfd_fops;

u64 kmq_client_next_id(struct kmq_client *c)
{
	u64 seq = atomic64_inc_return(&c->q->seq);

	return (u64)c->id << KMQ_ID_SEQ_BITS | (seq & KMQ_ID_SEQ_MASK);
}

/* ---- taking a slot, sleeping for the first one ------------------------- */

/* One try: a message of at most @room bytes (else -EMSGSIZE, *@need set)
 * from the ready ring to receive (@recv), else a free slot to send. */
static int kmq_qfd_try(struct kmq_client *c, bool recv, u32 room, u32 *idx,
		       u32 *need)
{
	struct kmq_queue *q = c->q;

	if (recv)
		return kmq_queue_take_fit(q, c->id, room, idx, need);
	return kmq_queue_take(q, &q->view.free, c->id, KMQ_SLOT_CLAIMED, idx);
}

/* Never sleeps: the wait_event() condition of kmq_qfd_take(). Arms the
 * need-wakeup flag and rechecks before reporting the ring empty. */
static int kmq_qfd_try_armed(struct kmq_client *c, bool recv, u32 room,
			     u32 *idx, u32 *need)
{
	struct kmq_hdr *hdr = c->q->view.hdr;
	int err;

	err = kmq_qfd_try(c, recv, room, idx, need);
	if (err != -EAGAIN)
		return err;
	kmq_arm_wake(recv ? &hdr->rd_wait : &hdr->wr_wait);
	return kmq_qfd_try(c, recv, room, idx, need);
}

/*
 * Take a slot: a message that fits in @room bytes from the ready ring to
 * receive (@recv; -EMSGSIZE with *@need when the next one does not, and it
 * stays first in line), else a free slot to send. When @block, sleep until
 * one comes, the absolute monotonic @deadline passes (-ETIMEDOUT;
 * KTIME_MAX: never) or a signal arrives (-EINTR with a deadline, else
 * -ERESTARTSYS).
 */
static int kmq_qfd_take(struct kmq_client *c, bool recv, u32 room, bool block,
			ktime_t deadline, u32 *idx, u32 *need)
{
	ktime_t left = KTIME_MAX;
	long ret;
	int err;

	err = kmq_qfd_try(c, recv, room, idx, need);
	if (err != -EAGAIN)
		return err;
	if (!recv)
		kmq_nl_queue_full(c->q);	/* before any sleep */
	if (!block)
		return err;
	if (deadline != KTIME_MAX) {
		left = ktime_sub(deadline, ktime_get());
		if (left <= 0)
			return -ETIMEDOUT;
	}
	ret = wait_event_interruptible_hrtimeout(c->q->wq,
		(err = kmq_qfd_try_armed(c, recv, room, idx, need)) != -EAGAIN,
		left);
	if (ret == -ETIME)
		return -ETIMEDOUT;
	if (ret)
		return deadline == KTIME_MAX ? -ERESTARTSYS : -EINTR;
	return err;
}

/* After a push onto the ready (@ready) or free ring: wake the other side
 * if a sleeper asked for it. */
static void kmq_qfd_pushed(struct kmq_queue *q, bool ready)
{
	struct kmq_hdr *hdr = q->view.hdr;

	if (kmq_need_wake(ready ? &hdr->rd_wait : &hdr->wr_wait))
		kmq_queue_wake(q, ready ? EPOLLIN | EPOLLRDNORM :
					  EPOLLOUT | EPOLLWRNORM);
}

/* Push held slot @idx onto the ready or free ring, waiting a bounded time
 * for a popper of the previous lap; the slot stays held on failure. */
static int kmq_qfd_push(struct kmq_queue *q, u32 idx, bool ready)
{
	struct kmq_view *v = &q->view;
	int err;

	err = kmq_queue_put_slot(q, ready ? &v->ready : &v->free, idx,
				 ready ? KMQ_SLOT_READY : KMQ_SLOT_FREE);
	if (!err)
		kmq_qfd_pushed(q, ready);
	return err;
}

/* Longest sleep between two looks at a tail cell held by a stalled popper:
 * its release wakes nobody, so it is polled for. */
#define KMQ_STALL_POLL_NS	(20 * NSEC_PER_MSEC)

/*
 * Publish written slot @idx onto the ready ring. The tail cell may still be
 * held by a popper of the previous lap (preempted, stopped, or dead until
 * its repair): then this follows the caller's blocking rules, as taking the
 * slot did: -EAGAIN when not @block, else wait until @deadline (-ETIMEDOUT)
 * or a signal (-EINTR, -ERESTARTSYS without a deadline). On failure the
 * slot is still held by the caller.
 */
static int kmq_qfd_publish(struct kmq_client *c, u32 idx, bool block,
			   ktime_t deadline)
{
	struct kmq_queue *q = c->q;
	struct kmq_view *v = &q->view;
	ktime_t nap = NSEC_PER_MSEC;
	int err;

	for (;;) {
		u64 corrupt = 0;
		ktime_t left;
		long ret;

		err = kmq_put(v, &v->ready, idx, KMQ_SLOT_READY, &corrupt);
		if (corrupt)
			atomic64_add(corrupt, &q->corrupt);
		if (!err) {
			kmq_qfd_pushed(q, true);
			return 0;
		}
		if (err != -EBUSY)
			return err;
		if (!block)
			return -EAGAIN;
		left = nap;
		if (deadline != KTIME_MAX) {
			left = ktime_sub(deadline, ktime_get());
			if (left <= 0)
				return -ETIMEDOUT;
			left = min(left, nap);
		}
		/* Whoever holds the cell frees a slot sooner or later: ask
		 * for that wake-up, and look again after a nap anyway. */
		ret = wait_event_interruptible_hrtimeout(q->wq,
			(kmq_arm_wake(&v->hdr->wr_wait),
			 kmq_ring_pushable(&v->ready)), left);
		if (ret && ret != -ETIME)
			return deadline == KTIME_MAX ? -ERESTARTSYS : -EINTR;
		nap = min_t(ktime_t, nap * 2, KMQ_STALL_POLL_NS);
	}
}

/* Give a held slot back to the free ring. If even that ring stays blocked
 * (a popper holds its tail cell) the slot remains held by this client, in
 * state FREE, and crash repair returns it when the fd is released: at once,
 * or in the background once that cell is let go. Not the kernel's trouble:
 * an info note. */
static int kmq_qfd_give_back(struct kmq_queue *q, u32 idx)
{
	int err = kmq_qfd_push(q, idx, false);

	if (err)
		pr_info_ratelimited("queue %s: free ring blocked, slot %u held until release\n",
				    q->name, idx);
	return err;
}

/* ---- the copying path -------------------------------------------------- */

static int kmq_iomsg_check(const struct kmq_iomsg *m)
{
	return m->flags || m->reserved[0] || m->reserved[1] ? -EINVAL : 0;
}

/* Send up to io->count messages; blocking applies to the first only. */
static int kmq_qfd_send(struct kmq_client *c, const struct kmq_io *io,
			bool block, ktime_t deadline, u32 *done)
{
	struct kmq_iomsg __user *umsgs = u64_to_user_ptr(io->msgs);
	struct kmq_queue *q = c->q;
	u32 pid = task_tgid_vnr(current);
	/* The pid as the sender knows it (what the fast path reports too);
	 * the uid as the initial namespace knows it, so that root of a user
	 * namespace never reaches receivers as root. */
	u32 uid = from_kuid_munged(&init_user_ns, current_uid());
	int err = 0;
	u32 i;

	for (i = 0; i < io->count; i++) {
		struct kmq_iomsg m;
		struct kmq_slot *s;
		u32 idx;
		u64 id, now;

		if (copy_from_user(&m, &umsgs[i], sizeof(m))) {
			err = -EFAULT;
			break;
		}
		err = kmq_iomsg_check(&m);
		if (err)
			break;
		if (m.len > q->layout.max_msg_size) {
			err = -EMSGSIZE;
			break;
		}
		err = kmq_qfd_take(c, false, 0, block && i == 0, deadline,
				   &idx, NULL);
		if (err)
			break;
		s = kmq_slot_at(&q->view, idx);
		id = kmq_client_next_id(c);
		if (copy_from_user(kmq_slot_data(s), u64_to_user_ptr(m.buf),
				   m.len) ||
		    put_user(id, &umsgs[i].id)) {
			kmq_qfd_give_back(q, idx);
			err = -EFAULT;
			break;
		}
		WRITE_ONCE(s->len, m.len);
		WRITE_ONCE(s->attr_len, 0);
		WRITE_ONCE(s->id, id);
		now = ktime_get_real_ns();
		WRITE_ONCE(s->sent_ns, now);
		WRITE_ONCE(s->sender_pid, pid);
		WRITE_ONCE(s->sender_uid, uid);
		WRITE_ONCE(s->gen, 0);
		WRITE_ONCE(s->receive_count, 0);
		WRITE_ONCE(s->first_receive_ns, 0);
		WRITE_ONCE(s->reserved, 0);
		err = kmq_qfd_publish(c, idx, block && i == 0, deadline);
		if (err) {
			kmq_qfd_give_back(q, idx);	/* not sent */
			break;
		}
		trace_kmq_send(q->name, id, now, m.len, 0, 0);
	}
	*done = i;
	return err;
}

/* Receive up to io->count messages; blocking applies to the first only. */
static int kmq_qfd_recv(struct kmq_client *c, const struct kmq_io *io,
			bool block, ktime_t deadline, u32 *done)
{
	struct kmq_iomsg __user *umsgs = u64_to_user_ptr(io->msgs);
	struct kmq_queue *q = c->q;
	unsigned int skips = 0;
	int err = 0;
	u32 i = 0;

	while (i < io->count) {
		struct kmq_iomsg m;
		struct kmq_slot *s;
		u32 idx, len, attr;

		if (copy_from_user(&m, &umsgs[i], sizeof(m))) {
			err = -EFAULT;
			break;
		}
		err = kmq_iomsg_check(&m);
		if (err)
			break;
		err = kmq_qfd_take(c, true, m.len, block && i == 0, deadline,
				   &idx, &len);
		if (err == -EMSGSIZE) {
			/* Still first in line: a retry with room gets it. */
			if (!i && put_user(len, &umsgs[i].len))
				err = -EFAULT;
			break;
		}
		if (err)
			break;
		s = kmq_slot_at(&q->view, idx);
		/* Written by whoever sent it, maybe a mapper: read each field
		 * once and check it before use. */
		len = READ_ONCE(s->len);
		attr = READ_ONCE(s->attr_len);
		if ((u64)len + attr > q->layout.max_msg_size) {
			atomic64_inc(&q->corrupt);
			trace_kmq_drop(q->name, READ_ONCE(s->id),
				       READ_ONCE(s->sent_ns), len, 0,
				       KMQ_DROP_CORRUPT);
			if (kmq_qfd_give_back(q, idx) || ++skips > KMQ_RECV_SKIPS) {
				err = -EIO;
				break;
			}
			continue;
		}
		if (len > m.len) {
			/* Rewritten by a mapper since it was checked: it goes
			 * back, behind the others. */
			kmq_qfd_push(q, idx, true);
			if (!i && put_user(len, &umsgs[i].len))
				err = -EFAULT;
			else
				err = -EMSGSIZE;
			break;
		}
		m.len = len;
		m.flags = 0;
		m.id = READ_ONCE(s->id);
		m.sent_ns = READ_ONCE(s->sent_ns);
		m.sender_pid = READ_ONCE(s->sender_pid);
		m.sender_uid = READ_ONCE(s->sender_uid);
		if (copy_to_user(u64_to_user_ptr(m.buf),
				 (u8 *)kmq_slot_data(s) + attr, len) ||
		    copy_to_user(&umsgs[i], &m, sizeof(m))) {
			kmq_qfd_push(q, idx, true);
			err = -EFAULT;
			break;
		}
		trace_kmq_recv(q->name, m.id, m.sent_ns, len, 0, 0);
		i++;
		if (kmq_qfd_give_back(q, idx))
			break;	/* delivered; do not wait again this call */
	}
	*done = i;
	return err;
}

static long kmq_qfd_io(struct file *file, struct kmq_client *c, bool recv,
		       struct kmq_io __user *uio)
{
	ktime_t deadline = KTIME_MAX;
	struct kmq_io io;
	bool block;
	u32 done = 0;
	int err;

	if (!(c->flags & (recv ? KMQ_OPEN_RECV : KMQ_OPEN_SEND)))
		return -EBADF;
	if (copy_from_user(&io, uio, sizeof(io)))
		return -EFAULT;
	if (!io.count || io.count > KMQ_BATCH_MAX ||
	    io.flags & ~KMQ_IO_NONBLOCK || io.reserved0 || io.reserved[0] ||
	    io.reserved[1])
		return -EINVAL;
	block = !(io.flags & KMQ_IO_NONBLOCK) &&
		!(file->f_flags & O_NONBLOCK) && io.timeout_ns;
	if (block && io.timeout_ns > 0)
		deadline = ktime_add_safe(ktime_get(), ns_to_ktime(io.timeout_ns));

	if (recv)
		err = kmq_qfd_recv(c, &io, block, deadline, &done);
	else
		err = kmq_qfd_send(c, &io, block, deadline, &done);
	if (put_user(done, &uio->done))
		return -EFAULT;
	return done ? 0 : err;
}

/* ---- the other operations ------------------------------------------------ */

static long kmq_qfd_wake(struct kmq_client *c, unsigned long arg)
{
	__poll_t events = 0;

	if (!arg || arg & ~(unsigned long)(KMQ_WAKE_READERS | KMQ_WAKE_WRITERS))
		return -EINVAL;
	if (arg & KMQ_WAKE_READERS)
		events |= EPOLLIN | EPOLLRDNORM;
	if (arg & KMQ_WAKE_WRITERS)
		events |= EPOLLOUT | EPOLLWRNORM;
	kmq_queue_wake(c->q, events);
	return 0;
}

static long kmq_qfd_info(struct kmq_client *c, struct kmq_info __user *uinfo)
{
	struct kmq_info info;

	kmq_queue_info(c->q, &info);
	info.client_id = c->id;
	info.open_flags = c->flags;
	return copy_to_user(uinfo, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kmq_qfd_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct kmq_client *c = file->private_data;
	void __user *uarg = (void __user *)arg;

	bool nonblock = file->f_flags & O_NONBLOCK;

	switch (cmd) {
	case KMQ_IOC_SEND:
		/* A FIFO queue takes SQS_SEND only: a group is required. */
		if (c->q->sqs.fifo)
			return -EINVAL;
		return kmq_qfd_io(file, c, false, uarg);
	case KMQ_IOC_RECV:
		if (c->q->sqs.fifo)
			return kmq_fifo_plain_recv(c, nonblock, uarg);
		return kmq_qfd_io(file, c, true, uarg);
	case KMQ_IOC_SQS_SEND:
		return kmq_sqs_send(c, nonblock, uarg);
	case KMQ_IOC_SQS_RECV:
		return kmq_sqs_recv(c, nonblock, uarg);
	case KMQ_IOC_SQS_DELETE:
		return kmq_sqs_delete(c, uarg);
	case KMQ_IOC_SQS_CHVIS:
		return kmq_sqs_chvis(c, uarg);
	case KMQ_IOC_WAKE:
		return kmq_qfd_wake(c, arg);
	case KMQ_IOC_INFO:
		return kmq_qfd_info(c, uarg);
	}
	return -ENOTTY;
}

static __poll_t kmq_qfd_poll(struct file *file, poll_table *wait)
{
	struct kmq_client *c = file->private_data;
	struct kmq_queue *q = c->q;
	struct kmq_view *v = &q->view;
	__poll_t want = poll_requested_events(wait);
	__poll_t mask = 0;

	poll_wait(file, &q->wq, wait);
	if (q->sqs.fifo && want & (EPOLLIN | EPOLLRDNORM)) {
		/* Kernel-held groups: their changes always wake. */
		if (kmq_fifo_ready(q))
			mask |= EPOLLIN | EPOLLRDNORM;
	} else if (want & (EPOLLIN | EPOLLRDNORM)) {
		if (!kmq_queue_ring_ready(&v->ready)) {
			kmq_arm_wake(&v->hdr->rd_wait);
			if (kmq_queue_ring_ready(&v->ready))
				mask |= EPOLLIN | EPOLLRDNORM;
		} else {
			mask |= EPOLLIN | EPOLLRDNORM;
		}
	}
	if (want & (EPOLLOUT | EPOLLWRNORM)) {
		if (!kmq_queue_ring_ready(&v->free)) {
			kmq_arm_wake(&v->hdr->wr_wait);
			if (kmq_queue_ring_ready(&v->free))
				mask |= EPOLLOUT | EPOLLWRNORM;
			else
				kmq_nl_queue_full(q);	/* a sender waits */
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	return mask;
}

/* ---- mmap ---------------------------------------------------------------- */

/*
 * A mapping is of the queue's shmem file itself (vma->vm_file is switched to
 * it, and shmem's own mmap and fault handlers serve it), so the pages are
 * ordinary shmem page-cache pages with correct reverse mapping, and futexes
 * in the mapping key on the shmem inode across processes. Each VMA also pins
 * the queue fd through vm_private_data, so the client (and its id) lives
 * until the last munmap: release, and crash repair, come after it.
 * The VMA operations are shmem's with open/close added to keep that pin
 * across fork, split and mremap.
 */
static const struct vm_operations_struct *kmq_shmem_vm_ops;
static struct vm_operations_struct kmq_vm_ops;
static DEFINE_MUTEX(kmq_vm_ops_lock);

static void kmq_vm_open(struct vm_area_struct *vma)
{
	get_file(vma->vm_private_data);
}

static void kmq_vm_close(struct vm_area_struct *vma)
{
	fput(vma->vm_private_data);	/* deferred: release runs later */
}

static int kmq_vm_ops_bind(const struct vm_operations_struct *shm_ops)
{
	int err = 0;

	mutex_lock(&kmq_vm_ops_lock);
	if (!kmq_shmem_vm_ops) {
		if (!shm_ops || shm_ops->open || shm_ops->close) {
			err = -ENODEV;
		} else {
			kmq_vm_ops = *shm_ops;
			kmq_vm_ops.open = kmq_vm_open;
			kmq_vm_ops.close = kmq_vm_close;
			kmq_shmem_vm_ops = shm_ops;
		}
	} else if (kmq_shmem_vm_ops != shm_ops) {
		err = -ENODEV;
	}
	mutex_unlock(&kmq_vm_ops_lock);
	if (err)
		pr_warn_once("shmem mappings cannot be wrapped on this kernel\n");
	return err;
}

static int kmq_qfd_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct kmq_client *c = file->private_data;
	struct kmq_queue *q = c->q;
	int err;

	if (!(c->flags & KMQ_OPEN_MAP))
		return -EACCES;
	if (!(vma->vm_flags & VM_SHARED) ||
	    vma->vm_pgoff != KMQ_OFF_QUEUE >> PAGE_SHIFT ||
	    vma->vm_end - vma->vm_start != PAGE_ALIGN(q->layout.size))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;

	/* From here on a failure makes mmap_region() fput the shmem file. */
	vma_set_file(vma, q->shm);
	err = call_mmap(q->shm, vma);
	if (err)
		return err;
	err = kmq_vm_ops_bind(vma->vm_ops);
	if (err)
		return err;
	vma->vm_ops = &kmq_vm_ops;
	vma->vm_private_data = get_file(file);
	return 0;
}

/* ---- open and release ---------------------------------------------------- */

/* Crash repair frees the client, its id and its queue reference, now or
 * once every slot it held is back. No ioctl runs any more: the SQS message
 * array goes now. */
static int kmq_qfd_release(struct inode *inode, struct file *file)
{
	struct kmq_client *c = file->private_data;

	kfree(c->sqs_msgs);
	c->sqs_msgs = NULL;
	kmq_repair_release(c);
	return 0;
}

static const struct file_operations kmq_qfd_fops = {
	.owner		= THIS_MODULE,
	.release	= kmq_qfd_release,
	.unlocked_ioctl	= kmq_qfd_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.poll		= kmq_qfd_poll,
	.mmap		= kmq_qfd_mmap,
	.llseek		= noop_llseek,
};

int kmq_qfd_open(struct kmq_queue *q, u32 flags)
{
	struct kmq_client *c;
	struct file *file;
	int fd, id, err;

	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	c->flags = flags;
	id = kmq_queue_client_id(q);
	if (id < 0) {
		err = id;
		goto err_free;
	}
	c->id = id;
	c->q = kmq_queue_get(q);

	fd = get_unused_fd_flags(O_RDWR |
				 (flags & KMQ_OPEN_CLOEXEC ? O_CLOEXEC : 0));
	if (fd < 0) {
		err = fd;
		goto err_id;
	}
	file = anon_inode_getfile("[kmq]", &kmq_qfd_fops, c,
				  O_RDWR | (flags & KMQ_OPEN_NONBLOCK ?
					    O_NONBLOCK : 0));
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto err_fd;
	}
	/* Counted under repair_lock before it can act: repair that sees no
	 * client knows that no cell can be TAKEN legitimately. */
	mutex_lock(&q->repair_lock);
	atomic_inc(&q->clients);
	mutex_unlock(&q->repair_lock);
	fd_install(fd, file);
	return fd;

err_fd:
	put_unused_fd(fd);
err_id:
	ida_free(&q->ids, id);
	kmq_queue_put(q);
err_free:
	kfree(c);
	return err;
}
