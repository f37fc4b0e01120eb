/*
 * helCreateIndirectMemory, helAlterMemoryIndirection and helMapMemory of
 * indirect memory, run under an auto-started emulator (OBJECTS.md §3.7,
 * §4.2, §10).
 */
#include <check.h>
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
#include "sq.h"
#include "task.h"
#include "vm.h"

#define PAGE 4096ul
#define SLOT (1ull << 32)
#define RW (kHelMapProtRead | kHelMapProtWrite)

static HelHandle indirect(size_t slots)
{
	HelHandle h;
	ck_assert_int_eq(helCreateIndirectMemory(slots, &h), kHelErrNone);
	return h;
}

/* An allocated object of pages pages, page i filled with the byte fill + i. */
static HelHandle filled(size_t pages, char fill)
{
	HelHandle h = hh_test_memory(pages * PAGE);
	void *p = NULL;
	ck_assert_int_eq(helMapMemory(h, kHelNullHandle, NULL, 0, pages * PAGE, RW, &p), kHelErrNone);
	for (size_t i = 0; i < pages; i++)
		memset((char *)p + i * PAGE, fill + (char)i, PAGE);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, pages * PAGE), kHelErrNone);
	return h;
}

static char *map_rw(HelHandle h, size_t offset, size_t len)
{
	return hh_test_map(h, NULL, offset, len, RW);
}

static void alter(HelHandle ind, size_t slot, HelHandle mem, size_t offset, size_t size)
{
	ck_assert_int_eq(helAlterMemoryIndirection(ind, slot, mem, offset, size), kHelErrNone);
}


static size_t info(HelHandle h)
{
	size_t size = 0;
	ck_assert_int_eq(helMemoryInfo(h, &size), kHelErrNone);
	return size;
}

/* The number the next handle gets: a universe costs nothing to make. */
static HelHandle next_number(void)
{
	HelHandle h;
	ck_assert_int_eq(helCreateUniverse(&h), kHelErrNone);
	return h;
}

/* ---- helCreateIndirectMemory ---- */

START_TEST(test_indirect_create_lengths)
{
	/* should succeed: the length is numSlots << 32, handles are consecutive */
	HelHandle a = indirect(3), b = indirect(0), c = indirect(1u << 15);
	ck_assert_int_eq(b, a + 1);
	ck_assert_int_eq(c, b + 1);
	ck_assert_uint_eq(info(a), 3 * SLOT);
	ck_assert_uint_eq(info(b), 0);
	ck_assert_uint_eq(info(c), (size_t)1 << 47);
	/* [emu] past the 47-bit space (should fail), and no handle is made */
	HelHandle h = 0;
	ck_assert_int_eq(helCreateIndirectMemory((1u << 15) + 1, &h), kHelErrNoMemory);
	ck_assert_int_eq(helCreateIndirectMemory(SIZE_MAX, &h), kHelErrNoMemory);
	ck_assert_int_eq(next_number(), c + 1);
}
END_TEST

START_TEST(test_indirect_create_memory_calls)
{
	HelHandle ind = indirect(2);
	struct sq s;
	sq_open(&s);
	HelHandle h = 0;
	/* a memory view: helLoadahead takes it */
	ck_assert_int_eq(helLoadahead(ind, 0, PAGE), kHelErrNone);
	/* resizing (should fail: thor panics, §3.3 [emu]); the length stays */
	ck_assert_int_eq(helResizeMemory(ind, 4 * SLOT), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(info(ind), 2 * SLOT);
	/* forking is for copy-on-write objects only (should fail) */
	ck_assert_int_eq(helForkMemory(ind, &h), kHelErrUnsupportedOperation);
	/*
	 * [emu] no copy-on-write of it and no read/write-memory on it: the object
	 * has no memfd of its own to copy or to map (should fail)
	 */
	ck_assert_int_eq(helCopyOnWrite(ind, 0, PAGE, &h), kHelErrUnsupportedOperation);
	char buf[16];
	ck_assert_int_eq(helSubmitReadMemory(ind, 0, sizeof(buf), buf, s.q.handle, 1),
			kHelErrUnsupportedOperation);
	ck_assert_int_eq(helSubmitWriteMemory(ind, 0, sizeof(buf), buf, s.q.handle, 2),
			kHelErrUnsupportedOperation);
	none(&s);
}
END_TEST

/* ---- helAlterMemoryIndirection ---- */

START_TEST(test_indirect_alter_check_order)
{
	HelHandle ind = indirect(2), mem = hh_test_memory(4 * PAGE), q = hh_test_queue();
	HelHandle sl = 0, ind_slice = 0;
	ck_assert_int_eq(helCreateSliceView(mem, 0, 2 * PAGE, 0, &sl), kHelErrNone);
	ck_assert_int_eq(helCreateSliceView(ind, 0, SLOT, 0, &ind_slice), kHelErrNone);
	HelHandle missing = ind_slice + 1000;
	/* the indirect handle first: missing, not a memory view (should fail) */
	ck_assert_int_eq(helAlterMemoryIndirection(missing, 99, missing, 1, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helAlterMemoryIndirection(kHelNullHandle, 0, mem, 0, PAGE),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helAlterMemoryIndirection(q, 99, missing, 1, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helAlterMemoryIndirection(sl, 99, missing, 1, 1), kHelErrBadDescriptor);
	/* then the memory handle: missing, a queue (should fail) */
	ck_assert_int_eq(helAlterMemoryIndirection(mem, 99, missing, 1, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 99, q, 1, 1), kHelErrBadDescriptor);
	/* then: not an indirect object (should fail), even with a bad slot */
	ck_assert_int_eq(helAlterMemoryIndirection(mem, 99, mem, 1, 1), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAlterMemoryIndirection(mem, 0, mem, 0, PAGE), kHelErrUnsupportedOperation);
	/* then the slot (should fail), even with bad offsets */
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 2, mem, 1, 1), kHelErrOutOfBounds);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, SIZE_MAX, mem, 0, PAGE), kHelErrOutOfBounds);
	/* [emu] unaligned, more than a slot, past the target (should fail) */
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 1, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 0, PAGE + 1), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 0, SLOT + PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 0, 5 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 4 * PAGE, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, 8 * PAGE, 0), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, mem, SIZE_MAX & ~(PAGE - 1), 2 * PAGE),
			kHelErrIllegalArgs);
	/* [emu] indirect memory as the target, directly or through a slice (should fail) */
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, ind, 0, PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 1, ind_slice, 0, PAGE),
			kHelErrUnsupportedOperation);
	/* should succeed: the whole target, an empty window, the last page */
	alter(ind, 1, mem, 0, 4 * PAGE);
	alter(ind, 1, mem, 4 * PAGE, 0);
	alter(ind, 0, mem, 3 * PAGE, PAGE);
	/* no handle was made on the way */
	ck_assert_int_eq(next_number(), ind_slice + 1);
}
END_TEST

START_TEST(test_indirect_alter_slice_target)
{
	HelHandle mem = filled(4, 'a');
	HelHandle sl;
	ck_assert_int_eq(helCreateSliceView(mem, 2 * PAGE, 2 * PAGE, kHelSliceCacheWriteCombine, &sl),
			kHelErrNone);
	HelHandle ind = indirect(1);
	/* past the slice, though inside the object (should fail) */
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 0, sl, PAGE, 2 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(helAlterMemoryIndirection(ind, 0, sl, 3 * PAGE, 0), kHelErrIllegalArgs);
	/* should succeed: the slice's offset is added */
	alter(ind, 0, sl, PAGE, PAGE);
	char *p = map_rw(ind, 0, PAGE);
	ck_assert_int_eq(p[0], 'd');
	ck_assert_int_eq(p[PAGE - 1], 'd');
	/* the slot holds the object: closing the slice changes nothing */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, sl), kHelErrNone);
	char *again = map_rw(ind, 0, PAGE);
	ck_assert_int_eq(again[7], 'd');
	again[7] = 'Z';
	char *direct = map_rw(mem, 0, 4 * PAGE);
	ck_assert_int_eq(direct[3 * PAGE + 7], 'Z');
}
END_TEST

START_TEST(test_indirect_alter_keeps_old_mappings)
{
	HelHandle a = filled(2, 'a'), b = filled(2, 'x');
	HelHandle ind = indirect(1);
	alter(ind, 0, a, PAGE, PAGE);
	char *old = map_rw(ind, 0, PAGE);
	ck_assert_int_eq(old[0], 'b');
	/* should succeed: retarget the slot; the old mapping still shows a, as in thor */
	alter(ind, 0, b, 0, 2 * PAGE);
	char *fresh = map_rw(ind, 0, 2 * PAGE);
	ck_assert_int_eq(fresh[0], 'x');
	ck_assert_int_eq(fresh[PAGE], 'y');
	ck_assert_int_eq(old[0], 'b');
	old[1] = '1';
	fresh[1] = '2';
	char *pa = map_rw(a, 0, 2 * PAGE), *pb = map_rw(b, 0, 2 * PAGE);
	ck_assert_int_eq(pa[PAGE + 1], '1');
	ck_assert_int_eq(pb[1], '2');
	/* closing every handle leaves both mappings working */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ind), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, b), kHelErrNone);
	ck_assert_int_eq(old[1], '1');
	ck_assert_int_eq(fresh[PAGE], 'y');
}
END_TEST

/* ---- helMapMemory of indirect memory ---- */

START_TEST(test_indirect_map_slot_shows_target)
{
	HelHandle mem = filled(4, 'a');
	HelHandle ind = indirect(3);
	alter(ind, 1, mem, PAGE, 2 * PAGE);
	/* should succeed: slot 1 at offset 1 << 32 shows pages 1 and 2 of mem */
	char *p = map_rw(ind, SLOT, 2 * PAGE);
	ck_assert_int_eq(p[0], 'b');
	ck_assert_int_eq(p[2 * PAGE - 1], 'c');
	/* an in-slot offset */
	char *q = map_rw(ind, SLOT + PAGE, PAGE);
	ck_assert_int_eq(q[5], 'c');
	/* writes are shared both ways */
	p[PAGE + 5] = 'W';
	ck_assert_int_eq(q[5], 'W');
	char *direct = map_rw(mem, 0, 4 * PAGE);
	ck_assert_int_eq(direct[2 * PAGE + 5], 'W');
	direct[PAGE] = 'D';
	ck_assert_int_eq(p[0], 'D');
	/* the pieces are shared mappings of the target's memfd */
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	ck_assert(vm_hel_mapped(q, PAGE, "rw-s"));
	/* past the object (should fail) */
	void *r;
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, 2 * SLOT, SLOT + PAGE, RW, &r),
			kHelErrBufferTooSmall);
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, 3 * SLOT, PAGE, RW, &r),
			kHelErrBufferTooSmall);
	/* unaligned (should fail) */
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, SLOT + 1, PAGE, RW, &r),
			kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_indirect_map_two_slots)
{
	HelHandle a = filled(2, 'a'), b = filled(2, 'p');
	HelHandle ind = indirect(2);
	alter(ind, 0, a, 0, 2 * PAGE);
	alter(ind, 1, b, PAGE, PAGE);
	/* should succeed: one range over both slots, a hole between them */
	char *p = map_rw(ind, 0, SLOT + 2 * PAGE);
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[2 * PAGE - 1], 'b');
	ck_assert_int_eq(p[SLOT], 'q');
	ck_assert_int_eq(p[SLOT + PAGE - 1], 'q');
	ck_assert(vm_hel_mapped(p, 2 * PAGE, "rw-s"));
	ck_assert(vm_hel_mapped(p + SLOT, PAGE, "rw-s"));
	/* the hole and the part past slot 1's window are not accessible */
	ck_assert(vm_unmapped(p + 2 * PAGE, PAGE));
	ck_assert(vm_unmapped(p + SLOT - PAGE, PAGE));
	ck_assert(vm_unmapped(p + SLOT + PAGE, PAGE));
	/* a range that starts inside slot 0 */
	char *r = map_rw(ind, PAGE, SLOT);
	ck_assert_int_eq(r[0], 'b');
	ck_assert_int_eq(r[SLOT - PAGE], 'q');
	ck_assert(vm_unmapped(r + PAGE, PAGE));
}
END_TEST

START_TEST(test_indirect_map_empty_slot_faults)
{
	HelHandle mem = filled(1, 'a');
	HelHandle ind = indirect(2);
	alter(ind, 1, mem, 0, PAGE);
	/* should succeed: the range is placed, slot 0 shows nothing */
	char *p = map_rw(ind, 0, 2 * PAGE);
	ck_assert(vm_unmapped(p, PAGE));
	/* [emu] accessing an empty slot faults (thor asserts); the filled slot reads */
	ck_assert(!vm_can_read(p));
	ck_assert(vm_can_read(map_rw(ind, SLOT, PAGE)));
}
END_TEST

START_TEST(test_indirect_map_past_window_faults)
{
	HelHandle mem = filled(4, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, PAGE);
	char *p = map_rw(ind, 0, 2 * PAGE);
	ck_assert_int_eq(p[0], 'a');
	/* [emu] past the slot's size faults, though the target has more (thor forwards) */
	ck_assert(vm_can_write(p + PAGE - 1));
	ck_assert(!vm_can_read(p + PAGE));
}
END_TEST

START_TEST(test_indirect_map_all_empty)
{
	HelHandle ind = indirect(2);
	/* should succeed: nothing but holes, still one placed range */
	char *p = map_rw(ind, 0, 2 * PAGE);
	ck_assert(vm_unmapped(p, 2 * PAGE));
	void *q;
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, p, 0, PAGE, RW | kHelMapFixedNoReplace, &q),
			kHelErrAlreadyExists);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 2 * PAGE), kHelErrNone);
	ck_assert_ptr_eq(hh_test_map(ind, p, 0, 2 * PAGE, RW | kHelMapFixedNoReplace), p);
}
END_TEST

START_TEST(test_indirect_map_holes_keep_their_place)
{
	HelHandle mem = filled(2, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, PAGE);
	/* a range of four pages: the piece at the bottom, three pages of hole above it */
	char *p = map_rw(ind, 0, 4 * PAGE);
	/* should succeed: the next mapping goes below the whole range, not into the hole */
	char *next = map_rw(mem, 0, PAGE);
	ck_assert_ptr_eq(next, p - PAGE);
	/* a hint inside the hole is not honoured */
	char *hinted = hh_test_map(mem, p + 2 * PAGE, 0, PAGE, RW);
	ck_assert_ptr_eq(hinted, p - 2 * PAGE);
	/* FixedNoReplace over the hole (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, p + 3 * PAGE, 0, PAGE,
			RW | kHelMapFixedNoReplace, &q), kHelErrAlreadyExists);
	/* should succeed: Fixed into the hole replaces that part of it */
	char *fixed = hh_test_map(mem, p + 2 * PAGE, PAGE, PAGE, RW | kHelMapFixed);
	ck_assert_ptr_eq(fixed, p + 2 * PAGE);
	ck_assert_int_eq(fixed[0], 'b');
	ck_assert_int_eq(p[0], 'a');
	/* unmapping part of the hole frees just that part */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + 3 * PAGE, PAGE), kHelErrNone);
	ck_assert_ptr_eq(hh_test_map(mem, p + 3 * PAGE, 0, PAGE, RW | kHelMapFixedNoReplace), p + 3 * PAGE);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, p + PAGE, 0, PAGE,
			RW | kHelMapFixedNoReplace, &q), kHelErrAlreadyExists);
	/* an indirect range honours a free hint as a whole, and not one touching a hole */
	char *low = p - 64 * PAGE;
	ck_assert_ptr_eq(hh_test_map(ind, low, 0, 4 * PAGE, RW), low);
	ck_assert_int_eq(low[0], 'a');
	char *moved = hh_test_map(ind, low + 2 * PAGE, 0, 4 * PAGE, RW);
	ck_assert_ptr_eq(moved, p - 6 * PAGE);
	ck_assert_int_eq(moved[0], 'a');
}
END_TEST

START_TEST(test_indirect_map_fixed_replaces)
{
	HelHandle x = filled(4, 'A'), t = filled(2, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, t, PAGE, PAGE);
	char *px = map_rw(x, 0, 4 * PAGE);
	/* should succeed: over the middle of x's mapping, the piece, then a hole */
	char *p = hh_test_map(ind, px + PAGE, 0, 2 * PAGE, RW | kHelMapFixed);
	ck_assert_ptr_eq(p, px + PAGE);
	ck_assert_int_eq(px[0], 'A');
	ck_assert_int_eq(px[PAGE], 'b');
	ck_assert_int_eq(px[3 * PAGE], 'D');
	/* what was under the hole is gone */
	ck_assert(vm_hel_mapped(px + PAGE, PAGE, "rw-s"));
	ck_assert(vm_unmapped(px + 2 * PAGE, PAGE));
	ck_assert(vm_hel_mapped(px + 3 * PAGE, PAGE, "rw-s"));
	/* x itself is untouched */
	char *check = map_rw(x, 0, 4 * PAGE);
	ck_assert_int_eq(check[PAGE], 'B');
	ck_assert_int_eq(check[2 * PAGE], 'C');
	/* FixedNoReplace of an indirect range over a mapping (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, px, 0, 2 * PAGE,
			RW | kHelMapFixedNoReplace, &q), kHelErrAlreadyExists);
	/* Fixed needs a pointer (should fail) */
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, 0, PAGE, RW | kHelMapFixed, &q),
			kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_indirect_map_fixed_hole_faults)
{
	HelHandle x = filled(3, 'A'), t = filled(1, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, t, 0, PAGE);
	char *px = map_rw(x, 0, 3 * PAGE);
	ck_assert(vm_can_read(px + PAGE));
	hh_test_map(ind, px, 0, 2 * PAGE, RW | kHelMapFixed);
	ck_assert_int_eq(px[0], 'a');
	ck_assert_int_eq(px[2 * PAGE], 'C');
	/* x's page that the hole replaced is no longer there; its neighbours are */
	ck_assert(!vm_can_read(px + PAGE));
	ck_assert(vm_can_write(px));
	ck_assert(vm_can_write(px + 2 * PAGE));
}
END_TEST

START_TEST(test_indirect_map_protection)
{
	HelHandle mem = filled(1, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, PAGE);
	/* should succeed: a read-only range reads */
	char *p = hh_test_map(ind, NULL, 0, 2 * PAGE, kHelMapProtRead);
	ck_assert_int_eq(p[0], 'a');
	ck_assert(vm_hel_mapped(p, PAGE, "r--s"));
	/* writing the piece faults; a writable mapping of the same slot takes the write */
	ck_assert(!vm_can_write(p));
	ck_assert(vm_can_write(map_rw(ind, 0, PAGE)));
}
END_TEST

START_TEST(test_indirect_map_slice_of_indirect)
{
	HelHandle mem = filled(4, 'a');
	HelHandle ind = indirect(2);
	alter(ind, 1, mem, PAGE, 3 * PAGE);
	HelHandle sl;
	ck_assert_int_eq(helCreateSliceView(ind, SLOT + PAGE, 2 * PAGE, 0, &sl), kHelErrNone);
	/* should succeed: a slice of an indirect object maps its slots */
	char *p = map_rw(sl, PAGE, PAGE);
	ck_assert_int_eq(p[0], 'd');
	char *both = map_rw(sl, 0, 2 * PAGE);
	ck_assert_int_eq(both[0], 'c');
	ck_assert_int_eq(both[PAGE], 'd');
	/* past the slice (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(sl, kHelNullHandle, NULL, 0, 3 * PAGE, RW, &q),
			kHelErrBufferTooSmall);
}
END_TEST

START_TEST(test_indirect_map_many_pieces)
{
	HelHandle mem = filled(1, 'a');
	HelHandle ind = indirect(65);
	for (size_t i = 0; i < 65; i++)
		alter(ind, i, mem, 0, PAGE);
	/* should succeed: 33 pieces, one operation each */
	char *p = map_rw(ind, 0, 33 * SLOT);
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[32 * SLOT], 'a');
	ck_assert(vm_unmapped(p + PAGE, PAGE));
	/* with kHelMapFixed each of the 33 holes needs an operation too: 66 > 64 (should fail) */
	void *q;
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, p, 0, 33 * SLOT, RW | kHelMapFixed, &q),
			kHelErrNoMemory);
	/* the mapping there is unchanged */
	ck_assert_int_eq(p[16 * SLOT], 'a');
	ck_assert(vm_hel_mapped(p + 32 * SLOT, PAGE, "rw-s"));
	/* should succeed: 32 pieces and 32 holes fit */
	ck_assert_ptr_eq(hh_test_map(ind, p, 0, 32 * SLOT, RW | kHelMapFixed), p);
	ck_assert_int_eq(p[31 * SLOT], 'a');
	/* 65 pieces (should fail) */
	ck_assert_int_eq(helMapMemory(ind, kHelNullHandle, NULL, 0, 64 * SLOT + PAGE, RW, &q),
			kHelErrNoMemory);
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, 33 * SLOT), kHelErrNone);
	ck_assert(vm_unmapped(p, PAGE));
	ck_assert(vm_unmapped(p + 32 * SLOT, PAGE));
}
END_TEST

START_TEST(test_indirect_unmap)
{
	HelHandle a = filled(2, 'a'), b = filled(1, 'p');
	HelHandle ind = indirect(2);
	alter(ind, 0, a, 0, 2 * PAGE);
	alter(ind, 1, b, 0, PAGE);
	char *p = map_rw(ind, 0, SLOT + PAGE);
	/* should succeed: unmapping a piece and part of the hole */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p + PAGE, 2 * PAGE), kHelErrNone);
	ck_assert(vm_hel_mapped(p, PAGE, "rw-s"));
	ck_assert(vm_unmapped(p + PAGE, PAGE));
	ck_assert_int_eq(p[0], 'a');
	ck_assert_int_eq(p[SLOT], 'p');
	/* should succeed: the whole range, gaps and all */
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, SLOT + PAGE), kHelErrNone);
	ck_assert(vm_unmapped(p, PAGE));
	ck_assert(vm_unmapped(p + SLOT, PAGE));
	/* the range is free again, hole included */
	char *again = hh_test_map(ind, p, 0, SLOT + PAGE, RW | kHelMapFixedNoReplace);
	ck_assert_ptr_eq(again, p);
	ck_assert_int_eq(again[PAGE], 'b');
	/* the objects outlive their handles in the mapping */
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, a), kHelErrNone);
	ck_assert_int_eq(helCloseDescriptor(kHelThisUniverse, ind), kHelErrNone);
	ck_assert_int_eq(again[0], 'a');
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, again, SLOT + PAGE), kHelErrNone);
}
END_TEST

START_TEST(test_indirect_unmap_then_access_faults)
{
	HelHandle mem = filled(1, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, PAGE);
	char *p = map_rw(ind, 0, PAGE);
	ck_assert_int_eq(p[0], 'a');
	ck_assert(vm_can_read(p));
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, p, PAGE), kHelErrNone);
	ck_assert(!vm_can_read(p));
}
END_TEST

START_TEST(test_indirect_futex_is_the_target_s)
{
	/* a futex word in an indirect mapping is the target's word (OBJECTS.md §7) */
	HelHandle mem = hh_test_memory(2 * PAGE);
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, PAGE, PAGE);
	int *p = (int *)map_rw(ind, 0, PAGE);
	int *direct = (int *)map_rw(mem, 0, 2 * PAGE);
	struct futex_waiter w;
	futex_waiter_start(&w, &p[16], 0);
	/* a wake of the word at the same offset of the wrong page leaves it asleep */
	ck_assert_int_eq(helFutexWake(&direct[16]), kHelErrNone);
	ck_assert(task_in_futex_sleep(getpid(), w.tid));
	/* should succeed: a wake through a direct mapping of the target's page ends the wait */
	ck_assert_int_eq(helFutexWake(&direct[PAGE / sizeof(int) + 16]), kHelErrNone);
	futex_waiter_join(&w);
	ck_assert_int_eq(w.error, kHelErrNone);
}
END_TEST

START_TEST(test_indirect_map_transfers)
{
	/* message bytes move through the pieces, and a hole is a fault */
	HelHandle mem = filled(2, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, 2 * PAGE);
	char *p = map_rw(ind, 0, 4 * PAGE);
	struct sq s;
	sq_open(&s);
	HelHandle l0, l1;
	hh_test_stream(&l0, &l1);
	unsigned char msg[200];
	fill(msg, sizeof(msg), 3);
	size_t len;
	/* should succeed: received into the piece, sent from the piece */
	SUBMIT(l1, &s, 1, RECV_BUF(p + PAGE - 100, sizeof(msg), 0));
	SUBMIT(l0, &s, 2, SEND(msg, sizeof(msg), 0));
	ck_assert_int_eq(one_length(&s, 1, &len), kHelErrNone);
	ck_assert_uint_eq(len, sizeof(msg));
	ck_assert_int_eq(one_simple(&s, 2), kHelErrNone);
	char *direct = map_rw(mem, 0, 2 * PAGE);
	ck_assert_mem_eq(direct + PAGE - 100, msg, sizeof(msg));
	unsigned char got[128];
	SUBMIT(l1, &s, 3, RECV_INLINE(0));
	SUBMIT(l0, &s, 4, SEND(p + PAGE - 100, 100, 0));
	ck_assert_int_eq(one_inline(&s, 3, got, &len), kHelErrNone);
	ck_assert_uint_eq(len, 100);
	ck_assert_mem_eq(got, msg, 100);
	ck_assert_int_eq(one_simple(&s, 4), kHelErrNone);
	/* into the hole (should fail on the receiving side) */
	SUBMIT(l1, &s, 5, RECV_BUF(p + 2 * PAGE, sizeof(msg), 0));
	SUBMIT(l0, &s, 6, SEND(msg, sizeof(msg), 0));
	ck_assert_int_eq(one_length(&s, 5, &len), kHelErrFault);
	one_simple(&s, 6);
}
END_TEST

START_TEST(test_indirect_map_fork_keeps_holes)
{
	HelHandle mem = filled(1, 'a');
	HelHandle ind = indirect(1);
	alter(ind, 0, mem, 0, PAGE);
	char *p = map_rw(ind, 0, 4 * PAGE);
	pid_t pid = fork_tied();
	if (!pid) {
		/* The child has the range too, hole included. */
		void *q = NULL;
		if (p[0] != 'a' || helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE, RW, &q)
				|| q != p - PAGE
				|| helUnmapMemory(kHelNullHandle, p, 4 * PAGE)
				|| helMapMemory(mem, kHelNullHandle, NULL, 0, PAGE, RW, &q)
				|| q != p + 3 * PAGE)
			_exit(1);
		_exit(0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* the parent's range is as it was */
	ck_assert_int_eq(p[0], 'a');
	ck_assert_ptr_eq(map_rw(mem, 0, PAGE), p - PAGE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("indirect");
	TCase *tc = hh_test_case(s, "indirect", 60);
	tcase_add_test(tc, test_indirect_create_lengths);
	tcase_add_test(tc, test_indirect_create_memory_calls);
	tcase_add_test(tc, test_indirect_alter_check_order);
	tcase_add_test(tc, test_indirect_alter_slice_target);
	tcase_add_test(tc, test_indirect_alter_keeps_old_mappings);
	tcase_add_test(tc, test_indirect_map_slot_shows_target);
	tcase_add_test(tc, test_indirect_map_two_slots);
	tcase_add_test(tc, test_indirect_map_empty_slot_faults);
	tcase_add_test(tc, test_indirect_map_past_window_faults);
	tcase_add_test(tc, test_indirect_map_all_empty);
	tcase_add_test(tc, test_indirect_map_holes_keep_their_place);
	tcase_add_test(tc, test_indirect_map_fixed_replaces);
	tcase_add_test(tc, test_indirect_map_fixed_hole_faults);
	tcase_add_test(tc, test_indirect_map_protection);
	tcase_add_test(tc, test_indirect_map_slice_of_indirect);
	tcase_add_test(tc, test_indirect_map_many_pieces);
	tcase_add_test(tc, test_indirect_unmap);
	tcase_add_test(tc, test_indirect_unmap_then_access_faults);
	tcase_add_test(tc, test_indirect_futex_is_the_target_s);
	tcase_add_test(tc, test_indirect_map_transfers);
	tcase_add_test(tc, test_indirect_map_fork_keeps_holes);
	return hh_test_main(s);
}
