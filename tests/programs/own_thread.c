/*
 * own_thread running|stopped|once: makes a thread in its own space (a spin
 * loop, running or stopped), prints "own PID ERROR" with helCreateThread's
 * error, and waits to be killed (once: ends).  For own_gdb.sh: what a
 * debugger meets.
 */
#include <hel.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const unsigned char spin[] = { 0xeb, 0xfe };    /* jmp . */
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 2;
	memcpy(code, spin, sizeof(spin));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
		return 2;
	uint32_t flags = argc > 1 && !strcmp(argv[1], "stopped") ? kHelThreadStopped : 0;
	HelHandle thread;
	HelError e = helCreateThread(kHelNullHandle, kHelNullHandle, kHelAbiSystemV, code, NULL, flags, &thread);
	printf("own %d %d\n", (int)getpid(), (int)e);
	fflush(stdout);
	if (argc > 1 && !strcmp(argv[1], "once"))
		return 0;
	for (;;)
		pause();
}
