/*
 * Copy-on-write memory when the emulator's copying fails.  Run alone, the
 * copies must hold their source's bytes; tests/programs/faults.sh runs it
 * again with failures injected into the emulator (HELHOST_FAULTS,
 * tests/support/faults.c).  helCopyOnWrite copies nothing and always
 * succeeds; the first access copies, so when copy_file_range, pread, pwrite
 * or SEEK_HOLE fail, a read through the handle completes with
 * kHelErrNoMemory and the emulator serves on.  helForkMemory, which must
 * tell copied pages from untouched ones, answers kHelErrNoMemory with no
 * handle when SEEK_DATA or SEEK_HOLE fail or its copies do.
 */
#include <check.h>
#include <hel.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "sq.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)

/* True when faults.sh made every copy in the emulator fail. */
static bool copies_fail(void)
{
	const char *faults = getenv("HELHOST_FAULTS");
	return faults && strstr(faults, "eio:");
}

/* True when the emulator cannot tell which pages are copied (and forks fail). */
static bool forks_fail(void)
{
	const char *faults = getenv("HELHOST_FAULTS");
	return copies_fail() || (faults && strstr(faults, "noseek"));
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

/* Every byte of the three pages of copy reads as source() wrote them. */
static void expect_source_bytes(HelHandle copy)
{
	const char *p = NULL;
	ck_assert_int_eq(helMapMemory(copy, kHelNullHandle, NULL, 0, 3 * PAGE, kHelMapProtRead,
			(void **)&p), kHelErrNone);
	for (size_t i = 0; i < 3 * PAGE; i++)
		ck_assert_int_eq(p[i], i < PAGE ? 'a' : i < 2 * PAGE ? 0 : 'c');
}

START_TEST(test_cow_faults_first_access)
{
	struct sq q;
	sq_open(&q);
	HelHandle copy = 0;
	ck_assert_int_eq(helCopyOnWrite(source(), 0, 3 * PAGE, &copy), kHelErrNone);
	ck_assert_int_gt(copy, 0);
	/* the first access copies: a failed copy is the read's error, not a lost page */
	static char buf[3 * PAGE];
	ck_assert_int_eq(helSubmitReadMemory(copy, 0, sizeof(buf), buf, q.q.handle, 1), kHelErrNone);
	HelError e = one_simple(&q, 1);
	ck_assert_int_eq(helNop(), kHelErrNone);
	if (copies_fail()) {
		ck_assert_int_eq(e, kHelErrNoMemory);
		return;
	}
	ck_assert_int_eq(e, kHelErrNone);
	for (size_t i = 0; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], i < PAGE ? 'a' : i < 2 * PAGE ? 0 : 'c');
	expect_source_bytes(copy);
}
END_TEST

START_TEST(test_cow_faults_fork_memory)
{
	struct sq q;
	sq_open(&q);
	HelHandle copy = 0, cow = 0;
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, 3 * PAGE, &cow), kHelErrNone);
	/* A copy-on-write object to fork: made from zeros, its pages need no copy_file_range. */
	const char *s = NULL;
	ck_assert_int_eq(helMapMemory(source(), kHelNullHandle, NULL, 0, 3 * PAGE, kHelMapProtRead,
			(void **)&s), kHelErrNone);
	ck_assert_int_eq(helSubmitWriteMemory(cow, 0, 3 * PAGE, s, q.q.handle, 1), kHelErrNone);
	HelError written = one_simple(&q, 1);
	HelError e = helForkMemory(cow, &copy);
	ck_assert_int_eq(helNop(), kHelErrNone);
	/* When even the write's first access failed (pwrite, SEEK_HOLE), nothing is there to copy. */
	if (copies_fail() && written) {
		ck_assert_int_eq(written, kHelErrNoMemory);
		return;
	}
	ck_assert_int_eq(written, kHelErrNone);
	if (forks_fail()) {
		ck_assert_int_eq(e, kHelErrNoMemory);
		ck_assert_int_eq(copy, 0);
		return;
	}
	ck_assert_int_eq(e, kHelErrNone);
	expect_source_bytes(copy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cow_faults");
	TCase *tc = hh_test_case(s, "cow_faults", 30);
	tcase_add_test(tc, test_cow_faults_first_access);
	tcase_add_test(tc, test_cow_faults_fork_memory);
	return hh_test_main(s);
}
