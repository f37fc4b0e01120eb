/*
 * Copy-on-write memory objects (OBJECTS.md §3.6), made eagerly: a COW object
 * is an ordinary memfd memory object of kind HH_MEMORY_COPY_ON_WRITE that
 * holds a copy of its source range taken when it is created (or forked).
 * thor copies each page on its first access through the COW object instead;
 * the two differ only when the source changes a page before the COW object
 * has touched it (thor shows the change, helhost does not), which §3.6 [emu]
 * permits.
 */
#ifndef HH_COW_H
#define HH_COW_H

#include <stdint.h>

#include "hel.h"
#include "memory.h"

/* The length of kHelZeroMemory, the global all-zero source (OBJECTS.md §3.1). */
#define HH_ZERO_MEMORY_LENGTH (1ull << 46)

/*
 * A COW object of size bytes holding source[offset, offset + size), or zeros
 * if source is NULL (kHelZeroMemory).  The range is checked by the caller.
 */
HelError hh_cow_create(struct hh_memory *source, uint64_t offset, uint64_t size,
		struct hh_memory **out);

/* A new COW object with the contents cow has now (helForkMemory). */
HelError hh_cow_fork(struct hh_memory *cow, struct hh_memory **out);

#endif
