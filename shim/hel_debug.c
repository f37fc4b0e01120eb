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
	return hh_shim_call(kHelCallSubmitAsyncNop, HH_NARGS((uint64_t)(int64_t)queueHandle, (uint64_t)context), HH_ARGS((uint64_t)(int64_t)queueHandle, (uint64_t)context), NULL);
}
