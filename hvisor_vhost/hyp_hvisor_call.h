/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvisor's hypercall, one calling convention per architecture: a code and
 * two arguments in, one result out.  Self-contained (compiler macros, no
 * kernel headers) so that `make hypcall-check` compiles every variant with
 * the cross compilers Debian has, even where no kernel headers exist.
 */
#ifndef HVISOR_VHOST_HYP_HVISOR_CALL_H
#define HVISOR_VHOST_HYP_HVISOR_CALL_H

#if defined(__aarch64__)
static inline unsigned long hvisor_call(unsigned long code,
					unsigned long arg0, unsigned long arg1)
{
	register unsigned long x0 asm("x0") = code;
	register unsigned long x1 asm("x1") = arg0;
	register unsigned long x2 asm("x2") = arg1;

	asm volatile("hvc #0x4856" : "+r"(x0) : "r"(x1), "r"(x2) : "memory");
	return x0;
}
#elif defined(__riscv) && __riscv_xlen == 64
static inline unsigned long hvisor_call(unsigned long code,
					unsigned long arg0, unsigned long arg1)
{
	register unsigned long a0 asm("a0") = code;
	register unsigned long a1 asm("a1") = arg0;
	register unsigned long a2 asm("a2") = arg1;
	register unsigned long a7 asm("a7") = 0x114514;	/* hvisor's SBI extension */

	asm volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a7) : "memory");
	return a1;
}
#elif defined(__loongarch64)
static inline unsigned long hvisor_call(unsigned long code,
					unsigned long arg0, unsigned long arg1)
{
	register unsigned long a0 asm("a0") = code;
	register unsigned long a1 asm("a1") = arg0;
	register unsigned long a2 asm("a2") = arg1;

	/* "hvcl 0", spelled out for assemblers without the virt extension */
	asm volatile(".word 0x002b8000" : "+r"(a0) : "r"(a1), "r"(a2) : "memory");
	return a0;
}
#elif defined(__x86_64__)
static inline unsigned long hvisor_call(unsigned long code,
					unsigned long arg0, unsigned long arg1)
{
	unsigned long ret;

	asm volatile("vmcall" : "=a"(ret) : "a"(code), "D"(arg0), "S"(arg1)
		     : "memory");
	return ret;
}
#else
#error "hvisor runs on arm64, riscv64, loongarch64 and x86_64"
#endif

#endif /* HVISOR_VHOST_HYP_HVISOR_CALL_H */
