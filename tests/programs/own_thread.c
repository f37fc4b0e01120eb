/*
 * own_thread running|stopped|once: makes a thread in its own space (a spin
 * loop, running or stopped), prints "own PID ERROR" with helCreateThread's
 * error, and waits to be killed (once: ends).  For own_gdb.sh: what a
 * debugger meets.  own_thread observed: a queue (handle 1), a thread made
 * stopped (2) whose next stop is observed, a running one (3) killed and one
 * (4) left running; prints "observed PID" and the five errors, then waits.
 * For status.sh.
 */
#include <hel.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static HelError create(void *code, uint32_t flags, HelHandle *thread)
{
	return helCreateThread(kHelNullHandle, kHelNullHandle, kHelAbiSystemV, code, NULL, flags, thread);
}

static int observed(void *code)
{
	struct HelQueueParameters params = { .flags = 0, .ringShift = 0, .numChunks = 1,
		.chunkSize = 4096 };
	HelHandle queue, stopped, killed, running;
	HelError e[5] = { helCreateQueue(&params, &queue), create(code, kHelThreadStopped, &stopped) };
	/* A thread made stopped is at sequence 1: its next stop is awaited. */
	e[2] = e[0] || e[1] ? kHelErrIllegalState : helSubmitObserve(stopped, 1, queue, 0x5);
	e[3] = create(code, 0, &killed);
	if (!e[3])
		e[3] = helKillThread(killed);
	e[4] = create(code, 0, &running);
	printf("observed %d %d %d %d %d %d\n", (int)getpid(), (int)e[0], (int)e[1], (int)e[2], (int)e[3],
			(int)e[4]);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned char spin[] = { 0xeb, 0xfe };    /* jmp . */
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 2;
	memcpy(code, spin, sizeof(spin));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC))
		return 2;
	if (argc > 1 && !strcmp(argv[1], "observed"))
		return observed(code);
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
