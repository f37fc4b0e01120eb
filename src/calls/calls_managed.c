/*
 * Decoding of the managed-memory calls: helCreateManagedMemory,
 * helSubmitManageMemory and helUpdateMemory (OBJECTS.md §3.5, §10).
 */
#include "calls.h"
#include "managed.h"
#include "process.h"
#include "quota.h"
#include "queue.h"
#include "universe.h"

HelError hh_call_CreateManagedMemory(struct hh_call *c)
{
	uint64_t size = c->arg[0], flags = c->arg[1];
	if (flags & ~(uint64_t)kHelManagedReadahead)
		return hh_call_refuse(c, kHelErrIllegalArgs, "flags %#llx: only kHelManagedReadahead",
				(unsigned long long)flags);
	/* Size 0 is accepted, as in thor. */
	if (size % HH_PAGE_SIZE)
		return hh_call_refuse(c, kHelErrIllegalArgs, "size %#llx is not a page multiple",
				(unsigned long long)size);
	struct hh_memory *backing, *frontal;
	HelError e = hh_managed_create(size, flags & kHelManagedReadahead, &backing, &frontal);
	if (e)
		return hh_call_refuse(c, e, "cannot back %#llx bytes", (unsigned long long)size);
	/* The store is charged once, to the backing object: the frontal one shares it. */
	if ((e = hh_memory_charge(backing, c->universe->account))) {
		hh_object_unref(&backing->base);
		hh_object_unref(&frontal->base);
		return hh_call_refuse(c, e, "%#llx bytes: over the program's limit of memory or memfds",
				(unsigned long long)size);
	}
	HelHandle b = hh_universe_attach(c->universe, &backing->base, 0);
	HelHandle f = b ? hh_universe_attach(c->universe, &frontal->base, 0) : kHelNullHandle;
	hh_object_unref(&backing->base);
	hh_object_unref(&frontal->base);
	if (!f) {
		if (b)
			(void)hh_universe_detach(c->universe, b);
		return hh_call_refuse(c, kHelErrNoMemory, "handle table full");
	}
	c->out[0] = (uint64_t)b;
	c->out[1] = (uint64_t)f;
	return kHelErrNone;
}

/* A memory view that must be the backing object of managed memory. */
static HelError resolve_backing(struct hh_call *c, struct hh_memory **out)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &desc);
	if (e)
		return e;
	*out = hh_memory_of(desc.obj);
	return kHelErrNone;
}

static HelError refuse_not_backing(struct hh_call *c)
{
	/* thor panics for other kinds; [emu] OBJECTS.md §3.5. */
	return hh_call_refuse(c, kHelErrUnsupportedOperation, "not the backing object of managed memory");
}

HelError hh_call_SubmitManageMemory(struct hh_call *c)
{
	struct hh_memory *backing;
	struct hh_queue *q;
	HelError e = resolve_backing(c, &backing);
	if (e || (e = hh_call_resolve_queue(c, 1, &q)))
		return e;
	if ((e = hh_queue_check_size(q, sizeof(struct HelManageResult))))
		return hh_call_refuse(c, e, "chunks too small");
	if (backing->kind != HH_MEMORY_MANAGED_BACKING)
		return refuse_not_backing(c);
	if ((e = hh_call_check_pending(c)))
		return e;
	struct hh_manage_sub *s = hh_managed_sub_new(q, c->arg[2], &c->proc->pending);
	if (!s)
		return hh_call_refuse(c, kHelErrNoMemory, "no memory for the submission");
	c->out[0] = hh_managed_submit(backing, s);
	return kHelErrNone;
}

HelError hh_call_UpdateMemory(struct hh_call *c)
{
	struct hh_memory *backing;
	HelError e = resolve_backing(c, &backing);
	if (e)
		return e;
	int type = (int)c->arg[1];
	uint64_t offset = c->arg[2], len = c->arg[3];
	if (type != kHelManageInitialize && type != kHelManageWriteback)
		return hh_call_refuse(c, kHelErrIllegalArgs, "type %d", type);
	if (backing->kind != HH_MEMORY_MANAGED_BACKING)
		return refuse_not_backing(c);
	if (offset > backing->size || len > backing->size - offset)
		return hh_call_refuse(c, kHelErrIllegalArgs, "beyond the object's %#llx bytes",
				(unsigned long long)backing->size);
	/* thor asserts on these ([emu]). */
	if (offset % HH_PAGE_SIZE || len % HH_PAGE_SIZE)
		return hh_call_refuse(c, kHelErrIllegalArgs, "offset and length must be page multiples");
	if ((e = hh_managed_update(backing, type, offset, len)))
		return hh_call_refuse(c, e, "a page of the range was not handed out for %s",
				type == kHelManageInitialize ? "initialization" : "writeback");
	return kHelErrNone;
}
