// SPDX-License-Identifier: GPL-2.0
/*
 * The control device /dev/kmq: CREATE, OPEN, DELETE, LIST and INFO by name.
 * Every argument is copied in once and validated here; the registry and the
 * queue see only checked values. The device is world-usable (0666): access
 * control is per queue, at open and delete.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "dev.h"
#include "qfd.h"
#include "queue.h"
#include "registry.h"
#include "sqs.h"

/* Most infos one LIST returns; page on with kmq_list.start. */
#define KMQ_LIST_MAX	1024

int kmq_dev_name_check(const char name[KMQ_NAME_LEN])
{
	return kmq_name_check(name);
}

static bool kmq_zero(const void *p, size_t n)
{
	return !memchr_inv(p, 0, n);
}

static int kmq_open_flags_check(u32 flags)
{
	return flags & ~KMQ_OPEN_MASK ? -EINVAL : 0;
}

static long kmq_dev_create(struct kmq_create __user *uarg)
{
	struct kmq_create c;
	struct kmq_queue *q;
	bool created;
	int err;

	if (copy_from_user(&c, uarg, sizeof(c)))
		return -EFAULT;
	if (kmq_open_flags_check(c.open_flags) ||
	    !kmq_zero(c.reserved, sizeof(c.reserved)))
		return -EINVAL;
	if (c.flags & KMQ_CREATE_FIFO && c.open_flags & KMQ_OPEN_MAP)
		return -EOPNOTSUPP;
	err = kmq_registry_new(c.name, c.type, c.capacity, c.max_msg_size,
			       c.mode, c.flags, &q, &created);
	if (err)
		return err;
	if (c.open_flags) {
		/* The creator of a new queue may open it whatever its mode,
		 * as with open(O_CREAT); an existing one is checked. */
		err = created ? 0 : kmq_queue_permission(q, c.open_flags);
		if (!err)
			err = kmq_qfd_open(q, c.open_flags);
	}
	kmq_queue_put(q);
	return err;
}

static long kmq_dev_open(struct kmq_open __user *uarg)
{
	struct kmq_queue *q;
	struct kmq_open o;
	int err;

	if (copy_from_user(&o, uarg, sizeof(o)))
		return -EFAULT;
	if (kmq_name_check(o.name) || kmq_open_flags_check(o.flags) ||
	    o.reserved0 || !kmq_zero(o.reserved, sizeof(o.reserved)))
		return -EINVAL;
	q = kmq_registry_lookup(o.name);
	if (!q)
		return -ENOENT;
	/* FIFO queues are served by the kernel only. */
	err = q->sqs.fifo && o.flags & KMQ_OPEN_MAP ? -EOPNOTSUPP :
	      kmq_queue_permission(q, o.flags);
	if (!err)
		err = kmq_qfd_open(q, o.flags);
	kmq_queue_put(q);
	return err;
}

static long kmq_dev_delete(struct kmq_name __user *uarg)
{
	struct kmq_name n;

	if (copy_from_user(&n, uarg, sizeof(n)))
		return -EFAULT;
	if (kmq_name_check(n.name) || !kmq_zero(n.reserved, sizeof(n.reserved)))
		return -EINVAL;
	return kmq_registry_delete(n.name);
}

static long kmq_dev_list(struct kmq_list __user *uarg)
{
	struct kmq_info *infos = NULL;
	struct kmq_list l;
	u32 room, filled;
	u64 total;
	long err = 0;

	if (copy_from_user(&l, uarg, sizeof(l)))
		return -EFAULT;
	if (l.flags || !kmq_zero(l.reserved, sizeof(l.reserved)))
		return -EINVAL;
	room = min_t(u32, l.count, KMQ_LIST_MAX);
	if (room) {
		infos = kvcalloc(room, sizeof(*infos), GFP_KERNEL);
		if (!infos)
			return -ENOMEM;
	}
	kmq_registry_list(infos, room, l.start, &filled, &total);
	/* Copied out with no lock held: user memory may fault. */
	if (filled && copy_to_user(u64_to_user_ptr(l.infos), infos,
				   filled * sizeof(*infos)))
		err = -EFAULT;
	kvfree(infos);
	if (err)
		return err;
	l.count = filled;
	l.total = total;
	return copy_to_user(uarg, &l, sizeof(l)) ? -EFAULT : 0;
}

static long kmq_dev_info(struct kmq_info __user *uarg)
{
	struct kmq_info info;
	struct kmq_queue *q;

	if (copy_from_user(&info, uarg, sizeof(info)))
		return -EFAULT;
	/* Only the name is input: the rest, counters once reserved, is
	 * output and ignored. */
	if (kmq_name_check(info.name))
		return -EINVAL;
	q = kmq_registry_lookup(info.name);
	if (!q)
		return -ENOENT;
	kmq_queue_info(q, &info);
	kmq_queue_put(q);
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kmq_dev_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KMQ_IOC_CREATE:
		return kmq_dev_create(uarg);
	case KMQ_IOC_OPEN:
		return kmq_dev_open(uarg);
	case KMQ_IOC_DELETE:
		return kmq_dev_delete(uarg);
	case KMQ_IOC_LIST:
		return kmq_dev_list(uarg);
	case KMQ_IOC_INFO:
		return kmq_dev_info(uarg);
	case KMQ_IOC_SET_POLICY:
		return kmq_sqs_set_policy(uarg);
	case KMQ_IOC_GET_POLICY:
		return kmq_sqs_get_policy(uarg);
	case KMQ_IOC_SQS_PURGE:
		return kmq_sqs_purge(uarg);
	case KMQ_IOC_SQS_MOVE:
		return kmq_sqs_move(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations kmq_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kmq_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kmq_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "kmq",
	.fops	= &kmq_dev_fops,
	.mode	= 0666,
};

int kmq_dev_init(void)
{
	return misc_register(&kmq_miscdev);
}

void kmq_dev_uninit(void)
{
	misc_deregister(&kmq_miscdev);
}
