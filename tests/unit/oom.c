/*
 * Address spaces (src/objects/space.c), queues (src/objects/queue.c) and
 * thread records (src/objects/thread.c) when memory runs out.  This binary
 * replaces calloc and realloc with versions that can be told to fail the k-th
 * allocation from now, and getrandom with one that can be told to fail; every operation that allocates is run failing at its
 * first, second, ... allocation until it succeeds.  Each failure must answer
 * kHelErrNoMemory (NULL for create and clone) and leave the table exactly as
 * it was; the eventual success must do what the operation promises.  Built
 * without the sanitizers only: they bring their own allocator.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memory.h"
#include "object.h"
#include "process.h"
#include "queue.h"
#include "quota.h"
#include "space.h"
#include "thread.h"

void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

/* Allocations to let through before one fails; -1: none fails. */
static int fail_after = -1;

static bool failing(void)
{
	if (fail_after < 0)
		return false;
	return fail_after-- == 0;
}

void *calloc(size_t n, size_t size)
{
	return failing() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return failing() ? NULL : __libc_realloc(p, size);
}

/* Set: the kernel has no randomness to give (credentials cannot be made). */
static bool no_randomness;

ssize_t getrandom(void *buf, size_t len, unsigned flags)
{
	if (no_randomness) {
		errno = EAGAIN;
		return -1;
	}
	return syscall(SYS_getrandom, buf, len, flags);
}

#define PAGE 0x1000ull
#define ARENA_BASE 0x10000000ull
#define ARENA_LEN 0x1000000ull
#define RW (kHelMapProtRead | kHelMapProtWrite)
/* The table's first capacity: one more entry makes it grow. */
#define FIRST_CAPACITY 16

static struct hh_memory *mem;
static struct hh_space *space;

static void setup(void)
{
	ck_assert_int_eq(hh_memory_allocate(64 * PAGE, 0, &mem), kHelErrNone);
	space = hh_space_create(ARENA_BASE, ARENA_LEN);
	ck_assert_ptr_nonnull(space);
}

static void teardown(void)
{
	fail_after = -1;
	hh_object_unref(&space->base);
	hh_object_unref(&mem->base);
	hh_object_reap();
}

/* n one-page mappings at every other page from the arena's base, read-write. */
static void fill(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct hh_mm_plan plan = { .count = 0 };
		uint64_t addr;
		ck_assert_int_eq(hh_space_map(space, &mem->base, 0, PAGE, ARENA_BASE + 2 * i * PAGE,
				RW | kHelMapFixed, &addr, &plan), kHelErrNone);
	}
}

/* The table as text, to compare before and after a failure. */
static void snapshot(const struct hh_space *s, char *out, size_t size)
{
	size_t len = (size_t)snprintf(out, size, "%zu/%zu:", s->count, s->hole_count);
	for (size_t i = 0; i < s->count && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, " %llx+%llx@%llx/%x",
				(unsigned long long)s->maps[i].addr, (unsigned long long)s->maps[i].len,
				(unsigned long long)s->maps[i].offset, s->maps[i].prot);
	for (size_t i = 0; i < s->hole_count && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, " hole %llx+%llx",
				(unsigned long long)s->holes[i].addr, (unsigned long long)s->holes[i].len);
}

enum op { UNMAP_SPLIT, PROTECT_SPLIT, MAP, HOLE, PREPARE };

static HelError run(enum op op, struct hh_mm_plan *plan)
{
	uint64_t addr;
	switch (op) {
	case UNMAP_SPLIT:       /* the middle of the first mapping: it splits in two */
		return hh_space_unmap(space, ARENA_BASE + 0x100, 0x100, plan);
	case PROTECT_SPLIT:
		return hh_space_protect(space, ARENA_BASE + 0x100, 0x100, PROT_READ, plan);
	case MAP:
		return hh_space_map(space, &mem->base, 0, PAGE, 0, RW, &addr, plan);
	case HOLE:
		return hh_space_record_hole(space, ARENA_BASE + 2 * PAGE * FIRST_CAPACITY + PAGE,
				PAGE, true, plan);
	case PREPARE:
		return hh_space_prepare(space, FIRST_CAPACITY, FIRST_CAPACITY);
	}
	return kHelErrIllegalArgs;
}

/*
 * Fail the operation at each of its allocations in turn; returns how many
 * failed before it succeeded.
 */
static int fail_each(enum op op, struct hh_mm_plan *plan)
{
	char before[8192], after[8192];
	for (int k = 0;; k++) {
		snapshot(space, before, sizeof(before));
		plan->count = 0;
		fail_after = k;
		HelError e = run(op, plan);
		bool failed = fail_after < 0;
		fail_after = -1;
		if (!failed) {
			ck_assert_int_eq(e, kHelErrNone);
			return k;
		}
		ck_assert_int_eq(e, kHelErrNoMemory);
		snapshot(space, after, sizeof(after));
		ck_assert_str_eq(after, before);
	}
}

START_TEST(test_oom_space_unmap_split)
{
	fill(FIRST_CAPACITY);
	struct hh_mm_plan plan;
	ck_assert_int_eq(fail_each(UNMAP_SPLIT, &plan), 1);
	ck_assert_uint_eq(space->count, FIRST_CAPACITY + 1);
	ck_assert_ptr_null(hh_space_find(space, ARENA_BASE + 0x100));
	ck_assert_ptr_nonnull(hh_space_find(space, ARENA_BASE + 0x200));
}
END_TEST

START_TEST(test_oom_space_protect_split)
{
	fill(FIRST_CAPACITY);
	struct hh_mm_plan plan;
	ck_assert_int_eq(fail_each(PROTECT_SPLIT, &plan), 1);
	ck_assert_uint_eq(space->count, FIRST_CAPACITY + 2);
	ck_assert_uint_eq(hh_space_find(space, ARENA_BASE + 0x100)->prot, PROT_READ);
	ck_assert_uint_eq(hh_space_find(space, ARENA_BASE)->prot, PROT_READ | PROT_WRITE);
}
END_TEST

START_TEST(test_oom_space_map)
{
	fill(FIRST_CAPACITY);
	struct hh_mm_plan plan;
	ck_assert_int_eq(fail_each(MAP, &plan), 1);
	ck_assert_uint_eq(space->count, FIRST_CAPACITY + 1);
	ck_assert_uint_eq(plan.count, 1);
}
END_TEST

START_TEST(test_oom_space_hole_and_prepare)
{
	struct hh_mm_plan plan;
	/* The first hole: the hole table's first allocation. */
	ck_assert_int_eq(fail_each(HOLE, &plan), 1);
	ck_assert_uint_eq(space->hole_count, 1);
	ck_assert_uint_eq(plan.count, 1);
	ck_assert_uint_eq(plan.ops[0].kind, HH_MM_UNMAP);
	/* Room for 16 more of each: the mapping table, then the hole table grows. */
	ck_assert_int_eq(fail_each(PREPARE, &plan), 2);
	ck_assert_uint_ge(space->capacity, FIRST_CAPACITY + 1);
	ck_assert_uint_ge(space->hole_capacity, FIRST_CAPACITY + 2);
}
END_TEST

START_TEST(test_oom_space_create_and_clone)
{
	fail_after = 0;
	ck_assert_ptr_null(hh_space_create(ARENA_BASE, ARENA_LEN));
	fill(FIRST_CAPACITY);
	struct hh_mm_plan plan = { .count = 0 };
	ck_assert_int_eq(hh_space_record_hole(space, ARENA_BASE + PAGE, PAGE, false, &plan),
			kHelErrNone);
	/* The space, its mappings, its holes: three allocations, each may fail. */
	for (int k = 0; k < 3; k++) {
		fail_after = k;
		ck_assert_ptr_null(hh_space_clone(space));
		ck_assert_int_lt(fail_after, 0);
	}
	fail_after = -1;
	struct hh_space *c = hh_space_clone(space);
	ck_assert_ptr_nonnull(c);
	char a[8192], b[8192];
	snapshot(space, a, sizeof(a));
	snapshot(c, b, sizeof(b));
	ck_assert_str_eq(b, a);
	hh_object_unref(&c->base);
}
END_TEST

START_TEST(test_oom_space_protect_too_many_pieces)
{
	/* should fail: a protection change of more pieces than one reply carries ops. */
	fill(HH_MM_MAX_OPS + 1);
	struct hh_mm_plan plan = { .count = 0 };
	ck_assert_int_eq(hh_space_protect(space, ARENA_BASE, 2 * PAGE * (HH_MM_MAX_OPS + 1),
			PROT_READ, &plan), kHelErrNoMemory);
	ck_assert_uint_eq(plan.count, 0);
	ck_assert_uint_eq(hh_space_find(space, ARENA_BASE)->prot, PROT_READ | PROT_WRITE);
}
END_TEST

START_TEST(test_oom_queue_create)
{
	/* should fail: the queue, its async table, then its memfd (no budget left) */
	struct HelQueueParameters p = { .ringShift = 1, .numChunks = 1, .chunkSize = 256 };
	struct hh_queue *q = NULL;
	for (int k = 0; k < 2; k++) {
		fail_after = k;
		ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNoMemory);
		ck_assert_int_lt(fail_after, 0);
	}
	fail_after = -1;
	struct hh_limits none = *hh_limits();
	none.memfd_budget = 0;
	hh_limits_set(&none);
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNoMemory);
	ck_assert_ptr_null(q);
	/* should succeed: with a budget again */
	none.memfd_budget = 100;
	hh_limits_set(&none);
	ck_assert_int_eq(hh_queue_create(&p, &q), kHelErrNone);
	hh_object_unref(&q->base);
}
END_TEST

/* No task has this id (ids stop at 2^22): registration opens no pidfd. */
#define NO_TID 0x7ffffff0

static struct hh_process proc;

START_TEST(test_oom_thread)
{
	/*
	 * should fail: without memory for the record, the token table's slots
	 * or its free list, registration answers NULL and leaves the program's
	 * list as it was; so does a created thread's record, and an observer
	 */
	for (int k = 0; k < 3; k++) {
		fail_after = k;
		ck_assert_ptr_null(hh_thread_register(&proc, NO_TID, NULL, -1));
		ck_assert_int_lt(fail_after, 0);
		ck_assert_ptr_null(proc.threads);
	}
	fail_after = 0;
	ck_assert_ptr_null(hh_thread_new_native());
	fail_after = -1;
	struct hh_thread *t = hh_thread_new_native();
	ck_assert_ptr_nonnull(t);
	struct hh_pending_list pending = { 0 };
	fail_after = 0;
	ck_assert(!hh_thread_observe(t, 1, NULL, 0, &pending));
	ck_assert_ptr_null(t->observers);
	fail_after = -1;
	hh_object_unref(&t->base);
}
END_TEST

START_TEST(test_oom_thread_no_randomness)
{
	/* should fail: a thread's credentials need randomness; without it no record is made */
	no_randomness = true;
	ck_assert_ptr_null(hh_thread_register(&proc, NO_TID, NULL, -1));
	ck_assert_ptr_null(proc.threads);
	ck_assert_ptr_null(hh_thread_new_native());
	no_randomness = false;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("oom");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_oom_space_unmap_split);
	tcase_add_test(tc, test_oom_space_protect_split);
	tcase_add_test(tc, test_oom_space_map);
	tcase_add_test(tc, test_oom_space_hole_and_prepare);
	tcase_add_test(tc, test_oom_space_create_and_clone);
	tcase_add_test(tc, test_oom_space_protect_too_many_pieces);
	tcase_add_test(tc, test_oom_queue_create);
	tcase_add_test(tc, test_oom_thread);
	tcase_add_test(tc, test_oom_thread_no_randomness);
	suite_add_tcase(s, tc);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
