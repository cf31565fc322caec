/* SPDX-License-Identifier: GPL-2.0 */
/* The uapi <linux/stddef.h> of the build host, and offsetof. */
#include_next <linux/stddef.h>
#include <stddef.h>
