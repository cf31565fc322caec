// SPDX-License-Identifier: GPL-2.0
/*
 * The backend's device-tree node (dts/hvisor-vhost.yaml): the wake-up
 * interrupt, and the zones and devices to create when the module loads.
 *
 * The node hvisor deployments already carry (compatible "hvisor", the
 * wake-up interrupt only) is accepted as well, so an existing tree works
 * as is.  Zones and devices go through the same functions as the ioctls:
 * everything the tree says is checked there, once.  A malformed node is
 * named in the log and skipped; the others still come up.
 *
 * A virtio-blk device names its disk by path; a disk that is not there
 * yet (a driver still probing, a module loaded later) is looked for again
 * every HVV_OF_BLK_RETRY until it appears or dt_blk_wait seconds have
 * passed.  A virtio-net device starts with its link down: a tap is given
 * to it later with DEV_ATTACH (hvctl attach-net).  A virtio-console device
 * needs nothing of root but its tty, made with it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/etherdevice.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/path.h>
#include <linux/platform_device.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "hvv.h"
#include "of.h"

static bool dt_devices = true;
module_param(dt_devices, bool, 0444);
MODULE_PARM_DESC(dt_devices, "create the zones and devices the device tree declares (default: yes)");

static unsigned int dt_blk_wait = 60;
module_param(dt_blk_wait, uint, 0444);
MODULE_PARM_DESC(dt_blk_wait, "seconds to wait for the disk of a virtio-blk device of the device tree (default: 60)");

#define HVV_OF_BLK_RETRY	msecs_to_jiffies(250)

/**
 * struct hvv_of_dev - a device the device tree declares
 * @node: entry in hvv_of_devs
 * @name: the node's full name, for messages
 * @args: what is handed to the device functions
 * @created: the device exists (it is removed with the node)
 * @path: blk: the disk's path
 * @work: blk: looks for the disk again
 * @deadline: blk: when to give up looking
 * @waiting: blk: a wait was announced in the log
 */
struct hvv_of_dev {
	struct list_head node;
	char *name;
	struct hvisor_vhost_dev args;
	bool created;
	char *path;
	struct delayed_work work;
	unsigned long deadline;
	bool waiting;
};

static int hvv_of_irq = -ENODEV;
static struct platform_device *hvv_of_pdev;
static LIST_HEAD(hvv_of_devs);
static u32 hvv_of_zones[HVV_MAX_ZONES];
static unsigned int hvv_of_nr_zones;
/* Where disk paths are looked up: the file system of whoever loaded us. */
static struct path hvv_of_root;

/*
 * The block device at @name, seen from hvv_of_root (the disk waits run in
 * a worker, whose own root may not be the system's once it has switched
 * from an initramfs).  O_PATH: the node is looked at, not opened.
 */
static int of_lookup_bdev(const char *name, dev_t *devt)
{
	struct inode *inode;
	struct file *f;
	int ret = 0;

	f = hvv_file_open_root(&hvv_of_root, name, O_PATH, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	inode = file_inode(f);
	if (S_ISBLK(inode->i_mode))
		*devt = inode->i_rdev;
	else
		ret = -ENOTBLK;
	fput(f);
	return ret;
}

/* Errors that mean "the disk is not there yet". */
static bool blk_missing(int err)
{
	return err == -ENOENT || err == -ENXIO || err == -ENODEV;
}

/* One attempt to create a virtio-blk device: 0, or a negative errno. */
static int of_blk_try(struct hvv_of_dev *od)
{
	struct hvisor_vhost_dev args = od->args;
	dev_t devt;
	int ret;

	ret = of_lookup_bdev(od->path, &devt);
	if (ret)
		return ret;
	ret = hvv_device_add_dt(&args, devt);
	/* The zone was deleted meanwhile: no use waiting for the disk. */
	if (ret == -ENOENT)
		ret = -ESRCH;
	if (ret)
		return ret;
	od->args.dev_id = args.dev_id;
	od->created = true;
	pr_info("%s: zone %u dev %u on %s%s\n", od->name, args.zone_id,
		args.dev_id, od->path,
		args.blk.flags & HVISOR_VHOST_BLK_F_RO ? " (read-only)" : "");
	return 0;
}

static void of_blk_work(struct work_struct *work)
{
	struct hvv_of_dev *od = container_of(to_delayed_work(work),
					     struct hvv_of_dev, work);
	int ret = of_blk_try(od);

	if (!ret)
		return;
	if (blk_missing(ret) && time_before(jiffies, od->deadline)) {
		schedule_delayed_work(&od->work, HVV_OF_BLK_RETRY);
		return;
	}
	if (blk_missing(ret))
		pr_err("%s: %s did not appear within %u s (%pe): device not created\n",
		       od->name, od->path, dt_blk_wait, ERR_PTR(ret));
	else
		pr_err("%s: %s refused (%pe): device not created\n",
		       od->name, od->path, ERR_PTR(ret));
}

/* A number of @cells big-endian cells. */
static u64 of_cells(const __be32 *cell, int cells)
{
	u64 v = 0;

	while (cells--)
		v = v << 32 | be32_to_cpup(cell++);
	return v;
}

/* Register window from "reg", in the zone node's address and size cells. */
static int of_dev_window(struct device_node *dn, struct hvisor_vhost_dev *a)
{
	int na = of_n_addr_cells(dn), ns = of_n_size_cells(dn);
	const __be32 *reg;
	int len;

	reg = of_get_property(dn, "reg", &len);
	if (!reg) {
		pr_err("%pOF: no reg (register window): skipped\n", dn);
		return -EINVAL;
	}
	if (na < 1 || na > 2 || ns < 1 || ns > 2 ||
	    len < (na + ns) * (int)sizeof(*reg)) {
		pr_err("%pOF: reg is not <base size> in %d+%d cells: skipped\n",
		       dn, na, ns);
		return -EINVAL;
	}
	a->mmio_base = of_cells(reg, na);
	a->mmio_size = of_cells(reg + na, ns);
	return 0;
}

/*
 * The hypervisor's interrupt number from "interrupts", written as in the
 * zone's own tree.  GIC (three cells): an SPI n is 32 + n, a PPI 16 + n;
 * one or two cells (PLIC, ...): the first cell as is.
 */
static int of_dev_irq(struct device_node *dn, struct hvisor_vhost_dev *a)
{
	struct of_phandle_args oirq;
	int ret;

	ret = of_irq_parse_one(dn, 0, &oirq);
	if (ret) {
		pr_err("%pOF: no usable interrupts property (%pe): skipped\n",
		       dn, ERR_PTR(ret));
		return -EINVAL;
	}
	of_node_put(oirq.np);
	if (oirq.args_count == 3 && oirq.args[0] <= 1)
		a->irq = oirq.args[1] + (oirq.args[0] ? 16 : 32);
	else if (oirq.args_count == 1 || oirq.args_count == 2)
		a->irq = oirq.args[0];
	else
		a->irq = 0;
	if (!a->irq) {
		pr_err("%pOF: interrupts: not an SPI, a PPI or one number: skipped\n",
		       dn);
		return -EINVAL;
	}
	return 0;
}

static int of_blk_params(struct device_node *dn, struct hvv_of_dev *od)
{
	struct hvisor_vhost_blk_params *p = &od->args.blk;
	const char *path, *serial;

	if (of_property_read_string(dn, "hvisor,block-device", &path) ||
	    !*path) {
		pr_err("%pOF: no hvisor,block-device: skipped\n", dn);
		return -EINVAL;
	}
	od->path = kstrdup(path, GFP_KERNEL);
	if (!od->path)
		return -ENOMEM;
	if (of_property_read_bool(dn, "read-only"))
		p->flags |= HVISOR_VHOST_BLK_F_RO;
	if (!of_property_read_string(dn, "hvisor,serial", &serial)) {
		if (strlen(serial) > sizeof(p->serial)) {
			pr_err("%pOF: hvisor,serial longer than %zu bytes: skipped\n",
			       dn, sizeof(p->serial));
			return -EINVAL;
		}
		/* Not NUL-terminated when all 20 bytes are used. */
		memcpy(p->serial, serial, strlen(serial));
	}
	return 0;
}

static int of_net_params(struct device_node *dn, struct hvv_of_dev *od)
{
	struct hvisor_vhost_net_params *p = &od->args.net;
	const char *tap;
	const u8 *mac;
	int len;

	mac = of_get_property(dn, "local-mac-address", &len);
	if (mac) {
		if (len != ETH_ALEN || !is_valid_ether_addr(mac)) {
			pr_err("%pOF: local-mac-address is not a unicast MAC: skipped\n",
			       dn);
			return -EINVAL;
		}
		ether_addr_copy(p->mac, mac);
	}
	/* The tap is attached later (DEV_ATTACH); the name is for the log. */
	if (!of_property_read_string(dn, "hvisor,tap", &tap)) {
		if (!*tap || strlen(tap) >= sizeof(p->ifname)) {
			pr_err("%pOF: hvisor,tap is not an interface name: skipped\n",
			       dn);
			return -EINVAL;
		}
		od->path = kstrdup(tap, GFP_KERNEL);
		if (!od->path)
			return -ENOMEM;
	}
	return 0;
}

/* virtio-console: the size the zone sees until root's tty sets one. */
static int of_con_params(struct device_node *dn, struct hvv_of_dev *od)
{
	u32 size[2];

	if (!of_find_property(dn, "hvisor,window-size", NULL))
		return 0;
	if (of_property_read_u32_array(dn, "hvisor,window-size", size, 2) ||
	    size[0] > U16_MAX || size[1] > U16_MAX) {
		pr_err("%pOF: hvisor,window-size is not <cols rows> below 65536: skipped\n",
		       dn);
		return -EINVAL;
	}
	od->args.console.cols = size[0];
	od->args.console.rows = size[1];
	return 0;
}

static void of_dev_free(struct hvv_of_dev *od)
{
	kfree(od->path);
	kfree(od->name);
	kfree(od);
}

/*
 * Create a device that needs no backend at creation (net, console) from
 * @od's arguments, filled into @args; false, said, when refused.
 */
static bool of_dev_add(struct hvv_of_dev *od, struct hvisor_vhost_dev *args)
{
	int ret;

	*args = od->args;
	ret = hvv_device_add_dt(args, 0);
	if (ret) {
		pr_err("%s: refused (%pe): device not created\n", od->name,
		       ERR_PTR(ret));
		return false;
	}
	od->args.dev_id = args->dev_id;
	od->created = true;
	return true;
}

static void of_net_create(struct hvv_of_dev *od)
{
	struct hvisor_vhost_dev args;

	if (!of_dev_add(od, &args))
		return;
	if (od->path)
		pr_info("%s: zone %u dev %u (%pM), link down until a tap is attached: hvctl attach-net %u %s\n",
			od->name, args.zone_id, args.dev_id, args.net.mac,
			args.dev_id, od->path);
	else
		pr_info("%s: zone %u dev %u (%pM), link down until a tap is attached\n",
			od->name, args.zone_id, args.dev_id, args.net.mac);
}

static void of_con_create(struct hvv_of_dev *od)
{
	struct hvisor_vhost_dev args;

	if (!of_dev_add(od, &args))
		return;
	pr_info("%s: zone %u dev %u, root's side is /dev/%.*s\n", od->name,
		args.zone_id, args.dev_id,
		(int)sizeof(args.console.tty_name), args.console.tty_name);
}

static void of_blk_create(struct hvv_of_dev *od)
{
	int ret = of_blk_try(od);

	if (!ret)
		return;
	if (!blk_missing(ret) || !dt_blk_wait) {
		pr_err("%s: %s refused (%pe): device not created\n", od->name,
		       od->path, ERR_PTR(ret));
		return;
	}
	pr_info("%s: waiting up to %u s for %s\n", od->name, dt_blk_wait,
		od->path);
	od->waiting = true;
	od->deadline = jiffies + (unsigned long)dt_blk_wait * HZ;
	schedule_delayed_work(&od->work, HVV_OF_BLK_RETRY);
}

static void of_device(struct device_node *dn, u32 zone_id)
{
	struct hvv_of_dev *od;
	u32 type;
	int ret;

	if (of_device_is_compatible(dn, "hvisor,virtio-blk")) {
		type = HVISOR_VHOST_DEV_BLK;
	} else if (of_device_is_compatible(dn, "hvisor,virtio-net")) {
		type = HVISOR_VHOST_DEV_NET;
	} else if (of_device_is_compatible(dn, "hvisor,virtio-console")) {
		type = HVISOR_VHOST_DEV_CONSOLE;
	} else {
		pr_err("%pOF: not hvisor,virtio-blk, -net or -console: skipped\n",
		       dn);
		return;
	}
	od = kzalloc(sizeof(*od), GFP_KERNEL);
	if (!od)
		return;
	INIT_DELAYED_WORK(&od->work, of_blk_work);
	od->name = kasprintf(GFP_KERNEL, "%pOF", dn);
	od->args.type = type;
	od->args.zone_id = zone_id;
	od->args.backend_fd = -1;
	ret = od->name ? 0 : -ENOMEM;
	if (!ret)
		ret = of_dev_window(dn, &od->args);
	if (!ret)
		ret = of_dev_irq(dn, &od->args);
	if (!ret && type == HVISOR_VHOST_DEV_BLK)
		ret = of_blk_params(dn, od);
	else if (!ret && type == HVISOR_VHOST_DEV_NET)
		ret = of_net_params(dn, od);
	else if (!ret)
		ret = of_con_params(dn, od);
	if (ret) {
		of_dev_free(od);
		return;
	}
	list_add_tail(&od->node, &hvv_of_devs);
	if (type == HVISOR_VHOST_DEV_BLK)
		of_blk_create(od);
	else if (type == HVISOR_VHOST_DEV_NET)
		of_net_create(od);
	else
		of_con_create(od);
}

static void of_zone(struct device_node *zn)
{
	struct hvisor_vhost_zone z = { };
	u64 ram[3 * HVISOR_VHOST_MAX_REGIONS];
	struct device_node *dn;
	int i, n, ret;
	u32 id;

	if (of_property_read_u32(zn, "reg", &id) || !id) {
		pr_err("%pOF: no zone id >= 1 in reg: zone and its devices skipped\n",
		       zn);
		return;
	}
	n = of_property_count_u64_elems(zn, "hvisor,ram-regions");
	if (n <= 0 || n % 3 || n > ARRAY_SIZE(ram) ||
	    of_property_read_u64_array(zn, "hvisor,ram-regions", ram, n)) {
		pr_err("%pOF: hvisor,ram-regions is not 1 to %d <guest host size> triplets: zone and its devices skipped\n",
		       zn, HVISOR_VHOST_MAX_REGIONS);
		return;
	}
	z.zone_id = id;
	z.nr_regions = n / 3;
	for (i = 0; i < z.nr_regions; i++) {
		z.regions[i].guest_phys = ram[3 * i];
		z.regions[i].host_phys = ram[3 * i + 1];
		z.regions[i].size = ram[3 * i + 2];
	}
	ret = hvv_zone_add_dt(&z);
	if (ret) {
		pr_err("%pOF: zone %u refused (%pe): zone and its devices skipped\n",
		       zn, id, ERR_PTR(ret));
		return;
	}
	hvv_of_zones[hvv_of_nr_zones++] = id;
	for_each_available_child_of_node(zn, dn)
		of_device(dn, id);
}

/**
 * hvv_of_populate() - create the zones and devices the device tree declares
 *
 * Called once the backend is ready.  Never fails: what cannot be created
 * is named in the log and skipped.
 */
void hvv_of_populate(void)
{
	struct device_node *np, *zn;

	if (!hvv_of_pdev)
		return;
	np = hvv_of_pdev->dev.of_node;
	if (!of_get_available_child_count(np))
		return;
	if (!dt_devices) {
		pr_info("dt_devices=0: the zones and devices of %pOF are not created\n",
			np);
		return;
	}
	get_fs_root(current->fs, &hvv_of_root);
	for_each_available_child_of_node(np, zn) {
		if (!of_node_name_eq(zn, "zone"))
			pr_err("%pOF: not a zone node: skipped\n", zn);
		else if (hvv_of_nr_zones >= HVV_MAX_ZONES)
			pr_err("%pOF: more than %d zones: skipped\n", zn,
			       HVV_MAX_ZONES);
		else
			of_zone(zn);
	}
}

/* Cancel the disk waits, then remove what the tree created. */
static void hvv_of_depopulate(void)
{
	struct hvv_of_dev *od, *tmp;
	unsigned int i;

	list_for_each_entry(od, &hvv_of_devs, node)
		cancel_delayed_work_sync(&od->work);
	list_for_each_entry_safe(od, tmp, &hvv_of_devs, node) {
		if (od->created)
			hvv_device_del_at(od->args.zone_id, od->args.mmio_base);
		list_del(&od->node);
		of_dev_free(od);
	}
	/* A zone that hvctl gave devices too stays (module exit frees it). */
	for (i = 0; i < hvv_of_nr_zones; i++)
		hvv_zone_del(hvv_of_zones[i]);
	hvv_of_nr_zones = 0;
	if (hvv_of_root.mnt) {
		path_put(&hvv_of_root);
		hvv_of_root.mnt = NULL;
		hvv_of_root.dentry = NULL;
	}
}

/* When the node is let go of (unbind, module unload). */
static void hvv_of_release(void *unused)
{
	hvv_of_depopulate();
	hvv_of_pdev = NULL;
}

static int hvv_of_probe(struct platform_device *pdev)
{
	int irq, ret;

	if (hvv_of_pdev) {
		dev_err(&pdev->dev, "%pOF is a second backend node: ignored\n",
			pdev->dev.of_node);
		return -EBUSY;
	}
	irq = platform_get_irq(pdev, 0);
	if (irq < 0)
		return irq;
	ret = devm_add_action_or_reset(&pdev->dev, hvv_of_release, NULL);
	if (ret)
		return ret;
	hvv_of_irq = irq;
	hvv_of_pdev = pdev;
	return 0;
}

static const struct of_device_id hvv_of_match[] = {
	{ .compatible = "hvisor" },
	{ .compatible = "hvisor,vhost" },
	{ }
};
MODULE_DEVICE_TABLE(of, hvv_of_match);

static struct platform_driver hvv_of_driver = {
	.probe = hvv_of_probe,
	.driver = {
		.name = "hvisor_vhost",
		.of_match_table = hvv_of_match,
		/* The bridge keeps the wake-up interrupt until unload. */
		.suppress_bind_attrs = true,
		/* hvv_of_init() reads what the probe found right after. */
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

/**
 * hvv_of_init() - bind to the backend's device-tree node, if any
 *
 * Return: the wake-up interrupt it names, or a negative errno when there is
 * no such node (the hypervisor interface may know another way).
 */
int hvv_of_init(void)
{
	int ret = platform_driver_register(&hvv_of_driver);

	if (ret)
		return ret;
	/* Nodes present at boot are probed synchronously by the register. */
	return hvv_of_irq;
}

/**
 * hvv_of_exit() - let go of the node, removing what it created
 *
 * Before the backend goes away: the devices the tree declared are
 * removed here, and no disk wait runs any more when it returns.
 */
void hvv_of_exit(void)
{
	platform_driver_unregister(&hvv_of_driver);
	hvv_of_irq = -ENODEV;
}
