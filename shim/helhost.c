/* helhost's own extensions (include/helhost.h). */
#include <string.h>

#include "helhost.h"
#include "shim.h"

const char *helhost_version(void)
{
	return HELHOST_VERSION;
}

/* Names are 1 to 255 bytes (src/objects/registry.h); one more tells the emulator a name is too long. */
#define NAME_SCAN 256

/*
 * The length of the program's string name, read without a fault
 * (pointers.c): up to NAME_SCAN bytes, a page at a time so that a name
 * that ends just before an unmapped page is found.
 */
static HelError name_length(const char *name, uint64_t *len)
{
	size_t at = 0;
	while (at < NAME_SCAN) {
		uintptr_t here = (uintptr_t)name + at;
		size_t chunk = 4096 - (here & 4095);
		if (chunk > NAME_SCAN - at)
			chunk = NAME_SCAN - at;
		if (!hh_shim_readable(name + at, chunk))
			return kHelErrFault;
		const char *nul = memchr(name + at, 0, chunk);
		if (nul) {
			*len = (uint64_t)(nul - name);
			return kHelErrNone;
		}
		at += chunk;
	}
	*len = NAME_SCAN;
	return kHelErrNone;
}

HelError helhost_publish(const char *name, HelHandle handle)
{
	uint64_t len;
	HelError e = name_length(name, &len);
	return e ? e : hh_shim_call(HH_CALL_PUBLISH, 3, HH_ARGS(HH_U(name), len, (uint64_t)handle), NULL);
}

HelError helhost_unpublish(const char *name)
{
	uint64_t len;
	HelError e = name_length(name, &len);
	return e ? e : hh_shim_call(HH_CALL_UNPUBLISH, 2, HH_ARGS(HH_U(name), len), NULL);
}

HelError helhost_submit_lookup(const char *name, int64_t deadline, HelHandle queue,
		uintptr_t context, uint64_t *asyncId)
{
	uint64_t out[2], len;
	HelError e = name_length(name, &len);
	if (e)
		return e;
	e = hh_shim_call(HH_CALL_SUBMIT_LOOKUP, 5, HH_ARGS(HH_U(name), len, (uint64_t)deadline,
			(uint64_t)queue, (uint64_t)context), out);
	return HH_STORE(e, asyncId, out[0]);
}

/* A one-chunk queue is enough for the single element of a lookup. */
HelError helhost_lookup(const char *name, int64_t deadline, HelHandle *handle)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 0, .numChunks = 1, .chunkSize = 64 };
	HelHandle queue;
	void *memory;
	uint64_t id;
	HelError e = HH_STORE(kHelErrNone, handle, kHelNullHandle);
	if (e)
		return e;
	/* The queue is ours, not the program's: its calls stay out of the trace. */
	hh_shim_internal(true);
	e = helCreateQueue(&params, &queue);
	if (!e && (e = helMapMemory(queue, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &memory)))
		goto close;
	hh_shim_internal(false);
	if (e)
		return e;
	struct HelQueue *q = memory;
	struct HelChunk *chunk = (struct HelChunk *)((char *)memory + 64);
	q->indexQueue[0] = 0;
	__atomic_store_n(&q->headFutex, 1, __ATOMIC_RELEASE);   /* supply chunk 0 */
	if ((e = helhost_submit_lookup(name, deadline, queue, 0, &id)))
		goto unmap;
	for (;;) {
		int word = __atomic_load_n(&chunk->progressFutex, __ATOMIC_ACQUIRE);
		if (word & kHelProgressMask)
			break;
		if (!(word & kHelProgressWaiters) && !__atomic_compare_exchange_n(&chunk->progressFutex,
				&word, kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;
		hh_shim_internal(true);
		helFutexWait(&chunk->progressFutex, kHelProgressWaiters, kHelWaitInfinite);
		hh_shim_internal(false);
	}
	struct HelHandleResult *r = (struct HelHandleResult *)(chunk->buffer + sizeof(struct HelElement));
	e = HH_STORE(r->error, handle, r->handle);
unmap:
	hh_shim_internal(true);
	helUnmapMemory(kHelNullHandle, memory, 4096);
close:
	helCloseDescriptor(kHelThisUniverse, queue);
	hh_shim_internal(false);
	return e;
}
