/*
 * Decoding of the futex calls (OBJECTS.md §7).  The shim serves both itself
 * on the host futex, so that no trapped call ever blocks; these decoders
 * serve callers that trap them anyway.
 */
#include "calls.h"
#include "memory.h"
#include "process.h"
#include "space.h"

static HelError futex_mapping(struct hh_call *c, const struct hh_mapping **out)
{
	*out = hh_space_find(c->proc->space, c->arg[0]);
	if (!*out)
		return hh_call_refuse(c, kHelErrFault, "no Hel mapping at %#llx",
				(unsigned long long)c->arg[0]);
	return kHelErrNone;
}

HelError hh_call_FutexWait(struct hh_call *c)
{
	const struct hh_mapping *m;
	HelError e = futex_mapping(c, &m);
	if (e)
		return e;
	int64_t deadline = (int64_t)c->arg[2];
	if (deadline < 0 && deadline != kHelWaitInfinite)
		return hh_call_refuse(c, kHelErrIllegalArgs, "deadline %lld", (long long)deadline);
	/* Returning at once is a spurious wake-up, which every caller must expect. */
	return kHelErrNone;
}

HelError hh_call_FutexWake(struct hh_call *c)
{
	const struct hh_mapping *m;
	HelError e = futex_mapping(c, &m);
	if (e)
		return e;
	hh_memory_wake(m->source, m->offset + (c->arg[0] - m->addr));
	return kHelErrNone;
}
