#include "calls.h"

#include <stdio.h>

#include "native.h"
#include "process.h"
#include "queue.h"
#include "space.h"
#include "thread.h"
#include "universe.h"

static const struct hh_call_info table[] = {
#define HH_CALL(number, name, decode, args, coverage, note) \
	{ number, (number) < kHelNumCalls ? "hel" #name : "helhost_" #name, decode, args, coverage, note },
#include "calls.def"
#undef HH_CALL
};

#define TABLE_LEN (sizeof(table) / sizeof(table[0]))

/* Number -> row, filled on first use; the table is small and sorted by number. */
static const struct hh_call_info *by_number[kHelNumCalls];

const struct hh_call_info *hh_call_lookup(uint32_t number)
{
	/* helhost's own calls: few, numbered apart. */
	if (number >= kHelNumCalls) {
		for (size_t i = 0; i < TABLE_LEN; i++)
			if (table[i].number == number)
				return &table[i];
		return NULL;
	}
	if (!by_number[1])
		for (size_t i = 0; i < TABLE_LEN && table[i].number < kHelNumCalls; i++)
			by_number[table[i].number] = &table[i];
	return by_number[number];
}

const struct hh_call_info *hh_call_at(size_t index)
{
	return index < TABLE_LEN ? &table[index] : NULL;
}

HelError hh_call_refuse(struct hh_call *c, HelError err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return err;
}

HelError hh_call_resolve(struct hh_call *c, unsigned arg, unsigned type_mask, struct hh_desc *out)
{
	HelHandle handle = (HelHandle)c->arg[arg];
	HelError e = hh_universe_resolve_any(c->universe, handle, type_mask, out);
	if (e == kHelErrNoDescriptor)
		return hh_call_refuse(c, e, "arg %u: no handle %lld", arg, (long long)handle);
	if (e == kHelErrBadDescriptor)
		return hh_call_refuse(c, e, "arg %u: handle %lld is a %s", arg, (long long)handle,
				out->obj ? out->obj->ops->name : "?");
	return e;
}

HelError hh_call_check_pending(struct hh_call *c)
{
	if (hh_pending_room(&c->proc->pending, 1 + c->reserved))
		return kHelErrNone;
	return hh_call_refuse(c, kHelErrNoMemory, "%zu operations pending and %zu posted, the limit "
			"(HELHOST_MAX_PENDING)", c->proc->pending.count, c->reserved);
}

HelError hh_call_resolve_queue(struct hh_call *c, unsigned arg, struct hh_queue **out)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, arg, HH_TYPE(HH_OBJ_QUEUE), &desc);
	if (!e)
		*out = hh_queue_of(desc.obj);
	return e;
}

HelError hh_call_resolve_space(struct hh_call *c, unsigned arg, struct hh_space **out)
{
	if ((HelHandle)c->arg[arg] == kHelNullHandle) {
		*out = c->proc->space;
		return kHelErrNone;
	}
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, arg, HH_TYPE(HH_OBJ_SPACE), &desc);
	if (!e)
		*out = hh_space_of(desc.obj);
	return e;
}

HelError hh_call_apply_to(struct hh_call *c, const struct hh_space *space, HelError e)
{
	/* Threads made by helCreateThread in the space see the change before the reply. */
	hh_native_apply(space, &c->plan);
	/* A thread in its program's own space runs no shim: it carries the change out itself. */
	if (space == c->proc->space && hh_native_is_own(c->thread))
		hh_native_apply_own(c->thread, space, &c->plan);
	/* Only a program's own space is a Linux address space its shim can change. */
	if (space != c->proc->space || c->thread->native)
		c->plan.count = 0;
	return e;
}

HelError hh_call_give(struct hh_call *c, struct hh_object *obj)
{
	HelHandle h = hh_universe_attach(c->universe, obj, 0);
	hh_object_unref(obj);
	if (!h)
		return hh_call_refuse(c, kHelErrNoMemory, "handle table full");
	c->out[0] = (uint64_t)h;
	return kHelErrNone;
}

HelError hh_call_dispatch(struct hh_call *c)
{
	const struct hh_call_info *info = hh_call_lookup(c->number);
	/* Supercalls and unassigned numbers: the shim never sends them. */
	c->results = NULL;
	if (!info)
		return hh_call_refuse(c, kHelErrIllegalSyscall, "no call %u", c->number);
	return info->decode(c);
}

bool hh_call_awaits_result(struct hh_call *c)
{
	struct hh_queue *q = c->results;
	if (!q)
		return false;
	c->results = NULL;
	bool awaits = hh_queue_posts(q) == c->results_posts;
	hh_object_unref(&q->base);
	return awaits;
}

HelError hh_call_not_yet(struct hh_call *c)
{
	return hh_call_refuse(c, kHelErrUnsupportedOperation, "not implemented yet in helhost");
}

HelError hh_call_no_hardware(struct hh_call *c)
{
	return hh_call_refuse(c, kHelErrNoHardwareSupport, "no virtualization in a hosted kernel");
}

HelError hh_call_no_hosted(struct hh_call *c)
{
	return hh_call_refuse(c, kHelErrUnsupportedOperation, "hardware access cannot exist hosted");
}
