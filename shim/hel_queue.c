/* Queue calls. */
#include "shim.h"

HelError helCreateQueue(const struct HelQueueParameters *params, HelHandle *handle)
{
	uint64_t out[2];
	HelError e = hh_shim_call(kHelCallCreateQueue, HH_NARGS(HH_U(params)), HH_ARGS(HH_U(params)), out);
	return HH_STORE(e, handle, out[0]);
}

HelError helCancelAsync(HelHandle queueHandle, uint64_t asyncId)
{
	return hh_shim_call(kHelCallCancelAsync, HH_NARGS((uint64_t)(int64_t)queueHandle, (uint64_t)asyncId), HH_ARGS((uint64_t)(int64_t)queueHandle, (uint64_t)asyncId), NULL);
}
