/*
 * Threads.  Every Linux thread of a hosted program that makes a Hel call is a
 * Hel thread: it registers its call page at its first call and is known by
 * the token the emulator gives it.  A thread pidfd tells when it has ended.
 */
#ifndef HH_THREAD_H
#define HH_THREAD_H

#include <stdint.h>
#include <sys/types.h>

#include "callpage.h"
#include "loop.h"
#include "object.h"

struct hh_process;

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

static inline struct hh_thread *hh_thread_of(struct hh_object *obj)
{
	return (struct hh_thread *)obj;
}

#endif
