/*
 * Managarm's raw entry points (hel-syscalls.h): helSyscallN_M.  Code built
 * for Managarm reaches the kernel through them directly when hel.h has no
 * wrapper for what it wants, above all for supercalls.  A Hel call number
 * runs the same path as its hel* function; a supercall goes to super.c.
 */
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hel-syscalls.h"
#include "shim.h"

/*
 * The calls libhel serves itself, or prepares before it traps, must take
 * their own path here too: a trapped futex would block in the emulator, and
 * a trapped helSubmitAsync would skip the copy of its actions.
 */
static bool local_call(uint32_t number, const uint64_t *a, uint64_t *out, HelError *e)
{
	int cpu;
	switch (number) {
	case kHelCallFutexWait:
		*e = helFutexWait((int *)(uintptr_t)a[0], (int)a[1], (int64_t)a[2]);
		return true;
	case kHelCallFutexWake:
		*e = helFutexWake((int *)(uintptr_t)a[0]);
		return true;
	case kHelCallGetClock:
		*e = helGetClock(&out[0]);
		return true;
	case kHelCallGetCurrentCpu:
		*e = helGetCurrentCpu(&cpu);
		out[0] = (uint64_t)cpu;
		return true;
	case kHelCallYield:
		*e = helYield();
		return true;
	case kHelCallPanic:
		helPanic((const char *)(uintptr_t)a[0], (size_t)a[1]);
	case kHelCallWriteGsBase:
		*e = helWriteGsBase((void *)(uintptr_t)a[0]);
		return true;
	/* The wrappers drop the base (ABI.md 5.1); the raw call returns it in res0. */
	case kHelCallReadFsBase:
	case kHelCallReadGsBase:
		*e = syscall(SYS_arch_prctl, number == kHelCallReadFsBase ? ARCH_GET_FS : ARCH_GET_GS,
				&out[0]) < 0 ? kHelErrIllegalArgs : kHelErrNone;
		return true;
	case kHelCallCreateThread:
		*e = helCreateThread((HelHandle)a[0], (HelHandle)a[1], (HelAbi)a[2], (void *)(uintptr_t)a[3],
				(void *)(uintptr_t)a[4], (uint32_t)a[5], (HelHandle *)&out[0]);
		return true;
	case kHelCallSubmitAsync:
		*e = helSubmitAsync((HelHandle)a[0], (const struct HelAction *)(uintptr_t)a[1],
				(size_t)a[2], (HelHandle)a[3], (uintptr_t)a[4], (uint32_t)a[5]);
		return true;
	}
	return false;
}

/* Every entry point ends here with its arguments; res0 and res1 may be NULL. */
static HelError raw(int number, size_t n, const uint64_t *args, HelWord *res0, HelWord *res1)
{
	uint64_t a[6] = { 0 }, out[2] = { 0, 0 };
	uint32_t call = (uint32_t)number;
	HelError e;
	for (size_t i = 0; i < n; i++)
		a[i] = args[i];
	if (call >= (uint32_t)kHelCallSuper)
		e = hh_shim_super(call - (uint32_t)kHelCallSuper, a[0]);
	else if (call >= kHelNumCalls)
		e = kHelErrIllegalSyscall;      /* helhost's own calls are not Hel calls */
	else if (!local_call(call, a, out, &e))
		e = hh_shim_call(call, 6, a, out);
	if (res0)
		*res0 = out[0];
	if (res1)
		*res1 = out[1];
	return e;
}

HelError helSyscall0(int number)
{
	return raw(number, 0, NULL, NULL, NULL);
}

HelError helSyscall0_1(int number, HelWord *res0)
{
	return raw(number, 0, NULL, res0, NULL);
}

HelError helSyscall0_2(int number, HelWord *res0, HelWord *res1)
{
	return raw(number, 0, NULL, res0, res1);
}

HelError helSyscall1(int number, HelWord arg0)
{
	return raw(number, 1, HH_ARGS(arg0), NULL, NULL);
}

HelError helSyscall1_1(int number, HelWord arg0, HelWord *res0)
{
	return raw(number, 1, HH_ARGS(arg0), res0, NULL);
}

HelError helSyscall1_2(int number, HelWord arg0, HelWord *res0, HelWord *res1)
{
	return raw(number, 1, HH_ARGS(arg0), res0, res1);
}

HelError helSyscall2(int number, HelWord arg0, HelWord arg1)
{
	return raw(number, 2, HH_ARGS(arg0, arg1), NULL, NULL);
}

HelError helSyscall2_1(int number, HelWord arg0, HelWord arg1, HelWord *res0)
{
	return raw(number, 2, HH_ARGS(arg0, arg1), res0, NULL);
}

HelError helSyscall2_2(int number, HelWord arg0, HelWord arg1, HelWord *res0, HelWord *res1)
{
	return raw(number, 2, HH_ARGS(arg0, arg1), res0, res1);
}

HelError helSyscall3(int number, HelWord arg0, HelWord arg1, HelWord arg2)
{
	return raw(number, 3, HH_ARGS(arg0, arg1, arg2), NULL, NULL);
}

HelError helSyscall3_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord *res0)
{
	return raw(number, 3, HH_ARGS(arg0, arg1, arg2), res0, NULL);
}

HelError helSyscall3_2(int number, HelWord arg0, HelWord arg1, HelWord arg2,
		HelWord *res0, HelWord *res1)
{
	return raw(number, 3, HH_ARGS(arg0, arg1, arg2), res0, res1);
}

HelError helSyscall4(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3)
{
	return raw(number, 4, HH_ARGS(arg0, arg1, arg2, arg3), NULL, NULL);
}

HelError helSyscall4_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3,
		HelWord *res0)
{
	return raw(number, 4, HH_ARGS(arg0, arg1, arg2, arg3), res0, NULL);
}

HelError helSyscall5(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3,
		HelWord arg4)
{
	return raw(number, 5, HH_ARGS(arg0, arg1, arg2, arg3, arg4), NULL, NULL);
}

HelError helSyscall6(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3,
		HelWord arg4, HelWord arg5)
{
	return raw(number, 6, HH_ARGS(arg0, arg1, arg2, arg3, arg4, arg5), NULL, NULL);
}

HelError helSyscall6_1(int number, HelWord arg0, HelWord arg1, HelWord arg2, HelWord arg3,
		HelWord arg4, HelWord arg5, HelWord *res0)
{
	return raw(number, 6, HH_ARGS(arg0, arg1, arg2, arg3, arg4, arg5), res0, NULL);
}
