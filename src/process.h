/*
 * Programs: the Linux processes the emulator serves.  Each has a universe
 * (its threads' handle table) and an address space.  A program's fork child
 * becomes a new program whose universe and space are copies of its parent's
 * at the fork; an exec starts the program afresh.
 */
#ifndef HH_PROCESS_H
#define HH_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "pending.h"
#include "usermem.h"

struct hh_universe;
struct hh_space;
struct hh_thread;

/* A program's universe and space as they were when it forked. */
struct hh_fork_image {
	struct hh_fork_image *next;
	uint64_t id;
	struct hh_universe *universe;
	struct hh_space *space;
};

struct hh_process {
	struct hh_process *next;
	pid_t pid;
	int pidfd;
	struct hh_watcher exit_watch;
	char name[32];
	uint64_t image_nonce;
	struct hh_universe *universe;   /* NULL until the first registration */
	struct hh_space *space;
	struct hh_thread *threads;
	struct hh_usermem mem;          /* its memory, for the emulator's copies */
	struct hh_pending_list pending; /* operations it submitted that have not completed */
	bool launched;                  /* a child of `helhost run`: its status counts */
	bool exited;
	int status;                     /* exit code (128 + signal when killed) */
};

/* A program `helhost run` started; pidfd is taken over. */
struct hh_process *hh_process_launched(pid_t pid, int pidfd, const char *name);
struct hh_process *hh_process_find(pid_t pid);

/*
 * A program is about to fork: copy its universe and space now, so that the
 * child starts from the state at the fork.  Returns the image's id, or 0.
 */
uint64_t hh_process_fork_prepare(struct hh_process *p);

/*
 * A thread of pid registers: find its program or make it.  A fork child
 * names the fork image its parent prepared (the image outlives the parent);
 * an unknown pid without one, or a known pid with a new image nonce (exec),
 * starts empty.  pidfd is taken over when a new program is made, else closed.
 */
struct hh_process *hh_process_register(pid_t pid, int pidfd, uint64_t fork_image,
		uint64_t nonce, uint64_t arena_base, uint64_t arena_len);

/*
 * The stub process behind a created thread (native.c): a program record
 * whose universe and space are the thread's, so that its Hel calls decode
 * like any program's.  pidfd is taken over.  Ends like a program.
 */
struct hh_process *hh_process_stub(pid_t pid, int pidfd, const char *name,
		struct hh_universe *universe, struct hh_space *space);

/*
 * True once p has exited, even if the loop has not seen its pidfd yet: for
 * answers that must not depend on that race (a dead server's name).
 */
bool hh_process_gone(const struct hh_process *p);

/* True while any launched program has not exited yet. */
bool hh_process_any_launched_alive(void);
/* The first non-zero exit status of a launched program, else 0. */
int hh_process_exit_code(void);
/* End every program still known (the emulator is going away). */
void hh_process_kill_all(void);

#endif
