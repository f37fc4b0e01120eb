/*
 * Universes: handle tables.  Each universe numbers its handles from 1 with a
 * private counter and never reuses a number (OBJECTS.md §1.1).  No other code
 * indexes a table: lookups go through hh_universe_resolve().
 */
#ifndef HH_UNIVERSE_H
#define HH_UNIVERSE_H

#include <stddef.h>

#include "hel.h"
#include "object.h"

struct hh_desc {
	struct hh_object *obj;  /* one reference held by the table entry */
	uint32_t aux;           /* type-specific: the lane index of a stream */
};

struct hh_universe_slot;

struct hh_universe {
	struct hh_object base;
	HelHandle next_handle;
	size_t count;                   /* live entries */
	size_t used;                    /* live + deleted slots */
	size_t capacity;                /* power of two */
	struct hh_universe_slot *slots;
	/* What the objects made by a program running in this universe are charged to. */
	struct hh_account *account;
};

struct hh_universe *hh_universe_create(void);
/*
 * A new universe holding copies of every descriptor of src, under the same
 * numbers, and an account of its own (a forked program is a new program).
 */
struct hh_universe *hh_universe_clone(struct hh_universe *src);

/*
 * Attach a descriptor (takes a new reference to obj); returns its number, or
 * 0 without memory or when the universe holds HELHOST_MAX_HANDLES already.
 */
HelHandle hh_universe_attach(struct hh_universe *u, struct hh_object *obj, uint32_t aux);

/*
 * Look a handle up.  Returns kHelErrNoDescriptor if absent, kHelErrBadDescriptor
 * if present but of another type (type 0 accepts any type).  The descriptor
 * stays owned by the table.
 */
HelError hh_universe_resolve(struct hh_universe *u, HelHandle handle, enum hh_type type,
		struct hh_desc *out);
/* Like resolve, accepting any of the types in mask (bit 1 << type). */
HelError hh_universe_resolve_any(struct hh_universe *u, HelHandle handle, unsigned mask,
		struct hh_desc *out);

/*
 * A descriptor held outside any table (an item in flight): take and release
 * one reference the way a table entry does, attach/detach hooks included.
 */
void hh_desc_take(struct hh_desc desc);
void hh_desc_release(struct hh_desc desc);

/* Remove a handle; returns kHelErrNoDescriptor if absent. */
HelError hh_universe_detach(struct hh_universe *u, HelHandle handle);
/*
 * fn runs before any handle leaves a universe by hh_universe_detach (the
 * ring transport drains what was posted against it; src/host/ring.c).  A
 * universe that is destroyed has no program left to post against it.
 */
void hh_universe_on_removal(void (*fn)(struct hh_universe *u));

/* Up to max of u's live handles, in no order (for the state dump); returns how many. */
size_t hh_universe_list(const struct hh_universe *u, HelHandle *out, size_t max);

static inline struct hh_universe *hh_universe_of(struct hh_object *obj)
{
	return (struct hh_universe *)obj;
}

#endif
