/*
 * Argument checks of the decoders that no other suite reaches: ranges that
 * wrap around the address space, deadlines and queues that cannot serve a
 * call, priorities beyond Hel's range.  Each answers the exact error and,
 * where the call has an effect, the effect is checked.
 */
#include <check.h>
#include <errno.h>
#include <hel.h>
#include <helhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fixture.h"

/* The last page of the 64-bit space: one more page wraps around. */
#define LAST_PAGE ((void *)0xfffffffffffff000ull)

START_TEST(test_decoders_unmap_wrapping_range)
{
	ck_assert_int_eq(helUnmapMemory(kHelNullHandle, LAST_PAGE, 0x2000), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_protect_wrapping_range)
{
	struct hq q;
	hh_test_open(&q, 1, 1, 256);
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, LAST_PAGE, 0x2000, kHelMapProtRead,
			q.handle, 1), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_lookup_bad_deadline)
{
	struct hq q;
	uint64_t id;
	hh_test_open(&q, 1, 1, 256);
	ck_assert_int_eq(helhost_submit_lookup("decoders", -2, q.handle, 1, &id), kHelErrIllegalArgs);
}
END_TEST

START_TEST(test_decoders_lookup_queue_too_small)
{
	/* 24-byte chunks hold a simple result (16 + 8) but not a handle result (16 + 16). */
	struct hq q;
	uint64_t id;
	hh_test_open(&q, 1, 1, 24);
	ck_assert_int_eq(helhost_submit_lookup("decoders", kHelWaitInfinite, q.handle, 1, &id),
			kHelErrQueueTooSmall);
}
END_TEST

/* Hel priorities beyond [-19, 20] clamp to Linux's nice range. */
START_TEST(test_decoders_priority_clamps)
{
	ck_assert_int_eq(helSetPriority(kHelThisThread, -1000), kHelErrNone);
	errno = 0;
	ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)gettid()), 19);
	ck_assert_int_eq(errno, 0);
	ck_assert_int_eq(helSetPriority(kHelThisThread, 1000), kHelErrNone);
	/* Raising needs privilege; without it the priority stays a hint. */
	if (geteuid() == 0)
		ck_assert_int_eq(getpriority(PRIO_PROCESS, (id_t)gettid()), -20);
}
END_TEST

/* The result of the one element a helSubmitReadMemory posted. */
static HelError space_read(struct hq *q, HelHandle space, uint64_t address, uint64_t length,
		void *buffer)
{
	ck_assert_int_eq(helSubmitReadMemory(space, address, length, buffer, q->handle, 7),
			kHelErrNone);
	struct HelElement *e = hq_next(q, hq_deadline_ms(20000));
	ck_assert_ptr_nonnull(e);
	struct HelSimpleResult *r = hq_payload(e);
	return r->error;
}

START_TEST(test_decoders_space_read_bad_ranges)
{
	/*
	 * should fail: through an address space, a buffer that wraps is illegal,
	 * an address range that wraps is a fault, more than 16 MiB at once is
	 * refused for memory; an unmapped address is a fault.
	 */
	struct hq q;
	HelHandle space;
	char buf[16];
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(space_read(&q, space, 0x1000, 0x2000, LAST_PAGE), kHelErrIllegalArgs);
	ck_assert_int_eq(space_read(&q, space, (uint64_t)LAST_PAGE, 0x2000, buf), kHelErrFault);
	ck_assert_int_eq(space_read(&q, space, 0x1000, (16u << 20) + 1, buf), kHelErrNoMemory);
	ck_assert_int_eq(space_read(&q, space, 0x1000, sizeof(buf), buf), kHelErrFault);
}
END_TEST

START_TEST(test_decoders_space_read_in_pieces)
{
	/*
	 * should succeed: a read through an address space of more than the 1 MiB
	 * the emulator copies at once; should fail: into a read-only buffer
	 */
	const size_t len = (1u << 20) + 0x3000;
	struct hq q;
	HelHandle space, mem;
	void *there = NULL, *here = NULL;
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(len, 0, NULL, &mem), kHelErrNone);
	ck_assert_int_eq(helMapMemory(mem, space, NULL, 0, len, kHelMapProtRead, &there),
			kHelErrNone);
	ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, len,
			kHelMapProtRead | kHelMapProtWrite, &here), kHelErrNone);
	for (size_t i = 0; i < len; i += 4096)
		((unsigned char *)here)[i] = (unsigned char)(i >> 12);
	unsigned char *buf = malloc(len);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(space_read(&q, space, (uintptr_t)there, len, buf), kHelErrNone);
	ck_assert_int_eq(memcmp(buf, here, len), 0);
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	ck_assert_int_eq(space_read(&q, space, (uintptr_t)there, 4096, ro), kHelErrFault);
	free(buf);
}
END_TEST

START_TEST(test_decoders_protect_too_many_mappings)
{
	/*
	 * should fail: a protection change of 65 mappings needs more operations
	 * than one reply carries (64); nothing changes, and 64 may change
	 */
	struct hq q;
	HelHandle mem;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &mem), kHelErrNone);
	for (int i = 0; i < 65; i++) {
		void *p = NULL;
		ck_assert_int_eq(helMapMemory(mem, kHelNullHandle, NULL, 0, 4096,
				kHelMapProtRead | kHelMapProtWrite, &p), kHelErrNone);
		lo = (uintptr_t)p < lo ? (uintptr_t)p : lo;
		hi = (uintptr_t)p > hi ? (uintptr_t)p : hi;
	}
	ck_assert_int_eq(helSubmitProtectMemory(kHelNullHandle, (void *)lo, hi + 4096 - lo,
			kHelMapProtRead, q.handle, 1), kHelErrNoMemory);
	*(volatile char *)lo = 1;       /* still writable */
}
END_TEST

START_TEST(test_decoders_pending_limit_lookup_and_await)
{
	/*
	 * should fail: with one pending operation allowed (read by the emulator
	 * this test starts) and taken by a clock wait, a lookup and an event
	 * await are refused; cancelling the wait makes room for the lookup.
	 */
	ck_assert_int_eq(setenv("HELHOST_MAX_PENDING", "1", 1), 0);
	struct hq q;
	uint64_t now, wait, id;
	HelHandle event;
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helCreateOneshotEvent(&event), kHelErrNone);
	helGetClock(&now);
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, q.handle, 1, &wait),
			kHelErrNone);
	ck_assert_int_eq(helhost_submit_lookup("decoders-pending", kHelWaitInfinite, q.handle, 2,
			&id), kHelErrNoMemory);
	ck_assert_int_eq(helSubmitAwaitEvent(event, 0, q.handle, 3, &id), kHelErrNoMemory);
	ck_assert_int_eq(helCancelAsync(q.handle, wait), kHelErrNone);
	struct HelElement *e = hh_test_next(&q, 1);
	ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(e))->error, kHelErrCancelled);
	ck_assert_int_eq(helhost_submit_lookup("decoders-pending", 0, q.handle, 4, &id),
			kHelErrNone);
}
END_TEST

START_TEST(test_decoders_empty_name)
{
	/* should fail: a name is 1 to HH_NAME_MAX bytes. */
	ck_assert_int_eq(helhost_publish("", kHelThisUniverse), kHelErrIllegalArgs);
	ck_assert_int_eq(helhost_unpublish(""), kHelErrIllegalArgs);
}
END_TEST

#define GUEST_CODE 0x400000ull

/* A created thread, running: it spins at its first instruction, in a space of its own. */
static HelHandle spinning_thread(void)
{
	HelHandle space, code, thread;
	void *mine = NULL, *there = NULL;
	ck_assert_int_eq(helCreateSpace(&space), kHelErrNone);
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &code), kHelErrNone);
	ck_assert_int_eq(helMapMemory(code, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &mine), kHelErrNone);
	memcpy(mine, "\xeb\xfe", 2);   /* jmp . */
	ck_assert_int_eq(helMapMemory(code, space, (void *)GUEST_CODE, 0, 4096,
			kHelMapProtRead | kHelMapProtExecute | kHelMapFixed, &there), kHelErrNone);
	ck_assert_int_eq(helCreateThread(kHelNullHandle, space, 0, (void *)GUEST_CODE, NULL, 0,
			&thread), kHelErrNone);
	return thread;
}

START_TEST(test_decoders_thread_calls_while_it_runs)
{
	/* should fail: a running thread's registers move, and it needs no resume */
	HelHandle t = spinning_thread();
	uintptr_t image[2] = { GUEST_CODE, 0 };
	ck_assert_int_eq(helStoreRegisters(t, kHelRegsProgram, image), kHelErrIllegalState);
	ck_assert_int_eq(helLoadRegisters(t, kHelRegsProgram, image), kHelErrIllegalState);
	ck_assert_int_eq(helResume(t), kHelErrIllegalState);
	/* should fail: an observation (16 bytes) does not fit 24-byte chunks (16 + 8) */
	struct hq tiny, q;
	hh_test_open(&tiny, 1, 1, 24);
	ck_assert_int_eq(helSubmitObserve(t, 1, tiny.handle, 1), kHelErrQueueTooSmall);
	/* should succeed: killed, it is observed ended, and then its registers are gone */
	hh_test_open(&q, 2, 1, 256);
	ck_assert_int_eq(helKillThread(t), kHelErrNone);
	ck_assert_int_eq(helSubmitObserve(t, 1, q.handle, 2), kHelErrNone);
	struct HelElement *e = hh_test_next(&q, 2);
	ck_assert_int_eq(((struct HelObserveResult *)hq_payload(e))->error, kHelErrThreadTerminated);
	ck_assert_int_eq(helStoreRegisters(t, kHelRegsProgram, image), kHelErrThreadTerminated);
}
END_TEST

START_TEST(test_decoders_pending_limit_observe)
{
	/* should fail: the one pending operation allowed is a clock wait, so no observation */
	ck_assert_int_eq(setenv("HELHOST_MAX_PENDING", "1", 1), 0);
	struct hq q;
	uint64_t now, wait;
	hh_test_open(&q, 2, 1, 256);
	HelHandle t = spinning_thread();
	helGetClock(&now);
	ck_assert_int_eq(helSubmitAwaitClock(now + 3600000000000ull, q.handle, 1, &wait),
			kHelErrNone);
	ck_assert_int_eq(helSubmitObserve(t, 1, q.handle, 2), kHelErrNoMemory);
	/* should succeed: cancelling the wait makes room */
	ck_assert_int_eq(helCancelAsync(q.handle, wait), kHelErrNone);
	struct HelElement *e = hh_test_next(&q, 1);
	ck_assert_int_eq(((struct HelSimpleResult *)hq_payload(e))->error, kHelErrCancelled);
	ck_assert_int_eq(helSubmitObserve(t, 1, q.handle, 3), kHelErrNone);
	ck_assert_int_eq(helKillThread(t), kHelErrNone);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("decoders");
	TCase *tc = hh_test_case(s, "decoders", 30);
	tcase_add_test(tc, test_decoders_unmap_wrapping_range);
	tcase_add_test(tc, test_decoders_protect_wrapping_range);
	tcase_add_test(tc, test_decoders_lookup_bad_deadline);
	tcase_add_test(tc, test_decoders_lookup_queue_too_small);
	tcase_add_test(tc, test_decoders_priority_clamps);
	tcase_add_test(tc, test_decoders_space_read_bad_ranges);
	tcase_add_test(tc, test_decoders_space_read_in_pieces);
	tcase_add_test(tc, test_decoders_protect_too_many_mappings);
	tcase_add_test(tc, test_decoders_pending_limit_lookup_and_await);
	tcase_add_test(tc, test_decoders_empty_name);
	tcase_add_test(tc, test_decoders_thread_calls_while_it_runs);
	tcase_add_test(tc, test_decoders_pending_limit_observe);
	return hh_test_main(s);
}
