/*
 * Threads.  Every Linux thread of a hosted program that makes a Hel call is a
 * Hel thread: it registers its call page at its first call and is known by
 * the token the emulator gives it.  A thread pidfd tells when it has ended.
 *
 * Threads made by helCreateThread run in a stub process (native.c) and have
 * the life of OBJECTS.md §5: stops counted by a sequence number, observers
 * waiting for the next stop, and handles whose last close kills the thread.
 */
#ifndef HH_THREAD_H
#define HH_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "callpage.h"
#include "loop.h"
#include "object.h"
#include "stream.h"

struct hh_process;
struct hh_native;
struct hh_observer;
struct hh_queue;
struct hh_pending_list;

struct hh_queue;

struct hh_thread {
	struct hh_object base;
	struct hh_process *proc;        /* NULL once the thread has ended */
	struct hh_thread *next_in_proc;
	pid_t tid;
	int pidfd;
	struct hh_watcher exit_watch;
	struct hh_callpage *page;       /* the emulator's mapping of the call page */
	int sock;                       /* our end of the socketpair that carries memfds to it */
	uint64_t token;
	unsigned char credentials[16];
	struct hh_stage stage;          /* a received message it writes itself (callpage.h) */
	uint32_t ring_head;             /* its ring (callpage.h): bytes consumed, our own count */
	bool ring_dead;                 /* abandoned: garbage was found in it */
	/* Its last drained submission's queue (referenced) and posts before it: see src/host/ring.c. */
	struct hh_queue *ring_results;
	uint64_t ring_results_posts;

	/* Threads from helCreateThread only. */
	struct hh_native *native;       /* the stub process; NULL once it is gone */
	uint64_t sequence;              /* OBJECTS.md §5.2; starts at 1 */
	uint32_t observation;           /* the last one */
	bool stopped;                   /* halted until helResume */
	bool terminated;
	uint32_t handles;               /* active references (§5.9) */
	void (*last_handle_closed)(struct hh_thread *t);        /* kills it */
	void (*handle_dropped)(struct hh_thread *t);    /* any handle closed: drops its image page */
	struct hh_observer *observers;  /* waiting for the next stop or the end */
};

/*
 * Create and register a thread of proc; page is the mapped call page and sock
 * the thread's socket (both taken over on success).
 */
struct hh_thread *hh_thread_register(struct hh_process *proc, pid_t tid, struct hh_callpage *page,
		int sock);
/* The registered thread for a token, or NULL. */
struct hh_thread *hh_thread_by_token(uint64_t token);
/* The thread has ended (or its program has): forget it. */
void hh_thread_ended(struct hh_thread *t);
/* fn runs as a registered thread ends, while its call page is still mapped (src/host/ring.c). */
void hh_thread_on_end(void (*fn)(struct hh_thread *t));

/*
 * A thread for helCreateThread, stopped with sequence 1 and fresh
 * credentials; native.c gives it its stub.  NULL without memory.
 */
struct hh_thread *hh_thread_new_native(void);
/*
 * helSubmitObserve (§5.3): complete into q now, or when the thread next
 * stops or ends.  The observer is allocated here: false without memory.
 */
bool hh_thread_observe(struct hh_thread *t, uint64_t sequence, struct hh_queue *q,
		uint64_t context, struct hh_pending_list *owner);
/* The thread stopped with an observation: a new sequence, observers complete. */
void hh_thread_stop(struct hh_thread *t, uint32_t observation);
/* The thread will never run again: observers complete with kHelErrThreadTerminated. */
void hh_thread_terminate(struct hh_thread *t);

static inline struct hh_thread *hh_thread_of(struct hh_object *obj)
{
	return (struct hh_thread *)obj;
}

#endif
