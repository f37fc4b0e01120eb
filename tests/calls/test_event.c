/*
 * helCreateOneshotEvent, helCreateBitsetEvent, helRaiseEvent and
 * helSubmitAwaitEvent, run under an auto-started emulator (OBJECTS.md §8,
 * QUEUES.md §7.1 and §9).
 */
#include <check.h>
#include <hel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "quiet.h"

/* Take the next element and check it is the HelEventResult given. */
static void expect_event(struct hq *q, uintptr_t context, HelError error, uint32_t bitset,
		uint64_t sequence)
{
	struct HelElement *e = hh_test_next(q, context);
	ck_assert_uint_eq(e->length, sizeof(struct HelEventResult));
	struct HelEventResult *r = hq_payload(e);
	ck_assert_int_eq(r->error, error);
	ck_assert_uint_eq(r->bitset, bitset);
	ck_assert_uint_eq(r->sequence, sequence);
}

static HelHandle new_oneshot(void)
{
	HelHandle h = kHelNullHandle;
	ck_assert_int_eq(helCreateOneshotEvent(&h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	return h;
}

static HelHandle new_bitset(void)
{
	HelHandle h = kHelNullHandle;
	ck_assert_int_eq(helCreateBitsetEvent(&h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	return h;
}

/* The async ID the queue issues next (consumes it with a clock wait that completes). */
static uint64_t next_async_id(struct hq *q)
{
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitClock(0, q->handle, 0xc10c, &id), kHelErrNone);
	hh_test_next(q, 0xc10c);
	return id;
}

/* ---- helCreateOneshotEvent / helCreateBitsetEvent --------------------------- */

START_TEST(test_event_create_handles)
{
	/* should succeed: each event is a new handle, numbered in sequence */
	HelHandle a = new_oneshot();
	HelHandle b = new_bitset();
	HelHandle c = new_oneshot();
	ck_assert_int_eq(b, a + 1);
	ck_assert_int_eq(c, a + 2);
	/* both kinds can be copied and closed like any descriptor */
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(b, kHelThisUniverse, &copy), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(a), kHelErrNoDescriptor);
	ck_assert_int_eq(helRaiseEvent(copy), kHelErrBadDescriptor);
}
END_TEST

/* ---- helSubmitAwaitEvent on oneshot events: the table of §8.1 ---------------- */

START_TEST(test_event_await_oneshot_untriggered_seq0)
{
	/* should succeed: not triggered, sequence 0: at once {0, 0, 1} */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 11, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_event(&q, 11, kHelErrNone, 0, 1);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_oneshot_untriggered_seq1_waits)
{
	/* should succeed: not triggered, sequence 1: waits; the raise gives {0, 1, 2} */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 12, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	hq_expect_empty(&q);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	expect_event(&q, 12, kHelErrNone, 1, 2);
	/* completed: cancelling it now has no effect */
	ck_assert_int_eq(helCancelAsync(q.handle, id), kHelErrNone);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_oneshot_triggered_seq0)
{
	/* should succeed: triggered, sequence 0: at once {0, 1, 2} */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 13, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_event(&q, 13, kHelErrNone, 1, 2);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_oneshot_triggered_seq1)
{
	/* should succeed: triggered, sequence 1: at once {0, 1, 2} */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 14, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_event(&q, 14, kHelErrNone, 1, 2);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_oneshot_sequence_too_large)
{
	/* sequence > 1 on a oneshot event, triggered or not (should fail: thor asserts) */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id = 0xdead;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 2, q.handle, 15, &id), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, UINT64_MAX, q.handle, 15, &id), kHelErrIllegalArgs);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	/* the triggered event's sequence is 2, yet 2 is still no valid argument */
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 2, q.handle, 15, &id), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 3, q.handle, 15, &id), kHelErrIllegalArgs);
	/* no element, no async ID consumed */
	hq_expect_empty(&q);
	ck_assert_uint_eq(next_async_id(&q), 1);
}
END_TEST

/* ---- helRaiseEvent ----------------------------------------------------------- */

START_TEST(test_event_raise_twice)
{
	/* should succeed: a second raise is a no-op ([emu]; thor asserts) */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 21, &id), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	expect_event(&q, 21, kHelErrNone, 1, 2);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	/* no second completion, and the state did not move on */
	hq_expect_empty(&q);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 22, &id), kHelErrNone);
	expect_event(&q, 22, kHelErrNone, 1, 2);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 2, q.handle, 23, &id), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_event_raise_completes_all_waiters)
{
	/* should succeed: one raise completes every pending await, on every queue, in order */
	struct hq q1, q2;
	hh_test_open(&q1, 3, 2, 256);
	hh_test_open(&q2, 2, 2, 256);
	HelHandle ev = new_oneshot();
	HelHandle other = new_oneshot();
	uint64_t id;
	for (uintptr_t i = 0; i < 5; i++) {
		ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q1.handle, 100 + i, &id), kHelErrNone);
		ck_assert_uint_eq(id, i + 1);
	}
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q2.handle, 200, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	/* an await on another event stays pending */
	ck_assert_int_eq(helSubmitAwaitEvent(other, 1, q2.handle, 201, &id), kHelErrNone);
	ck_assert_uint_eq(id, 2);
	hq_expect_empty(&q1);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	for (uintptr_t i = 0; i < 5; i++)
		expect_event(&q1, 100 + i, kHelErrNone, 1, 2);
	expect_event(&q2, 200, kHelErrNone, 1, 2);
	hq_expect_empty(&q2);
	ck_assert_int_eq(helRaiseEvent(other), kHelErrNone);
	expect_event(&q2, 201, kHelErrNone, 1, 2);
	hq_expect_empty(&q1);
}
END_TEST

START_TEST(test_event_raise_bad_handles)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	HelHandle bitset = new_bitset();
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &mem), kHelErrNone);
	/* unknown and null handles (should fail) */
	ck_assert_int_eq(helRaiseEvent(9999), kHelErrNoDescriptor);
	ck_assert_int_eq(helRaiseEvent(kHelNullHandle), kHelErrNoDescriptor);
	ck_assert_int_eq(helRaiseEvent(kHelThisUniverse), kHelErrNoDescriptor);
	/* not a oneshot event: bitset events included (should fail) */
	ck_assert_int_eq(helRaiseEvent(bitset), kHelErrBadDescriptor);
	ck_assert_int_eq(helRaiseEvent(mem), kHelErrBadDescriptor);
	ck_assert_int_eq(helRaiseEvent(q.handle), kHelErrBadDescriptor);
	/* a closed oneshot (should fail) */
	HelHandle ev = new_oneshot();
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ev), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNoDescriptor);
}
END_TEST

/* ---- helSubmitAwaitEvent on bitset events (§8.2) ----------------------------- */

START_TEST(test_event_await_bitset_immediate)
{
	/* should succeed: sequence 0 < 1 on a fresh bitset event: at once {0, 0, 1} */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_bitset();
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 31, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_event(&q, 31, kHelErrNone, 0, 1);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 32, &id), kHelErrNone);
	ck_assert_uint_eq(id, 2);
	expect_event(&q, 32, kHelErrNone, 0, 1);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_bitset_pending_then_cancel)
{
	/* should succeed: sequence == current waits (nothing raises it) until cancelled */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_bitset();
	uint64_t id1 = 0, id2 = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 33, &id1), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 34, &id2), kHelErrNone);
	ck_assert_uint_eq(id1, 1);
	ck_assert_uint_eq(id2, 2);
	hq_expect_empty(&q);
	/* raising a bitset event is refused and completes nothing */
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrBadDescriptor);
	hq_expect_empty(&q);
	ck_assert_int_eq(helCancelAsync(q.handle, id2), kHelErrNone);
	expect_event(&q, 34, kHelErrCancelled, 0, 0);
	hq_expect_empty(&q);
	ck_assert_int_eq(helCancelAsync(q.handle, id1), kHelErrNone);
	expect_event(&q, 33, kHelErrCancelled, 0, 0);
	/* cancelling again: no effect, no element */
	ck_assert_int_eq(helCancelAsync(q.handle, id1), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(q.handle, id2), kHelErrNone);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_event_await_bitset_sequence_too_large)
{
	/* sequence > current (1) on a bitset event (should fail: thor asserts) */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_bitset();
	uint64_t id = 0xdead;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 2, q.handle, 35, &id), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, UINT64_MAX, q.handle, 35, &id), kHelErrIllegalArgs);
	hq_expect_empty(&q);
	ck_assert_uint_eq(next_async_id(&q), 1);
}
END_TEST

/* ---- cancellation and async IDs (QUEUES.md §9) -------------------------------- */

START_TEST(test_event_await_async_ids_shared_with_clock)
{
	/* should succeed: clock waits and event awaits draw from one counter per queue */
	struct hq q;
	hh_test_open(&q, 3, 2, 512);
	HelHandle ev = new_oneshot();
	HelHandle bits = new_bitset();
	uint64_t now, id_clock, id_event, id_now, id_bits;
	ck_assert_int_eq(helGetClock(&now), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, q.handle, 41, &id_clock), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 42, &id_event), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 43, &id_now), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(bits, 1, q.handle, 44, &id_bits), kHelErrNone);
	ck_assert_uint_eq(id_clock, 1);
	ck_assert_uint_eq(id_event, 2);
	ck_assert_uint_eq(id_now, 3);
	ck_assert_uint_eq(id_bits, 4);
	expect_event(&q, 43, kHelErrNone, 0, 1);
	/* each cancel reaches its own operation */
	ck_assert_int_eq(helCancelAsync(q.handle, id_event), kHelErrNone);
	expect_event(&q, 42, kHelErrCancelled, 0, 0);
	ck_assert_int_eq(helCancelAsync(q.handle, id_clock), kHelErrNone);
	struct HelElement *e = hh_test_next(&q, 41);
	ck_assert_uint_eq(e->length, sizeof(struct HelSimpleResult));
	ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(e))->error, kHelErrCancelled);
	ck_assert_int_eq(helCancelAsync(q.handle, id_bits), kHelErrNone);
	expect_event(&q, 44, kHelErrCancelled, 0, 0);
	/* the next ID after them all; IDs never issued are refused */
	ck_assert_int_eq(helCancelAsync(q.handle, 5), kHelErrIllegalArgs);
	ck_assert_uint_eq(next_async_id(&q), 5);
	/* another queue counts on its own */
	struct hq q2;
	hh_test_open(&q2, 2, 1, 256);
	uint64_t id = 0;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q2.handle, 45, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	expect_event(&q2, 45, kHelErrNone, 0, 1);
}
END_TEST

START_TEST(test_event_await_cancel_pending_oneshot)
{
	/* should succeed: a cancelled await ends with kHelErrCancelled; a later raise adds nothing */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id_cancel, id_keep;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 51, &id_cancel), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 52, &id_keep), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(q.handle, id_cancel), kHelErrNone);
	expect_event(&q, 51, kHelErrCancelled, 0, 0);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	expect_event(&q, 52, kHelErrNone, 1, 2);
	hq_expect_empty(&q);
	/* both completed: cancelling either has no effect */
	ck_assert_int_eq(helCancelAsync(q.handle, id_cancel), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(q.handle, id_keep), kHelErrNone);
	hq_expect_empty(&q);
}
END_TEST

/* ---- lifetimes ([emu] OBJECTS.md §8.3) ------------------------------------------ */

START_TEST(test_event_await_close_handle_then_raise_copy)
{
	/* should succeed: the await survives closing one handle; a copy raises it */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	HelHandle copy;
	ck_assert_int_eq(helTransferDescriptor(ev, kHelThisUniverse, &copy), kHelErrNone);
	uint64_t id;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 61, &id), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ev), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNoDescriptor);
	hq_expect_empty(&q);
	ck_assert_int_eq(helRaiseEvent(copy), kHelErrNone);
	expect_event(&q, 61, kHelErrNone, 1, 2);
}
END_TEST

START_TEST(test_event_await_close_last_handle_then_cancel)
{
	/* should succeed: with every handle closed the await stays pending until cancelled */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	HelHandle bits = new_bitset();
	uint64_t id_ev, id_bits;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 62, &id_ev), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(bits, 1, q.handle, 63, &id_bits), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ev), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, bits), kHelErrNone);
	hq_expect_empty(&q);
	ck_assert_int_eq(helCancelAsync(q.handle, id_bits), kHelErrNone);
	expect_event(&q, 63, kHelErrCancelled, 0, 0);
	ck_assert_int_eq(helCancelAsync(q.handle, id_ev), kHelErrNone);
	expect_event(&q, 62, kHelErrCancelled, 0, 0);
	/* the emulator carries on: a new event works */
	HelHandle ev2 = new_oneshot();
	ck_assert_int_eq(helSubmitAwaitEvent(ev2, 0, q.handle, 64, &id_ev), kHelErrNone);
	expect_event(&q, 64, kHelErrNone, 0, 1);
}
END_TEST

START_TEST(test_event_await_keeps_queue_alive)
{
	/* should succeed: a pending await completes after its queue handle is closed */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	uint64_t id;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, q.handle, 65, &id), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, q.handle), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	expect_event(&q, 65, kHelErrNone, 1, 2);
}
END_TEST

/* ---- helSubmitAwaitEvent errors (§8.3 lookup order) ----------------------------- */

START_TEST(test_event_await_bad_handles)
{
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &mem), kHelErrNone);
	uint64_t id = 0xdead;
	/* unknown event handle, checked before the queue (should fail) */
	ck_assert_int_eq(helSubmitAwaitEvent(9999, 0, q.handle, 1, &id), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(kHelNullHandle, 0, q.handle, 1, &id), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(9999, 0, 8888, 1, &id), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(9999, 0, mem, 1, &id), kHelErrNoDescriptor);
	/* bad queue: unknown or not a queue, checked before the event's type (should fail) */
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, 8888, 1, &id), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, mem, 1, &id), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, ev, 1, &id), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(mem, 0, 8888, 1, &id), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(mem, 0, mem, 1, &id), kHelErrBadDescriptor);
	/* not an event (should fail) */
	ck_assert_int_eq(helSubmitAwaitEvent(mem, 0, q.handle, 1, &id), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAwaitEvent(q.handle, 0, q.handle, 1, &id), kHelErrBadDescriptor);
	/* a wrong type is reported before a bad sequence (should fail) */
	ck_assert_int_eq(helSubmitAwaitEvent(mem, 7, q.handle, 1, &id), kHelErrBadDescriptor);
	/* a closed event (should fail) */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ev), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, q.handle, 1, &id), kHelErrNoDescriptor);
	/* no element, no async ID consumed */
	hq_expect_empty(&q);
	ck_assert_uint_eq(next_async_id(&q), 1);
}
END_TEST

START_TEST(test_event_await_queue_too_small)
{
	/* chunks of 24 bytes hold 8-byte results only: 16-byte results (should fail) */
	struct hq tiny;
	hh_test_open(&tiny, 2, 2, 24);
	HelHandle ev = new_oneshot();
	HelHandle bits = new_bitset();
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &mem), kHelErrNone);
	uint64_t id = 0xdead;
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, tiny.handle, 1, &id), kHelErrQueueTooSmall);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, tiny.handle, 1, &id), kHelErrQueueTooSmall);
	ck_assert_int_eq(helSubmitAwaitEvent(bits, 0, tiny.handle, 1, &id), kHelErrQueueTooSmall);
	/* the size is checked before the event's type and the sequence (should fail) */
	ck_assert_int_eq(helSubmitAwaitEvent(mem, 0, tiny.handle, 1, &id), kHelErrQueueTooSmall);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 5, tiny.handle, 1, &id), kHelErrQueueTooSmall);
	/* but after the event handle's existence */
	ck_assert_int_eq(helSubmitAwaitEvent(9999, 0, tiny.handle, 1, &id), kHelErrNoDescriptor);
	/* the tiny queue still serves 8-byte results; no ID was consumed */
	ck_assert_uint_eq(next_async_id(&tiny), 1);
	/* 32-byte chunks are just enough (should succeed) */
	struct hq fit;
	hh_test_open(&fit, 2, 2, 32);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 0, fit.handle, 71, &id), kHelErrNone);
	ck_assert_uint_eq(id, 1);
	ck_assert_int_eq(helSubmitAwaitEvent(ev, 1, fit.handle, 72, &id), kHelErrNone);
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	expect_event(&fit, 71, kHelErrNone, 0, 1);
	expect_event(&fit, 72, kHelErrNone, 1, 2);
}
END_TEST

/* ---- threads ------------------------------------------------------------------ */

struct awaiter {
	struct hq *q;
	HelHandle event;
	int submitted;                  /* set once the await is submitted */
	HelError submit_error;
	uint64_t id;
	int got;                        /* an element arrived */
	uintptr_t context;
	struct HelEventResult result;
};

static void *awaiter_main(void *arg)
{
	struct awaiter *a = arg;
	a->submit_error = helSubmitAwaitEvent(a->event, 1, a->q->handle, 0xabc, &a->id);
	__atomic_store_n(&a->submitted, 1, __ATOMIC_RELEASE);
	if (a->submit_error)
		return NULL;
	struct HelElement *e = hq_next(a->q, hq_deadline_ms(20000));
	if (e) {
		a->got = 1;
		a->context = (uintptr_t)e->context;
		if (e->length == sizeof(a->result))
			memcpy(&a->result, hq_payload(e), sizeof(a->result));
	}
	return NULL;
}

START_TEST(test_event_await_from_second_thread)
{
	/* should succeed: a pthread's pending await completes on the main thread's raise */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	HelHandle ev = new_oneshot();
	struct awaiter a = { .q = &q, .event = ev, .submit_error = -1, .result = { .error = -1 } };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, awaiter_main, &a), 0);
	int64_t deadline = hq_deadline_ms(20000);
	while (!__atomic_load_n(&a.submitted, __ATOMIC_ACQUIRE)) {
		uint64_t now;
		helGetClock(&now);
		ck_assert_int_lt((int64_t)now, deadline);
		helYield();
	}
	ck_assert_int_eq(a.submit_error, kHelErrNone);
	ck_assert_uint_eq(a.id, 1);
	/* let the thread reach its wait on the queue, then raise */
	uint64_t until;
	helGetClock(&until);
	until += 30000000ull;
	for (uint64_t now = 0; now < until;)
		helGetClock(&now), helYield();
	ck_assert_int_eq(helRaiseEvent(ev), kHelErrNone);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(a.got, 1);
	ck_assert_uint_eq(a.context, 0xabc);
	ck_assert_int_eq(a.result.error, kHelErrNone);
	ck_assert_uint_eq(a.result.bitset, 1);
	ck_assert_uint_eq(a.result.sequence, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("event");
	TCase *tc = hh_test_case(s, "event", 60);
	tcase_add_test(tc, test_event_create_handles);
	tcase_add_test(tc, test_event_await_oneshot_untriggered_seq0);
	tcase_add_test(tc, test_event_await_oneshot_untriggered_seq1_waits);
	tcase_add_test(tc, test_event_await_oneshot_triggered_seq0);
	tcase_add_test(tc, test_event_await_oneshot_triggered_seq1);
	tcase_add_test(tc, test_event_await_oneshot_sequence_too_large);
	tcase_add_test(tc, test_event_raise_twice);
	tcase_add_test(tc, test_event_raise_completes_all_waiters);
	tcase_add_test(tc, test_event_raise_bad_handles);
	tcase_add_test(tc, test_event_await_bitset_immediate);
	tcase_add_test(tc, test_event_await_bitset_pending_then_cancel);
	tcase_add_test(tc, test_event_await_bitset_sequence_too_large);
	tcase_add_test(tc, test_event_await_async_ids_shared_with_clock);
	tcase_add_test(tc, test_event_await_cancel_pending_oneshot);
	tcase_add_test(tc, test_event_await_close_handle_then_raise_copy);
	tcase_add_test(tc, test_event_await_close_last_handle_then_cancel);
	tcase_add_test(tc, test_event_await_keeps_queue_alive);
	tcase_add_test(tc, test_event_await_bad_handles);
	tcase_add_test(tc, test_event_await_queue_too_small);
	tcase_add_test(tc, test_event_await_from_second_thread);
	return hh_test_main(s);
}
