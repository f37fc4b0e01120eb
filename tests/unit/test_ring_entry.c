/*
 * Reading a ring entry (src/host/ring_entry.c), linked directly: what the
 * emulator accepts from the indices and sizes a program wrote, and what
 * makes it abandon the ring.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

static unsigned char data[HH_RING_BYTES];

static void put(uint32_t at, uint32_t size, uint32_t call)
{
	struct hh_ring_entry e = { .size = size, .call = call, .arg = { 7, 8 } };
	size_t room = HH_RING_BYTES - at % HH_RING_BYTES;
	memcpy(data + at % HH_RING_BYTES, &e, size < sizeof(e) || room < sizeof(e) ? 8 : sizeof(e));
}

#define ENTRY ((uint32_t)sizeof(struct hh_ring_entry))

START_TEST(test_ring_entry_whole)
{
	/* should succeed: an entry wholly published reads with its header */
	struct hh_ring_entry hdr;
	put(0, ENTRY, 3);
	ck_assert_int_eq(hh_ring_next(data, 0, ENTRY, &hdr), (int)ENTRY);
	ck_assert_uint_eq(hdr.call, 3);
	ck_assert_uint_eq(hdr.arg[1], 8);
	/* should succeed: an empty ring has none */
	ck_assert_int_eq(hh_ring_next(data, ENTRY, ENTRY, &hdr), 0);
}
END_TEST

START_TEST(test_ring_entry_indices_wrap)
{
	/* should succeed: free-running indices past 2^32 and a padding entry at the end */
	struct hh_ring_entry hdr;
	uint32_t head = UINT32_MAX - 15;        /* 16 bytes before the index wraps: an offset of ring end - 16 */
	put(head, 16, 0);
	ck_assert_int_eq(hh_ring_next(data, head, head + 16 + ENTRY, &hdr), 16);
	ck_assert_uint_eq(hdr.call, 0);
	put(head + 16, ENTRY, 3);
	ck_assert_int_eq(hh_ring_next(data, head + 16, head + 16 + ENTRY, &hdr), (int)ENTRY);
}
END_TEST

START_TEST(test_ring_entry_garbage)
{
	struct hh_ring_entry hdr;
	/* should fail: more published than the ring holds, or a tail behind the head */
	ck_assert_int_eq(hh_ring_next(data, 0, HH_RING_BYTES + 8, &hdr), -1);
	ck_assert_int_eq(hh_ring_next(data, 64, 8, &hdr), -1);
	/* should fail: a head not on an 8-byte boundary (only the emulator moves it, but still) */
	ck_assert_int_eq(hh_ring_next(data, 4, 4 + ENTRY, &hdr), -1);
	/* should fail: sizes not a multiple of 8, too small for a call, past the published bytes or the end */
	put(0, 13, 3);
	ck_assert_int_eq(hh_ring_next(data, 0, ENTRY, &hdr), -1);
	put(0, 16, 3);
	ck_assert_int_eq(hh_ring_next(data, 0, ENTRY, &hdr), -1);
	put(0, ENTRY + 8, 3);
	ck_assert_int_eq(hh_ring_next(data, 0, ENTRY, &hdr), -1);
	put(HH_RING_BYTES - 16, ENTRY, 3);
	ck_assert_int_eq(hh_ring_next(data, HH_RING_BYTES - 16, HH_RING_BYTES - 16 + ENTRY, &hdr), -1);
	put(0, 0, 0);
	ck_assert_int_eq(hh_ring_next(data, 0, ENTRY, &hdr), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_entry");
	TCase *tc = tcase_create("ring_entry");
	tcase_add_test(tc, test_ring_entry_whole);
	tcase_add_test(tc, test_ring_entry_indices_wrap);
	tcase_add_test(tc, test_ring_entry_garbage);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
