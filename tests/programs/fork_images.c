/*
 * Fork images (src/host/process.c): the copy of a program's universe and space
 * that its fork child claims at its first registration.  A claim by a
 * process that is not the parent's child, or with a guessed id, gives a
 * fresh universe and leaves the image to its child; images whose children
 * never claim are freed when the parent dies (each parent's after its own
 * grace period; a live parent's stay), and one parent keeps at most
 * 64 of them.  And a fork child that finds its emulator gone ends, instead
 * of starting an emulator of its own that would keep it alive.
 *
 * Linked with the static libhel, to reach its internal call (fork images
 * are prepared there, as fork() does) and the call-page contract, with
 * which a child made by the raw fork syscall registers the way the shim
 * does but naming any image it likes.  Such a child shares libhel's state
 * with its parent and must make no libhel call.
 */
#include <check.h>
#include <hel.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "shim.h"

#define DEADLINE_MS 10000
#define CAP 64

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What fork() asks of the emulator first: an image of us; its id, or 0. */
static uint64_t prepare_image(void)
{
	uint64_t out[2] = { 0, 0 };
	return hh_shim_call(HH_CALL_FORK_PREPARE, 0, NULL, out) == kHelErrNone ? out[0] : 0;
}

/* How many images wait in our emulator, or -1. */
static int64_t waiting_images(void)
{
	uint64_t out[2] = { 0, 0 };
	return hh_shim_call(HH_CALL_FORK_IMAGES, 0, NULL, out) == kHelErrNone ? (int64_t)out[0] : -1;
}

/* A child without libhel's fork handlers: the emulator knows nothing of it. */
static pid_t raw_fork(void)
{
	return (pid_t)syscall(SYS_fork);
}

/*
 * In a raw fork child: register this thread claiming image id, then close
 * handle h.  The close says whose universe we got: kHelErrNone if the
 * image's, kHelErrNoDescriptor if a fresh one.  200 and up: no registration.
 */
static int claim_and_close(uint64_t id, HelHandle h)
{
	/* As libhel registers (src/callpage.h): a sealed page and a socket for memfds. */
	int fd = memfd_create("claim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int sv[2];
	if (fd < 0 || ftruncate(fd, sizeof(struct hh_callpage)) < 0 ||
			fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0 ||
			socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return 200;
	struct hh_callpage *page = mmap(NULL, sizeof(*page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (page == MAP_FAILED)
		return 201;
	page->tid = gettid();
	page->pid = getpid();
	page->image_nonce = 1;
	page->arena_base = 1ull << 40;
	page->arena_len = 1ull << 30;
	page->fork_image = id;
	page->sock = sv[1];
	long token = syscall(HH_TRAP_NR, HH_TOKEN_REGISTER, fd, getpid());
	if (token <= 0)
		return 202;
	page->call = kHelCallCloseDescriptor;
	page->arg[0] = (uint64_t)(int64_t)kHelThisUniverse;
	page->arg[1] = (uint64_t)(int64_t)h;
	return (int)syscall(HH_TRAP_NR, token, 0, 0);
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* claim_and_close in a child of ours; its result. */
static int claim_in_child(uint64_t id, HelHandle h)
{
	pid_t pid = raw_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(claim_and_close(id, h));
	return exit_code(wait_child(pid, DEADLINE_MS));
}

/* claim_and_close in a grandchild: it knows the id but is not our child. */
static int claim_in_grandchild(uint64_t id, HelHandle h)
{
	pid_t pid = raw_fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pid_t thief = raw_fork();
		if (thief == 0)
			_exit(claim_and_close(id, h));
		int status;
		_exit(thief > 0 && waitpid(thief, &status, 0) == thief ? exit_code(status) : 203);
	}
	return exit_code(wait_child(pid, DEADLINE_MS));
}

static HelHandle some_handle(void)
{
	HelHandle h;
	ck_assert_int_eq(helAllocateMemory(4096, 0, NULL, &h), kHelErrNone);
	return h;
}

START_TEST(test_fork_image_theft_fails)
{
	HelHandle h = some_handle();
	uint64_t id = prepare_image();
	ck_assert_uint_ne(id, 0);
	ck_assert_int_eq(waiting_images(), 1);
	/* should fail: a process that is not our child, with our real id, gets a fresh universe */
	ck_assert_int_eq(claim_in_grandchild(id, h), kHelErrNoDescriptor);
	/* should fail: ids next to ours, and the small ones images once had */
	ck_assert_int_eq(claim_in_child(id + 1, h), kHelErrNoDescriptor);
	ck_assert_int_eq(claim_in_child(id - 1, h), kHelErrNoDescriptor);
	for (uint64_t guess = 1; guess <= 4; guess++)
		ck_assert_int_eq(claim_in_child(guess, h), kHelErrNoDescriptor);
	/* the failed claims left the image where it was */
	ck_assert_int_eq(waiting_images(), 1);
	/* should succeed: our own child gets the universe as it was, handle included */
	ck_assert_int_eq(claim_in_child(id, h), kHelErrNone);
	ck_assert_int_eq(waiting_images(), 0);
	/* should fail: an image is claimed once */
	ck_assert_int_eq(claim_in_child(id, h), kHelErrNoDescriptor);
}
END_TEST

START_TEST(test_fork_images_expire_with_parent)
{
	ck_assert_int_eq(waiting_images(), 0);
	pid_t parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0) {
		/* 1000 forks whose children exit without ever claiming their image. */
		for (int i = 0; i < 1000; i++) {
			pid_t c;
			if (!prepare_image() || (c = raw_fork()) < 0)
				_exit(250);
			if (c == 0)
				_exit(0);
			if (waitpid(c, NULL, 0) != c)
				_exit(251);
		}
		/* Our cap holds them to the newest 64; our own image was claimed at our fork. */
		_exit((int)waiting_images());
	}
	ck_assert_int_eq(exit_code(wait_child(parent, 60000)), CAP);
	/* should succeed: the parent's death frees them all (after a second's grace) */
	for (int64_t end = now_ms() + DEADLINE_MS; waiting_images() && now_ms() < end;)
		usleep(1000);
	ck_assert_int_eq(waiting_images(), 0);
}
END_TEST

/* A program of ours that prepares n images no child will claim, and exits. */
static void parent_leaving_images(int n)
{
	pid_t parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0) {
		for (int i = 0; i < n; i++)
			if (!prepare_image())
				_exit(250);
		_exit(0);
	}
	ck_assert_int_eq(exit_code(wait_child(parent, DEADLINE_MS)), 0);
}

START_TEST(test_fork_images_expire_per_parent)
{
	HelHandle h = some_handle();
	uint64_t ours = prepare_image();
	ck_assert_uint_ne(ours, 0);
	/* Three parents die one after the other (the second with two images): each
	 * image waits its parent's own grace period, so they expire at different times. */
	parent_leaving_images(1);
	parent_leaving_images(2);
	parent_leaving_images(1);
	/* should succeed: the dead parents' images go, ours (a live parent's) stays */
	for (int64_t end = now_ms() + DEADLINE_MS; waiting_images() > 1 && now_ms() < end;)
		usleep(1000);
	ck_assert_int_eq(waiting_images(), 1);
	/* should succeed: and our child still gets it, handle included */
	ck_assert_int_eq(claim_in_child(ours, h), kHelErrNone);
	ck_assert_int_eq(waiting_images(), 0);
}
END_TEST

START_TEST(test_fork_image_parent_exits_before_claim)
{
	HelHandle h = some_handle();
	int report[2];
	ck_assert_int_eq(pipe(report), 0);
	pid_t parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0) {
		uint64_t id = prepare_image();
		pid_t me = getpid(), c = raw_fork();
		if (c == 0) {
			/* Claim only once our parent is dead and we are someone else's child. */
			for (int64_t end = now_ms() + DEADLINE_MS; getppid() == me && now_ms() < end;)
				usleep(100);
			int r = getppid() == me ? 204 : claim_and_close(id, h);
			_exit(write(report[1], &r, sizeof(r)) == sizeof(r) ? 0 : 1);
		}
		_exit(id && c > 0 ? 0 : 1);
	}
	close(report[1]);
	ck_assert_int_eq(exit_code(wait_child(parent, DEADLINE_MS)), 0);
	int r = -1;
	struct pollfd p = { .fd = report[0], .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, DEADLINE_MS), 1);
	ck_assert_int_eq(read(report[0], &r, sizeof(r)), sizeof(r));
	/* should succeed: the orphan still gets its universe */
	ck_assert_int_eq(r, kHelErrNone);
	ck_assert_int_eq(waiting_images(), 0);
}
END_TEST

static void *first_call(void *arg)
{
	(void)arg;
	helNop();
	return NULL;
}

/*
 * In a raw fork child of a served program, unknown to the emulator: once
 * the emulator is dead, a new thread's first call registers.  Returns only
 * if that call was served (by a new emulator).
 */
static void call_after_death(int emulator)
{
	struct pollfd p = { .fd = emulator, .events = POLLIN };
	if (poll(&p, 1, DEADLINE_MS) != 1)
		_exit(2);
	pthread_t t;
	if (pthread_create(&t, NULL, first_call, NULL) || pthread_join(t, NULL))
		_exit(3);
}

START_TEST(test_fork_child_after_emulator_death)
{
	/* We are the subreaper of what our served child leaves behind. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	int report[2];
	ck_assert_int_eq(pipe(report), 0);
	pid_t served = fork();
	ck_assert_int_ge(served, 0);
	if (served == 0) {
		/* Our first call starts a private emulator; our raw child is unknown to it. */
		helNop();
		/* The emulator holds the alive word as a robust futex: its tid is there. */
		pid_t emu = (pid_t)(*hh_shim_alive_word() & FUTEX_TID_MASK);
		int emulator = (int)syscall(SYS_pidfd_open, emu, 0);
		pid_t c = raw_fork();
		if (c == 0) {
			call_after_death(emulator);
			_exit(0);
		}
		if (emulator < 0 || c < 0 || write(report[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		/* The watchdog ends us with the emulator. */
		syscall(SYS_pidfd_send_signal, emulator, SIGKILL, NULL, 0);
		pause();
		_exit(1);
	}
	close(report[1]);
	pid_t c = 0;
	struct pollfd p = { .fd = report[0], .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, DEADLINE_MS), 1);
	ck_assert_int_eq(read(report[0], &c, sizeof(c)), sizeof(c));
	int status = wait_child(served, DEADLINE_MS);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* should fail: the orphan's call finds no emulator, and the orphan ends (libhel's SIGKILL) */
	status = wait_child(c, DEADLINE_MS);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			"the orphan ended with status 0x%x", status);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fork_images");
	TCase *tc = tcase_create("fork_images");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_fork_image_theft_fails);
	tcase_add_test(tc, test_fork_images_expire_with_parent);
	tcase_add_test(tc, test_fork_images_expire_per_parent);
	tcase_add_test(tc, test_fork_image_parent_exits_before_claim);
	tcase_add_test(tc, test_fork_child_after_emulator_death);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
