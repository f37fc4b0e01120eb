/*
 * Managarm's raw entry points (hel-syscalls.h) and the supercalls libhel
 * answers (docs/MANAGARM.md), under an auto-started emulator.
 */
#include <asm/prctl.h>
#include <check.h>
#include <hel.h>
#include <hel-syscalls.h>
#include <helhost.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "child.h"
#include "conv.h"
#include "fixture.h"

/* Managarm's posix::superGetProcessData and its answer's layout. */
#define SUPER_GET_PROCESS_DATA 1
struct process_data {
	HelHandle posix_lane;
	HelHandle mbus_lane;
	void *thread_page;
	HelHandle *file_table;
	void *clock_tracker_page;
};

static HelError super1(uint32_t n, void *arg)
{
	return helSyscall1((int)(kHelCallSuper + n), (HelWord)(uintptr_t)arg);
}

static HelError raw_submit(HelHandle lane, const struct HelAction *actions, size_t count,
		HelHandle queue, uintptr_t context, uint32_t flags)
{
	return helSyscall6(kHelCallSubmitAsync, (HelWord)lane, (HelWord)(uintptr_t)actions, count,
			(HelWord)queue, context, flags);
}

START_TEST(test_syscall_memory_through_raw_calls)
{
	/* should succeed: allocate, size and map with raw calls; the results come back in res0 */
	HelWord memory, size, pointer;
	ck_assert_int_eq(helSyscall3_1(kHelCallAllocateMemory, 8192, 0, 0, &memory), kHelErrNone);
	ck_assert_int_eq(helSyscall1_1(kHelCallMemoryInfo, memory, &size), kHelErrNone);
	ck_assert_uint_eq(size, 8192);
	ck_assert_int_eq(helSyscall6_1(kHelCallMapMemory, memory, (HelWord)kHelNullHandle, 0, 0,
			8192, kHelMapProtRead | kHelMapProtWrite, &pointer), kHelErrNone);
	/* the mapping is real: a write through it reads back through a second one */
	void *again;
	ck_assert_int_eq(helMapMemory((HelHandle)memory, kHelNullHandle, NULL, 0, 8192,
			kHelMapProtRead, &again), kHelErrNone);
	strcpy((char *)(uintptr_t)pointer + 4096, "raw");
	ck_assert_str_eq((char *)again + 4096, "raw");
	ck_assert_int_eq(helSyscall2(kHelCallCloseDescriptor, (HelWord)kHelThisUniverse, memory),
			kHelErrNone);
	ck_assert_int_eq(helMemoryInfo((HelHandle)memory, (size_t *)&size), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_syscall_two_results)
{
	/* should succeed: helCreateStream's two lanes come back in res0 and res1 */
	HelWord a, b;
	ck_assert_int_eq(helSyscall1_2(kHelCallCreateStream, 0, &a, &b), kHelErrNone);
	ck_assert_int_ne(a, b);
	ck_assert_int_eq(helShutdownLane((HelHandle)a), kHelErrNone);
	ck_assert_int_eq(helShutdownLane((HelHandle)b), kHelErrNone);
}
END_TEST

START_TEST(test_syscall_local_calls)
{
	/* should succeed: the calls libhel serves itself answer through the raw path too */
	struct timespec ts;
	HelWord clock, base;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t before = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	ck_assert_int_eq(helSyscall0_1(kHelCallGetClock, &clock), kHelErrNone);
	ck_assert_uint_ge(clock, before);
	ck_assert_int_eq(helSyscall0(kHelCallYield), kHelErrNone);
	static int gs_target;
	ck_assert_int_eq(helSyscall1(kHelCallWriteGsBase, (HelWord)(uintptr_t)&gs_target), kHelErrNone);
	ck_assert_int_eq(helSyscall0_1(kHelCallReadGsBase, &base), kHelErrNone);
	ck_assert_uint_eq(base, (uintptr_t)&gs_target);
	/* the FS base Linux has for this thread; a CPU this thread may run on */
	unsigned long fs = 0;
	ck_assert_int_eq(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs), 0);
	ck_assert_int_eq(helSyscall0_1(kHelCallReadFsBase, &base), kHelErrNone);
	ck_assert_uint_eq(base, fs);
	HelWord cpu = (HelWord)-1;
	cpu_set_t allowed;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	ck_assert_int_eq(helSyscall0_1(kHelCallGetCurrentCpu, &cpu), kHelErrNone);
	ck_assert_uint_lt(cpu, CPU_SETSIZE);
	ck_assert(CPU_ISSET(cpu, &allowed));
	/* a futex wait on a word that differs returns at once */
	void *word;
	HelHandle memory;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &memory), kHelErrNone);
	ck_assert_int_eq(helMapMemory(memory, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &word), kHelErrNone);
	*(int *)word = 7;
	ck_assert_int_eq(helSyscall3(kHelCallFutexWait, (HelWord)(uintptr_t)word, 6,
			(HelWord)kHelWaitInfinite), kHelErrNone);
	ck_assert_int_eq(helSyscall1(kHelCallFutexWake, (HelWord)(uintptr_t)word), kHelErrNone);
}
END_TEST

START_TEST(test_syscall_panic_aborts)
{
	/* should succeed: helPanic through the raw path ends the program with SIGABRT */
	static const char msg[] = "raw panic";
	pid_t pid = fork_tied();
	if (pid == 0) {
		helSyscall2(kHelCallPanic, (HelWord)(uintptr_t)msg, sizeof(msg) - 1);
		_exit(1);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGABRT);
}
END_TEST

START_TEST(test_syscall_unknown_numbers)
{
	/* should fail: numbers past the Hel calls, helhost's internal ones included */
	ck_assert_int_eq(helSyscall0(kHelNumCalls), kHelErrIllegalSyscall);
	ck_assert_int_eq(helSyscall0(0x10100), kHelErrIllegalSyscall);
	/* a number inside the table that no call has */
	ck_assert_int_eq(helSyscall0(4), kHelErrIllegalSyscall);
}
END_TEST

START_TEST(test_syscall_process_data_without_mbus)
{
	/* should succeed: every field written, all null when the run has no mbus */
	unsetenv("HELHOST_MBUS");
	struct process_data data;
	memset(&data, 0xa5, sizeof(data));
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, &data), kHelErrNone);
	ck_assert_int_eq(data.posix_lane, kHelNullHandle);
	ck_assert_int_eq(data.mbus_lane, kHelNullHandle);
	ck_assert_ptr_null(data.thread_page);
	ck_assert_ptr_null(data.file_table);
	ck_assert_ptr_null(data.clock_tracker_page);
}
END_TEST

START_TEST(test_syscall_process_data_mbus_lane_works)
{
	/* should succeed: mbusLane is a lane to what the run's mbus published */
	HelHandle mine, theirs;
	hh_test_stream(&mine, &theirs);
	ck_assert_int_eq(helhost_publish("test.syscall.mbus", theirs), kHelErrNone);
	ck_assert_int_eq(setenv("HELHOST_MBUS", "test.syscall.mbus", 1), 0);
	struct process_data data, again;
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, &data), kHelErrNone);
	ck_assert_int_gt(data.mbus_lane, 0);
	ck_assert_int_ne(data.mbus_lane, theirs);
	/* one lane per process, as on Managarm */
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, &again), kHelErrNone);
	ck_assert_int_eq(again.mbus_lane, data.mbus_lane);

	/* the offer goes through the raw helSubmitAsync */
	ck_assert_int_eq(conv_hello(raw_submit, data.mbus_lane, mine, "hello mbus"), kHelErrNone);
}
END_TEST

START_TEST(test_syscall_process_data_fork_keeps_lane)
{
	/* should succeed: a fork child answers with the lane it inherited, and it works */
	HelHandle mine, theirs;
	hh_test_stream(&mine, &theirs);
	ck_assert_int_eq(helhost_publish("test.syscall.fork", theirs), kHelErrNone);
	ck_assert_int_eq(setenv("HELHOST_MBUS", "test.syscall.fork", 1), 0);
	struct process_data data;
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, &data), kHelErrNone);
	pid_t pid = fork_tied();
	if (pid == 0) {
		struct process_data child;
		if (super1(SUPER_GET_PROCESS_DATA, &child) || child.mbus_lane != data.mbus_lane)
			_exit(10);
		_exit(conv_hello(helSubmitAsync, child.mbus_lane, mine, "from the child") ? 11 : 0);
	}
	int status = wait_child(pid, 20000);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_syscall_process_data_bad_pointer)
{
	/* should fail: an unwritable answer buffer is a fault, and the program goes on */
	unsetenv("HELHOST_MBUS");
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(ro, MAP_FAILED);
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, NULL), kHelErrFault);
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, ro), kHelErrFault);
	ck_assert_int_eq(super1(SUPER_GET_PROCESS_DATA, (char *)ro + 4096 - 8), kHelErrFault);
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

START_TEST(test_syscall_other_supercalls_refused)
{
	/* should fail: superFork, superExit, superGetServerData and unknown ones */
	struct process_data data;
	ck_assert_int_eq(super1(2, &data), kHelErrUnsupportedOperation);
	ck_assert_int_eq(super1(4, &data), kHelErrUnsupportedOperation);
	ck_assert_int_eq(super1(64, &data), kHelErrUnsupportedOperation);
	ck_assert_int_eq(super1(0x7fffffff, &data), kHelErrUnsupportedOperation);
	ck_assert_int_eq(helNop(), kHelErrNone);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("syscall");
	TCase *tc = hh_test_case(s, "raw", 60);
	tcase_add_test(tc, test_syscall_memory_through_raw_calls);
	tcase_add_test(tc, test_syscall_two_results);
	tcase_add_test(tc, test_syscall_local_calls);
	tcase_add_test(tc, test_syscall_panic_aborts);
	tcase_add_test(tc, test_syscall_unknown_numbers);
	tcase_add_test(tc, test_syscall_process_data_without_mbus);
	tcase_add_test(tc, test_syscall_process_data_mbus_lane_works);
	tcase_add_test(tc, test_syscall_process_data_fork_keeps_lane);
	tcase_add_test(tc, test_syscall_process_data_bad_pointer);
	tcase_add_test(tc, test_syscall_other_supercalls_refused);
	return hh_test_main(s);
}
