/*
 * Address spaces.  A program's own space is its Linux address space; the
 * emulator keeps the table of the Hel mappings in it and decides where each
 * goes, and the program's shim carries the changes out after the reply.
 * Placement without kHelMapFixed happens inside the arena, a range the shim
 * reserved at start-up, so it never collides with the program's own mappings.
 */
#ifndef HH_SPACE_H
#define HH_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callpage.h"
#include "hel.h"
#include "object.h"

/* thor's usable range on x86-64 (OBJECTS.md §4.1). */
#define HH_SPACE_LOW 0x1000ull
#define HH_SPACE_HIGH 0x800000000000ull

struct hh_mapping {
	uint64_t addr;
	uint64_t len;
	struct hh_object *source;       /* memory or queue; one reference per mapping */
	uint64_t offset;
	uint32_t prot;                  /* PROT_* */
	bool no_backing;                /* kHelMapDontRequireBacking: missing managed pages fault */
};

/*
 * A hole: part of a mapping that shows nothing (an empty slot of an indirect
 * object).  It is no mapping (futexes and transfers fault there, protection
 * changes pass it by) but it is taken for placement, and unmapping frees it.
 */
struct hh_hole {
	uint64_t addr;
	uint64_t len;
};

struct hh_space {
	struct hh_object base;
	uint64_t arena_base, arena_len;
	struct hh_mapping *maps;        /* sorted by address, not overlapping */
	size_t count, capacity;
	struct hh_hole *holes;          /* sorted, overlapping neither each other nor maps */
	size_t hole_count, hole_capacity;
};

/* What a map or unmap asks of the program, carried out by its shim. */
struct hh_mm_plan {
	struct hh_mm_op ops[HH_MM_MAX_OPS];
	uint32_t count;
};

struct hh_space *hh_space_create(uint64_t arena_base, uint64_t arena_len);
struct hh_space *hh_space_clone(const struct hh_space *src);

/* Normalise kHelMapProt* to PROT_* (OBJECTS.md §4.2 table). */
uint32_t hh_space_prot(uint32_t hel_flags);

/*
 * Place a mapping (flags are helMapMemory's).  On success the table holds it
 * and plan gets its operations (the MAP op's fd is left to the caller).
 */
HelError hh_space_map(struct hh_space *s, struct hh_object *source, uint64_t offset,
		uint64_t len, uint64_t hint, uint32_t flags, uint64_t *addr, struct hh_mm_plan *plan);
/*
 * hh_space_map in steps, for a mapping made of several pieces (indirect
 * memory): prepare room for maps more mappings and holes more holes, so that
 * nothing after placement can fail; place the whole range as hh_space_map
 * would (with kHelMapFixed, what was there leaves the table, with no op);
 * then record each piece (one MAP op each, fd left to the caller) and each
 * hole (an UNMAP op when clear, to take away what a kHelMapFixed replaced).
 */
HelError hh_space_prepare(struct hh_space *s, size_t maps, size_t holes);
HelError hh_space_place(struct hh_space *s, uint64_t len, uint64_t hint, uint32_t flags,
		uint64_t *addr, uint32_t *place);
HelError hh_space_record(struct hh_space *s, struct hh_object *source, uint64_t offset,
		uint64_t addr, uint64_t len, uint32_t prot, uint32_t place, struct hh_mm_plan *plan);
HelError hh_space_record_hole(struct hh_space *s, uint64_t addr, uint64_t len, bool clear,
		struct hh_mm_plan *plan);
/* Remove every mapping (or part) and hole inside [addr, addr+len). */
HelError hh_space_unmap(struct hh_space *s, uint64_t addr, uint64_t len, struct hh_mm_plan *plan);
/* Set the protection of every mapping (or part) inside [addr, addr+len); gaps stay. */
HelError hh_space_protect(struct hh_space *s, uint64_t addr, uint64_t len, uint32_t prot,
		struct hh_mm_plan *plan);
/* The first mapping (lowest address) that overlaps [addr, addr+len), or NULL. */
const struct hh_mapping *hh_space_first(const struct hh_space *s, uint64_t addr, uint64_t len);
/* The mapping containing addr, or NULL. */
const struct hh_mapping *hh_space_find(const struct hh_space *s, uint64_t addr);

static inline struct hh_space *hh_space_of(struct hh_object *obj)
{
	return (struct hh_space *)obj;
}

#endif
