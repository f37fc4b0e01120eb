/*
 * Fields of /proc/PID/stat, which the emulator reads to tell processes
 * apart: a claimant's parent (fork images) and a program's start time (the
 * watchdog's check against reused pids).
 */
#ifndef HH_PROCSTAT_H
#define HH_PROCSTAT_H

#include <stdint.h>
#include <sys/types.h>

#define HH_STAT_PPID 4
#define HH_STAT_START_TIME 22   /* clock ticks since boot */

/* Numeric field of pid's stat (counted from 1 as in proc(5); 4 or later); 0 if it is gone. */
uint64_t hh_procstat_field(pid_t pid, int field);

#endif
