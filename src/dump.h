/*
 * The state dump: SIGUSR1 to the emulator prints, on stderr, every program
 * with its threads, handles (with the type of what they name) and pending
 * operations, and the registry's names.  For a run that seems stuck.
 * SIGUSR2 turns the trace on or off in a running emulator.
 */
#ifndef HH_DUMP_H
#define HH_DUMP_H

#include <stdio.h>

/* Block SIGUSR1 and SIGUSR2 and serve them from the loop; 0 or -errno.  After hh_loop_init(). */
int hh_dump_init(void);
void hh_dump_print(FILE *f);

#endif
