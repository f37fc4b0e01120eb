/*
 * The thread calls that concern a program's own threads: helQueryThreadStats,
 * helSetPriority, helGetAffinity, helSetAffinity, and the FS/GS base calls
 * (OBJECTS.md §5.11, §5.12).  Hosted, kHelThisThread is the only thread
 * handle there is until helCreateThread exists.
 */
#include <asm/prctl.h>
#include <check.h>
#include <hel.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fixture.h"

static size_t mask_bytes(void)
{
	return (size_t)(sysconf(_SC_NPROCESSORS_CONF) + 7) / 8;
}

START_TEST(test_thread_stats_grow)
{
	/* should succeed: the calling thread's time on a CPU, growing as it works */
	struct HelThreadStats a, b;
	ck_assert_int_eq(helQueryThreadStats(kHelThisThread, &a), kHelErrNone);
	volatile uint64_t x = 0;
	for (int i = 0; i < 20000000; i++)
		x += (uint64_t)i;
	ck_assert_int_eq(helQueryThreadStats(kHelThisThread, &b), kHelErrNone);
	ck_assert_uint_gt(b.userTime, a.userTime);
	/* bad handles and pointers (should fail) */
	ck_assert_int_eq(helQueryThreadStats(9999, &a), kHelErrNoDescriptor);
	ck_assert_int_eq(helQueryThreadStats(hh_test_memory(4096), &a), kHelErrBadDescriptor);
	ck_assert_int_eq(helQueryThreadStats(kHelThisThread, (struct HelThreadStats *)8), kHelErrFault);
}
END_TEST

/* The calling thread's nice value, as Linux has it. */
static int own_nice(void)
{
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	ck_assert_int_eq(errno, 0);
	return nice;
}

START_TEST(test_thread_set_priority)
{
	/* Raising a thread's priority needs privilege on Linux; without it the call is a hint. */
	bool can_raise = setpriority(PRIO_PROCESS, (id_t)gettid(), -1) == 0;
	ck_assert_int_eq(setpriority(PRIO_PROCESS, (id_t)gettid(), 0), 0);
	/* should succeed: priority p becomes nice -p, clamped to Linux's range */
	ck_assert_int_eq(helSetPriority(kHelThisThread, 5), kHelErrNone);
	ck_assert_int_eq(own_nice(), can_raise ? -5 : 0);
	ck_assert_int_eq(helSetPriority(kHelThisThread, -5), kHelErrNone);
	ck_assert_int_eq(own_nice(), 5);
	ck_assert_int_eq(helSetPriority(kHelThisThread, -100), kHelErrNone);
	ck_assert_int_eq(own_nice(), 19);
	ck_assert_int_eq(helSetPriority(kHelThisThread, 100), kHelErrNone);
	ck_assert_int_eq(own_nice(), can_raise ? -20 : 19);
	ck_assert_int_eq(helSetPriority(kHelThisThread, 0), kHelErrNone);
	ck_assert_int_eq(own_nice(), can_raise ? 0 : 19);
	/* bad handles (should fail) */
	ck_assert_int_eq(helSetPriority(12345, 1), kHelErrNoDescriptor);
	ck_assert_int_eq(helSetPriority(hh_test_memory(4096), 1), kHelErrBadDescriptor);
}
END_TEST

START_TEST(test_thread_set_affinity)
{
	size_t n = mask_bytes();
	uint8_t mask[64];
	ck_assert_uint_le(n, sizeof(mask));
	/* should succeed: pin to the last CPU we may use, and the thread runs there */
	cpu_set_t set;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	int target = -1;
	for (int i = 0; i < (int)n * 8 && i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			target = i;
	ck_assert_int_ge(target, 0);
	memset(mask, 0, sizeof(mask));
	mask[target / 8] = (uint8_t)(1u << (target % 8));
	ck_assert_int_eq(helSetAffinity(kHelThisThread, mask, (size_t)target / 8 + 1), kHelErrNone);
	helYield();
	int cpu = -1;
	ck_assert_int_eq(helGetCurrentCpu(&cpu), kHelErrNone);
	ck_assert_int_eq(cpu, target);
	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	ck_assert_int_eq(CPU_COUNT(&set), 1);
	ck_assert(CPU_ISSET(target, &set));
	/* errors in thor's order: size, mask read, empty mask, handle (should fail) */
	ck_assert_int_eq(helSetAffinity(kHelThisThread, mask, n + 1), kHelErrOutOfBounds);
	ck_assert_int_eq(helSetAffinity(9999, (uint8_t *)8, n), kHelErrFault);
	memset(mask, 0, sizeof(mask));
	ck_assert_int_eq(helSetAffinity(9999, mask, n), kHelErrIllegalArgs);
	mask[0] = 1;
	ck_assert_int_eq(helSetAffinity(9999, mask, n), kHelErrNoDescriptor);
	ck_assert_int_eq(helSetAffinity(hh_test_memory(4096), mask, n), kHelErrBadDescriptor);
	/* size 0 reads nothing: an empty mask (should fail) */
	ck_assert_int_eq(helSetAffinity(kHelThisThread, NULL, 0), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_thread_get_affinity_errors)
{
	uint8_t mask[64];
	size_t actual = 0;
	/* a too small buffer is reported before the handle is looked at (should fail) */
	ck_assert_int_eq(helGetAffinity(9999, mask, 0, &actual), kHelErrBufferTooSmall);
	/* kHelThisThread is not accepted here, as in thor (should fail) */
	ck_assert_int_eq(helGetAffinity(kHelThisThread, mask, sizeof(mask), &actual),
			kHelErrNoDescriptor);
	ck_assert_int_eq(helGetAffinity(hh_test_memory(4096), mask, sizeof(mask), &actual),
			kHelErrBadDescriptor);
}
END_TEST

START_TEST(test_thread_gs_base)
{
	/* should succeed: the GS base is the calling thread's own */
	unsigned long old = 0, now = 0;
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_GS, &old), 0);
	static char block[64];
	ck_assert_int_eq(helWriteGsBase(block), kHelErrNone);
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_GS, &now), 0);
	ck_assert_uint_eq(now, (unsigned long)(uintptr_t)block);
	/* the read wrappers leave *pointer alone, as Managarm's do (ABI.md §5.1) */
	void *p = (void *)0x1234;
	ck_assert_int_eq(helReadGsBase(&p), kHelErrNone);
	ck_assert_ptr_eq(p, (void *)0x1234);
	ck_assert_int_eq(helReadFsBase(&p), kHelErrNone);
	ck_assert_ptr_eq(p, (void *)0x1234);
	ck_assert_int_eq(helWriteGsBase((void *)old), kHelErrNone);
	/* FS is glibc's: writing it cannot be served hosted (should fail) */
	unsigned long fs = 0;
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	ck_assert_int_eq(helWriteFsBase((void *)fs), kHelErrUnsupportedOperation);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = hh_test_case(s, "thread", 60);
	tcase_add_test(tc, test_thread_stats_grow);
	tcase_add_test(tc, test_thread_set_priority);
	tcase_add_test(tc, test_thread_set_affinity);
	tcase_add_test(tc, test_thread_get_affinity_errors);
	tcase_add_test(tc, test_thread_gs_base);
	return hh_test_main(s);
}
