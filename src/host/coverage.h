/*
 * Coverage builds only (make coverage): a process the emulator forked
 * writes its gcov counters before it execs or _exits.  Neither runs the
 * exit handlers that would write them, so without this the code between
 * fork and exec (launcher.c, isolate.c), the watchdog's sweep and the
 * auto-started emulator's first process (main.c) would count as never
 * run, though the tests run it.
 */
#ifndef HH_COVERAGE_H
#define HH_COVERAGE_H

#ifdef HELHOST_COVERAGE
void __gcov_dump(void);
#define hh_coverage_write() __gcov_dump()
#else
#define hh_coverage_write() ((void)0)
#endif

#endif
