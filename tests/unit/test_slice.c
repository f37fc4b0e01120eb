/*
 * Slices (src/objects/slice.c), linked directly: a window onto a memory object that
 * holds a reference to it (OBJECTS.md §3.8).
 */
#include <check.h>
#include <stdlib.h>

#include "memory.h"
#include "object.h"
#include "slice.h"
#include "universe.h"

#define PAGE 4096ull

static struct hh_memory *new_memory(uint64_t size)
{
	struct hh_memory *mem = NULL;
	ck_assert_int_eq(hh_memory_allocate(size, 0, &mem), kHelErrNone);
	ck_assert_ptr_nonnull(mem);
	return mem;
}

START_TEST(test_slice_create_fields)
{
	/* should succeed: the window and flags as given, one reference to the memory */
	struct hh_memory *mem = new_memory(8 * PAGE);
	struct hh_slice *s = hh_slice_create(&mem->base, 2 * PAGE, 4 * PAGE, kHelSliceCacheWriteCombine);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(hh_object_type(&s->base), HH_OBJ_SLICE);
	ck_assert_str_eq(s->base.ops->name, "slice");
	ck_assert_uint_eq(s->base.refs, 1);
	ck_assert_ptr_eq(s->memory, &mem->base);
	ck_assert_uint_eq(s->offset, 2 * PAGE);
	ck_assert_uint_eq(s->size, 4 * PAGE);
	ck_assert_uint_eq(s->flags, kHelSliceCacheWriteCombine);
	ck_assert_uint_eq(mem->base.refs, 2);
	ck_assert_ptr_eq(hh_slice_of(&s->base), s);
	/* the memory object itself is unchanged */
	ck_assert_uint_eq(mem->size, 8 * PAGE);
	hh_object_unref(&s->base);
	ck_assert_uint_eq(mem->base.refs, 2);   /* teardown waits for the reap */
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 1);
	ck_assert(!mem->base.dying);
	hh_object_unref(&mem->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_slice_create_unchecked_bounds)
{
	/* should succeed: as in thor, the window is not checked against the object */
	struct hh_memory *mem = new_memory(PAGE);
	struct hh_slice *s = hh_slice_create(&mem->base, 16 * PAGE, 1ull << 40, 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->offset, 16 * PAGE);
	ck_assert_uint_eq(s->size, 1ull << 40);
	ck_assert_uint_eq(s->flags, 0);
	hh_object_unref(&s->base);
	hh_object_unref(&mem->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_slice_keeps_memory_alive)
{
	/* should succeed: the memory outlives its last handle while a slice shows it */
	struct hh_universe *u = hh_universe_create();
	ck_assert_ptr_nonnull(u);
	struct hh_memory *mem = new_memory(2 * PAGE);
	HelHandle hm = hh_universe_attach(u, &mem->base, 0);
	hh_object_unref(&mem->base);
	struct hh_slice *s = hh_slice_create(&mem->base, 0, 2 * PAGE, 0);
	ck_assert_ptr_nonnull(s);
	HelHandle hs = hh_universe_attach(u, &s->base, 0);
	hh_object_unref(&s->base);
	ck_assert_uint_eq(mem->base.refs, 2);
	ck_assert_uint_eq(s->base.refs, 1);

	/* a slice handle is no memory view, and the other way round (should fail) */
	struct hh_desc d;
	ck_assert_int_eq(hh_universe_resolve(u, hs, HH_OBJ_MEMORY, &d), kHelErrBadDescriptor);
	ck_assert_int_eq(hh_universe_resolve(u, hm, HH_OBJ_SLICE, &d), kHelErrBadDescriptor);

	/* close the memory's handle: the slice still holds it */
	ck_assert_int_eq(hh_universe_detach(u, hm), kHelErrNone);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 1);
	ck_assert(!mem->base.dying);
	ck_assert_int_eq(hh_universe_resolve(u, hs, HH_OBJ_SLICE, &d), kHelErrNone);
	ck_assert_ptr_eq(hh_slice_of(d.obj)->memory, &mem->base);
	/* the memory is still usable through it */
	char *view = hh_memory_view(hh_slice_of(d.obj)->memory);
	ck_assert_ptr_nonnull(view);
	view[PAGE] = 42;
	ck_assert_int_eq(view[PAGE], 42);

	/* close the slice: both go, the memory in the same reap */
	ck_assert_int_eq(hh_universe_detach(u, hs), kHelErrNone);
	ck_assert(s->base.dying);
	ck_assert(hh_object_reap());
	ck_assert(!hh_object_reap());
	hh_object_unref(&u->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_slice_several_on_one_object)
{
	/* should succeed: each slice holds its own reference */
	struct hh_memory *mem = new_memory(4 * PAGE);
	struct hh_slice *a = hh_slice_create(&mem->base, 0, PAGE, 0);
	struct hh_slice *b = hh_slice_create(&mem->base, PAGE, 3 * PAGE, 0);
	struct hh_slice *c = hh_slice_create(&mem->base, 0, 4 * PAGE, kHelSliceCacheWriteCombine);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(mem->base.refs, 4);
	hh_object_unref(&b->base);
	ck_assert(hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 3);
	hh_object_unref(&mem->base);
	ck_assert(!hh_object_reap());
	ck_assert_uint_eq(mem->base.refs, 2);
	hh_object_unref(&a->base);
	hh_object_unref(&c->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_slice_nested_cascade)
{
	/* should succeed: a slice of a slice (the decoder never makes one) still frees in a cascade */
	struct hh_memory *mem = new_memory(PAGE);
	struct hh_slice *inner = hh_slice_create(&mem->base, 0, PAGE, 0);
	struct hh_slice *outer = hh_slice_create(&inner->base, 0, PAGE, 0);
	ck_assert_ptr_nonnull(outer);
	ck_assert_uint_eq(inner->base.refs, 2);
	hh_object_unref(&inner->base);
	hh_object_unref(&mem->base);
	ck_assert(!hh_object_reap());
	/* dropping the outer slice cascades through the inner one to the memory */
	hh_object_unref(&outer->base);
	ck_assert(hh_object_reap());
	ck_assert(!hh_object_reap());
}
END_TEST

static Suite *slice_suite(void)
{
	Suite *s = suite_create("slice");
	TCase *tc = tcase_create("slice");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_slice_create_fields);
	tcase_add_test(tc, test_slice_create_unchecked_bounds);
	tcase_add_test(tc, test_slice_keeps_memory_alive);
	tcase_add_test(tc, test_slice_several_on_one_object);
	tcase_add_test(tc, test_slice_nested_cascade);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(slice_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
