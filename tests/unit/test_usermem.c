/*
 * usermem.c: the emulator reaches a program's memory through handles on
 * that exact process.  After the program dies and its pid is given to
 * another process (forced here with clone3's set_tid), nothing the emulator
 * still holds for it reads or writes the newcomer.
 */
#include <check.h>
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "usermem.h"

/* The same address in this process and in every fork of it. */
static char target[64] = "untouched";

static pid_t spawn_sleeper(pid_t want)
{
	struct clone_args args = { .exit_signal = SIGCHLD };
	pid_t tid[1] = { want };
	if (want) {
		args.set_tid = (uint64_t)(uintptr_t)tid;
		args.set_tid_size = 1;
	}
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static struct hh_usermem open_for(pid_t pid)
{
	struct hh_usermem m = { .pid = pid, .memfd = -1, .mapsfd = -1,
		.pidfd = (int)syscall(SYS_pidfd_open, pid, 0) };
	ck_assert_int_ge(m.pidfd, 0);
	ck_assert_int_eq(hh_usermem_open(&m), 0);
	return m;
}

/* What pid holds at target, read without usermem.c. */
static void peek(pid_t pid, char *out, size_t len)
{
	struct iovec l = { out, len }, r = { target, len };
	ck_assert_int_eq(process_vm_readv(pid, &l, 1, &r, 1, 0), (ssize_t)len);
}

static void end(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

START_TEST(test_usermem_reaches_its_process)
{
	/* should succeed: reads and writes reach the program the handles were opened on */
	pid_t pid = spawn_sleeper(0);
	ck_assert_int_gt(pid, 0);
	struct hh_usermem m = open_for(pid);
	char got[16];
	ck_assert_int_eq(hh_user_write(&m, (uint64_t)(uintptr_t)target, "written", 8), kHelErrNone);
	peek(pid, got, 8);
	ck_assert_str_eq(got, "written");
	ck_assert_int_eq(hh_user_read(&m, (uint64_t)(uintptr_t)target, got, 8), kHelErrNone);
	ck_assert_str_eq(got, "written");
	hh_usermem_close(&m);
	close(m.pidfd);
	end(pid);
}
END_TEST

START_TEST(test_usermem_protection_respected)
{
	/* should fail: /proc/PID/mem could write a read-only page; usermem must not */
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(two, MAP_FAILED);
	ck_assert_int_eq(mprotect(two + 4096, 4096, PROT_READ), 0);
	pid_t pid = spawn_sleeper(0);
	ck_assert_int_gt(pid, 0);
	struct hh_usermem m = open_for(pid);
	char buf[8192];
	memset(buf, 'y', sizeof(buf));
	ck_assert_int_eq(hh_user_write(&m, (uint64_t)(uintptr_t)(two + 4096), "x", 1), kHelErrFault);
	/* A write that runs into the read-only page stops before it. */
	ck_assert_uint_eq(hh_user_copy_partial(&m, buf, (uint64_t)(uintptr_t)two, sizeof(buf), true), 4096);
	/* Unmapped memory is a fault both ways. */
	ck_assert_int_eq(hh_user_read(&m, 4096, buf, 1), kHelErrFault);
	ck_assert_int_eq(hh_user_write(&m, 4096, buf, 1), kHelErrFault);
	hh_usermem_close(&m);
	close(m.pidfd);
	end(pid);
}
END_TEST

START_TEST(test_usermem_pid_reuse)
{
	/* should fail: after the program died and its pid was reused, nothing reaches the newcomer */
	pid_t pid = spawn_sleeper(0);
	ck_assert_int_gt(pid, 0);
	struct hh_usermem m = open_for(pid);
	end(pid);
	pid_t again = spawn_sleeper(pid);
	if (again < 0 && (errno == EPERM || errno == EEXIST)) {
		hh_usermem_close(&m);
		close(m.pidfd);
		/* Choosing a pid needs CAP_SYS_ADMIN, or the pid was taken meanwhile. */
		fprintf(stderr, "test_usermem_pid_reuse: skipped, cannot create pid %d: %s\n",
				(int)pid, strerror(errno));
		return;
	}
	ck_assert_int_eq(again, pid);
	char got[16];
	ck_assert_int_eq(hh_user_write(&m, (uint64_t)(uintptr_t)target, "stolen", 7), kHelErrFault);
	ck_assert_int_eq(hh_user_read(&m, (uint64_t)(uintptr_t)target, got, 8), kHelErrFault);
	peek(again, got, 10);
	ck_assert_str_eq(got, "untouched");
	hh_usermem_close(&m);
	close(m.pidfd);
	end(again);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("usermem");
	TCase *tc = tcase_create("usermem");
	tcase_add_test(tc, test_usermem_reaches_its_process);
	tcase_add_test(tc, test_usermem_protection_respected);
	tcase_add_test(tc, test_usermem_pid_reuse);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
