/* helSubmitLockMemoryView on memory objects (OBJECTS.md §3.5, QUEUES.md §7.1). */
#include <check.h>
#include <hel.h>
#include <stdlib.h>

#include "fixture.h"
#include "quiet.h"

/* Wait for the lock's element: its error, and the handle in *lock. */
static HelError lock_result(HelHandle *lock)
{
	struct HelElement *e = hh_test_next(&hh_test_q, 0x10c);
	ck_assert_uint_eq(e->length, sizeof(struct HelHandleResult));
	struct HelHandleResult *r = hq_payload(e);
	ck_assert_int_eq(r->reserved, 0);
	*lock = r->handle;
	return r->error;
}

START_TEST(test_lock_memory_view_whole_and_part)
{
	/* should succeed: a lock handle of its own type, closed like any handle */
	HelHandle mem = hh_test_memory(4 * 4096), lock;
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, 4 * 4096, hh_test_q.handle, 0x10c),
			kHelErrNone);
	ck_assert_int_eq(lock_result(&lock), kHelErrNone);
	ck_assert_int_eq(lock, mem + 1);        /* the universe's next number */
	size_t size;
	ck_assert_int_eq(helMemoryInfo(lock, &size), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 4096, 4096, hh_test_q.handle, 0x10c),
			kHelErrNone);
	HelHandle second;
	ck_assert_int_eq(lock_result(&second), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, lock), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, lock), kHelErrNoDescriptor);
	/* the lock outlives the memory handle */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, mem), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, second), kHelErrNone);
}
END_TEST

START_TEST(test_lock_memory_view_beyond_object)
{
	/* a range beyond the object: kHelErrFault in the element, handle 0 (should fail) */
	HelHandle mem = hh_test_memory(4096), lock = 77;
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, 2 * 4096, hh_test_q.handle, 0x10c),
			kHelErrNone);
	ck_assert_int_eq(lock_result(&lock), kHelErrFault);
	ck_assert_int_eq(lock, kHelNullHandle);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, UINT64_MAX - 4095, 8192, hh_test_q.handle, 0x10c),
			kHelErrNone);
	ck_assert_int_eq(lock_result(&lock), kHelErrFault);
}
END_TEST

START_TEST(test_lock_memory_view_bad_handles)
{
	HelHandle mem = hh_test_memory(4096);
	/* memory handle first, then the queue, then the queue's size (should fail) */
	ck_assert_int_eq(helSubmitLockMemoryView(9999, 0, 4096, 9998, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitLockMemoryView(hh_test_q.handle, 0, 4096, hh_test_q.handle, 0),
			kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, 4096, 9998, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, 4096, mem, 0), kHelErrBadDescriptor);
	struct HelQueueParameters tiny = { .ringShift = 1, .numChunks = 1, .chunkSize = 24 };
	HelHandle small;
	ck_assert_int_eq(helCreateQueue(&tiny, &small), kHelErrNone);
	ck_assert_int_eq(helSubmitLockMemoryView(mem, 0, 4096, small, 0), kHelErrQueueTooSmall);
	hq_expect_empty(&hh_test_q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = hh_test_case_with_queue(s, "lock", 60);
	tcase_add_test(tc, test_lock_memory_view_whole_and_part);
	tcase_add_test(tc, test_lock_memory_view_beyond_object);
	tcase_add_test(tc, test_lock_memory_view_bad_handles);
	return hh_test_main(s);
}
