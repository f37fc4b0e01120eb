/*
 * The watchdog: a small process that ends every program when the emulator
 * dies, of any cause, SIGKILL included.  It shares the emulator's file
 * descriptor table (clone with CLONE_FILES), so it holds every pidfd the
 * emulator holds at the moment it dies, and Linux tells it of that death
 * (PR_SET_PDEATHSIG).  It then sends SIGKILL through every pidfd in the
 * table and exits.  It makes no Hel call and is no program.
 */
#ifndef HH_WATCHDOG_H
#define HH_WATCHDOG_H

/*
 * Start the watchdog.  Call it early (before the emulator maps much: the
 * watchdog gets a copy of the address space as it is) and from the thread
 * that stays (the parent-death signal follows the creating thread).
 * Returns 0 or -errno.
 */
int hh_watchdog_start(void);

/*
 * The emulator is exiting normally and has already ended its programs:
 * end the watchdog and reap it, so that it outlives nothing.
 */
void hh_watchdog_stop(void);

#endif
