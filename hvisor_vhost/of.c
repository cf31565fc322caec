// SPDX-License-Identifier: GPL-2.0
/*
 * The device-tree node of the backend: it names the wake-up interrupt.
 *
 * Both the node hvisor deployments already carry (compatible "hvisor") and
 * the backend's own binding are accepted, so an existing tree works as is.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mod_devicetable.h>
#include <linux/platform_device.h>

#include "of.h"

static int hvv_of_irq = -ENODEV;

static int hvv_of_probe(struct platform_device *pdev)
{
	int irq = platform_get_irq(pdev, 0);

	if (irq < 0)
		return irq;
	hvv_of_irq = irq;
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

void hvv_of_exit(void)
{
	platform_driver_unregister(&hvv_of_driver);
	hvv_of_irq = -ENODEV;
}
