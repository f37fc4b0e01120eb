/* Queue calls. */
#include "shim.h"

HelError helCreateQueue(const struct HelQueueParameters *params, HelHandle *handle)
{
	uint64_t out[2];
	struct hh_shim_view view = hh_shim_ring_view();
	HelError e = hh_shim_call(kHelCallCreateQueue, HH_NARGS(HH_U(params)), HH_ARGS(HH_U(params)), out);
	struct HelQueueParameters p;
	/* The emulator read these parameters: they are the queue's, if we can still read them. */
	if (e == kHelErrNone)
		hh_shim_ring_learn(view, (HelHandle)out[0], HH_KNOWN_QUEUE,
				hh_shim_get(&p, params, sizeof(p)) ? 0 : p.chunkSize);
	return HH_STORE(e, handle, out[0]);
}

HelError helCancelAsync(HelHandle queueHandle, uint64_t asyncId)
{
	return hh_shim_call(kHelCallCancelAsync, HH_NARGS((uint64_t)(int64_t)queueHandle, (uint64_t)asyncId), HH_ARGS((uint64_t)(int64_t)queueHandle, (uint64_t)asyncId), NULL);
}
