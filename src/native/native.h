/*
 * The native path: threads made by helCreateThread.  Each such thread runs
 * in a stub process (helhost-stub, see stubpage.h) that the emulator ptraces
 * with PTRACE_SYSEMU, so that every `syscall` its code executes stops it and
 * is served as a Hel call in Managarm's register convention (ABI.md §5);
 * none reaches Linux.  Faults arrive as signals and become observations.
 * The stub's memory is its space's mappings, carried out by the stub itself
 * when the emulator points it at its command loop.
 *
 * Stops are waited for without blocking the loop: SIGCHLD arrives through a
 * signalfd, and each live stub is polled with waitpid(WNOHANG).  Starting a
 * stub and changing its mappings wait for the stub itself (a fork and exec,
 * or a few mmaps of its own), which is bounded; see docs/THREADS.md.
 */
#ifndef HH_NATIVE_H
#define HH_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "hel.h"
#include "space.h"

struct hh_process;
struct hh_thread;
struct hh_universe;

/*
 * Give t (from hh_thread_new_native) a stub running in space with universe,
 * stopped at ip/sp with thor's initial registers (OBJECTS.md §5.1).  The
 * thread dies with the program behind owner_pidfd (its creator), as a
 * thread's universe may hold the thread's own handle.  kHelErrNoMemory
 * when no stub can be started.
 */
HelError hh_native_start(struct hh_thread *t, int owner_pidfd, struct hh_universe *universe,
		struct hh_space *space, uint64_t ip, uint64_t sp);
/*
 * Give t a thread of proc's own with universe, stopped at ip/sp with
 * thor's initial registers.  libhel's words name it: the tid the program
 * calls it, its block and the program's socket for memfds (hh_own_block).
 * On failure *why says why.
 */
HelError hh_native_start_own(struct hh_thread *t, struct hh_process *proc,
		struct hh_universe *universe, const uint64_t libhel[3], uint64_t ip, uint64_t sp,
		const char **why);
/* t, in its program's own space and stopped in a call, carries out plan there. */
void hh_native_apply_own(struct hh_thread *t, const struct hh_space *space,
		const struct hh_mm_plan *plan);
/* True for a thread in a hosted program's own space. */
bool hh_native_is_own(const struct hh_thread *t);
/* A stopped thread runs again (§5.6); the caller has checked its state. */
void hh_native_resume(struct hh_thread *t);
/*
 * helInterruptThread (§5.7): the thread stops with kHelObserveInterrupt at
 * the end of its next Hel call; a helFutexWait it sleeps in ends now.
 */
void hh_native_interrupt(struct hh_thread *t);
/* End the thread now (§5.8); observers learn it at once. */
void hh_native_kill(struct hh_thread *t);

/*
 * The saved register image of a stopped thread in Hel's layout (ABI.md
 * §3.5): kHelErrIllegalArgs for a set that threads do not have.
 */
HelError hh_native_load(struct hh_thread *t, int set, void *image, size_t *size);
HelError hh_native_store(struct hh_thread *t, int set, const void *image);
/* Bytes of a register set's image, or 0 for a set threads do not have. */
size_t hh_native_set_size(int set);
/*
 * The memfd of t's register image page (callpage.h), made now if t has
 * none: kHelErrThreadTerminated once t is gone, kHelErrNoMemory.
 */
HelError hh_native_image(struct hh_thread *t, int *fd);

/* space changed: carry plan out in every stub that runs in it. */
void hh_native_apply(const struct hh_space *space, const struct hh_mm_plan *plan);

#endif
