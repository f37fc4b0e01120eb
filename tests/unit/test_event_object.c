/*
 * Events (src/objects/event.c), linked directly: oneshot and bitset events, awaits
 * that complete into a queue with a HelEventResult, cancellation, and the
 * references a pending await holds (OBJECTS.md §8, QUEUES.md §9).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "event.h"
#include "loop.h"
#include "object.h"
#include "queue.h"

/* What the test, as a program, has pending. */
static struct hh_pending_list pending = { .pidfd = -1 };

/* ---- the program's side of the queue (QUEUES.md §2) ---- */

static struct HelChunk *chunk0(struct hh_queue *q)
{
	return (struct HelChunk *)(q->map + q->chunks_offset);
}

static int progress(struct hh_queue *q)
{
	return __atomic_load_n(&chunk0(q)->progressFutex, __ATOMIC_ACQUIRE);
}

/* A queue whose chunk 0 is supplied. */
static struct hh_queue *new_queue(void)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 2048 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	struct HelQueue *head = (struct HelQueue *)q->map;
	head->indexQueue[0] = 0;
	__atomic_store_n(&head->headFutex, 1, __ATOMIC_RELEASE);
	return q;
}

static void drop_queue(struct hh_queue *q)
{
	hh_object_unref(&q->base);
	hh_loop_settle();
}

/* Each element of a HelEventResult takes 16 + 16 bytes. */
#define EVENT_ELEMENT 32

static void check_event(struct hh_queue *q, unsigned n, uint64_t context, HelError error,
		uint32_t bitset, uint64_t sequence)
{
	struct HelElement *e = (struct HelElement *)(chunk0(q)->buffer + n * EVENT_ELEMENT);
	ck_assert_uint_eq(e->length, sizeof(struct HelEventResult));
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_uint_eq((uintptr_t)e->context, context);
	struct HelEventResult *r = (struct HelEventResult *)(e + 1);
	ck_assert_int_eq(r->error, error);
	ck_assert_uint_eq(r->bitset, bitset);
	ck_assert_uint_eq(r->sequence, sequence);
}

static uint64_t await(struct hh_event *ev, struct hh_queue *q, uint64_t sequence, uint64_t context)
{
	ck_assert_int_eq(hh_event_check_sequence(ev, sequence), kHelErrNone);
	struct hh_event_wait *w = hh_event_wait_new(ev, q, context, &pending);
	ck_assert_ptr_nonnull(w);
	return hh_event_wait_start(w, sequence);
}

static void drop_event(struct hh_event *ev)
{
	hh_object_unref(&ev->base);
	ck_assert(hh_object_reap());
}

static struct hh_queue *watched;

static bool element_arrived(void)
{
	return progress(watched) > 0;
}

static void loop_setup(void)
{
	ck_assert_int_eq(hh_loop_init(), 0);
}

static void loop_teardown(void)
{
	hh_loop_fini();
}

/* ---- creation ---- */

START_TEST(test_event_object_create)
{
	/* should succeed: sequence 1, no bit ever triggered, nobody waiting */
	struct hh_event *one = hh_event_create_oneshot(), *bits = hh_event_create_bitset();
	ck_assert_ptr_nonnull(one);
	ck_assert_ptr_nonnull(bits);
	ck_assert_int_eq(hh_object_type(&one->base), HH_OBJ_ONESHOT_EVENT);
	ck_assert_int_eq(hh_object_type(&bits->base), HH_OBJ_BITSET_EVENT);
	ck_assert_uint_eq(one->base.refs, 1);
	ck_assert_uint_eq(bits->base.refs, 1);
	ck_assert_uint_eq(one->sequence, 1);
	ck_assert_uint_eq(bits->sequence, 1);
	for (int i = 0; i < 32; i++) {
		ck_assert_uint_eq(one->last[i], 0);
		ck_assert_uint_eq(bits->last[i], 0);
	}
	ck_assert_ptr_null(one->waits);
	ck_assert_ptr_null(bits->waits);
	ck_assert_ptr_eq(hh_event_of(&one->base), one);
	drop_event(one);
	drop_event(bits);
}
END_TEST

/* ---- oneshot (OBJECTS.md §8.1) ---- */

START_TEST(test_event_object_oneshot_check_sequence)
{
	struct hh_event *ev = hh_event_create_oneshot();
	/* should succeed: 0 and 1, before and after the raise */
	ck_assert_int_eq(hh_event_check_sequence(ev, 0), kHelErrNone);
	ck_assert_int_eq(hh_event_check_sequence(ev, 1), kHelErrNone);
	/* anything larger (should fail) */
	ck_assert_int_eq(hh_event_check_sequence(ev, 2), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_event_check_sequence(ev, UINT64_MAX), kHelErrIllegalArgs);
	hh_event_raise_oneshot(ev);
	ck_assert_int_eq(hh_event_check_sequence(ev, 0), kHelErrNone);
	ck_assert_int_eq(hh_event_check_sequence(ev, 1), kHelErrNone);
	/* the raised event's own sequence, 2, is still no valid argument (should fail) */
	ck_assert_int_eq(hh_event_check_sequence(ev, 2), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_event_check_sequence(ev, 3), kHelErrIllegalArgs);
	drop_event(ev);
}
END_TEST

START_TEST(test_event_object_oneshot_not_triggered_zero)
{
	/* should succeed: sequence 0 on an untriggered event: {0, 0, 1} at once */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	ck_assert_uint_eq(await(ev, q, 0, 0x51), 1);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	check_event(q, 0, 0x51, kHelErrNone, 0, 1);
	ck_assert_uint_eq(ev->base.refs, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_ptr_null(ev->waits);
	ck_assert_uint_eq(q->async_count, 0);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_oneshot_wait_then_raise)
{
	/* should succeed: sequence 1 waits; the raise completes it with {0, 1, 2} */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	ck_assert_uint_eq(await(ev, q, 1, 0xa), 1);
	ck_assert_int_eq(progress(q), 0);
	ck_assert_ptr_nonnull(ev->waits);
	/* a pending await holds the event and the queue */
	ck_assert_uint_eq(ev->base.refs, 2);
	ck_assert_uint_eq(q->base.refs, 2);
	hh_event_raise_oneshot(ev);
	ck_assert_uint_eq(ev->sequence, 2);
	ck_assert_uint_eq(ev->last[0], 2);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	check_event(q, 0, 0xa, kHelErrNone, 1, 2);
	ck_assert_ptr_null(ev->waits);
	ck_assert_uint_eq(ev->base.refs, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert_uint_eq(q->async_count, 0);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_oneshot_triggered)
{
	/* should succeed: on a triggered event 0 and 1 complete at once with {0, 1, 2} */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	hh_event_raise_oneshot(ev);
	ck_assert_int_eq(progress(q), 0);       /* nobody waited */
	ck_assert_uint_eq(await(ev, q, 0, 1), 1);
	ck_assert_uint_eq(await(ev, q, 1, 2), 2);
	ck_assert_int_eq(progress(q), 2 * EVENT_ELEMENT);
	check_event(q, 0, 1, kHelErrNone, 1, 2);
	check_event(q, 1, 2, kHelErrNone, 1, 2);
	ck_assert_ptr_null(ev->waits);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_oneshot_raise_twice)
{
	/* should succeed: a second raise does nothing ([emu] OBJECTS.md §8.1) */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	await(ev, q, 1, 1);
	hh_event_raise_oneshot(ev);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	hh_event_raise_oneshot(ev);
	hh_event_raise_oneshot(ev);
	ck_assert_uint_eq(ev->sequence, 2);
	ck_assert_uint_eq(ev->last[0], 2);
	for (int i = 1; i < 32; i++)
		ck_assert_uint_eq(ev->last[i], 0);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	/* later awaits still see the one trigger */
	await(ev, q, 1, 2);
	check_event(q, 1, 2, kHelErrNone, 1, 2);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_oneshot_many_waiters_in_order)
{
	/* should succeed: every pending await completes, in submission order */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	for (uint64_t i = 1; i <= 5; i++)
		ck_assert_uint_eq(await(ev, q, 1, 100 + i), i);
	ck_assert_uint_eq(ev->base.refs, 6);
	ck_assert_uint_eq(q->base.refs, 6);
	hh_event_raise_oneshot(ev);
	ck_assert_int_eq(progress(q), 5 * EVENT_ELEMENT);
	for (unsigned i = 0; i < 5; i++)
		check_event(q, i, 101 + i, kHelErrNone, 1, 2);
	ck_assert_uint_eq(ev->base.refs, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

/* ---- bitset (OBJECTS.md §8.2) ---- */

START_TEST(test_event_object_bitset_check_sequence)
{
	struct hh_event *ev = hh_event_create_bitset();
	/* should succeed: up to the current sequence */
	ck_assert_int_eq(hh_event_check_sequence(ev, 0), kHelErrNone);
	ck_assert_int_eq(hh_event_check_sequence(ev, 1), kHelErrNone);
	/* ahead of the event (should fail) */
	ck_assert_int_eq(hh_event_check_sequence(ev, 2), kHelErrIllegalArgs);
	hh_event_trigger(ev, 1);
	hh_event_trigger(ev, 2);
	ck_assert_uint_eq(ev->sequence, 3);
	ck_assert_int_eq(hh_event_check_sequence(ev, 3), kHelErrNone);
	ck_assert_int_eq(hh_event_check_sequence(ev, 4), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_event_check_sequence(ev, UINT64_MAX), kHelErrIllegalArgs);
	drop_event(ev);
}
END_TEST

START_TEST(test_event_object_bitset_never_triggered)
{
	/* should succeed: sequence 0 → {0, 0, 1}; sequence 1 waits (nothing fires it) */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_bitset();
	ck_assert_uint_eq(await(ev, q, 0, 1), 1);
	check_event(q, 0, 1, kHelErrNone, 0, 1);
	ck_assert_uint_eq(await(ev, q, 1, 2), 2);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	ck_assert_ptr_nonnull(ev->waits);
	/* cancel it so that the event can go */
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	check_event(q, 1, 2, kHelErrCancelled, 0, 0);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_bitset_trigger_completes_waiters)
{
	/* should succeed: a trigger completes awaits with {0, bits of this trigger, new sequence} */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_bitset();
	await(ev, q, 1, 1);
	await(ev, q, 1, 2);
	hh_event_trigger(ev, 0x5);
	ck_assert_uint_eq(ev->sequence, 2);
	ck_assert_uint_eq(ev->last[0], 2);
	ck_assert_uint_eq(ev->last[1], 0);
	ck_assert_uint_eq(ev->last[2], 2);
	ck_assert_int_eq(progress(q), 2 * EVENT_ELEMENT);
	check_event(q, 0, 1, kHelErrNone, 0x5, 2);
	check_event(q, 1, 2, kHelErrNone, 0x5, 2);
	/* an await at the new sequence waits for the next trigger, and gets its bits only */
	await(ev, q, 2, 3);
	ck_assert_int_eq(progress(q), 2 * EVENT_ELEMENT);
	hh_event_trigger(ev, 0x80000002u);
	ck_assert_uint_eq(ev->sequence, 3);
	check_event(q, 2, 3, kHelErrNone, 0x80000002u, 3);
	ck_assert_uint_eq(ev->last[31], 3);
	ck_assert_uint_eq(ev->last[0], 2);
	ck_assert_uint_eq(ev->base.refs, 1);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_bitset_behind)
{
	/* should succeed: a sequence behind gets the bits triggered after it, at once */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_bitset();
	hh_event_trigger(ev, 0x1);              /* sequence 2 */
	hh_event_trigger(ev, 0x2);              /* sequence 3 */
	hh_event_trigger(ev, 0x1 | 0x4);        /* sequence 4 */
	ck_assert_uint_eq(ev->sequence, 4);
	ck_assert_int_eq(progress(q), 0);
	await(ev, q, 0, 10);
	await(ev, q, 1, 11);
	await(ev, q, 2, 12);
	await(ev, q, 3, 13);
	check_event(q, 0, 10, kHelErrNone, 0x7, 4);
	check_event(q, 1, 11, kHelErrNone, 0x7, 4);
	check_event(q, 2, 12, kHelErrNone, 0x7, 4);    /* bit 0 again at 4, bit 1 at 3 */
	check_event(q, 3, 13, kHelErrNone, 0x5, 4);
	/* the current sequence waits */
	await(ev, q, 4, 14);
	ck_assert_int_eq(progress(q), 4 * EVENT_ELEMENT);
	hh_event_trigger(ev, 0);                /* a trigger without bits still counts */
	check_event(q, 4, 14, kHelErrNone, 0, 5);
	ck_assert_uint_eq(ev->sequence, 5);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_bitset_trigger_without_waiters)
{
	/* should succeed: triggers advance the sequence whether or not anybody waits */
	struct hh_event *ev = hh_event_create_bitset();
	for (uint64_t i = 0; i < 100; i++)
		hh_event_trigger(ev, 1u << (i % 32));
	ck_assert_uint_eq(ev->sequence, 101);
	for (unsigned b = 0; b < 32; b++)
		ck_assert_uint_eq(ev->last[b], b < 4 ? 98 + b : 66 + b);
	drop_event(ev);
}
END_TEST

/* ---- cancellation and lifetime (OBJECTS.md §8.3) ---- */

START_TEST(test_event_object_cancel)
{
	/* should succeed: a cancelled await posts {kHelErrCancelled, 0, 0} and lets go */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	uint64_t a = await(ev, q, 1, 1);
	uint64_t b = await(ev, q, 1, 2);
	uint64_t c = await(ev, q, 1, 3);
	ck_assert_uint_eq(ev->base.refs, 4);
	/* the middle one of the list */
	ck_assert_int_eq(hh_queue_cancel(q, b), kHelErrNone);
	check_event(q, 0, 2, kHelErrCancelled, 0, 0);
	ck_assert_uint_eq(ev->base.refs, 3);
	ck_assert_uint_eq(q->base.refs, 3);
	/* should succeed: cancelling it again changes nothing */
	ck_assert_int_eq(hh_queue_cancel(q, b), kHelErrNone);
	ck_assert_int_eq(progress(q), EVENT_ELEMENT);
	/* the newest (head of the list) */
	ck_assert_int_eq(hh_queue_cancel(q, c), kHelErrNone);
	check_event(q, 1, 3, kHelErrCancelled, 0, 0);
	/* the one left still completes on the raise */
	hh_event_raise_oneshot(ev);
	check_event(q, 2, 1, kHelErrNone, 1, 2);
	ck_assert_int_eq(progress(q), 3 * EVENT_ELEMENT);
	ck_assert_ptr_null(ev->waits);
	/* cancelling after completion is a no-op */
	ck_assert_int_eq(hh_queue_cancel(q, a), kHelErrNone);
	ck_assert_int_eq(progress(q), 3 * EVENT_ELEMENT);
	ck_assert_uint_eq(ev->base.refs, 1);
	ck_assert_uint_eq(q->base.refs, 1);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_cancel_oldest)
{
	/* should succeed: cancelling the oldest (tail of the list) keeps the others linked */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_bitset();
	uint64_t a = await(ev, q, 1, 1);
	await(ev, q, 1, 2);
	await(ev, q, 1, 3);
	ck_assert_int_eq(hh_queue_cancel(q, a), kHelErrNone);
	check_event(q, 0, 1, kHelErrCancelled, 0, 0);
	hh_event_trigger(ev, 0x10);
	check_event(q, 1, 2, kHelErrNone, 0x10, 2);
	check_event(q, 2, 3, kHelErrNone, 0x10, 2);
	ck_assert_ptr_null(ev->waits);
	ck_assert_uint_eq(ev->base.refs, 1);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_await_keeps_event_alive)
{
	/* should succeed: a pending await holds the event after its last handle ([emu] §8.3) */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	uint64_t id = await(ev, q, 1, 9);
	hh_object_unref(&ev->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(ev->base.refs, 1);
	ck_assert(!ev->base.dying);
	/* it never fires now; cancelling lets the event go */
	ck_assert_int_eq(hh_queue_cancel(q, id), kHelErrNone);
	check_event(q, 0, 9, kHelErrCancelled, 0, 0);
	ck_assert(ev->base.dying);
	ck_assert(hh_object_reap());
	drop_queue(q);
}
END_TEST

START_TEST(test_event_object_await_keeps_queue_alive)
{
	/* should succeed: a pending await holds its queue after the queue's last handle */
	struct hh_queue *q = new_queue();
	struct hh_event *ev = hh_event_create_oneshot();
	await(ev, q, 1, 1);
	hh_object_unref(&q->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(q->base.refs, 1);
	ck_assert(!q->base.dying);
	ck_assert_int_eq(progress(q), 0);
	hh_event_raise_oneshot(ev);             /* the element is written, then the queue goes */
	ck_assert(hh_object_reap());
	drop_event(ev);
}
END_TEST

START_TEST(test_event_object_async_ids_shared)
{
	/* should succeed: awaits on several events share their queue's ID counter */
	struct hh_queue *q = new_queue(), *q2 = new_queue();
	struct hh_event *a = hh_event_create_oneshot(), *b = hh_event_create_bitset();
	ck_assert_uint_eq(await(a, q, 0, 1), 1);       /* completed at once: still an ID */
	ck_assert_uint_eq(await(b, q, 1, 2), 2);
	ck_assert_uint_eq(await(a, q2, 1, 3), 1);
	ck_assert_uint_eq(await(a, q, 1, 4), 3);
	/* an ID of another queue (should fail) */
	ck_assert_int_eq(hh_queue_cancel(q2, 3), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_queue_cancel(q, 4), kHelErrIllegalArgs);
	hh_event_raise_oneshot(a);
	ck_assert_int_eq(progress(q), 2 * EVENT_ELEMENT);
	check_event(q, 1, 4, kHelErrNone, 1, 2);
	check_event(q2, 0, 3, kHelErrNone, 1, 2);
	ck_assert_int_eq(hh_queue_cancel(q, 2), kHelErrNone);
	check_event(q, 2, 2, kHelErrCancelled, 0, 0);
	drop_event(a);
	drop_event(b);
	drop_queue(q);
	drop_queue(q2);
}
END_TEST

START_TEST(test_event_object_await_without_chunk)
{
	/* should succeed: the result waits in the queue until the program supplies a chunk */
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 256 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	struct hh_event *ev = hh_event_create_oneshot();
	await(ev, q, 1, 77);
	hh_event_raise_oneshot(ev);
	ck_assert_ptr_nonnull(q->head);
	ck_assert(q->head_wait.armed);
	ck_assert_int_eq(progress(q), 0);
	ck_assert_uint_eq(ev->base.refs, 1);    /* the await itself is done */
	/* the program supplies chunk 0; the loop's head wait sees it */
	struct HelQueue *head = (struct HelQueue *)q->map;
	head->indexQueue[0] = 0;
	__atomic_exchange_n(&head->headFutex, 1, __ATOMIC_RELEASE);
	watched = q;
	ck_assert_int_eq(hh_loop_run(element_arrived), 0);
	check_event(q, 0, 77, kHelErrNone, 1, 2);
	drop_event(ev);
	drop_queue(q);
}
END_TEST

static Suite *event_object_suite(void)
{
	Suite *s = suite_create("event_object");
	TCase *tc = tcase_create("event_object");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_add_test(tc, test_event_object_create);
	tcase_add_test(tc, test_event_object_oneshot_check_sequence);
	tcase_add_test(tc, test_event_object_oneshot_not_triggered_zero);
	tcase_add_test(tc, test_event_object_oneshot_wait_then_raise);
	tcase_add_test(tc, test_event_object_oneshot_triggered);
	tcase_add_test(tc, test_event_object_oneshot_raise_twice);
	tcase_add_test(tc, test_event_object_oneshot_many_waiters_in_order);
	tcase_add_test(tc, test_event_object_bitset_check_sequence);
	tcase_add_test(tc, test_event_object_bitset_never_triggered);
	tcase_add_test(tc, test_event_object_bitset_trigger_completes_waiters);
	tcase_add_test(tc, test_event_object_bitset_behind);
	tcase_add_test(tc, test_event_object_bitset_trigger_without_waiters);
	tcase_add_test(tc, test_event_object_cancel);
	tcase_add_test(tc, test_event_object_cancel_oldest);
	tcase_add_test(tc, test_event_object_await_keeps_event_alive);
	tcase_add_test(tc, test_event_object_await_keeps_queue_alive);
	tcase_add_test(tc, test_event_object_async_ids_shared);
	tcase_add_test(tc, test_event_object_await_without_chunk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(event_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
