/*
 * Copy-on-write memory objects (OBJECTS.md §3.6), copied lazily as in thor:
 * a COW object is a memfd memory object of kind HH_MEMORY_COPY_ON_WRITE that
 * keeps its source and offset, and a page is copied into its memfd on the
 * first access of any kind through the object (hh_cow_touch): a program's
 * fault on its mapping (faults.c), the emulator's copies, locks, futex wakes
 * and stream transfers.  Copied pages are exactly the data extents of the
 * memfd, so an untouched page is a hole and still shows the source as it is.
 */
#ifndef HH_COW_H
#define HH_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"
#include "memory.h"

/* The length of kHelZeroMemory, the global all-zero source (OBJECTS.md §3.1). */
#define HH_ZERO_MEMORY_LENGTH (1ull << 46)

/*
 * A COW object of size bytes mirroring source[offset, offset + size), or
 * zeros if source is NULL (kHelZeroMemory); it holds a reference to source.
 * Nothing is copied yet.  The range is checked by the caller.
 */
HelError hh_cow_create(struct hh_memory *source, uint64_t offset, uint64_t size,
		struct hh_memory **out);

/*
 * helForkMemory: a new COW object of cow's source and offset holding the
 * pages cow has copied, as they are now; the others follow the source for
 * both.  Costs the pages copied, not the size.
 */
HelError hh_cow_fork(struct hh_memory *cow, struct hh_memory **out);

/*
 * [offset, offset+len) of obj is about to be accessed: when obj is COW
 * memory, copy the pages not copied yet.  0, or -1 when a copy failed or the
 * range lies outside the object.  A no-op (0) for any other object.
 */
int hh_cow_touch(struct hh_object *obj, uint64_t offset, uint64_t len);

static inline bool hh_memory_is_cow(const struct hh_object *obj)
{
	return hh_object_type(obj) == HH_OBJ_MEMORY
		&& hh_memory_of((struct hh_object *)obj)->kind == HH_MEMORY_COPY_ON_WRITE;
}

#endif
