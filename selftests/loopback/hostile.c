// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile zones: the debugfs file "hostile", through which a test plays a
 * zone that breaks every rule.  Its RAM is a buffer the test fills with
 * whatever bytes it likes (through mmap), with a guard page on each side;
 * its register accesses are whatever the test asks el2.c to make; the
 * interrupts the backend raises for it are counted, not delivered.  The
 * interface is in hostile_abi.h.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "lb.h"
#include "hostile_abi.h"

/**
 * struct lb_hram - the RAM of one hostile context, guards included
 * @node: entry in lb_hram_list (lb_hram_lock)
 * @buf: kernel address of the low guard page; the RAM follows it
 * @size: bytes of RAM, without the guards
 */
struct lb_hram {
	struct list_head node;
	void *buf;
	size_t size;
};

struct lb_hwatch {
	u32 zone;
	u32 irq;
	u64 count;
	bool used;
};

/**
 * struct lb_hctx - one open hostile file
 * @lock: serialises the context's ioctls and mmap
 * @ram: the RAM, once allocated
 * @node: entry in lb_hctx_list (lb_hwatch_lock)
 * @watch: watched {zone, irq} pairs and their counts (lb_hwatch_lock)
 */
struct lb_hctx {
	struct mutex lock;	/* ioctls and mmap of this context */
	struct lb_hram *ram;
	struct list_head node;
	struct lb_hwatch watch[HOSTILE_MAX_WATCH];
};

/* Every RAM ever allocated; freed at module exit only. */
static LIST_HEAD(lb_hram_list);
static DEFINE_MUTEX(lb_hram_lock);

/* Open contexts; hypercall 1 looks watches up in any context. */
static LIST_HEAD(lb_hctx_list);
static DEFINE_SPINLOCK(lb_hwatch_lock);

/**
 * lb_hostile_deliver() - count an interrupt for a watched pair
 * @zone: target zone
 * @irq: interrupt id
 *
 * Any context.
 *
 * Return: true if a hostile context watches {@zone, @irq}.
 */
bool lb_hostile_deliver(u32 zone, u32 irq)
{
	struct lb_hctx *ctx;
	unsigned long flags;
	bool found = false;
	unsigned int i;

	spin_lock_irqsave(&lb_hwatch_lock, flags);
	list_for_each_entry(ctx, &lb_hctx_list, node) {
		for (i = 0; i < HOSTILE_MAX_WATCH; i++) {
			struct lb_hwatch *w = &ctx->watch[i];

			if (w->used && w->zone == zone && w->irq == irq) {
				w->count++;
				found = true;
				goto out;
			}
		}
	}
out:
	spin_unlock_irqrestore(&lb_hwatch_lock, flags);
	return found;
}

static int lb_hostile_open(struct inode *inode, struct file *file)
{
	struct lb_hctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	mutex_init(&ctx->lock);
	spin_lock_irq(&lb_hwatch_lock);
	list_add_tail(&ctx->node, &lb_hctx_list);
	spin_unlock_irq(&lb_hwatch_lock);
	file->private_data = ctx;
	return 0;
}

static int lb_hostile_release(struct inode *inode, struct file *file)
{
	struct lb_hctx *ctx = file->private_data;

	spin_lock_irq(&lb_hwatch_lock);
	list_del(&ctx->node);
	spin_unlock_irq(&lb_hwatch_lock);
	/* ctx->ram stays on lb_hram_list until the module goes. */
	mutex_destroy(&ctx->lock);
	kfree(ctx);
	return 0;
}

static int lb_hostile_ram(struct lb_hctx *ctx, struct hostile_ram *arg)
{
	struct lb_hram *ram;

	if (ctx->ram)
		return -EEXIST;
	if (!arg->size || arg->size > HOSTILE_MAX_RAM ||
	    !PAGE_ALIGNED(arg->size))
		return -EINVAL;
	ram = kzalloc(sizeof(*ram), GFP_KERNEL);
	if (!ram)
		return -ENOMEM;
	ram->size = arg->size;
	ram->buf = alloc_pages_exact(ram->size + 2 * PAGE_SIZE,
				     GFP_KERNEL | __GFP_ZERO);
	if (!ram->buf) {
		kfree(ram);
		return -ENOMEM;
	}
	memset(ram->buf, HOSTILE_GUARD_BYTE, PAGE_SIZE);
	memset(ram->buf + PAGE_SIZE + ram->size, HOSTILE_GUARD_BYTE,
	       PAGE_SIZE);
	mutex_lock(&lb_hram_lock);
	list_add_tail(&ram->node, &lb_hram_list);
	mutex_unlock(&lb_hram_lock);
	ctx->ram = ram;
	arg->host_phys = virt_to_phys(ram->buf + PAGE_SIZE);
	return 0;
}

static int lb_hostile_access(struct hostile_access *arg)
{
	bool write = arg->flags & HOSTILE_WRITE;

	if (arg->flags & ~(HOSTILE_WRITE | HOSTILE_POSTED))
		return -EINVAL;
	if (arg->flags & HOSTILE_POSTED) {
		if (!write)
			return -EINVAL;
		return lb_el2_post(arg->zone, arg->addr, arg->size, arg->value);
	}
	return lb_el2_access(arg->zone, arg->addr, arg->size, write,
			     &arg->value);
}

static struct lb_hwatch *lb_hostile_find(struct lb_hctx *ctx, u32 zone,
					 u32 irq)
{
	unsigned int i;

	for (i = 0; i < HOSTILE_MAX_WATCH; i++)
		if (ctx->watch[i].used && ctx->watch[i].zone == zone &&
		    ctx->watch[i].irq == irq)
			return &ctx->watch[i];
	return NULL;
}

static int lb_hostile_watch(struct lb_hctx *ctx, const struct hostile_irq *arg)
{
	struct lb_hctx *c;
	unsigned int i;
	int ret = -ENOSPC;

	spin_lock_irq(&lb_hwatch_lock);
	list_for_each_entry(c, &lb_hctx_list, node) {
		if (lb_hostile_find(c, arg->zone, arg->irq)) {
			ret = -EEXIST;
			goto out;
		}
	}
	for (i = 0; i < HOSTILE_MAX_WATCH; i++) {
		struct lb_hwatch *w = &ctx->watch[i];

		if (!w->used) {
			w->zone = arg->zone;
			w->irq = arg->irq;
			w->count = 0;
			w->used = true;
			ret = 0;
			break;
		}
	}
out:
	spin_unlock_irq(&lb_hwatch_lock);
	return ret;
}

static int lb_hostile_irqs(struct lb_hctx *ctx, struct hostile_irq *arg)
{
	struct lb_hwatch *w;
	int ret = -ENOENT;

	spin_lock_irq(&lb_hwatch_lock);
	w = lb_hostile_find(ctx, arg->zone, arg->irq);
	if (w) {
		arg->count = w->count;
		ret = 0;
	}
	spin_unlock_irq(&lb_hwatch_lock);
	return ret;
}

static u64 lb_guard_scan(const u8 *p, u64 base, u64 *first)
{
	u64 bad = 0;
	size_t i;

	for (i = 0; i < PAGE_SIZE; i++) {
		if (p[i] == HOSTILE_GUARD_BYTE)
			continue;
		if (!bad && *first == U64_MAX)
			*first = base + i;
		bad++;
	}
	return bad;
}

static int lb_hostile_guard(struct lb_hctx *ctx, struct hostile_guard *arg)
{
	struct lb_hram *ram = ctx->ram;

	if (!ram)
		return -ENOENT;
	arg->first = U64_MAX;
	arg->bad = lb_guard_scan(ram->buf, 0, &arg->first);
	arg->bad += lb_guard_scan(ram->buf + PAGE_SIZE + ram->size,
				  PAGE_SIZE + ram->size, &arg->first);
	return 0;
}

static long lb_hostile_ioctl(struct file *file, unsigned int cmd,
			     unsigned long uarg)
{
	struct lb_hctx *ctx = file->private_data;
	void __user *up = (void __user *)uarg;
	union {
		struct hostile_ram ram;
		struct hostile_access access;
		struct hostile_irq irq;
		struct hostile_guard guard;
	} a;
	size_t size = _IOC_SIZE(cmd);
	long ret;

	switch (cmd) {
	case HOSTILE_IOC_RAM:
	case HOSTILE_IOC_ACCESS:
	case HOSTILE_IOC_WATCH:
	case HOSTILE_IOC_IRQS:
	case HOSTILE_IOC_GUARD:
		break;
	default:
		return -ENOTTY;
	}
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(&a, up, size))
		return -EFAULT;

	/* Accesses may wait for long: not under the context's lock. */
	if (cmd == HOSTILE_IOC_ACCESS) {
		ret = lb_hostile_access(&a.access);
		if (!ret && copy_to_user(up, &a, size))
			ret = -EFAULT;
		return ret;
	}

	mutex_lock(&ctx->lock);
	switch (cmd) {
	case HOSTILE_IOC_RAM:
		ret = lb_hostile_ram(ctx, &a.ram);
		break;
	case HOSTILE_IOC_WATCH:
		ret = lb_hostile_watch(ctx, &a.irq);
		break;
	case HOSTILE_IOC_IRQS:
		ret = lb_hostile_irqs(ctx, &a.irq);
		break;
	default:
		ret = lb_hostile_guard(ctx, &a.guard);
		break;
	}
	mutex_unlock(&ctx->lock);
	if (!ret && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(up, &a, size))
		ret = -EFAULT;
	return ret;
}

static int lb_hostile_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct lb_hctx *ctx = file->private_data;
	unsigned long len = vma->vm_end - vma->vm_start;
	struct lb_hram *ram;
	int ret;

	mutex_lock(&ctx->lock);
	ram = ctx->ram;
	if (!ram || vma->vm_pgoff || len > ram->size)
		ret = -EINVAL;
	else
		ret = remap_pfn_range(vma, vma->vm_start,
				      virt_to_phys(ram->buf + PAGE_SIZE) >>
						PAGE_SHIFT,
				      len, vma->vm_page_prot);
	mutex_unlock(&ctx->lock);
	return ret;
}

static const struct file_operations lb_hostile_fops = {
	.owner		= THIS_MODULE,
	.open		= lb_hostile_open,
	.release	= lb_hostile_release,
	.unlocked_ioctl	= lb_hostile_ioctl,
	.mmap		= lb_hostile_mmap,
	.llseek		= noop_llseek,
};

/*
 * The full debugfs proxy has no mmap: the file is created "unsafe", and
 * its fops pin the module while it is open (owner), so the file cannot
 * outlive the code behind it.
 */
void lb_hostile_init(struct dentry *dir)
{
	debugfs_create_file_unsafe("hostile", 0600, dir, NULL,
				   &lb_hostile_fops);
}

/* Module exit, after the debugfs files are gone and no zone maps RAM. */
void lb_hostile_exit(void)
{
	struct lb_hram *ram, *tmp;

	mutex_lock(&lb_hram_lock);
	list_for_each_entry_safe(ram, tmp, &lb_hram_list, node) {
		list_del(&ram->node);
		free_pages_exact(ram->buf, ram->size + 2 * PAGE_SIZE);
		kfree(ram);
	}
	mutex_unlock(&lb_hram_lock);
}
