/* Descriptor and universe calls. */
#include "shim.h"

HelError helCreateUniverse(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateUniverse, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}

HelError helTransferDescriptor(HelHandle handle, HelHandle universeHandle, HelHandle *outHandle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallTransferDescriptor, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)universeHandle), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)(int64_t)universeHandle), out);
	return HH_STORE(e, outHandle, out[0]);
}

HelError helDescriptorInfo(HelHandle handle, struct HelDescriptorInfo *info)
{
	return hh_shim_call(kHelCallDescriptorInfo, HH_NARGS((uint64_t)(int64_t)handle, HH_U(info)), HH_ARGS((uint64_t)(int64_t)handle, HH_U(info)), NULL);
}

HelError helGetCredentials(HelHandle handle, uint32_t flags, char *credentials)
{
	return hh_shim_call(kHelCallGetCredentials, HH_NARGS((uint64_t)(int64_t)handle, (uint64_t)flags, HH_U(credentials)), HH_ARGS((uint64_t)(int64_t)handle, (uint64_t)flags, HH_U(credentials)), NULL);
}

HelError helCloseDescriptor(HelHandle universeHandle, HelHandle handle)
{
	/* A memfd kept for the handle would hold the object's memory after it is gone. */
	HelError e;
	if (universeHandle == kHelThisUniverse) {
		hh_shim_forget_memfd(handle);
		hh_shim_image_forget(handle);
		/* A handle we know exists: the emulator removes it at its next drain (ring.c). */
		if (hh_shim_ring_close(handle, &e))
			return e;
	}
	return hh_shim_call(kHelCallCloseDescriptor, HH_NARGS((uint64_t)(int64_t)universeHandle, (uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)universeHandle, (uint64_t)(int64_t)handle), NULL);
}
