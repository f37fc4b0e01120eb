/*
 * Calls that libhel never sends, trapped by hand through the call page (as
 * forge_trace does): helFutexWait and helFutexWake (libhel serves both on
 * the host futex), registry names no C string gives, and call numbers no
 * call has.  Each answer is checked
 * here; trace_calls.sh checks their trace.
 */
#include <hel.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "own_page.h"

static struct hh_callpage *page;
static uint64_t token;

/* Trap call number with three arguments; the emulator's answer, or -1. */
static long trap(uint32_t call, uint64_t a0, uint64_t a1, uint64_t a2)
{
	page->call = call;
	page->in_flags = 0;
	page->in_len = 0;
	memset(page->arg, 0, sizeof(page->arg));
	page->arg[0] = a0;
	page->arg[1] = a1;
	page->arg[2] = a2;
	/* The token is this thread's only: the emulator answers EPERM to others. */
	for (; token < 4096; token++) {
		long r = syscall(HH_TRAP_NR, token, 0, 0);
		if (r >= 0 || errno != EPERM)
			return r;
	}
	return -1;
}

static int expect(const char *what, long got, HelError want)
{
	if (got == want)
		return 0;
	fprintf(stderr, "raw_calls: %s answered %ld, not %d\n", what, got, want);
	return 1;
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
	return failed;
}
