/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel as far as the parsing core of hvisor_vhost needs it, in user
 * space: enough of <linux/...> to compile vq.c, zone.c, mmio.c, blk_req.c
 * and net_hdr.c unchanged for the fuzzers.  Force-included before every
 * source (-include); the headers under shim/linux/ are empty stand-ins.
 *
 * Locks are no-ops (a fuzz target is one thread), barriers are compiler
 * or C11 fences, allocation is malloc, printing goes nowhere unless
 * HVV_FUZZ_VERBOSE is defined at build time.
 */
#ifndef HVV_FUZZ_SHIM_H
#define HVV_FUZZ_SHIM_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/types.h>	/* shim/linux/types.h: the uapi one, and u8.. */

#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME "hvisor_vhost"
#endif

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the fuzz shim assumes a little-endian host"
#endif

/* --- compiler ------------------------------------------------------------ */
#define __packed		__attribute__((packed))
#define __always_unused		__attribute__((unused))
#define __maybe_unused		__attribute__((unused))
#define __must_check		__attribute__((warn_unused_result))
#define __force
#define __iomem
#define __user
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define barrier()		__asm__ __volatile__("" ::: "memory")
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#define __hvv_sa(expr, msg, ...)	_Static_assert(expr, msg)
#define static_assert(expr, ...)	__hvv_sa(expr, ##__VA_ARGS__, #expr)
#define BUILD_BUG_ON(c)			_Static_assert(!(c), #c)

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* --- barriers: the other side is "the guest", i.e. nobody here --------- */
#define virt_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define virt_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virt_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_mb()		virt_mb()
#define smp_rmb()		virt_rmb()
#define smp_wmb()		virt_wmb()

/* --- bits, alignment, arithmetic ------------------------------------------ */
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define U8_MAX			((u8)~0U)
#define U16_MAX			((u16)~0U)
#define U32_MAX			((u32)~0U)
#define U64_MAX			((u64)~0ULL)
#define SZ_4K			0x00001000
#define SZ_64K			0x00010000
#define SZ_512K			0x00080000
#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define SECTOR_SHIFT		9
#define SECTOR_SIZE		(1 << SECTOR_SHIFT)
#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)
#define ALIGN(x, a)		(((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define PAGE_ALIGNED(x)		IS_ALIGNED((unsigned long)(x), PAGE_SIZE)
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define round_up(x, y)		((((x) - 1) | ((__typeof__(x))((y) - 1))) + 1)
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))
#define upper_32_bits(n)	((u32)(((u64)(n)) >> 32))

#define min(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })
#define max(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })
#define min_t(t, a, b)		({ t _a = (a); t _b = (b); _a < _b ? _a : _b; })
#define max_t(t, a, b)		({ t _a = (a); t _b = (b); _a > _b ? _a : _b; })

static inline bool is_power_of_2(unsigned long n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

static inline size_t size_mul(size_t a, size_t b)
{
	size_t r;

	return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

static inline size_t size_add(size_t a, size_t b)
{
	size_t r;

	return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}

#define array_size(a, b)	size_mul(a, b)
#define struct_size(p, member, count) \
	size_add(sizeof(*(p)), size_mul(sizeof(*(p)->member), count))

/* --- byte order: the host is little-endian -------------------------------- */
#define le16_to_cpu(x)		((u16)(x))
#define le32_to_cpu(x)		((u32)(x))
#define le64_to_cpu(x)		((u64)(x))
#define cpu_to_le16(x)		((__le16)(x))
#define cpu_to_le32(x)		((__le32)(x))
#define cpu_to_le64(x)		((__le64)(x))
#define __virtio16_to_cpu(le, v)	((u16)(v))
#define __virtio32_to_cpu(le, v)	((u32)(v))
#define __virtio64_to_cpu(le, v)	((u64)(v))
#define __cpu_to_virtio16(le, v)	((__virtio16)(v))
#define __cpu_to_virtio32(le, v)	((__virtio32)(v))
#define __cpu_to_virtio64(le, v)	((__virtio64)(v))

/* --- printing ------------------------------------------------------------- */
#ifdef HVV_FUZZ_VERBOSE
#define hvv_shim_print(fmt, ...)	fprintf(stderr, fmt, ##__VA_ARGS__)
#else
/* Formats are still checked against their arguments. */
#define hvv_shim_print(fmt, ...) \
	do { if (0) fprintf(stderr, fmt, ##__VA_ARGS__); } while (0)
#endif
#define pr_err(fmt, ...)		hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_warn(fmt, ...)		hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...)		hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_debug(fmt, ...)		hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_warn_ratelimited(fmt, ...)	hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_err_ratelimited(fmt, ...)	hvv_shim_print(fmt, ##__VA_ARGS__)
#define pr_debug_ratelimited(fmt, ...)	hvv_shim_print(fmt, ##__VA_ARGS__)

/* --- atomics (one thread) --------------------------------------------------- */
typedef struct { int counter; } atomic_t;
typedef struct { long long counter; } atomic64_t;
#define atomic_inc(v)		((void)((v)->counter++))
#define atomic_dec(v)		((void)((v)->counter--))
#define atomic_read(v)		((v)->counter)
#define atomic_set(v, i)	((void)((v)->counter = (i)))
#define atomic64_inc(v)		((void)((v)->counter++))
#define atomic64_add(i, v)	((void)((v)->counter += (i)))
#define atomic64_read(v)	((v)->counter)

/* --- locks: no-ops ------------------------------------------------------------ */
typedef struct { int unused; } spinlock_t;
struct mutex { int unused; };
#define spin_lock_init(l)			((void)(l))
#define spin_lock(l)				((void)(l))
#define spin_unlock(l)				((void)(l))
#define spin_lock_irq(l)			((void)(l))
#define spin_unlock_irq(l)			((void)(l))
#define spin_lock_irqsave(l, f)			((void)(l), (f) = 0)
#define spin_unlock_irqrestore(l, f)		((void)(l), (void)(f))
#define mutex_lock(m)				((void)(m))
#define mutex_unlock(m)				((void)(m))
#define mutex_lock_killable(m)			((void)(m), 0)
#define rcu_read_lock()				do { } while (0)
#define rcu_read_unlock()			do { } while (0)
struct rcu_head { void *next; };

/* --- lists ----------------------------------------------------------------- */
struct list_head { struct list_head *next, *prev; };
#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)
static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l->prev = l;
}
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del(struct list_head *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	e->next = e->prev = NULL;
}
#define list_entry(p, type, member)	container_of(p, type, member)
#define list_for_each_entry(pos, head, member)				\
	for (pos = list_entry((head)->next, __typeof__(*pos), member);	\
	     &pos->member != (head);					\
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member)			\
	for (pos = list_entry((head)->next, __typeof__(*pos), member),	\
	     n = list_entry(pos->member.next, __typeof__(*pos), member);	\
	     &pos->member != (head);					\
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

/* --- work: the harness decides what queueing means ------------------------ */
/* A device's interrupt timer is never armed in the fuzzers. */
struct hrtimer { int unused; };

struct kthread_work;
typedef void (*kthread_work_func_t)(struct kthread_work *work);
struct kthread_work { kthread_work_func_t func; };
struct kthread_worker { int unused; };
struct work_struct { void (*func)(struct work_struct *work); };
struct workqueue_struct { int unused; };
extern struct workqueue_struct *system_unbound_wq;
#define kthread_init_work(w, fn)	((w)->func = (fn))
bool kthread_queue_work(struct kthread_worker *worker, struct kthread_work *work);
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);

/* --- memory ------------------------------------------------------------------ */
typedef unsigned int gfp_t;
#define GFP_KERNEL	0u
#define GFP_NOIO	0u
#define GFP_ATOMIC	0u
static inline void *kmalloc(size_t n, gfp_t gfp)
{
	(void)gfp;
	return malloc(n);
}
static inline void *kzalloc(size_t n, gfp_t gfp)
{
	(void)gfp;
	return calloc(1, n);
}
static inline void *kmemdup(const void *p, size_t n, gfp_t gfp)
{
	void *q = kmalloc(n, gfp);

	if (q)
		memcpy(q, p, n);
	return q;
}
#define kfree(p)	free(p)

static inline void *memchr_inv(const void *p, int c, size_t n)
{
	const unsigned char *s = p;

	for (; n; n--, s++)
		if (*s != (unsigned char)c)
			return (void *)s;
	return NULL;
}

void sort(void *base, size_t num, size_t size,
	  int (*cmp)(const void *, const void *), void *swap);

/* zone.c's mapping side: never called by the fuzzers (see harness.c). */
typedef u64 phys_addr_t;
typedef u64 resource_size_t;
struct resource {
	resource_size_t start, end;
	const char *name;
	unsigned long flags;
};
#define MEMREMAP_WB		1
#define IORES_DESC_NONE		0
#define IORESOURCE_MEM		0x200
#define IORESOURCE_SYSRAM	0x01000000
#define IORESOURCE_SYSTEM_RAM	(IORESOURCE_MEM | IORESOURCE_SYSRAM)
#define IORESOURCE_BUSY		0x80000000
#define LOCKDOWN_DEV_MEM	1
int security_locked_down(int what);
static inline resource_size_t resource_size(const struct resource *r)
{
	return r->end - r->start + 1;
}
void *memremap(resource_size_t offset, size_t size, unsigned long flags);
void memunmap(void *addr);
bool virt_addr_valid(const void *addr);
int walk_iomem_res_desc(unsigned long desc, unsigned long flags, u64 start,
			u64 end, void *arg,
			int (*func)(struct resource *, void *));

/* --- networking bits the header helpers use -------------------------------- */
struct kvec {
	void *iov_base;
	size_t iov_len;
};

#endif /* HVV_FUZZ_SHIM_H */
