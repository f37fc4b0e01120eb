/*
 * helCopyOnWrite and helForkMemory, run under an auto-started emulator
 * (OBJECTS.md §3.6, §3.3, §10).  helhost copies eagerly, at creation and at
 * fork ([emu]); the tests marked so check where that differs from thor.
 */
#include <check.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"
#include "task.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)
#define ZERO_MEMORY_LENGTH (1ull << 46)   /* OBJECTS.md §3.1 */

static HelHandle alloc_pages(size_t pages)
{
	return hh_test_memory(pages * PAGE);
}

static char *map_rw(HelHandle h, size_t offset, size_t len)
{
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, offset, len, RW, &p), kHelErrNone);
	ck_assert_ptr_nonnull(p);
	return p;
}

static size_t info(HelHandle h)
{
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	return size;
}

static HelHandle cow(HelHandle source, size_t offset, size_t size)
{
	HelHandle h = 0;
	ck_assert_int_eq(helCopyOnWrite(source, offset, size, &h), kHelErrNone);
	ck_assert_int_gt(h, 0);
	return h;
}

static HelHandle fork_memory(HelHandle h)
{
	HelHandle forked = 0;
	ck_assert_int_eq(helForkMemory(h, &forked), kHelErrNone);
	ck_assert_int_gt(forked, 0);
	ck_assert_int_ne(forked, h);
	return forked;
}

/* Page i of a pattern: every byte says which page and where. */
static void fill(char *p, size_t pages, char tag)
{
	for (size_t i = 0; i < pages; i++)
		memset(p + i * PAGE, tag + (char)i, PAGE);
}

static void expect_page(const char *p, char byte)
{
	for (size_t i = 0; i < PAGE; i++)
		if (p[i] != byte)
			ck_abort_msg("byte %zu is %#x, expected %#x", i, (unsigned char)p[i],
					(unsigned char)byte);
}

/* ---- helCopyOnWrite ---- */

START_TEST(test_cow_copy_on_write_sees_source_at_creation)
{
	/* should succeed: a COW of pages 1-2 of a 4-page object holds those pages */
	HelHandle src = alloc_pages(4);
	char *s = map_rw(src, 0, 4 * PAGE);
	fill(s, 4, 'A');
	HelHandle c = cow(src, PAGE, 2 * PAGE);
	ck_assert_uint_eq(info(c), 2 * PAGE);
	char *p = map_rw(c, 0, 2 * PAGE);
	expect_page(p, 'B');
	expect_page(p + PAGE, 'C');
	/* should succeed: a second mapping of the COW object shares the first */
	char *q = map_rw(c, PAGE, PAGE);
	q[7] = 'x';
	ck_assert_int_eq(p[PAGE + 7], 'x');
	/* should succeed: the whole source, and closing the source changes nothing */
	HelHandle whole = cow(src, 0, 4 * PAGE);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, src), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, s, 4 * PAGE), kHelErrNone);
	char *w = map_rw(whole, 0, 4 * PAGE);
	for (size_t i = 0; i < 4; i++)
		expect_page(w + i * PAGE, (char)('A' + i));
}
END_TEST

START_TEST(test_cow_copy_on_write_source_writes_not_shown)
{
	HelHandle src = alloc_pages(2);
	char *s = map_rw(src, 0, 2 * PAGE);
	fill(s, 2, 'a');
	HelHandle c = cow(src, 0, 2 * PAGE);
	char *p = map_rw(c, 0, 2 * PAGE);
	/* Page 0 is touched through the COW object first: private in thor too. */
	ck_assert_int_eq(p[0], 'a');
	s[0] = 'Z';
	s[PAGE + 1] = 'Y';
	/* should succeed: the touched page keeps the contents of creation */
	expect_page(p, 'a');
	/*
	 * [emu] page 1 was never touched through the COW object: thor would show
	 * the source's change here; helhost's copy was taken at creation.
	 */
	expect_page(p + PAGE, 'b');
	/* the source keeps its own writes */
	ck_assert_int_eq(s[0], 'Z');
	ck_assert_int_eq(s[PAGE + 1], 'Y');
}
END_TEST

START_TEST(test_cow_copy_on_write_writes_stay_private)
{
	/* should succeed: writes to the COW object never reach the source */
	HelHandle src = alloc_pages(2);
	char *s = map_rw(src, 0, 2 * PAGE);
	fill(s, 2, 'k');
	HelHandle c = cow(src, 0, 2 * PAGE);
	char *p = map_rw(c, 0, 2 * PAGE);
	memset(p, '!', 2 * PAGE);
	expect_page(s, 'k');
	expect_page(s + PAGE, 'l');
	/* a fresh mapping of the source agrees */
	char *s2 = map_rw(src, 0, 2 * PAGE);
	expect_page(s2, 'k');
	expect_page(s2 + PAGE, 'l');
}
END_TEST

START_TEST(test_cow_copy_on_write_of_cow)
{
	/* should succeed: a COW object is a memory view and can be a source itself */
	HelHandle src = alloc_pages(3);
	fill(map_rw(src, 0, 3 * PAGE), 3, 'p');
	HelHandle c1 = cow(src, 0, 3 * PAGE);
	char *p1 = map_rw(c1, 0, 3 * PAGE);
	p1[PAGE] = '#';
	HelHandle c2 = cow(c1, PAGE, 2 * PAGE);
	ck_assert_uint_eq(info(c2), 2 * PAGE);
	char *p2 = map_rw(c2, 0, 2 * PAGE);
	ck_assert_int_eq(p2[0], '#');
	ck_assert_int_eq(p2[1], 'q');
	expect_page(p2 + PAGE, 'r');
	p2[1] = '%';
	ck_assert_int_eq(p1[PAGE + 1], 'q');
}
END_TEST

START_TEST(test_cow_copy_on_write_zero_memory)
{
	/* All 2^46 bytes of zero memory are over the default memory limit (RAM). */
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMORY", "128T", 1), 0);
	/* should succeed: kHelZeroMemory gives a zero-filled, writable object */
	HelHandle c = cow(kHelZeroMemory, 0, 3 * PAGE);
	ck_assert_uint_eq(info(c), 3 * PAGE);
	char *p = map_rw(c, 0, 3 * PAGE);
	for (size_t i = 0; i < 3; i++)
		expect_page(p + i * PAGE, 0);
	memset(p + PAGE, 'z', PAGE);
	/* another COW of zero memory is unaffected by the first one's writes */
	HelHandle d = cow(kHelZeroMemory, PAGE, PAGE);
	expect_page(map_rw(d, 0, PAGE), 0);
	/* should succeed: the last pages of zero memory's 2^46 bytes */
	HelHandle e = cow(kHelZeroMemory, ZERO_MEMORY_LENGTH - 2 * PAGE, 2 * PAGE);
	ck_assert_uint_eq(info(e), 2 * PAGE);
	expect_page(map_rw(e, PAGE, PAGE), 0);
	/* should succeed: all of it (copying 2^46 bytes could not end within the test's timeout) */
	HelHandle all = cow(kHelZeroMemory, 0, ZERO_MEMORY_LENGTH);
	ck_assert_uint_eq(info(all), ZERO_MEMORY_LENGTH);
	char *last = map_rw(all, ZERO_MEMORY_LENGTH - PAGE, PAGE);
	expect_page(last, 0);
	last[0] = 1;
}
END_TEST

START_TEST(test_cow_copy_on_write_bad_handles)
{
	HelHandle h = 0;
	HelHandle q = hh_test_queue();
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	/* negative handles other than kHelZeroMemory (should fail) */
	ck_assert_int_eq(helCopyOnWrite(kHelThisUniverse, 0, PAGE, &h), kHelErrBadDescriptor);
	ck_assert_int_eq(helCopyOnWrite(kHelThisThread, 0, PAGE, &h), kHelErrBadDescriptor);
	ck_assert_int_eq(helCopyOnWrite(-4, 0, PAGE, &h), kHelErrBadDescriptor);
	ck_assert_int_eq(helCopyOnWrite(INT64_MIN, 0, PAGE, &h), kHelErrBadDescriptor);
	/* unknown handles, kHelNullHandle included (should fail) */
	ck_assert_int_eq(helCopyOnWrite(kHelNullHandle, 0, PAGE, &h), kHelErrNoDescriptor);
	ck_assert_int_eq(helCopyOnWrite(9999, 0, PAGE, &h), kHelErrNoDescriptor);
	/* not memory views: a queue, a universe (should fail) */
	ck_assert_int_eq(helCopyOnWrite(q, 0, PAGE, &h), kHelErrBadDescriptor);
	ck_assert_int_eq(helCopyOnWrite(universe, 0, PAGE, &h), kHelErrBadDescriptor);
	/* a closed handle (should fail) */
	HelHandle m = alloc_pages(1);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, m), kHelErrNone);
	ck_assert_int_eq(helCopyOnWrite(m, 0, PAGE, &h), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_cow_copy_on_write_bad_range)
{
	HelHandle h = 0;
	HelHandle src = alloc_pages(4);
	/* [emu] size 0 and offsets or sizes that are not page multiples (should fail) */
	ck_assert_int_eq(helCopyOnWrite(src, 0, 0, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, 1, PAGE, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, 0, PAGE + 1, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, 0, PAGE - 1, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, 0, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 2048, PAGE, &h), kHelErrIllegalArgs);
	/* [emu] beyond the source's length, also by overflow (should fail) */
	ck_assert_int_eq(helCopyOnWrite(src, 0, 5 * PAGE, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, 3 * PAGE, 2 * PAGE, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, 4 * PAGE, PAGE, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, UINTPTR_MAX & ~(PAGE - 1), 2 * PAGE, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, PAGE, SIZE_MAX & ~(PAGE - 1), &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, ZERO_MEMORY_LENGTH - PAGE, 2 * PAGE, &h),
			kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(kHelZeroMemory, 0, ZERO_MEMORY_LENGTH + PAGE, &h),
			kHelErrIllegalArgs);
	/* [emu] the length the source has now counts: after a resize the range fits */
	ck_assert_int_eq(helResizeMemory(src, 5 * PAGE), kHelErrNone);
	ck_assert_int_eq(helCopyOnWrite(src, 0, 5 * PAGE, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 5 * PAGE);
	/* should succeed: exactly the source's last page */
	ck_assert_int_eq(helCopyOnWrite(src, 4 * PAGE, PAGE, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), PAGE);
}
END_TEST

START_TEST(test_cow_copy_on_write_check_order)
{
	HelHandle h = 0;
	HelHandle q = hh_test_queue();
	/* The order is thor's (OBJECTS.md §10): special handle, lookup, then [emu] range. */
	/* a bad special handle wins over a bad range (should fail) */
	ck_assert_int_eq(helCopyOnWrite(kHelThisUniverse, 1, 0, &h), kHelErrBadDescriptor);
	/* an unknown handle wins over a bad range (should fail) */
	ck_assert_int_eq(helCopyOnWrite(9999, 1, 0, &h), kHelErrNoDescriptor);
	/* a handle of the wrong type wins over a bad range (should fail) */
	ck_assert_int_eq(helCopyOnWrite(q, 1, 0, &h), kHelErrBadDescriptor);
	/* a good handle with a bad range (should fail) */
	HelHandle src = alloc_pages(1);
	ck_assert_int_eq(helCopyOnWrite(src, 1, 0, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helCopyOnWrite(src, PAGE, PAGE, &h), kHelErrIllegalArgs);
	/* should succeed: nothing was created by the failures */
	h = cow(src, 0, PAGE);
	ck_assert_uint_eq(info(h), PAGE);
}
END_TEST

START_TEST(test_cow_copy_on_write_big_sparse_stays_sparse)
{
	/* should succeed: a COW of a 64 MiB object with three pages written is sparse */
	size_t len = 64ul << 20, pages = len / PAGE;
	HelHandle src = alloc_pages(pages);
	char *s = map_rw(src, 0, len);
	s[0] = 'F';
	s[len / 2 + 5] = 'M';
	s[len - 1] = 'L';
	HelHandle c = cow(src, 0, len);
	HelHandle f = fork_memory(c);
	char *p = map_rw(c, 0, len);
	char *pf = map_rw(f, 0, len);
	/* Holes stayed holes: only the three written pages are in the copies' page caches. */
	unsigned char *vec = malloc(pages);
	ck_assert_ptr_nonnull(vec);
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(mincore(k ? pf : p, len, vec), 0);
		size_t resident = 0;
		for (size_t i = 0; i < pages; i++)
			resident += vec[i] & 1;
		ck_assert_uint_eq(resident, 3);
	}
	free(vec);
	ck_assert_int_eq(p[0], 'F');
	ck_assert_int_eq(p[len / 2 + 5], 'M');
	ck_assert_int_eq(p[len - 1], 'L');
	ck_assert_int_eq(p[len / 2], 0);
	ck_assert_int_eq(pf[len - 1], 'L');
	/* a COW of part of it: data before and after the range stays out */
	HelHandle part = cow(src, len / 2, PAGE);
	char *pp = map_rw(part, 0, PAGE);
	ck_assert_int_eq(pp[5], 'M');
	ck_assert_int_eq(pp[0], 0);
}
END_TEST

/* ---- futexes in COW memory (OBJECTS.md §7) ---- */

START_TEST(test_cow_futex_is_the_copy_s_own)
{
	/* a COW object is an object of its own: its words are not the source's futexes */
	HelHandle src = alloc_pages(1);
	int *source = (int *)map_rw(src, 0, PAGE);
	HelHandle c = cow(src, 0, PAGE);
	int *copy = (int *)map_rw(c, 0, PAGE), *again = (int *)map_rw(c, 0, PAGE);
	struct futex_waiter w;
	futex_waiter_start(&w, &copy[16], 0);
	/* a wake of the source's word at the same offset leaves it asleep */
	ck_assert_int_eq(helFutexWake(&source[16]), kHelErrNone);
	ck_assert(task_in_futex_sleep(getpid(), w.tid));
	/* should succeed: a wake through another mapping of the copy ends the wait */
	ck_assert_int_eq(helFutexWake(&again[16]), kHelErrNone);
	futex_waiter_join(&w);
	ck_assert_int_eq(w.error, kHelErrNone);
}
END_TEST

/* ---- helResizeMemory on COW objects ---- */

START_TEST(test_cow_resize_memory_unsupported)
{
	/* COW objects cannot be resized: thor panics, [emu] refuses (should fail) */
	HelHandle src = alloc_pages(1);
	HelHandle c = cow(src, 0, PAGE);
	ck_assert_int_eq(helResizeMemory(c, 2 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helResizeMemory(c, PAGE), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(info(c), PAGE);
	HelHandle z = cow(kHelZeroMemory, 0, PAGE);
	ck_assert_int_eq(helResizeMemory(z, 2 * PAGE), kHelErrUnsupportedOperation);
	HelHandle f = fork_memory(c);
	ck_assert_int_eq(helResizeMemory(f, 2 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(info(f), PAGE);
	/* should succeed: the allocated source still grows */
	ck_assert_int_eq(helResizeMemory(src, 2 * PAGE), kHelErrNone);
}
END_TEST

/* ---- helForkMemory ---- */

START_TEST(test_cow_fork_memory_diverges)
{
	HelHandle src = alloc_pages(2);
	char *s = map_rw(src, 0, 2 * PAGE);
	fill(s, 2, 'a');
	HelHandle c = cow(src, 0, 2 * PAGE);
	char *p = map_rw(c, 0, 2 * PAGE);
	p[0] = '1';
	/* should succeed: the fork has the original's contents as of now */
	HelHandle f = fork_memory(c);
	ck_assert_uint_eq(info(f), 2 * PAGE);
	char *pf = map_rw(f, 0, 2 * PAGE);
	ck_assert_int_eq(pf[0], '1');
	ck_assert_int_eq(pf[1], 'a');
	expect_page(pf + PAGE, 'b');
	/* and both diverge from here */
	p[1] = '2';
	pf[2] = '3';
	ck_assert_int_eq(pf[1], 'a');
	ck_assert_int_eq(p[2], 'a');
	/* neither reaches the source */
	ck_assert_int_eq(s[0], 'a');
	ck_assert_int_eq(s[2], 'a');
	/*
	 * [emu] a page neither had touched: thor would still show the source's
	 * change through both; helhost's copies were taken at creation.
	 */
	s[PAGE] = 'S';
	ck_assert_int_eq(p[PAGE], 'b');
	ck_assert_int_eq(pf[PAGE], 'b');
	/* should succeed: a fork of the fork, and of a zero-memory COW */
	HelHandle ff = fork_memory(f);
	char *pff = map_rw(ff, 0, PAGE);
	ck_assert_int_eq(pff[0], '1');
	ck_assert_int_eq(pff[2], '3');
	pff[0] = '4';
	ck_assert_int_eq(pf[0], '1');
	HelHandle z = cow(kHelZeroMemory, 0, PAGE);
	char *pz = map_rw(z, 0, PAGE);
	pz[9] = 9;
	HelHandle zf = fork_memory(z);
	char *pzf = map_rw(zf, 0, PAGE);
	ck_assert_int_eq(pzf[9], 9);
	ck_assert_int_eq(pzf[8], 0);
}
END_TEST

START_TEST(test_cow_fork_memory_not_cow)
{
	HelHandle forked = 0;
	/* allocated memory is no COW object (should fail) */
	HelHandle m = alloc_pages(1);
	ck_assert_int_eq(helForkMemory(m, &forked), kHelErrUnsupportedOperation);
	/* not memory views (should fail) */
	HelHandle q = hh_test_queue();
	ck_assert_int_eq(helForkMemory(q, &forked), kHelErrBadDescriptor);
	/* unknown and special values: none is in the table (should fail) */
	ck_assert_int_eq(helForkMemory(9999, &forked), kHelErrNoDescriptor);
	ck_assert_int_eq(helForkMemory(kHelNullHandle, &forked), kHelErrNoDescriptor);
	ck_assert_int_eq(helForkMemory(kHelZeroMemory, &forked), kHelErrNoDescriptor);
	/* a closed COW handle (should fail) */
	HelHandle c = cow(m, 0, PAGE);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, c), kHelErrNone);
	ck_assert_int_eq(helForkMemory(c, &forked), kHelErrNoDescriptor);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cow");
	TCase *tc = hh_test_case(s, "cow", 60);
	tcase_add_test(tc, test_cow_copy_on_write_sees_source_at_creation);
	tcase_add_test(tc, test_cow_copy_on_write_source_writes_not_shown);
	tcase_add_test(tc, test_cow_copy_on_write_writes_stay_private);
	tcase_add_test(tc, test_cow_copy_on_write_of_cow);
	tcase_add_test(tc, test_cow_copy_on_write_zero_memory);
	tcase_add_test(tc, test_cow_copy_on_write_bad_handles);
	tcase_add_test(tc, test_cow_copy_on_write_bad_range);
	tcase_add_test(tc, test_cow_copy_on_write_check_order);
	tcase_add_test(tc, test_cow_copy_on_write_big_sparse_stays_sparse);
	tcase_add_test(tc, test_cow_futex_is_the_copy_s_own);
	tcase_add_test(tc, test_cow_resize_memory_unsupported);
	tcase_add_test(tc, test_cow_fork_memory_diverges);
	tcase_add_test(tc, test_cow_fork_memory_not_cow);
	return hh_test_main(s);
}
