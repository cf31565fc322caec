// SPDX-License-Identifier: GPL-2.0
/*
 * hvisor_vhost_loopback: lets the stock virtio drivers of root's own kernel
 * use hvisor_vhost's devices as a guest zone would, for tests without a
 * hypervisor.  hvisor_vhost.ko must be loaded with hyp=loopback.
 *
 * Control files, in /sys/kernel/debug/hvisor_vhost_loopback/:
 *
 *  probe    (w) "<zone> <mmio_base> <mmio_size> <irq> [<region_base>]":
 *           read MagicValue, Version and DeviceID through the bridge and
 *           register a virtio device; <region_base> (default <mmio_base>)
 *           is where the zone-config virtio region that holds the window
 *           starts: EL2 posts the writes at offset 0x50 of the region and
 *           blocks on all others, so a device above the base of a shared
 *           region gets blocking QueueNotify writes; errors: EINVAL
 *           (syntax, size < 0x100, region above the window), EEXIST (window
 *           overlaps or irq used in that zone), ENODEV (bad magic or
 *           device id 0), ENXIO (version not 2), ETIMEDOUT/EIO/EBUSY (no
 *           answer: the zone is dead)
 *  remove   (w) "<mmio_base>", "<zone> <mmio_base>" or "all"; ENOENT if
 *           no such device, EINVAL if the base is used in several zones
 *  devices  (r) one line per device: "<virtioN> zone= base= size= irq=
 *           device_id= driver= dead= accesses= notifies= timeouts=
 *           interrupts= irqs_merged= irqs_dropped= irq_state= region="
 *           (irq_state: 0 idle, 1 pending, 2 active)
 *  stats    (r) "<name> <value>" lines: module-wide counters and the
 *           ring indices
 *  raw      (w) "r <zone> <addr> <size>", "w <zone> <addr> <size> <value>"
 *           (blocking) or "p <zone> <addr> <size> <value>" (posted, as a
 *           QueueNotify): one access as EL2 would make it, to any address;
 *           "R <zone> <addr> <size> <count>": <count> blocking reads back
 *           to back, stopping at the first error;
 *           (r) the value of the last "r" or "R", as "0x<hex>"
 *  zone_ram (w) "<zone> <host_phys> <size> [<guest_phys>]": the devices
 *           of <zone> probed from now on keep their rings and buffers in
 *           that physical range, which must not be root's RAM (zram.c);
 *           DMA addresses are <guest_phys> (default <host_phys>) based;
 *           one range at a time: EBUSY if one is set; "none" forgets it
 *           (EBUSY while devices of its zone exist);
 *           (r) "none", or "<name> <value>" lines: the range, whether
 *           root maps it in its linear map, free bytes and counters
 *  zone_irq (w) "<zone> mask" or "<zone> unmask": while masked, the
 *           zone's interrupts stay pending (its first CPU does not take
 *           them); ENOENT if the zone has no device; removing a device
 *           unmasks its zone; (r) one line per zone with devices:
 *           "zone= devices= masked= pending="
 *  hostile  (ioctl, mmap) zones a test plays by hand: RAM with guard
 *           pages, any register access, interrupt counts; see
 *           hostile_abi.h
 *
 * Numbers take C prefixes (0x...).  Parameters, also writable at run time
 * in /sys/module/hvisor_vhost_loopback/parameters/: timeout_ms (default
 * 5000), how long an access waits for its answer; lose_wakeups (default
 * 0), how many of the next wake-up interrupts to leave out, as if EL2 had
 * lost them; kind (default 0), a bit mask of the hypervisor's harsh rules
 * to switch off (LB_KIND_* in lb.h; see el2.c).
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "lb.h"

struct lb_stats lb_stats;

unsigned int lb_timeout_ms = 5000;
module_param_named(timeout_ms, lb_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "how long a register access waits for the backend (ms)");

unsigned int lb_lose_wakeups;
module_param_named(lose_wakeups, lb_lose_wakeups, uint, 0644);
MODULE_PARM_DESC(lose_wakeups, "tests: do not raise the next N wake-ups");

unsigned int lb_kind_mask;
module_param_named(kind, lb_kind_mask, uint, 0644);
MODULE_PARM_DESC(kind, "tests: switch off rules of the hypervisor (bit mask, see lb.h)");

static struct dentry *lb_dir;

static DEFINE_MUTEX(lb_raw_lock);
static u64 lb_raw_value = ~0ULL;

#define LB_CMD_MAX	128
#define LB_MAX_ARGS	6

/* Copy a command from user space and split it into words. */
static int lb_get_cmd(const char __user *ubuf, size_t count, char *buf,
		      char **argv)
{
	char *s = buf, *tok;
	int argc = 0;

	if (count >= LB_CMD_MAX)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';

	while ((tok = strsep(&s, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (argc == LB_MAX_ARGS)
			return -EINVAL;
		argv[argc++] = tok;
	}
	return argc;
}

static ssize_t lb_probe_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	char buf[LB_CMD_MAX], *argv[LB_MAX_ARGS];
	u64 base, size, region;
	u32 zone, irq;
	int argc, ret;

	argc = lb_get_cmd(ubuf, count, buf, argv);
	if (argc < 0)
		return argc;
	if ((argc != 4 && argc != 5) || kstrtou32(argv[0], 0, &zone) ||
	    kstrtou64(argv[1], 0, &base) || kstrtou64(argv[2], 0, &size) ||
	    kstrtou32(argv[3], 0, &irq) ||
	    kstrtou64(argc == 5 ? argv[4] : argv[1], 0, &region))
		return -EINVAL;

	ret = lb_dev_create(zone, base, size, irq, region);
	return ret ? ret : count;
}

static ssize_t lb_remove_write(struct file *file, const char __user *ubuf,
			       size_t count, loff_t *ppos)
{
	char buf[LB_CMD_MAX], *argv[LB_MAX_ARGS];
	u32 zone = 0;
	u64 base;
	int argc, ret;

	argc = lb_get_cmd(ubuf, count, buf, argv);
	if (argc < 0)
		return argc;
	if (argc == 1 && !strcmp(argv[0], "all")) {
		lb_dev_remove_all();
		return count;
	}
	if (argc == 1)
		ret = kstrtou64(argv[0], 0, &base);
	else if (argc == 2)
		ret = kstrtou32(argv[0], 0, &zone) ?:
		      kstrtou64(argv[1], 0, &base);
	else
		ret = -EINVAL;
	if (ret)
		return -EINVAL;

	ret = lb_dev_remove(argc == 2, zone, base);
	return ret ? ret : count;
}

/*
 * @count blocking reads back to back, as a vCPU that reads a register in
 * a loop: each access is pushed as soon as the previous one is answered,
 * which lands it while the wake-up handler that answered is still
 * finishing.  Stops at the first error.
 */
static int lb_raw_burst(u32 zone, u64 addr, u64 size, u64 count, u64 *value)
{
	int ret = 0;

	while (count-- && !ret) {
		ret = lb_el2_access(zone, addr, size, false, value);
		if (fatal_signal_pending(current))
			ret = ret ?: -EINTR;
	}
	return ret;
}

static ssize_t lb_raw_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char buf[LB_CMD_MAX], *argv[LB_MAX_ARGS];
	u64 addr, size, value = 0;
	u32 zone;
	char op;
	int argc, ret;

	argc = lb_get_cmd(ubuf, count, buf, argv);
	if (argc < 0)
		return argc;
	if (argc < 4 || strlen(argv[0]) != 1)
		return -EINVAL;
	op = argv[0][0];
	if (argc != (op == 'r' ? 4 : 5) || !strchr("rwpR", op))
		return -EINVAL;
	if (kstrtou32(argv[1], 0, &zone) || kstrtou64(argv[2], 0, &addr) ||
	    kstrtou64(argv[3], 0, &size) ||
	    (argc == 5 && kstrtou64(argv[4], 0, &value)))
		return -EINVAL;

	mutex_lock(&lb_raw_lock);
	if (op == 'p')
		ret = lb_el2_post(zone, addr, size, value);
	else if (op == 'R')
		ret = lb_raw_burst(zone, addr, size, value, &value);
	else
		ret = lb_el2_access(zone, addr, size, op == 'w', &value);
	if (op == 'r' || op == 'R')
		lb_raw_value = value;
	mutex_unlock(&lb_raw_lock);
	return ret ? ret : count;
}

static ssize_t lb_raw_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	char buf[24];
	int len;

	mutex_lock(&lb_raw_lock);
	len = scnprintf(buf, sizeof(buf), "0x%llx\n", lb_raw_value);
	mutex_unlock(&lb_raw_lock);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t lb_zone_ram_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[LB_CMD_MAX], *argv[LB_MAX_ARGS];
	int argc, ret;

	argc = lb_get_cmd(ubuf, count, buf, argv);
	if (argc < 0)
		return argc;
	ret = lb_zram_write(argc, argv);
	return ret ? ret : count;
}

static int lb_zone_ram_show(struct seq_file *m, void *unused)
{
	lb_zram_show(m);
	return 0;
}

static int lb_zone_ram_open(struct inode *inode, struct file *file)
{
	return single_open(file, lb_zone_ram_show, NULL);
}

static ssize_t lb_zone_irq_write(struct file *file, const char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[LB_CMD_MAX], *argv[LB_MAX_ARGS];
	u32 zone;
	int argc, ret;

	argc = lb_get_cmd(ubuf, count, buf, argv);
	if (argc < 0)
		return argc;
	if (argc != 2 || kstrtou32(argv[0], 0, &zone) ||
	    (strcmp(argv[1], "mask") && strcmp(argv[1], "unmask")))
		return -EINVAL;
	ret = lb_zone_mask(zone, !strcmp(argv[1], "mask"));
	return ret ? ret : count;
}

static int lb_zone_irq_show(struct seq_file *m, void *unused)
{
	lb_zone_show(m);
	return 0;
}

static int lb_zone_irq_open(struct inode *inode, struct file *file)
{
	return single_open(file, lb_zone_irq_show, NULL);
}

static int lb_devices_show(struct seq_file *m, void *unused)
{
	lb_devs_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lb_devices);

static int lb_stats_show(struct seq_file *m, void *unused)
{
	lb_el2_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lb_stats);

static const struct file_operations lb_probe_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= lb_probe_write,
	.llseek	= noop_llseek,
};

static const struct file_operations lb_remove_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= lb_remove_write,
	.llseek	= noop_llseek,
};

static const struct file_operations lb_raw_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.read	= lb_raw_read,
	.write	= lb_raw_write,
	.llseek	= default_llseek,
};

static const struct file_operations lb_zone_ram_fops = {
	.owner		= THIS_MODULE,
	.open		= lb_zone_ram_open,
	.read		= seq_read,
	.write		= lb_zone_ram_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

static const struct file_operations lb_zone_irq_fops = {
	.owner		= THIS_MODULE,
	.open		= lb_zone_irq_open,
	.read		= seq_read,
	.write		= lb_zone_irq_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

static int __init lb_init(void)
{
	int ret;

	ret = lb_transport_init();
	if (ret)
		return ret;
	ret = lb_el2_attach();
	if (ret) {
		pr_err(LB_NAME ": cannot attach to the backend (%d): is hvisor_vhost loaded with hyp=loopback?\n",
		       ret);
		lb_transport_exit();
		return ret;
	}

	lb_dir = debugfs_create_dir(LB_NAME, NULL);
	debugfs_create_file("probe", 0200, lb_dir, NULL, &lb_probe_fops);
	debugfs_create_file("remove", 0200, lb_dir, NULL, &lb_remove_fops);
	debugfs_create_file("devices", 0444, lb_dir, NULL, &lb_devices_fops);
	debugfs_create_file("stats", 0444, lb_dir, NULL, &lb_stats_fops);
	debugfs_create_file("raw", 0600, lb_dir, NULL, &lb_raw_fops);
	debugfs_create_file("zone_ram", 0600, lb_dir, NULL, &lb_zone_ram_fops);
	debugfs_create_file("zone_irq", 0600, lb_dir, NULL, &lb_zone_irq_fops);
	lb_hostile_init(lb_dir);
	return 0;
}

static void __exit lb_exit(void)
{
	/* Waits for control-file operations in progress. */
	debugfs_remove_recursive(lb_dir);
	/* Drivers' remove paths still need the bridge and interrupts. */
	lb_dev_remove_all();
	mutex_lock(&lb_mutex);
	lb_zram_clear();
	mutex_unlock(&lb_mutex);
	lb_el2_detach();
	lb_transport_exit();
	lb_hostile_exit();
}

module_init(lb_init);
module_exit(lb_exit);

MODULE_DESCRIPTION("hvisor_vhost test rig: hypervisor and guest zone in one kernel");
MODULE_LICENSE("GPL");
