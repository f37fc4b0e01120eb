/*
 * Whether a thread is asleep in a futex wait, read from /proc (the state
 * letter in .../task/TID/stat and the call in .../task/TID/syscall), so that
 * a test knows a waiter really blocked before it wakes it, instead of
 * sleeping for a while and hoping.  Failures are reported with Check.
 */
#ifndef HH_TEST_TASK_H
#define HH_TEST_TASK_H

#include <hel.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

/* Thread tid of process pid sleeps in futex() or futex_waitv() right now. */
bool task_in_futex_sleep(pid_t pid, pid_t tid);

/* Wait until it does; fails the test after a generous safety deadline. */
void await_futex_sleep(pid_t pid, pid_t tid);

/* A thread of the test blocked in helFutexWait(word, expected, kHelWaitInfinite). */
struct futex_waiter {
	int *word;
	int expected;
	pid_t tid;
	int done;
	HelError error;
	pthread_t thread;
};

/* Start the waiter; returns once it sleeps in the futex. */
void futex_waiter_start(struct futex_waiter *w, int *word, int expected);

/* Its wait has ended and it is joined (fails the test after the safety deadline). */
void futex_waiter_join(struct futex_waiter *w);

#endif
