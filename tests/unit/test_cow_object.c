/*
 * Copy-on-write memory (src/objects/cow.c), linked directly: an eager private copy
 * of a source range taken at creation, zeros from kHelZeroMemory, and
 * helForkMemory's copy of a COW object (OBJECTS.md §3.6, with its [emu]
 * note on eager snapshots).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cow.h"
#include "memory.h"
#include "object.h"

#define PAGE 4096ull

static struct hh_memory *new_memory(uint64_t size)
{
	struct hh_memory *mem = NULL;
	ck_assert_int_eq(hh_memory_allocate(size, 0, &mem), kHelErrNone);
	return mem;
}

static struct hh_memory *new_cow(struct hh_memory *source, uint64_t offset, uint64_t size)
{
	struct hh_memory *cow = NULL;
	ck_assert_int_eq(hh_cow_create(source, offset, size, &cow), kHelErrNone);
	ck_assert_ptr_nonnull(cow);
	return cow;
}

/* Fill page i of mem with the byte tag + i. */
static void fill_pages(struct hh_memory *mem, unsigned char tag)
{
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	for (uint64_t i = 0; i < mem->size / PAGE; i++)
		memset(v + i * PAGE, (unsigned char)(tag + i), PAGE);
}

/* Every byte of page i of mem is tag + first + i. */
static void check_pages(struct hh_memory *mem, unsigned char tag, uint64_t first)
{
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	for (uint64_t i = 0; i < mem->size / PAGE; i++)
		for (uint64_t b = 0; b < PAGE; b++)
			ck_assert_uint_eq((unsigned char)v[i * PAGE + b], (unsigned char)(tag + first + i));
}

static bool all_zero(struct hh_memory *mem)
{
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	for (uint64_t i = 0; i < mem->size; i++)
		if (v[i])
			return false;
	return true;
}

static void drop(struct hh_memory *mem)
{
	hh_object_unref(&mem->base);
	ck_assert(hh_object_reap());
}

START_TEST(test_cow_object_create_kind)
{
	/* should succeed: a memory view of kind copy-on-write with its own memfd */
	struct hh_memory *src = new_memory(4 * PAGE);
	struct hh_memory *cow = new_cow(src, PAGE, 2 * PAGE);
	ck_assert_int_eq(hh_object_type(&cow->base), HH_OBJ_MEMORY);
	ck_assert_int_eq(cow->kind, HH_MEMORY_COPY_ON_WRITE);
	ck_assert_uint_eq(cow->base.refs, 1);
	ck_assert_uint_eq(cow->size, 2 * PAGE);
	ck_assert_int_ge(cow->memfd, 0);
	ck_assert_int_ne(cow->memfd, src->memfd);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_END), 2 * PAGE);
	/* an eager copy holds no reference to its source */
	ck_assert_uint_eq(src->base.refs, 1);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_copies_range)
{
	/* should succeed: page i of the COW object is source page offset/4096 + i */
	struct hh_memory *src = new_memory(8 * PAGE);
	fill_pages(src, 0x10);
	struct hh_memory *cow = new_cow(src, 3 * PAGE, 4 * PAGE);
	check_pages(cow, 0x10, 3);
	drop(cow);
	/* the whole source, and its last page alone */
	cow = new_cow(src, 0, 8 * PAGE);
	check_pages(cow, 0x10, 0);
	drop(cow);
	cow = new_cow(src, 7 * PAGE, PAGE);
	check_pages(cow, 0x10, 7);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_private_after_creation)
{
	/* should succeed: the copy and its source diverge from creation on (eager, §3.6 [emu]) */
	struct hh_memory *src = new_memory(2 * PAGE);
	fill_pages(src, 0x40);
	struct hh_memory *cow = new_cow(src, 0, 2 * PAGE);
	char *s = hh_memory_view(&src->base), *c = hh_memory_view(&cow->base);
	/* writes to the COW object never reach the source */
	memset(c, 0x99, PAGE);
	ck_assert_uint_eq((unsigned char)s[0], 0x40);
	ck_assert_uint_eq((unsigned char)s[PAGE - 1], 0x40);
	/* source changes after creation are not seen (pages were copied eagerly) */
	memset(s + PAGE, 0x77, PAGE);
	ck_assert_uint_eq((unsigned char)c[PAGE], 0x41);
	ck_assert_uint_eq((unsigned char)c[2 * PAGE - 1], 0x41);
	ck_assert_uint_eq((unsigned char)c[0], 0x99);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_outlives_source)
{
	/* should succeed: destroying the source leaves the copy intact */
	struct hh_memory *src = new_memory(PAGE);
	fill_pages(src, 0x21);
	struct hh_memory *cow = new_cow(src, 0, PAGE);
	drop(src);
	check_pages(cow, 0x21, 0);
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_zero_source)
{
	/* should succeed: kHelZeroMemory (NULL) gives zeros */
	struct hh_memory *cow = new_cow(NULL, 0, 4 * PAGE);
	ck_assert_int_eq(cow->kind, HH_MEMORY_COPY_ON_WRITE);
	ck_assert_uint_eq(cow->size, 4 * PAGE);
	ck_assert(all_zero(cow));
	/* and is writable like any copy */
	char *c = hh_memory_view(&cow->base);
	c[5] = 1;
	ck_assert_int_eq(c[5], 1);
	drop(cow);
	/* an offset into the zero object changes nothing */
	cow = new_cow(NULL, HH_ZERO_MEMORY_LENGTH - 2 * PAGE, 2 * PAGE);
	ck_assert(all_zero(cow));
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_zero_source_large)
{
	/* should succeed: a big zero copy costs nothing (no data extents) */
	struct hh_memory *cow = new_cow(NULL, 0, 16ull << 30);
	ck_assert_uint_eq(cow->size, 16ull << 30);
	errno = 0;
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_sparse_source)
{
	/* should succeed: only the source's data is copied; holes stay holes */
	struct hh_memory *src = new_memory(1ull << 30);
	uint64_t at = 512ull << 20;
	ck_assert_int_eq(pwrite(src->memfd, "data", 4, (off_t)at + 100), 4);
	ck_assert_int_eq(pwrite(src->memfd, "tail", 4, (off_t)(src->size - 4)), 4);
	struct hh_memory *cow = new_cow(src, 0, src->size);
	char buf[4];
	ck_assert_int_eq(pread(cow->memfd, buf, 4, (off_t)at + 100), 4);
	ck_assert_mem_eq(buf, "data", 4);
	ck_assert_int_eq(pread(cow->memfd, buf, 4, (off_t)(cow->size - 4)), 4);
	ck_assert_mem_eq(buf, "tail", 4);
	/* the first data extent of the copy is the page written in the source */
	off_t data = lseek(cow->memfd, 0, SEEK_DATA);
	ck_assert_int_ge(data, 0);
	ck_assert_uint_eq((uint64_t)data, at);
	drop(cow);
	/* a window that starts after the first extent shifts the rest down */
	cow = new_cow(src, at, src->size - at);
	ck_assert_int_eq(pread(cow->memfd, buf, 4, 100), 4);
	ck_assert_mem_eq(buf, "data", 4);
	ck_assert_int_eq(pread(cow->memfd, buf, 4, (off_t)(cow->size - 4)), 4);
	ck_assert_mem_eq(buf, "tail", 4);
	drop(cow);
	/* a window of nothing but holes reads as zero */
	cow = new_cow(src, PAGE, 16 * PAGE);
	ck_assert(all_zero(cow));
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_window_in_extent)
{
	/* should succeed: a window inside one data extent copies just that part */
	struct hh_memory *src = new_memory(16 * PAGE);
	fill_pages(src, 0x30);
	struct hh_memory *cow = new_cow(src, 5 * PAGE, 3 * PAGE);
	check_pages(cow, 0x30, 5);
	/* and nothing beyond the window ends up in it */
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_END), 3 * PAGE);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_fork)
{
	/* should succeed: a fork has the contents as of now; both diverge from there */
	struct hh_memory *src = new_memory(3 * PAGE);
	fill_pages(src, 0x50);
	struct hh_memory *cow = new_cow(src, 0, 3 * PAGE);
	char *c = hh_memory_view(&cow->base);
	memset(c + PAGE, 0xEE, PAGE);           /* the original changes a page first */
	struct hh_memory *fork = NULL;
	ck_assert_int_eq(hh_cow_fork(cow, &fork), kHelErrNone);
	ck_assert_ptr_nonnull(fork);
	ck_assert_ptr_ne(fork, cow);
	ck_assert_int_eq(fork->kind, HH_MEMORY_COPY_ON_WRITE);
	ck_assert_uint_eq(fork->size, 3 * PAGE);
	ck_assert_uint_eq(fork->base.refs, 1);
	ck_assert_uint_eq(cow->base.refs, 1);
	char *f = hh_memory_view(&fork->base);
	ck_assert_uint_eq((unsigned char)f[0], 0x50);
	ck_assert_uint_eq((unsigned char)f[PAGE], 0xEE);
	ck_assert_uint_eq((unsigned char)f[2 * PAGE], 0x52);
	/* writes after the fork stay on their side */
	c[0] = 1;
	f[2 * PAGE] = 2;
	ck_assert_uint_eq((unsigned char)f[0], 0x50);
	ck_assert_uint_eq((unsigned char)c[2 * PAGE], 0x52);
	/* and the source never sees either */
	char *s = hh_memory_view(&src->base);
	ck_assert_uint_eq((unsigned char)s[0], 0x50);
	ck_assert_uint_eq((unsigned char)s[PAGE], 0x51);
	ck_assert_uint_eq((unsigned char)s[2 * PAGE], 0x52);
	/* a fork of a fork, after the original is gone */
	drop(cow);
	struct hh_memory *fork2 = NULL;
	ck_assert_int_eq(hh_cow_fork(fork, &fork2), kHelErrNone);
	char *f2 = hh_memory_view(&fork2->base);
	ck_assert_uint_eq((unsigned char)f2[PAGE], 0xEE);
	ck_assert_uint_eq((unsigned char)f2[2 * PAGE], 2);
	drop(fork2);
	drop(fork);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_fork_of_zero_copy)
{
	/* should succeed: forking a zero-sourced object copies what was written only */
	struct hh_memory *cow = new_cow(NULL, 0, 64 * PAGE);
	ck_assert_int_eq(pwrite(cow->memfd, "x", 1, 40 * PAGE), 1);
	struct hh_memory *fork = NULL;
	ck_assert_int_eq(hh_cow_fork(cow, &fork), kHelErrNone);
	char buf = 0;
	ck_assert_int_eq(pread(fork->memfd, &buf, 1, 40 * PAGE), 1);
	ck_assert_int_eq(buf, 'x');
	ck_assert_int_eq(lseek(fork->memfd, 0, SEEK_DATA), 40 * PAGE);
	drop(fork);
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_not_resizable)
{
	/* resizing a COW object or its fork (should fail) */
	struct hh_memory *cow = new_cow(NULL, 0, PAGE);
	struct hh_memory *fork = NULL;
	ck_assert_int_eq(hh_cow_fork(cow, &fork), kHelErrNone);
	ck_assert_int_eq(hh_memory_resize(cow, 2 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(hh_memory_resize(fork, 2 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(cow->size, PAGE);
	ck_assert_uint_eq(fork->size, PAGE);
	drop(fork);
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_too_large)
{
	/* a copy larger than a file can be (should fail) */
	struct hh_memory *cow = NULL;
	ck_assert_int_eq(hh_cow_create(NULL, 0, (uint64_t)INT64_MAX + 1, &cow), kHelErrNoMemory);
	ck_assert_ptr_null(cow);
}
END_TEST

static Suite *cow_object_suite(void)
{
	Suite *s = suite_create("cow_object");
	TCase *tc = tcase_create("cow_object");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_cow_object_create_kind);
	tcase_add_test(tc, test_cow_object_copies_range);
	tcase_add_test(tc, test_cow_object_private_after_creation);
	tcase_add_test(tc, test_cow_object_outlives_source);
	tcase_add_test(tc, test_cow_object_zero_source);
	tcase_add_test(tc, test_cow_object_zero_source_large);
	tcase_add_test(tc, test_cow_object_sparse_source);
	tcase_add_test(tc, test_cow_object_window_in_extent);
	tcase_add_test(tc, test_cow_object_fork);
	tcase_add_test(tc, test_cow_object_fork_of_zero_copy);
	tcase_add_test(tc, test_cow_object_not_resizable);
	tcase_add_test(tc, test_cow_object_too_large);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cow_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
