/*
 * Page faults of programs on managed frontal memory, through userfaultfd.
 *
 * A program's mappings of frontal memory are registered (by its shim, since
 * a userfaultfd acts on the address space of the process that made it) with
 * one userfaultfd per program, which the shim hands to the emulator before
 * its first such mapping.  The emulator polls it in its loop, finds the
 * fault's mapping in the program's space and asks the managed object for
 * the page (managed.c); once the page is there, UFFDIO_CONTINUE maps it
 * (write-protected while it is clean, so that its first write is seen as
 * dirtying it).  A fault that can never be served (no pager any more,
 * kHelMapDontRequireBacking) ends with SIGBUS for the program.
 *
 * The emulator never waits for a fault itself: it reads the messages with
 * RWF_NOWAIT, and its own accesses to a program's memory that lie in a
 * frontal mapping go through its view of the memfd instead (usermem.h's
 * detour), only for pages that are there.
 */
#ifndef HH_FAULTS_H
#define HH_FAULTS_H

#include "hel.h"

struct hh_process;

/* The program's userfaultfd, its fd remote_fd: take a copy and serve it. */
HelError hh_faults_take(struct hh_process *p, int remote_fd);
/*
 * The program synchronizes, unmaps or re-protects [addr, addr+len) of its
 * space s: pages of frontal memory it wrote there ask for writeback.
 */
struct hh_space;
void hh_faults_sync(const struct hh_space *s, uint64_t addr, uint64_t len);
/*
 * The shim registered its mapping [addr, addr+len) of frontal memory: map
 * the pages that are there now, so that they do not fault one by one.
 */
void hh_faults_populate(struct hh_process *p, uint64_t addr, uint64_t len);
/* The program's image is gone: stop serving it; its waiting faults are dropped. */
void hh_faults_close(struct hh_process *p);

#endif
