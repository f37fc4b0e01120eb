/*
 * A program for `helhost run` tests: makes a few Hel calls, then exits with
 * the status given as argv[1] (default 0).  With "fork" as argv[2] it first
 * forks a child whose Hel calls must reach the same emulator, with a copy of
 * the parent's handles; with "orphan" it leaves a forked child blocked on
 * its queue behind, which `helhost run` must end when the run ends, and
 * prints "orphan PID" so that tests can find exactly that process.
 */
#include <hel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hq.h"

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;
	struct hq q;
	HEL_CHECK(hq_open(&q, 2, 2, 256));
	HEL_CHECK(helSubmitAsyncNop(q.handle, 42));
	struct HelElement *e = hq_next(&q, hq_deadline_ms(20000));
	if (!e || (uintptr_t)e->context != 42)
		return 100;
	if (argc > 2 && !strcmp(argv[2], "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			/* The child's copy of the universe has the same queue handle. */
			HEL_CHECK(helSubmitAsyncNop(q.handle, 43));
			e = hq_next(&q, hq_deadline_ms(20000));
			_exit(e && (uintptr_t)e->context == 43 ? 0 : 101);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			return 102;
	}
	if (argc > 2 && !strcmp(argv[2], "orphan")) {
		pid_t pid = fork();
		if (pid == 0) {
			hq_next(&q, -1);
			_exit(0);
		}
		if (pid < 0)
			return 103;
		printf("orphan %d\n", (int)pid);
		fflush(stdout);
	}
	const char msg[] = "run_child says hello";
	HEL_CHECK(helLog(kHelLogSeverityInfo, msg, sizeof(msg) - 1));
	return status;
}
