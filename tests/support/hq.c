#include "hq.h"

static size_t round_up(size_t x, size_t to)
{
	return (x + to - 1) / to * to;
}

static struct HelChunk *chunk(struct hq *q, int n)
{
	return (struct HelChunk *)(q->chunks + (size_t)n * q->stride);
}

static void supply(struct hq *q, int n)
{
	chunk(q, n)->progressFutex = 0;
	q->queue->indexQueue[q->next_supply & q->ring_mask] = n;
	q->next_supply = (q->next_supply + 1) & kHelHeadMask;
	/* Release: the ring slot before the head that covers it. */
	int old = __atomic_exchange_n(&q->queue->headFutex, q->next_supply, __ATOMIC_RELEASE);
	if (old & kHelHeadWaiters)
		helFutexWake(&q->queue->headFutex);
}

HelError hq_open(struct hq *q, unsigned ring_shift, unsigned num_chunks, size_t chunk_size)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = ring_shift,
		.numChunks = num_chunks, .chunkSize = chunk_size };
	HelError e = helCreateQueue(&params, &q->handle);
	if (e)
		return e;
	size_t chunks_offset = round_up(8 + 4 * ((size_t)1 << ring_shift), 64);
	q->stride = round_up(8 + chunk_size, 64);
	q->mapped = round_up(chunks_offset + num_chunks * q->stride, 4096);
	void *base;
	e = helMapMemory(q->handle, kHelNullHandle, NULL, 0, q->mapped,
			kHelMapProtRead | kHelMapProtWrite, &base);
	if (e)
		return e;
	q->queue = base;
	q->chunks = (char *)base + chunks_offset;
	q->ring_mask = (1u << ring_shift) - 1;
	q->num_chunks = num_chunks;
	q->next_supply = q->retrieve = q->consumed = 0;
	for (unsigned n = 0; n < num_chunks; n++)
		supply(q, (int)n);
	return kHelErrNone;
}

struct HelElement *hq_next(struct hq *q, int64_t deadline)
{
	for (;;) {
		int n = q->queue->indexQueue[q->retrieve & q->ring_mask];
		struct HelChunk *c = chunk(q, n);
		int word = __atomic_load_n(&c->progressFutex, __ATOMIC_ACQUIRE);
		if ((word & kHelProgressMask) != q->consumed) {
			struct HelElement *e = (struct HelElement *)(c->buffer + q->consumed);
			q->consumed += (int)sizeof(*e) + (int)e->length;
			return e;
		}
		if (word & kHelProgressDone) {
			q->retrieve = (q->retrieve + 1) & kHelHeadMask;
			q->consumed = 0;
			supply(q, n);
			continue;
		}
		if (!(word & kHelProgressWaiters) && !__atomic_compare_exchange_n(&c->progressFutex,
				&word, q->consumed | kHelProgressWaiters, 0, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			continue;
		if (deadline >= 0) {
			uint64_t now;
			helGetClock(&now);
			if ((int64_t)now >= deadline)
				return NULL;
		}
		helFutexWait(&c->progressFutex, q->consumed | kHelProgressWaiters, deadline);
	}
}

void hq_close(struct hq *q)
{
	helUnmapMemory(kHelNullHandle, q->queue, q->mapped);
	helCloseDescriptor(kHelThisUniverse, q->handle);
}

int64_t hq_deadline_ms(int64_t ms)
{
	uint64_t now;
	helGetClock(&now);
	return (int64_t)now + ms * 1000000;
}
