/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvctl: configuration tool of the hvisor_vhost module.
 * Declarations shared by the files of the tool.
 */
#ifndef HVCTL_H
#define HVCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/hvisor_vhost.h>

#define HVCTL_VERSION		"0.1.0"

/* Exit codes; keep in sync with the help text and README.md. */
#define EXIT_OK			0
#define EXIT_FAILED		1	/* the module refused the operation */
#define EXIT_USAGE		2	/* bad arguments or input */
#define EXIT_NO_MODULE		3	/* no /dev/hvisor_vhost */
#define EXIT_ABI		4	/* module ABI version differs */

/* Environment variable naming another device node (for tests). */
#define HVCTL_DEVICE_ENV	"HVCTL_DEVICE"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define __noreturn		__attribute__((noreturn))
#define fallthrough		__attribute__((__fallthrough__))

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	void (*help)(FILE *out);
};

/* main.c */
extern const char *prog;
void __printf(1, 2) err_msg(const char *fmt, ...);
int __noreturn __printf(2, 3) usage_error(const char *cmd, const char *fmt, ...);
bool is_help(const char *arg);
int __noreturn option_error(const char *cmd, int c, char **argv);
bool parse_json_opts(const char *cmd, void (*help)(FILE *out), int argc,
		     char **argv, bool *json);

/* ioctl.c: access to the module */
const char *device_path(void);
int module_connect(struct hvisor_vhost_version *ver, int *fdp);
int module_open(struct hvisor_vhost_version *ver);
int module_ioctl(int fd, unsigned long req, void *arg);
const char *feature_name(unsigned int bit);

/* parse.c */
int parse_u64(const char *s, __u64 *out);
int parse_u32(const char *s, __u32 *out);
int parse_size(const char *s, __u64 *out);
int parse_region(const char *s, struct hvisor_vhost_region *r);
int parse_mac(const char *s, uint8_t mac[6]);
void format_size(uint64_t bytes, char *buf, size_t len);

/* json.c: minimal JSON writer */
void json_string(FILE *out, const char *s, size_t maxlen);

/* iomem.c */
int identity_ram_regions(struct hvisor_vhost_region *r, unsigned int max,
			 unsigned int *nr);
int iomem_ram_mixed(uint64_t start, uint64_t size);

/* version.c, list.c, zone.c, dev.c: the commands */
int cmd_version(int argc, char **argv);
void help_version(FILE *out);
int cmd_list(int argc, char **argv);
void help_list(FILE *out);
int cmd_zone(int argc, char **argv);
void help_zone(FILE *out);
int cmd_add_blk(int argc, char **argv);
void help_add_blk(FILE *out);
int cmd_del(int argc, char **argv);
void help_del(FILE *out);
int cmd_add_net(int argc, char **argv);
void help_add_net(FILE *out);
int cmd_attach_net(int argc, char **argv);
void help_attach_net(FILE *out);
int cmd_detach_net(int argc, char **argv);
void help_detach_net(FILE *out);
int cmd_add_console(int argc, char **argv);
void help_add_console(FILE *out);
int cmd_console(int argc, char **argv);
void help_console(FILE *out);
int cmd_stats(int argc, char **argv);
void help_stats(FILE *out);
int cmd_load(int argc, char **argv);
void help_load(FILE *out);

/* dev.c: a DEV_ADD failure, explained */
void dev_add_error(int fd, int e, const char *path,
		   const struct hvisor_vhost_dev *d,
		   const struct hvisor_vhost_version *ver);

/*
 * dev.c: the options of the register window every add command takes:
 * --zone (z), --mmio (m), --size (s), --irq (i).
 */
#define DEFAULT_MMIO_SIZE	0x200	/* and the smallest window */

struct window_opts {
	bool zone, mmio, irq;	/* given */
};

bool window_opt(const char *cmd, int c, const char *arg,
		struct hvisor_vhost_dev *d, struct window_opts *w);
void window_opts_check(const char *cmd, const struct hvisor_vhost_dev *d,
		       const struct window_opts *w);

/* loop.c: images as loop devices; what backs a block device */
int loop_attach(const char *cmd, const char *image, int ifd, bool ro,
		char *loop, size_t len);
int backing_info(uint32_t major, uint32_t minor, char *dev, size_t devlen,
		 char *image, size_t imglen);

/* list.c: shared with zone list, stats and load */
int list_run(bool zones, bool devices, bool json);
const char *dev_type_name(uint32_t type);
int fetch_devs(int fd, struct hvisor_vhost_dev **dp, size_t *np);

#endif /* HVCTL_H */
