/* SPDX-License-Identifier: GPL-2.0 */
/* Empty: hvv_shim.h (force-included) has what the sources use. */
