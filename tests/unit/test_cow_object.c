/*
 * Copy-on-write memory (src/objects/cow.c), linked directly: a lazy private
 * copy of a source range, each page copied on its first access
 * (hh_cow_touch), zeros from kHelZeroMemory, and helForkMemory's copy of the
 * copied pages (OBJECTS.md §3.6).
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cow.h"
#include "event.h"
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

/* The emulator's view of mem, all of whose pages are accessed (copied, for COW memory). */
static char *touched(struct hh_memory *mem)
{
	ck_assert_int_eq(hh_cow_touch(&mem->base, 0, mem->size), 0);
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* Every byte of page i of mem is tag + first + i. */
static void check_pages(struct hh_memory *mem, unsigned char tag, uint64_t first)
{
	char *v = touched(mem);
	ck_assert_ptr_nonnull(v);
	for (uint64_t i = 0; i < mem->size / PAGE; i++)
		for (uint64_t b = 0; b < PAGE; b++)
			ck_assert_uint_eq((unsigned char)v[i * PAGE + b], (unsigned char)(tag + first + i));
}

static bool all_zero(struct hh_memory *mem)
{
	char *v = touched(mem);
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
	/* should succeed: a memory view of kind copy-on-write with its own, empty memfd */
	struct hh_memory *src = new_memory(4 * PAGE);
	struct hh_memory *cow = new_cow(src, PAGE, 2 * PAGE);
	ck_assert_int_eq(hh_object_type(&cow->base), HH_OBJ_MEMORY);
	ck_assert_int_eq(cow->kind, HH_MEMORY_COPY_ON_WRITE);
	ck_assert(hh_memory_is_cow(&cow->base));
	ck_assert(!hh_memory_is_cow(&src->base));
	ck_assert_uint_eq(cow->base.refs, 1);
	ck_assert_uint_eq(cow->size, 2 * PAGE);
	ck_assert_int_ge(cow->memfd, 0);
	ck_assert_int_ne(cow->memfd, src->memfd);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_END), 2 * PAGE);
	errno = 0;
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	/* a lazy copy holds its source, whose pages it copies later */
	ck_assert_uint_eq(src->base.refs, 2);
	ck_assert_ptr_eq(cow->cow_source, src);
	ck_assert_uint_eq(cow->cow_offset, PAGE);
	/* touching another object is a no-op */
	ck_assert_int_eq(hh_cow_touch(&src->base, 0, 64 * PAGE), 0);
	drop(cow);
	ck_assert_uint_eq(src->base.refs, 1);
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

START_TEST(test_cow_object_copied_on_first_access)
{
	struct hh_memory *src = new_memory(3 * PAGE);
	fill_pages(src, 0x40);
	struct hh_memory *cow = new_cow(src, 0, 3 * PAGE);
	char *s = hh_memory_view(&src->base), *c = hh_memory_view(&cow->base);
	/* should succeed: the first access of page 0 copies it, and only it */
	ck_assert_int_eq(hh_cow_touch(&cow->base, 10, 1), 0);
	ck_assert_uint_eq((unsigned char)c[0], 0x40);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_HOLE), PAGE);
	/* writes to the COW object never reach the source */
	memset(c, 0x99, PAGE);
	ck_assert_uint_eq((unsigned char)s[0], 0x40);
	/* should succeed: a source change before page 1's first access shows; one after it does not */
	memset(s + PAGE, 0x77, PAGE);
	ck_assert_int_eq(hh_cow_touch(&cow->base, PAGE, PAGE), 0);
	ck_assert_uint_eq((unsigned char)c[PAGE], 0x77);
	memset(s + PAGE, 0x66, PAGE);
	ck_assert_int_eq(hh_cow_touch(&cow->base, PAGE, 2 * PAGE), 0);
	ck_assert_uint_eq((unsigned char)c[PAGE], 0x77);
	ck_assert_uint_eq((unsigned char)c[2 * PAGE], 0x42);
	ck_assert_uint_eq((unsigned char)c[0], 0x99);
	/* a range outside the object (should fail) */
	ck_assert_int_eq(hh_cow_touch(&cow->base, 2 * PAGE, 2 * PAGE), -1);
	ck_assert_int_eq(hh_cow_touch(&cow->base, UINT64_MAX - PAGE, 2 * PAGE), -1);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_outlives_source_handle)
{
	/* should succeed: dropping the creator's reference to the source leaves it readable */
	struct hh_memory *src = new_memory(PAGE);
	fill_pages(src, 0x21);
	struct hh_memory *cow = new_cow(src, 0, PAGE);
	hh_object_unref(&src->base);
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
	/* should succeed: a big zero copy costs the pages accessed */
	struct hh_memory *cow = new_cow(NULL, 0, 16ull << 30);
	ck_assert_uint_eq(cow->size, 16ull << 30);
	errno = 0;
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	ck_assert_int_eq(hh_cow_touch(&cow->base, 8ull << 30, 1), 0);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), 8ll << 30);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_HOLE), 0);
	ck_assert_int_eq(lseek(cow->memfd, 8ll << 30, SEEK_HOLE), (8ll << 30) + (off_t)PAGE);
	drop(cow);
}
END_TEST

START_TEST(test_cow_object_chain)
{
	/* should succeed: a COW of a COW shows what the first shows, copied or not */
	struct hh_memory *src = new_memory(4 * PAGE);
	fill_pages(src, 0x60);
	struct hh_memory *mid = new_cow(src, PAGE, 3 * PAGE);
	ck_assert_int_eq(hh_cow_touch(&mid->base, 0, PAGE), 0);
	hh_memory_view(&mid->base)[0] = 'm';
	struct hh_memory *top = new_cow(mid, 0, 2 * PAGE);
	/* the source changes its page 2, which mid never touched: top shows it through mid */
	hh_memory_view(&src->base)[2 * PAGE] = 's';
	char *t = touched(top);
	ck_assert_int_eq(t[0], 'm');
	ck_assert_uint_eq((unsigned char)t[1], 0x61);
	ck_assert_int_eq(t[PAGE], 's');
	ck_assert_uint_eq((unsigned char)t[PAGE + 1], 0x62);
	drop(top);
	drop(mid);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_fork)
{
	/* should succeed: a fork has the copied pages as of now; both diverge from there */
	struct hh_memory *src = new_memory(3 * PAGE);
	fill_pages(src, 0x50);
	struct hh_memory *cow = new_cow(src, 0, 3 * PAGE);
	ck_assert_int_eq(hh_cow_touch(&cow->base, PAGE, PAGE), 0);
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
	ck_assert_ptr_eq(fork->cow_source, src);
	/* the fork holds page 1 alone; pages 0 and 2 still follow the source for both */
	ck_assert_int_eq(lseek(fork->memfd, 0, SEEK_DATA), PAGE);
	ck_assert_int_eq(lseek(fork->memfd, PAGE, SEEK_HOLE), 2 * PAGE);
	char *s = hh_memory_view(&src->base);
	s[0] = 0x11;
	char *f = touched(fork);
	ck_assert_uint_eq((unsigned char)f[0], 0x11);
	ck_assert_uint_eq((unsigned char)f[PAGE], 0xEE);
	ck_assert_uint_eq((unsigned char)f[2 * PAGE], 0x52);
	/* writes after the fork stay on their side */
	c = touched(cow);
	c[0] = 1;
	f[2 * PAGE] = 2;
	ck_assert_uint_eq((unsigned char)f[0], 0x11);
	ck_assert_uint_eq((unsigned char)c[2 * PAGE], 0x52);
	/* and the source never sees either */
	ck_assert_uint_eq((unsigned char)s[PAGE], 0x51);
	ck_assert_uint_eq((unsigned char)s[2 * PAGE], 0x52);
	/* a fork of a fork, after the original is gone */
	drop(cow);
	struct hh_memory *fork2 = NULL;
	ck_assert_int_eq(hh_cow_fork(fork, &fork2), kHelErrNone);
	char *f2 = touched(fork2);
	ck_assert_uint_eq((unsigned char)f2[PAGE], 0xEE);
	ck_assert_uint_eq((unsigned char)f2[2 * PAGE], 2);
	drop(fork2);
	drop(fork);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_fork_of_zero_copy)
{
	/* should succeed: forking a zero-sourced object copies what was accessed only */
	struct hh_memory *cow = new_cow(NULL, 0, 64 * PAGE);
	ck_assert_int_eq(hh_cow_touch(&cow->base, 40 * PAGE, 1), 0);
	ck_assert_int_eq(pwrite(cow->memfd, "x", 1, 40 * PAGE), 1);
	struct hh_memory *fork = NULL;
	ck_assert_int_eq(hh_cow_fork(cow, &fork), kHelErrNone);
	char buf = 0;
	ck_assert_int_eq(pread(fork->memfd, &buf, 1, 40 * PAGE), 1);
	ck_assert_int_eq(buf, 'x');
	ck_assert_int_eq(lseek(fork->memfd, 0, SEEK_DATA), 40 * PAGE);
	ck_assert_int_eq(lseek(fork->memfd, 40 * PAGE, SEEK_HOLE), 41 * PAGE);
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

START_TEST(test_cow_object_touch_bounds)
{
	struct hh_memory *src = new_memory(4 * PAGE);
	fill_pages(src, 0x40);
	struct hh_memory *cow = new_cow(src, 0, 4 * PAGE);
	/* nothing to touch: no page is copied */
	ck_assert_int_eq(hh_cow_touch(&cow->base, PAGE, 0), 0);
	errno = 0;
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	/* a range starting or ending past the end (should fail), nothing copied either */
	ck_assert_int_eq(hh_cow_touch(&cow->base, 5 * PAGE, 1), -1);
	ck_assert_int_eq(hh_cow_touch(&cow->base, 3 * PAGE, PAGE + 1), -1);
	ck_assert_int_eq(hh_cow_touch(&cow->base, PAGE, UINT64_MAX), -1);
	errno = 0;
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	/* one byte in the middle of page 2 copies page 2 whole, and only it */
	ck_assert_int_eq(hh_cow_touch(&cow->base, 2 * PAGE + 100, 1), 0);
	ck_assert_int_eq(lseek(cow->memfd, 0, SEEK_DATA), 2 * PAGE);
	ck_assert_int_eq(lseek(cow->memfd, 2 * PAGE, SEEK_HOLE), 3 * PAGE);
	/* an object that is no memory at all is left alone */
	struct hh_event *ev = hh_event_create_oneshot();
	ck_assert_ptr_nonnull(ev);
	ck_assert_int_eq(hh_cow_touch(&ev->base, 0, PAGE), 0);
	hh_object_unref(&ev->base);
	drop(cow);
	drop(src);
}
END_TEST

START_TEST(test_cow_object_fork_stops_at_size)
{
	/* should succeed: a fork copies the copied pages up to the size, not data past it */
	struct hh_memory *src = new_memory(4 * PAGE);
	fill_pages(src, 0x50);
	struct hh_memory *cow = new_cow(src, 0, 4 * PAGE);
	ck_assert_int_eq(hh_cow_touch(&cow->base, 0, 1), 0);
	ck_assert_int_eq(pwrite(cow->memfd, "y", 1, 10 * PAGE), 1);
	struct hh_memory *fork = NULL;
	ck_assert_int_eq(hh_cow_fork(cow, &fork), kHelErrNone);
	ck_assert_int_eq(lseek(fork->memfd, 0, SEEK_DATA), 0);
	ck_assert_int_eq(lseek(fork->memfd, 0, SEEK_HOLE), PAGE);
	errno = 0;
	ck_assert_int_eq(lseek(fork->memfd, PAGE, SEEK_DATA), -1);
	ck_assert_int_eq(errno, ENXIO);
	check_pages(fork, 0x50, 0);
	drop(fork);
	drop(cow);
	drop(src);
}
END_TEST

static Suite *cow_object_suite(void)
{
	Suite *s = suite_create("cow_object");
	TCase *tc = tcase_create("cow_object");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_cow_object_create_kind);
	tcase_add_test(tc, test_cow_object_copies_range);
	tcase_add_test(tc, test_cow_object_copied_on_first_access);
	tcase_add_test(tc, test_cow_object_outlives_source_handle);
	tcase_add_test(tc, test_cow_object_zero_source);
	tcase_add_test(tc, test_cow_object_zero_source_large);
	tcase_add_test(tc, test_cow_object_chain);
	tcase_add_test(tc, test_cow_object_fork);
	tcase_add_test(tc, test_cow_object_fork_of_zero_copy);
	tcase_add_test(tc, test_cow_object_not_resizable);
	tcase_add_test(tc, test_cow_object_too_large);
	tcase_add_test(tc, test_cow_object_touch_bounds);
	tcase_add_test(tc, test_cow_object_fork_stops_at_size);
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
