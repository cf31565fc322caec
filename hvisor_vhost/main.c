// SPDX-License-Identifier: GPL-2.0
/*
 * hvisor_vhost: in-kernel virtio backend for the hvisor hypervisor.
 *
 * Loading the module registers the bridge page with the hypervisor, takes
 * the wake-up interrupt, creates /dev/hvisor_vhost, through which zones
 * and devices are configured, and creates those the device tree declares.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "bridge.h"
#include "chardev.h"
#include "hvv.h"
#include "hyp.h"
#include "of.h"

static char *hyp = "hvisor";
module_param(hyp, charp, 0444);
MODULE_PARM_DESC(hyp, "hypervisor interface: hvisor (default) or loopback (tests only)");

static int allow_root_ram = -1;
module_param(allow_root_ram, int, 0444);
MODULE_PARM_DESC(allow_root_ram, "let zone RAM be root's own System RAM: 1 yes (unsafe: a zone then reaches root's memory), 0 no, -1 (default) only with hyp=loopback");

static const struct hvv_hyp_ops *hvv_hyp;

static const struct hvv_hyp_ops *hyp_by_name(const char *name)
{
	if (!strcmp(name, hvv_hyp_hvisor.name))
		return &hvv_hyp_hvisor;
	if (!strcmp(name, hvv_hyp_loopback.name))
		return &hvv_hyp_loopback;
	return NULL;
}

static int __init hvv_init(void)
{
	int irq, ret;

	hvv_hyp = hyp_by_name(hyp);
	if (!hvv_hyp) {
		pr_err("unknown hyp=%s (hvisor or loopback)\n", hyp);
		return -EINVAL;
	}
	hvv_root_ram_ok = allow_root_ram < 0 ? hvv_hyp == &hvv_hyp_loopback
					     : allow_root_ram;
	if (allow_root_ram > 0)
		pr_warn("allow_root_ram=1: zones may be given root's own RAM\n");

	ret = hvv_of_init();
	if (ret < 0 && ret != -ENODEV && ret != -ENXIO)
		goto err_of;
	irq = hvv_hyp->wakeup_irq(ret);
	if (irq < 0 && !hvv_bridge_polls()) {
		pr_err("no wake-up interrupt: the device tree needs the hvisor node (or wakeup=poll)\n");
		ret = irq;
		goto err_of;
	}

	/*
	 * Everything that can fail comes before the bridge is registered:
	 * the hypervisor keeps the page from then on, so no error path
	 * may follow.
	 */
	ret = hvv_chardev_init();
	if (ret)
		goto err_irq;
	ret = hvv_bridge_init(hvv_hyp, irq);
	if (ret)
		goto err_chardev;

	/* Nothing in the tree can stop the module: errors are logged. */
	hvv_of_populate();

	if (hvv_hyp->pin_module) {
		/* The hypervisor keeps the page for good: never unload. */
		__module_get(THIS_MODULE);
	}
	if (hvv_bridge_polls())
		pr_info("ready: hyp=%s, polling (no wake-up interrupt)\n",
			hvv_hyp->name);
	else
		pr_info("ready: hyp=%s, wake-up irq %d\n", hvv_hyp->name, irq);
	return 0;

err_chardev:
	hvv_chardev_exit();
err_irq:
	if (hvv_hyp->unregister_bridge)
		hvv_hyp->unregister_bridge();
err_of:
	hvv_of_exit();
	return ret;
}

static void __exit hvv_exit(void)
{
	hvv_chardev_exit();
	/* The tree's disk waits stop, its devices go first. */
	hvv_of_exit();
	hvv_devices_destroy();
	hvv_zones_destroy();
	hvv_bridge_exit();
	pr_info("unloaded\n");
}

module_init(hvv_init);
module_exit(hvv_exit);

MODULE_DESCRIPTION("In-kernel virtio backend for the hvisor hypervisor");
MODULE_LICENSE("GPL");
