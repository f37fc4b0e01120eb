#include "ownthread.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callpage.h"
#include "process.h"
#include "space.h"
#include "thread.h"
#include "usermem.h"

/* The last number on the line "key:\t..." of the status file at path, or -1. */
static long status_last(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long value = -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		char *last = strrchr(line, '\t');
		value = last ? strtol(last + 1, NULL, 10) : -1;
		break;
	}
	fclose(f);
	return value;
}

/* Task's tid in the namespace of its program (the last NSpid). */
static long inner_tid(pid_t pid, const char *task)
{
	char path[320];          /* a d_name is up to 255 bytes */
	snprintf(path, sizeof(path), "/proc/%d/task/%s/status", (int)pid, task);
	return status_last(path, "NSpid");
}

/*
 * The emulator's tid of the thread of pid that the program calls nstid, or
 * 0.  Looking it up among pid's own tasks also proves it is one of them.
 */
static pid_t host_tid(pid_t pid, uint64_t nstid)
{
	char path[32];
	/* Most programs share our pid namespace: their tid is ours, one file to read. */
	snprintf(path, sizeof(path), "%llu", (unsigned long long)nstid);
	if (inner_tid(pid, path) == (long)nstid)
		return (pid_t)nstid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	pid_t found = 0;
	if (!d)
		return 0;
	for (struct dirent *e; !found && (e = readdir(d));)
		if (e->d_name[0] != '.' && inner_tid(pid, e->d_name) == (long)nstid)
			found = (pid_t)strtol(e->d_name, NULL, 10);
	closedir(d);
	return found;
}

static bool hel_thread(const struct hh_process *proc, pid_t tid)
{
	for (const struct hh_thread *t = proc->threads; t; t = t->next_in_proc)
		if (t->tid == tid)
			return true;
	return false;
}

/* Seize tid and stop it; it is parked in a futex wait, so the stop comes at once. */
static HelError seize(pid_t tid, struct user_regs_struct *regs, const char **why)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD) < 0) {
		*why = errno == EPERM ? "the program is traced already (a debugger?): its threads cannot be "
				"Hel threads of their own" : "the thread cannot be traced";
		return errno == EPERM ? kHelErrIllegalState : kHelErrNoMemory;
	}
	int status;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) == 0) {
		while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR)
			;
		if (WIFSTOPPED(status) && ptrace(PTRACE_GETREGS, tid, 0, regs) == 0)
			return kHelErrNone;
	}
	/* It ended under our hands (its program is dying): let it go, or reap it. */
	if (ptrace(PTRACE_DETACH, tid, 0, 0) < 0)
		waitpid(tid, &status, WNOHANG | __WALL);
	*why = "the thread ended before it was taken";
	return kHelErrNoMemory;
}

HelError hh_own_take(struct hh_process *proc, uint64_t nstid, uint64_t block, uint64_t sock,
		struct hh_own *own, struct user_regs_struct *regs, const char **why)
{
	struct hh_own_block b;
	pid_t tid = nstid && nstid < (1u << 31) ? host_tid(proc->pid, nstid) : 0;
	if (!tid) {
		*why = "no such thread in the program (threads in its own space come from libhel's helCreateThread)";
		return kHelErrIllegalArgs;
	}
	if (hel_thread(proc, tid)) {
		*why = "the thread is a Hel thread already";
		return kHelErrIllegalArgs;
	}
	if (hh_user_read(&proc->mem, block, &b, sizeof(b)) || b.magic != HH_OWN_MAGIC) {
		*why = "no libhel thread block at arg 7";
		return kHelErrIllegalArgs;
	}
	int ours = sock < INT32_MAX ? (int)syscall(SYS_pidfd_getfd, proc->pidfd, (int)sock, 0) : -1;
	if (ours < 0) {
		*why = "no socket of the program's at arg 8";
		return kHelErrIllegalArgs;
	}
	HelError e = seize(tid, regs, why);
	if (e) {
		close(ours);
		return e;
	}
	*own = (struct hh_own){ .tid = tid, .sock = ours, .exit_ip = b.exit_ip, .block = block,
		.deadline_at = block + offsetof(struct hh_own_block, deadline), .copy = b };
	return kHelErrNone;
}

void hh_own_release(struct hh_own *own)
{
	close(own->sock);
	own->sock = -1;
}

/*
 * Wait for the thread's next stop, running it on past stops that are not
 * the gadget's int3 (a group stop).  An exit is only looked at (WNOWAIT):
 * the loop's SIGCHLD handling reaps it.
 */
static bool gadget_stop(pid_t tid)
{
	for (;;) {
		siginfo_t info = { 0 };
		int status;
		if (waitid(P_PID, (id_t)tid, &info, WEXITED | WSTOPPED | WNOWAIT | __WALL) < 0 ||
				info.si_code == CLD_EXITED || info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED ||
				waitpid(tid, &status, __WALL) != tid)
			return false;
		if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == 0)
			return true;
		int pass = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
		if (ptrace(PTRACE_CONT, tid, 0, pass) < 0)
			return false;
	}
}

/* One syscall of the stopped thread at libhel's gadget: its result in *ret.  False if it died. */
static bool run_syscall(const struct hh_own *own, const struct user_regs_struct *regs, long nr,
		const uint64_t a[6], long *ret)
{
	struct user_regs_struct r = *regs;
	r.rip = own->copy.gadget;
	r.rax = (unsigned long long)nr;
	r.orig_rax = (unsigned long long)-1;
	r.rdi = a[0];
	r.rsi = a[1];
	r.rdx = a[2];
	r.r10 = a[3];
	r.r8 = a[4];
	r.r9 = a[5];
	if (ptrace(PTRACE_SETREGS, own->tid, 0, &r) < 0 || ptrace(PTRACE_CONT, own->tid, 0, 0) < 0 ||
			!gadget_stop(own->tid) || ptrace(PTRACE_GETREGS, own->tid, 0, &r) < 0)
		return false;
	*ret = (long)r.rax;
	return true;
}

/* The memfd fd of ours as a new fd of the program's (through the socket), or -errno. */
static bool receive_fd(const struct hh_own *own, const struct user_regs_struct *regs, int fd, long *theirs)
{
	uint64_t at = own->block + offsetof(struct hh_own_block, msg);
	uint64_t control = own->block + offsetof(struct hh_own_block, control);
	*theirs = -EIO;
	if (hh_send_fds(own->sock, &fd, 1) < 0 ||
			ptrace(PTRACE_POKEDATA, own->tid, at + offsetof(struct msghdr, msg_controllen),
				sizeof(own->copy.control)) < 0)
		return true;
	long got;
	if (!run_syscall(own, regs, SYS_recvmsg, (uint64_t[6]){ (uint64_t)own->copy.recv, at,
			MSG_CMSG_CLOEXEC }, &got))
		return false;
	errno = 0;
	long word = ptrace(PTRACE_PEEKDATA, own->tid, control + CMSG_LEN(0), 0);
	if (got > 0 && !errno)
		*theirs = (int32_t)word;
	return true;
}

/* What the shim does for op (apply_op in shim/trap.c), as syscalls of the thread. */
static bool apply_op(const struct hh_own *own, const struct hh_space *space,
		const struct hh_mm_op *op, const struct user_regs_struct *regs, long *ret)
{
	bool arena = op->addr >= space->arena_base && op->addr + op->len <= space->arena_base + space->arena_len;
	switch (op->kind) {
	case HH_MM_MAP: {
		long fd;
		if (!receive_fd(own, regs, op->fd, &fd))
			return false;
		if (fd < 0) {
			*ret = fd;
			return true;
		}
		long closed;
		int flags = MAP_SHARED | (op->place == HH_PLACE_NOREPLACE ? MAP_FIXED_NOREPLACE : MAP_FIXED);
		return run_syscall(own, regs, SYS_mmap, (uint64_t[6]){ op->addr, op->len, op->prot,
				(uint64_t)flags, (uint64_t)fd, op->offset }, ret) &&
				run_syscall(own, regs, SYS_close, (uint64_t[6]){ (uint64_t)fd }, &closed);
	}
	case HH_MM_UNMAP:
		/* Inside the arena the range goes back to the reservation. */
		if (arena)
			return run_syscall(own, regs, SYS_mmap, (uint64_t[6]){ op->addr, op->len, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, (uint64_t)-1, 0 }, ret);
		return run_syscall(own, regs, SYS_munmap, (uint64_t[6]){ op->addr, op->len }, ret);
	case HH_MM_PROTECT:
		return run_syscall(own, regs, SYS_mprotect, (uint64_t[6]){ op->addr, op->len, op->prot }, ret);
	}
	*ret = -EINVAL;
	return true;
}

bool hh_own_apply(const struct hh_own *own, const struct hh_space *space,
		const struct hh_mm_plan *plan, const struct user_regs_struct *regs)
{
	for (uint32_t i = 0; i < plan->count; i++) {
		long ret = 0;
		if (!apply_op(own, space, &plan->ops[i], regs, &ret))
			return false;
		if (ret < 0 && ret > -4096)
			fprintf(stderr, "helhost: thread %d: cannot change its mapping at %#llx: %s\n",
					(int)own->tid, (unsigned long long)plan->ops[i].addr, strerror((int)-ret));
	}
	return true;
}

bool hh_own_debugged(pid_t pid)
{
	char path[40];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	long tracer = status_last(path, "TracerPid");
	return tracer > 0 && tracer != getpid();
}

int hh_own_put_deadline(const struct hh_own *own, int64_t deadline)
{
	if (ptrace(PTRACE_POKEDATA, own->tid, own->deadline_at, deadline / 1000000000) < 0 ||
			ptrace(PTRACE_POKEDATA, own->tid, own->deadline_at + 8, deadline % 1000000000) < 0)
		return -errno;
	return 0;
}
