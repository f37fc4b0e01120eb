#include "indirect.h"

#include <stdlib.h>

static void indirect_destroy(struct hh_object *obj)
{
	struct hh_indirect *ind = hh_indirect_of(obj);
	for (uint64_t i = 0; i < ind->num_slots; i++)
		if (ind->slots[i].target)
			hh_object_unref(&ind->slots[i].target->base);
	free(ind->slots);
	free(ind);
}

/* A memory view to every call that asks for one; only the kind tells it apart. */
static const struct hh_object_ops indirect_ops = {
	.type = HH_OBJ_MEMORY,
	.name = "indirect memory",
	.destroy = indirect_destroy,
};

HelError hh_indirect_create(uint64_t num_slots, struct hh_indirect **out)
{
	struct hh_indirect *ind = calloc(1, sizeof(*ind));
	if (!ind)
		return kHelErrNoMemory;
	if (num_slots && !(ind->slots = calloc(num_slots, sizeof(*ind->slots)))) {
		free(ind);
		return kHelErrNoMemory;
	}
	hh_object_init(&ind->mem.base, &indirect_ops);
	ind->mem.kind = HH_MEMORY_INDIRECT;
	ind->mem.memfd = -1;            /* nothing maps, copies or wakes through the object itself */
	ind->mem.size = num_slots << HH_INDIRECT_SLOT_SHIFT;
	ind->mem.granule = HH_PAGE_SIZE;
	ind->num_slots = num_slots;
	*out = ind;
	return kHelErrNone;
}

void hh_indirect_alter(struct hh_indirect *ind, uint64_t slot, struct hh_memory *target,
		uint64_t offset, uint64_t size)
{
	struct hh_indirect_slot *s = &ind->slots[slot];
	struct hh_memory *old = s->target;
	/* Mappings already made keep their own references to the old target. */
	hh_object_ref(&target->base);
	*s = (struct hh_indirect_slot){ .target = target, .offset = offset, .size = size };
	if (old)
		hh_object_unref(&old->base);
}

size_t hh_indirect_pieces(const struct hh_indirect *ind, uint64_t offset, uint64_t len,
		struct hh_indirect_piece *out, size_t max)
{
	size_t n = 0;
	uint64_t end = offset + len;
	for (uint64_t i = offset >> HH_INDIRECT_SLOT_SHIFT;
			len && i < ind->num_slots && (i << HH_INDIRECT_SLOT_SHIFT) < end; i++) {
		const struct hh_indirect_slot *s = &ind->slots[i];
		if (!s->target || !s->size)
			continue;
		uint64_t lo = i << HH_INDIRECT_SLOT_SHIFT, hi = lo + s->size;
		if (lo < offset)
			lo = offset;
		if (hi > end)
			hi = end;
		if (lo >= hi)
			continue;
		if (n < max)
			out[n] = (struct hh_indirect_piece){ .start = lo, .len = hi - lo, .target = s->target,
				.offset = s->offset + (lo - (i << HH_INDIRECT_SLOT_SHIFT)) };
		n++;
	}
	return n;
}
