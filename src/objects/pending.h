/*
 * The operations a program has pending (stream submissions, clock and event
 * waits, registry lookups).  Each is listed with the program that submitted
 * it, so that when the program dies (or execs) every one of them can be
 * discarded at once: it completes nothing, never matches a peer's item again,
 * and releases what it holds (lanes, queues, universes), so that peers see
 * the end of the lane and the program's objects are freed.
 *
 * The list also bounds how many operations one program may keep pending.
 */
#ifndef HH_PENDING_H
#define HH_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hh_pending_list;
struct hh_object;

/* What a pending operation waits for: for the state dump and the hang report. */
enum hh_wait_kind {
	HH_WAIT_BUSY,           /* under way (a transfer, a mapping): it ends by itself */
	HH_WAIT_CLOCK,          /* a deadline: it ends by itself */
	HH_WAIT_LANE,           /* an item of whoever holds the other lane */
	HH_WAIT_EVENT,          /* helRaiseEvent by whoever holds the event */
	HH_WAIT_NAME,           /* helhost_publish of a name, with no deadline */
	HH_WAIT_THREAD,         /* a created thread's next stop */
};

struct hh_wait {
	enum hh_wait_kind kind;
	uint32_t call;                  /* the Hel call that submitted it */
	uint64_t context;
	struct hh_object *object;       /* LANE: the stream; EVENT: the event; else NULL */
	int lane;                       /* LANE: the lane the waiting item was sent on */
	int action;                     /* LANE: its kHelAction* */
	uint64_t deadline;              /* CLOCK: hh_now() nanoseconds */
	const char *name;               /* NAME */
};

struct hh_pending {
	struct hh_pending *next, **prev;
	struct hh_pending_list *list;   /* NULL while not listed */
	/* Drop the operation without completing it; it unlists itself. */
	void (*discard)(struct hh_pending *p);
	/* Say what it waits for; NULL (the default) counts as HH_WAIT_BUSY. */
	void (*describe)(const struct hh_pending *p, struct hh_wait *w);
};

struct hh_pending_list {
	struct hh_pending *head;
	size_t count;
	int pidfd;                      /* the owner's, to see its death before the loop does */
};

/* True when l may take n more operations (HELHOST_MAX_PENDING, quota.h). */
bool hh_pending_room(const struct hh_pending_list *l, size_t n);

void hh_pending_add(struct hh_pending_list *l, struct hh_pending *p,
		void (*discard)(struct hh_pending *p));
/* What p waits for. */
void hh_pending_describe(const struct hh_pending *p, struct hh_wait *w);
/* The operation completed (or was cancelled): unlist it.  Harmless if not listed. */
void hh_pending_remove(struct hh_pending *p);
/* The program is gone: discard every operation it has pending. */
void hh_pending_discard_all(struct hh_pending_list *l);
/*
 * Before an operation of l is matched or cancelled: if its program has
 * exited, even if the loop has not seen that yet, discard all of l now and
 * return true.  So a peer that saw the program die (it waited for it) never
 * gets an answer from it afterwards.
 */
bool hh_pending_owner_died(struct hh_pending_list *l);

#endif
