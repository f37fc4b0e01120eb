/* Thread, register, affinity and randomness calls. */
#include "shim.h"

HelError helCreateThread(HelHandle universe, HelHandle spaceHandle, HelAbi abi, void *ip, void *sp, uint32_t flags, HelHandle *handle)
{
	/* The program's own space: libhel makes the Linux thread first (ownthread.c). */
	if (spaceHandle == kHelNullHandle)
		return hh_shim_own_thread(universe, abi, ip, sp, flags, handle);
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateThread, HH_NARGS((uint64_t)(int64_t)universe, (uint64_t)(int64_t)spaceHandle, (uint64_t)(int64_t)abi, HH_U(ip), HH_U(sp), (uint64_t)flags), HH_ARGS((uint64_t)(int64_t)universe, (uint64_t)(int64_t)spaceHandle, (uint64_t)(int64_t)abi, HH_U(ip), HH_U(sp), (uint64_t)flags), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helQueryThreadStats(HelHandle handle, struct HelThreadStats *stats)
{
	return hh_shim_call(kHelCallQueryThreadStats, HH_NARGS((uint64_t)(int64_t)handle, HH_U(stats)), HH_ARGS((uint64_t)(int64_t)handle, HH_U(stats)), NULL);
}

HelError helSetPriority(HelHandle handle, int priority)
{
	return hh_shim_call(kHelCallSetPriority, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)priority), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)priority), NULL);
}

HelError helSubmitObserve(HelHandle handle, uint64_t sequence, HelHandle queue, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitObserve, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)sequence, (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)sequence, (uint64_t)(int64_t)queue, (uint64_t)context), NULL);
}

HelError helKillThread(HelHandle handle)
{
	return hh_shim_call(kHelCallKillThread, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

HelError helInterruptThread(HelHandle handle)
{
	return hh_shim_call(kHelCallInterruptThread, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

HelError helResume(HelHandle handle)
{
	return hh_shim_call(kHelCallResume, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

/*
 * A created thread's registers come from its image page when libhel can
 * answer for certain (image.c, served true, answer e); such a call is
 * reported to the trace like the futex calls.  Otherwise the emulator
 * answers.
 */
static HelError registers(uint32_t call, bool served, HelError e, HelHandle handle, int set,
		const void *image, uint64_t start)
{
	const uint64_t *args = HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)set, HH_U(image));
	if (!served)
		return hh_shim_call(call, 3, args, NULL);
	hh_shim_trace_local(call, args, 3, 0, e, start);
	return e;
}

HelError helLoadRegisters(HelHandle handle, int set, void *image)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	bool served = hh_shim_image_load(handle, set, image, &e);
	return registers(kHelCallLoadRegisters, served, e, handle, set, image, start);
}

HelError helStoreRegisters(HelHandle handle, int set, const void *image)
{
	uint64_t start = hh_shim_now();
	HelError e = kHelErrNone;
	bool served = hh_shim_image_store(handle, set, image, &e);
	return registers(kHelCallStoreRegisters, served, e, handle, set, image, start);
}

HelError helQueryRegisterInfo(int set, struct HelRegisterInfo *info)
{
	return hh_shim_call(kHelCallQueryRegisterInfo, HH_NARGS((uint64_t)(int64_t)set, HH_U(info)), HH_ARGS((uint64_t)(int64_t)set, HH_U(info)), NULL);
}

HelError helSubmitAwaitClock(uint64_t counter, HelHandle queue, uintptr_t context, uint64_t *asyncId)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallSubmitAwaitClock, HH_NARGS((uint64_t)counter, (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)counter, (uint64_t)(int64_t)queue, (uint64_t)context), out);
	return HH_STORE(e, asyncId, out[0]);
}

HelError helCreateVirtualizedCpu(HelHandle handle, HelHandle *out_handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateVirtualizedCpu, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), out);
	return HH_STORE(e, out_handle, out[0]);
}

HelError helRunVirtualizedCpu(HelHandle handle, struct HelVmexitReason *reason)
{
	return hh_shim_call(kHelCallRunVirtualizedCpu, HH_NARGS((uint64_t)(int64_t)handle, HH_U(reason)), HH_ARGS((uint64_t)(int64_t)handle, HH_U(reason)), NULL);
}

HelError helGetRandomBytes(void *buffer, size_t wantedSize, size_t *actualSize)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallGetRandomBytes, HH_NARGS(HH_U(buffer), (uint64_t)wantedSize), HH_ARGS(HH_U(buffer), (uint64_t)wantedSize), out);
	return HH_STORE(e, actualSize, out[0]);
}

HelError helGetAffinity(HelHandle handle, uint8_t *mask, size_t size, size_t *actualSize)
{
	return hh_shim_call(kHelCallGetAffinity, HH_NARGS((uint64_t)(int64_t)handle, HH_U(mask), (uint64_t)size, HH_U(actualSize)), HH_ARGS((uint64_t)(int64_t)handle, HH_U(mask), (uint64_t)size, HH_U(actualSize)), NULL);
}

HelError helSetAffinity(HelHandle handle, uint8_t *mask, size_t size)
{
	return hh_shim_call(kHelCallSetAffinity, HH_NARGS((uint64_t)(int64_t)handle, HH_U(mask), (uint64_t)size), HH_ARGS((uint64_t)(int64_t)handle, HH_U(mask), (uint64_t)size), NULL);
}
