/*
 * Per-program limits (docs/RELIABILITY.md, "Limits and starvation"): how many
 * bytes of memory objects and how many memfds a program may hold, how many
 * operations it may have pending, how many handles a universe may hold, and the emulator-wide budget of memfds that
 * keeps enough file descriptors free for registering threads.
 *
 * An account is what one program has allocated.  Objects charge the account
 * of the program that made them and keep it alive until they are gone, so a
 * program that dies leaves its account to its objects (which another program
 * may still hold).
 */
#ifndef HH_QUOTA_H
#define HH_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"

struct hh_limits {
	uint64_t memory_bytes;          /* HELHOST_MAX_MEMORY: bytes per program */
	uint64_t memfds;                /* HELHOST_MAX_MEMFDS: memfds per program */
	uint64_t handles;               /* HELHOST_MAX_HANDLES: descriptors per universe */
	uint64_t pending;               /* HELHOST_MAX_PENDING: pending operations per program */
	uint64_t memfd_budget;          /* all programs together: RLIMIT_NOFILE less a reserve */
};

/* Read the HELHOST_MAX_* variables and the fd limit; call once the fd limit is raised. */
void hh_limits_init(void);
/* Replace the limits (tests; `helhost run` options). */
void hh_limits_set(const struct hh_limits *l);
const struct hh_limits *hh_limits(void);

/* Parse a HELHOST_MAX_* value: a number with an optional K, M, G or T suffix (binary). */
int hh_limits_parse(const char *text, uint64_t *out);

struct hh_account {
	uint32_t refs;
	uint64_t bytes;                 /* of memory objects and queues */
	uint64_t memfds;
};

/* A fresh account with one reference; NULL without memory. */
struct hh_account *hh_account_new(void);
struct hh_account *hh_account_ref(struct hh_account *a);
void hh_account_unref(struct hh_account *a);

/* Would charging bytes and memfds to a stay within the limits? */
bool hh_account_fits(const struct hh_account *a, uint64_t bytes, uint64_t memfds);

/*
 * Charge bytes and memfds to a (NULL: nobody's, the emulator-wide budget
 * still applies to memfds).  kHelErrNoMemory, charging nothing, when that
 * would go over a limit.
 */
HelError hh_account_charge(struct hh_account *a, uint64_t bytes, uint64_t memfds);
void hh_account_release(struct hh_account *a, uint64_t bytes, uint64_t memfds);

/*
 * A memfd of size bytes that nobody can shrink (F_SEAL_SHRINK) nor seal any
 * further (F_SEAL_SEAL): the emulator maps it, and a program holding a copy
 * of the fd must not be able to make the emulator's accesses fault.  Returns
 * the fd or -1.  Counted in the emulator-wide budget: close it with
 * hh_memfd_close().
 */
int hh_memfd_create(const char *name, uint64_t size);
void hh_memfd_close(int fd);

/*
 * A memfd of size bytes for a memory object, not sealed yet: one of a's
 * spares when it has one, else a new one.  Seal it with hh_memfd_seal()
 * before its fd leaves the emulator: until then nobody else holds it, and
 * it may go back to the spares with hh_memfd_recycle().  -1 on failure.
 */
int hh_memfd_take(struct hh_account *a, uint64_t size);
/* Seal a taken memfd as hh_memfd_create() does; -1 on failure. */
int hh_memfd_seal(int fd);
/*
 * Done with a taken memfd of size bytes that was never sealed: emptied
 * (which frees its pages; one that holds no data keeps its length) and kept
 * as a spare of a while there is room, else closed.  An account's spares are
 * closed with it; at the budget's end, any account's spare serves whoever
 * needs a memfd.
 */
void hh_memfd_recycle(struct hh_account *a, int fd, uint64_t size);
/* Spare memfds kept now, all accounts together. */
unsigned hh_memfd_spares(void);

#endif
