/*
 * Slices (OBJECTS.md §3.8): a window [offset, offset+size) onto a memory
 * object, mappable with helMapMemory.  A slice holds a reference to its
 * object, so closing the object's handle leaves what the slice shows alive.
 * Mappings made through a slice are recorded against the object itself, so
 * the space table and everything reading it never see slices.
 */
#ifndef HH_SLICE_H
#define HH_SLICE_H

#include <stdint.h>

#include "object.h"

struct hh_slice {
	struct hh_object base;
	struct hh_object *memory;       /* the memory object; one reference */
	uint64_t offset;                /* page aligned */
	uint64_t size;                  /* page aligned; not checked against the object, as in thor */
	uint32_t flags;                 /* kHelSliceCacheWriteCombine: only hardware caching cares */
};

/* Create a slice of memory (arguments checked by the caller); NULL on OOM. */
struct hh_slice *hh_slice_create(struct hh_object *memory, uint64_t offset, uint64_t size,
		uint32_t flags);

static inline struct hh_slice *hh_slice_of(struct hh_object *obj)
{
	return (struct hh_slice *)obj;
}

#endif
