/*
 * Indirect memory (OBJECTS.md §3.7): numSlots windows of 2^32 bytes, each
 * empty or showing a piece of another memory object.  It is a memory view
 * (type HH_OBJ_MEMORY, kind HH_MEMORY_INDIRECT) without a memfd of its own:
 * helMapMemory maps the targets' memfds piece by piece and records each
 * piece against its target, so the space table and everything reading it
 * never see indirect objects.
 */
#ifndef HH_INDIRECT_H
#define HH_INDIRECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory.h"

#define HH_INDIRECT_SLOT_SHIFT 32
#define HH_INDIRECT_SLOT_SIZE (1ull << HH_INDIRECT_SLOT_SHIFT)
/* [emu] More slots than this would not fit the 47-bit space (2^15 << 32 = 2^47). */
#define HH_INDIRECT_MAX_SLOTS (1ull << 15)

struct hh_indirect_slot {
	struct hh_memory *target;       /* NULL: empty; else one reference; never indirect */
	uint64_t offset;                /* into the target, page aligned */
	uint64_t size;                  /* page aligned, <= 2^32; offset + size <= target's size */
};

struct hh_indirect {
	struct hh_memory mem;           /* kind HH_MEMORY_INDIRECT, memfd -1, size num_slots << 32 */
	uint64_t num_slots;
	struct hh_indirect_slot *slots;
};

/* A run of an indirect range that shows a target. */
struct hh_indirect_piece {
	uint64_t start;                 /* offset in the indirect object */
	uint64_t len;
	struct hh_memory *target;
	uint64_t offset;                /* offset in the target */
};

/* Create an object of num_slots empty slots (num_slots checked by the caller). */
HelError hh_indirect_create(uint64_t num_slots, struct hh_indirect **out);

/* Point slot at target[offset, offset+size) (checked by the caller); drops the old target. */
void hh_indirect_alter(struct hh_indirect *ind, uint64_t slot, struct hh_memory *target,
		uint64_t offset, uint64_t size);

/*
 * The pieces of [offset, offset+len) that show a target, in order; the rest
 * are holes.  Stores at most max pieces and returns how many there are.
 */
size_t hh_indirect_pieces(const struct hh_indirect *ind, uint64_t offset, uint64_t len,
		struct hh_indirect_piece *out, size_t max);

static inline bool hh_memory_is_indirect(const struct hh_object *obj)
{
	return hh_object_type(obj) == HH_OBJ_MEMORY
		&& ((const struct hh_memory *)obj)->kind == HH_MEMORY_INDIRECT;
}

static inline struct hh_indirect *hh_indirect_of(struct hh_object *obj)
{
	return (struct hh_indirect *)obj;
}

#endif
