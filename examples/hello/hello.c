/*
 * hello: the first program to run under helhost.
 *
 * It creates a completion queue, maps it, submits three async nops and two
 * clock waits, cancels one of the waits, and prints every element that
 * comes back.  Run it with the trace on to see each Hel call:
 *
 *     helhost run --trace ./hello        (or: HELHOST_TRACE=1 ./hello)
 */
#include <hel.h>
#include <stdio.h>

/* A small queue: 512 ring slots, 4 chunks of 1 KiB. */
enum { RING_SHIFT = 9, NUM_CHUNKS = 4, CHUNK_SIZE = 1024 };

struct queue {
	HelHandle handle;
	struct HelQueue *head;      /* start of the queue memory */
	char *chunks;
	size_t stride;              /* bytes from one chunk to the next */
	int next_supply;            /* ring slots filled so far */
	int retrieve;               /* ring slot being read */
	int consumed;               /* bytes of the current chunk already read */
};

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
	q->head->indexQueue[q->next_supply & ((1 << RING_SHIFT) - 1)] = n;
	q->next_supply = (q->next_supply + 1) & kHelHeadMask;
	int old = __atomic_exchange_n(&q->head->headFutex, q->next_supply, __ATOMIC_RELEASE);
	if (old & kHelHeadWaiters)
		HEL_CHECK(helFutexWake(&q->head->headFutex));
}

static void queue_open(struct queue *q)
{
	struct HelQueueParameters params = {
		.flags = 0, .ringShift = RING_SHIFT, .numChunks = NUM_CHUNKS, .chunkSize = CHUNK_SIZE,
	};
	HEL_CHECK(helCreateQueue(&params, &q->handle));
	size_t chunks_offset = round_up(8 + 4 * (1 << RING_SHIFT), 64);
	q->stride = round_up(8 + CHUNK_SIZE, 64);
	size_t size = round_up(chunks_offset + NUM_CHUNKS * q->stride, 4096);
	void *base;
	HEL_CHECK(helMapMemory(q->handle, kHelNullHandle, NULL, 0, size,
			kHelMapProtRead | kHelMapProtWrite, &base));
	q->head = base;
	q->chunks = (char *)base + chunks_offset;
	q->next_supply = q->retrieve = q->consumed = 0;
	for (int n = 0; n < NUM_CHUNKS; n++)
		supply(q, n);
}

/* Wait for the next element (QUEUES.md §3, the consumer side). */
static struct HelElement *queue_next(struct queue *q)
{
	for (;;) {
		int n = q->head->indexQueue[q->retrieve & ((1 << RING_SHIFT) - 1)];
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

static const char *error_text(HelError e)
{
	const char *s = _helErrorString(e);
	return s ? s : "(unknown)";
}

int main(void)
{
	struct queue q;
	queue_open(&q);

	for (uintptr_t i = 1; i <= 3; i++)
		HEL_CHECK(helSubmitAsyncNop(q.handle, i));

	uint64_t now, kept_id, cancelled_id;
	HEL_CHECK(helGetClock(&now));
	HEL_CHECK(helSubmitAwaitClock(now + 20 * 1000 * 1000, q.handle, 100, &kept_id));
	HEL_CHECK(helSubmitAwaitClock(now + 60ull * 1000 * 1000 * 1000, q.handle, 200, &cancelled_id));
	HEL_CHECK(helCancelAsync(q.handle, cancelled_id));

	/* 3 nops + 2 clock waits = 5 elements; the cancelled wait comes back at once. */
	for (int i = 0; i < 5; i++) {
		struct HelElement *e = queue_next(&q);
		struct HelSimpleResult *r = (struct HelSimpleResult *)(e + 1);
		uintptr_t context = (uintptr_t)e->context;
		const char *what = context < 100 ? "async nop" :
				context == 100 ? "clock wait (20 ms)" : "clock wait (60 s, cancelled)";
		printf("element %d: context %3lu  %-28s -> %s\n", i + 1, (unsigned long)context,
				what, error_text(r->error));
	}
	uint64_t later;
	HEL_CHECK(helGetClock(&later));
	printf("done in %.1f ms\n", (double)(later - now) / 1e6);
	HEL_CHECK(helCloseDescriptor(kHelThisUniverse, q.handle));
	return 0;
}
