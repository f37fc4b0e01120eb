/*
 * The hang report: when every thread of every live program sleeps for good
 * (in a futex wait with no timeout, or stopped for helResume) and no pending
 * operation can end by itself (a deadline, work under way), nothing can ever
 * run again.  The emulator says so once, with each thread's futex word, each
 * operation's wait and who holds the other end (a deadlock cycle, a dead
 * peer, a lost wake-up), and optionally ends the run.  docs/GUIDE.md.
 */
#ifndef HH_HANG_H
#define HH_HANG_H

#include <stdbool.h>

enum hh_hang_mode {
	HH_HANG_OFF,
	HH_HANG_REPORT,         /* say so, and serve on (a debugger may come) */
	HH_HANG_FAIL,           /* say so, and end the run with failure */
};

/*
 * Start looking, once a second, in the mode HELHOST_HANG names (report,
 * fail, off), else in `fallback`.  0 or -EINVAL.  After hh_loop_init().
 */
int hh_hang_init(enum hh_hang_mode fallback);
/* A hang was found in HH_HANG_FAIL mode: the run must end. */
bool hh_hang_failed(void);

#endif
