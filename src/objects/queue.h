/*
 * Completion queues (QUEUES.md).  The queue's memory is a memfd that the
 * emulator and the program both map; the emulator writes elements into the
 * chunks the program supplies and wakes it through the progress futex.
 */
#ifndef HH_QUEUE_H
#define HH_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hel.h"
#include "loop.h"
#include "object.h"

/*
 * Where an element came from, for the trace (trace.c fills it in while the
 * trace is on, when the submitting call makes the completion): enough to
 * name each result when the element is written, long after the call.
 */
#define HH_ORIGIN_KINDS 16
struct hh_completion_origin {
	int32_t pid;            /* the submitting program; 0: not traced */
	uint32_t call;          /* the submitting call's number */
	int64_t queue;          /* the queue's handle in the submitter's universe */
	uint32_t count;         /* helSubmitAsync: its actions, the first of them in kinds */
	uint8_t kinds[HH_ORIGIN_KINDS];
};

/* One element waiting for room in the queue.  Owned by the queue once posted. */
struct hh_completion {
	struct hh_completion *next;
	uint64_t context;
	uint32_t length;        /* payload bytes used, a multiple of 8 */
	uint32_t capacity;
	struct hh_completion_origin origin;
	char payload[];
};

/*
 * The trace's view of completions, set only while the trace is on (so that
 * queue.c needs no trace.c): made() sees each completion as it is made,
 * written() each element just before the program can see it.
 */
struct hh_queue_tracer {
	void (*made)(struct hh_completion_origin *origin);
	void (*written)(const struct hh_completion *c);
};
void hh_queue_set_tracer(const struct hh_queue_tracer *tracer);

/* A cancellable operation pending on a queue (QUEUES.md §9); hashed by id. */
struct hh_async {
	struct hh_async *next, *prev;   /* in its hash bucket */
	uint64_t id;
	void (*cancel)(struct hh_async *a);
};

/*
 * While hold is set, the futex wakes of written elements wait (each word
 * once) until it is cleared: a program sharing the emulator's CPU that
 * waits for several elements written in one go is then woken once, not
 * switched to at the first and back for the next (src/host/ring.c).
 */
void hh_queue_hold_wakes(bool hold);

struct hh_queue {
	struct hh_object base;
	int memfd;
	uint64_t length;                /* bytes of the memory object (whole pages) */
	char *map;                      /* the emulator's mapping */
	uint32_t ring_shift;
	uint32_t num_chunks;
	uint64_t chunk_size;
	uint64_t chunks_offset;
	uint64_t chunk_stride;

	uint32_t current_index;         /* next ring slot to take a chunk from */
	uint32_t progress;              /* bytes written into the current chunk */
	bool have_chunk;
	uint32_t chunk;                 /* current chunk number */
	bool broken;                    /* the program broke the head contract: drops elements */
	bool destroyed;                 /* freed once head_wait has ended */

	struct hh_completion *head, **tail;
	struct hh_watcher head_wait;    /* waiting for the program to supply a chunk */

	uint64_t next_async_id;
	struct hh_async **async_buckets; /* pending cancellable operations, by id */
	size_t async_mask;              /* buckets - 1 (a power of two) */
	size_t async_count;
	struct hh_account *account;     /* charged for the memfd and its bytes, or NULL */
	uint64_t posts;                 /* results posted so far (hh_queue_posts) */
};

/*
 * How many results have been posted to q: a caller whose submission's
 * queue got none meanwhile will wait for its result (src/host/trap.c).
 */
uint64_t hh_queue_posts(const struct hh_queue *q);

/* Checks and creates; kHelErrIllegalArgs / kHelErrNoMemory on failure. */
HelError hh_queue_create(const struct HelQueueParameters *params, struct hh_queue **out);

/* Charge q to account from now on; kHelErrNoMemory (charging nothing) over a limit. */
struct hh_account;
HelError hh_queue_charge(struct hh_queue *q, struct hh_account *account);

/* kHelErrQueueTooSmall unless a payload of n bytes always fits one chunk. */
HelError hh_queue_check_size(const struct hh_queue *q, size_t n);

struct hh_completion *hh_completion_new(size_t capacity, uint64_t context);
/* Append one result piece, padded to 8 bytes (capacity reserved at creation). */
void hh_completion_add(struct hh_completion *c, const void *data, size_t len);
/*
 * Hand a completion to the queue; it appears once the program supplies a
 * chunk.  A broken queue frees it at once.
 */
void hh_queue_post(struct hh_queue *q, struct hh_completion *c);
/* Post a HelSimpleResult. Returns false if no memory for the element. */
bool hh_queue_post_simple(struct hh_queue *q, uint64_t context, HelError error);

/* Register a cancellable operation and return its id; O(1), cannot fail. */
uint64_t hh_queue_add_async(struct hh_queue *q, struct hh_async *a);
void hh_queue_remove_async(struct hh_queue *q, struct hh_async *a);
/* Cancel the operation with that id if it is pending; O(1) on average. */
HelError hh_queue_cancel(struct hh_queue *q, uint64_t id);

static inline struct hh_queue *hh_queue_of(struct hh_object *obj)
{
	return (struct hh_queue *)obj;
}

#endif
