/*
 * A completion queue for the examples (QUEUES.md §1-§3), single-threaded:
 * open it, submit operations to q.handle, and take the elements one by one.
 *
 * A chunk goes back to the kernel as soon as the reader has moved past it,
 * so an element (and its payload) stays valid until the next queue_next().
 *
 * The payload of a helSubmitAsync element is one result per action, in the
 * order of the action array (QUEUES.md §7.2); struct results walks it.
 */
#ifndef EXAMPLES_QUEUE_H
#define EXAMPLES_QUEUE_H

#include <hel.h>
#include <stddef.h>
#include <stdint.h>

struct queue {
	HelHandle handle;
	struct HelQueue *head;
	char *chunks;
	size_t stride;              /* bytes from one chunk to the next */
	size_t mapped;
	unsigned ring_mask;
	int next_supply;            /* ring slots filled so far */
	int retrieve;               /* ring slot being read */
	int consumed;               /* bytes of the current chunk already read */
};

/* Create and map a queue of num_chunks chunks of chunk_size bytes. */
void queue_open(struct queue *q, unsigned num_chunks, size_t chunk_size);
/* Wait for the next element. */
struct HelElement *queue_next(struct queue *q);
void queue_close(struct queue *q);

/* A cursor over an element's payload. */
struct results {
	char *at;
};

static inline struct results results_of(struct HelElement *e)
{
	return (struct results){ (char *)(e + 1) };
}

/* Offer, Accept, PullDescriptor. */
static inline struct HelHandleResult *take_handle(struct results *r)
{
	struct HelHandleResult *h = (struct HelHandleResult *)r->at;
	r->at += sizeof(*h);
	return h;
}

/* SendFromBuffer, PushDescriptor, ... */
static inline struct HelSimpleResult *take_simple(struct results *r)
{
	struct HelSimpleResult *s = (struct HelSimpleResult *)r->at;
	r->at += sizeof(*s);
	return s;
}

/* RecvToBuffer. */
static inline struct HelLengthResult *take_length(struct results *r)
{
	struct HelLengthResult *l = (struct HelLengthResult *)r->at;
	r->at += sizeof(*l);
	return l;
}

/* RecvInline: the header, then length data bytes padded to 8. */
static inline struct HelInlineResult *take_inline(struct results *r)
{
	struct HelInlineResult *i = (struct HelInlineResult *)r->at;
	r->at += sizeof(struct HelInlineResultNoFlex) + (i->length + 7) / 8 * 8;
	return i;
}

static inline const char *error_text(HelError e)
{
	const char *s = _helErrorString(e);
	return s ? s : "(unknown error)";
}

/* helGetClock in nanoseconds. */
static inline uint64_t clock_ns(void)
{
	uint64_t now;
	HEL_CHECK(helGetClock(&now));
	return now;
}

#endif
