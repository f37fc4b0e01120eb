/*
 * Memory objects.  Each allocated object is one memfd: mappings are real
 * mmaps of it in the programs, so their page faults never reach the emulator,
 * and resizing is ftruncate.
 */
#ifndef HH_MEMORY_H
#define HH_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"
#include "object.h"

enum hh_memory_kind {
	HH_MEMORY_ALLOCATED = 1,
	HH_MEMORY_COPY_ON_WRITE,        /* a lazy private copy (cow.c); cannot be resized */
	HH_MEMORY_INDIRECT,             /* slots onto other objects (indirect.c); no memfd (-1) */
	HH_MEMORY_MANAGED_BACKING,      /* the pager's view of managed memory (managed.c) */
	HH_MEMORY_MANAGED_FRONTAL,      /* the clients' view: pages come from the pager */
	HH_MEMORY_KIND_LAST
};

struct hh_managed;

struct hh_memory {
	struct hh_object base;
	enum hh_memory_kind kind;
	int memfd;
	uint64_t size;
	uint64_t granule;       /* resize unit: 4096, or the block of a Continuous object */
	char *view;             /* the emulator's mapping of the whole object, made on demand */
	uint64_t view_len;
	struct hh_account *account;     /* charged for size and the memfd (a reference), or NULL */
	struct hh_managed *managed;     /* managed kinds: the page store both views share */
	struct hh_memory *cow_source;   /* COW: a reference to its source, NULL for zeros */
	uint64_t cow_offset;            /* COW: where its page 0 lies in cow_source */
	uint32_t handles;               /* descriptors naming it, in universes or in flight */
	bool sealed;            /* the memfd may have left the emulator (hh_memory_source) */
	uint64_t serial;        /* never the same for two objects: names the memfd to the shims */
};

#define HH_PAGE_SIZE 4096ull

/* Create an allocated object of size bytes (size checked by the caller). */
HelError hh_memory_allocate(uint64_t size, uint32_t flags, struct hh_memory **out);
/* Fill in a fresh object of kind over memfd (owned by whoever the kind says). */
void hh_memory_init(struct hh_memory *mem, enum hh_memory_kind kind, int memfd, uint64_t size);
/* Forget the emulator's mapping of mem (its size changed). */
void hh_memory_drop_view(struct hh_memory *mem);
/*
 * The same, charged to account (NULL: nobody) from the start, with a spare
 * memfd of the account when it has one.  kHelErrNoMemory over its limits.
 */
struct hh_account;
HelError hh_memory_allocate_for(struct hh_account *account, uint64_t size, uint32_t flags,
		struct hh_memory **out);
/* Grow mem; the growth is charged to its account (kHelErrNoMemory over the limit). */
HelError hh_memory_resize(struct hh_memory *mem, uint64_t new_size);

/*
 * Charge mem (its size and its memfd) to account from now on, until it is
 * destroyed.  kHelErrNoMemory, charging nothing, over a limit of account.
 */
HelError hh_memory_charge(struct hh_memory *mem, struct hh_account *account);

/*
 * What helMapMemory can map: memory objects and queues.  The fd of an object
 * leaves the emulator only through here, which seals it first; fd -1 when
 * sealing fails.
 */
struct hh_memory_source {
	int fd;                 /* the emulator's memfd */
	uint64_t length;        /* the object's length in bytes */
};

struct hh_memory_source hh_memory_source(struct hh_object *obj);

/* The emulator's mapping of a memory object or queue (whole), or NULL. */
char *hh_memory_view(struct hh_object *obj);

/* Wake every futex waiter on the word at offset of a memory object or queue. */
void hh_memory_wake(struct hh_object *obj, uint64_t offset);

static inline struct hh_memory *hh_memory_of(struct hh_object *obj)
{
	return (struct hh_memory *)obj;
}

#endif
