/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plumbing of the hand-made virtio-mmio drivers (blk_chain_helper,
 * net_chain_helper): register accesses through the loopback zone's raw
 * register file, and locked pages of the process with their physical
 * addresses for rings and buffers (the zone must map root's RAM one to
 * one: hvctl zone add --identity-ram).  Header only: each helper is one
 * static program, and these are its globals.
 */
#ifndef HVV_SELFTEST_RAW_LIB_H
#define HVV_SELFTEST_RAW_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#define RAW		"/sys/kernel/debug/hvisor_vhost_loopback/raw"
#define PAGE		4096UL
#define NPAGES		32

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The device: its zone and the guest-physical base of its registers. */
static unsigned int zone;
static uint64_t base;
/* NPAGES locked pages (get_pages()) and their physical addresses. */
static uint8_t *mem;
static uint64_t phys[NPAGES];

/* A setup or usage error: exit status 2. */
static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* One command to the raw file: "r|w|p zone addr size [value]". */
static void raw_cmd(const char *cmd)
{
	int fd = open(RAW, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		die("open %s: %s", RAW, strerror(errno));
	n = write(fd, cmd, strlen(cmd));
	if (n != (ssize_t)strlen(cmd))
		die("'%s': %s", cmd, n < 0 ? strerror(errno) : "short write");
	close(fd);
}

/* A blocking 32-bit write of register @off. */
static void wr(unsigned int off, uint32_t v)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "w %u 0x%" PRIx64 " 4 0x%x", zone,
		 base + off, v);
	raw_cmd(cmd);
}

/* A read of @size bytes at register offset @off. */
static uint64_t rd(unsigned int off, unsigned int size)
{
	char cmd[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(cmd, sizeof(cmd), "r %u 0x%" PRIx64 " %u", zone, base + off,
		 size);
	raw_cmd(cmd);
	fd = open(RAW, O_RDONLY);
	if (fd < 0)
		die("open %s: %s", RAW, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die("read %s failed", RAW);
	buf[n] = '\0';
	return strtoull(buf, NULL, 0);
}

/* Reset the device and wait (up to 5 s) until Status reads 0. */
static void reset_device(void)
{
	int i;

	wr(VIRTIO_MMIO_STATUS, 0);
	for (i = 0; i < 500 && rd(VIRTIO_MMIO_STATUS, 4); i++)
		usleep(10000);
}

/* Map, lock and clear the pages; find their physical addresses. */
static void get_pages(void)
{
	int fd, i;

	mem = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED,
		   -1, 0);
	if (mem == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(mem, 0, NPAGES * PAGE);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		die("pagemap: %s", strerror(errno));
	for (i = 0; i < NPAGES; i++) {
		uint64_t e;
		off_t o = ((uintptr_t)(mem + i * PAGE) / PAGE) * 8;

		if (pread(fd, &e, 8, o) != 8 || !(e & (1ULL << 63)) ||
		    !(e & ((1ULL << 55) - 1)))
			die("no physical address for page %d (need root)", i);
		phys[i] = (e & ((1ULL << 55) - 1)) * PAGE;
	}
	close(fd);
}

#define S_DRIVER_UP	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)

/*
 * Reset the device, then negotiate what it offers of @want, which must
 * hold VIRTIO_F_VERSION_1; returns the features accepted.
 */
static uint64_t negotiate(uint64_t want)
{
	uint64_t offered, features;
	uint32_t st;

	reset_device();
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_UP);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = rd(VIRTIO_MMIO_DEVICE_FEATURES, 4) << 32;
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= rd(VIRTIO_MMIO_DEVICE_FEATURES, 4);
	if (!(offered & (1ULL << VIRTIO_F_VERSION_1)))
		die("VERSION_1 not offered");
	features = offered & want;
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_UP | VIRTIO_CONFIG_S_FEATURES_OK);
	st = rd(VIRTIO_MMIO_STATUS, 4);
	if (!(st & VIRTIO_CONFIG_S_FEATURES_OK))
		die("FEATURES_OK refused (status %#x)", st);
	return features;
}

/* A 64-bit queue address register pair at @off. */
static void wr64(unsigned int off, uint64_t v)
{
	wr(off, (uint32_t)v);
	wr(off + 4, v >> 32);
}

/*
 * Queue @q of @num entries, its rings in pages 0 (descriptors), 1 (avail)
 * and 2 (used), made ready; then DRIVER_OK.  (A driver of several queues
 * sets them up itself.)
 */
static void __attribute__((unused)) start_queue(unsigned int q, unsigned int num)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	if (rd(VIRTIO_MMIO_QUEUE_NUM_MAX, 4) < num)
		die("QueueNumMax below %u", num);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr64(VIRTIO_MMIO_QUEUE_DESC_LOW, phys[0]);
	wr64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, phys[1]);
	wr64(VIRTIO_MMIO_QUEUE_USED_LOW, phys[2]);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_UP | VIRTIO_CONFIG_S_FEATURES_OK |
	   VIRTIO_CONFIG_S_DRIVER_OK);
}

#endif /* HVV_SELFTEST_RAW_LIB_H */
