/*
 * A program that forges internal trace reports (HH_CALL_TRACE_LOCAL) behind
 * libhel's back: it finds its call page in /proc/self/maps, writes a report
 * into it and traps with each token until the emulator knows the caller.
 *
 *     forge_trace CALL_NUMBER MARK
 *
 * reports CALL_NUMBER with MARK as its first argument and prints its pid and
 * "forged: ERROR NAME" (the emulator's answer) or why it could not ask.
 */
#include <hel.h>
#include <errno.h>
#include <hel-syscalls.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "own_page.h"

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	/* One real call registers this thread and maps its page. */
	HEL_CHECK(helNop());
	struct hh_callpage *page = own_call_page();
	if (!page) {
		puts("forged: no call page");
		return 1;
	}
	page->call = HH_CALL_TRACE_LOCAL;
	page->trace_call = (uint32_t)strtoul(argv[1], NULL, 0);
	page->trace_error = kHelErrNone;
	page->trace_ns = 1;
	memset(page->trace_arg, 0, sizeof(page->trace_arg));
	page->trace_arg[0] = strtoull(argv[2], NULL, 0);
	/* The emulator answers EPERM to a token that is not this thread's. */
	printf("pid %d\n", (int)getpid());
	for (uint64_t token = 1; token < 4096; token++) {
		long r = syscall(HH_TRAP_NR, token, 0, 0);
		if (r >= 0) {
			printf("forged: %ld %s\n", r, _helErrorString((HelError)r));
			return 0;
		}
		if (errno != EPERM)
			break;
	}
	puts("forged: no token");
	return 1;
}
