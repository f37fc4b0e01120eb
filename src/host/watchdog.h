/*
 * The watchdog: a small process that ends every program when the emulator
 * dies, of any cause, SIGKILL included.  Linux tells it of that death
 * (PR_SET_PDEATHSIG); it then SIGKILLs every program listed in a table that
 * it shares with the emulator (a MAP_SHARED page range made before the
 * fork), and exits.  The emulator lists a program before it first answers
 * it and unlists it once it has seen it exit.  The watchdog makes no Hel
 * call and is no program.
 */
#ifndef HH_WATCHDOG_H
#define HH_WATCHDOG_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Start the watchdog.  Call it early (the watchdog gets a copy of the
 * address space as it is) and from the thread that stays (the parent-death
 * signal follows the creating thread).  Returns 0 or -errno.
 */
int hh_watchdog_start(void);

/*
 * List pid for the watchdog to kill.  Returns the slot to unlist it with,
 * or 0 when it could not be listed (no watchdog, a full table, a process
 * already gone).
 */
size_t hh_watchdog_add(pid_t pid);
/* pid's program has exited; slot 0 does nothing. */
void hh_watchdog_remove(size_t slot);

/*
 * The emulator is exiting normally and has already ended its programs:
 * end the watchdog and reap it, so that it outlives nothing.
 */
void hh_watchdog_stop(void);

#endif
