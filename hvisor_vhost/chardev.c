// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/hvisor_vhost and its ioctls (uapi/linux/hvisor_vhost.h).
 *
 * The tool is a convenience, not a guard: every argument is validated here
 * or in the function it is handed to.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "chardev.h"
#include "hvv.h"

static long ioctl_version(void __user *argp)
{
	struct hvisor_vhost_version v = {
		.abi_version = HVISOR_VHOST_ABI_VERSION,
		.max_zones = HVV_MAX_ZONES,
		.features = HVISOR_VHOST_F_ZONES | HVISOR_VHOST_F_BLK |
			    HVISOR_VHOST_F_NET | HVISOR_VHOST_F_STATS |
			    HVISOR_VHOST_F_STATS_BOUNCED |
			    HVISOR_VHOST_F_ZONE_RESET,
		.max_devices = HVV_MAX_DEVICES,
		.max_zone_devices = hvv_zone_max_devices,
		.max_regions = HVISOR_VHOST_MAX_REGIONS,
	};

	return copy_to_user(argp, &v, sizeof(v)) ? -EFAULT : 0;
}

static long ioctl_zone_add(void __user *argp)
{
	struct hvisor_vhost_zone z;

	if (copy_from_user(&z, argp, sizeof(z)))
		return -EFAULT;
	return hvv_zone_add(&z);
}

static int get_id(void __user *argp, u32 *id)
{
	struct hvisor_vhost_id uid;

	if (copy_from_user(&uid, argp, sizeof(uid)))
		return -EFAULT;
	if (uid.reserved0 || memchr_inv(uid.reserved, 0, sizeof(uid.reserved)))
		return -EINVAL;
	*id = uid.id;
	return 0;
}

static long ioctl_zone_del(void __user *argp)
{
	u32 id;
	int ret = get_id(argp, &id);

	return ret ? ret : hvv_zone_del(id);
}

static long ioctl_zone_reset(void __user *argp)
{
	u32 id;
	int ret = get_id(argp, &id);

	if (ret)
		return ret;
	ret = hvv_zone_reset(id);
	return ret < 0 ? ret : 0;
}

static long ioctl_zone_next(void __user *argp)
{
	struct hvisor_vhost_zone z;
	int ret;

	if (copy_from_user(&z, argp, sizeof(z)))
		return -EFAULT;
	ret = hvv_zone_next(&z);
	if (ret)
		return ret;
	return copy_to_user(argp, &z, sizeof(z)) ? -EFAULT : 0;
}

static long ioctl_dev_add(void __user *argp)
{
	struct hvisor_vhost_dev d;
	int ret;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	d.dev_id = 0;
	ret = hvv_device_add(&d);
	if (ret)
		return ret;
	/* The device exists now; a failed copy-out does not undo it. */
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

static long ioctl_dev_del(void __user *argp)
{
	u32 id;
	int ret = get_id(argp, &id);

	return ret ? ret : hvv_device_del(id);
}

static long ioctl_dev_next(void __user *argp)
{
	struct hvisor_vhost_dev d;
	int ret;

	if (copy_from_user(&d, argp, sizeof(d)))
		return -EFAULT;
	ret = hvv_device_next(&d);
	if (ret)
		return ret;
	return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
}

static long ioctl_dev_attach(void __user *argp)
{
	struct hvisor_vhost_attach a;

	if (copy_from_user(&a, argp, sizeof(a)))
		return -EFAULT;
	return hvv_device_attach(&a);
}

static long ioctl_dev_stats(void __user *argp)
{
	struct hvisor_vhost_dev_stats st;
	u32 id;
	int ret;

	if (copy_from_user(&st, argp, sizeof(st)))
		return -EFAULT;
	if (st.reserved0 || memchr_inv(st.reserved, 0, sizeof(st.reserved)))
		return -EINVAL;
	id = st.dev_id;
	memset(&st, 0, sizeof(st));
	st.dev_id = id;
	ret = hvv_device_stats(&st);
	if (ret)
		return ret;
	return copy_to_user(argp, &st, sizeof(st)) ? -EFAULT : 0;
}

static bool ioctl_changes_state(unsigned int cmd)
{
	return cmd == HVISOR_VHOST_IOC_ZONE_ADD ||
	       cmd == HVISOR_VHOST_IOC_ZONE_DEL ||
	       cmd == HVISOR_VHOST_IOC_ZONE_RESET ||
	       cmd == HVISOR_VHOST_IOC_DEV_ADD ||
	       cmd == HVISOR_VHOST_IOC_DEV_DEL ||
	       cmd == HVISOR_VHOST_IOC_DEV_ATTACH;
}

static long hvv_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	if (ioctl_changes_state(cmd) && !capable(CAP_SYS_ADMIN))
		return -EPERM;

	switch (cmd) {
	case HVISOR_VHOST_IOC_VERSION:
		return ioctl_version(argp);
	case HVISOR_VHOST_IOC_ZONE_ADD:
		return ioctl_zone_add(argp);
	case HVISOR_VHOST_IOC_ZONE_DEL:
		return ioctl_zone_del(argp);
	case HVISOR_VHOST_IOC_ZONE_NEXT:
		return ioctl_zone_next(argp);
	case HVISOR_VHOST_IOC_ZONE_RESET:
		return ioctl_zone_reset(argp);
	case HVISOR_VHOST_IOC_DEV_ADD:
		return ioctl_dev_add(argp);
	case HVISOR_VHOST_IOC_DEV_DEL:
		return ioctl_dev_del(argp);
	case HVISOR_VHOST_IOC_DEV_NEXT:
		return ioctl_dev_next(argp);
	case HVISOR_VHOST_IOC_DEV_ATTACH:
		return ioctl_dev_attach(argp);
	case HVISOR_VHOST_IOC_DEV_STATS:
		return ioctl_dev_stats(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations hvv_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hvv_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice hvv_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = HVV_NAME,
	.fops = &hvv_fops,
	.mode = 0600,
};

int hvv_chardev_init(void)
{
	return misc_register(&hvv_misc);
}

void hvv_chardev_exit(void)
{
	misc_deregister(&hvv_misc);
}
