/*
 * helCopyOnWrite and helForkMemory, run under an auto-started emulator
 * (OBJECTS.md §3.6, §3.3, §10).  A page is copied on its first access of any
 * kind through the COW object; until then it shows the source as it is.
 */
#include <check.h>
#include <signal.h>
#include <hel.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "sq.h"
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
static void fill_pages(char *p, size_t pages, char tag)
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

/* A source of pages filled with tag, tag+1, ... mapped at *s, and a COW of all of it mapped at *p. */
static HelHandle cow_of_filled(size_t pages, char tag, char **s, char **p)
{
	HelHandle src = alloc_pages(pages);
	*s = map_rw(src, 0, pages * PAGE);
	fill_pages(*s, pages, tag);
	HelHandle c = cow(src, 0, pages * PAGE);
	*p = map_rw(c, 0, pages * PAGE);
	return c;
}

/* ---- helCopyOnWrite ---- */

START_TEST(test_cow_copy_on_write_sees_source_at_creation)
{
	/* should succeed: a COW of pages 1-2 of a 4-page object holds those pages */
	HelHandle src = alloc_pages(4);
	char *s = map_rw(src, 0, 4 * PAGE);
	fill_pages(s, 4, 'A');
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

START_TEST(test_cow_copy_on_write_untouched_follow_source)
{
	char *s, *p;
	(void)cow_of_filled(2, 'a', &s, &p);
	/* Page 0 is touched through the COW object first: it is private from now on. */
	ck_assert_int_eq(p[0], 'a');
	s[0] = 'Z';
	s[PAGE + 1] = 'Y';
	/* should succeed: the touched page keeps its contents of the first access */
	expect_page(p, 'a');
	/* should succeed: page 1 was never touched through the COW object: the source's change shows */
	ck_assert_int_eq(p[PAGE + 1], 'Y');
	ck_assert_int_eq(p[PAGE], 'b');
	/* ...and that read was its first access: later changes of the source do not */
	s[PAGE + 2] = 'X';
	ck_assert_int_eq(p[PAGE + 2], 'b');
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
	fill_pages(s, 2, 'k');
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
	fill_pages(map_rw(src, 0, 3 * PAGE), 3, 'p');
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

/* How many of the pages of [p, p+len) are in their memfd's page cache: copied, for COW memory. */
static size_t resident(const char *p, size_t len)
{
	unsigned char *vec = malloc(len / PAGE);
	ck_assert_ptr_nonnull(vec);
	ck_assert_int_eq(mincore((void *)p, len, vec), 0);
	size_t n = 0;
	for (size_t i = 0; i < len / PAGE; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

START_TEST(test_cow_copy_on_write_big_sparse_stays_sparse)
{
	/* should succeed: a COW of a 64 MiB object copies nothing until its pages are touched */
	size_t len = 64ul << 20;
	HelHandle src = alloc_pages(len / PAGE);
	char *s = map_rw(src, 0, len);
	s[0] = 'F';
	s[len / 2 + 5] = 'M';
	s[len - 1] = 'L';
	HelHandle c = cow(src, 0, len);
	char *p = map_rw(c, 0, len);
	ck_assert_uint_eq(resident(p, len), 0);
	/* four first accesses: three pages of data and one of the source's holes */
	ck_assert_int_eq(p[0], 'F');
	ck_assert_int_eq(p[len / 2 + 5], 'M');
	ck_assert_int_eq(p[len - 1], 'L');
	ck_assert_int_eq(p[len / 4], 0);
	ck_assert_uint_eq(resident(p, len), 4);
	/* should succeed: the fork holds those four pages and no other */
	HelHandle f = fork_memory(c);
	char *pf = map_rw(f, 0, len);
	ck_assert_uint_eq(resident(pf, len), 4);
	ck_assert_int_eq(pf[len - 1], 'L');
	ck_assert_int_eq(pf[len / 4], 0);
	/* a COW of part of it: data before and after the range stays out */
	HelHandle part = cow(src, len / 2, PAGE);
	char *pp = map_rw(part, 0, PAGE);
	ck_assert_int_eq(pp[5], 'M');
	ck_assert_int_eq(pp[0], 0);
}
END_TEST

START_TEST(test_cow_fork_memory_gigabyte_costs_touched_pages)
{
	/* should succeed: a fork of a 1 GiB COW object with 10 pages written holds just those */
	ck_assert_int_eq(setenv("HELHOST_MAX_MEMORY", "8G", 1), 0);
	size_t len = 1ul << 30;
	HelHandle c = cow(kHelZeroMemory, 0, len);
	char *p = map_rw(c, 0, len);
	for (size_t i = 0; i < 10; i++)
		p[i * (len / 10) & ~(PAGE - 1)] = (char)('0' + i);
	HelHandle f = fork_memory(c);
	char *pf = map_rw(f, 0, len);
	ck_assert_uint_eq(resident(pf, len), 10);
	for (size_t i = 0; i < 10; i++)
		ck_assert_int_eq(pf[i * (len / 10) & ~(PAGE - 1)], '0' + i);
	/* an untouched page of zero memory reads as zero, and becomes the 11th */
	ck_assert_int_eq(pf[PAGE], 0);
	ck_assert_uint_eq(resident(pf, len), 11);
}
END_TEST

/* helSubmitReadMemory / helSubmitWriteMemory on the handle, waited for. */
static HelError copy_on(struct sq *q, HelHandle h, size_t offset, void *buf, size_t len, bool write)
{
	static uintptr_t ctx = 100;
	ctx++;
	HelError e = write ? helSubmitWriteMemory(h, offset, len, buf, q->q.handle, ctx)
			: helSubmitReadMemory(h, offset, len, buf, q->q.handle, ctx);
	ck_assert_int_eq(e, kHelErrNone);
	return one_simple(q, ctx);
}

START_TEST(test_cow_first_access_by_calls)
{
	struct sq q;
	sq_open(&q);
	HelHandle src = alloc_pages(4);
	char *s = map_rw(src, 0, 4 * PAGE);
	fill_pages(s, 4, 'a');
	HelHandle c = cow(src, 0, 4 * PAGE);
	char buf[8] = { 0 };
	/* should succeed: a read through the handle shows the source, and is page 0's first access */
	ck_assert_int_eq(copy_on(&q, c, 0, buf, 1, false), kHelErrNone);
	ck_assert_int_eq(buf[0], 'a');
	/* should succeed: a write through the handle copies page 1 first, the rest of it intact */
	ck_assert_int_eq(copy_on(&q, c, PAGE, "W", 1, true), kHelErrNone);
	/* should succeed: a lock of page 2 is its first access */
	ck_assert_int_eq(helSubmitLockMemoryView(c, 2 * PAGE, PAGE, q.q.handle, 99), kHelErrNone);
	HelHandle lock = 0;
	ck_assert_int_eq(one_handle(&q, 99, &lock), kHelErrNone);
	ck_assert_int_gt(lock, 0);
	s[0] = 'Z';
	s[PAGE + 1] = 'Y';
	s[2 * PAGE] = 'X';
	s[3 * PAGE] = 'V';
	char *p = map_rw(c, 0, 4 * PAGE);
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[PAGE], 'W');
	ck_assert_int_eq(p[PAGE + 1], 'b');
	ck_assert_int_eq(p[2 * PAGE], 'c');
	/* page 3 had no access: the source's change shows */
	ck_assert_int_eq(p[3 * PAGE], 'V');
	/* should succeed: a fork has the locked (copied) page as it is */
	s[2 * PAGE + 1] = 'U';
	HelHandle f = fork_memory(c);
	char *pf = map_rw(f, 0, 4 * PAGE);
	ck_assert_int_eq(pf[2 * PAGE], 'c');
	ck_assert_int_eq(pf[2 * PAGE + 1], 'c');
	ck_assert_int_eq(pf[PAGE], 'W');
	/* a source of COW memory: a COW of a COW shows what the first shows */
	HelHandle cc = cow(c, 0, 4 * PAGE);
	ck_assert_int_eq(copy_on(&q, cc, PAGE, buf, 2, false), kHelErrNone);
	ck_assert_int_eq(buf[0], 'W');
	ck_assert_int_eq(buf[1], 'b');
	/* should fail: beyond the object, nothing copied and no crash */
	ck_assert_int_eq(copy_on(&q, c, 4 * PAGE, buf, 1, false), kHelErrFault);
}
END_TEST

START_TEST(test_cow_first_access_by_transfer)
{
	/* A stream transfer out of one untouched COW page and into another is both pages' first access. */
	struct sq q;
	sq_open(&q);
	char *s, *p;
	(void)cow_of_filled(3, 'a', &s, &p);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	SUBMIT(l0, &q, 1, SEND(p + PAGE, 8, 0));
	SUBMIT(l1, &q, 2, RECV_BUF(p + 2 * PAGE + 4, 8, 0));
	size_t len = 0;
	ck_assert_int_eq(one_length(&q, 2, &len), kHelErrNone);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(one_simple(&q, 1), kHelErrNone);
	/* should succeed: both pages were copied by the transfer: later source changes do not show */
	s[PAGE] = 'S';
	s[2 * PAGE] = 'T';
	ck_assert_int_eq(p[PAGE], 'b');
	ck_assert_int_eq(p[2 * PAGE], 'c');
	ck_assert_int_eq(p[2 * PAGE + 4], 'b');
	ck_assert_int_eq(p[2 * PAGE + 12], 'c');
	ck_assert_int_eq(s[2 * PAGE + 4], 'c');
}
END_TEST

START_TEST(test_cow_mapped_into_created_space)
{
	/* A created space has no shim to register faults: mapping a COW page there copies it. */
	struct sq q;
	sq_open(&q);
	char *s, *p;
	HelHandle c = cow_of_filled(2, 'a', &s, &p);
	(void)p;
	HelHandle space;
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	void *at = NULL;
	ck_assert_int_eq(helMapMemory(c, space, NULL, 0, PAGE, kHelMapProtRead, &at), kHelErrNone);
	s[0] = 'Z';
	s[PAGE] = 'Y';
	char buf[2] = { 0 };
	/* should succeed: page 0 holds what it had when mapped, through the space and the handle */
	ck_assert_int_eq(copy_on(&q, space, (size_t)at, buf, 1, false), kHelErrNone);
	ck_assert_int_eq(buf[0], 'a');
	ck_assert_int_eq(copy_on(&q, c, 0, buf, 1, false), kHelErrNone);
	ck_assert_int_eq(buf[0], 'a');
	/* page 1 was not mapped there: untouched, it follows the source */
	ck_assert_int_eq(copy_on(&q, c, PAGE, buf, 1, false), kHelErrNone);
	ck_assert_int_eq(buf[0], 'Y');
}
END_TEST

START_TEST(test_cow_two_programs)
{
	/* A second program (a fork(2)) maps the same COW object: both see the same copied pages. */
	char *s, *p;
	(void)cow_of_filled(2, 'a', &s, &p);
	p[0] = '1';
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* the inherited mapping: page 0 as the parent wrote it; page 1 copied now, from the source */
		int ok = p[0] == '1' && p[PAGE] == 'b';
		p[PAGE + 1] = '2';
		_exit(ok ? 0 : 1);
	}
	int status = 0;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* the child's first access copied page 1: the parent sees its write, and no later source change */
	s[PAGE + 2] = 'S';
	ck_assert_int_eq(p[PAGE + 1], '2');
	ck_assert_int_eq(p[PAGE + 2], 'b');
	ck_assert_int_eq(s[PAGE + 1], 'b');
}
END_TEST

START_TEST(test_cow_program_killed_while_faulting)
{
	/*
	 * A program killed while it faults its way through a COW object leaves each
	 * page copied whole or untouched: the others see no torn page, and no fault of
	 * theirs waits for it.
	 */
	enum { PAGES = 2048 };
	HelHandle src = alloc_pages(PAGES);
	char *s = map_rw(src, 0, PAGES * PAGE);
	memset(s, 'a', PAGES * PAGE);
	char *p = map_rw(cow(src, 0, PAGES * PAGE), 0, PAGES * PAGE);
	volatile size_t *done = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			-1, 0);
	ck_assert_ptr_ne((void *)done, MAP_FAILED);
	*done = 0;
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* Until killed: each first write is a fault, so the kill most likely lands in one. */
		for (size_t round = 0;; round++)
			for (size_t i = 0; i < PAGES; i++) {
				p[i * PAGE + 1] = 'k';
				*done = round * PAGES + i + 1;
			}
	}
	/* Killed once it has written some pages (the deadline is a safety net, not a measure). */
	for (int waited = 0; *done < PAGES / 4 && waited < 20000; waited++)
		usleep(1000);
	ck_assert_uint_ge(*done, PAGES / 4);
	ck_assert_int_eq(kill(child, SIGKILL), 0);
	int status = 0;
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	/* should succeed: every page is the child's copy or still the source's, whole */
	memset(s, 'S', PAGES * PAGE);
	size_t copied = 0, torn_off = 0;
	for (size_t i = 0; i < PAGES; i++) {
		char *page = p + i * PAGE;
		if (page[1] == 'k') {
			copied++;
			ck_assert_int_eq(page[0], 'a');
			ck_assert_int_eq(page[PAGE - 1], 'a');
		} else if (page[0] == 'a') {
			/* the fault the kill came in: copied, the write never retried */
			torn_off++;
			ck_assert_int_eq(page[1], 'a');
			ck_assert_int_eq(page[PAGE - 1], 'a');
		} else {
			/* never touched by the child: this read is its first access, after the change */
			ck_assert_int_eq(page[0], 'S');
			ck_assert_int_eq(page[PAGE - 1], 'S');
		}
	}
	ck_assert_uint_le(torn_off, 1);
	ck_assert_uint_ge(copied, PAGES / 4 - 1);
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
	char *s, *p;
	HelHandle c = cow_of_filled(2, 'a', &s, &p);
	p[0] = '1';
	/* should succeed: the fork has the original's contents as of now */
	HelHandle f = fork_memory(c);
	ck_assert_uint_eq(info(f), 2 * PAGE);
	char *pf = map_rw(f, 0, 2 * PAGE);
	ck_assert_int_eq(pf[0], '1');
	ck_assert_int_eq(pf[1], 'a');
	/* and both diverge from here */
	p[1] = '2';
	pf[2] = '3';
	ck_assert_int_eq(pf[1], 'a');
	ck_assert_int_eq(p[2], 'a');
	/* neither reaches the source */
	ck_assert_int_eq(s[0], 'a');
	ck_assert_int_eq(s[2], 'a');
	/* should succeed: a page neither had touched still shows the source's change through both */
	s[PAGE] = 'S';
	ck_assert_int_eq(p[PAGE], 'S');
	/* ...until each touches it: p did, pf has not yet */
	s[PAGE + 1] = 'T';
	ck_assert_int_eq(p[PAGE + 1], 'b');
	ck_assert_int_eq(pf[PAGE + 1], 'T');
	ck_assert_int_eq(pf[PAGE], 'S');
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
	tcase_add_test(tc, test_cow_copy_on_write_untouched_follow_source);
	tcase_add_test(tc, test_cow_copy_on_write_writes_stay_private);
	tcase_add_test(tc, test_cow_copy_on_write_of_cow);
	tcase_add_test(tc, test_cow_copy_on_write_zero_memory);
	tcase_add_test(tc, test_cow_copy_on_write_bad_handles);
	tcase_add_test(tc, test_cow_copy_on_write_bad_range);
	tcase_add_test(tc, test_cow_copy_on_write_check_order);
	tcase_add_test(tc, test_cow_copy_on_write_big_sparse_stays_sparse);
	tcase_add_test(tc, test_cow_fork_memory_gigabyte_costs_touched_pages);
	tcase_add_test(tc, test_cow_first_access_by_calls);
	tcase_add_test(tc, test_cow_first_access_by_transfer);
	tcase_add_test(tc, test_cow_mapped_into_created_space);
	tcase_add_test(tc, test_cow_two_programs);
	tcase_add_test(tc, test_cow_program_killed_while_faulting);
	tcase_add_test(tc, test_cow_futex_is_the_copy_s_own);
	tcase_add_test(tc, test_cow_resize_memory_unsupported);
	tcase_add_test(tc, test_cow_fork_memory_diverges);
	tcase_add_test(tc, test_cow_fork_memory_not_cow);
	return hh_test_main(s);
}
