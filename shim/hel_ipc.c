/* Message-passing calls. */
#include "shim.h"

HelError helCreateStream(HelHandle *lane1, HelHandle *lane2, uint32_t attach_credentials)
{
	uint64_t out[2];
	struct hh_shim_view view = hh_shim_ring_view();
	HelError e = hh_shim_call(kHelCallCreateStream, HH_NARGS((uint64_t)attach_credentials), HH_ARGS((uint64_t)attach_credentials), out);
	if (e == kHelErrNone) {
		hh_shim_ring_learn(view, (HelHandle)out[0], HH_KNOWN_LANE, 0);
		hh_shim_ring_learn(view, (HelHandle)out[1], HH_KNOWN_LANE, 0);
	}
	e = HH_STORE(e, lane1, out[0]);
	return HH_STORE(e, lane2, out[1]);
}

HelError helShutdownLane(HelHandle handle)
{
	return hh_shim_call(kHelCallShutdownLane, HH_NARGS((uint64_t)(int64_t)handle), HH_ARGS((uint64_t)(int64_t)handle), NULL);
}

HelError helCreateToken(HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateToken, 0, NULL, out);
	return HH_STORE(e, handle, out[0]);
}
