/*
 * Copies of memory objects when the emulator's copying fails.  Run alone, the
 * copies must hold their source's bytes; tests/programs/faults.sh runs it again
 * with failures injected into the emulator (HELHOST_FAULTS, tests/support/
 * faults.c): without SEEK_DATA the copies must still be exact, and when
 * copy_file_range, pread, pwrite or SEEK_HOLE fail, helCopyOnWrite and
 * helForkMemory must answer kHelErrNoMemory, hand out no handle, and leave the
 * emulator serving.
 */
#include <check.h>
#include <hel.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)

/* True when faults.sh made every copy in the emulator fail. */
static bool copies_fail(void)
{
	const char *faults = getenv("HELHOST_FAULTS");
	return faults && strstr(faults, "eio:");
}

/* Three pages: 'a', a hole, 'c'. */
static HelHandle source(void)
{
	HelHandle h;
	void *p = NULL;
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, 0, NULL, &h), kHelErrNone);
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, 3 * PAGE, RW, &p), kHelErrNone);
	memset(p, 'a', PAGE);
	memset((char *)p + 2 * PAGE, 'c', PAGE);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 3 * PAGE), kHelErrNone);
	return h;
}

static void expect_copy(HelError e, HelHandle copy)
{
	if (copies_fail()) {
		ck_assert_int_eq(e, kHelErrNoMemory);
		ck_assert_int_eq(copy, 0);
		ck_assert_int_eq(helNop(), kHelErrNone);
		return;
	}
	ck_assert_int_eq(e, kHelErrNone);
	const char *p = NULL;
	ck_assert_int_eq(helMapMemory(copy, kHelNullHandle, NULL, 0, 3 * PAGE, kHelMapProtRead,
			(void **)&p), kHelErrNone);
	for (size_t i = 0; i < 3 * PAGE; i++)
		ck_assert_int_eq(p[i], i < PAGE ? 'a' : i < 2 * PAGE ? 0 : 'c');
}

START_TEST(test_cow_faults_copy_on_write)
{
	HelHandle copy = 0;
	HelError e = helCopyOnWrite(source(), 0, 3 * PAGE, &copy);
	expect_copy(e, copy);
}
END_TEST

START_TEST(test_cow_faults_fork_memory)
{
	HelHandle copy = 0, cow = 0;
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, 3 * PAGE, &cow), kHelErrNone);
	HelHandle src = source();
	/* A copy-on-write object to fork: made from zeros, it needs no copy; then filled. */
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(cow, kHelNullHandle, NULL, 0, 3 * PAGE, RW, &p), kHelErrNone);
	const char *s = NULL;
	ck_assert_int_eq(helMapMemory(src, kHelNullHandle, NULL, 0, 3 * PAGE, kHelMapProtRead,
			(void **)&s), kHelErrNone);
	memcpy(p, s, 3 * PAGE);
	HelError e = helForkMemory(cow, &copy);
	expect_copy(e, copy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cow_faults");
	TCase *tc = hh_test_case(s, "cow_faults", 30);
	tcase_add_test(tc, test_cow_faults_copy_on_write);
	tcase_add_test(tc, test_cow_faults_fork_memory);
	return hh_test_main(s);
}
