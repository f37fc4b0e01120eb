/*
 * helSubmitProtectMemory and helSubmitSynchronizeSpace on the program's own
 * space (OBJECTS.md §4.4, §4.5).
 */
#include <check.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "quiet.h"
#include "vm.h"

enum { PAGE = 4096 };

static char *map_pages(int pages, uint32_t flags)
{
	HelHandle mem;
	void *p;
	ck_assert_int_eq(helAllocateMemory((size_t)pages * PAGE, 0, NULL, &mem), kHelErrNone);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, (size_t)pages * PAGE, flags, &p),
			kHelErrNone);
	return p;
}

/* Submit a protection change and wait for its element; returns the element's error. */
static HelError protect(void *p, size_t len, uint32_t flags)
{
	HelError e = helSubmitProtectMemory(kHelNullHandle, p, len, flags, hh_test_q.handle, 0x77);
	if (e)
		return e;
	struct HelElement *el = hh_test_next(&hh_test_q, 0x77);
	return ((struct HelSimpleResult *)hq_payload(el))->error;
}

START_TEST(test_space_protect_read_only_then_back)
{
	/* should succeed: read-only keeps the contents readable, then writable again */
	char *p = map_pages(2, kHelMapProtRead | kHelMapProtWrite);
	strcpy(p, "before");
	ck_assert_int_eq(protect(p, 2 * PAGE, kHelMapProtRead), kHelErrNone);
	ck_assert_str_eq(p, "before");
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "r--s"));
	ck_assert(!vm_can_write(p + PAGE));
	ck_assert_int_eq(protect(p, 2 * PAGE, kHelMapProtRead | kHelMapProtWrite), kHelErrNone);
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	strcpy(p, "after");
	ck_assert_str_eq(p, "after");
	/* and it can be unmapped as usual */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 2 * PAGE), kHelErrNone);
}
END_TEST

START_TEST(test_space_protect_write_faults)
{
	/* a write that worked before the protect faults after it */
	char *p = map_pages(1, kHelMapProtRead | kHelMapProtWrite);
	ck_assert(vm_can_write(p));
	ck_assert_int_eq(protect(p, PAGE, kHelMapProtRead), kHelErrNone);
	ck_assert(!vm_can_write(p));
	ck_assert(vm_can_read(p));
}
END_TEST

START_TEST(test_space_protect_none_read_faults)
{
	/* a read that worked before the protect faults after it */
	char *p = map_pages(1, kHelMapProtRead | kHelMapProtWrite);
	ck_assert(vm_can_read(p));
	ck_assert_int_eq(protect(p, PAGE, 0), kHelErrNone);
	ck_assert(vm_hel_mapped(p, PAGE, "---s"));
	ck_assert(!vm_can_read(p));
}
END_TEST

START_TEST(test_space_protect_middle_page_splits)
{
	/* should succeed: only the middle page changes; its neighbours stay writable */
	char *p = map_pages(3, kHelMapProtRead | kHelMapProtWrite);
	ck_assert_int_eq(protect(p + PAGE, PAGE, kHelMapProtRead), kHelErrNone);
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	ck_assert(vm_hel_mapped(p + PAGE, PAGE, "r--s"));
	ck_assert(vm_hel_mapped(p + 2 * PAGE, PAGE, "rw-s"));
	ck_assert(vm_can_write(p + PAGE - 1));
	ck_assert(!vm_can_write(p + PAGE));
	ck_assert(!vm_can_write(p + 2 * PAGE - 1));
	ck_assert(vm_can_read(p + PAGE));
	ck_assert(vm_can_write(p + 2 * PAGE));
	p[0] = 1;
	p[2 * PAGE] = 3;
	ck_assert_int_eq(p[PAGE], 0);
	/* the pieces unmap separately, the read-only one included */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + PAGE, PAGE), kHelErrNone);
	ck_assert(vm_unmapped(p + PAGE, PAGE));
	ck_assert_int_eq(p[2 * PAGE], 3);
}
END_TEST

START_TEST(test_space_protect_gaps_are_fine)
{
	/* should succeed: a range over a mapping and unmapped gaps around it */
	char *p = map_pages(3, kHelMapProtRead | kHelMapProtWrite);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	ck_assert_int_eq(protect(p, 3 * PAGE, kHelMapProtRead), kHelErrNone);
	ck_assert_int_eq(p[PAGE], 0);
	ck_assert(vm_unmapped(p, PAGE));
	ck_assert(vm_hel_mapped(p + PAGE, 2 * PAGE, "r--s"));
}
END_TEST

START_TEST(test_space_protect_errors)
{
	char *p = map_pages(1, kHelMapProtRead | kHelMapProtWrite);
	HelHandle mem;
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &mem), kHelErrNone);
	/* bad space and queue handles (should fail) */
	ck_assert_int_eq(helSubmitProtectMemory(9999, p, PAGE, kHelMapProtRead, hh_test_q.handle, 0),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitProtectMemory(mem, p, PAGE, kHelMapProtRead, hh_test_q.handle, 0),
			kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, p, PAGE, kHelMapProtRead, 9999, 0),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, p, PAGE, kHelMapProtRead, mem, 0),
			kHelErrBadDescriptor);
	/* unaligned ranges (should fail) */
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, p + 1, PAGE, kHelMapProtRead,
			hh_test_q.handle, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, p, 100, kHelMapProtRead,
			hh_test_q.handle, 0), kHelErrIllegalArgs);
	/* nothing was posted */
	hq_expect_empty(&hh_test_q);
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	p[0] = 1;
}
END_TEST

START_TEST(test_space_synchronize)
{
	/* should succeed: one element, nothing else changes */
	char *p = map_pages(2, kHelMapProtRead | kHelMapProtWrite);
	p[0] = 5;
	char *before = vm_snapshot();
	ck_assert_int_eq(helSubmitSynchronizeSpace(kHelNullHandle, p, 2 * PAGE, hh_test_q.handle, 0x55),
			kHelErrNone);
	struct HelElement *el = hh_test_next(&hh_test_q, 0x55);
	ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(el))->error, kHelErrNone);
	ck_assert_int_eq(p[0], 5);
	char *after = vm_snapshot();
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	/* bad handles (should fail) */
	ck_assert_int_eq(helSubmitSynchronizeSpace(9999, p, PAGE, hh_test_q.handle, 0), kHelErrNoDescriptor);
	ck_assert_int_eq(helSubmitSynchronizeSpace(kHelNullHandle, p, PAGE, 9999, 0),
			kHelErrNoDescriptor);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("protect");
	TCase *tc = hh_test_case_with_queue(s, "protect", 60);
	tcase_add_test(tc, test_space_protect_read_only_then_back);
	tcase_add_test(tc, test_space_protect_write_faults);
	tcase_add_test(tc, test_space_protect_none_read_faults);
	tcase_add_test(tc, test_space_protect_middle_page_splits);
	tcase_add_test(tc, test_space_protect_gaps_are_fine);
	tcase_add_test(tc, test_space_protect_errors);
	tcase_add_test(tc, test_space_synchronize);
	return hh_test_main(s);
}
