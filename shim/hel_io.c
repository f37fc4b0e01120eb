/* I/O-port and kernlet calls (hardware: refused hosted). */
#include "shim.h"

HelError helAccessIo(uintptr_t *port_array, size_t num_ports, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallAccessIo, HH_NARGS(HH_U(port_array), (uint64_t)num_ports), HH_ARGS(HH_U(port_array), (uint64_t)num_ports), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helEnableIo(HelHandle handle)
{
	return hh_shim_call(kHelCallEnableIo, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

HelError helEnableFullIo(void)
{
	return hh_shim_call(kHelCallEnableFullIo, 0, NULL, NULL);
}

HelError helBindKernlet(HelHandle handle, const union HelKernletData *data, size_t numData, HelHandle *boundHandle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallBindKernlet, HH_NARGS((uint64_t)(int64_t)handle, HH_U(data), (uint64_t)numData), HH_ARGS((uint64_t)(int64_t)handle, HH_U(data), (uint64_t)numData), out);
	return HH_STORE(e, boundHandle, out[0]);
}
