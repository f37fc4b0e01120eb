/*
 * Argument checks of the decoders that no other suite reaches: ranges that
 * wrap around the address space, deadlines and queues that cannot serve a
 * call, priorities beyond Hel's range.  Each answers the exact error and,
 * where the call has an effect, the effect is checked.
 */
#include <check.h>
#include <errno.h>
#include <hel.h>
#include <helhost.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "hq.h"

/* The last page of the 64-bit space: one more page wraps around. */
#define LAST_PAGE ((void *)0xfffffffffffff000ull)

START_TEST(test_decoders_unmap_wrapping_range)
{
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, LAST_PAGE, 0x2000), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_protect_wrapping_range)
{
	struct hq q;
	ck_assert_int_eq(hq_open(&q, 1, 1, 256), kHelErrNone);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, LAST_PAGE, 0x2000, kHelMapProtRead,
			q.handle, 1), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_lookup_bad_deadline)
{
	struct hq q;
	uint64_t id;
	ck_assert_int_eq(hq_open(&q, 1, 1, 256), kHelErrNone);
	ck_assert_int_eq(helhost_submit_lookup("decoders", -2, q.handle, 1, &id), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_lookup_queue_too_small)
{
	/* 24-byte chunks hold a simple result (16 + 8) but not a handle result (16 + 16). */
	struct hq q;
	uint64_t id;
	ck_assert_int_eq(hq_open(&q, 1, 1, 24), kHelErrNone);
	ck_assert_int_eq(helhost_submit_lookup("decoders", kHelWaitInfinite, q.handle, 1, &id),
			kHelErrQueueTooSmall);
}
END_TEST

/* Hel priorities beyond [-19, 20] clamp to Linux's nice range. */
START_TEST(test_decoders_priority_clamps)
{
	ck_assert_int_eq(helSetPriority(kHelThisThread, -1000), kHelErrNone);
	errno = 0;
	ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)gettid()), 19);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(helSetPriority(kHelThisThread, 1000), kHelErrNone);
	/* Raising needs privilege; without it the priority stays a hint. */
	if (geteuid() == 0)
		ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)gettid()), -20);
}
END_TEST

static Suite *decoders_suite(void)
{
	Suite *s = suite_create("decoders");
	TCase *tc = tcase_create("decoders");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_decoders_unmap_wrapping_range);
	tcase_add_test(tc, test_decoders_protect_wrapping_range);
	tcase_add_test(tc, test_decoders_lookup_bad_deadline);
	tcase_add_test(tc, test_decoders_lookup_queue_too_small);
	tcase_add_test(tc, test_decoders_priority_clamps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decoders_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
