#include "task.h"

#include <check.h>
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
