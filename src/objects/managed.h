/*
 * Managed memory (OBJECTS.md §3.5): one page store seen through two memory
 * objects.  The backing object is the pager's view: a plain memfd mapping,
 * whose pages never wait.  The frontal object is the clients' view of the
 * same memfd: a page may be used through it only once the pager has
 * initialized it, so every access to a page that is not there yet (a fault
 * in a program's mapping, seen through userfaultfd in faults.c, or an
 * access of the emulator's own) asks the pager and waits.
 *
 * Page states are thor's: Missing -> WantInitialization -> Initialization
 * -> Present, and for dirty pages Present -> WantWriteback -> Writeback ->
 * Present (AnotherWriteback when written again during Writeback).  Requests
 * go to the pager through helSubmitManageMemory, one run of consecutive
 * pages per submission, writebacks first; helUpdateMemory answers them.
 *
 * When the backing object goes (its pager died or let it go), pending
 * manage submissions complete with kHelErrCancelled, and every access that
 * waits for a page, or comes later for one that never arrived, fails
 * (kHelErrFault, or SIGBUS for a program's fault): nothing hangs ([emu]).
 */
#ifndef HH_MANAGED_H
#define HH_MANAGED_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"
#include "memory.h"
#include "pending.h"
#include "queue.h"

/*
 * An access that waits until pages [first, last) of a frontal object can be
 * used: ready() runs once, with kHelErrNone, or kHelErrFault when the pager
 * is gone.  The waiter owns w; it is unlisted before ready() runs.
 */
struct hh_managed_wait {
	struct hh_managed_wait *next, **prev;
	uint64_t first, last;
	void (*ready)(struct hh_managed_wait *w, HelError error);
};

/* Make the backing and the frontal object of size bytes (page multiple). */
HelError hh_managed_create(uint64_t size, bool readahead, struct hh_memory **backing,
		struct hh_memory **frontal);

/* A memory object's teardown: its view of the page store goes. */
void hh_managed_detach(struct hh_memory *mem);
/*
 * The last descriptor of the backing object is gone (a mapping may still
 * hold it): nobody can answer requests any more, which counts as the
 * pager's end.
 */
void hh_managed_pager_gone(struct hh_memory *backing);

/* Resize through the backing object: both views get the new size. */
HelError hh_managed_resize(struct hh_memory *backing, uint64_t new_size);

static inline bool hh_memory_is_frontal(const struct hh_object *obj)
{
	return hh_object_type(obj) == HH_OBJ_MEMORY
		&& hh_memory_of((struct hh_object *)obj)->kind == HH_MEMORY_MANAGED_FRONTAL;
}

enum hh_managed_fetch {
	HH_FETCH_READY,         /* every page can be used now */
	HH_FETCH_WAIT,          /* w is listed; ready() comes later */
	HH_FETCH_FAULT,         /* a page will never come (no pager, or no backing wanted) */
};

/*
 * An access to [offset, offset+len) of frontal memory.  Pages that are
 * missing are requested from the pager (unless no_request: a mapping with
 * kHelMapDontRequireBacking) and w is listed to wait for them.
 */
enum hh_managed_fetch hh_managed_fetch(struct hh_memory *frontal, uint64_t offset, uint64_t len,
		bool no_request, struct hh_managed_wait *w);
/* Stop waiting (the waiter is going away); harmless when w is not listed. */
void hh_managed_unwait(struct hh_managed_wait *w);

/*
 * True when [offset, offset+len) of obj can be touched through the
 * emulator's view now: obj is not frontal memory, or every page is there.
 * A write marks the pages dirty.
 */
bool hh_managed_usable(struct hh_object *obj, uint64_t offset, uint64_t len, bool write);

/* [offset, offset+len) of frontal memory was written by the emulator: it needs writeback. */
void hh_managed_dirty(struct hh_memory *frontal, uint64_t offset, uint64_t len);

/*
 * Dirtiness through mappings is seen as thor sees it, when the mapping is
 * synchronized, unmapped or re-protected: a clean page is mapped
 * write-protected; its first write (a WP fault) marks it written and lets
 * the write go on; hh_managed_sync() turns written pages into writeback
 * requests, protecting them again first.
 */
void hh_managed_written(struct hh_memory *frontal, uint64_t offset);
bool hh_managed_was_written(struct hh_memory *frontal, uint64_t offset);
void hh_managed_sync(struct hh_memory *frontal, uint64_t offset, uint64_t len);

/* helSubmitManageMemory: the submission, prepared so that it cannot fail. */
struct hh_manage_sub;
struct hh_manage_sub *hh_managed_sub_new(struct hh_queue *q, uint64_t context,
		struct hh_pending_list *owner);
/* Queue it on the backing object; it completes with the next request.  Returns its async id. */
uint64_t hh_managed_submit(struct hh_memory *backing, struct hh_manage_sub *s);

/*
 * helUpdateMemory: the pager initialized or wrote back [offset, offset+len)
 * (checked: inside the object, page multiples).  kHelErrIllegalArgs, with
 * nothing changed, if a page is not in the state the update answers.
 */
HelError hh_managed_update(struct hh_memory *backing, int type, uint64_t offset, uint64_t len);

/*
 * faults.c's part: write-protect [offset, offset+len) of frontal in every
 * program's mapping, so that the next write to it is seen.
 */
void hh_faults_protect(struct hh_memory *frontal, uint64_t offset, uint64_t len);

#endif
