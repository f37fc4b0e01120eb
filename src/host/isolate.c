/*
 * Isolation of a launched program (see isolate.h).  After fork, before exec:
 * only async-signal-safe calls (the emulator is single-threaded anyway).
 *
 * A program in a user namespace of its own holds no capability in its
 * siblings' namespaces, so Linux refuses it ptrace, process_vm_*,
 * /proc/PID/mem and pidfd_getfd on other programs; the emulator, and a
 * debugger of the same user, stay in the parent namespace and, owning the
 * child namespace, keep every capability in it.  A PID namespace of its own
 * means it cannot name another program's pid: no kill(2), no pidfd_open.
 *
 * The process the emulator forked (the keeper) stays outside the PID
 * namespace and waits for the namespace's init.  Init is a copy of the
 * emulator too, not the program: a pid 1 ignores signals it has no handler
 * for and inherits every orphan, which is not how a program expects to
 * live.  So init runs the program as pid 2, reaps orphans and ends with the
 * program (Linux then kills whatever else is left in the namespace).
 */
#include "isolate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "coverage.h"

/* "ID ID 1\n": the id mapped to itself. */
static int write_map(const char *path, unsigned id)
{
	char text[40], digits[12];
	int n = 0, len = 0;
	do
		digits[n++] = (char)('0' + id % 10);
	while ((id /= 10) && n < (int)sizeof(digits));
	for (int copy = 0; copy < 2; copy++) {
		for (int i = n - 1; i >= 0; i--)
			text[len++] = digits[i];
		text[len++] = ' ';
	}
	text[len++] = '1';
	text[len++] = '\n';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, text, (size_t)len) == len ? 0 : -errno;
	close(fd);
	return r;
}

/*
 * The keeper and init never exec: drop the emulator's own fds (all
 * close-on-exec) but keep_fd, keep those the program inherits.
 */
static void close_emulator_fds(int keep_fd)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		int flags = fd > 2 && fd != dirfd(d) && fd != keep_fd ? fcntl(fd, F_GETFD) : -1;
		if (flags >= 0 && (flags & FD_CLOEXEC))
			close(fd);
	}
	closedir(d);
}

static int write_maps(uid_t uid, gid_t gid)
{
	/* An unprivileged gid_map needs setgroups denied first. */
	int fd = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		int ok = write(fd, "deny", 4) == 4;
		close(fd);
		if (!ok)
			return -EPERM;
	}
	int r = write_map("/proc/self/uid_map", uid);
	return r < 0 ? r : write_map("/proc/self/gid_map", gid);
}

int hh_isolate_enter(int exec_fd)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	close_emulator_fds(exec_fd);
	if (unshare(CLONE_NEWUSER | CLONE_NEWPID) < 0)
		return -errno;
	/*
	 * Our /proc/self files belong to root while we are not dumpable (as
	 * the emulator is not), so the maps cannot be written by an ordinary
	 * user.  Dumpable for the moment it takes: we hold nothing but the
	 * program's own fds now, and only processes of our user outside every
	 * isolated namespace could reach us (they can reach the program too).
	 */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	int r = write_maps(uid, gid);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 && r == 0)
		r = -errno;
	return r;
}

static int status_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int wait_for(pid_t pid)
{
	int status;
	for (;;) {
		pid_t got = waitpid(-1, &status, 0);
		if (got == pid)
			return status_code(status);
		if (got < 0 && errno != EINTR)
			return 127;
	}
}

/* The keeper and init end with the status of the process they wait for. */
static _Noreturn void exit_like(pid_t pid)
{
	int status = wait_for(pid);
	hh_coverage_write();
	_exit(status);
}

/* Only the program's execve may end the launcher's wait on exec_fd: the keeper and init close theirs. */
_Noreturn void hh_isolate_run(char **argv, int exec_fd, void (*exec_program)(char **argv, int exec_fd))
{
	pid_t init = fork();
	if (init < 0)
		_exit(127);
	if (init == 0) {
		/* pid 1: dies with the keeper, and takes the namespace with it. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		pid_t program = fork();
		if (program < 0)
			_exit(127);
		if (program == 0)
			exec_program(argv, exec_fd);
		close(exec_fd);
		exit_like(program);
	}
	close(exec_fd);
	exit_like(init);
}
