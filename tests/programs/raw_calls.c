/*
 * Calls that libhel never sends, trapped by hand through the call page (as
 * forge_trace does): helFutexWait and helFutexWake (libhel serves both on
 * the host futex), registry names no C string gives, and call numbers no
 * call has; helCreateThread in the program's own space naming Linux
 * threads, thread blocks and sockets that are none; userfaultfds that are
 * none, and a second one; populate hints for what is no managed mapping.
 * Each answer is checked
 * here; trace_calls.sh checks their trace.
 */
#include <hel.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "own_page.h"

static struct hh_callpage *page;
static uint64_t token;

/* Trap call number with the arguments args; the emulator's answer, or -1. */
static long trap_args(uint32_t call, const uint64_t *args, size_t n)
{
	page->call = call;
	page->in_flags = 0;
	page->in_len = 0;
	memset(page->arg, 0, sizeof(page->arg));
	memcpy(page->arg, args, n * sizeof(*args));
	/* The token is this thread's only: the emulator answers EPERM to others. */
	for (; token < 4096; token++) {
		long r = syscall(HH_TRAP_NR, token, 0, 0);
		if (r >= 0 || errno != EPERM)
			return r;
	}
	return -1;
}

static long trap(uint32_t call, uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t args[] = { a0, a1, a2 };
	return trap_args(call, args, 3);
}

/*
 * helCreateThread in this program's own space (universe and space
 * kHelNullHandle, as libhel sends it) for Linux thread tid, with the thread
 * block at block and the socket fd sock.
 */
static long own_thread(uint64_t tid, uint64_t block, uint64_t sock)
{
	uint64_t args[] = { 0, 0, 0, 0x1000, 0x2000, 0, tid, block, sock };
	return trap_args(kHelCallCreateThread, args, 9);
}

static int expect(const char *what, long got, HelError want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "raw_calls: %s answered %ld, not %d\n", what, got, want);
	return 1;
}

/* A Linux thread that never makes a Hel call: it says its tid, then waits for its pipe to close. */
static void *idle(void *fds)
{
	int *ends = fds;
	pid_t tid = gettid();
	char c;
	if (write(ends[3], &tid, sizeof(tid)) != sizeof(tid))
		return NULL;
	return (void *)(intptr_t)read(ends[0], &c, 1);
}

/* Threads and blocks the emulator cannot take as a thread of the program's own. */
static int own_thread_garbage(void)
{
	int ends[4];        /* the idle thread's pipe, then the one it says its tid on */
	pthread_t linux_thread;
	pid_t tid = 0;
	if (pipe(ends) || pipe(ends + 2) || pthread_create(&linux_thread, NULL, idle, ends))
		return 1;
	if (read(ends[2], &tid, sizeof(tid)) != sizeof(tid))
		tid = 0;
	struct hh_own_block block = { .magic = HH_OWN_MAGIC };
	struct hh_own_block wrong = { .magic = HH_OWN_MAGIC + 1 };
	uint64_t b = (uintptr_t)&block;
	int failed = 0;
	failed |= expect("own thread 0", own_thread(0, b, 1), kHelErrIllegalArgs);
	failed |= expect("own thread 2^32", own_thread(1ull << 32, b, 1), kHelErrIllegalArgs);
	failed |= expect("own thread 1, not the program's", own_thread(1, b, 1), kHelErrIllegalArgs);
	failed |= expect("own thread, a Hel thread already", own_thread((uint64_t)getpid(), b, 1),
			kHelErrIllegalArgs);
	failed |= expect("own thread, an unreadable block", own_thread((uint64_t)tid, 8, 1),
			kHelErrIllegalArgs);
	failed |= expect("own thread, a block of the wrong magic",
			own_thread((uint64_t)tid, (uintptr_t)&wrong, 1), kHelErrIllegalArgs);
	failed |= expect("own thread, a socket fd out of range", own_thread((uint64_t)tid, b, 1ull << 40),
			kHelErrIllegalArgs);
	failed |= expect("own thread, a socket fd not open", own_thread((uint64_t)tid, b, 4000),
			kHelErrIllegalArgs);
	close(ends[1]);
	pthread_join(linux_thread, NULL);
	for (int i = 0; i < 4; i++)
		if (i != 1)
			close(ends[i]);
	return failed || !tid;
}

/*
 * The userfaultfd libhel hands over for managed memory (HH_CALL_FAULTS_FD,
 * an fd of ours): one that is not open, or is no userfaultfd, is refused;
 * a real one is taken, once.  Then libhel's hint to fill a new mapping
 * (HH_CALL_FAULTS_POPULATE) for what is no whole managed mapping (plain
 * memory at word, a range longer than it or inside it, no mapping at all)
 * is ignored: answered, and the memory there is as it was.
 */
static int faults_fd_garbage(uint64_t word)
{
	int pipe_ends[2];
	if (pipe(pipe_ends))
		return 1;
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int failed = expect("faults fd, not open", trap(HH_CALL_FAULTS_FD, 4000, 0, 0),
			kHelErrBadDescriptor);
	failed |= expect("faults fd, a pipe", trap(HH_CALL_FAULTS_FD, (uint64_t)pipe_ends[0], 0, 0),
			kHelErrBadDescriptor);
	failed |= expect("faults fd, a userfaultfd", trap(HH_CALL_FAULTS_FD, (uint64_t)uffd, 0, 0),
			kHelErrNone);
	failed |= expect("faults fd, a second one", trap(HH_CALL_FAULTS_FD, (uint64_t)uffd, 0, 0),
			kHelErrAlreadyExists);
	volatile char *plain = (volatile char *)(uintptr_t)word;
	plain[0] = 'w';
	failed |= expect("populate, plain memory", trap(HH_CALL_FAULTS_POPULATE, word, 4096, 0),
			kHelErrNone);
	failed |= expect("populate, longer than the mapping",
			trap(HH_CALL_FAULTS_POPULATE, word, 8192, 0), kHelErrNone);
	failed |= expect("populate, inside the mapping",
			trap(HH_CALL_FAULTS_POPULATE, word + 16, 4096, 0), kHelErrNone);
	failed |= expect("populate, no mapping", trap(HH_CALL_FAULTS_POPULATE, 0x1000, 4096, 0),
			kHelErrNone);
	failed |= plain[0] != 'w';
	close(pipe_ends[0]);
	close(pipe_ends[1]);
	close(uffd);
	return failed || uffd < 0;
}

int main(void)
{
	HelHandle mem;
	void *word = NULL;
	/* Real calls register this thread, map its page and a Hel mapping for the futex. */
	HEL_CHECK(helAllocateMemory(4096, 0, NULL, &mem));
	HEL_CHECK(helMapMemory(mem, kHelNullHandle, NULL, 0, 4096,
			kHelMapProtRead | kHelMapProtWrite, &word));
	page = own_call_page();
	if (!page) {
		fputs("raw_calls: no call page\n", stderr);
		return 1;
	}
	token = 1;
	uint64_t at = (uintptr_t)word, stack = (uintptr_t)&mem;
	int failed = 0;
	failed |= expect("wait, no Hel mapping", trap(kHelCallFutexWait, stack, 0, -1), kHelErrFault);
	failed |= expect("wait, bad deadline", trap(kHelCallFutexWait, at, 0, -5), kHelErrIllegalArgs);
	failed |= expect("wait", trap(kHelCallFutexWait, at, 1, -1), kHelErrNone);
	failed |= expect("wake, no Hel mapping", trap(kHelCallFutexWake, stack, 1, 0), kHelErrFault);
	failed |= expect("wake", trap(kHelCallFutexWake, at, 1, 0), kHelErrNone);
	/* Names libhel never sends (it passes a C string and its length). */
	failed |= expect("publish, an unreadable name", trap(HH_CALL_PUBLISH, 8, 4, mem),
			kHelErrFault);
	failed |= expect("publish, a NUL in the name",
			trap(HH_CALL_PUBLISH, (uintptr_t)"raw\0name", 8, mem), kHelErrIllegalArgs);
	failed |= expect("call 90", trap(90, 0, 0, 0), kHelErrIllegalSyscall);
	failed |= expect("call 0x10fff", trap(0x10fff, 0, 0, 0), kHelErrIllegalSyscall);
	failed |= own_thread_garbage();
	failed |= faults_fd_garbage(at);
	return failed;
}
