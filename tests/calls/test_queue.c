/*
 * helCreateQueue, the queue protocol, helSubmitAsyncNop, helSubmitAwaitClock
 * and helCancelAsync, run under an auto-started emulator (QUEUES.md).
 */
#include <check.h>
#include <hel.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "quiet.h"

static struct HelSimpleResult *simple(struct HelElement *e)
{
	ck_assert_uint_eq(e->length, sizeof(struct HelSimpleResult));
	return hq_payload(e);
}

START_TEST(test_queue_create_maps_and_delivers_nop)
{
	/* should succeed: a nop completes into a fresh queue */
	struct hq q;
	hh_test_open(&q, 9, 4, 1024);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 0x1234), kHelErrNone);
	struct HelElement *e = hh_test_next(&q, 0x1234);
	ck_assert_uint_eq(e->reserved, 0);
	ck_assert_int_eq(simple(e)->error, kHelErrNone);
	ck_assert_int_eq(simple(e)->reserved, 0);
	hq_close(&q);
}
END_TEST

START_TEST(test_queue_create_bad_params)
{
	HelHandle h;
	struct HelQueueParameters p = { .flags = 1, .ringShift = 2, .numChunks = 1, .chunkSize = 64 };
	/* nonzero flags (should fail) */
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrIllegalArgs);
	/* no chunks, tiny chunks, huge chunks, huge ring (should fail) */
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 0, .chunkSize = 64 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = 23 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 1, .chunkSize = 1 << 24 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrIllegalArgs);
	p = (struct HelQueueParameters){ .ringShift = 25, .numChunks = 1, .chunkSize = 64 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrIllegalArgs);
	/* absurd total size (should fail) */
	p = (struct HelQueueParameters){ .ringShift = 2, .numChunks = 0xffffffffu, .chunkSize = 4096 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrNoMemory);
	/* unreadable parameters (should fail) */
	ck_assert_int_eq(helCreateQueue((const struct HelQueueParameters *)8, &h), kHelErrFault);
}
END_TEST

START_TEST(test_queue_map_too_large)
{
	/* mapping more than the queue memory (should fail) */
	HelHandle h;
	struct HelQueueParameters p = { .ringShift = 2, .numChunks = 1, .chunkSize = 64 };
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrNone);
	void *ptr;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, 8192,
			kHelMapProtRead | kHelMapProtWrite, &ptr), kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &ptr), kHelErrNone);
}
END_TEST

START_TEST(test_queue_elements_cross_chunks_in_order)
{
	/* should succeed: 200 nops through 2 chunks of 64 bytes (2 elements each) */
	struct hq q;
	hh_test_open(&q, 1, 2, 64);
	for (uintptr_t i = 0; i < 200; i++) {
		ck_assert_int_eq(helSubmitAsyncNop(q.handle, i), kHelErrNone);
		if (i % 3 == 2)
			for (uintptr_t j = i - 2; j <= i; j++)
				hh_test_next(&q, j);
	}
}
END_TEST

START_TEST(test_queue_completions_wait_for_chunks)
{
	/* should succeed: completions posted with no chunk supplied arrive once one is */
	struct HelQueueParameters p = { .ringShift = 3, .numChunks = 2, .chunkSize = 256 };
	HelHandle h;
	ck_assert_int_eq(helCreateQueue(&p, &h), kHelErrNone);
	void *base;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &base), kHelErrNone);
	struct HelQueue *queue = base;
	for (uintptr_t i = 0; i < 5; i++)
		ck_assert_int_eq(helSubmitAsyncNop(h, 100 + i), kHelErrNone);
	/* The kernel waits on the head: it set the waiters bit. */
	ck_assert_int_eq(__atomic_load_n(&queue->headFutex, __ATOMIC_ACQUIRE), kHelHeadWaiters);
	struct HelChunk *c0 = (struct HelChunk *)((char *)base + 64);
	queue->indexQueue[0] = 0;
	int old = __atomic_exchange_n(&queue->headFutex, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(old & kHelHeadWaiters, kHelHeadWaiters);
	ck_assert_int_eq(helFutexWake(&queue->headFutex), kHelErrNone);
	/* All five fit one 256-byte chunk (24 bytes each). */
	int64_t deadline = hq_deadline_ms(20000);
	while ((__atomic_load_n(&c0->progressFutex, __ATOMIC_ACQUIRE) & kHelProgressMask) < 5 * 24) {
		uint64_t now;
		helGetClock(&now);
		ck_assert_int_lt((int64_t)now, deadline);
		helYield();
	}
	struct HelElement *e = (struct HelElement *)c0->buffer;
	for (uintptr_t i = 0; i < 5; i++, e = (struct HelElement *)((char *)(e + 1) + e->length))
		ck_assert_uint_eq((uintptr_t)e->context, 100 + i);
}
END_TEST

START_TEST(test_queue_nop_bad_handles)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	/* unknown, null and closed handles (should fail) */
	ck_assert_int_eq(helSubmitAsyncNop(9999, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsyncNop(kHelNullHandle, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitAsyncNop(kHelThisUniverse, 0), kHelErrNoDescriptor);
	/* wrong type (should fail) */
	ck_assert_int_eq(helSubmitAsyncNop(universe, 0), kHelErrBadDescriptor);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, q.handle), kHelErrNone);
	ck_assert_int_eq(helSubmitAsyncNop(q.handle, 0), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_queue_clock_wait_and_cancel)
{
	struct hq q;
	hh_test_open(&q, 4, 2, 512);
	uint64_t now, id_past, id_soon, id_far;
	ck_assert_int_eq(helGetClock(&now), kHelErrNone);
	/* should succeed: IDs count up from 1 per queue (the far wait cannot fire during the test) */
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, q.handle, 3, &id_far), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock(0, q.handle, 1, &id_past), kHelErrNone);
	ck_assert_uint_eq(id_far, 1);
	ck_assert_uint_eq(id_past, 2);
	/* a past deadline completes at once with success: its element is there before the next call */
	struct HelElement *e = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_uint_eq((uintptr_t)e->context, 1);
	ck_assert_int_eq(simple(e)->error, kHelErrNone);
	ck_assert_int_eq(helGetClock(&now), kHelErrNone);
	ck_assert_int_eq(helSubmitAwaitClock(now + 10000000ull, q.handle, 2, &id_soon), kHelErrNone);
	ck_assert_uint_eq(id_soon, 3);
	/* the 10 ms wait completes after its deadline */
	e = hq_next(&q, hq_deadline_ms(20000));
	ck_assert_uint_eq((uintptr_t)e->context, 2);
	ck_assert_int_eq(simple(e)->error, kHelErrNone);
	uint64_t later;
	helGetClock(&later);
	ck_assert_uint_ge(later, now + 10000000ull);
	/* cancelling the far wait delivers kHelErrCancelled at once */
	ck_assert_int_eq(helCancelAsync(q.handle, id_far), kHelErrNone);
	e = hh_test_next(&q, 3);
	ck_assert_int_eq(simple(e)->error, kHelErrCancelled);
	/* cancelling a completed ID again: no effect, no element */
	ck_assert_int_eq(helCancelAsync(q.handle, id_far), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(q.handle, id_soon), kHelErrNone);
	hq_expect_empty(&q);
}
END_TEST

START_TEST(test_queue_cancel_bad_args)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	/* IDs never issued by this queue (should fail) */
	ck_assert_int_eq(helCancelAsync(q.handle, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helCancelAsync(q.handle, 1), kHelErrIllegalArgs);
	/* bad queue handles (should fail) */
	ck_assert_int_eq(helCancelAsync(12345, 1), kHelErrNoDescriptor);
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &mem), kHelErrNone);
	ck_assert_int_eq(helCancelAsync(mem, 1), kHelErrBadDescriptor);
	uint64_t id;
	ck_assert_int_eq(helSubmitAwaitClock(0, mem, 0, &id), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAwaitClock(0, 777, 0, &id), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_queue_survives_handle_close)
{
	/* should succeed: a pending wait completes after its queue handle is closed */
	struct hq q;
	hh_test_open(&q, 2, 2, 256);
	uint64_t now, id;
	helGetClock(&now);
	ck_assert_int_eq(helSubmitAwaitClock(now + 20000000ull, q.handle, 77, &id), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, q.handle), kHelErrNone);
	hh_test_next(&q, 77);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = hh_test_case(s, "queue", 60);
	tcase_add_test(tc, test_queue_create_maps_and_delivers_nop);
	tcase_add_test(tc, test_queue_create_bad_params);
	tcase_add_test(tc, test_queue_map_too_large);
	tcase_add_test(tc, test_queue_elements_cross_chunks_in_order);
	tcase_add_test(tc, test_queue_completions_wait_for_chunks);
	tcase_add_test(tc, test_queue_nop_bad_handles);
	tcase_add_test(tc, test_queue_clock_wait_and_cancel);
	tcase_add_test(tc, test_queue_cancel_bad_args);
	tcase_add_test(tc, test_queue_survives_handle_close);
	return hh_test_main(s);
}
