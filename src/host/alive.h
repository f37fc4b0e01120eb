/*
 * The emulator's life sign.  A page shared with every program holds a word
 * that the emulator owns as a robust futex: when the emulator dies, however
 * it dies, Linux marks the word FUTEX_OWNER_DIED and wakes a waiter.  The
 * shims wait on it next to every helFutexWait, so a program blocked on its
 * queue learns that its kernel is gone and ends, instead of hanging.
 */
#ifndef HH_ALIVE_H
#define HH_ALIVE_H

/* Create the page and register the robust futex; returns 0 or -errno. */
int hh_alive_init(void);
/* The memfd to hand to programs. */
int hh_alive_fd(void);

#endif
