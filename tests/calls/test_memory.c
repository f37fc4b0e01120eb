/*
 * helAllocateMemory, helMemoryInfo, helResizeMemory, helLoadahead,
 * helMapMemory and helUnmapMemory on the caller's own space, run under an
 * auto-started emulator (OBJECTS.md §3.2-3.4, §3.10, §4.2, §4.3, §10).
 */
#include <check.h>
#include <dirent.h>
#include <hel.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "fixture.h"
#include "vm.h"

#define PAGE 4096ul
#define RW (kHelMapProtRead | kHelMapProtWrite)

static HelHandle alloc_pages(size_t pages)
{
	return hh_test_memory(pages * PAGE);
}

static char *map_rw(HelHandle h, size_t offset, size_t len)
{
	return hh_test_map(h, NULL, offset, len, RW);
}

/* A free, page-aligned range of len bytes where unhinted mappings are placed. */
static char *free_hole(size_t len)
{
	HelHandle scratch = alloc_pages(len / PAGE);
	char *p = map_rw(scratch, 0, len);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, len), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, scratch), kHelErrNone);
	return p;
}


static size_t info(HelHandle h)
{
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	return size;
}

/* ---- helAllocateMemory ---- */

START_TEST(test_memory_allocate_bad_size)
{
	HelHandle h = 0;
	/* zero and non-page-multiple sizes (should fail) */
	ck_assert_int_eq(helAllocateMemory(0, 0, NULL, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helAllocateMemory(1, 0, NULL, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helAllocateMemory(PAGE - 1, 0, NULL, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helAllocateMemory(PAGE + 1, 0, NULL, &h), kHelErrIllegalArgs);
	ck_assert_int_eq(helAllocateMemory(3 * PAGE + 2048, kHelAllocContinuous, NULL, &h),
			kHelErrIllegalArgs);
	/* the size is checked before the restrictions are read (should fail) */
	ck_assert_int_eq(helAllocateMemory(0, 0, (const struct HelAllocRestrictions *)8, &h),
			kHelErrIllegalArgs);
	/* should succeed: nothing was created by the failures, a page works */
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), PAGE);
}
END_TEST

START_TEST(test_memory_allocate_restrictions)
{
	HelHandle h1, h2, h3;
	/* should succeed: no restrictions */
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, NULL, &h1), kHelErrNone);
	/* should succeed: readable restrictions (addressBits is ignored hosted) */
	struct HelAllocRestrictions r = { .addressBits = 32 };
	ck_assert_int_eq(helAllocateMemory(2 * PAGE, 0, &r, &h2), kHelErrNone);
	ck_assert_uint_eq(info(h2), 2 * PAGE);
	ck_assert_int_ne(h1, h2);
	/* unreadable restrictions: a low address and a PROT_NONE page (should fail) */
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, (const struct HelAllocRestrictions *)8, &h3),
			kHelErrFault);
	void *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(none, MAP_FAILED);
	ck_assert_int_eq(helAllocateMemory(PAGE, 0, none, &h3), kHelErrFault);
	munmap(none, PAGE);
}
END_TEST

START_TEST(test_memory_allocate_continuous_rounds_up)
{
	HelHandle h;
	/* should succeed: Continuous rounds 3 pages to a power of two, 4 pages */
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, kHelAllocContinuous, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 4 * PAGE);
	/* the whole rounded length is mappable */
	char *p = map_rw(h, 0, 4 * PAGE);
	ck_assert_int_eq(p[4 * PAGE - 1], 0);
	/* should succeed: Continuous takes precedence over OnDemand */
	ck_assert_int_eq(helAllocateMemory(5 * PAGE, kHelAllocContinuous | kHelAllocOnDemand, NULL, &h),
			kHelErrNone);
	ck_assert_uint_eq(info(h), 8 * PAGE);
	/* should succeed: a power of two stays as it is */
	ck_assert_int_eq(helAllocateMemory(2 * PAGE, kHelAllocContinuous, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 2 * PAGE);
	/* should succeed: OnDemand, no flags and unknown bits keep the size */
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, kHelAllocOnDemand, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 3 * PAGE);
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, 0, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 3 * PAGE);
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, 0x100, NULL, &h), kHelErrNone);
	ck_assert_uint_eq(info(h), 3 * PAGE);
}
END_TEST

START_TEST(test_memory_allocate_reads_zero)
{
	/* should succeed: fresh memory reads as zero everywhere */
	HelHandle h = alloc_pages(4);
	unsigned char *p = (unsigned char *)map_rw(h, 0, 4 * PAGE);
	for (size_t i = 0; i < 4 * PAGE; i++)
		ck_assert_uint_eq(p[i], 0);
}
END_TEST

/* One element of queue q: the error of a helSubmitReadMemory or helSubmitWriteMemory. */
static HelError copy_result(struct hq *q)
{
	struct HelElement *e = hq_next(q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(e);
	return ((struct HelSimpleResult *)hq_payload(e))->error;
}

START_TEST(test_memory_allocate_after_close_reads_zero)
{
	/*
	 * should succeed: objects written and closed leave nothing behind for the
	 * next ones (the emulator reuses the memfds of closed objects that never
	 * left it): each reads as zero, through the emulator and mapped
	 */
	struct hq q;
	ck_assert_int_eq(hq_open(&q, 2, 1, 256), kHelErrNone);
	static const char secret[] = "secret";
	for (int i = 0; i < 4; i++) {
		HelHandle h = alloc_pages(2);
		ck_assert_int_eq(helSubmitWriteMemory(h, PAGE - 3, sizeof(secret), secret, q.handle, 1),
				kHelErrNone);
		ck_assert_int_eq(copy_result(&q), kHelErrNone);
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	}
	HelHandle h = alloc_pages(2);
	char back[sizeof(secret)] = "xxxxxx";
	ck_assert_int_eq(helSubmitReadMemory(h, PAGE - 3, sizeof(back), back, q.handle, 2), kHelErrNone);
	ck_assert_int_eq(copy_result(&q), kHelErrNone);
	ck_assert_mem_eq(back, "\0\0\0\0\0\0", sizeof(back));
	unsigned char *p = (unsigned char *)map_rw(h, 0, 2 * PAGE);
	for (size_t i = 0; i < 2 * PAGE; i++)
		ck_assert_uint_eq(p[i], 0);
}
END_TEST

/* ---- helMemoryInfo ---- */

START_TEST(test_memory_info_bad_handles)
{
	HelHandle q = hh_test_queue();
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	size_t size;
	/* not a memory view: a queue, a universe (should fail) */
	ck_assert_int_eq(helMemoryInfo(q, &size), kHelErrBadDescriptor);
	ck_assert_int_eq(helMemoryInfo(universe, &size), kHelErrBadDescriptor);
	/* unknown and special values (should fail) */
	ck_assert_int_eq(helMemoryInfo(9999, &size), kHelErrNoDescriptor);
	ck_assert_int_eq(helMemoryInfo(kHelNullHandle, &size), kHelErrNoDescriptor);
	ck_assert_int_eq(helMemoryInfo(kHelThisUniverse, &size), kHelErrNoDescriptor);
	ck_assert_int_eq(helMemoryInfo(kHelZeroMemory, &size), kHelErrNoDescriptor);
	/* a closed handle (should fail) */
	HelHandle h = alloc_pages(1);
	ck_assert_uint_eq(info(h), PAGE);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNoDescriptor);
}
END_TEST

/* ---- helResizeMemory ---- */

START_TEST(test_memory_resize_grow)
{
	HelHandle h = alloc_pages(1);
	/* A one-page mapping with free arena right above it. */
	char *hole = free_hole(4 * PAGE);
	char *p = hh_test_map(h, hole, 0, PAGE, RW | kHelMapFixed);
	ck_assert_ptr_eq(p, hole);
	memset(p, 0x5a, PAGE);
	/* offset 4096 is beyond the object before the resize (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, PAGE, PAGE, RW, &q),
			kHelErrBufferTooSmall);

	/* should succeed: grow to three pages */
	ck_assert_int_eq(helResizeMemory(h, 3 * PAGE), kHelErrNone);
	ck_assert_uint_eq(info(h), 3 * PAGE);
	/* the existing mapping keeps its length: the page above it is not mapped */
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	ck_assert(vm_unmapped(p + PAGE, PAGE));
	ck_assert_int_eq(p[PAGE - 1], 0x5a);
	/* the new pages read zero, the old one keeps its bytes */
	unsigned char *all = (unsigned char *)map_rw(h, 0, 3 * PAGE);
	for (size_t i = 0; i < PAGE; i++)
		ck_assert_uint_eq(all[i], 0x5a);
	for (size_t i = PAGE; i < 3 * PAGE; i++)
		ck_assert_uint_eq(all[i], 0);
	char *tail = map_rw(h, 2 * PAGE, PAGE);
	tail[7] = 'T';
	ck_assert_int_eq(all[2 * PAGE + 7], 'T');
	/* should succeed: grow again, by one page */
	ck_assert_int_eq(helResizeMemory(h, 4 * PAGE), kHelErrNone);
	ck_assert_uint_eq(info(h), 4 * PAGE);
}
END_TEST

START_TEST(test_memory_resize_existing_mapping_keeps_length)
{
	/* growing the object does not grow the mapping: the page above it faults */
	HelHandle h = alloc_pages(1);
	char *hole = free_hole(4 * PAGE);
	char *p = hh_test_map(h, hole, 0, PAGE, RW | kHelMapFixed);
	ck_assert_int_eq(helResizeMemory(h, 2 * PAGE), kHelErrNone);
	ck_assert(vm_can_write(p));
	ck_assert(!vm_can_read(p + PAGE));
}
END_TEST

START_TEST(test_memory_resize_bad_sizes)
{
	HelHandle h = alloc_pages(2);
	/* shrinking (should fail) */
	ck_assert_int_eq(helResizeMemory(h, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helResizeMemory(h, 0), kHelErrIllegalArgs);
	/* unaligned (should fail) */
	ck_assert_int_eq(helResizeMemory(h, 2 * PAGE + 1), kHelErrIllegalArgs);
	ck_assert_int_eq(helResizeMemory(h, 3 * PAGE - 512), kHelErrIllegalArgs);
	ck_assert_uint_eq(info(h), 2 * PAGE);
	/* Continuous memory grows in whole blocks (4 pages here) (should fail) */
	HelHandle c;
	ck_assert_int_eq(helAllocateMemory(3 * PAGE, kHelAllocContinuous, NULL, &c), kHelErrNone);
	ck_assert_int_eq(helResizeMemory(c, 5 * PAGE), kHelErrIllegalArgs);
	ck_assert_uint_eq(info(c), 4 * PAGE);
	/* should succeed: two blocks */
	ck_assert_int_eq(helResizeMemory(c, 8 * PAGE), kHelErrNone);
	ck_assert_uint_eq(info(c), 8 * PAGE);
}
END_TEST

START_TEST(test_memory_resize_bad_handles)
{
	HelHandle q = hh_test_queue();
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	/* wrong types (should fail) */
	ck_assert_int_eq(helResizeMemory(q, 2 * PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helResizeMemory(universe, 2 * PAGE), kHelErrBadDescriptor);
	/* unknown, null, special (should fail) */
	ck_assert_int_eq(helResizeMemory(4242, 2 * PAGE), kHelErrNoDescriptor);
	ck_assert_int_eq(helResizeMemory(kHelNullHandle, 2 * PAGE), kHelErrNoDescriptor);
	ck_assert_int_eq(helResizeMemory(kHelThisUniverse, 2 * PAGE), kHelErrNoDescriptor);
	/* the handle is looked up before the size is checked (should fail) */
	ck_assert_int_eq(helResizeMemory(q, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helResizeMemory(4242, 1), kHelErrNoDescriptor);
}
END_TEST

/* ---- helLoadahead ---- */

START_TEST(test_memory_loadahead)
{
	HelHandle h = alloc_pages(4);
	/* should succeed: a hint, whole object or part of it */
	ck_assert_int_eq(helLoadahead(h, 0, 4 * PAGE), kHelErrNone);
	ck_assert_int_eq(helLoadahead(h, PAGE, 2 * PAGE), kHelErrNone);
	/* the hint changes nothing */
	ck_assert_uint_eq(info(h), 4 * PAGE);
	unsigned char *p = (unsigned char *)map_rw(h, 0, 4 * PAGE);
	ck_assert_uint_eq(p[PAGE], 0);
	/* bad handles (should fail) */
	HelHandle q = hh_test_queue();
	ck_assert_int_eq(helLoadahead(q, 0, PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helLoadahead(31337, 0, PAGE), kHelErrNoDescriptor);
	ck_assert_int_eq(helLoadahead(kHelNullHandle, 0, PAGE), kHelErrNoDescriptor);
}
END_TEST

/* ---- helMapMemory ---- */

START_TEST(test_memory_map_check_order)
{
	HelHandle mem = alloc_pages(2);
	HelHandle q = hh_test_queue();
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	void *p = NULL;
	/* 1. length and alignment come first, even with bad handles (should fail) */
	ck_assert_int_eq(helMapMemory(9999, 9998, NULL, 0, 0, RW, &p), kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(9999, 9998, (void *)0x10001000, 0, 100, RW, &p),
			kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, 0, RW, &p), kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, (void *)0x10000010, 0, PAGE, RW, &p),
			kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 512, PAGE, RW, &p),
			kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE + 8, RW, &p),
			kHelErrIllegalArgs);
	/* 2. the memory handle, before the space handle (should fail) */
	ck_assert_int_eq(helMapMemory(9999, 9998, NULL, 0, PAGE, RW, &p), kHelErrNoDescriptor);
	ck_assert_int_eq(helMapMemory(kHelNullHandle, kHelNullHandle, NULL, 0, PAGE, RW, &p),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helMapMemory(universe, 9998, NULL, 0, PAGE, RW, &p), kHelErrBadDescriptor);
	ck_assert_int_eq(helMapMemory(universe, kHelNullHandle, NULL, 0, PAGE, RW, &p),
			kHelErrBadDescriptor);
	/* 3. the space handle, before Fixed+NULL and bounds (should fail) */
	ck_assert_int_eq(helMapMemory(mem, 9998, NULL, 0, 64 * PAGE, RW | kHelMapFixed, &p),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helMapMemory(mem, kHelThisUniverse, NULL, 0, PAGE, RW, &p),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helMapMemory(mem, universe, NULL, 0, 64 * PAGE, RW | kHelMapFixed, &p),
			kHelErrBadDescriptor);
	ck_assert_int_eq(helMapMemory(mem, mem, NULL, 0, PAGE, RW, &p), kHelErrBadDescriptor);
	ck_assert_int_eq(helMapMemory(mem, q, NULL, 0, PAGE, RW, &p), kHelErrBadDescriptor);
	/* 4. kHelMapFixed with NULL, before bounds (should fail) */
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, 64 * PAGE, RW | kHelMapFixed, &p),
			kHelErrIllegalArgs);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE,
			RW | kHelMapFixed | kHelMapFixedNoReplace, &p), kHelErrIllegalArgs);
	/* 5. offset + length beyond the object (should fail) */
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, 3 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, PAGE, 2 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 2 * PAGE, PAGE, RW, &p),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, (uintptr_t)-PAGE, 2 * PAGE, RW, &p),
			kHelErrBufferTooSmall);
	/* 6. placement: outside the usable range (should fail) */
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrNoMemory);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, (void *)0x800000000000ull, 0, PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrNoMemory);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, (void *)0x7ffffffff000ull, 0, 2 * PAGE,
			RW | kHelMapFixed, &p), kHelErrNoMemory);
	/* should succeed: the exact size, and the last page alone */
	char *all = map_rw(mem, 0, 2 * PAGE);
	char *last = map_rw(mem, PAGE, PAGE);
	last[0] = 'L';
	ck_assert_int_eq(all[PAGE], 'L');
}
END_TEST

START_TEST(test_memory_map_two_mappings_share)
{
	HelHandle h = alloc_pages(2);
	/* should succeed: two mappings of one object are distinct views of the same bytes */
	char *a = map_rw(h, 0, 2 * PAGE);
	char *b = map_rw(h, 0, 2 * PAGE);
	ck_assert_ptr_ne(a, b);
	strcpy(a + 100, "through a");
	ck_assert_str_eq(b + 100, "through a");
	strcpy(b + PAGE + 5, "through b");
	ck_assert_str_eq(a + PAGE + 5, "through b");
	/* a read-only third view sees them too */
	char *c = hh_test_map(h, NULL, 0, 2 * PAGE, kHelMapProtRead);
	ck_assert_str_eq(c + 100, "through a");
	ck_assert_str_eq(c + PAGE + 5, "through b");
}
END_TEST

START_TEST(test_memory_map_at_offset)
{
	HelHandle h = alloc_pages(4);
	char *all = map_rw(h, 0, 4 * PAGE);
	for (int i = 0; i < 4; i++)
		memset(all + i * PAGE, 'a' + i, PAGE);
	/* should succeed: pages 2 and 3 alone */
	char *part = map_rw(h, 2 * PAGE, 2 * PAGE);
	ck_assert_int_eq(part[0], 'c');
	ck_assert_int_eq(part[PAGE - 1], 'c');
	ck_assert_int_eq(part[PAGE], 'd');
	ck_assert_int_eq(part[2 * PAGE - 1], 'd');
	part[PAGE + 1] = 'X';
	ck_assert_int_eq(all[3 * PAGE + 1], 'X');
	/* should succeed: page 1 alone */
	char *one = map_rw(h, PAGE, PAGE);
	ck_assert_int_eq(one[123], 'b');
}
END_TEST

START_TEST(test_memory_map_fixed_replaces)
{
	HelHandle a = alloc_pages(3), b = alloc_pages(1);
	char *pa = map_rw(a, 0, 3 * PAGE);
	memset(pa, 'A', 3 * PAGE);
	char *pb = map_rw(b, 0, PAGE);
	memset(pb, 'B', PAGE);
	/* should succeed: b replaces the middle page of a's mapping */
	char *fixed = hh_test_map(b, pa + PAGE, 0, PAGE, RW | kHelMapFixed);
	ck_assert_ptr_eq(fixed, pa + PAGE);
	ck_assert_int_eq(pa[PAGE], 'B');
	ck_assert_int_eq(pa[2 * PAGE - 1], 'B');
	/* the parts of a outside the range stay, with their offsets */
	ck_assert_int_eq(pa[0], 'A');
	ck_assert_int_eq(pa[2 * PAGE], 'A');
	pa[2 * PAGE] = 'z';
	pa[PAGE] = 'y';
	/* a's middle page itself is untouched; b got the write */
	char *check = map_rw(a, 0, 3 * PAGE);
	ck_assert_int_eq(check[PAGE], 'A');
	ck_assert_int_eq(check[2 * PAGE], 'z');
	ck_assert_int_eq(pb[0], 'y');
	/* should succeed: Fixed takes precedence over FixedNoReplace */
	char *again = hh_test_map(a, pa, 0, PAGE, RW | kHelMapFixed | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(again, pa);
	/* unmapping the three pages removes all three pieces */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, pa, 3 * PAGE), kHelErrNone);
	ck_assert(vm_unmapped(pa, 3 * PAGE));
	ck_assert(!vm_can_read(pa + PAGE));
}
END_TEST

START_TEST(test_memory_map_fixed_noreplace_conflict)
{
	HelHandle a = alloc_pages(2), b = alloc_pages(2);
	char *pa = map_rw(a, 0, 2 * PAGE);
	memset(pa, 'A', 2 * PAGE);
	void *p = NULL;
	/* over an existing Hel mapping, fully or partly (should fail) */
	ck_assert_int_eq(helMapMemory(b, kHelNullHandle, pa, 0, 2 * PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrAlreadyExists);
	ck_assert_int_eq(helMapMemory(b, kHelNullHandle, pa + PAGE, 0, PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrAlreadyExists);
	ck_assert_int_eq(helMapMemory(b, kHelNullHandle, pa - PAGE, 0, 2 * PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrAlreadyExists);
	/* the existing mapping is intact */
	ck_assert_int_eq(pa[0], 'A');
	ck_assert_int_eq(pa[2 * PAGE - 1], 'A');
	/* should succeed: right below it, where nothing is mapped */
	char *below = hh_test_map(b, pa - 2 * PAGE, 0, 2 * PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(below, pa - 2 * PAGE);
	below[0] = 'b';
	ck_assert_int_eq(pa[0], 'A');
}
END_TEST

START_TEST(test_memory_map_fixed_noreplace_outside_arena)
{
	/* A free address that Linux picked (outside the range libhel reserves). */
	HelHandle h = alloc_pages(2);
	char *hole = mmap(NULL, 4 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(hole, MAP_FAILED);
	ck_assert_int_eq(munmap(hole, 4 * PAGE), 0);
	/* should succeed: placed exactly there */
	char *p = hh_test_map(h, hole + PAGE, 0, 2 * PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(p, hole + PAGE);
	strcpy(p + PAGE, "outside");
	char *other = map_rw(h, 0, 2 * PAGE);
	ck_assert_str_eq(other + PAGE, "outside");
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	/* a second FixedNoReplace there (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, p, 0, PAGE, RW | kHelMapFixedNoReplace, &q),
			kHelErrAlreadyExists);
	/* should succeed: unmapping gives the range back to Linux */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 2 * PAGE), kHelErrNone);
	struct vm_area gone;
	ck_assert(!vm_area_at(p, &gone));
	ck_assert(!vm_area_at(p + PAGE, &gone));
	void *linux_map = mmap(p, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			-1, 0);
	ck_assert_ptr_eq(linux_map, p);
	munmap(linux_map, 2 * PAGE);
}
END_TEST

START_TEST(test_memory_map_fixed_noreplace_over_linux_mmap)
{
	HelHandle h = alloc_pages(1);
	char *mine = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mine, MAP_FAILED);
	strcpy(mine + PAGE, "linux");
	void *p = NULL;
	/* over a plain Linux mapping of the program (should fail) */
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, mine + PAGE, 0, PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrAlreadyExists);
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, mine, 0, PAGE,
			RW | kHelMapFixedNoReplace, &p), kHelErrAlreadyExists);
	/* the Linux mapping is untouched and is not Hel memory */
	ck_assert_str_eq(mine + PAGE, "linux");
	struct vm_area a;
	ck_assert(vm_area_at(mine + PAGE, &a));
	ck_assert_str_eq(a.perms, "rw-p");
	ck_assert_str_eq(a.path, "");
	/* the emulator forgot the failed mapping: the range is free again for it */
	ck_assert_int_eq(munmap(mine, 2 * PAGE), 0);
	char *q = hh_test_map(h, mine + PAGE, 0, PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(q, mine + PAGE);
	ck_assert_int_eq(q[0], 0);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, q, PAGE), kHelErrNone);
}
END_TEST

START_TEST(test_memory_map_placement_and_hint)
{
	HelHandle h = alloc_pages(4);
	/* should succeed: placement goes top-down, the second mapping right below the first */
	char *first = map_rw(h, 0, 2 * PAGE);
	char *second = map_rw(h, 0, PAGE);
	ck_assert_ptr_eq(second, first - PAGE);
	/* should succeed: a free hint below them, in the same range, is honoured */
	char *hint = second - 32 * PAGE;
	char *hinted = hh_test_map(h, hint, 0, 4 * PAGE, RW);
	ck_assert_ptr_eq(hinted, hint);
	hinted[3 * PAGE] = 'h';
	/* a hint that overlaps a mapping is not honoured: the highest free gap is used */
	char *moved = hh_test_map(h, first, 0, PAGE, RW);
	ck_assert_ptr_ne(moved, first);
	ck_assert_ptr_eq(moved, second - PAGE);
	/* an unaligned hint (should fail) */
	void *p;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, hint - 100, 0, PAGE, RW, &p),
			kHelErrIllegalArgs);
	/* the hinted mapping shares the object's bytes */
	ck_assert_int_eq(moved[0], 0);
	char *view = map_rw(h, 3 * PAGE, PAGE);
	ck_assert_int_eq(view[0], 'h');
}
END_TEST

START_TEST(test_memory_map_write_implies_read)
{
	/* should succeed: W alone is RW, X alone is RX */
	HelHandle h = alloc_pages(1);
	char *w = hh_test_map(h, NULL, 0, PAGE, kHelMapProtWrite);
	w[10] = 'w';
	ck_assert_int_eq(((volatile char *)w)[10], 'w');
	char *x = hh_test_map(h, NULL, 0, PAGE, kHelMapProtExecute);
	ck_assert_int_eq(((volatile char *)x)[10], 'w');
	/* unknown flag bits are ignored */
	char *u = hh_test_map(h, NULL, 0, PAGE, RW | (1u << 20));
	ck_assert_int_eq(u[10], 'w');
}
END_TEST

START_TEST(test_memory_map_read_only_write_faults)
{
	/* writing to a read-only mapping faults; writing to a writable one of the same object does not */
	HelHandle h = alloc_pages(1);
	char *p = hh_test_map(h, NULL, 0, PAGE, kHelMapProtRead);
	char *w = map_rw(h, 0, PAGE);
	ck_assert(vm_hel_mapped(p, PAGE, "r--s"));
	ck_assert(vm_can_read(p));
	ck_assert(!vm_can_write(p));
	ck_assert(vm_can_write(w));
}
END_TEST

START_TEST(test_memory_map_no_access_read_faults)
{
	/* reading a mapping with no protection flags faults; a readable one does not */
	HelHandle h = alloc_pages(1);
	char *p = hh_test_map(h, NULL, 0, PAGE, 0);
	char *r = hh_test_map(h, NULL, 0, PAGE, kHelMapProtRead);
	ck_assert(vm_hel_mapped(p, PAGE, "---s"));
	ck_assert(!vm_can_read(p));
	ck_assert(vm_can_read(r));
}
END_TEST

/* The memfds of memory objects this process holds open (the shim keeps some, see hel_memory.c). */
static int memory_memfds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	ck_assert_ptr_nonnull(dir);
	int n = 0;
	struct dirent *d;
	while ((d = readdir(dir))) {
		char path[300], link[300];
		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		ssize_t len = readlink(path, link, sizeof(link) - 1);
		n += len > 0 && (link[len] = 0, !strncmp(link, "/memfd:hel-memory", 17));
	}
	closedir(dir);
	return n;
}

START_TEST(test_memory_map_again_keeps_memfd)
{
	/*
	 * should succeed: the first map of an object brings its memfd, which the
	 * shim keeps; mapping it again and again needs no other, and every
	 * mapping shows the same object
	 */
	int base = memory_memfds();
	HelHandle h = alloc_pages(2);
	ck_assert_int_eq(memory_memfds(), base);
	char *first = map_rw(h, 0, 2 * PAGE);
	ck_assert_int_eq(memory_memfds(), base + 1);
	first[PAGE] = 'k';
	for (int i = 0; i < 10; i++) {
		char *p = map_rw(h, PAGE, PAGE);
		ck_assert_int_eq(p[0], 'k');
		p[1] = (char)i;
		ck_assert_int_eq(first[PAGE + 1], i);
		ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	}
	ck_assert_int_eq(memory_memfds(), base + 1);
	/* another handle to the object is another key: one more memfd, the same memory */
	HelHandle dup;
	ck_assert_int_eq(helTransferDescriptor(h, kHelThisUniverse, &dup), kHelErrNone);
	char *other = map_rw(dup, PAGE, PAGE);
	ck_assert_int_eq(other[0], 'k');
	ck_assert_int_eq(memory_memfds(), base + 2);
	/* closing a handle lets go of its memfd; the object lives on through the other */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, dup), kHelErrNone);
	ck_assert_int_eq(memory_memfds(), base + 1);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, other, PAGE), kHelErrNone);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, first, 2 * PAGE), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h), kHelErrNone);
	ck_assert_int_eq(memory_memfds(), base);
}
END_TEST

START_TEST(test_memory_map_kept_memfds_are_few)
{
	/*
	 * should succeed: mapping many objects keeps only a few memfds (8), each
	 * object maps as itself after others took its place, and closing them
	 * all lets go of every memfd
	 */
	int base = memory_memfds();
	HelHandle h[12];
	for (int i = 0; i < 12; i++) {
		h[i] = alloc_pages(1);
		char *p = map_rw(h[i], 0, PAGE);
		p[0] = (char)('a' + i);
		ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	}
	ck_assert_int_eq(memory_memfds(), base + 8);
	for (int i = 0; i < 12; i++) {
		char *p = map_rw(h[i], 0, PAGE);
		ck_assert_int_eq(p[0], 'a' + i);
		ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	}
	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, h[i]), kHelErrNone);
	ck_assert_int_eq(memory_memfds(), base);
}
END_TEST

/* ---- helUnmapMemory ---- */

START_TEST(test_memory_unmap_whole)
{
	HelHandle h = alloc_pages(2);
	char *p = map_rw(h, 0, 2 * PAGE);
	p[0] = 'k';
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	/* should succeed */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 2 * PAGE), kHelErrNone);
	ck_assert(vm_unmapped(p, 2 * PAGE));
	/* should succeed: unmapping it again (nothing there) */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 2 * PAGE), kHelErrNone);
	/* the freed range can be mapped again exactly; the object kept its bytes */
	char *r = hh_test_map(h, p, 0, 2 * PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(r, p);
	ck_assert_int_eq(r[0], 'k');
}
END_TEST

START_TEST(test_memory_unmap_middle_splits)
{
	HelHandle h = alloc_pages(3);
	char *p = map_rw(h, 0, 3 * PAGE);
	for (int i = 0; i < 3; i++)
		memset(p + i * PAGE, '0' + i, PAGE);
	/* should succeed: the middle page goes */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + PAGE, PAGE), kHelErrNone);
	/* exactly the middle page went: both parts end at the hole, which faults */
	struct vm_area below, above;
	ck_assert(vm_area_at(p, &below));
	ck_assert(vm_area_at(p + 2 * PAGE, &above));
	ck_assert_uint_eq(below.end, (uintptr_t)(p + PAGE));
	ck_assert_uint_eq(above.start, (uintptr_t)(p + 2 * PAGE));
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	ck_assert(vm_unmapped(p + PAGE, PAGE));
	ck_assert(vm_hel_mapped(p + 2 * PAGE, PAGE, "rw-s"));
	ck_assert(vm_can_write(p + PAGE - 1));
	ck_assert(!vm_can_read(p + PAGE));
	ck_assert(!vm_can_read(p + 2 * PAGE - 1));
	ck_assert(vm_can_write(p + 2 * PAGE));
	/* both parts keep their contents and their offsets into the object */
	ck_assert_int_eq(p[0], '0');
	ck_assert_int_eq(p[PAGE - 1], '0');
	ck_assert_int_eq(p[2 * PAGE], '2');
	ck_assert_int_eq(p[3 * PAGE - 1], '2');
	char *view = map_rw(h, 0, 3 * PAGE);
	view[2 * PAGE + 9] = 'N';
	view[9] = 'M';
	ck_assert_int_eq(p[2 * PAGE + 9], 'N');
	ck_assert_int_eq(p[9], 'M');
	p[2 * PAGE + 10] = 'O';
	ck_assert_int_eq(view[2 * PAGE + 10], 'O');
	/* should succeed: each part unmaps on its own */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 2 * PAGE, PAGE), kHelErrNone);
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	ck_assert(vm_unmapped(p + 2 * PAGE, PAGE));
	ck_assert_int_eq(p[9], 'M');
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	ck_assert(vm_unmapped(p, PAGE));
	/* the middle page can be mapped on its own again */
	char *mid = hh_test_map(h, p + PAGE, PAGE, PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_int_eq(mid[0], '1');
}
END_TEST

START_TEST(test_memory_unmap_unaligned)
{
	HelHandle h = alloc_pages(2);
	char *p = map_rw(h, 0, 2 * PAGE);
	p[0] = 'u';
	/* unaligned pointer or length (should fail) */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 1, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE + 100), kHelErrIllegalArgs);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 100), kHelErrIllegalArgs);
	/* nothing was unmapped */
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	ck_assert_int_eq(p[0], 'u');
	p[PAGE] = 'v';
}
END_TEST

START_TEST(test_memory_unmap_range_with_gaps)
{
	HelHandle h = alloc_pages(1);
	char *base = free_hole(8 * PAGE);
	/* Mappings at pages 1, 3 and 4 of the hole; 0, 2, 5-7 stay free. */
	hh_test_map(h, base + PAGE, 0, PAGE, RW | kHelMapFixed);
	hh_test_map(h, base + 3 * PAGE, 0, PAGE, RW | kHelMapFixed);
	hh_test_map(h, base + 4 * PAGE, 0, PAGE, RW | kHelMapFixed);
	ck_assert(vm_hel_mapped(base + PAGE, PAGE, "rw-s"));
	ck_assert(vm_unmapped(base + 2 * PAGE, PAGE));
	ck_assert(vm_hel_mapped(base + 3 * PAGE, 2 * PAGE, "rw-s"));
	/* should succeed: the whole range, gaps and all */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, base, 8 * PAGE), kHelErrNone);
	ck_assert(vm_unmapped(base, 8 * PAGE));
	/* should succeed: a range with nothing mapped at all */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, base, 8 * PAGE), kHelErrNone);
	/* the space is usable again there */
	char *again = hh_test_map(h, base + 2 * PAGE, 0, PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(again, base + 2 * PAGE);
}
END_TEST

START_TEST(test_memory_unmap_then_access_faults)
{
	/* reading after the unmap faults; the same read before it did not */
	HelHandle h = alloc_pages(1);
	char *p = map_rw(h, 0, PAGE);
	p[0] = 1;
	ck_assert(vm_can_read(p));
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	ck_assert(!vm_can_read(p));
}
END_TEST

START_TEST(test_memory_unmap_bad_space)
{
	HelHandle h = alloc_pages(1);
	HelHandle q = hh_test_queue();
	HelHandle universe;
	ck_assert_int_eq(helCreateUniverse(&universe), kHelErrNone);
	char *p = map_rw(h, 0, PAGE);
	/* spaces of the wrong type (should fail) */
	ck_assert_int_eq(helUnmapMemory(h, p, PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helUnmapMemory(q, p, PAGE), kHelErrBadDescriptor);
	ck_assert_int_eq(helUnmapMemory(universe, p, PAGE), kHelErrBadDescriptor);
	/* unknown and special values (should fail) */
	ck_assert_int_eq(helUnmapMemory(7777, p, PAGE), kHelErrNoDescriptor);
	ck_assert_int_eq(helUnmapMemory(kHelThisUniverse, p, PAGE), kHelErrNoDescriptor);
	/* the space is checked first (should fail) */
	ck_assert_int_eq(helUnmapMemory(7777, p + 1, 3), kHelErrNoDescriptor);
	ck_assert_int_eq(helUnmapMemory(q, p + 1, 3), kHelErrBadDescriptor);
	/* the mapping survived */
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	p[0] = 1;
}
END_TEST

/* ---- fork ---- */

static int64_t now_ns(void)
{
	uint64_t t;
	helGetClock(&t);
	return (int64_t)t;
}

/* Spin until *p == v or timeout; 0 on success. */
static int await_byte(volatile char *p, char v, int64_t ms)
{
	int64_t end = now_ns() + ms * 1000000;
	while (*p != v) {
		if (now_ns() > end)
			return -1;
		usleep(100);
	}
	return 0;
}

START_TEST(test_memory_fork_shares_mappings)
{
	HelHandle h = alloc_pages(2);
	volatile char *p = map_rw(h, 0, 2 * PAGE);
	p[0] = 'P';
	pid_t pid = fork_tied();
	if (!pid) {
		/* The child sees the parent's write made before the fork... */
		CHILD_CHECK(p[0] == 'P');
		/* ...and after it. */
		CHILD_CHECK(await_byte(&p[1], 'Q', 20000) == 0);
		/* The child's copy of the handle maps the same object. */
		void *mine = NULL;
		CHILD_CHECK(helMapMemory(h, kHelNullHandle, NULL, 0, 2 * PAGE, RW, &mine) == kHelErrNone);
		volatile char *m = mine;
		CHILD_CHECK(m[0] == 'P' && m[1] == 'Q');
		/* Writes through either mapping reach the parent. */
		p[2] = 'C';
		m[PAGE] = 'D';
		CHILD_CHECK(await_byte(&p[3], 'R', 20000) == 0);
		CHILD_CHECK(m[3] == 'R');
		_exit(0);
	}
	p[1] = 'Q';
	ck_assert_int_eq(await_byte(&p[2], 'C', 20000), 0);
	ck_assert_int_eq(await_byte(&p[PAGE], 'D', 20000), 0);
	p[3] = 'R';
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* the parent's mapping and handle are unaffected by the child's exit */
	ck_assert_int_eq(p[2], 'C');
	ck_assert_uint_eq(info(h), 2 * PAGE);
	char *again = map_rw(h, 0, 2 * PAGE);
	ck_assert_int_eq(again[PAGE], 'D');
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memory");
	TCase *tc = hh_test_case(s, "memory", 60);
	tcase_add_test(tc, test_memory_allocate_bad_size);
	tcase_add_test(tc, test_memory_allocate_restrictions);
	tcase_add_test(tc, test_memory_allocate_continuous_rounds_up);
	tcase_add_test(tc, test_memory_allocate_reads_zero);
	tcase_add_test(tc, test_memory_allocate_after_close_reads_zero);
	tcase_add_test(tc, test_memory_info_bad_handles);
	tcase_add_test(tc, test_memory_resize_grow);
	tcase_add_test(tc, test_memory_resize_existing_mapping_keeps_length);
	tcase_add_test(tc, test_memory_resize_bad_sizes);
	tcase_add_test(tc, test_memory_resize_bad_handles);
	tcase_add_test(tc, test_memory_loadahead);
	tcase_add_test(tc, test_memory_map_check_order);
	tcase_add_test(tc, test_memory_map_two_mappings_share);
	tcase_add_test(tc, test_memory_map_at_offset);
	tcase_add_test(tc, test_memory_map_fixed_replaces);
	tcase_add_test(tc, test_memory_map_fixed_noreplace_conflict);
	tcase_add_test(tc, test_memory_map_fixed_noreplace_outside_arena);
	tcase_add_test(tc, test_memory_map_fixed_noreplace_over_linux_mmap);
	tcase_add_test(tc, test_memory_map_placement_and_hint);
	tcase_add_test(tc, test_memory_map_write_implies_read);
	tcase_add_test(tc, test_memory_map_read_only_write_faults);
	tcase_add_test(tc, test_memory_map_no_access_read_faults);
	tcase_add_test(tc, test_memory_unmap_whole);
	tcase_add_test(tc, test_memory_unmap_middle_splits);
	tcase_add_test(tc, test_memory_unmap_unaligned);
	tcase_add_test(tc, test_memory_unmap_range_with_gaps);
	tcase_add_test(tc, test_memory_unmap_then_access_faults);
	tcase_add_test(tc, test_memory_unmap_bad_space);
	tcase_add_test(tc, test_memory_fork_shares_mappings);
	tcase_add_test(tc, test_memory_map_again_keeps_memfd);
	tcase_add_test(tc, test_memory_map_kept_memfds_are_few);
	return hh_test_main(s);
}
