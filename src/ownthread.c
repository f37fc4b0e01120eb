#include "ownthread.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "callpage.h"
#include "process.h"
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
	char path[96];
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

HelError hh_own_take(struct hh_process *proc, uint64_t nstid, uint64_t block, struct hh_own *own,
		struct user_regs_struct *regs, const char **why)
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
	HelError e = seize(tid, regs, why);
	if (e)
		return e;
	*own = (struct hh_own){ .tid = tid, .exit_ip = b.exit_ip,
		.deadline_at = block + offsetof(struct hh_own_block, deadline) };
	return kHelErrNone;
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
