#include "fixture.h"

#include <stdlib.h>

TCase *hh_test_case(Suite *s, const char *name, double timeout)
{
	TCase *tc = tcase_create(name);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

struct hq hh_test_q;

static void open_test_q(void)
{
	hh_test_open(&hh_test_q, 4, 4, 512);
}

TCase *hh_test_case_with_queue(Suite *s, const char *name, double timeout)
{
	TCase *tc = hh_test_case(s, name, timeout);
	tcase_add_checked_fixture(tc, open_test_q, NULL);
	return tc;
}

int hh_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

HelHandle hh_test_memory(size_t size)
{
	HelHandle h;
	ck_assert_int_eq(helAllocateMemory(size, 0, NULL, &h), kHelErrNone);
	return h;
}

char *hh_test_map(HelHandle h, void *hint, size_t offset, size_t len, uint32_t flags)
{
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, hint, offset, len, flags, &p), kHelErrNone);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 4096, 0);
	return p;
}

HelHandle hh_test_queue(void)
{
	struct HelQueueParameters p = { .ringShift = 2, .numChunks = 1, .chunkSize = 256 };
	HelHandle q;
	ck_assert_int_eq(helCreateQueue(&p, &q), kHelErrNone);
	return q;
}

void hh_test_open(struct hq *q, unsigned ring_shift, unsigned chunks, size_t chunk_size)
{
	ck_assert_int_eq(hq_open(q, ring_shift, chunks, chunk_size), kHelErrNone);
}

struct HelElement *hh_test_next(struct hq *q, uintptr_t context)
{
	struct HelElement *e = hq_next(q, hq_deadline_ms(HH_TEST_WAIT_MS));
	ck_assert_msg(e != NULL, "no element within %d ms", HH_TEST_WAIT_MS);
	ck_assert_uint_eq((uintptr_t)e->context, context);
	return e;
}

void hh_test_stream(HelHandle *lane0, HelHandle *lane1)
{
	ck_assert_int_eq(helCreateStream(lane0, lane1, 0), kHelErrNone);
}
