/* SPDX-License-Identifier: GPL-2.0 */
/* The uapi <linux/errno.h> of the build host (libc includes it too). */
#include_next <linux/errno.h>
