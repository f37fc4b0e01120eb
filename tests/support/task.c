#include "task.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Only a guard against a hang: a thread that is about to wait gets there at once. */
#define SAFETY_MS 20000

static bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	size_t n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = 0;
	return n > 0;
}

bool task_in_futex_sleep(pid_t pid, pid_t tid)
{
	char path[64], text[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (!read_file(path, text, sizeof(text)))
		return false;
	/* The name in parentheses may hold anything: the state follows the last ')'. */
	const char *close = strrchr(text, ')');
	if (!close || close[1] != ' ' || close[2] != 'S')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	if (!read_file(path, text, sizeof(text)))
		return false;
	long nr = strtol(text, NULL, 10);
	return nr == SYS_futex || nr == SYS_futex_waitv;
}

void await_futex_sleep(pid_t pid, pid_t tid)
{
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 200000 };
	for (long waited_us = 0; !task_in_futex_sleep(pid, tid); waited_us += 200) {
		ck_assert_msg(waited_us < SAFETY_MS * 1000l, "thread %d of %d never slept in a futex",
				(int)tid, (int)pid);
		nanosleep(&pause, NULL);
	}
}

static void *waiter_main(void *arg)
{
	struct futex_waiter *w = arg;
	__atomic_store_n(&w->tid, gettid(), __ATOMIC_RELEASE);
	w->error = helFutexWait(w->word, w->expected, kHelWaitInfinite);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

void futex_waiter_start(struct futex_waiter *w, int *word, int expected)
{
	*w = (struct futex_waiter){ .word = word, .expected = expected };
	ck_assert_int_eq(pthread_create(&w->thread, NULL, waiter_main, w), 0);
	struct timespec pause = { .tv_sec = 0, .tv_nsec = 200000 };
	for (long waited_us = 0; !__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE); waited_us += 200) {
		ck_assert_msg(waited_us < SAFETY_MS * 1000l, "the waiting thread never started");
		nanosleep(&pause, NULL);
	}
	await_futex_sleep(getpid(), w->tid);
}

void futex_waiter_join(struct futex_waiter *w)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += SAFETY_MS / 1000;
	int r = pthread_timedjoin_np(w->thread, NULL, &until);
	ck_assert_msg(r == 0, "the waiting thread was not woken (%s)", strerror(r));
	ck_assert(__atomic_load_n(&w->done, __ATOMIC_ACQUIRE));
}
