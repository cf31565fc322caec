/* SPDX-License-Identifier: GPL-2.0 */
/* The uapi <linux/if_ether.h> and the kernel's VLAN header length. */
#include <linux/if_ether.h>
#define VLAN_ETH_HLEN	18
