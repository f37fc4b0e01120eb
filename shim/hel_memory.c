/* Memory-object and address-space calls. */
#include "shim.h"

HelError helAllocateMemory(size_t size, uint32_t flags, const struct HelAllocRestrictions *restrictions, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallAllocateMemory, HH_NARGS((uint64_t)size, (uint64_t)flags, HH_U(restrictions)), HH_ARGS((uint64_t)size, (uint64_t)flags, HH_U(restrictions)), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helResizeMemory(HelHandle handle, size_t newSize)
{
	return hh_shim_call(kHelCallResizeMemory, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)newSize), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)newSize), NULL);
}

HelError helCreateManagedMemory(size_t size, uint32_t flags, HelHandle *backingHandle, HelHandle *frontalHandle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateManagedMemory, HH_NARGS((uint64_t)size, (uint64_t)flags), HH_ARGS((uint64_t)size, (uint64_t)flags), out);
	e = HH_STORE(e, backingHandle, out[0]);
	return HH_STORE(e, frontalHandle, out[1]);
}

HelError helCopyOnWrite(HelHandle memory, uintptr_t offset, size_t size, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCopyOnWrite, HH_NARGS((uint64_t)(int64_t)memory, (uint64_t)offset, (uint64_t)size), HH_ARGS((uint64_t)(int64_t)memory, (uint64_t)offset, (uint64_t)size), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helAccessPhysical(uintptr_t physical, size_t size, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallAccessPhysical, HH_NARGS((uint64_t)physical, (uint64_t)size), HH_ARGS((uint64_t)physical, (uint64_t)size), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helCreateIndirectMemory(size_t numSlots, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateIndirectMemory, HH_NARGS((uint64_t)numSlots), HH_ARGS((uint64_t)numSlots), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helAlterMemoryIndirection(HelHandle indirectHandle, size_t slotIndex, HelHandle memoryHandle, uintptr_t offset, size_t size)
{
	return hh_shim_call(kHelCallAlterMemoryIndirection, HH_NARGS((uint64_t)(int64_t)indirectHandle, (uint64_t)slotIndex, (uint64_t)(int64_t)memoryHandle, (uint64_t)offset, (uint64_t)size), HH_ARGS((uint64_t)(int64_t)indirectHandle, (uint64_t)slotIndex, (uint64_t)(int64_t)memoryHandle, (uint64_t)offset, (uint64_t)size), NULL);
}

HelError helCreateSliceView(HelHandle bundle, uintptr_t offset, size_t size, uint32_t flags, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateSliceView, HH_NARGS((uint64_t)(int64_t)bundle, (uint64_t)offset, (uint64_t)size, (uint64_t)flags), HH_ARGS((uint64_t)(int64_t)bundle, (uint64_t)offset, (uint64_t)size, (uint64_t)flags), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helForkMemory(HelHandle handle, HelHandle *forkedHandle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallForkMemory, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), out);
	return HH_STORE(e, forkedHandle, out[0]);
}

HelError helCreateSpace(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateSpace, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}

HelError helMapMemory(HelHandle memoryHandle, HelHandle spaceHandle, void *pointer, uintptr_t offset, size_t size, uint32_t flags, void **actualPointer)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallMapMemory, HH_NARGS((uint64_t)(int64_t)memoryHandle, (uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)offset, (uint64_t)size, (uint64_t)flags), HH_ARGS((uint64_t)(int64_t)memoryHandle, (uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)offset, (uint64_t)size, (uint64_t)flags), out);
	return HH_STORE(e, actualPointer, out[0]);
}

HelError helSubmitProtectMemory(HelHandle spaceHandle, void *pointer, size_t size, uint32_t flags, HelHandle queueHandle, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitProtectMemory, HH_NARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size, (uint64_t)flags, (uint64_t)(int64_t)queueHandle, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size, (uint64_t)flags, (uint64_t)(int64_t)queueHandle, (uint64_t)context), NULL);
}

HelError helSubmitSynchronizeSpace(HelHandle spaceHandle, void *pointer, size_t size, HelHandle queueHandle, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitSynchronizeSpace, HH_NARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size, (uint64_t)(int64_t)queueHandle, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size, (uint64_t)(int64_t)queueHandle, (uint64_t)context), NULL);
}

HelError helUnmapMemory(HelHandle spaceHandle, void *pointer, size_t size)
{
	return hh_shim_call(kHelCallUnmapMemory, HH_NARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size), HH_ARGS((uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)size), NULL);
}

HelError helPointerPhysical(const void *pointer, uintptr_t *physical)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallPointerPhysical, HH_NARGS(HH_U(pointer)), HH_ARGS(HH_U(pointer)), out);
	return HH_STORE(e, physical, out[0]);
}

HelError helSubmitReadMemory(HelHandle handle, uintptr_t address, size_t length, void *buffer, HelHandle queue, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitReadMemory, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)address, (uint64_t)length, HH_U(buffer), (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)address, (uint64_t)length, HH_U(buffer), (uint64_t)(int64_t)queue, (uint64_t)context), NULL);
}

HelError helSubmitWriteMemory(HelHandle handle, uintptr_t address, size_t length, const void *buffer, HelHandle queue, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitWriteMemory, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)address, (uint64_t)length, HH_U(buffer), (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)address, (uint64_t)length, HH_U(buffer), (uint64_t)(int64_t)queue, (uint64_t)context), NULL);
}

HelError helMemoryInfo(HelHandle handle, size_t *size)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallMemoryInfo, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), out);
	return HH_STORE(e, size, out[0]);
}

HelError helSubmitManageMemory(HelHandle handle, HelHandle queue, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitManageMemory, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)queue, (uint64_t)context), NULL);
}

HelError helUpdateMemory(HelHandle handle, int type, uintptr_t offset, size_t length)
{
	return hh_shim_call(kHelCallUpdateMemory, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)type, (uint64_t)offset, (uint64_t)length), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)type, (uint64_t)offset, (uint64_t)length), NULL);
}

HelError helSubmitLockMemoryView(HelHandle handle, uintptr_t offset, size_t size, HelHandle queue, uintptr_t context)
{
	return hh_shim_call(kHelCallSubmitLockMemoryView, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)offset, (uint64_t)size, (uint64_t)(int64_t)queue, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)offset, (uint64_t)size, (uint64_t)(int64_t)queue, (uint64_t)context), NULL);
}

HelError helLoadahead(HelHandle handle, uintptr_t offset, size_t length)
{
	return hh_shim_call(kHelCallLoadahead, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)offset, (uint64_t)length), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)offset, (uint64_t)length), NULL);
}

HelError helCreateVirtualizedSpace(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateVirtualizedSpace, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}
