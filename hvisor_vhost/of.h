/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HVISOR_VHOST_OF_H
#define HVISOR_VHOST_OF_H

int hvv_of_init(void);
void hvv_of_populate(void);
void hvv_of_exit(void);

#endif /* HVISOR_VHOST_OF_H */
