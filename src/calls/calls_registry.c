/* Decoding of helhost's registry calls (include/helhost.h). */
#include <string.h>

#include "calls.h"
#include "process.h"
#include "queue.h"
#include "registry.h"
#include "universe.h"
#include "usermem.h"

/* Names are passed as pointer and length, without the NUL. */
static HelError read_name(struct hh_call *c, char name[HH_NAME_MAX + 1])
{
	uint64_t len = c->arg[1];
	if (!len || len > HH_NAME_MAX)
		return hh_call_refuse(c, kHelErrIllegalArgs, "name of %llu bytes (1 to %d)",
				(unsigned long long)len, HH_NAME_MAX);
	if (hh_user_read(&c->proc->mem, c->arg[0], name, len))
		return hh_call_refuse(c, kHelErrFault, "name unreadable");
	name[len] = 0;
	if (strlen(name) != len)
		return hh_call_refuse(c, kHelErrIllegalArgs, "name contains a NUL byte");
	return kHelErrNone;
}

HelError hh_call_publish(struct hh_call *c)
{
	char name[HH_NAME_MAX + 1];
	HelError e = read_name(c, name);
	if (e)
		return e;
	struct hh_desc desc;
	if ((e = hh_call_resolve(c, 2, 0, &desc)))
		return e;
	if ((e = hh_registry_publish(name, desc, c->proc)))
		return hh_call_refuse(c, e, "\"%s\" is published already", name);
	return kHelErrNone;
}

HelError hh_call_unpublish(struct hh_call *c)
{
	char name[HH_NAME_MAX + 1];
	HelError e = read_name(c, name);
	if (e)
		return e;
	if ((e = hh_registry_unpublish(name, c->proc)))
		return hh_call_refuse(c, e, "\"%s\" is not published by this program", name);
	return kHelErrNone;
}

HelError hh_call_submit_lookup(struct hh_call *c)
{
	char name[HH_NAME_MAX + 1];
	HelError e = read_name(c, name);
	if (e)
		return e;
	int64_t deadline = (int64_t)c->arg[2];
	if (deadline < -1)
		return hh_call_refuse(c, kHelErrIllegalArgs, "deadline %lld", (long long)deadline);
	struct hh_desc desc;
	if ((e = hh_call_resolve(c, 3, HH_TYPE(HH_OBJ_QUEUE), &desc)))
		return e;
	struct hh_queue *q = hh_queue_of(desc.obj);
	if ((e = hh_queue_check_size(q, sizeof(struct HelHandleResult))))
		return hh_call_refuse(c, e, "chunks too small");
	if ((e = hh_call_check_pending(c)))
		return e;
	uint64_t id = hh_registry_lookup(name, deadline, c->universe, q, c->arg[4],
			&c->proc->pending);
	if (!id)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the lookup");
	c->out[0] = id;
	return kHelErrNone;
}
