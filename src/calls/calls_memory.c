/* Decoding of the memory-object and address-space calls (OBJECTS.md §3, §4). */
#include "calls.h"
#include "cow.h"
#include "faults.h"
#include "indirect.h"
#include "managed.h"
#include "quota.h"
#include "memory.h"
#include "process.h"
#include "slice.h"
#include "space.h"
#include "thread.h"
#include "universe.h"
#include "usermem.h"

static bool page_aligned(uint64_t x)
{
	return !(x % HH_PAGE_SIZE);
}

static HelError resolve_memory(struct hh_call *c, unsigned arg, struct hh_memory **out)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, arg, HH_TYPE(HH_OBJ_MEMORY), &desc);
	if (e)
		return e;
	*out = hh_memory_of(desc.obj);
	return kHelErrNone;
}

HelError hh_call_AllocateMemory(struct hh_call *c)
{
	uint64_t size = c->arg[0];
	uint32_t flags = (uint32_t)c->arg[1];
	if (!size || !page_aligned(size))
		return hh_call_refuse(c, kHelErrIllegalArgs, "size %#llx is not a page multiple",
				(unsigned long long)size);
	if (c->arg[2]) {
		/* addressBits limits physical addresses; there are none to limit here. */
		struct HelAllocRestrictions restrictions;
		if (hh_user_read(&c->proc->mem, c->arg[2], &restrictions, sizeof(restrictions)))
			return hh_call_refuse(c, kHelErrFault, "restrictions unreadable");
	}
	struct hh_memory *mem;
	HelError e = hh_memory_allocate_for(c->universe->account, size, flags, &mem);
	if (e)
		return hh_call_refuse(c, e, "%#llx bytes: over the program's limit of memory or memfds, "
				"or no memfd", (unsigned long long)size);
	return hh_call_give(c, &mem->base);
}

HelError hh_call_ResizeMemory(struct hh_call *c)
{
	struct hh_memory *mem;
	HelError e = resolve_memory(c, 0, &mem);
	if (e)
		return e;
	/* thor panics ("does not support resize"); [emu] OBJECTS.md §3.3. */
	if (mem->kind != HH_MEMORY_ALLOCATED && mem->kind != HH_MEMORY_MANAGED_BACKING)
		return hh_call_refuse(c, kHelErrUnsupportedOperation,
				"only allocated memory and managed backing memory resize");
	if ((e = hh_memory_resize(mem, c->arg[1])) == kHelErrNoMemory)
		return hh_call_refuse(c, e, "to %#llx: over the limit of the program that made it",
				(unsigned long long)c->arg[1]);
	if (e)
		return hh_call_refuse(c, e, "from %#llx to %#llx (grow only, in %#llx steps)",
				(unsigned long long)mem->size, (unsigned long long)c->arg[1],
				(unsigned long long)mem->granule);
	return kHelErrNone;
}

HelError hh_call_MemoryInfo(struct hh_call *c)
{
	struct hh_memory *mem;
	HelError e = resolve_memory(c, 0, &mem);
	if (e)
		return e;
	c->out[0] = mem->size;
	return kHelErrNone;
}

HelError hh_call_Loadahead(struct hh_call *c)
{
	struct hh_memory *mem;
	return resolve_memory(c, 0, &mem);
}

/*
 * An indirect object maps as one range placed as a whole (OBJECTS.md §4.2),
 * filled with one mapping per slot window that shows a target, recorded
 * against the target; the rest are holes (the arena's PROT_NONE reservation,
 * so access faults: §3.7 [emu]) that keep their place in the space.  What is
 * mapped stays as it is when the slots change later, as in thor.
 */
static HelError map_indirect(struct hh_call *c, struct hh_indirect *ind, struct hh_space *space,
		uint64_t offset, uint64_t len, uint64_t pointer, uint32_t flags)
{
	struct hh_indirect_piece pieces[HH_MM_MAX_OPS];
	size_t n = hh_indirect_pieces(ind, offset, len, pieces, HH_MM_MAX_OPS);
	size_t holes = 0;
	if (n <= HH_MM_MAX_OPS) {
		uint64_t at = offset;
		for (size_t i = 0; i < n; at = pieces[i].start + pieces[i].len, i++)
			holes += pieces[i].start > at;
		holes += at < offset + len;
	}
	for (size_t i = 0; i < n && i < HH_MM_MAX_OPS; i++) {
		if (hh_memory_is_frontal(&pieces[i].target->base))
			return hh_call_refuse(c, kHelErrUnsupportedOperation,
					"managed frontal memory does not map through indirect memory");
		/* No fault reaches us through an indirect mapping: it touches every COW page it shows. */
		if (hh_cow_touch(&pieces[i].target->base, pieces[i].offset, pieces[i].len))
			return hh_call_refuse(c, kHelErrNoMemory, "cannot copy the COW pages");
	}
	/* With kHelMapFixed each hole also clears what was there: one op more each. */
	bool fixed = flags & kHelMapFixed;
	if (n > HH_MM_MAX_OPS || n + (fixed ? holes : 0) > HH_MM_MAX_OPS)
		return hh_call_refuse(c, kHelErrNoMemory, "%zu pieces: at most %d operations per call",
				n, HH_MM_MAX_OPS);
	HelError e = hh_space_prepare(space, n, holes);
	uint64_t addr;
	uint32_t place;
	if (e || (e = hh_space_place(space, len, pointer, flags, &addr, &place)))
		return hh_call_refuse(c, e, "no room for %#llx bytes", (unsigned long long)len);
	/* Prepared: nothing below fails. */
	uint32_t prot = hh_space_prot(flags);
	uint64_t at = offset;
	for (size_t i = 0; i <= n; i++) {
		uint64_t stop = i < n ? pieces[i].start : offset + len;
		if (stop > at)
			(void)hh_space_record_hole(space, addr + (at - offset), stop - at, fixed, &c->plan);
		if (i == n)
			break;
		const struct hh_indirect_piece *p = &pieces[i];
		(void)hh_space_record(space, &p->target->base, p->offset, addr + (p->start - offset),
				p->len, prot, place, &c->plan);
		/* The target's memfd goes to the shim with the reply. */
		c->plan.ops[c->plan.count - 1].fd = hh_memory_source(&p->target->base).fd;
		at = p->start + p->len;
	}
	c->out[0] = addr;
	return kHelErrNone;
}

/* The serial by which a shim may keep the memfd of source: memory objects' only, not queues'. */
static uint64_t held_serial(struct hh_object *source)
{
	return hh_object_type(source) == HH_OBJ_MEMORY ? hh_memory_of(source)->serial : 0;
}

/* The shim, mapping into its own space, says it kept the memfd of source. */
static bool shim_holds(const struct hh_call *c, struct hh_object *source)
{
	uint64_t serial = held_serial(source);
	return serial && c->arg[HH_MAP_HELD_ARG] == serial;
}

HelError hh_call_MapMemory(struct hh_call *c)
{
	uint64_t pointer = c->arg[2], offset = c->arg[3], len = c->arg[4];
	uint32_t flags = (uint32_t)c->arg[5];
	/* The order of the checks is thor's (OBJECTS.md §10). */
	if (!len || !page_aligned(pointer) || !page_aligned(offset) || !page_aligned(len))
		return hh_call_refuse(c, kHelErrIllegalArgs, "pointer, offset and size must be page multiples, size > 0");
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY) | HH_TYPE(HH_OBJ_QUEUE)
			| HH_TYPE(HH_OBJ_SLICE), &desc);
	if (e)
		return e;
	struct hh_space *space = NULL;
	if ((e = hh_call_resolve_space(c, 1, &space)))
		return e;
	if ((flags & kHelMapFixed) && !pointer)
		return hh_call_refuse(c, kHelErrIllegalArgs, "kHelMapFixed needs a pointer");
	/* A slice maps its object: the space table never holds slices (nor indirect objects). */
	struct hh_object *source = desc.obj;
	uint64_t base = 0;
	if (hh_object_type(desc.obj) == HH_OBJ_SLICE) {
		struct hh_slice *slice = hh_slice_of(desc.obj);
		if (offset > slice->size || len > slice->size - offset)
			return hh_call_refuse(c, kHelErrBufferTooSmall, "slice has %#llx bytes",
					(unsigned long long)slice->size);
		source = slice->memory;
		base = slice->offset;
	}
	/*
	 * A slice may reach past its object (thor does not check); its mapping
	 * must not ([emu], kHelErrBufferTooSmall): the program would take SIGBUS
	 * there, and the emulator's copies through its own mapping of the object
	 * rely on every mapping lying inside the object.
	 */
	struct hh_memory_source src = hh_memory_source(source);
	if (base > src.length || offset > src.length - base || len > src.length - base - offset)
		return hh_call_refuse(c, kHelErrBufferTooSmall, "object has %#llx bytes",
				(unsigned long long)src.length);
	offset += base;
	if (hh_memory_is_indirect(source))
		return hh_call_apply_to(c, space,
				map_indirect(c, hh_indirect_of(source), space, offset, len, pointer, flags));
	/* Only a shim can register a mapping for its faults ([emu], docs/MEMORY.md). */
	bool shim_space = space == c->proc->space && !c->thread->native;
	bool frontal = hh_memory_is_frontal(source);
	if (frontal && !shim_space)
		return hh_call_refuse(c, kHelErrUnsupportedOperation,
				"managed frontal memory maps only into a program's own space");
	/* COW pages are copied on their faults; where none can reach us, the mapping touches them all. */
	bool faults = frontal || (hh_memory_is_cow(source) && shim_space);
	if (!shim_space && hh_cow_touch(source, offset, len))
		return hh_call_refuse(c, kHelErrNoMemory, "cannot copy the COW pages");
	uint64_t addr;
	if ((e = hh_space_map(space, source, offset, len, pointer, flags, &addr, &c->plan)))
		return hh_call_refuse(c, e, "no room for %#llx bytes", (unsigned long long)len);
	/* Our memfd goes to stubs sharing the space and to the shim with the reply... */
	c->plan.ops[c->plan.count - 1].fd = src.fd;
	if (faults)
		c->plan.ops[c->plan.count - 1].place |= HH_PLACE_FAULTS;
	c->out[0] = addr;
	if ((e = hh_call_apply_to(c, space, kHelErrNone)) || !c->plan.count)
		return e;
	/* ...unless the shim kept it from an earlier map; it may keep it from this one. */
	if (shim_holds(c, source))
		c->plan.ops[c->plan.count - 1].fd = HH_MM_FD_HELD;
	c->out[1] = held_serial(source);
	return kHelErrNone;
}

HelError hh_call_UnmapMemory(struct hh_call *c)
{
	struct hh_space *space = NULL;
	HelError e = hh_call_resolve_space(c, 0, &space);
	if (e)
		return e;
	uint64_t pointer = c->arg[1], len = c->arg[2];
	/* thor does not check; unaligned ranges trip its assertions ([emu]). */
	if (!page_aligned(pointer) || !page_aligned(len) || pointer + len < pointer)
		return hh_call_refuse(c, kHelErrIllegalArgs, "range must be page aligned");
	if (!len)
		return kHelErrNone;
	/* Written managed frontal pages found while unmapping ask for writeback (§4.3). */
	hh_faults_sync(space, pointer, len);
	if ((e = hh_space_unmap(space, pointer, len, &c->plan)))
		return hh_call_refuse(c, e, "too many pieces to unmap at once");
	return hh_call_apply_to(c, space, kHelErrNone);
}
