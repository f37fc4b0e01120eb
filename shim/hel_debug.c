/* Logging and debugging calls. */
#include "shim.h"

HelError helLog(const enum HelLogSeverity severity, const char *string, size_t length)
{
	return hh_shim_call(kHelCallLog, HH_NARGS((uint64_t)(int64_t)severity, HH_U(string), (uint64_t)length), HH_ARGS((uint64_t)(int64_t)severity, HH_U(string), (uint64_t)length), NULL);
}

HelError helNop(void)
{
	return hh_shim_call(kHelCallNop, 0, NULL, NULL);
}

HelError helSubmitAsyncNop(HelHandle queueHandle, uintptr_t context)
{
	const uint64_t args[2] = { (uint64_t)(int64_t)queueHandle, (uint64_t)context };
	struct hh_shim_view view = hh_shim_ring_view();
	HelError e;
	hh_shim_ring_submission_begins();
	/* A queue we know needs no check but its handle's (QUEUES.md §5): post it. */
	if (!hh_shim_ring_ready() || !hh_shim_ring_known(view, queueHandle, HH_KNOWN_QUEUE, NULL) ||
			!hh_shim_ring_post(view, kHelCallSubmitAsyncNop, args, 2, 0, NULL, 0, &e)) {
		e = hh_shim_call(kHelCallSubmitAsyncNop, 2, args, NULL);
		if (e == kHelErrNone)
			hh_shim_ring_learn(view, queueHandle, HH_KNOWN_QUEUE, 0);
	}
	hh_shim_ring_submitted();
	return e;
}
