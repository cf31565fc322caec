/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shim follows the API of the kernels from 6.1 on: hvisor_vhost/compat.h
 * then provides nothing the sources built here use.
 */
#ifndef HVV_SHIM_LINUX_VERSION_H
#define HVV_SHIM_LINUX_VERSION_H

#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + \
				 ((c) > 255 ? 255 : (c)))
#define LINUX_VERSION_CODE KERNEL_VERSION(6, 1, 0)

#endif
