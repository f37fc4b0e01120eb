/*
 * The miscellaneous calls (helNop, helLog, helPanic, helYield,
 * helGetCurrentCpu, helGetClock, helGetRandomBytes, helQueryRegisterInfo), and
 * the answers of the calls that cannot work hosted or are not served yet,
 * run under an auto-started emulator (OBJECTS.md §2, §5.10, §9; the coverage
 * table of `helhost coverage`).
 */
#include <asm/prctl.h>
#include <check.h>
#include <errno.h>
#include <hel.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "quiet.h"

/* One anonymous page with the given protection. */
static void *page(int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

/* Two pages, the second inaccessible; returns the end of the first. */
static char *page_before_hole(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(mprotect(p + 4096, 4096, PROT_NONE), 0);
	return p + 4096;
}

static uint64_t host_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A fresh 4 KiB memory object. */
/* The number the caller's universe hands out next (consumes it). */
static HelHandle next_number(void)
{
	HelHandle h;
	ck_assert_int_eq(helCreateUniverse(&h), kHelErrNone);
	return h;
}

/* ---- helNop, helYield ------------------------------------------------------ */

START_TEST(test_misc_nop_succeeds)
{
	/* should succeed, every time */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(helNop(), kHelErrNone);
	/* and leaves the handle counter alone */
	HelHandle a = next_number();
	ck_assert_int_eq(helNop(), kHelErrNone);
	ck_assert_int_eq(next_number(), a + 1);
}
END_TEST

START_TEST(test_misc_yield_succeeds)
{
	/* should succeed, every time */
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(helYield(), kHelErrNone);
}
END_TEST

/* ---- helLog ---------------------------------------------------------------- */

START_TEST(test_misc_log_every_severity)
{
	/* should succeed: every severity, and unknown ones count as info */
	static const char msg[] = "test_misc: a log line\n";
	for (int s = 0; s <= 7; s++)
		ck_assert_int_eq(helLog((enum HelLogSeverity)s, msg, sizeof(msg) - 1), kHelErrNone);
	ck_assert_int_eq(helLog((enum HelLogSeverity)8, msg, sizeof(msg) - 1), kHelErrNone);
	ck_assert_int_eq(helLog((enum HelLogSeverity)1000, msg, sizeof(msg) - 1), kHelErrNone);
	ck_assert_int_eq(helLog((enum HelLogSeverity)-1, msg, sizeof(msg) - 1), kHelErrNone);
	/* should succeed: text without a trailing newline */
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, "no newline", 10), kHelErrNone);
}
END_TEST

START_TEST(test_misc_log_empty)
{
	/* should succeed: length 0 logs nothing, whatever the pointer */
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, "x", 0), kHelErrNone);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, NULL, 0), kHelErrNone);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, (const char *)8, 0), kHelErrNone);
}
END_TEST

START_TEST(test_misc_log_bad_pointer)
{
	/* unreadable strings (should fail) */
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, (const char *)8, 5), kHelErrFault);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, NULL, 1), kHelErrFault);
	/* a string that runs into an inaccessible page (should fail) */
	char *end = page_before_hole();
	memset(end - 300, 'a', 300);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, end - 300, 600), kHelErrFault);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, end - 10, 11), kHelErrFault);
	/* lengths that run off the readable page or wrap the address space (should fail) */
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, end - 10, SIZE_MAX), kHelErrFault);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, (const char *)(UINTPTR_MAX - 4), 10),
			kHelErrFault);
	/* should succeed: exactly up to the end of the readable page */
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, end - 300, 300), kHelErrNone);
}
END_TEST

START_TEST(test_misc_log_nul_and_newlines)
{
	/* should succeed: embedded NULs and newlines only shape the output */
	static const char msg[] = "first\nsecond\0hidden\nthird\n\n\0";
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, msg, sizeof(msg)), kHelErrNone);
	static const char nuls[8] = { 0 };
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, nuls, sizeof(nuls)), kHelErrNone);
	ck_assert_int_eq(helLog(kHelLogSeverityInfo, "\n\n\n", 3), kHelErrNone);
}
END_TEST

START_TEST(test_misc_log_long)
{
	/* should succeed: 1000 bytes (several 256-byte pieces) */
	char msg[1000];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (char)('a' + i % 26);
	ck_assert_int_eq(helLog(kHelLogSeverityDebug, msg, sizeof(msg)), kHelErrNone);
	/* should succeed: with newlines and a NUL in the middle of a piece */
	for (size_t i = 99; i < sizeof(msg); i += 100)
		msg[i] = '\n';
	msg[300] = '\0';
	ck_assert_int_eq(helLog(kHelLogSeverityDebug, msg, sizeof(msg)), kHelErrNone);
}
END_TEST

/* ---- helPanic -------------------------------------------------------------- */

START_TEST(test_misc_panic_aborts)
{
	/* should succeed in ending the program with SIGABRT */
	static const char msg[] = "test_misc: deliberate panic";
	helPanic(msg, sizeof(msg) - 1);
}
END_TEST

START_TEST(test_misc_panic_null_aborts)
{
	/* HEL_CHECK's form: no message; still SIGABRT */
	helPanic(NULL, 0);
}
END_TEST

START_TEST(test_misc_panic_bad_message_aborts)
{
	/* thor never reads the message: an unreadable one still ends the program */
	helPanic((const char *)8, 100);
}
END_TEST

static void *panic_thread(void *arg)
{
	(void)arg;
	helPanic("test_misc: panic in a pthread", 29);
}

START_TEST(test_misc_panic_from_thread_aborts)
{
	/* a panic in a second pthread ends the whole program */
	ck_assert_int_eq(helNop(), kHelErrNone);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, panic_thread, NULL), 0);
	pthread_join(t, NULL);
	/* not reached: the join never returns */
	ck_abort_msg("the program survived a panic");
}
END_TEST

/* ---- helGetCurrentCpu ------------------------------------------------------ */

START_TEST(test_misc_current_cpu_in_range)
{
	/* should succeed: 0 <= cpu < number of CPUs */
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	ck_assert_int_gt(ncpu, 0);
	for (int i = 0; i < 50; i++) {
		int cpu = -1;
		ck_assert_int_eq(helGetCurrentCpu(&cpu), kHelErrNone);
		ck_assert_int_ge(cpu, 0);
		ck_assert_int_lt(cpu, ncpu);
	}
}
END_TEST

START_TEST(test_misc_current_cpu_follows_affinity)
{
	/* should succeed: pinned to one CPU, the caller reports that CPU */
	cpu_set_t set;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	int last = -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			last = i;
	ck_assert_int_ge(last, 0);
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
	int cpu = -1;
	ck_assert_int_eq(helGetCurrentCpu(&cpu), kHelErrNone);
	ck_assert_int_eq(cpu, last);
}
END_TEST

/* ---- helGetClock ----------------------------------------------------------- */

START_TEST(test_misc_clock_matches_monotonic)
{
	/* should succeed: between two CLOCK_MONOTONIC readings */
	for (int i = 0; i < 20; i++) {
		uint64_t before = host_now(), hel = 0;
		ck_assert_int_eq(helGetClock(&hel), kHelErrNone);
		uint64_t after = host_now();
		ck_assert_uint_ge(hel, before);
		ck_assert_uint_le(hel, after);
	}
}
END_TEST

START_TEST(test_misc_clock_monotonic)
{
	/* should succeed: never goes backwards */
	uint64_t prev = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t now;
		ck_assert_int_eq(helGetClock(&now), kHelErrNone);
		ck_assert_uint_ge(now, prev);
		prev = now;
	}
	/* and advances with the host: after a sleep until a host time 10^7 ns ahead, it is past that time */
	uint64_t a, b;
	ck_assert_int_eq(helGetClock(&a), kHelErrNone);
	uint64_t target = host_now() + 10000000ull;
	struct timespec ts = { .tv_sec = (time_t)(target / 1000000000ull),
		.tv_nsec = (long)(target % 1000000000ull) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	ck_assert_int_eq(helGetClock(&b), kHelErrNone);
	ck_assert_uint_ge(b, target);
	ck_assert_uint_ge(b - a, 10000000ull);
}
END_TEST

/* ---- helGetRandomBytes ----------------------------------------------------- */

START_TEST(test_misc_random_sizes)
{
	unsigned char buf[256];
	size_t got;
	/* should succeed: small requests are served in full, and no more is written */
	memset(buf, 0xee, sizeof(buf));
	got = 999;
	ck_assert_int_eq(helGetRandomBytes(buf, 16, &got), kHelErrNone);
	ck_assert_uint_eq(got, 16);
	for (size_t i = 16; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xee);
	/* should succeed: at most 128 bytes per call */
	memset(buf, 0xee, sizeof(buf));
	got = 0;
	ck_assert_int_eq(helGetRandomBytes(buf, 200, &got), kHelErrNone);
	ck_assert_uint_eq(got, 128);
	for (size_t i = 128; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xee);
	got = 0;
	ck_assert_int_eq(helGetRandomBytes(buf, 128, &got), kHelErrNone);
	ck_assert_uint_eq(got, 128);
	got = 0;
	ck_assert_int_eq(helGetRandomBytes(buf, 1, &got), kHelErrNone);
	ck_assert_uint_eq(got, 1);
	/* should succeed: an absurd request is still served 128 bytes */
	memset(buf, 0xee, sizeof(buf));
	got = 0;
	ck_assert_int_eq(helGetRandomBytes(buf, SIZE_MAX, &got), kHelErrNone);
	ck_assert_uint_eq(got, 128);
	for (size_t i = 128; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0xee);
	/* should succeed: 128 random bytes are not all one value */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(helGetRandomBytes(buf, 128, &got), kHelErrNone);
	int distinct = 0;
	for (size_t i = 1; i < 128; i++)
		distinct |= buf[i] != buf[0];
	ck_assert(distinct);
}
END_TEST

START_TEST(test_misc_random_zero)
{
	/* should succeed: nothing wanted, nothing written */
	unsigned char b = 0xee;
	size_t got = 999;
	ck_assert_int_eq(helGetRandomBytes(&b, 0, &got), kHelErrNone);
	ck_assert_uint_eq(got, 0);
	ck_assert_uint_eq(b, 0xee);
	got = 999;
	ck_assert_int_eq(helGetRandomBytes(NULL, 0, &got), kHelErrNone);
	ck_assert_uint_eq(got, 0);
}
END_TEST

START_TEST(test_misc_random_bad_buffer)
{
	size_t got;
	/* unmapped buffers (should fail) */
	ck_assert_int_eq(helGetRandomBytes((void *)8, 16, &got), kHelErrFault);
	ck_assert_int_eq(helGetRandomBytes(NULL, 1, &got), kHelErrFault);
	/* a read-only page (should fail); it stays zero */
	unsigned char *ro = page(PROT_READ);
	ck_assert_int_eq(helGetRandomBytes(ro, 64, &got), kHelErrFault);
	for (int i = 0; i < 64; i++)
		ck_assert_uint_eq(ro[i], 0);
	/* a buffer running into an inaccessible page (should fail) */
	char *end = page_before_hole();
	ck_assert_int_eq(helGetRandomBytes(end - 8, 16, &got), kHelErrFault);
	/* a buffer that wraps the address space (should fail) */
	ck_assert_int_eq(helGetRandomBytes((void *)(UINTPTR_MAX - 7), 16, &got), kHelErrFault);
	/* should succeed: the last bytes of the writable page; 200 wanted, 128 fit */
	got = 0;
	ck_assert_int_eq(helGetRandomBytes(end - 128, 200, &got), kHelErrNone);
	ck_assert_uint_eq(got, 128);
}
END_TEST

START_TEST(test_misc_random_calls_differ)
{
	/* should succeed: two draws are different */
	unsigned char a[32], b[32];
	size_t got;
	ck_assert_int_eq(helGetRandomBytes(a, sizeof(a), &got), kHelErrNone);
	ck_assert_uint_eq(got, sizeof(a));
	ck_assert_int_eq(helGetRandomBytes(b, sizeof(b), &got), kHelErrNone);
	ck_assert_uint_eq(got, sizeof(b));
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST

/* ---- helQueryRegisterInfo -------------------------------------------------- */

START_TEST(test_misc_register_info_sizes)
{
	/* should succeed: the image sizes of every queryable set */
	static const struct { int set; int size; } sets[] = {
		{ kHelRegsProgram, 16 }, { kHelRegsGeneral, 120 }, { kHelRegsThread, 16 },
		{ kHelRegsVirtualization, 424 }, { kHelRegsSimd, 512 }, { kHelRegsSignal, 152 },
	};
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct HelRegisterInfo info = { .setSize = -1 };
		ck_assert_int_eq(helQueryRegisterInfo(sets[i].set, &info), kHelErrNone);
		ck_assert_int_eq(info.setSize, sets[i].size);
	}
	/* the sizes agree with the register counts of hel.h */
	struct HelRegisterInfo info;
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsGeneral, &info), kHelErrNone);
	ck_assert_int_eq(info.setSize, kHelNumGprs * 8);
}
END_TEST

START_TEST(test_misc_register_info_bad_set)
{
	/* the debug set and unknown sets (should fail); info is not written */
	static const int bad[] = { kHelRegsDebug, 0, 8, 99, -1, 0x7fffffff };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct HelRegisterInfo info = { .setSize = -7 };
		ck_assert_int_eq(helQueryRegisterInfo(bad[i], &info), kHelErrIllegalArgs);
		ck_assert_int_eq(info.setSize, -7);
	}
}
END_TEST

START_TEST(test_misc_register_info_bad_pointer)
{
	/* unwritable info (should fail) */
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsProgram, (struct HelRegisterInfo *)8),
			kHelErrFault);
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsSimd, NULL), kHelErrFault);
	struct HelRegisterInfo *ro = page(PROT_READ);
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsGeneral, ro), kHelErrFault);
	ck_assert_int_eq(ro->setSize, 0);
	/* should succeed: the last int of a writable page */
	char *end = page_before_hole();
	struct HelRegisterInfo *last = (struct HelRegisterInfo *)(end - sizeof(*last));
	ck_assert_int_eq(helQueryRegisterInfo(kHelRegsSignal, last), kHelErrNone);
	ck_assert_int_eq(last->setSize, 152);
}
END_TEST

/* ---- calls that cannot work hosted ---------------------------------------- */

START_TEST(test_misc_hardware_calls_refused)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	HelHandle m = hh_test_memory(4096);
	HelHandle h = 0;
	/* I/O ports, IRQs, physical memory, kernlets (should fail: unsupported hosted) */
	uintptr_t ports[2] = { 0x80, 0x81 };
	ck_assert_int_eq(helAccessIo(ports, 2, &h), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helEnableIo(m), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helEnableFullIo(), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAccessIrq(1, &h), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAcknowledgeIrq(m, kHelAckAcknowledge, 0), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAutomateIrq(m, 0, m), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helAccessPhysical(0x100000, 4096, &h), kHelErrUnsupportedOperation);
	uintptr_t phys = 0;
	int local = 0;
	ck_assert_int_eq(helPointerPhysical(&local, &phys), kHelErrUnsupportedOperation);
	union HelKernletData data[1] = { { .handle = m } };
	ck_assert_int_eq(helBindKernlet(m, data, 1, &h), kHelErrUnsupportedOperation);
	/* virtualization (should fail: no hardware support hosted) */
	ck_assert_int_eq(helCreateVirtualizedSpace(&h), kHelErrNoHardwareSupport);
	ck_assert_int_eq(helCreateVirtualizedCpu(m, &h), kHelErrNoHardwareSupport);
	struct HelVmexitReason reason;
	memset(&reason, 0, sizeof(reason));
	ck_assert_int_eq(helRunVirtualizedCpu(m, &reason), kHelErrNoHardwareSupport);
	/* no handle was created, no completion posted */
	ck_assert_int_eq(next_number(), m + 1);
	hq_expect_empty(&q);
}
END_TEST

/* ---- calls not served yet -------------------------------------------------- */

START_TEST(test_misc_not_yet_memory_calls)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	HelHandle m = hh_test_memory(4096);
	void *area;
	ck_assert_int_eq(helMapMemory(m, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &area), kHelErrNone);
	HelHandle h = 0;
	/* forking is for copy-on-write objects only, managing for managed ones (should fail) */
	ck_assert_int_eq(helForkMemory(m, &h), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helSubmitManageMemory(m, q.handle, 1), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helUpdateMemory(m, kHelManageInitialize, 0, 4096),
			kHelErrUnsupportedOperation);
	/* no handle was created, no completion posted, the mapping still works */
	ck_assert_int_eq(next_number(), m + 1);
	hq_expect_empty(&q);
	((volatile char *)area)[0] = 1;
}
END_TEST

START_TEST(test_misc_thread_calls_hosted)
{
	struct hq q;
	hh_test_open(&q, 2, 1, 256);
	HelHandle m = hh_test_memory(4096);
	HelHandle h = 0;
	/* the current bases, so that a write would change nothing */
	unsigned long fs = 0, gs = 0;
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs), 0);
	/*
	 * should succeed: a thread in the program's own space (tests/calls/test_threads.c
	 * runs them); should fail: m is no thread
	 */
	static char stack[4096] __attribute__((aligned(16)));
	ck_assert_int_eq(helCreateThread(kHelNullHandle, kHelNullHandle, kHelAbiSystemV,
			(void *)(uintptr_t)helNop, stack + sizeof(stack), kHelThreadStopped, &h),
			kHelErrNone);
	ck_assert_int_eq(helKillThread(h), kHelErrNone);
	ck_assert_int_eq(helResume(m), kHelErrBadDescriptor);
	ck_assert_int_eq(helSubmitObserve(m, 0, q.handle, 1), kHelErrBadDescriptor);
	ck_assert_int_eq(helInterruptThread(m), kHelErrBadDescriptor);
	ck_assert_int_eq(helKillThread(m), kHelErrBadDescriptor);
	uint64_t image[64];
	memset(image, 0, sizeof(image));
	ck_assert_int_eq(helLoadRegisters(m, kHelRegsProgram, image), kHelErrBadDescriptor);
	ck_assert_int_eq(helStoreRegisters(m, kHelRegsProgram, image), kHelErrBadDescriptor);
	/* FS is glibc's thread pointer: writing it cannot be served hosted (should fail) */
	ck_assert_int_eq(helWriteFsBase((void *)fs), kHelErrUnsupportedOperation);
	/* no handle was created but the thread's, no completion posted, the bases are unchanged */
	ck_assert_int_eq(next_number(), h + 1);
	hq_expect_empty(&q);
	unsigned long fs2 = 0, gs2 = 0;
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2), 0);
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs2), 0);
	ck_assert_uint_eq(fs2, fs);
	ck_assert_uint_eq(gs2, gs);
}
END_TEST

/* ---- several pthreads at once ---------------------------------------------- */

#define THREADS 4
#define ROUNDS 200

struct worker {
	int index;
	int failures;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	char line[64];
	for (int i = 0; i < ROUNDS; i++) {
		if (helNop() != kHelErrNone)
			w->failures++;
		int n = snprintf(line, sizeof(line), "test_misc: thread %d round %d\n", w->index, i);
		if (helLog(kHelLogSeverityDebug, line, (size_t)n) != kHelErrNone)
			w->failures++;
	}
	return NULL;
}

static pthread_barrier_t first_call_barrier;

static void *first_call_main(void *arg)
{
	HelError *e = arg;
	pthread_barrier_wait(&first_call_barrier);
	*e = helNop();
	return NULL;
}

START_TEST(test_misc_first_calls_race)
{
	/* should succeed: the program's very first calls come from 4 threads at once */
	pthread_t t[THREADS];
	HelError e[THREADS + 1];
	ck_assert_int_eq(pthread_barrier_init(&first_call_barrier, NULL, THREADS + 1), 0);
	for (int i = 0; i < THREADS; i++) {
		e[i] = -1;
		ck_assert_int_eq(pthread_create(&t[i], NULL, first_call_main, &e[i]), 0);
	}
	e[THREADS] = -1;
	first_call_main(&e[THREADS]);
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int i = 0; i <= THREADS; i++)
		ck_assert_int_eq(e[i], kHelErrNone);
	/* one emulator served them all: handles keep counting from 1 */
	ck_assert_int_eq(next_number(), 1);
}
END_TEST

START_TEST(test_misc_nop_log_concurrent_threads)
{
	/* should succeed: 4 threads x 200 rounds of helNop + helLog, all succeed */
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .index = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	/* the main thread keeps calling meanwhile */
	for (int i = 0; i < ROUNDS; i++)
		ck_assert_int_eq(helNop(), kHelErrNone);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(w[i].failures, 0);
	}
	/* the emulator still answers afterwards */
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("misc");
	TCase *tc = hh_test_case(s, "misc", 60);
	tcase_add_test(tc, test_misc_nop_succeeds);
	tcase_add_test(tc, test_misc_yield_succeeds);
	tcase_add_test(tc, test_misc_log_every_severity);
	tcase_add_test(tc, test_misc_log_empty);
	tcase_add_test(tc, test_misc_log_bad_pointer);
	tcase_add_test(tc, test_misc_log_nul_and_newlines);
	tcase_add_test(tc, test_misc_log_long);
	tcase_add_test_raise_signal(tc, test_misc_panic_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_misc_panic_null_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_misc_panic_bad_message_aborts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_misc_panic_from_thread_aborts, SIGABRT);
	tcase_add_test(tc, test_misc_current_cpu_in_range);
	tcase_add_test(tc, test_misc_current_cpu_follows_affinity);
	tcase_add_test(tc, test_misc_clock_matches_monotonic);
	tcase_add_test(tc, test_misc_clock_monotonic);
	tcase_add_test(tc, test_misc_random_sizes);
	tcase_add_test(tc, test_misc_random_zero);
	tcase_add_test(tc, test_misc_random_bad_buffer);
	tcase_add_test(tc, test_misc_random_calls_differ);
	tcase_add_test(tc, test_misc_register_info_sizes);
	tcase_add_test(tc, test_misc_register_info_bad_set);
	tcase_add_test(tc, test_misc_register_info_bad_pointer);
	tcase_add_test(tc, test_misc_hardware_calls_refused);
	tcase_add_test(tc, test_misc_not_yet_memory_calls);
	tcase_add_test(tc, test_misc_thread_calls_hosted);
	tcase_add_test(tc, test_misc_first_calls_race);
	tcase_add_test(tc, test_misc_nop_log_concurrent_threads);
	return hh_test_main(s);
}
