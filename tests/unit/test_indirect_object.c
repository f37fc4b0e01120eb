/*
 * Indirect memory (src/objects/indirect.c), linked directly: numSlots windows of
 * 2^32 bytes, each empty or showing a piece of a target; the pieces of a
 * range and the references slots hold (OBJECTS.md §3.7).
 */
#include <check.h>
#include <stdlib.h>

#include "indirect.h"
#include "memory.h"
#include "object.h"

#define PAGE 4096ull
#define SLOT HH_INDIRECT_SLOT_SIZE

static struct hh_indirect *new_indirect(uint64_t slots)
{
	struct hh_indirect *ind = NULL;
	ck_assert_int_eq(hh_indirect_create(slots, &ind), kHelErrNone);
	ck_assert_ptr_nonnull(ind);
	return ind;
}

static struct hh_memory *new_memory(uint64_t size)
{
	struct hh_memory *mem = NULL;
	ck_assert_int_eq(hh_memory_allocate(size, 0, &mem), kHelErrNone);
	return mem;
}

static void check_piece(const struct hh_indirect_piece *p, uint64_t start, uint64_t len,
		struct hh_memory *target, uint64_t offset)
{
	ck_assert_uint_eq(p->start, start);
	ck_assert_uint_eq(p->len, len);
	ck_assert_ptr_eq(p->target, target);
	ck_assert_uint_eq(p->offset, offset);
}

/* ---- creation ---- */

START_TEST(test_indirect_object_create_empty_slots)
{
	/* should succeed: a memory view of kind indirect, numSlots << 32 long, all slots empty */
	struct hh_indirect *ind = new_indirect(3);
	ck_assert_int_eq(hh_object_type(&ind->mem.base), HH_OBJ_MEMORY);
	ck_assert_str_eq(ind->mem.base.ops->name, "indirect memory");
	ck_assert_uint_eq(ind->mem.base.refs, 1);
	ck_assert_int_eq(ind->mem.kind, HH_MEMORY_INDIRECT);
	ck_assert_int_eq(ind->mem.memfd, -1);
	ck_assert_uint_eq(ind->mem.size, 3 * SLOT);
	ck_assert_uint_eq(ind->mem.granule, PAGE);
	ck_assert_ptr_null(ind->mem.view);
	ck_assert_uint_eq(ind->num_slots, 3);
	ck_assert_ptr_nonnull(ind->slots);
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_null(ind->slots[i].target);
		ck_assert_uint_eq(ind->slots[i].offset, 0);
		ck_assert_uint_eq(ind->slots[i].size, 0);
	}
	ck_assert(hh_memory_is_indirect(&ind->mem.base));
	ck_assert_ptr_eq(hh_indirect_of(&ind->mem.base), ind);
	ck_assert_ptr_eq(hh_memory_of(&ind->mem.base), &ind->mem);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_create_zero_slots)
{
	/* should succeed: no slots, length 0 */
	struct hh_indirect *ind = new_indirect(0);
	ck_assert_uint_eq(ind->num_slots, 0);
	ck_assert_uint_eq(ind->mem.size, 0);
	struct hh_indirect_piece p;
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, SLOT, &p, 1), 0);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_create_max_slots)
{
	/* should succeed: the most slots that fit the 47-bit space */
	struct hh_indirect *ind = new_indirect(HH_INDIRECT_MAX_SLOTS);
	ck_assert_uint_eq(ind->mem.size, 1ull << 47);
	ck_assert_ptr_null(ind->slots[HH_INDIRECT_MAX_SLOTS - 1].target);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_not_for_other_memory)
{
	/* an allocated object is not indirect (should fail) */
	struct hh_memory *mem = new_memory(PAGE);
	ck_assert(!hh_memory_is_indirect(&mem->base));
	hh_object_unref(&mem->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_no_resize_no_view)
{
	/* resizing indirect memory (should fail) */
	struct hh_indirect *ind = new_indirect(2);
	ck_assert_int_eq(hh_memory_resize(&ind->mem, 4 * SLOT), kHelErrUnsupportedOperation);
	ck_assert_int_eq(hh_memory_resize(&ind->mem, 2 * SLOT), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(ind->mem.size, 2 * SLOT);
	/* it has no memfd: no view of its own (should fail) */
	ck_assert_ptr_null(hh_memory_view(&ind->mem.base));
	struct hh_memory_source src = hh_memory_source(&ind->mem.base);
	ck_assert_int_eq(src.fd, -1);
	ck_assert_uint_eq(src.length, 2 * SLOT);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

/* ---- slots and references ---- */

START_TEST(test_indirect_object_alter_takes_reference)
{
	/* should succeed: a slot holds one reference to its target */
	struct hh_indirect *ind = new_indirect(2);
	struct hh_memory *a = new_memory(4 * PAGE);
	hh_indirect_alter(ind, 1, a, PAGE, 2 * PAGE);
	ck_assert_uint_eq(a->base.refs, 2);
	ck_assert_ptr_eq(ind->slots[1].target, a);
	ck_assert_uint_eq(ind->slots[1].offset, PAGE);
	ck_assert_uint_eq(ind->slots[1].size, 2 * PAGE);
	ck_assert_ptr_null(ind->slots[0].target);
	/* the same target in a second slot: a second reference */
	hh_indirect_alter(ind, 0, a, 0, 4 * PAGE);
	ck_assert_uint_eq(a->base.refs, 3);
	/* the target outlives its creator's reference */
	hh_object_unref(&a->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(a->base.refs, 2);
	/* destroying the indirect object drops both */
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
	ck_assert(!hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_alter_replaces_target)
{
	/* should succeed: altering a slot drops the old target's reference */
	struct hh_indirect *ind = new_indirect(1);
	struct hh_memory *a = new_memory(PAGE), *b = new_memory(2 * PAGE);
	hh_indirect_alter(ind, 0, a, 0, PAGE);
	ck_assert_uint_eq(a->base.refs, 2);
	hh_indirect_alter(ind, 0, b, PAGE, PAGE);
	ck_assert_uint_eq(a->base.refs, 1);
	ck_assert_uint_eq(b->base.refs, 2);
	ck_assert_ptr_eq(ind->slots[0].target, b);
	ck_assert_uint_eq(ind->slots[0].offset, PAGE);
	ck_assert_uint_eq(ind->slots[0].size, PAGE);
	/* a slot whose old target only it held frees the old target */
	hh_object_unref(&a->base);
	ck_assert(hh_object_reap());
	hh_object_unref(&b->base);
	ck_assert(!hh_object_reap());
	struct hh_memory *c = new_memory(PAGE);
	hh_indirect_alter(ind, 0, c, 0, PAGE);
	ck_assert_uint_eq(b->base.refs, 0);
	ck_assert(b->base.dying);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(c->base.refs, 2);
	hh_object_unref(&c->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_alter_same_target)
{
	/* should succeed: re-pointing a slot at the object it shows keeps one reference */
	struct hh_indirect *ind = new_indirect(1);
	struct hh_memory *a = new_memory(2 * PAGE);
	hh_indirect_alter(ind, 0, a, 0, PAGE);
	hh_object_unref(&a->base);
	ck_assert_uint_eq(a->base.refs, 1);     /* the slot's only */
	hh_indirect_alter(ind, 0, a, PAGE, PAGE);
	ck_assert_uint_eq(a->base.refs, 1);
	ck_assert(!a->base.dying);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(ind->slots[0].offset, PAGE);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

/* ---- pieces ---- */

START_TEST(test_indirect_object_pieces_empty)
{
	/* should succeed: an object with only empty slots shows no pieces */
	struct hh_indirect *ind = new_indirect(4);
	struct hh_indirect_piece p[4];
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 4 * SLOT, p, 4), 0);
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT + PAGE, PAGE, p, 4), 0);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_pieces_one_slot)
{
	/* should succeed: a populated slot is one piece, bounded by its size */
	struct hh_indirect *ind = new_indirect(3);
	struct hh_memory *a = new_memory(16 * PAGE);
	hh_indirect_alter(ind, 1, a, 4 * PAGE, 8 * PAGE);
	struct hh_indirect_piece p[4];
	/* the whole object: only slot 1's window */
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 3 * SLOT, p, 4), 1);
	check_piece(&p[0], SLOT, 8 * PAGE, a, 4 * PAGE);
	/* exactly the slot */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT, SLOT, p, 4), 1);
	check_piece(&p[0], SLOT, 8 * PAGE, a, 4 * PAGE);
	/* starting inside the window: the target offset moves along */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT + 3 * PAGE, SLOT, p, 4), 1);
	check_piece(&p[0], SLOT + 3 * PAGE, 5 * PAGE, a, 7 * PAGE);
	/* ending inside the window */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT + PAGE, 2 * PAGE, p, 4), 1);
	check_piece(&p[0], SLOT + PAGE, 2 * PAGE, a, 5 * PAGE);
	/* a range that reaches into the slot from the one before */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT - PAGE, 2 * PAGE, p, 4), 1);
	check_piece(&p[0], SLOT, PAGE, a, 4 * PAGE);
	/* past the window's size inside the slot: a hole */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT + 8 * PAGE, PAGE, p, 4), 0);
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT + 100 * PAGE, SLOT - 100 * PAGE, p, 4), 0);
	/* before the slot, and in the empty slot after it */
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, SLOT, p, 4), 0);
	ck_assert_uint_eq(hh_indirect_pieces(ind, 2 * SLOT, SLOT, p, 4), 0);
	/* an empty range */
	ck_assert_uint_eq(hh_indirect_pieces(ind, SLOT, 0, p, 4), 0);
	hh_object_unref(&a->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_pieces_across_slots)
{
	/* should succeed: pieces in slot order, holes between them left out */
	struct hh_indirect *ind = new_indirect(4);
	struct hh_memory *a = new_memory(4 * PAGE), *b = new_memory(8 * PAGE);
	hh_indirect_alter(ind, 0, a, 0, 4 * PAGE);
	hh_indirect_alter(ind, 2, b, 2 * PAGE, 6 * PAGE);
	hh_indirect_alter(ind, 3, a, PAGE, 3 * PAGE);
	struct hh_indirect_piece p[4];
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 4 * SLOT, p, 4), 3);
	check_piece(&p[0], 0, 4 * PAGE, a, 0);
	check_piece(&p[1], 2 * SLOT, 6 * PAGE, b, 2 * PAGE);
	check_piece(&p[2], 3 * SLOT, 3 * PAGE, a, PAGE);
	/* from the middle of slot 0 to the middle of slot 2's window */
	ck_assert_uint_eq(hh_indirect_pieces(ind, 2 * PAGE, 2 * SLOT + PAGE - 2 * PAGE, p, 4), 2);
	check_piece(&p[0], 2 * PAGE, 2 * PAGE, a, 2 * PAGE);
	check_piece(&p[1], 2 * SLOT, PAGE, b, 2 * PAGE);
	/* a range past the last slot shows nothing more */
	ck_assert_uint_eq(hh_indirect_pieces(ind, 3 * SLOT, 4 * SLOT, p, 4), 1);
	check_piece(&p[0], 3 * SLOT, 3 * PAGE, a, PAGE);
	ck_assert_uint_eq(hh_indirect_pieces(ind, 4 * SLOT, SLOT, p, 4), 0);
	hh_object_unref(&a->base);
	hh_object_unref(&b->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_pieces_count_beyond_max)
{
	/* should succeed: at most max pieces stored, the full count returned */
	struct hh_indirect *ind = new_indirect(5);
	struct hh_memory *a = new_memory(PAGE);
	for (uint64_t i = 0; i < 5; i++)
		hh_indirect_alter(ind, i, a, 0, PAGE);
	ck_assert_uint_eq(a->base.refs, 6);
	struct hh_indirect_piece p[3] = { 0 };
	p[2].start = 0xdead;
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 5 * SLOT, p, 2), 5);
	check_piece(&p[0], 0, PAGE, a, 0);
	check_piece(&p[1], SLOT, PAGE, a, 0);
	ck_assert_uint_eq(p[2].start, 0xdead);  /* nothing stored past max */
	/* max 0: only counting */
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 5 * SLOT, NULL, 0), 5);
	hh_object_unref(&a->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
	ck_assert(!hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_pieces_zero_size_window)
{
	/* should succeed: a slot pointed at zero bytes is a hole, yet holds its target */
	struct hh_indirect *ind = new_indirect(2);
	struct hh_memory *a = new_memory(PAGE);
	hh_indirect_alter(ind, 0, a, PAGE, 0);
	ck_assert_uint_eq(a->base.refs, 2);
	struct hh_indirect_piece p[2];
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 2 * SLOT, p, 2), 0);
	hh_object_unref(&a->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_indirect_object_pieces_full_slot)
{
	/* should succeed: a window of the whole 2^32 bytes of a slot */
	struct hh_indirect *ind = new_indirect(2);
	struct hh_memory *a = new_memory(SLOT);         /* sparse: nothing is touched */
	hh_indirect_alter(ind, 1, a, 0, SLOT);
	struct hh_indirect_piece p[2];
	ck_assert_uint_eq(hh_indirect_pieces(ind, 0, 2 * SLOT, p, 2), 1);
	check_piece(&p[0], SLOT, SLOT, a, 0);
	ck_assert_uint_eq(hh_indirect_pieces(ind, 2 * SLOT - PAGE, PAGE, p, 2), 1);
	check_piece(&p[0], 2 * SLOT - PAGE, PAGE, a, SLOT - PAGE);
	hh_object_unref(&a->base);
	hh_object_unref(&ind->mem.base);
	ck_assert(hh_object_reap());
}
END_TEST

static Suite *indirect_object_suite(void)
{
	Suite *s = suite_create("indirect_object");
	TCase *tc = tcase_create("indirect_object");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_indirect_object_create_empty_slots);
	tcase_add_test(tc, test_indirect_object_create_zero_slots);
	tcase_add_test(tc, test_indirect_object_create_max_slots);
	tcase_add_test(tc, test_indirect_object_not_for_other_memory);
	tcase_add_test(tc, test_indirect_object_no_resize_no_view);
	tcase_add_test(tc, test_indirect_object_alter_takes_reference);
	tcase_add_test(tc, test_indirect_object_alter_replaces_target);
	tcase_add_test(tc, test_indirect_object_alter_same_target);
	tcase_add_test(tc, test_indirect_object_pieces_empty);
	tcase_add_test(tc, test_indirect_object_pieces_one_slot);
	tcase_add_test(tc, test_indirect_object_pieces_across_slots);
	tcase_add_test(tc, test_indirect_object_pieces_count_beyond_max);
	tcase_add_test(tc, test_indirect_object_pieces_zero_size_window);
	tcase_add_test(tc, test_indirect_object_pieces_full_slot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(indirect_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
