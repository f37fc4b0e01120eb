/*
 * Address spaces of their own (helCreateSpace, OBJECTS.md §4): mapping into
 * them, placement over the whole usable range, unmapping, protection, and
 * reading and writing through them.  No thread runs in them hosted yet.
 */
#include <check.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "vm.h"

enum { PAGE = 4096 };
/* Placement ends below the stub processes behind created threads (src/native/stubpage.h). */
#define TOP 0x7ff000000000ull

static HelHandle space(void)
{
	HelHandle s;
	ck_assert_int_eq(helCreateSpace(&s), kHelErrNone);
	return s;
}

/* Submit a read or write through a handle and wait for its result. */
static HelError copy(HelHandle h, uint64_t address, void *buf, size_t len, int write)
{
	HelError e = write ? helSubmitWriteMemory(h, address, len, buf, hh_test_q.handle, 0x5b)
			: helSubmitReadMemory(h, address, len, buf, hh_test_q.handle, 0x5b);
	if (e)
		return e;
	struct HelElement *el = hh_test_next(&hh_test_q, 0x5b);
	return ((struct HelSimpleResult *)hq_payload(el))->error;
}

START_TEST(test_spaces_placement_is_top_down)
{
	/* should succeed: the first mapping ends at the top of the lower half */
	HelHandle s = space(), m = hh_test_memory(2 * PAGE);
	char *before = vm_snapshot();
	void *a, *b;
	ck_assert_int_eq(helMapMemory(m, s, NULL, 0, 2 * PAGE, kHelMapProtRead, &a), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)a, TOP - 2 * PAGE);
	ck_assert_int_eq(helMapMemory(m, s, NULL, 0, PAGE, kHelMapProtRead, &b), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)b, TOP - 3 * PAGE);
	/* fixed and no-replace at low addresses */
	void *c;
	ck_assert_int_eq(helMapMemory(m, s, (void *)0x10000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &c), kHelErrNone);
	ck_assert_uint_eq((uintptr_t)c, 0x10000);
	ck_assert_int_eq(helMapMemory(m, s, (void *)0x10000, 0, PAGE,
			kHelMapProtRead | kHelMapFixedNoReplace, &c), kHelErrAlreadyExists);
	ck_assert_int_eq(helMapMemory(m, s, (void *)0, 0, PAGE,
			kHelMapProtRead | kHelMapFixedNoReplace, &c), kHelErrNoMemory);
	/* nothing appeared in our own space: Linux maps nothing more or less */
	ck_assert(vm_unmapped((void *)0x10000, PAGE));
	char *after = vm_snapshot();
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_spaces_read_write_through)
{
	/* should succeed: bytes written through the space land in the object */
	HelHandle s = space(), m = hh_test_memory(2 * PAGE);
	void *a;
	ck_assert_int_eq(helMapMemory(m, s, NULL, 0, 2 * PAGE, kHelMapProtRead, &a), kHelErrNone);
	char text[] = "written through a space";
	/* protections do not matter to these calls (OBJECTS.md §4.6) */
	ck_assert_int_eq(copy(s, (uintptr_t)a + PAGE - 5, text, sizeof(text), 1), kHelErrNone);
	char back[sizeof(text)] = { 0 };
	ck_assert_int_eq(copy(m, PAGE - 5, back, sizeof(back), 0), kHelErrNone);
	ck_assert_str_eq(back, text);
	memset(back, 0, sizeof(back));
	ck_assert_int_eq(copy(s, (uintptr_t)a + PAGE - 5, back, sizeof(back), 0), kHelErrNone);
	ck_assert_str_eq(back, text);
}
END_TEST

START_TEST(test_spaces_copy_across_mappings)
{
	/* should succeed: one copy over two adjacent mappings of two objects */
	HelHandle s = space(), m1 = hh_test_memory(PAGE), m2 = hh_test_memory(PAGE);
	void *a, *b;
	ck_assert_int_eq(helMapMemory(m1, s, (void *)0x20000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &a), kHelErrNone);
	ck_assert_int_eq(helMapMemory(m2, s, (void *)0x21000, 0, PAGE,
			kHelMapProtRead | kHelMapFixed, &b), kHelErrNone);
	char buf[64];
	memset(buf, 'z', sizeof(buf));
	ck_assert_int_eq(copy(s, 0x21000 - 32, buf, sizeof(buf), 1), kHelErrNone);
	char one = 0, two = 0;
	ck_assert_int_eq(copy(m1, PAGE - 1, &one, 1, 0), kHelErrNone);
	ck_assert_int_eq(copy(m2, 31, &two, 1, 0), kHelErrNone);
	ck_assert_int_eq(one, 'z');
	ck_assert_int_eq(two, 'z');
	/* a gap in the range is a fault (should fail) */
	ck_assert_int_eq(copy(s, 0x22000 - 8, buf, 16, 1), kHelErrFault);
	ck_assert_int_eq(copy(s, 0x30000, buf, 1, 0), kHelErrFault);
	/* an unmapped range is a fault too, after unmapping */
	ck_assert_int_eq(helUnmapMemory(s, (void *)0x20000, PAGE), kHelErrNone);
	ck_assert_int_eq(copy(s, 0x20000, buf, 1, 0), kHelErrFault);
	ck_assert_int_eq(copy(s, 0x21000, buf, 1, 0), kHelErrNone);
}
END_TEST

START_TEST(test_spaces_protect_and_synchronize)
{
	/* should succeed: both complete; the table changes, our own space does not */
	HelHandle s = space(), m = hh_test_memory(PAGE);
	char *before = vm_snapshot();
	void *a;
	ck_assert_int_eq(helMapMemory(m, s, NULL, 0, PAGE, kHelMapProtRead | kHelMapProtWrite, &a),
			kHelErrNone);
	ck_assert_int_eq(helSubmitProtectMemory(s, a, PAGE, kHelMapProtRead, hh_test_q.handle, 1),
			kHelErrNone);
	ck_assert_int_eq(helSubmitSynchronizeSpace(s, a, PAGE, hh_test_q.handle, 2), kHelErrNone);
	for (int i = 0; i < 2; i++) {
		struct HelElement *el = hq_next(&hh_test_q, hq_deadline_ms(20000));
		ck_assert_ptr_nonnull(el);
		ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(el))->error, kHelErrNone);
	}
	char *after = vm_snapshot();
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_spaces_keep_objects_alive)
{
	/* should succeed: a mapping in a space keeps its object after the handle is closed */
	HelHandle s = space(), m = hh_test_memory(PAGE);
	void *a;
	ck_assert_int_eq(helMapMemory(m, s, NULL, 0, PAGE, kHelMapProtRead, &a), kHelErrNone);
	char text[] = "kept";
	ck_assert_int_eq(copy(s, (uintptr_t)a, text, sizeof(text), 1), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	char back[8] = { 0 };
	ck_assert_int_eq(copy(s, (uintptr_t)a, back, sizeof(text), 0), kHelErrNone);
	ck_assert_str_eq(back, text);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, s), kHelErrNone);
}
END_TEST

START_TEST(test_spaces_bad_handles)
{
	HelHandle m = hh_test_memory(PAGE);
	void *a;
	char buf[8];
	/* a memory handle is no space (should fail) */
	ck_assert_int_eq(helMapMemory(m, m, NULL, 0, PAGE, kHelMapProtRead, &a), kHelErrBadDescriptor);
	ck_assert_int_eq(helUnmapMemory(m, (void *)0x10000, PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helMapMemory(m, 9999, NULL, 0, PAGE, kHelMapProtRead, &a), kHelErrNoDescriptor);
	/* kHelNullHandle is not accepted by read/write memory (should fail) */
	ck_assert_int_eq(helSubmitReadMemory(kHelNullHandle, 0, 1, buf, hh_test_q.handle, 0),
			kHelErrNoDescriptor);
	/* a space's memory info or resize makes no sense (should fail) */
	HelHandle s = space();
	size_t size;
	ck_assert_int_eq(helMemoryInfo(s, &size), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitAsyncNop(s, 0), kHelErrBadDescriptor);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spaces");
	TCase *tc = hh_test_case_with_queue(s, "spaces", 60);
	tcase_add_test(tc, test_spaces_placement_is_top_down);
	tcase_add_test(tc, test_spaces_read_write_through);
	tcase_add_test(tc, test_spaces_copy_across_mappings);
	tcase_add_test(tc, test_spaces_protect_and_synchronize);
	tcase_add_test(tc, test_spaces_keep_objects_alive);
	tcase_add_test(tc, test_spaces_bad_handles);
	return hh_test_main(s);
}
