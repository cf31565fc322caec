/* SPDX-License-Identifier: GPL-2.0 */
/* The uapi header as the build host has it. */
#include <linux/virtio_blk.h>
