/*
 * The ring transport: submissions a program posts without a trap
 * (struct hh_ring in callpage.h), drained by the emulator before any call,
 * before any handle leaves a universe, before it sleeps and before a
 * program's image goes.  The second way into the decode layer for the
 * shim, next to trap.c.
 */
#ifndef HH_RING_H
#define HH_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callpage.h"
#include "loop.h"

struct hh_process;
struct hh_thread;

/* A process image's ring page and wake eventfd (hh_process.ring). */
struct hh_ring_proc {
	struct hh_procpage *page;       /* our mapping; the program writes it too */
	int memfd;
	int wake_fd;                    /* an eventfd the program writes to wake us (sleeping) */
	struct hh_watcher wake;
	uint64_t wake_count;            /* read buffer of the armed eventfd read */
	uint64_t epoch;                 /* ours; the page's copy is only what the program reads */
	uint32_t seen_doorbell;
	uint32_t drained;               /* entries drained, ours; published in the page */
	struct hh_ring_proc *next_gone; /* its image gone, waiting for its read's cancellation */
};

/* Hooks into the loop, the universes, the threads and the processes. */
void hh_ring_init(void);

/*
 * p's ring page and eventfd, made at its first registration that asks
 * (want_ring): the emulator's fds, for the transport to install in the
 * program.  Returns 0 or -errno.
 */
int hh_ring_proc_fds(struct hh_process *p, int *memfd, int *wake_fd);

/* Drain every ring of every process whose doorbell moved (before any call); true if any entry was. */
bool hh_ring_drain_all(void);
/* Drain t's ring whatever the doorbell says (HH_CALL_RING_SYNC). */
void hh_ring_drain_thread(struct hh_thread *t);
/* p's image goes (exit, exec): drain its rings, then drop its ring page. */
void hh_ring_proc_gone(struct hh_process *p);
/* Entries of p's rings that libhel has made room for and we have not drained (callpage.h). */
size_t hh_ring_reserved(const struct hh_process *p);
/*
 * The queue of t's last drained submission and its posts before it, into
 * c (HH_CALL_RING_SYNC), so that hh_call_awaits_result() tells whether the
 * caller will only wait for its result.
 */
struct hh_call;
void hh_ring_take_results(struct hh_thread *t, struct hh_call *c);
/* Tell p's libhel how many operations p has pending (after each call, before the answer). */
void hh_ring_publish(struct hh_process *p);
/* Bytes published in t's ring and not yet drained (state dump, status). */
uint32_t hh_ring_undrained(const struct hh_thread *t);

/*
 * The entry at head of a ring whose producer published tail: 0 when the
 * ring is empty, -1 when the indices or the entry's size are garbage,
 * else the entry's size, with its header copied to *hdr (only size and
 * call for a padding entry).  Reads each shared word once.
 */
int hh_ring_next(const unsigned char *data, uint32_t head, uint32_t tail, struct hh_ring_entry *hdr);

#endif
