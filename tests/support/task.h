/*
 * Whether a thread is asleep in a futex wait, read from /proc (the state
 * letter in .../task/TID/stat and the call in .../task/TID/syscall), so that
 * a test knows a waiter really blocked before it wakes it, instead of
 * sleeping for a while and hoping.  Failures are reported with Check.
 */
#ifndef HH_TEST_TASK_H
#define HH_TEST_TASK_H

#include <stdbool.h>
#include <sys/types.h>

/* Thread tid of process pid sleeps in futex() or futex_waitv() right now. */
bool task_in_futex_sleep(pid_t pid, pid_t tid);

/* Wait until it does; fails the test after a generous safety deadline. */
void await_futex_sleep(pid_t pid, pid_t tid);

#endif
