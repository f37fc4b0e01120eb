/*
 * Threads in a hosted program's own space (helCreateThread with space
 * kHelNullHandle from a hosted program).  libhel makes a raw Linux thread
 * of the program, parked on a futex (shim/ownthread.c); the emulator
 * ptraces that one task and native.c drives it under PTRACE_SYSEMU like a
 * stub.  Its memory is the program's own: nothing to map.  Ending it must
 * not end the program (SIGKILL is process-wide): it is sent to an exit(2)
 * of its own instead.
 */
#ifndef HH_OWNTHREAD_H
#define HH_OWNTHREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "callpage.h"
#include "hel.h"

struct hh_process;
struct hh_mm_plan;
struct hh_space;

/* What the emulator keeps of a taken thread. */
struct hh_own {
	pid_t tid;              /* as the emulator sees it; 0: not an own-space thread */
	int sock;               /* our end of the program's socketpair for memfds */
	uint64_t exit_ip;       /* its exit(2) in libhel */
	uint64_t deadline_at;   /* where its futex(2) finds a helFutexWait's deadline */
	uint64_t block;         /* libhel's struct hh_own_block, in the program */
	struct hh_own_block copy;       /* as libhel set it up */
};

/*
 * Take thread nstid of proc (its tid as the program sees it) parked on the
 * libhel block at block, with the program's fd sock for memfds: ptraced by
 * us and stopped, its registers in *regs.  On failure an error and *why
 * (static text) say why.
 */
HelError hh_own_take(struct hh_process *proc, uint64_t nstid, uint64_t block, uint64_t sock,
		struct hh_own *own, struct user_regs_struct *regs, const char **why);
/* Forget a taken thread's resources (not the thread). */
void hh_own_release(struct hh_own *own);

/*
 * Carry out plan, a change of the program's space that the stopped thread
 * asked for, as syscalls of that thread (regs: its registers, restored by
 * the caller).  False if the thread died meanwhile; its exit is left for
 * waitpid.
 */
bool hh_own_apply(const struct hh_own *own, const struct hh_space *space,
		const struct hh_mm_plan *plan, const struct user_regs_struct *regs);

/* True if program pid is traced by someone other than us (a debugger). */
bool hh_own_debugged(pid_t pid);

/* Write a helFutexWait's deadline where the stopped thread's futex(2) reads it. */
int hh_own_put_deadline(const struct hh_own *own, int64_t deadline);

#endif
