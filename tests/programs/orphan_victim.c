/*
 * A program that must die with its emulator (tests/programs/orphans.c).
 * It makes Hel calls (so the emulator knows it), with "fork" as argv[2]
 * forks a child that takes its place (the parent waits for it), then writes
 * the pid of the one that stays (the victim) to stdout and stays in the
 * state argv[1] names, for good:
 *   sleep    in clock_nanosleep
 *   compute  on a CPU, no syscalls
 *   read     in read() on a pipe no one writes to
 *   stop     stopped by SIGSTOP
 *   futex    in helFutexWait on its own empty queue
 *   exec     running sleep(1), a program without libhel, in its place
 *   calls    making Hel calls (helNop) one after the other
 *   exit     not at all: it exits 0 (the emulator's normal exit is tested)
 */
#include <hel.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hq.h"

static void report(void)
{
	printf("%d\n", (int)getpid());
	fflush(stdout);
}

static int stay(const char *state, struct hq *q)
{
	if (!strcmp(state, "exit")) {
		report();
		return 0;
	}
	if (!strcmp(state, "sleep")) {
		report();
		for (;;)
			sleep(1000);
	}
	if (!strcmp(state, "compute")) {
		volatile unsigned long spin = 0;
		report();
		for (;;)
			spin++;
	}
	if (!strcmp(state, "read")) {
		int p[2];
		char c;
		if (pipe(p))
			return 3;
		report();
		/* We hold the write end ourselves: no EOF ever comes. */
		while (read(p[0], &c, 1) >= 0)
			;
		return 4;
	}
	if (!strcmp(state, "stop")) {
		report();
		for (;;)
			raise(SIGSTOP);
	}
	if (!strcmp(state, "futex")) {
		report();
		/* Nothing is ever submitted: this waits in helFutexWait until death. */
		for (;;)
			hq_next(q, -1);
	}
	if (!strcmp(state, "calls")) {
		report();
		for (;;)
			HEL_CHECK(helNop());
	}
	if (!strcmp(state, "exec")) {
		report();
		execlp("sleep", "sleep", "1000", (char *)NULL);
		return 7;
	}
	fprintf(stderr, "orphan_victim: unknown state %s\n", state);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: orphan_victim STATE [fork]\n");
		return 2;
	}
	struct hq q;
	HEL_CHECK(hq_open(&q, 2, 2, 256));
	if (argc > 2 && !strcmp(argv[2], "fork")) {
		pid_t pid = fork();
		if (pid < 0)
			return 5;
		if (pid > 0) {
			int status;
			while (waitpid(pid, &status, 0) < 0)
				;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 6;
		}
		/* The child makes a call of its own: it is a program of the emulator. */
		HEL_CHECK(helSubmitAsyncNop(q.handle, 1));
	}
	return stay(argv[1], &q);
}
