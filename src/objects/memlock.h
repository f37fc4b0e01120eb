/*
 * Memory-view locks (helSubmitLockMemoryView): a descriptor that keeps a
 * range of a memory object locked until it is closed.  Hosted objects are
 * never evicted, so a lock pins nothing: it keeps its object alive.  thor
 * populates the range when the lock is taken; here pages come on first
 * touch, as everywhere else, so a lock costs the same for any size (a
 * populating lock of 2 GiB used to stall every program for ~0.5 s).
 */
#ifndef HH_MEMLOCK_H
#define HH_MEMLOCK_H

#include <stdint.h>

#include "object.h"

struct hh_memory;

struct hh_memlock {
	struct hh_object base;
	struct hh_memory *memory;       /* a reference */
	uint64_t offset, size;
};

/* Lock [offset, offset+size) of mem (checked by the caller); NULL without memory. */
struct hh_memlock *hh_memlock_create(struct hh_memory *mem, uint64_t offset, uint64_t size);

#endif
