/*
 * helhost-queue.h: a ready-made reader for Hel completion queues, part of
 * libhel (helhost's extensions, all named helhost_*).
 *
 * Every asynchronous Hel call completes by writing one element into a
 * queue that the program maps and reads itself; docs/GUIDE.md (installed
 * as share/doc/helhost/GUIDE.md) explains that protocol.  With this
 * helper a program does not have to write it:
 *
 *     struct helhost_queue q;
 *     HEL_CHECK(helhost_queue_open(&q, 4, 4096));
 *     HEL_CHECK(helSubmitAsyncNop(q.handle, 42));
 *     struct HelElement *e;
 *     HEL_CHECK(helhost_queue_next(&q, kHelWaitInfinite, &e));
 *     struct helhost_results r = helhost_results_of(e);
 *     struct HelSimpleResult *nop = helhost_take_simple(&r);
 *     ...
 *     HEL_CHECK(helhost_queue_close(&q));
 *
 * One thread reads a queue (any thread may submit to it).  An element, and
 * everything helhost_take_* returns from it, stays valid until the next
 * helhost_queue_next or helhost_queue_close on the same queue: then the
 * chunk it lies in may go back to the kernel and be overwritten.  Copy what
 * you need to keep.
 */
#ifndef HELHOST_QUEUE_H
#define HELHOST_QUEUE_H

#include "hel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An open queue.  Only handle is for the program: submit operations to it. */
struct helhost_queue {
	HelHandle handle;
	/* The reader's state; set by helhost_queue_open, not to be touched. */
	struct HelQueue *head;      /* start of the queue's mapping; NULL once closed */
	char *chunks;               /* chunk 0 */
	size_t stride;              /* bytes from one chunk to the next */
	size_t mapped;              /* bytes mapped at head */
	size_t chunk_size;
	unsigned int num_chunks;
	unsigned int ring_mask;
	int next_supply;            /* ring slots filled so far (mod 2^24) */
	int retrieve;               /* ring slot of the chunk being read */
	int consumed;               /* bytes of that chunk already read */
};

/*
 * Create a queue of num_chunks chunks of chunk_size payload bytes, map it
 * and hand every chunk to the kernel.  An element takes 16 bytes plus its
 * results, so chunk_size bounds what one operation may return (a
 * helSubmitAsync that could need more fails with kHelErrQueueTooSmall);
 * 4 chunks of 4096 bytes suit most programs.  Errors: those of
 * helCreateQueue (kHelErrIllegalArgs for zero chunks, chunks under 24 bytes
 * or of 16 MiB and more, more than 2^24 chunks; kHelErrNoMemory over the
 * limits) and of helMapMemory; kHelErrFault if q is NULL.  Nothing is left
 * behind when it fails.
 */
HEL_API HelError helhost_queue_open(struct helhost_queue *q, unsigned int num_chunks,
		size_t chunk_size);

/*
 * Wait for the next element, until deadline (helGetClock nanoseconds;
 * kHelWaitInfinite waits for ever, 0 only looks).  *element gets the
 * element, or NULL when the deadline passed first: then the result is
 * kHelErrCancelled.  Before it waits or gives up it hands the emulator the
 * submissions this thread queued without a trap, so that even a look (0)
 * finds what they completed at once, as it would after trapped ones.
 * Chunks the reader has moved past go back to the kernel here.  kHelErrFault if q or element is NULL; kHelErrIllegalArgs if q is
 * not open or its memory was unmapped; kHelErrIllegalState if the queue's
 * memory no longer makes sense (someone else wrote into it).
 */
HEL_API HelError helhost_queue_next(struct helhost_queue *q, int64_t deadline,
		struct HelElement **element);

/*
 * Unmap the queue and close its handle.  Operations still pending on it
 * are not cancelled; their elements are lost.  kHelErrIllegalArgs if q is
 * not open.
 */
HEL_API HelError helhost_queue_close(struct helhost_queue *q);

/* A deadline ns nanoseconds from now, for helhost_queue_next and helhost_lookup. */
HEL_API int64_t helhost_deadline_after(uint64_t ns);

/*
 * A cursor over an element's results.  The payload holds one result per
 * operation, or for helSubmitAsync one per action in the order of the
 * action array (ancillary actions included, where they stand in the
 * array).  Each helhost_take_* returns the next result as that type and
 * moves past it, or returns NULL and stays put if the element has no such
 * result left (a wrong guess of the layout, never a fault).
 */
struct helhost_results {
	char *at;
	char *end;
};

#ifdef __cplusplus
#define HELHOST_INLINE inline
#else
#define HELHOST_INLINE static inline
#endif

HELHOST_INLINE struct helhost_results helhost_results_of(struct HelElement *e)
{
	char *payload = (char *)(e + 1);
	struct helhost_results r = { payload, payload + e->length };
	return r;
}

/* Results are 8-byte aligned and padded to multiples of 8. */
HELHOST_INLINE void *helhost_take(struct helhost_results *r, size_t size)
{
	size_t padded = (size + 7) & ~(size_t)7;
	if ((size_t)(r->end - r->at) < padded)
		return 0;
	void *result = r->at;
	r->at += padded;
	return result;
}

/* Nop, clock, read/write memory, protect, synchronize; the actions Dismiss,
   SendFromBuffer(Sg), PushDescriptor and ImbueCredentials. */
HELHOST_INLINE struct HelSimpleResult *helhost_take_simple(struct helhost_results *r)
{
	return (struct HelSimpleResult *)helhost_take(r, sizeof(struct HelSimpleResult));
}

/* Offer, Accept, PullDescriptor; helSubmitLockMemoryView; helhost_submit_lookup. */
HELHOST_INLINE struct HelHandleResult *helhost_take_handle(struct helhost_results *r)
{
	return (struct HelHandleResult *)helhost_take(r, sizeof(struct HelHandleResult));
}

/* RecvToBuffer: the bytes that arrived in the buffer. */
HELHOST_INLINE struct HelLengthResult *helhost_take_length(struct helhost_results *r)
{
	return (struct HelLengthResult *)helhost_take(r, sizeof(struct HelLengthResult));
}

/* RecvInline: the header, then length bytes of data inside the element. */
HELHOST_INLINE struct HelInlineResult *helhost_take_inline(struct helhost_results *r)
{
	struct helhost_results probe = *r;
	struct HelInlineResultNoFlex *head = (struct HelInlineResultNoFlex *)
			helhost_take(&probe, sizeof(struct HelInlineResultNoFlex));
	if (!head || head->length > (size_t)(probe.end - probe.at) || !helhost_take(&probe, head->length))
		return 0;
	*r = probe;
	return (struct HelInlineResult *)(void *)head;
}

/* ExtractCredentials. */
HELHOST_INLINE struct HelCredentialsResult *helhost_take_credentials(struct helhost_results *r)
{
	return (struct HelCredentialsResult *)helhost_take(r, sizeof(struct HelCredentialsResult));
}

/* helSubmitAwaitEvent. */
HELHOST_INLINE struct HelEventResult *helhost_take_event(struct helhost_results *r)
{
	return (struct HelEventResult *)helhost_take(r, sizeof(struct HelEventResult));
}

/* helSubmitObserve. */
HELHOST_INLINE struct HelObserveResult *helhost_take_observe(struct helhost_results *r)
{
	return (struct HelObserveResult *)helhost_take(r, sizeof(struct HelObserveResult));
}

#ifdef __cplusplus
}
#endif

#endif
