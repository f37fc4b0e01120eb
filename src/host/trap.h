/*
 * The seccomp transport: turns a user notification into a call on the
 * decode layer and sends the reply.  One listener per filter; a filter
 * covers one program and the programs it forks.
 */
#ifndef HH_TRAP_H
#define HH_TRAP_H

#include <stddef.h>

/* Serve the notifications of a listener fd (taken over). Returns the listener or NULL. */
void *hh_trap_listen(int fd);
/* Listeners that still have programs behind them. */
size_t hh_trap_open_listeners(void);
/* The emulator is exiting: stop listening (the loop is no longer run). */
void hh_trap_close_all(void);

#endif
