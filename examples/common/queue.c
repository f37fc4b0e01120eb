/* The examples' completion queue; see queue.h. */
#include "queue.h"

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

static struct HelChunk *chunk(struct queue *q, int n)
{
	return (struct HelChunk *)(q->chunks + (size_t)n * q->stride);
}

/* Hand chunk n to the kernel (QUEUES.md §2). */
static void supply(struct queue *q, int n)
{
	chunk(q, n)->progressFutex = 0;
	q->head->indexQueue[q->next_supply & q->ring_mask] = n;
	q->next_supply = (q->next_supply + 1) & kHelHeadMask;
	int old = __atomic_exchange_n(&q->head->headFutex, q->next_supply, __ATOMIC_RELEASE);
	if (old & kHelHeadWaiters)
		HEL_CHECK(helFutexWake(&q->head->headFutex));
}

void queue_open(struct queue *q, unsigned num_chunks, size_t chunk_size)
{
	/* One ring slot per chunk is all a reader that recycles in order needs. */
	unsigned ring_shift = 0;
	while ((1u << ring_shift) < num_chunks)
		ring_shift++;
	struct HelQueueParameters params = {
		.flags = 0, .ringShift = ring_shift, .numChunks = num_chunks, .chunkSize = chunk_size,
	};
	HEL_CHECK(helCreateQueue(&params, &q->handle));
	size_t chunks_offset = round_up(8 + 4 * ((size_t)1 << ring_shift), 64);
	q->stride = round_up(8 + chunk_size, 64);
	q->mapped = round_up(chunks_offset + num_chunks * q->stride, 4096);
	void *base;
	HEL_CHECK(helMapMemory(q->handle, kHelNullHandle, NULL, 0, q->mapped,
			kHelMapProtRead | kHelMapProtWrite, &base));
	q->head = base;
	q->chunks = (char *)base + chunks_offset;
	q->ring_mask = (1u << ring_shift) - 1;
	q->next_supply = q->retrieve = q->consumed = 0;
	for (unsigned n = 0; n < num_chunks; n++)
		supply(q, (int)n);
}

/* The consumer side of QUEUES.md §3. */
struct HelElement *queue_next(struct queue *q)
{
	for (;;) {
		int n = q->head->indexQueue[q->retrieve & q->ring_mask];
		struct HelChunk *c = chunk(q, n);
		int word = __atomic_load_n(&c->progressFutex, __ATOMIC_ACQUIRE);
		if ((word & kHelProgressMask) != q->consumed) {
			struct HelElement *e = (struct HelElement *)(c->buffer + q->consumed);
			q->consumed += (int)sizeof(*e) + (int)e->length;
			return e;
		}
		if (word & kHelProgressDone) {
			/* Everything in this chunk was read: recycle it. */
			q->retrieve = (q->retrieve + 1) & kHelHeadMask;
			q->consumed = 0;
			supply(q, n);
			continue;
		}
		if (!(word & kHelProgressWaiters) && !__atomic_compare_exchange_n(&c->progressFutex,
				&word, q->consumed | kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;
		HEL_CHECK(helFutexWait(&c->progressFutex, q->consumed | kHelProgressWaiters,
				kHelWaitInfinite));
	}
}

void queue_close(struct queue *q)
{
	HEL_CHECK(helUnmapMemory(kHelNullHandle, q->head, q->mapped));
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, q->handle));
}
