/*
 * hel-syscalls.h: compatibility header (helhost edition).
 *
 * On Managarm this header turns every hel* function into an inline system
 * call through a family of raw entry points, helSyscallN_M: N register
 * arguments in, M register results out, the HelError as the return value.
 * On helhost the hel* functions are real functions exported by libhel, and
 * so are the raw entry points: code that makes a raw call (a supercall, most
 * often) compiles and links unchanged.
 *
 * A number below kHelCallSuper is the Hel call of that number, its arguments
 * in the order of the hel* prototype, its results the words the
 * kernel returns in registers.  A number from kHelCallSuper on is a
 * supercall: on Managarm the thread's supervisor answers it; hosted, libhel
 * answers posix::superGetProcessData (docs/MANAGARM.md) and refuses every
 * other one with kHelErrUnsupportedOperation.
 */
#ifndef HEL_SYSCALLS_H
#define HEL_SYSCALLS_H

#include "hel.h"

/* One register-sized argument or result of a Hel system call. */
typedef uint64_t HelWord;

HEL_C_LINKAGE HEL_API HelError helSyscall0(int number);
HEL_C_LINKAGE HEL_API HelError helSyscall0_1(int number, HelWord *res0);
HEL_C_LINKAGE HEL_API HelError helSyscall0_2(int number, HelWord *res0, HelWord *res1);
HEL_C_LINKAGE HEL_API HelError helSyscall1(int number, HelWord arg0);
HEL_C_LINKAGE HEL_API HelError helSyscall1_1(int number, HelWord arg0, HelWord *res0);
HEL_C_LINKAGE HEL_API HelError helSyscall1_2(int number, HelWord arg0,
		HelWord *res0, HelWord *res1);
HEL_C_LINKAGE HEL_API HelError helSyscall2(int number, HelWord arg0, HelWord arg1);
HEL_C_LINKAGE HEL_API HelError helSyscall2_1(int number, HelWord arg0, HelWord arg1,
		HelWord *res0);
HEL_C_LINKAGE HEL_API HelError helSyscall2_2(int number, HelWord arg0, HelWord arg1,
		HelWord *res0, HelWord *res1);
HEL_C_LINKAGE HEL_API HelError helSyscall3(int number, HelWord arg0, HelWord arg1,
		HelWord arg2);
HEL_C_LINKAGE HEL_API HelError helSyscall3_1(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord *res0);
HEL_C_LINKAGE HEL_API HelError helSyscall3_2(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord *res0, HelWord *res1);
HEL_C_LINKAGE HEL_API HelError helSyscall4(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord arg3);
HEL_C_LINKAGE HEL_API HelError helSyscall4_1(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord arg3, HelWord *res0);
HEL_C_LINKAGE HEL_API HelError helSyscall5(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord arg3, HelWord arg4);
HEL_C_LINKAGE HEL_API HelError helSyscall6(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5);
HEL_C_LINKAGE HEL_API HelError helSyscall6_1(int number, HelWord arg0, HelWord arg1,
		HelWord arg2, HelWord arg3, HelWord arg4, HelWord arg5, HelWord *res0);

#endif /* HEL_SYSCALLS_H */
