/* Decoding of the descriptor and universe calls (OBJECTS.md §1). */
#include "calls.h"
#include "process.h"
#include "stream.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

/* kHelThisUniverse or a universe handle. */
static HelError target_universe(struct hh_call *c, unsigned arg, struct hh_universe **out)
{
	if ((HelHandle)c->arg[arg] == kHelThisUniverse) {
		*out = c->universe;
		return kHelErrNone;
	}
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, arg, HH_TYPE(HH_OBJ_UNIVERSE), &desc);
	if (e)
		return e;
	*out = hh_universe_of(desc.obj);
	return kHelErrNone;
}

HelError hh_call_CreateUniverse(struct hh_call *c)
{
	struct hh_universe *u = hh_universe_create();
	if (!u)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for a universe");
	return hh_call_give(c, &u->base);
}

HelError hh_call_TransferDescriptor(struct hh_call *c)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, 0, &desc);
	if (e)
		return e;
	struct hh_universe *dest;
	if ((e = target_universe(c, 1, &dest)))
		return e;
	HelHandle h = hh_universe_attach(dest, desc.obj, desc.aux);
	if (!h)
		return hh_call_refuse(c, kHelErrNoMemory, "handle table full");
	c->out[0] = (uint64_t)h;
	return kHelErrNone;
}

HelError hh_call_CloseDescriptor(struct hh_call *c)
{
	struct hh_universe *u;
	HelError e = target_universe(c, 0, &u);
	if (e)
		return e;
	if (hh_universe_detach(u, (HelHandle)c->arg[1]))
		return hh_call_refuse(c, kHelErrNoDescriptor, "arg 1: no handle %lld",
				(long long)c->arg[1]);
	return kHelErrNone;
}

HelError hh_call_DescriptorInfo(struct hh_call *c)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, 0, &desc);
	if (e)
		return e;
	/* thor never implemented it (OBJECTS.md §1.7). */
	return hh_call_refuse(c, kHelErrUnsupportedOperation, "thor does not implement it");
}

HelError hh_call_GetCredentials(struct hh_call *c)
{
	if ((uint32_t)c->arg[1])
		return hh_call_refuse(c, kHelErrIllegalArgs, "flags must be 0");
	const unsigned char *credentials;
	if ((HelHandle)c->arg[0] == kHelThisThread) {
		credentials = c->thread->credentials;
	} else {
		struct hh_desc desc;
		HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_THREAD) | HH_TYPE(HH_OBJ_STREAM), &desc);
		if (e)
			return e;
		if (hh_object_type(desc.obj) == HH_OBJ_THREAD) {
			credentials = hh_thread_of(desc.obj)->credentials;
		} else if (hh_stream_of(desc.obj)->has_credentials) {
			credentials = hh_stream_of(desc.obj)->credentials;
		} else {
			/* thor asserts here (STREAMS.md Q4). */
			return hh_call_refuse(c, kHelErrBadDescriptor, "the lane's stream has no credentials");
		}
	}
	if (hh_user_write(&c->proc->mem, c->arg[2], credentials, 16))
		return hh_call_refuse(c, kHelErrFault, "credentials buffer unwritable");
	return kHelErrNone;
}
