/*
 * The completion-queue reader of include/helhost-queue.h: a program-side
 * helper built only on public Hel calls, kept in libhel so that C users
 * need not write the head and progress protocol themselves.
 */
#include <sys/mman.h>

#include "helhost.h"
#include "shim.h"

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

static struct HelChunk *chunk_at(const struct helhost_queue *q, int n)
{
	return (struct HelChunk *)(q->chunks + (size_t)n * q->stride);
}

/* Hand chunk n (back) to the kernel through the next ring slot. */
static HelError supply(struct helhost_queue *q, int n)
{
	chunk_at(q, n)->progressFutex = 0;
	q->head->indexQueue[q->next_supply & (int)q->ring_mask] = n;
	q->next_supply = (q->next_supply + 1) & kHelHeadMask;
	/* Release: the kernel must see the slot and the reset progress word
	   before the new head; the exchange also clears its waiters bit. */
	int old = __atomic_exchange_n(&q->head->headFutex, q->next_supply, __ATOMIC_RELEASE);
	return (old & kHelHeadWaiters) ? helFutexWake(&q->head->headFutex) : kHelErrNone;
}

/* One ring slot per chunk: this reader recycles chunks in order, so never
   more than num_chunks slots are outstanding. */
static unsigned int ring_shift_for(unsigned int num_chunks)
{
	unsigned int shift = 0;
	while (shift < 31 && (1u << shift) < num_chunks)
		shift++;
	return shift;
}

HelError helhost_queue_open(struct helhost_queue *q, unsigned int num_chunks, size_t chunk_size)
{
	if (!q)
		return kHelErrFault;
	q->head = NULL;
	q->handle = kHelNullHandle;
	unsigned int shift = ring_shift_for(num_chunks);
	struct HelQueueParameters params = {
		.flags = 0, .ringShift = shift, .numChunks = num_chunks, .chunkSize = chunk_size,
	};
	HelHandle handle;
	HelError e = helCreateQueue(&params, &handle);
	if (e)
		return e;
	/* The emulator accepted the sizes, so none of this overflows. */
	size_t chunks_offset = round_up(8 + 4 * ((size_t)1 << shift), 64);
	size_t stride = round_up(8 + chunk_size, 64);
	size_t mapped = round_up(chunks_offset + num_chunks * stride, 4096);
	void *base;
	e = helMapMemory(handle, kHelNullHandle, NULL, 0, mapped,
			kHelMapProtRead | kHelMapProtWrite, &base);
	if (e) {
		helCloseDescriptor(kHelThisUniverse, handle);
		return e;
	}
	*q = (struct helhost_queue){
		.handle = handle, .head = base, .chunks = (char *)base + chunks_offset,
		.stride = stride, .mapped = mapped, .chunk_size = chunk_size,
		.num_chunks = num_chunks, .ring_mask = (1u << shift) - 1,
	};
	for (unsigned int n = 0; n < num_chunks && !e; n++)
		e = supply(q, (int)n);
	if (e)
		helhost_queue_close(q);
	return e;
}

/* The queue is open and its memory is still the mapping we made. */
static bool still_mapped(const struct helhost_queue *q)
{
	uint32_t prot;
	return q->head && hh_shim_maps_lookup(HH_U(q->head), q->mapped, &prot) &&
			(prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE);
}

/* Sleep on the progress word until it moves from `seen` or the deadline passes. */
static HelError wait_progress(struct HelChunk *c, int seen, int consumed, int64_t deadline)
{
	if (!(seen & kHelProgressWaiters) && !__atomic_compare_exchange_n(&c->progressFutex,
			&seen, consumed | kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
		return kHelErrNone;     /* the kernel wrote meanwhile: look again */
	return helFutexWait(&c->progressFutex, consumed | kHelProgressWaiters, deadline);
}

static bool deadline_passed(int64_t deadline)
{
	uint64_t now;
	return deadline != kHelWaitInfinite && (helGetClock(&now) || now >= (uint64_t)deadline);
}

HelError helhost_queue_next(struct helhost_queue *q, int64_t deadline, struct HelElement **element)
{
	if (!q || !element)
		return kHelErrFault;
	*element = NULL;
	if (!still_mapped(q))
		return kHelErrIllegalArgs;
	bool flushed = false;
	for (;;) {
		int n = q->head->indexQueue[q->retrieve & (int)q->ring_mask];
		if (n < 0 || (unsigned int)n >= q->num_chunks)
			return kHelErrIllegalState;
		struct HelChunk *c = chunk_at(q, n);
		/* Acquire: the element's bytes were written before its progress. */
		int word = __atomic_load_n(&c->progressFutex, __ATOMIC_ACQUIRE);
		int progress = word & kHelProgressMask;
		if (progress != q->consumed) {
			struct HelElement *e = (struct HelElement *)(c->buffer + q->consumed);
			size_t end = (size_t)q->consumed + sizeof(*e) + e->length;
			if (progress < q->consumed || end > (size_t)progress || (e->length & 7))
				return kHelErrIllegalState;
			q->consumed = (int)end;
			*element = e;
			return kHelErrNone;
		}
		if (word & kHelProgressDone) {
			/* Everything the kernel wrote here was read, and the caller has
			   asked for more: the chunk's elements are no longer in use. */
			q->retrieve = (q->retrieve + 1) & kHelHeadMask;
			q->consumed = 0;
			HelError e = supply(q, n);
			if (e)
				return e;
			continue;
		}
		/*
		 * Our posted submissions drained before we say we wait: an element
		 * they complete then finds no waiter to wake (a futex wake, ~0.4 µs
		 * of the emulator's, saved; docs/PERFORMANCE.md).  Once: an
		 * abandoned ring stays undrained.
		 */
		if (!flushed) {
			flushed = true;
			if (hh_shim_ring_flush())
				continue;
		}
		if (deadline_passed(deadline))
			return kHelErrCancelled;
		HelError e = wait_progress(c, word, q->consumed, deadline);
		if (e)
			return e;
	}
}

HelError helhost_queue_close(struct helhost_queue *q)
{
	if (!q)
		return kHelErrFault;
	if (!still_mapped(q))
		return kHelErrIllegalArgs;
	HelError e = helUnmapMemory(kHelNullHandle, q->head, q->mapped);
	HelError closed = helCloseDescriptor(kHelThisUniverse, q->handle);
	q->head = NULL;
	q->handle = kHelNullHandle;
	return e ? e : closed;
}

int64_t helhost_deadline_after(uint64_t ns)
{
	return (int64_t)(hh_shim_now() + ns);
}
