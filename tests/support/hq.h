/*
 * A small completion-queue client for tests and benchmarks: creates and maps
 * a queue, keeps every chunk supplied, and hands out elements in order.
 * Single-threaded; a chunk is recycled as soon as the kernel retires it, so
 * an element's payload is valid until the next hq_next() call that crosses
 * into a new chunk.
 */
#ifndef HH_TEST_HQ_H
#define HH_TEST_HQ_H

#include <hel.h>
#include <stddef.h>
#include <stdint.h>

struct hq {
	HelHandle handle;
	struct HelQueue *queue;
	char *chunks;
	size_t stride;
	size_t mapped;
	unsigned ring_mask;
	unsigned num_chunks;
	int next_supply;
	int retrieve;
	int consumed;
};

/* Create and map a queue; returns the first error. */
HelError hq_open(struct hq *q, unsigned ring_shift, unsigned num_chunks, size_t chunk_size);
/* Wait (up to deadline ns, or -1) for the next element; NULL on timeout. */
struct HelElement *hq_next(struct hq *q, int64_t deadline);
/* The element's payload. */
static inline void *hq_payload(struct HelElement *e)
{
	return e + 1;
}
/* Unmap and close. */
void hq_close(struct hq *q);

/* helGetClock() + ms milliseconds. */
int64_t hq_deadline_ms(int64_t ms);

#endif
