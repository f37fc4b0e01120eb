/*
 * hel-guest.h: raw Hel system calls for code that runs in a thread made by
 * helCreateThread (helhost's native path), written from Managarm's x86-64
 * convention: the call number in rdi, arguments in rsi, rdx, rax, r8, r9,
 * r10, r12, r13, r14; the HelError comes back in rdi, the first and second
 * outputs in rsi and rdx; rcx, r11 and rbx are clobbered.
 *
 * Such code has no libhel and no C library: every `syscall` it executes is a
 * Hel call (or, from 0x80000000 on, a supercall to its supervisor).  Do not
 * include this header in programs linked with libhel, whose `syscall`s are
 * Linux system calls: they use hel.h's functions instead.
 *
 * helSyscallN passes N arguments; helSyscallN_1 also returns out0 and
 * helSyscallN_2 out0 and out1, as Managarm's stubs do.
 */
#ifndef HEL_GUEST_H
#define HEL_GUEST_H

#include "hel.h"

/* One register-sized argument or result of a Hel system call. */
typedef uint64_t HelWord;

static inline HelError __helGuestSyscall(HelWord number, HelWord a0, HelWord a1, HelWord a2,
		HelWord a3, HelWord a4, HelWord a5, HelWord a6, HelWord a7, HelWord a8,
		HelWord *out0, HelWord *out1)
{
	register HelWord rdi __asm__("rdi") = number;
	register HelWord rsi __asm__("rsi") = a0;
	register HelWord rdx __asm__("rdx") = a1;
	register HelWord rax __asm__("rax") = a2;
	register HelWord r8 __asm__("r8") = a3;
	register HelWord r9 __asm__("r9") = a4;
	register HelWord r10 __asm__("r10") = a5;
	register HelWord r12 __asm__("r12") = a6;
	register HelWord r13 __asm__("r13") = a7;
	register HelWord r14 __asm__("r14") = a8;
	__asm__ volatile("syscall"
			: "+r"(rdi), "+r"(rsi), "+r"(rdx)
			: "r"(rax), "r"(r8), "r"(r9), "r"(r10), "r"(r12), "r"(r13), "r"(r14)
			: "rcx", "r11", "rbx", "memory");
	if (out0)
		*out0 = rsi;
	if (out1)
		*out1 = rdx;
	return (HelError)rdi;
}

static inline HelError helSyscall0(int number)
{
	return __helGuestSyscall((HelWord)number, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall1(int number, HelWord arg0)
{
	return __helGuestSyscall((HelWord)number, arg0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall2(int number, HelWord arg0, HelWord arg1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall3(int number, HelWord arg0, HelWord arg1, HelWord arg2)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, 0, 0, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall4(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, 0, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall5(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, 0, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall6(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, 0, 0, 0, 0, 0);
}

static inline HelError helSyscall7(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, 0, 0, 0, 0);
}

static inline HelError helSyscall8(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, 0, 0, 0);
}

static inline HelError helSyscall9(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7, HelWord arg8)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, 0, 0);
}

static inline HelError helSyscall0_1(int number, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, 0, 0, 0, 0, 0, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall1_1(int number, HelWord arg0, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, 0, 0, 0, 0, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall2_1(int number, HelWord arg0, HelWord arg1, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, 0, 0, 0, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall3_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, 0, 0, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall4_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, 0, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall5_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, 0, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall6_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, 0, 0, 0, out0, 0);
}

static inline HelError helSyscall7_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, 0, 0, out0, 0);
}

static inline HelError helSyscall8_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, 0, out0, 0);
}

static inline HelError helSyscall9_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7, HelWord arg8, HelWord *out0)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, out0, 0);
}

static inline HelError helSyscall0_2(int number, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, 0, 0, 0, 0, 0, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall1_2(int number, HelWord arg0, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, 0, 0, 0, 0, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall2_2(int number, HelWord arg0, HelWord arg1, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, 0, 0, 0, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall3_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, 0, 0, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall4_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, 0, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall5_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, 0, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall6_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, 0, 0, 0, out0, out1);
}

static inline HelError helSyscall7_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, 0, 0, out0, out1);
}

static inline HelError helSyscall8_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, 0, out0, out1);
}

static inline HelError helSyscall9_2(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord arg6, HelWord arg7, HelWord arg8, HelWord *out0, HelWord *out1)
{
	return __helGuestSyscall((HelWord)number, arg0, arg1, arg2, arg3, arg4, arg5, arg6, arg7, arg8, out0, out1);
}

#endif /* HEL_GUEST_H */
