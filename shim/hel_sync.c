/* Event and IRQ calls (the futex calls are in futex.c). */
#include "shim.h"

HelError helCreateOneshotEvent(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateOneshotEvent, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}

HelError helCreateBitsetEvent(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateBitsetEvent, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}

HelError helRaiseEvent(HelHandle handle)
{
	return hh_shim_call(kHelCallRaiseEvent, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

HelError helAccessIrq(int number, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallAccessIrq, HH_NARGS((uint64_t)(int64_t)number), HH_ARGS((uint64_t)(int64_t)number), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helAcknowledgeIrq(HelHandle handle, uint32_t flags, uint64_t sequence)
{
	return hh_shim_call(kHelCallAcknowledgeIrq, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)flags, (uint64_t)sequence), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)flags, (uint64_t)sequence), NULL);
}

HelError helSubmitAwaitEvent(HelHandle handle, uint64_t sequence, HelHandle queue, uintptr_t context, uint64_t *asyncId)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallSubmitAwaitEvent, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)sequence, (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)sequence, (uint64_t)(int64_t)queue, (uint64_t)context), out);
	return HH_STORE(e, asyncId, out[0]);
}

HelError helAutomateIrq(HelHandle handle, uint32_t flags, HelHandle kernlet)
{
	return hh_shim_call(kHelCallAutomateIrq, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)flags, (uint64_t)(int64_t)kernlet), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)flags, (uint64_t)(int64_t)kernlet), NULL);
}
