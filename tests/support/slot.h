/*
 * For tests of the polled slot and what rides on it (src/callpage.h):
 * where libhel mapped one of its memfds, this thread's call page, and the
 * CPUs a test allows itself (and the emulator it starts at its first call),
 * and the emulator's pid and state.
 */
#ifndef HH_TEST_SLOT_H
#define HH_TEST_SLOT_H

#include <check.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/types.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "callpage.h"

/* The start of our mapping of the memfd called name. */
static inline unsigned long mapping_of(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "re");
	ck_assert_ptr_nonnull(f);
	char line[512];
	unsigned long lo = 0;
	while (!lo && fgets(line, sizeof(line), f))
		if (!strstr(line, name) || sscanf(line, "%lx-", &lo) != 1)
			lo = 0;
	fclose(f);
	ck_assert_uint_ne(lo, 0);
	return lo;
}

/* This thread's call page (there is one per registered thread). */
static inline const struct hh_callpage *own_page(void)
{
	return (const struct hh_callpage *)mapping_of("helhost-call-page");
}

/* Allow this process (and an emulator it starts later) only the first n CPUs of from; how many. */
static inline int allow_cpus_of(const cpu_set_t *from, int n)
{
	cpu_set_t want;
	CPU_ZERO(&want);
	int got = 0;
	for (int c = 0; c < CPU_SETSIZE && got < n; c++)
		if (CPU_ISSET(c, from)) {
			CPU_SET(c, &want);
			got++;
		}
	ck_assert_int_eq(sched_setaffinity(0, sizeof(want), &want), 0);
	return got;
}

/* Allow this process (and an emulator it starts) only the first n CPUs it may use now. */
static inline int allow_cpus(int n)
{
	cpu_set_t now;
	ck_assert_int_eq(sched_getaffinity(0, sizeof(now), &now), 0);
	return allow_cpus_of(&now, n);
}

/* The emulator serving us: the owner of its life-sign word (src/alive.h), mapped by libhel. */
static inline pid_t emulator_pid(void)
{
	unsigned long alive = mapping_of("helhost-alive");
	return (pid_t)(*(volatile uint32_t *)(alive + HH_ALIVE_WORD_OFFSET) & FUTEX_TID_MASK);
}

/* The emulator's state letter in /proc/PID/stat (after the command's parenthesis). */
static inline char state_of(pid_t pid)
{
	char path[64], text[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	const char *close = strrchr(text, ')');
	ck_assert_ptr_nonnull(close);
	return close[2];
}

/* CPU time (ns) of pid's main thread (the emulator has one), from schedstat. */
static inline uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "re");
	ck_assert_ptr_nonnull(f);
	unsigned long long ns = 0;
	ck_assert_int_eq(fscanf(f, "%llu", &ns), 1);
	fclose(f);
	return ns;
}

#endif
