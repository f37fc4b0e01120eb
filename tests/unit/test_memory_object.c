/*
 * Memory objects (src/objects/memory.c), linked directly: allocation, Continuous
 * rounding, the resize rules, the emulator's view and the mapping source of
 * memory objects and queues, futex wakes (OBJECTS.md §3.1-§3.4, §7).
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cow.h"
#include "memory.h"
#include "object.h"
#include "queue.h"

#define PAGE 4096ull

static struct hh_memory *new_memory(uint64_t size, uint32_t flags)
{
	struct hh_memory *mem = NULL;
	ck_assert_int_eq(hh_memory_allocate(size, flags, &mem), kHelErrNone);
	ck_assert_ptr_nonnull(mem);
	return mem;
}

static void drop(struct hh_memory *mem)
{
	hh_object_unref(&mem->base);
	ck_assert(hh_object_reap());
}

static off_t file_size(int fd)
{
	struct stat st;
	ck_assert_int_eq(fstat(fd, &st), 0);
	return st.st_size;
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- allocation ---- */

START_TEST(test_memory_object_allocate_plain)
{
	/* should succeed: an allocated memfd object of exactly the size, reading as zero */
	struct hh_memory *mem = new_memory(3 * PAGE, 0);
	ck_assert_int_eq(hh_object_type(&mem->base), HH_OBJ_MEMORY);
	ck_assert_str_eq(mem->base.ops->name, "memory");
	ck_assert_uint_eq(mem->base.refs, 1);
	ck_assert_int_eq(mem->kind, HH_MEMORY_ALLOCATED);
	ck_assert_uint_eq(mem->size, 3 * PAGE);
	ck_assert_uint_eq(mem->granule, PAGE);
	ck_assert_int_ge(mem->memfd, 0);
	ck_assert_int_eq(file_size(mem->memfd), 3 * PAGE);
	ck_assert_int_eq(fcntl(mem->memfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_ptr_null(mem->view);
	char buf[3 * PAGE];
	memset(buf, 0xAA, sizeof(buf));
	ck_assert_int_eq(pread(mem->memfd, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	ck_assert(all_zero(buf, sizeof(buf)));
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_allocate_on_demand_flag)
{
	/* should succeed: kHelAllocOnDemand and unknown bits change nothing */
	struct hh_memory *mem = new_memory(5 * PAGE, kHelAllocOnDemand);
	ck_assert_uint_eq(mem->size, 5 * PAGE);
	ck_assert_uint_eq(mem->granule, PAGE);
	drop(mem);
	mem = new_memory(5 * PAGE, 0x100 | 2);
	ck_assert_uint_eq(mem->size, 5 * PAGE);
	ck_assert_uint_eq(mem->granule, PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_allocate_distinct_objects)
{
	/* should succeed: two objects are two memfds with separate contents */
	struct hh_memory *a = new_memory(PAGE, 0), *b = new_memory(PAGE, 0);
	ck_assert_int_ne(a->memfd, b->memfd);
	struct stat sa, sb;
	ck_assert_int_eq(fstat(a->memfd, &sa), 0);
	ck_assert_int_eq(fstat(b->memfd, &sb), 0);
	ck_assert_uint_ne(sa.st_ino, sb.st_ino);
	char one = 1;
	ck_assert_int_eq(pwrite(a->memfd, &one, 1, 0), 1);
	char got = 7;
	ck_assert_int_eq(pread(b->memfd, &got, 1, 0), 1);
	ck_assert_int_eq(got, 0);
	drop(a);
	drop(b);
}
END_TEST

START_TEST(test_memory_object_allocate_large_sparse)
{
	/* should succeed: 64 GiB costs nothing until touched */
	struct hh_memory *mem = new_memory(64ull << 30, 0);
	ck_assert_uint_eq(mem->size, 64ull << 30);
	ck_assert_int_eq(file_size(mem->memfd), (off_t)(64ull << 30));
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_allocate_too_large)
{
	struct hh_memory *mem = NULL;
	/* more than a file can hold (should fail) */
	ck_assert_int_eq(hh_memory_allocate((uint64_t)INT64_MAX + 1, 0, &mem), kHelErrNoMemory);
	ck_assert_int_eq(hh_memory_allocate(UINT64_MAX & ~(PAGE - 1), 0, &mem), kHelErrNoMemory);
	/* Continuous blocks above 2^62 (should fail) */
	ck_assert_int_eq(hh_memory_allocate((1ull << 62) + PAGE, kHelAllocContinuous, &mem),
			kHelErrNoMemory);
	ck_assert_int_eq(hh_memory_allocate(UINT64_MAX & ~(PAGE - 1), kHelAllocContinuous, &mem),
			kHelErrNoMemory);
	ck_assert_ptr_null(mem);
}
END_TEST

/* ---- Continuous rounding ---- */

START_TEST(test_memory_object_allocate_continuous_rounds)
{
	/* should succeed: the length becomes the next power of two (3 pages → 4) */
	struct hh_memory *mem = new_memory(3 * PAGE, kHelAllocContinuous);
	ck_assert_uint_eq(mem->size, 4 * PAGE);
	ck_assert_uint_eq(mem->granule, 4 * PAGE);
	ck_assert_int_eq(file_size(mem->memfd), 4 * PAGE);
	drop(mem);

	static const struct { uint64_t in, out; } cases[] = {
		{ PAGE, PAGE },
		{ 2 * PAGE, 2 * PAGE },
		{ 5 * PAGE, 8 * PAGE },
		{ 8 * PAGE, 8 * PAGE },
		{ 9 * PAGE, 16 * PAGE },
		{ 1023 * PAGE, 1024 * PAGE },
		{ (1ull << 30) + PAGE, 1ull << 31 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mem = new_memory(cases[i].in, kHelAllocContinuous);
		ck_assert_uint_eq(mem->size, cases[i].out);
		ck_assert_uint_eq(mem->granule, cases[i].out);
		ck_assert_int_eq(file_size(mem->memfd), (off_t)cases[i].out);
		drop(mem);
	}
}
END_TEST

START_TEST(test_memory_object_allocate_continuous_precedence)
{
	/* should succeed: Continuous wins over kHelAllocOnDemand */
	struct hh_memory *mem = new_memory(6 * PAGE, kHelAllocContinuous | kHelAllocOnDemand);
	ck_assert_uint_eq(mem->size, 8 * PAGE);
	ck_assert_uint_eq(mem->granule, 8 * PAGE);
	drop(mem);
}
END_TEST

/* ---- resize ---- */

START_TEST(test_memory_object_resize_grow)
{
	/* should succeed: growth in whole pages; old bytes stay, new ones read as zero */
	struct hh_memory *mem = new_memory(PAGE, 0);
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	memset(v, 0x5A, PAGE);
	ck_assert_int_eq(hh_memory_resize(mem, 3 * PAGE), kHelErrNone);
	ck_assert_uint_eq(mem->size, 3 * PAGE);
	ck_assert_uint_eq(mem->granule, PAGE);
	ck_assert_int_eq(file_size(mem->memfd), 3 * PAGE);
	/* the old view was dropped; the new one covers the new length */
	ck_assert_ptr_null(mem->view);
	v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(mem->view_len, 3 * PAGE);
	for (size_t i = 0; i < PAGE; i++)
		ck_assert_int_eq(v[i], 0x5A);
	ck_assert(all_zero(v + PAGE, 2 * PAGE));
	v[3 * PAGE - 1] = 1;                    /* the last byte is writable */
	/* should succeed: the same size again is no change */
	ck_assert_int_eq(hh_memory_resize(mem, 3 * PAGE), kHelErrNone);
	ck_assert_uint_eq(mem->size, 3 * PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_resize_shrink)
{
	/* shrinking allocated memory (should fail) */
	struct hh_memory *mem = new_memory(4 * PAGE, 0);
	char *v = hh_memory_view(&mem->base);
	ck_assert_int_eq(hh_memory_resize(mem, 3 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, 0), kHelErrIllegalArgs);
	/* nothing changed, the view included */
	ck_assert_uint_eq(mem->size, 4 * PAGE);
	ck_assert_int_eq(file_size(mem->memfd), 4 * PAGE);
	ck_assert_ptr_eq(mem->view, v);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_resize_misaligned)
{
	/* sizes that are no page multiple (should fail) */
	struct hh_memory *mem = new_memory(PAGE, 0);
	ck_assert_int_eq(hh_memory_resize(mem, PAGE + 1), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, 2 * PAGE - 1), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, UINT64_MAX), kHelErrIllegalArgs);
	ck_assert_uint_eq(mem->size, PAGE);
	ck_assert_int_eq(file_size(mem->memfd), PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_resize_continuous_granule)
{
	/* a Continuous object grows in blocks of its own length (OBJECTS.md §3.3) */
	struct hh_memory *mem = new_memory(3 * PAGE, kHelAllocContinuous);
	ck_assert_uint_eq(mem->granule, 4 * PAGE);
	/* page multiples that are no block multiple (should fail) */
	ck_assert_int_eq(hh_memory_resize(mem, 5 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, 6 * PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(hh_memory_resize(mem, 12 * PAGE - PAGE), kHelErrIllegalArgs);
	ck_assert_uint_eq(mem->size, 4 * PAGE);
	/* should succeed: two and three blocks; the block size stays */
	ck_assert_int_eq(hh_memory_resize(mem, 8 * PAGE), kHelErrNone);
	ck_assert_uint_eq(mem->size, 8 * PAGE);
	ck_assert_uint_eq(mem->granule, 4 * PAGE);
	ck_assert_int_eq(hh_memory_resize(mem, 12 * PAGE), kHelErrNone);
	ck_assert_uint_eq(mem->size, 12 * PAGE);
	ck_assert_int_eq(file_size(mem->memfd), 12 * PAGE);
	/* shrinking back to one block (should fail) */
	ck_assert_int_eq(hh_memory_resize(mem, 4 * PAGE), kHelErrIllegalArgs);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_resize_too_large)
{
	/* beyond what a file can hold (should fail), the object unchanged */
	struct hh_memory *mem = new_memory(PAGE, 0);
	ck_assert_int_eq(hh_memory_resize(mem, ((uint64_t)INT64_MAX + 1)), kHelErrNoMemory);
	ck_assert_uint_eq(mem->size, PAGE);
	ck_assert_int_eq(file_size(mem->memfd), PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_resize_copy_on_write)
{
	/* copy-on-write memory cannot be resized (should fail) */
	struct hh_memory *cow = NULL;
	ck_assert_int_eq(hh_cow_create(NULL, 0, 2 * PAGE, &cow), kHelErrNone);
	ck_assert_int_eq(hh_memory_resize(cow, 4 * PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(hh_memory_resize(cow, PAGE), kHelErrUnsupportedOperation);
	ck_assert_int_eq(hh_memory_resize(cow, PAGE + 3), kHelErrUnsupportedOperation);
	ck_assert_uint_eq(cow->size, 2 * PAGE);
	ck_assert_int_eq(file_size(cow->memfd), 2 * PAGE);
	drop(cow);
}
END_TEST

/* ---- the emulator's view ---- */

START_TEST(test_memory_object_view_shared)
{
	/* should succeed: one mapping, made once, shared with the memfd */
	struct hh_memory *mem = new_memory(2 * PAGE, 0);
	char *v = hh_memory_view(&mem->base);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_eq(mem->view, v);
	ck_assert_uint_eq(mem->view_len, 2 * PAGE);
	ck_assert_ptr_eq(hh_memory_view(&mem->base), v);
	/* writes through the view are in the memfd, and the other way round */
	strcpy(v + PAGE, "through the view");
	char buf[32] = { 0 };
	ck_assert_int_eq(pread(mem->memfd, buf, 16, PAGE), 16);
	ck_assert_str_eq(buf, "through the view");
	ck_assert_int_eq(pwrite(mem->memfd, "file", 4, 10), 4);
	ck_assert_mem_eq(v + 10, "file", 4);
	/* and in any other mapping of the memfd */
	char *other = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, mem->memfd, 0);
	ck_assert_ptr_ne(other, MAP_FAILED);
	ck_assert_str_eq(other + PAGE, "through the view");
	munmap(other, 2 * PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_view_of_queue)
{
	/* should succeed: a queue's view is its own mapping */
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 64 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	ck_assert_ptr_eq(hh_memory_view(&q->base), q->map);
	hh_object_unref(&q->base);
	ck_assert(hh_object_reap());
}
END_TEST

/* ---- mapping sources ---- */

START_TEST(test_memory_object_source_memory)
{
	/* should succeed: the memfd and the object's length */
	struct hh_memory *mem = new_memory(5 * PAGE, 0);
	struct hh_memory_source src = hh_memory_source(&mem->base);
	ck_assert_int_eq(src.fd, mem->memfd);
	ck_assert_uint_eq(src.length, 5 * PAGE);
	/* the length follows a resize; the fd stays */
	ck_assert_int_eq(hh_memory_resize(mem, 7 * PAGE), kHelErrNone);
	struct hh_memory_source after = hh_memory_source(&mem->base);
	ck_assert_int_eq(after.fd, src.fd);
	ck_assert_uint_eq(after.length, 7 * PAGE);
	drop(mem);
	/* a Continuous object reports its rounded length */
	mem = new_memory(3 * PAGE, kHelAllocContinuous);
	ck_assert_uint_eq(hh_memory_source(&mem->base).length, 4 * PAGE);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_source_queue)
{
	/* should succeed: a queue maps through its own memfd, its whole length */
	struct HelQueueParameters params = { .flags = 0, .ringShift = 9, .numChunks = 16,
		.chunkSize = 4096 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	struct hh_memory_source src = hh_memory_source(&q->base);
	ck_assert_int_eq(src.fd, q->memfd);
	ck_assert_uint_eq(src.length, q->length);
	ck_assert_uint_eq(src.length, 69632);
	hh_object_unref(&q->base);
	ck_assert(hh_object_reap());
}
END_TEST

/* ---- futex wakes ---- */

struct waiter {
	int *word;
	int expected;
	int done;
	long result;
};

static void *wait_on_word(void *arg)
{
	struct waiter *w = arg;
	struct timespec ts = { .tv_sec = 5 };
	/* shared (no FUTEX_PRIVATE_FLAG): keyed on the memfd page */
	long r = syscall(SYS_futex, w->word, FUTEX_WAIT, w->expected, &ts, NULL, 0);
	w->result = r < 0 ? -errno : r;
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* A thread waits on the word at offset of its own mapping of fd; hh_memory_wake ends the wait. */
static void wake_test(struct hh_object *obj, int fd, uint64_t length, uint64_t offset)
{
	char *map = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert_ptr_ne(map, MAP_FAILED);
	struct waiter w = { .word = (int *)(map + offset), .expected = *(int *)(map + offset) };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, wait_on_word, &w), 0);
	/* a wake before the waiter sleeps finds nobody: repeat until it has ended */
	for (int i = 0; i < 20000 && !__atomic_load_n(&w.done, __ATOMIC_ACQUIRE); i++) {
		hh_memory_wake(obj, offset);
		usleep(1000);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(w.result, 0);          /* woken, not timed out */
	munmap(map, length);
}

START_TEST(test_memory_object_wake_memory)
{
	/* should succeed: a waiter on any mapping of the object's page is woken */
	struct hh_memory *mem = new_memory(4 * PAGE, 0);
	wake_test(&mem->base, mem->memfd, 4 * PAGE, 2 * PAGE + 12);
	drop(mem);
}
END_TEST

START_TEST(test_memory_object_wake_queue)
{
	/* should succeed: the same for queue memory (the head word, say) */
	struct HelQueueParameters params = { .flags = 0, .ringShift = 1, .numChunks = 1,
		.chunkSize = 64 };
	struct hh_queue *q = NULL;
	ck_assert_int_eq(hh_queue_create(&params, &q), kHelErrNone);
	wake_test(&q->base, q->memfd, q->length, 0);
	hh_object_unref(&q->base);
	ck_assert(hh_object_reap());
}
END_TEST

START_TEST(test_memory_object_wake_out_of_range)
{
	/* a word past the object's end (should fail quietly: nothing to wake) */
	struct hh_memory *mem = new_memory(PAGE, 0);
	hh_memory_wake(&mem->base, PAGE);
	hh_memory_wake(&mem->base, PAGE - 2);
	hh_memory_wake(&mem->base, UINT64_MAX - 2);
	ck_assert_uint_eq(mem->size, PAGE);
	drop(mem);
}
END_TEST

/* ---- lifetime ---- */

START_TEST(test_memory_object_destroy_closes)
{
	/* should succeed: the last reference closes the memfd and drops the view */
	struct hh_memory *mem = new_memory(PAGE, 0);
	int fd = mem->memfd;
	ck_assert_ptr_nonnull(hh_memory_view(&mem->base));
	hh_object_ref(&mem->base);
	hh_object_unref(&mem->base);
	ck_assert(!hh_object_reap());
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	hh_object_unref(&mem->base);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);        /* teardown waits for the reap */
	ck_assert(hh_object_reap());
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

static Suite *memory_object_suite(void)
{
	Suite *s = suite_create("memory_object");
	TCase *tc = tcase_create("memory_object");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_memory_object_allocate_plain);
	tcase_add_test(tc, test_memory_object_allocate_on_demand_flag);
	tcase_add_test(tc, test_memory_object_allocate_distinct_objects);
	tcase_add_test(tc, test_memory_object_allocate_large_sparse);
	tcase_add_test(tc, test_memory_object_allocate_too_large);
	tcase_add_test(tc, test_memory_object_allocate_continuous_rounds);
	tcase_add_test(tc, test_memory_object_allocate_continuous_precedence);
	tcase_add_test(tc, test_memory_object_resize_grow);
	tcase_add_test(tc, test_memory_object_resize_shrink);
	tcase_add_test(tc, test_memory_object_resize_misaligned);
	tcase_add_test(tc, test_memory_object_resize_continuous_granule);
	tcase_add_test(tc, test_memory_object_resize_too_large);
	tcase_add_test(tc, test_memory_object_resize_copy_on_write);
	tcase_add_test(tc, test_memory_object_view_shared);
	tcase_add_test(tc, test_memory_object_view_of_queue);
	tcase_add_test(tc, test_memory_object_source_memory);
	tcase_add_test(tc, test_memory_object_source_queue);
	tcase_add_test(tc, test_memory_object_wake_memory);
	tcase_add_test(tc, test_memory_object_wake_queue);
	tcase_add_test(tc, test_memory_object_wake_out_of_range);
	tcase_add_test(tc, test_memory_object_destroy_closes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(memory_object_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
