/*
 * The completion-queue writer (src/objects/queue.c), linked directly.  The test plays
 * the program: it writes the head word and the index ring into the queue's
 * memory itself and reads the elements back (QUEUES.md §1-§5, §8-§9).
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop.h"
#include "object.h"
#include "queue.h"

/* ---- the program's side of the protocol ---- */

struct prog {
	struct hh_queue *q;
	uint32_t next;          /* the program's private copy of the head */
};

static struct HelQueue *queue_head(struct hh_queue *q)
{
	return (struct HelQueue *)q->map;
}

static struct HelChunk *chunk(struct hh_queue *q, uint32_t cn)
{
	return (struct HelChunk *)(q->map + q->chunks_offset + (uint64_t)cn * q->chunk_stride);
}

static int head_word(struct hh_queue *q)
{
	return __atomic_load_n(&queue_head(q)->headFutex, __ATOMIC_ACQUIRE);
}

static int progress(struct hh_queue *q, uint32_t cn)
{
	return __atomic_load_n(&chunk(q, cn)->progressFutex, __ATOMIC_ACQUIRE);
}

static struct HelElement *element(struct hh_queue *q, uint32_t cn, uint32_t offset)
{
	return (struct HelElement *)(chunk(q, cn)->buffer + offset);
}

static struct HelSimpleResult *simple(struct HelElement *e)
{
	return (struct HelSimpleResult *)(e + 1);
}

/* Supply chunk cn (QUEUES.md §2; a bad cn is written to the ring as is); returns the old head word. */
static int supply(struct prog *p, int cn)
{
	struct hh_queue *q = p->q;
	if (cn >= 0 && (uint32_t)cn < q->num_chunks)
		chunk(q, (uint32_t)cn)->progressFutex = 0;
	queue_head(q)->indexQueue[p->next & ((1u << q->ring_shift) - 1)] = cn;
	p->next = (p->next + 1) & (uint32_t)kHelHeadMask;
	return __atomic_exchange_n(&queue_head(q)->headFutex, (int)p->next, __ATOMIC_RELEASE);
}

static struct hh_queue *new_queue(unsigned ring_shift, unsigned num_chunks, size_t chunk_size)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = ring_shift,
		.numChunks = num_chunks, .chunkSize = chunk_size };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	ck_assert_ptr_nonnull(q);
	return q;
}

static void drop_queue(struct hh_queue *q)
{
	hh_object_unref(&q->base);
	ck_assert(hh_object_reap());
}

static void check_simple(struct hh_queue *q, uint32_t cn, uint32_t offset, uint64_t context,
		HelError error)
{
	struct HelElement *e = element(q, cn, offset);
	ck_assert_uint_eq(e->length, sizeof(struct HelSimpleResult));
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq((uintptr_t)e->context, context);
	ck_assert_int_eq(simple(e)->error, error);
	ck_assert_int_eq(simple(e)->reserved, 0);
}

/* Each element of a HelSimpleResult takes 16 + 8 bytes. */
#define SIMPLE_ELEMENT 24

/* ---- the loop, for the tests that let the kernel wait on the head ---- */

static void loop_setup(void)
{
	ck_assert_int_eq(hh_loop_init(), 0);
}

static void loop_teardown(void)
{
	hh_loop_fini();
}

/* Counts the runs of a queue's head_wait callback, then runs the real one. */
static void (*real_head_woken)(struct hh_watcher *w, int res);
static int head_wakes;
static int head_wake_res;

static void counting_head_woken(struct hh_watcher *w, int res)
{
	head_wakes++;
	head_wake_res = res;
	real_head_woken(w, res);        /* may free the queue */
}

static void count_head_wakes(struct hh_queue *q)
{
	real_head_woken = q->head_wait.cb;
	q->head_wait.cb = counting_head_woken;
	head_wakes = 0;
}

static int wakes_wanted;

static bool enough_wakes(void)
{
	return head_wakes >= wakes_wanted;
}

/* Run the event loop until the head_wait callback ran n more times. */
static void run_until_head_woken(int n)
{
	wakes_wanted = head_wakes + n;
	ck_assert_int_eq(hh_loop_run(enough_wakes), 0);
}

/* What the loop does when the futex wait completes: the pump path, by hand. */
static void complete_head_wait(struct hh_queue *q, int res)
{
	ck_assert(q->head_wait.armed);
	q->head_wait.armed = false;
	q->head_wait.cb(&q->head_wait, res);
}

/* ---- creation ---- */

START_TEST(test_queue_object_create_layout)
{
	/* should succeed: the layout of QUEUES.md §1.1 */
	struct hh_queue *q = new_queue(2, 2, 64);
	ck_assert_int_eq(hh_object_type(&q->base), HH_OBJ_QUEUE);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->ring_shift, 2);
	ck_assert_uint_eq(q->num_chunks, 2);
	ck_assert_uint_eq(q->chunk_size, 64);
	ck_assert_uint_eq(q->chunks_offset, 64);
	ck_assert_uint_eq(q->chunk_stride, 128);
	ck_assert_uint_eq(q->length, 4096);
	ck_assert_int_ge(q->memfd, 0);
	ck_assert_int_eq(lseek(q->memfd, 0, SEEK_END), 4096);
	for (size_t i = 0; i < q->length; i++)
		ck_assert_int_eq(q->map[i], 0);
	ck_assert_int_eq(head_word(q), 0);
	ck_assert(!q->have_chunk);
	ck_assert(!q->broken);
	drop_queue(q);

	/* should succeed: helix's parameters */
	q = new_queue(9, 16, 4096);
	ck_assert_uint_eq(q->chunks_offset, 2112);
	ck_assert_uint_eq(q->chunk_stride, 4160);
	ck_assert_uint_eq(q->length, 69632);
	drop_queue(q);

	/* should succeed: the smallest chunk size, a one-slot ring */
	q = new_queue(0, 1, 24);
	ck_assert_uint_eq(q->chunks_offset, 64);
	ck_assert_uint_eq(q->chunk_stride, 64);
	ck_assert_uint_eq(q->length, 4096);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_create_bad_params)
{
	struct hh_queue *q = NULL;
	struct HelQueueParameters p = { .flags = 1, .ringShift = 2, .numChunks = 1, .chunkSize = 64 };
	/* nonzero flags (should fail) */
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	/* no chunks, tiny chunks, huge chunks, huge ring (should fail) */
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 0, .chunkSize = 64 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = 23 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = 0 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = 1 << 24 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = SIZE_MAX };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 25, .numChunks = 1, .chunkSize = 64 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = UINT_MAX, .numChunks = 1, .chunkSize = 64 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrIllegalArgs);
	ck_assert_ptr_null(q);
}
END_TEST

START_TEST(test_queue_object_create_huge)
{
	struct hh_queue *q = NULL;
	/* absurd total size (should fail) */
	struct HelQueueParameters p = { .ringShift = 2, .numChunks = 0xffffffffu, .chunkSize = 4096 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNoMemory);
	/* 64 chunks of 16 MiB: just over 1 GiB with the ring (should fail) */
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 64,
		.chunkSize = (1u << 24) - 8 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNoMemory);
	/* the largest ring with large chunks (should fail) */
	p = (struct HelQueueParameters){ .ringShift = 24, .numChunks = 60,
		.chunkSize = (1u << 24) - 8 };
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNoMemory);
	ck_assert_ptr_null(q);
	/* should succeed: the largest ring with one small chunk */
	q = new_queue(24, 1, 64);
	ck_assert_uint_eq(q->chunks_offset, 8 + 4 * (1ull << 24) + 56);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_check_size)
{
	struct hh_queue *q = new_queue(2, 1, 64);
	/* should succeed: 16-byte header + n <= chunkSize */
	ck_assert_int_eq(hh_queue_check_size(q, 0), kHelErrNone);
	ck_assert_int_eq(hh_queue_check_size(q, 8), kHelErrNone);
	ck_assert_int_eq(hh_queue_check_size(q, 48), kHelErrNone);
	/* one byte more than fits (should fail) */
	ck_assert_int_eq(hh_queue_check_size(q, 49), kHelErrQueueTooSmall);
	ck_assert_int_eq(hh_queue_check_size(q, 64), kHelErrQueueTooSmall);
	ck_assert_int_eq(hh_queue_check_size(q, SIZE_MAX / 2), kHelErrQueueTooSmall);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_check_size_overflow)
{
	struct hh_queue *q = new_queue(2, 1, 64);
	/* sizes whose sum with the 16-byte header wraps around (should fail) */
	ck_assert_int_eq(hh_queue_check_size(q, SIZE_MAX - 15), kHelErrQueueTooSmall);
	ck_assert_int_eq(hh_queue_check_size(q, SIZE_MAX - 8), kHelErrQueueTooSmall);
	ck_assert_int_eq(hh_queue_check_size(q, SIZE_MAX), kHelErrQueueTooSmall);
	drop_queue(q);
}
END_TEST

/* ---- elements ---- */

START_TEST(test_queue_object_post_simple_layout)
{
	/* should succeed: simple results land one after another in the supplied chunk */
	struct hh_queue *q = new_queue(2, 2, 256);
	struct prog p = { .q = q };
	ck_assert_int_eq(supply(&p, 0), 0);
	ck_assert(hh_queue_post_simple(q, 0x1234, kHelErrNone));
	ck_assert(q->have_chunk);
	ck_assert_uint_eq(q->chunk, 0);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 0, 0x1234, kHelErrNone);
	ck_assert(hh_queue_post_simple(q, 0xffffffffffffffffull, kHelErrCancelled));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT);
	check_simple(q, 0, SIMPLE_ELEMENT, 0xffffffffffffffffull, kHelErrCancelled);
	/* the kernel never writes the head bits or a chunk it was not given */
	ck_assert_int_eq(head_word(q), 1);
	ck_assert_int_eq(progress(q, 1), 0);
	ck_assert_ptr_null(q->head);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_multi_piece_payload)
{
	/* should succeed: pieces padded to 8, concatenated in order */
	struct hh_queue *q = new_queue(2, 1, 256);
	struct prog p = { .q = q };
	/* the program's chunk holds junk from earlier use */
	memset(chunk(q, 0)->buffer, 0xAA, 256);
	supply(&p, 0);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));

	const char three[3] = { 'a', 'b', 'c' };
	uint64_t sixteen[2] = { 0x1122334455667788ull, 0x99aabbccddeeff00ull };
	const char five[5] = { 1, 2, 3, 4, 5 };
	struct hh_completion *c = hh_completion_new(8 + 16 + 8, 0xc0ffee);
	ck_assert_ptr_nonnull(c);
	hh_completion_add(c, three, sizeof(three));
	ck_assert_uint_eq(c->length, 8);
	hh_completion_add(c, sixteen, sizeof(sixteen));
	ck_assert_uint_eq(c->length, 24);
	hh_completion_add(c, five, sizeof(five));
	ck_assert_uint_eq(c->length, 32);
	hh_queue_post(q, c);

	uint32_t at = SIMPLE_ELEMENT;
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT + 16 + 32);
	struct HelElement *e = element(q, 0, at);
	ck_assert_uint_eq(e->length, 32);
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq((uintptr_t)e->context, 0xc0ffee);
	const unsigned char *payload = (const unsigned char *)(e + 1);
	ck_assert_mem_eq(payload, three, 3);
	for (int i = 3; i < 8; i++)
		ck_assert_uint_eq(payload[i], 0);
	ck_assert_mem_eq(payload + 8, sixteen, 16);
	ck_assert_mem_eq(payload + 24, five, 5);
	for (int i = 29; i < 32; i++)
		ck_assert_uint_eq(payload[i], 0);
	/* nothing written past the element */
	ck_assert_uint_eq((unsigned char)chunk(q, 0)->buffer[at + 16 + 32], 0xAA);
	/* payloads are 8-byte aligned */
	ck_assert_uint_eq((uintptr_t)payload % 8, 0);

	/* should succeed: an empty payload is a bare header */
	c = hh_completion_new(0, 77);
	ck_assert_ptr_nonnull(c);
	hh_queue_post(q, c);
	e = element(q, 0, at + 48);
	ck_assert_uint_eq(e->length, 0);
	ck_assert_uint_eq((uintptr_t)e->context, 77);
	ck_assert_int_eq(progress(q, 0), at + 48 + 16);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_done_bit_when_full)
{
	/* should succeed: an element that does not fit retires the chunk with Done */
	struct hh_queue *q = new_queue(2, 2, 64);
	struct prog p = { .q = q };
	supply(&p, 0);
	supply(&p, 1);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT);
	ck_assert_int_eq(progress(q, 1), 0);
	/* 48 + 24 > 64: the third goes to the next chunk */
	ck_assert(hh_queue_post_simple(q, 3, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT | kHelProgressDone);
	ck_assert_int_eq(progress(q, 1), SIMPLE_ELEMENT);
	check_simple(q, 0, 0, 1, kHelErrNone);
	check_simple(q, 0, SIMPLE_ELEMENT, 2, kHelErrNone);
	check_simple(q, 1, 0, 3, kHelErrNone);
	ck_assert_uint_eq(q->current_index, 1);
	ck_assert_uint_eq(q->chunk, 1);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_exact_fill_not_done)
{
	/* should succeed: a chunk filled exactly stays un-Done until the next element */
	struct hh_queue *q = new_queue(2, 2, 2 * SIMPLE_ELEMENT);
	struct prog p = { .q = q };
	supply(&p, 0);
	supply(&p, 1);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT);
	ck_assert(hh_queue_post_simple(q, 3, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT | kHelProgressDone);
	ck_assert_int_eq(progress(q, 1), SIMPLE_ELEMENT);
	check_simple(q, 1, 0, 3, kHelErrNone);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_ring_order)
{
	/* should succeed: chunks are used in ring order, not by number */
	struct hh_queue *q = new_queue(2, 3, SIMPLE_ELEMENT);
	struct prog p = { .q = q };
	supply(&p, 2);
	supply(&p, 0);
	supply(&p, 1);
	for (uint64_t i = 1; i <= 3; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	check_simple(q, 2, 0, 1, kHelErrNone);
	check_simple(q, 0, 0, 2, kHelErrNone);
	check_simple(q, 1, 0, 3, kHelErrNone);
	ck_assert_int_eq(progress(q, 2), SIMPLE_ELEMENT | kHelProgressDone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT | kHelProgressDone);
	ck_assert_int_eq(progress(q, 1), SIMPLE_ELEMENT);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_progress_waiters_cleared)
{
	/* should succeed: the kernel's exchange clears the program's waiters bit */
	struct hh_queue *q = new_queue(2, 2, 64);
	struct prog p = { .q = q };
	supply(&p, 0);
	supply(&p, 1);
	chunk(q, 0)->progressFutex = 0 | kHelProgressWaiters;
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	chunk(q, 0)->progressFutex = SIMPLE_ELEMENT | kHelProgressWaiters;
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT);
	/* and Done is published the same way */
	chunk(q, 0)->progressFutex = 2 * SIMPLE_ELEMENT | kHelProgressWaiters;
	ck_assert(hh_queue_post_simple(q, 3, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT | kHelProgressDone);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_recycled_chunk)
{
	/* should succeed: 100 elements through one recycled chunk with a two-slot ring */
	struct hh_queue *q = new_queue(1, 1, 2 * SIMPLE_ELEMENT);
	struct prog p = { .q = q };
	supply(&p, 0);
	uint32_t consumed = 0;
	uint64_t expect = 1;
	for (uint64_t i = 1; i <= 100; i++) {
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
		for (;;) {
			int w = progress(q, 0);
			if ((uint32_t)(w & kHelProgressMask) != consumed) {
				check_simple(q, 0, consumed, expect++, kHelErrNone);
				consumed += SIMPLE_ELEMENT;
				continue;
			}
			if (w & kHelProgressDone) {
				/* exhausted: hand it back; the kernel waits for it */
				ck_assert_ptr_nonnull(q->head);
				ck_assert(q->head_wait.armed);
				consumed = 0;
				int old = supply(&p, 0);
				ck_assert_int_eq(old & kHelHeadWaiters, kHelHeadWaiters);
				complete_head_wait(q, 0);
				continue;
			}
			break;
		}
	}
	ck_assert_uint_eq(expect, 101);
	ck_assert_ptr_null(q->head);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_head_wraps)
{
	/* should succeed: the head counts modulo 2^24 */
	struct hh_queue *q = new_queue(2, 2, 2 * SIMPLE_ELEMENT);
	struct prog p = { .q = q, .next = 0xFFFFFE };
	/* pretend 2^24 - 2 chunks were used already */
	q->current_index = 0xFFFFFE;
	queue_head(q)->headFutex = 0xFFFFFE;
	supply(&p, 0);                  /* slot 2, head 0xFFFFFF */
	supply(&p, 1);                  /* slot 3, head 0 */
	ck_assert_int_eq(head_word(q), 0);
	for (uint64_t i = 1; i <= 3; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	check_simple(q, 0, 0, 1, kHelErrNone);
	check_simple(q, 0, SIMPLE_ELEMENT, 2, kHelErrNone);
	check_simple(q, 1, 0, 3, kHelErrNone);
	ck_assert_uint_eq(q->current_index, 0xFFFFFF);
	ck_assert(hh_queue_post_simple(q, 4, kHelErrNone));
	ck_assert(hh_queue_post_simple(q, 5, kHelErrNone));
	ck_assert_uint_eq(q->current_index, 0);
	ck_assert(!q->broken);
	/* out of chunks right after the wrap: the kernel waits at head 0 */
	ck_assert(q->head_wait.armed);
	ck_assert_int_eq(head_word(q), 0 | kHelHeadWaiters);
	ck_assert_int_eq(supply(&p, 0), 0 | kHelHeadWaiters);  /* slot 0, head 1 */
	complete_head_wait(q, 0);
	ck_assert(!q->head_wait.armed);
	check_simple(q, 0, 0, 5, kHelErrNone);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	drop_queue(q);
}
END_TEST

/* ---- the waiters handshake ---- */

START_TEST(test_queue_object_waiters_bit_without_chunk)
{
	/* should succeed: no chunk → the kernel sets kHelHeadWaiters and waits */
	struct hh_queue *q = new_queue(2, 2, 256);
	struct prog p = { .q = q };
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert_int_eq(head_word(q), kHelHeadWaiters);
	ck_assert(q->head_wait.armed);
	ck_assert(!q->have_chunk);
	ck_assert_int_eq(progress(q, 0), 0);
	/* more completions stay pending */
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	ck_assert_int_eq(head_word(q), kHelHeadWaiters);
	ck_assert_int_eq(progress(q, 0), 0);
	/* a chunk supplied: the exchange clears the bit, and the old value shows it */
	int old = supply(&p, 0);
	ck_assert_int_eq(old, kHelHeadWaiters);
	ck_assert_int_eq(head_word(q), 1);
	/* while the wait is in flight, posting still does not write */
	ck_assert(hh_queue_post_simple(q, 3, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 0);
	ck_assert_ptr_nonnull(q->head);
	/* the wait completes: everything pending arrives in order */
	complete_head_wait(q, 0);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 0), 3 * SIMPLE_ELEMENT);
	for (uint64_t i = 0; i < 3; i++)
		check_simple(q, 0, (uint32_t)i * SIMPLE_ELEMENT, i + 1, kHelErrNone);
	ck_assert_ptr_null(q->head);
	ck_assert_int_eq(head_word(q), 1);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_waiters_spurious_wake)
{
	/* should succeed: a wake without a new chunk re-arms, the bit already set */
	struct hh_queue *q = new_queue(2, 1, 64);
	struct prog p = { .q = q };
	supply(&p, 0);
	for (uint64_t i = 1; i <= 3; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	/* the third retired chunk 0 and waits at head 1 */
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT | kHelProgressDone);
	ck_assert_int_eq(head_word(q), 1 | kHelHeadWaiters);
	ck_assert(q->head_wait.armed);
	complete_head_wait(q, 0);
	ck_assert(q->head_wait.armed);
	ck_assert_int_eq(head_word(q), 1 | kHelHeadWaiters);
	complete_head_wait(q, -EAGAIN);
	ck_assert(q->head_wait.armed);
	ck_assert_ptr_nonnull(q->head);
	/* recycle chunk 0: the third element lands at its start */
	int old = supply(&p, 0);
	ck_assert_int_eq(old, 1 | kHelHeadWaiters);
	complete_head_wait(q, 0);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 0), SIMPLE_ELEMENT);
	check_simple(q, 0, 0, 3, kHelErrNone);
	ck_assert_int_eq(head_word(q), 2);
	drop_queue(q);
}
END_TEST

static struct prog *timer_prog;
static int timer_old_head;

static void supply_and_wake(struct hh_timer *t)
{
	(void)t;
	timer_old_head = supply(timer_prog, 0);
	if (timer_old_head & kHelHeadWaiters)
		syscall(SYS_futex, &queue_head(timer_prog->q)->headFutex, FUTEX_WAKE, INT_MAX,
				NULL, NULL, 0);
}

START_TEST(test_queue_object_waiters_real_futex_wake)
{
	/* should succeed: the armed futex wait really ends on the program's wake */
	struct hh_queue *q = new_queue(2, 2, 256);
	struct prog p = { .q = q };
	count_head_wakes(q);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	ck_assert(q->head_wait.armed);
	ck_assert_int_eq(head_word(q), kHelHeadWaiters);
	/* the "program" supplies a chunk 20 ms later, while the loop sleeps in the wait */
	timer_prog = &p;
	struct hh_timer t;
	hh_timer_init(&t, supply_and_wake);
	hh_timer_start(&t, hh_now() + 20000000ull);
	run_until_head_woken(1);
	ck_assert_int_eq(head_wake_res, 0);     /* woken, not "value changed" */
	ck_assert_int_eq(timer_old_head, kHelHeadWaiters);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT);
	check_simple(q, 0, 0, 1, kHelErrNone);
	check_simple(q, 0, SIMPLE_ELEMENT, 2, kHelErrNone);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_waiters_value_changed)
{
	/* should succeed: a chunk supplied before the wait reaches the kernel ends it at once */
	struct hh_queue *q = new_queue(2, 2, 256);
	struct prog p = { .q = q };
	count_head_wakes(q);
	ck_assert(hh_queue_post_simple(q, 9, kHelErrNone));
	ck_assert(q->head_wait.armed);
	supply(&p, 1);  /* no wake: the loop has not even submitted the wait */
	run_until_head_woken(1);
	ck_assert_int_eq(head_wake_res, -EAGAIN);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 1), SIMPLE_ELEMENT);
	check_simple(q, 1, 0, 9, kHelErrNone);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_destroy_while_waiting)
{
	/* should succeed: a queue destroyed with its head wait armed is freed by the callback */
	struct hh_queue *q = new_queue(2, 2, 256);
	count_head_wakes(q);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(q->head_wait.armed);
	hh_object_unref(&q->base);
	ck_assert(hh_object_reap());
	/* still allocated until the kernel lets go of the watcher */
	ck_assert(q->destroyed);
	run_until_head_woken(1);
	ck_assert_int_eq(head_wakes, 1);
}
END_TEST

START_TEST(test_queue_object_destroy_with_pending)
{
	/* should succeed: pending completions are freed with an idle queue */
	struct hh_queue *q = new_queue(2, 2, 256);
	struct prog p = { .q = q };
	supply(&p, 0);
	/* mark the watcher busy so that posts stay pending without a loop */
	q->head_wait.armed = true;
	for (uint64_t i = 0; i < 10; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	ck_assert_int_eq(progress(q, 0), 0);
	q->head_wait.armed = false;
	drop_queue(q);
}
END_TEST

/* ---- contract violations ---- */

START_TEST(test_queue_object_chunk_number_out_of_range)
{
	/* a chunk number >= numChunks (should fail): the queue breaks, nothing crashes */
	struct hh_queue *q = new_queue(2, 2, 64);
	struct prog p = { .q = q };
	supply(&p, 2);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(q->broken);
	ck_assert(!q->have_chunk);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 0), 0);
	ck_assert_int_eq(progress(q, 1), 0);
	/* later posts are dropped at once, never written */
	ck_assert(hh_queue_post_simple(q, 2, kHelErrNone));
	supply(&p, 0);
	ck_assert(hh_queue_post_simple(q, 3, kHelErrNone));
	ck_assert_ptr_null(q->head);
	ck_assert_int_eq(progress(q, 0), 0);
	ck_assert_int_eq(progress(q, 1), 0);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_chunk_number_negative)
{
	/* a negative chunk number (should fail) */
	struct hh_queue *q = new_queue(2, 2, 64);
	struct prog p = { .q = q };
	supply(&p, -1);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(q->broken);
	ck_assert_int_eq(progress(q, 0), 0);
	ck_assert_int_eq(progress(q, 1), 0);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_bad_chunk_after_good_ones)
{
	/* a bad number in a later slot (should fail): earlier elements stay delivered */
	struct hh_queue *q = new_queue(2, 2, 2 * SIMPLE_ELEMENT);
	struct prog p = { .q = q };
	supply(&p, 0);
	supply(&p, 7);
	for (uint64_t i = 1; i <= 3; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	ck_assert(q->broken);
	ck_assert_int_eq(progress(q, 0), 2 * SIMPLE_ELEMENT | kHelProgressDone);
	check_simple(q, 0, 0, 1, kHelErrNone);
	check_simple(q, 0, SIMPLE_ELEMENT, 2, kHelErrNone);
	ck_assert_int_eq(progress(q, 1), 0);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_unknown_head_bits)
{
	/* bits other than the head and kHelHeadWaiters (should fail) */
	struct hh_queue *q = new_queue(2, 2, 64);
	queue_head(q)->indexQueue[0] = 0;
	queue_head(q)->headFutex = 1 | (1 << 25);
	ck_assert(hh_queue_post_simple(q, 1, kHelErrNone));
	ck_assert(q->broken);
	ck_assert(!q->head_wait.armed);
	ck_assert_int_eq(progress(q, 0), 0);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_broken_frees_pending)
{
	/* elements waiting for a chunk when the program breaks the contract are freed */
	struct hh_queue *q = new_queue(2, 2, 64);
	for (uint64_t i = 1; i <= 100; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	ck_assert_ptr_nonnull(q->head);
	ck_assert(q->head_wait.armed);
	/* the program writes garbage into the head word; the wake-up finds it */
	queue_head(q)->headFutex = 1 << 26;
	q->head_wait.armed = false;
	q->head_wait.cb(&q->head_wait, 0);
	ck_assert(q->broken);
	ck_assert_ptr_null(q->head);
	/* more posts hold nothing */
	for (uint64_t i = 0; i < 100000; i++)
		ck_assert(hh_queue_post_simple(q, i, kHelErrNone));
	ck_assert_ptr_null(q->head);
	ck_assert_ptr_eq(q->tail, &q->head);
	drop_queue(q);
}
END_TEST

/* ---- cancellation IDs ---- */

struct test_async {
	struct hh_async a;
	int cancelled;
};

static void test_cancel(struct hh_async *a)
{
	((struct test_async *)a)->cancelled++;
}

START_TEST(test_queue_object_async_ids)
{
	/* should succeed: IDs count from 1, per queue */
	struct hh_queue *q = new_queue(2, 1, 64);
	struct hh_queue *q2 = new_queue(2, 1, 64);
	struct test_async t[4] = { 0 };
	for (int i = 0; i < 4; i++)
		t[i].a.cancel = test_cancel;
	ck_assert_uint_eq(hh_queue_add_async(q, &t[0].a), 1);
	ck_assert_uint_eq(hh_queue_add_async(q, &t[1].a), 2);
	ck_assert_uint_eq(hh_queue_add_async(q, &t[2].a), 3);
	ck_assert_uint_eq(hh_queue_add_async(q2, &t[3].a), 1);
	ck_assert_uint_eq(t[1].a.id, 2);

	/* should succeed: cancelling a pending ID calls its cancel once */
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	ck_assert_int_eq(t[1].cancelled, 1);
	ck_assert_int_eq(t[0].cancelled + t[2].cancelled + t[3].cancelled, 0);
	/* should succeed: completed (removed) IDs are a no-op */
	hh_queue_remove_async(q, &t[1].a);
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	ck_assert_int_eq(t[1].cancelled, 1);
	/* removing the head and the tail keeps the list intact */
	hh_queue_remove_async(q, &t[2].a);
	ck_assert_int_eq(hh_queue_cancel(q, 1), kHelErrNone);
	ck_assert_int_eq(t[0].cancelled, 1);
	hh_queue_remove_async(q, &t[0].a);
	ck_assert_uint_eq(q->async_count, 0);
	ck_assert_int_eq(hh_queue_cancel(q, 3), kHelErrNone);
	ck_assert_int_eq(t[2].cancelled, 0);
	/* IDs are not reused after removal */
	ck_assert_uint_eq(hh_queue_add_async(q, &t[1].a), 4);
	hh_queue_remove_async(q, &t[1].a);

	/* ID 0 and IDs never issued by this queue (should fail) */
	ck_assert_int_eq(hh_queue_cancel(q, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, 5), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, UINT64_MAX), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q2, 2), kHelErrIllegalArgs);
	/* should succeed: q2's own ID */
	ck_assert_int_eq(hh_queue_cancel(q2, 1), kHelErrNone);
	ck_assert_int_eq(t[3].cancelled, 1);
	hh_queue_remove_async(q2, &t[3].a);
	drop_queue(q);
	drop_queue(q2);
}
END_TEST

START_TEST(test_queue_object_cancel_many)
{
	/* should succeed: 100000 pending IDs, cancelled oldest first, each finds its own */
	enum { N = 100000 };
	struct hh_queue *q = new_queue(2, 1, 64);
	struct test_async *t = calloc(N, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	for (int i = 0; i < N; i++) {
		t[i].a.cancel = test_cancel;
		ck_assert_uint_eq(hh_queue_add_async(q, &t[i].a), (uint64_t)i + 1);
	}
	ck_assert_uint_eq(q->async_count, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(hh_queue_cancel(q, (uint64_t)i + 1), kHelErrNone);
		ck_assert_int_eq(t[i].cancelled, 1);
		hh_queue_remove_async(q, &t[i].a);
	}
	ck_assert_uint_eq(q->async_count, 0);
	/* every one was cancelled exactly once */
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(t[i].cancelled, 1);
	/* newest first, with removals in between, after the table has grown */
	for (int i = 0; i < N; i++)
		hh_queue_add_async(q, &t[i].a);
	for (int i = N - 1; i >= 0; i -= 2)
		hh_queue_remove_async(q, &t[i].a);
	for (int i = N - 2; i >= 0; i -= 2) {
		ck_assert_int_eq(hh_queue_cancel(q, t[i].a.id), kHelErrNone);
		ck_assert_int_eq(t[i].cancelled, 2);
		ck_assert_int_eq(t[i + 1].cancelled, 1);
		hh_queue_remove_async(q, &t[i].a);
	}
	ck_assert_uint_eq(q->async_count, 0);
	free(t);
	drop_queue(q);
}
END_TEST

START_TEST(test_queue_object_cancel_fresh_queue)
{
	/* a queue that issued no ID (should fail) */
	struct hh_queue *q = new_queue(2, 1, 64);
	ck_assert_int_eq(hh_queue_cancel(q, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, 1), kHelErrIllegalArgs);
	drop_queue(q);
}
END_TEST

static Suite *queue_object_suite(void)
{
	Suite *s = suite_create("queue_object");
	TCase *tc = tcase_create("queue_object");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_add_test(tc, test_queue_object_create_layout);
	tcase_add_test(tc, test_queue_object_create_bad_params);
	tcase_add_test(tc, test_queue_object_create_huge);
	tcase_add_test(tc, test_queue_object_check_size);
	tcase_add_test(tc, test_queue_object_check_size_overflow);
	tcase_add_test(tc, test_queue_object_post_simple_layout);
	tcase_add_test(tc, test_queue_object_multi_piece_payload);
	tcase_add_test(tc, test_queue_object_done_bit_when_full);
	tcase_add_test(tc, test_queue_object_exact_fill_not_done);
	tcase_add_test(tc, test_queue_object_ring_order);
	tcase_add_test(tc, test_queue_object_progress_waiters_cleared);
	tcase_add_test(tc, test_queue_object_recycled_chunk);
	tcase_add_test(tc, test_queue_object_head_wraps);
	tcase_add_test(tc, test_queue_object_waiters_bit_without_chunk);
	tcase_add_test(tc, test_queue_object_waiters_spurious_wake);
	tcase_add_test(tc, test_queue_object_waiters_real_futex_wake);
	tcase_add_test(tc, test_queue_object_waiters_value_changed);
	tcase_add_test(tc, test_queue_object_destroy_while_waiting);
	tcase_add_test(tc, test_queue_object_destroy_with_pending);
	tcase_add_test(tc, test_queue_object_chunk_number_out_of_range);
	tcase_add_test(tc, test_queue_object_chunk_number_negative);
	tcase_add_test(tc, test_queue_object_bad_chunk_after_good_ones);
	tcase_add_test(tc, test_queue_object_unknown_head_bits);
	tcase_add_test(tc, test_queue_object_async_ids);
	tcase_add_test(tc, test_queue_object_cancel_fresh_queue);
	tcase_add_test(tc, test_queue_object_cancel_many);
	tcase_add_test(tc, test_queue_object_broken_frees_pending);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
