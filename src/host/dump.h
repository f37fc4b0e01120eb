/*
 * The state dump: SIGUSR1 to the emulator prints, on stderr, every program
 * with its threads, handles (with the type of what they name) and pending
 * operations, and the registry's names.  For a run that seems stuck.
 * SIGUSR2 turns the trace on or off in a running emulator.
 */
#ifndef HH_DUMP_H
#define HH_DUMP_H

#include <stdio.h>

#include "hel.h"
#include "pending.h"

struct hh_object;
struct hh_process;

/* Block SIGUSR1 and SIGUSR2 and serve them from the loop; 0 or -errno.  After hh_loop_init(). */
int hh_dump_init(void);
void hh_dump_print(FILE *f);
/* A live program holding obj (for a stream: its lane `lane`; -1: any), with its handle; or NULL. */
const struct hh_process *hh_dump_holder(const struct hh_object *obj, int lane, HelHandle *handle);
/*
 * One line: what p's pending operation w waits for, and for a lane who holds
 * the other end.  Returns that holder (NULL if none, or not a lane).
 */
const struct hh_process *hh_dump_wait(FILE *f, const struct hh_process *p, const struct hh_wait *w);

#endif
