/*
 * Decoding of helCreateIndirectMemory and helAlterMemoryIndirection
 * (OBJECTS.md §3.7, §10).  Mapping an indirect object is helMapMemory's
 * (calls_memory.c).
 */
#include "calls.h"
#include "indirect.h"
#include "memory.h"
#include "slice.h"
#include "universe.h"

HelError hh_call_CreateIndirectMemory(struct hh_call *c)
{
	uint64_t num_slots = c->arg[0];
	/* thor never fails; [emu] a length past the 47-bit space cannot be backed. */
	if (num_slots > HH_INDIRECT_MAX_SLOTS)
		return hh_call_refuse(c, kHelErrNoMemory, "%llu slots: at most %llu",
				(unsigned long long)num_slots, (unsigned long long)HH_INDIRECT_MAX_SLOTS);
	struct hh_indirect *ind;
	HelError e = hh_indirect_create(num_slots, &ind);
	if (e)
		return hh_call_refuse(c, e, "no memory for %llu slots", (unsigned long long)num_slots);
	return hh_call_give(c, &ind->mem.base);
}

HelError hh_call_AlterMemoryIndirection(struct hh_call *c)
{
	uint64_t slot = c->arg[1], offset = c->arg[3], size = c->arg[4];
	/* The order of the checks is thor's (OBJECTS.md §10). */
	struct hh_desc ind_desc, mem_desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &ind_desc);
	if (e || (e = hh_call_resolve(c, 2, HH_TYPE(HH_OBJ_MEMORY) | HH_TYPE(HH_OBJ_SLICE), &mem_desc)))
		return e;
	if (!hh_memory_is_indirect(ind_desc.obj))
		return hh_call_refuse(c, kHelErrUnsupportedOperation, "arg 0: not indirect memory");
	struct hh_indirect *ind = hh_indirect_of(ind_desc.obj);
	if (slot >= ind->num_slots)
		return hh_call_refuse(c, kHelErrOutOfBounds, "slot %llu of %llu",
				(unsigned long long)slot, (unsigned long long)ind->num_slots);
	/*
	 * thor checks nothing more; [emu] the window must be whole pages inside
	 * one slot and inside its target, so that every mapping made through it
	 * lies inside the target's memfd.
	 */
	if (offset % HH_PAGE_SIZE || size % HH_PAGE_SIZE || size > HH_INDIRECT_SLOT_SIZE)
		return hh_call_refuse(c, kHelErrIllegalArgs,
				"offset and size must be page multiples, size <= 2^32");
	struct hh_object *target = mem_desc.obj;
	if (hh_object_type(target) == HH_OBJ_SLICE) {
		/* A slice adds its offset; its caching mode matters to hardware only. */
		struct hh_slice *slice = hh_slice_of(target);
		if (offset > slice->size || size > slice->size - offset
				|| slice->offset + offset < offset)
			return hh_call_refuse(c, kHelErrIllegalArgs, "slice has %#llx bytes",
					(unsigned long long)slice->size);
		target = slice->memory;
		offset += slice->offset;
	}
	/* [emu] No chains of indirection: a slot shows memfd memory only. */
	if (hh_memory_is_indirect(target))
		return hh_call_refuse(c, kHelErrUnsupportedOperation,
				"arg 2: indirect memory cannot be a target here");
	struct hh_memory *mem = hh_memory_of(target);
	if (offset > mem->size || size > mem->size - offset)
		return hh_call_refuse(c, kHelErrIllegalArgs, "target has %#llx bytes",
				(unsigned long long)mem->size);
	hh_indirect_alter(ind, slot, mem, offset, size);
	return kHelErrNone;
}
