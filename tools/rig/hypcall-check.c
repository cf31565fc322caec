// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-only check of every architecture's hypercall sequence
 * (hvisor_vhost/hyp_hvisor_call.h) with the cross compilers available,
 * including architectures for which no kernel headers are at hand.
 */
#include "../../hvisor_vhost/hyp_hvisor_call.h"

unsigned long hypcall_check(unsigned long code, unsigned long a0,
			    unsigned long a1);

unsigned long hypcall_check(unsigned long code, unsigned long a0,
			    unsigned long a1)
{
	return hvisor_call(code, a0, a1);
}
