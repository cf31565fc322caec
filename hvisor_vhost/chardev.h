/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HVISOR_VHOST_CHARDEV_H
#define HVISOR_VHOST_CHARDEV_H

int hvv_chardev_init(void);
void hvv_chardev_exit(void);

#endif /* HVISOR_VHOST_CHARDEV_H */
