/* Memory-object and address-space calls. */
#include "shim.h"

#include <pthread.h>
#include <unistd.h>

/*
 * The memfds of objects this process mapped, kept by handle so that mapping
 * the object again needs no hand-off (a sendmsg in the emulator, a recvmsg
 * and close here): the emulator knows them by the serial it gave with the
 * first map and sends no memfd when the map names it.  Only a few: a kept
 * memfd holds its object's memory until its entry is replaced or its handle
 * closed by this process.  A map in progress uses its entry; closing the
 * handle meanwhile only dooms it, and the last user closes the memfd.
 */
#define KEPT_MEMFDS 8

struct kept {
	HelHandle handle;       /* kHelNullHandle: no lookup finds it */
	uint64_t serial;        /* 0: the entry is free */
	int fd;
	unsigned users;         /* maps in progress with fd */
};

static struct {
	pthread_mutex_t lock;
	struct kept e[KEPT_MEMFDS];
	unsigned next;          /* where the next new entry goes if none is free */
} kept = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void kept_drop_locked(struct kept *k)
{
	k->handle = kHelNullHandle;
	if (k->users)
		return;         /* the last map using it closes it */
	close(k->fd);
	k->serial = 0;
}

/* The live entry of handle h (doomed ones have none), or NULL. */
static struct kept *kept_find_locked(HelHandle h)
{
	for (unsigned i = 0; h != kHelNullHandle && i < KEPT_MEMFDS; i++)
		if (kept.e[i].serial && kept.e[i].handle == h)
			return &kept.e[i];
	return NULL;
}

/* The entry of handle h, in use by the caller until kept_release(); NULL if none. */
static struct kept *kept_use(HelHandle h)
{
	pthread_mutex_lock(&kept.lock);
	struct kept *found = kept_find_locked(h);
	if (found)
		found->users++;
	pthread_mutex_unlock(&kept.lock);
	return found;
}

static void kept_release(struct kept *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&kept.lock);
	if (!--k->users && k->handle == kHelNullHandle)
		kept_drop_locked(k);
	pthread_mutex_unlock(&kept.lock);
}

/* Keep fd, the memfd of the object with serial behind handle h; close it if there is no room. */
static void kept_put(HelHandle h, uint64_t serial, int fd)
{
	pthread_mutex_lock(&kept.lock);
	struct kept *slot = kept_find_locked(h);
	if (slot)
		kept_drop_locked(slot);         /* the handle names another object now */
	slot = NULL;
	for (unsigned i = 0; !slot && i < KEPT_MEMFDS; i++)
		if (!kept.e[i].serial)
			slot = &kept.e[i];
	for (unsigned i = 0; !slot && i < KEPT_MEMFDS; i++) {
		struct kept *k = &kept.e[kept.next++ % KEPT_MEMFDS];
		if (!k->users) {
			kept_drop_locked(k);
			slot = k;
		}
	}
	if (slot)
		*slot = (struct kept){ .handle = h, .serial = serial, .fd = fd };
	pthread_mutex_unlock(&kept.lock);
	if (!slot)
		close(fd);
}

void hh_shim_forget_memfd(HelHandle h)
{
	pthread_mutex_lock(&kept.lock);
	struct kept *k = kept_find_locked(h);
	if (k)
		kept_drop_locked(k);
	pthread_mutex_unlock(&kept.lock);
}

HelError helAllocateMemory(size_t size, uint32_t flags, const struct HelAllocRestrictions *restrictions, HelHandle *handle)
{
	uint64_t out[2];
	struct hh_shim_view view = hh_shim_ring_view();
	HelError e = hh_shim_call(kHelCallAllocateMemory, HH_NARGS((uint64_t)size, (uint64_t)flags, HH_U(restrictions)), HH_ARGS((uint64_t)size, (uint64_t)flags, HH_U(restrictions)), out);
	/* Its close may then be queued (helCloseDescriptor), where this thread posts at all. */
	if (e == kHelErrNone && hh_shim_ring_ready())
		hh_shim_ring_learn(view, (HelHandle)out[0], HH_KNOWN_HANDLE, 0);
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
	/* Only maps into our own space come back to us to carry out. */
	struct kept *k = spaceHandle == kHelNullHandle ? kept_use(memoryHandle) : NULL;
	uint64_t held = k ? k->serial : 0;
	int received = -1;
	hh_shim_plan_fds(k ? k->fd : -1, &received);
	HelError e = hh_shim_call(kHelCallMapMemory, HH_NARGS((uint64_t)(int64_t)memoryHandle, (uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)offset, (uint64_t)size, (uint64_t)flags, held), HH_ARGS((uint64_t)(int64_t)memoryHandle, (uint64_t)(int64_t)spaceHandle, HH_U(pointer), (uint64_t)offset, (uint64_t)size, (uint64_t)flags, held), out);
	kept_release(k);
	/* out[1]: the serial of the object whose memfd came, if the shim may keep it. */
	if (received >= 0 && (e || !out[1]))
		close(received);
	else if (received >= 0)
		kept_put(memoryHandle, out[1], received);
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
