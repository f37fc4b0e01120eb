/*
 * Programs: the Linux processes the emulator serves.  Each has a universe
 * (its threads' handle table) and an address space.  A program's fork child
 * becomes a new program whose universe and space are copies of its parent's
 * at the fork; an exec starts the program afresh.
 */
#ifndef HH_PROCESS_H
#define HH_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "loop.h"
#include "pending.h"
#include "usermem.h"

struct hh_universe;
struct hh_space;
struct hh_thread;
struct hh_process;
struct hh_faults;
struct hh_ring_proc;

/* A program's universe and space as they were when it forked. */
struct hh_fork_image {
	struct hh_fork_image *next;
	uint64_t id;                    /* random: the secret the child claims it with */
	struct hh_process *parent;      /* NULL once the parent has exited */
	uint64_t expires;               /* parent exited: freed at this hh_now() */
	struct hh_universe *universe;
	struct hh_space *space;
};

struct hh_process {
	struct hh_process *next;
	pid_t pid;
	int pidfd;
	size_t watch_slot;              /* its line in the watchdog's table, or 0 */
	struct hh_watcher exit_watch;
	char name[32];
	uint64_t image_nonce;
	struct hh_universe *universe;   /* NULL until the first registration */
	struct hh_space *space;
	struct hh_thread *threads;
	struct hh_usermem mem;          /* its memory, for the emulator's copies */
	struct hh_faults *faults;       /* its userfaultfd for managed memory (faults.c), or NULL */
	struct hh_pending_list pending; /* operations it submitted that have not completed */
	struct hh_ring_proc *ring;      /* its image's ring page (src/host/ring.c), or NULL */
	bool launched;                  /* a child of `helhost run`: its status counts */
	int index;                      /* launched: its place on the command line, from 1 */
	bool service;                   /* launched to serve the others (--mbus): the run ends without it */
	bool exited;
	int status;                     /* exit code (128 + signal when killed) */
	uint32_t last_call;             /* the last Hel call the emulator served it, or 0 */
	pid_t last_call_tid;            /* and the thread that made it */
};

/* The index-th program `helhost run` started; pidfd is taken over. */
struct hh_process *hh_process_launched(pid_t pid, int pidfd, const char *name, int index);
struct hh_process *hh_process_find(pid_t pid);

/*
 * A program is about to fork: copy its universe and space now, so that the
 * child starts from the state at the fork.  Returns the image's id (random,
 * never 0), or 0.  At most 64 images of one parent wait: a new one replaces
 * the oldest.
 */
uint64_t hh_process_fork_prepare(struct hh_process *p);
/* How many fork images wait to be claimed (a debug query for tests). */
size_t hh_process_fork_images(void);

/*
 * A thread of pid registers: find its program or make it.  A fork child
 * names the fork image its parent prepared; the claim is accepted from a
 * child of the living parent, or with any parent for a second after the
 * parent exited.  An unknown pid without a valid claim, or a known pid with
 * a new image nonce (exec), starts empty.  pidfd is taken over when a new
 * program is made, else closed.
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

/*
 * The launched program pid serves the others (mbus): the run does not wait
 * for it, kills it at the end, and its status does not count.
 */
void hh_process_make_service(pid_t pid);
/* The first program known (then ->next), for the state dump. */
struct hh_process *hh_process_list(void);
/* True while any launched program other than a service has not exited yet. */
bool hh_process_any_launched_alive(void);
/* The first non-zero exit status of a launched program, else 0. */
int hh_process_exit_code(void);
/* The launched program that failed first, or NULL. */
const struct hh_process *hh_process_first_failure(void);
/*
 * Called with each launched program's end, once its status is known
 * (`helhost run` reports it; unit tests and auto-start need no hook).
 */
void hh_process_on_launched_exit(void (*fn)(const struct hh_process *p, const siginfo_t *info));
/* fn runs as a program's image goes (exit, exec), first thing, while its universe is there. */
void hh_process_on_image_gone(void (*fn)(struct hh_process *p));
/* End every program still known and drop the fork images (the emulator is going away). */
void hh_process_kill_all(void);

#endif
