/* Forked children in a Check test: tied to the test, waited for with a time limit. */
#ifndef HH_TEST_CHILD_H
#define HH_TEST_CHILD_H

#include <check.h>
#include <stdio.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * fork(), with the child killed when the test process ends, so that a test
 * that fails half-way (Check ends its process) leaves no child behind.
 */
static inline pid_t fork_tied(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	/* The parent may have ended before the tie was made. */
	if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent))
		_exit(125);
	return pid;
}

/* Wait for pid to end, killing it (and failing) after ms; returns the wait status. */
static inline int wait_child(pid_t pid, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t end = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ms;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		ck_assert_int_eq(r, 0);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("child %d did not finish in time", (int)pid);
		}
		usleep(1000);
	}
}

/* In a forked child of a test: on failure, say where and exit 1. */
#ifndef CHILD_CHECK
#define CHILD_CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "child: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			_exit(1); \
		} \
	} while (0)
#endif

#endif
